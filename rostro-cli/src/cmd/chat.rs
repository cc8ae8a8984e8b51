//! `rostro chat [PROMPT]`: OpenAI-compatible chat on the mimic endpoint, streamed token by
//! token to stdout. Without a prompt on a terminal (or with `--repl`) it is a REPL with line
//! history, multi-line input (`"""` blocks or a trailing `\`), `/reset` and `/exit`;
//! Ctrl-C stops the current reply, not the REPL.
//!
//! On a Routstr profile the same command talks to the node (`/v1/chat/completions`),
//! paid from the profile's key or, with `--pay-with TOKEN`, by the request itself
//! (`X-Cashu`; the change goes to `--change-out FILE` or stderr, see [`crate::routstr`]).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io::BufRead;
use std::path::PathBuf;

use clap::Args;
use futures::StreamExt;
use rostro_sdk::chat::{ChatAccumulator, ChatCompletionChunk, ChatCompletionRequest, Message};
use rostro_sdk::routstr::{ChatCharge, PayWith, RoutstrMeta};
use serde_json::Value;

use crate::ctx::{Ctx, NodeAuth, Session, ctrl_c};
use crate::exit::{CliError, CliResult};
use crate::output::style;
use crate::routstr::{PayArgs, Payment, fmt_msats};
use rostro_sdk::CallOptions as _;

/// The model used when neither `--model` nor the profile's `default_model` is set.
pub const FALLBACK_MODEL: &str = "mobile";

/// `rostro chat`
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  rostro chat \"Write a haiku about tea\"
  git diff | rostro chat \"Write a commit message for this diff\"
  rostro chat --character 1234            # REPL in character
  rostro chat --json \"hi\" | jq .usage
  rostro chat --stream-json \"hi\"          # NDJSON chunks
  rostro --profile node chat -m gpt-4o-mini \"hi\"   # a Routstr node, paid by the key
  rostro --profile node chat -m gpt-4o-mini \"hi\" --pay-with @token.txt --change-out change.txt

REPL: /reset clears the conversation, /model NAME switches models, /exit (or Ctrl-D) quits;
a line with \"\"\" starts and ends a multi-line message, a trailing \\ continues the line;
Ctrl-C stops the current reply.

