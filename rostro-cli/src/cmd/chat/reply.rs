//! One reply of `rostro chat`: sent through the SDK's chat layer, streamed token by token
//! (or as NDJSON chunks) or whole, with what arrived kept for the JSON modes when it fails.

use std::cell::{Cell, RefCell};

use futures::StreamExt;
use rostro_sdk::CallOptions as _;
use rostro_sdk::chat::{ChatAccumulator, ChatCompletionChunk, ChatStream};
use rostro_sdk::routstr::{ChatCharge, PayWith, RoutstrMeta};
use serde_json::Value;

use super::{ChatArgs, Conversation};
use crate::ctx::{Ctx, Session};
use crate::exit::{CliError, CliResult};
use crate::routstr::{Payment, fmt_msats};

/// What a streamed reply delivered so far. It lives outside the call, so that when the
/// stream fails or Ctrl-C drops the call, the JSON modes still print what arrived.
#[derive(Default)]
pub(super) struct SoFar {
    /// The response headers arrived: from then on stdout gets a JSON record whatever happens.
    pub(super) started: Cell<bool>,
    /// The chunks so far, assembled (kept for `--json` only: `--stream-json` printed them).
    acc: RefCell<ChatAccumulator>,
    /// `--pay-with`: the change the node returned, for the failure record.
    change: RefCell<Option<Value>>,
    /// The failure record was printed (it carries the change: no second record needed).
    pub(super) printed: Cell<bool>,
    /// The reply ended and was printed in full: nothing to add.
    complete: Cell<bool>,
}

impl SoFar {
    /// With `--json` / `--stream-json`, once the reply has started: prints what arrived and
    /// `err` (the completion so far with an `error` member, or a final `rostro.error` line).
    pub(super) fn print_failure(&self, ctx: &Ctx, a: &ChatArgs, err: &CliError) -> CliResult {
        if !ctx.out.json || !self.started.get() || self.complete.get() || self.printed.replace(true)
        {
            return Ok(());
        }
        let kind = match err {
            CliError::Interrupted => "interrupted",
            e if e.code() == 7 => "timeout",
            _ => "stream",
        };
        let error = serde_json::json!({
            "message": err.to_string(),
            "kind": kind,
            "exit_code": err.code(),
        });
        let mut v = if a.stream_json {
            serde_json::json!({"object": "rostro.error"})
        } else {
            serde_json::to_value(self.acc.borrow().snapshot())?
        };
        if let Some(obj) = v.as_object_mut() {
            obj.insert("error".into(), error);
            if let Some(change) = self.change.borrow().clone() {
                obj.insert("change_token".into(), change);
            }
        }
        if a.stream_json {
            ctx.out.json_line(&v)
        } else {
            ctx.out.json_value(&v)
        }
    }

    fn push(&self, ctx: &Ctx, a: &ChatArgs, chunk: &ChatCompletionChunk) {
        if ctx.out.json && !a.stream_json {
            self.acc.borrow_mut().push(chunk);
        }
    }
}

/// One reply: streamed (tokens to stdout, or NDJSON chunks) or whole, through the SDK's chat
/// layer. Returns the text. With a payment, the change is kept as soon as the response
/// headers (or the error) arrive. `so_far` records what arrived, for the JSON modes.
pub(super) async fn send(
    ctx: &Ctx,
    s: &Session,
    a: &ChatArgs,
    conv: &Conversation,
    mut pay: Option<&mut Payment>,
    so_far: &SoFar,
) -> CliResult<String> {
    let req = conv.request(a);
    // --timeout (or the default) also bounds every gap between events: a stalled stream
    // ends with what arrived instead of hanging.
    let mut call = s
        .client
        .chat()
        .request(req.include_usage(!a.no_stream))
        .idle_timeout(s.client.timeout());
    if let Some(p) = &pay {
        // The change is written as soon as the headers arrive, before the body is read.
        call = call
            .pay_with(p.token.expose())
            .on_response_headers(p.headers_hook());
    }
    if a.no_stream {
        let resp = match call.send_with_response().await {
            Ok(r) => r,
            Err(e) => {
                if let Some(p) = pay.as_deref_mut() {
                    p.keep_from_error(&ctx.out, &e);
                }
                return Err(s.err(e));
            }
        };
        return print_whole(ctx, s, resp, pay);
    }
    let mut stream = match call.stream().await {
        Ok(st) => st,
        Err(e) => {
            if let Some(p) = pay.as_deref_mut() {
                p.keep_from_error(&ctx.out, &e);
            }
            return Err(s.err(e));
        }
    };
    // Before the body is read: the change is in the headers.
    if let Some(p) = pay.as_deref_mut() {
        let meta = RoutstrMeta::from_headers(stream.headers());
        p.keep(&ctx.out, meta.change_token.as_ref());
        so_far.change.replace(Some(p.change_json()));
    }
    print_stream(ctx, s, a, &mut stream, pay.as_deref(), so_far).await?;
    Ok(stream.text())
}

