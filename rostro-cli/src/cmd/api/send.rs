//! Sending one request of `rostro api` and printing its answer.

use rostro_sdk::request::Request;
use rostro_sdk::routstr::RoutstrMeta;
use serde_json::Value;

use crate::ctx::{Ctx, Session};
use crate::exit::{CliError, CliResult};
use crate::routstr::Payment;

/// Sends a request and prints the body (JSON pretty/filtered, anything else as bytes).
/// Returns the JSON value, if the body was JSON. A paid request keeps its change (response
/// header `X-Cashu`, also on errors) before the body is read.
pub(super) async fn send_and_print(
    ctx: &Ctx,
    s: &Session,
    req: Request,
    include: bool,
    pay: Option<&mut Payment>,
) -> CliResult<Option<Value>> {
    let resp = match s.raw(req).await {
        Ok(r) => r,
        Err(e) => {
            if let (Some(p), CliError::Sdk(se) | CliError::Routstr(se)) = (pay, &e) {
                p.keep_from_error(&ctx.out, se);
            }
            return Err(e);
        }
    };
    let mut pay_seen = None;
    if let Some(p) = pay {
        let meta = RoutstrMeta::from_headers(resp.headers());
        p.keep(&ctx.out, meta.change_token.as_ref());
        pay_seen = Some(&*p);
    }
    if include {
        let mut head = format!("{:?} {}\n", resp.version(), resp.status());
        for (k, v) in resp.headers() {
            head.push_str(&format!("{k}: {}\n", v.to_str().unwrap_or("<binary>")));
        }
        ctx.out.line(&head)?;
    }
    let is_json = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json"));
    let bytes = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => {
            if let Some(p) = &pay_seen {
                p.mark_reply_lost();
            }
            return Err(CliError::msg(format!("reading the response: {e}")));
        }
    };
    if bytes.is_empty() {
        return Ok(None);
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) if is_json || !ctx.out.stdout_tty || ctx.out.json => {
            ctx.out.json_value(&v)?;
            Ok(Some(v))
        }
        Ok(v) => {
            ctx.out.json_value(&v)?;
            Ok(Some(v))
        }
        Err(e) if is_json && pay_seen.is_some() => {
            // A paid reply cut short (e.g. a body longer than its content-length): keep
            // what arrived and say so.
            if let Some(p) = pay_seen {
                p.mark_reply_lost();
            }
            ctx.out.bytes(&bytes)?;
            Err(CliError::msg(format!(
                "the node's reply is not the JSON it announced ({e}); what arrived was printed"
            )))
        }
        Err(_) => {
            if ctx.out.json {
                return Err(CliError::msg(
                    "the response is not JSON; drop --json / --jq",
                ));
            }
            ctx.out.bytes(&bytes)?;
            Ok(None)
        }
    }
}