--timeout bounds the wait for the reply to start and every gap between its pieces: a reply that
stalls longer ends with exit 7. Nothing that arrived is lost: text mode has printed it; once a
streamed reply has started, --json prints the completion so far with an `error` member
({\"message\", \"kind\": \"stream\"|\"timeout\"|\"interrupted\", \"exit_code\"}) and --stream-json
ends with a line {\"object\": \"rostro.error\", \"error\": {...}}, also on Ctrl-C; the exit code
is the failure's.

Routstr --pay-with: the node's change token (or its refund when the request fails) is appended
to --change-out FILE as soon as the node answers, else printed on stderr; with --json it is also
in the output as `change_token`. Ctrl-C while a paid request waits for the node asks for a
second Ctrl-C (quitting then gives up the change).")]
pub struct ChatArgs {
    /// The prompt (piped stdin is added to it)
    pub prompt: Option<String>,
    /// Model (default: the profile's default_model, else `mobile`; Routstr: required)
    #[arg(long, short = 'm')]
    pub model: Option<String>,
    /// System prompt
    #[arg(long, short = 's')]
    pub system: Option<String>,
    /// Use a character's definition as the system prompt (character id)
    #[arg(long, value_name = "ID")]
    pub character: Option<i64>,
    /// Wait for the whole reply instead of streaming it
    #[arg(long)]
    pub no_stream: bool,
    /// With --json: print every streamed chunk as one NDJSON line
    #[arg(long)]
    pub stream_json: bool,
    /// Maximum tokens in the reply
    #[arg(long)]
    pub max_tokens: Option<u32>,
    /// Sampling temperature
    #[arg(long)]
    pub temperature: Option<f64>,
    /// Start the REPL even when stdin is not a terminal (reads one message per line)
    #[arg(long)]
    pub repl: bool,
    /// Routstr payment per request.
    #[command(flatten)]
    pub pay: PayArgs,
}

/// Runs `rostro chat`.
pub fn run(ctx: &Ctx, a: ChatArgs) -> CliResult {
    let stdin_piped = !ctx.out.stdin_tty;
    let repl = a.repl || (a.prompt.is_none() && !stdin_piped);
    if repl && !a.repl && !ctx.out.stdout_tty {
        return Err(CliError::usage(
            "no prompt given: pass a PROMPT, pipe text on stdin, or use --repl",
        ));
    }
    // The token is checked (and --change-out opened) before anything else happens.
    if a.pay.pay_with.is_some() {
        ctx.require_routstr("--pay-with")?;
    }
    let mut payment = Payment::from_args(&a.pay)?;
    if payment.is_some() && repl {
        return Err(CliError::usage(
            "--pay-with pays for one request: give a PROMPT (the REPL is not available)",
        ));
    }
    let rt = ctx.runtime()?;
    let session = match &payment {
        Some(_) => rt.block_on(ctx.node_session(NodeAuth::Anonymous))?,
        None => rt.block_on(ctx.session(true))?,
    };
    if session.node.is_some() && a.character.is_some() {
        return Err(CliError::usage(
            "--character reads a character from the Rostro API; it is not available on a \
             Routstr profile (use --system)",
        ));
    }
    let model = match a.model.clone().or(session.profile.default_model.clone()) {
        Some(m) => m,
        // A node serves its own models: there is no sensible fallback.
        None if session.node.is_some() => {
            return Err(CliError::usage(format!(
                "give --model (see `rostro models`), or set one: `rostro config set \
                 profile.{}.default_model MODEL`",
                session.profile_name
            )));
        }
        None => FALLBACK_MODEL.to_owned(),
    };
    let system = match (a.character, &a.system) {
        (Some(id), sys) => {
            let mut p = rt.block_on(character_prompt(&session, id))?;
            if let Some(s) = sys {
                p = format!("{s}\n\n{p}");
            }
            Some(p)
        }
        (None, s) => s.clone(),
    };
    let mut conv = Conversation {
        model,
        system,
        messages: Vec::new(),
    };
    if repl {
        return run_repl(ctx, &rt, &session, &a, &mut conv);
    }
    let mut prompt = a.prompt.clone().unwrap_or_default();
    if stdin_piped {
        let mut piped = String::new();
        crate::ambient::read_stdin_string(&mut piped).map_err(|e| CliError::io("stdin", e))?;
        let piped = piped.trim_end();
        if !piped.is_empty() {
            prompt = if prompt.is_empty() {
                piped.to_owned()
            } else {
                format!("{prompt}\n\n{piped}")
            };
        }
    }
    if prompt.trim().is_empty() {
        return Err(CliError::usage("the prompt is empty"));
    }
    conv.messages.push(Message::user(prompt));
    let settled = payment.as_ref().map(Payment::settled_flag);
    let so_far = SoFar::default();
    let reply = rt.block_on(async {
        let r = crate::routstr::paid_with_ctrl_c(
            &ctx.out,
            settled,
            send(ctx, &session, &a, &conv, payment.as_mut(), &so_far),
        )
        .await;
        if matches!(r, Err(CliError::Interrupted)) {
            // The JSON modes print what arrived before the interruption.
            so_far.print_failure(ctx, &a, &CliError::Interrupted)?;
        }
        r
    });
    if let (Some(p), Err(e)) = (&payment, &reply) {
        // The chat's own failure record already carries the change when it was printed.
        p.report_failure(ctx, e, &session.profile_name, !so_far.printed.get())?;
    }
    reply?;
    match &payment {
        Some(p) => p.finish(),
        None => Ok(()),
    }
}

/// The conversation so far.
struct Conversation {
    model: String,
    system: Option<String>,
    messages: Vec<Message>,
}

impl Conversation {
    fn request(&self, a: &ChatArgs) -> ChatCompletionRequest {
        let mut messages = Vec::new();
        if let Some(s) = &self.system {
            messages.push(Message::system(s.clone()));
        }
        messages.extend(self.messages.iter().cloned());
        let mut r = ChatCompletionRequest::new(self.model.clone(), messages);
        if let Some(m) = a.max_tokens {
            r = r.max_tokens(m);
        }
        if let Some(t) = a.temperature {
            r = r.temperature(t);
        }
        r
    }
}

/// Builds a system prompt from a character's definition.
async fn character_prompt(s: &Session, id: i64) -> CliResult<String> {
    let req = s
        .client
        .projects()
        .get_public_by_id("characters", id)
        .full(true)
        .into_request()?;
    let v = s.json(req).await?;
    let node = v.get("node").unwrap_or(&v);
    let def = node.get("definition").unwrap_or(node);
    let get = |k: &str| -> Option<String> {
        def.get(k)
            .or_else(|| node.get(k))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
    };
    let name = get("name").unwrap_or_else(|| format!("character {id}"));
    let mut parts = Vec::new();
    if let Some(p) = get("system_prompt") {
        parts.push(p);
    }
    parts.push(format!("You are {name}. Stay in character."));
    for (label, key) in [
        ("Description", "description"),
        ("Personality", "personality"),
        ("Scenario", "scenario"),
        ("Example dialogue", "example_dialogs"),
    ] {
        if let Some(x) = get(key) {
            parts.push(format!("{label}: {x}"));
        }
    }
    if parts.len() == 1 && get("tagline").is_none() {
        return Err(CliError::NotFound(format!(
            "character {id} has no definition to chat with"
        )));
    }
    if let Some(t) = get("tagline") {
        parts.push(format!("Tagline: {t}"));
    }
    Ok(parts.join("\n\n"))
}

/// What a streamed reply delivered so far. It lives outside the call, so that when the
/// stream fails or Ctrl-C drops the call, the JSON modes still print what arrived.
#[derive(Default)]
struct SoFar {
    /// The response headers arrived: from then on stdout gets a JSON record whatever happens.
    started: Cell<bool>,
    /// The chunks so far, assembled (kept for `--json` only: `--stream-json` printed them).
    acc: RefCell<ChatAccumulator>,
    /// `--pay-with`: the change the node returned, for the failure record.
    change: RefCell<Option<Value>>,
    /// The failure record was printed (it carries the change: no second record needed).
    printed: Cell<bool>,
    /// The reply ended and was printed in full: nothing to add.
    complete: Cell<bool>,
}

impl SoFar {
    /// With `--json` / `--stream-json`, once the reply has started: prints what arrived and
    /// `err` (the completion so far with an `error` member, or a final `rostro.error` line).
    fn print_failure(&self, ctx: &Ctx, a: &ChatArgs, err: &CliError) -> CliResult {
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
async fn send(
    ctx: &Ctx,
    s: &Session,
    a: &ChatArgs,
    conv: &Conversation,
    mut pay: Option<&mut Payment>,
    so_far: &SoFar,
) -> CliResult<String> {
    let req = conv.request(a);
    s.trace_line(
        "POST",
        &format!(
            "{}/v1/chat/completions{}",
            s.client.mimic_base_url(),
            if pay.is_some() { " [X-Cashu: ***]" } else { "" }
        ),
    );
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
        return Ok(text);
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
        add_change(&mut v, pay.as_deref());
        ctx.out.json_value(&v)?;
    } else if let Some(p) = pay.as_deref() {
        ctx.out.json_line(&serde_json::json!({
            "object": "routstr.change",
            "change_token": p.change_json(),
        }))?;
    }
    if s.node.is_some() {
        note_charge(ctx, &ChatCharge::from_stream(&stream), pay.is_some());
    }
    Ok(stream.text())
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

/// REPL line history, persisted in the state directory.
struct FileHistory {
    lines: VecDeque<String>,
    path: Option<PathBuf>,
}

const HISTORY_MAX: usize = 1000;

impl FileHistory {
    fn load() -> FileHistory {
        let path = crate::config::state_dir().map(|d| d.join("chat_history"));
        let lines = path
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map(|t| t.lines().rev().map(str::to_owned).collect())
            .unwrap_or_default();
        FileHistory { lines, path }
    }

    fn save(&self) {
        let Some(p) = &self.path else { return };
        if let Some(dir) = p.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let text: Vec<&str> = self.lines.iter().rev().map(String::as_str).collect();
        let _ = std::fs::write(p, text.join("\n") + "\n");
    }
}

impl dialoguer::History<String> for FileHistory {
    fn read(&self, pos: usize) -> Option<String> {
        self.lines.get(pos).cloned()
    }

    fn write(&mut self, val: &String) {
        if val.trim().is_empty() || self.lines.front() == Some(val) {
            return;
        }
        self.lines.push_front(val.clone());
        self.lines.truncate(HISTORY_MAX);
    }
}

/// Where REPL lines come from.
enum LineSource {
    Terminal(FileHistory),
    Piped(Box<dyn std::io::BufRead>),
}

/// One read from a [`LineSource`].
enum LineRead {
    Line(String),
    /// Ctrl-C at the prompt: the line is dropped.
    Cancelled,
    /// Ctrl-D or end of input.
    Eof,
}

impl LineSource {
    fn next(&mut self, prompt: &str) -> CliResult<LineRead> {
        match self {
            LineSource::Terminal(h) => {
                let r = dialoguer::Input::<String>::new()
                    .with_prompt(prompt)
                    .allow_empty(true)
                    .history_with(h)
                    .interact_text();
                match r {
                    Ok(s) => Ok(LineRead::Line(s)),
                    Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
                        Ok(LineRead::Cancelled)
                    }
                    Err(dialoguer::Error::IO(e))
                        if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                    {
                        Ok(LineRead::Eof)
                    }
                    Err(e) => Err(CliError::msg(format!("cannot read input: {e}"))),
                }
            }
            LineSource::Piped(lock) => {
                let mut line = String::new();
                let n = lock
                    .read_line(&mut line)
                    .map_err(|e| CliError::io("stdin", e))?;
                if n == 0 {
                    return Ok(LineRead::Eof);
                }
                Ok(LineRead::Line(
                    line.trim_end_matches(['\n', '\r']).to_owned(),
                ))
            }
        }
    }
}

/// Reads one message: handles `"""` blocks and trailing backslashes. `Ok(None)` at the end
/// of input; an empty message after Ctrl-C.
fn read_message(src: &mut LineSource) -> CliResult<Option<String>> {
    let first = match src.next("you")? {
        LineRead::Line(l) => l,
        LineRead::Cancelled => return Ok(Some(String::new())),
        LineRead::Eof => return Ok(None),
    };
    if first.trim() == "\"\"\"" {
        let mut lines = Vec::new();
        loop {
            match src.next("...")? {
                LineRead::Eof => break,
                LineRead::Cancelled => return Ok(Some(String::new())),
                LineRead::Line(l) if l.trim() == "\"\"\"" => break,
                LineRead::Line(l) => lines.push(l),
            }
        }
        return Ok(Some(lines.join("\n")));
    }
    let mut msg = first;
    while msg.ends_with('\\') {
        msg.pop();
        msg.push('\n');
        match src.next("...")? {
            LineRead::Line(l) => msg.push_str(&l),
            LineRead::Cancelled => return Ok(Some(String::new())),
            LineRead::Eof => break,
        }
    }
    Ok(Some(msg))
}

fn run_repl(
    ctx: &Ctx,
    rt: &tokio::runtime::Runtime,
    s: &Session,
    a: &ChatArgs,
    conv: &mut Conversation,
) -> CliResult {
    let terminal = ctx.out.terminal_input();
    let mut src = if terminal {
        LineSource::Terminal(FileHistory::load())
    } else {
        LineSource::Piped(crate::ambient::stdin_lines())
    };
    let _ctrl_c = crate::ctx::hold_ctrl_c(rt);
    if terminal {
        ctx.out.eprint(&format!(
            "{}rostro chat · model {} · /help for commands, /exit or Ctrl-D to quit{}",
            style::DIM,
            conv.model,
            style::RESET
        ));
    }
    loop {
        let Some(msg) = read_message(&mut src)? else {
            break;
        };
        let trimmed = msg.trim();
        if trimmed.is_empty() {
            continue;
        }
        match trimmed {
            "/exit" | "/quit" | "/q" => break,
            "/reset" | "/clear" => {
                conv.messages.clear();
                ctx.out.note("conversation cleared");
                if !terminal {
                    ctx.out.eprint("(conversation reset)");
                }
                continue;
            }
            "/help" | "/?" => {
                ctx.out.eprint(
                    "/reset  clear the conversation\n/model NAME  switch models\n/exit  quit\n\"\"\"  start or end a multi-line message; a trailing \\ continues a line\nCtrl-C stops the current reply",
                );
                continue;
            }
            _ => {}
        }
        if let Some(m) = trimmed.strip_prefix("/model") {
            let m = m.trim();
            if m.is_empty() {
                ctx.out.eprint(&format!("model: {}", conv.model));
            } else {
                conv.model = m.to_owned();
                ctx.out.eprint(&format!("model set to {m}"));
            }
            continue;
        }
        conv.messages.push(Message::user(msg));
        let so_far = SoFar::default();
        let r = rt.block_on(async {
            tokio::select! {
                r = send(ctx, s, a, conv, None, &so_far) => Some(r),
                _ = ctrl_c() => None,
            }
        });
        match r {
            Some(Ok(text)) => conv.messages.push(Message::assistant(text)),
            Some(Err(CliError::BrokenPipe)) => return Err(CliError::BrokenPipe),
            Some(Err(e)) => {
                conv.messages.pop();
                ctx.out
                    .eprint(&format!("{}error:{} {e}", style::RED, style::RESET));
            }
            None => {
                conv.messages.pop();
                if ctx.out.json {
                    so_far.print_failure(ctx, a, &CliError::Interrupted)?;
                } else {
                    let _ = ctx.out.write("\n");
                }
                ctx.out.eprint("(reply stopped)");
            }
        }
    }
    if let LineSource::Terminal(h) = &src {
        h.save();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_carry_system_and_history() {
        let a = ChatArgs {
            prompt: None,
            model: None,
            system: None,
            character: None,
            no_stream: false,
            stream_json: false,
            max_tokens: Some(5),
            temperature: None,
            repl: false,
            pay: PayArgs::default(),
        };
        let conv = Conversation {
            model: "m".into(),
            system: Some("be brief".into()),
            messages: vec![Message::user("hi"), Message::assistant("hello")],
        };
        let v = serde_json::to_value(conv.request(&a)).unwrap();
        assert_eq!(v["model"], "m");
        assert_eq!(v["messages"][0]["role"], "system");
        assert_eq!(v["messages"][2]["content"], "hello");
        assert_eq!(v["max_tokens"], 5);
    }
}