/// `--no-stream`: prints the whole reply (text, or the completion with `--json`).
fn print_whole(
    ctx: &Ctx,
    s: &Session,
    resp: rostro_sdk::Response<rostro_sdk::chat::ChatCompletion>,
    mut pay: Option<&mut Payment>,
) -> CliResult<String> {
    let charge = s.node.as_ref().map(|_| ChatCharge::from_completion(&resp));
    if let (Some(p), Some(c)) = (pay.as_deref_mut(), &charge) {
        p.keep(&ctx.out, c.change_token());
    }
    let c = resp.into_inner();
    let text = c.content().unwrap_or_default().to_owned();
    if ctx.out.json {
        let mut v = serde_json::to_value(&c)?;
        add_change(&mut v, pay.as_deref());
        ctx.out.json_value(&v)?;
    } else {
        ctx.out.line(&text)?;
    }
    if let Some(c) = &charge {
        note_charge(ctx, c, pay.is_some());
    }
    Ok(text)
}

/// Prints a streamed reply as it arrives: tokens, NDJSON chunks (`--stream-json`), or the
/// assembled completion at the end (`--json`).
async fn print_stream(
    ctx: &Ctx,
    s: &Session,
    a: &ChatArgs,
    stream: &mut ChatStream,
    pay: Option<&Payment>,
    so_far: &SoFar,
) -> CliResult {
    let print_tokens = !ctx.out.json;
    let mut printed = false;
    so_far.started.set(true);
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                if printed {
                    ctx.out.write("\n")?;
                }
                let err = s.err(e);
                so_far.print_failure(ctx, a, &err)?;
                return Err(err);
            }
        };
        so_far.push(ctx, a, &chunk);
        if a.stream_json && ctx.out.json {
            ctx.out.json_line(&serde_json::to_value(&chunk)?)?;
        }
        if let Some(piece) = chunk.content().filter(|p| !p.is_empty())
            && print_tokens
        {
            ctx.out.write(piece)?;
            printed = true;
        }
    }
    so_far.complete.set(true);
    if print_tokens {
        ctx.out.write("\n")?;
    } else if !a.stream_json {
        let mut v = serde_json::to_value(stream.completion())?;
        add_change(&mut v, pay);
        ctx.out.json_value(&v)?;
    } else if let Some(p) = pay {
        ctx.out.json_line(&serde_json::json!({
            "object": "routstr.change",
            "change_token": p.change_json(),
        }))?;
    }
    if s.node.is_some() {
        note_charge(ctx, &ChatCharge::from_stream(stream), pay.is_some());
    }
    Ok(())
}

/// `--json` with `--pay-with`: the change token goes into the printed object.
fn add_change(v: &mut Value, pay: Option<&Payment>) {
    if let (Some(p), Some(obj)) = (pay, v.as_object_mut()) {
        obj.insert("change_token".into(), p.change_json());
    }
}

/// What a Routstr request cost (and the key's balance after it), on stderr: always for
/// paid requests, else only on a terminal.
fn note_charge(ctx: &Ctx, c: &ChatCharge, paid: bool) {
    let Some(total) = c.total else { return };
    let mut line = format!("cost {}", fmt_msats(total));
    if let Some(b) = c.remaining_balance {
        line.push_str(&format!(", balance {}", fmt_msats(b)));
    }
    if paid {
        ctx.out.eprint(&line);
    } else {
        ctx.out.note(&line);
    }
}
