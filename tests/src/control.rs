//! The out-of-band control API under `/_mock/`, for processes that run the
//! `rostro-mock` binary (CLI tests, other languages) and cannot call the
//! library's methods. These requests are neither recorded nor counted.
//!
//! * `POST /_mock/faults` `{"kind": "rate_limit" | "status" | "delay" | "drop" |
//!   "drop_mid_body", "status"?: 503, "retry_after_secs"?: 1, "delay_ms"?: 100,
//!   "times"?: 1, "method"?: "POST", "route"?: "/v1/chat/completions"}` →
//!   `{"pending": N}`; `DELETE /_mock/faults` clears them.
//! * `GET /_mock/attempts` → `{"METHOD /template": count, ...}`.
//! * `GET /_mock/requests` → recorded requests (without bodies).
//! * `GET /_mock/uploads` → stored uploads (sizes, hashes, parts).
//! * `GET /_mock/generations` → generation jobs and their progress.
//! * `POST /_mock/reset` → forgets requests, counters and faults.
//! * Routstr mode only: `POST /_mock/routstr/tokens` `{"msats": N, "mint"?:
//!   "<url>"}` → `{"token"}` (a fresh fake Cashu token);
//!   `POST /_mock/routstr/keys` `{"msats": N}` → `{"api_key"}`;
//!   `GET /_mock/routstr/keys` → `{"keys": [{"api_key", "balance_msats",
//!   "total_spent_msats", "total_requests", "parent"}]}`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::faults::{Fault, FaultRule};
use crate::records::{GenerationRecord, UploadKind, UploadRecord};
use crate::reply::{Reply, parse_json_body};
use crate::state::{Shared, lock};

/// Path prefix of the control API.
pub(crate) const CONTROL_PREFIX: &str = "/_mock/";

pub(crate) fn upload_json(u: &UploadRecord) -> Value {
    json!({
        "uuid": u.uuid,
        "route": u.route,
        "kind": match u.kind {
            UploadKind::Multipart => "multipart",
            UploadKind::Base64Json => "base64_json",
            UploadKind::Chunked => "chunked",
        },
        "field": u.field,
        "filename": u.filename,
        "content_type": u.content_type,
        "size": u.size,
        "sha256": u.sha256,
        "project_id": u.project_id,
        "fields": u.fields.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "parts": u.parts.iter().map(|p| json!({"part_number": p.part_number, "size": p.size, "sha256": p.sha256})).collect::<Vec<_>>(),
        "url": u.url,
        "in_gallery": u.in_gallery,
        "deleted": u.deleted,
    })
}

fn generation_json(g: &GenerationRecord) -> Value {
    json!({
        "generation_uuid": g.generation_uuid,
        "media_uuid": g.media_uuid,
        "generation_type": g.generation_type,
        "route": g.route,
        "prompt": g.prompt,
        "checks": g.checks,
        "checks_needed": g.checks_needed,
        "is_done": g.is_done(),
        "is_failed": g.is_failed(),
        "failure": g.failure,
    })
}

fn parse_fault(body: &Value) -> Result<FaultRule, String> {
    let kind = body
        .get("kind")
        .and_then(Value::as_str)
        .ok_or("`kind` is required")?;
    let fault = match kind {
        "rate_limit" | "429" => Fault::RateLimited {
            retry_after: Duration::from_secs(
                body.get("retry_after_secs")
                    .and_then(Value::as_u64)
                    .unwrap_or(1),
            ),
        },
        "status" => Fault::Status(
            body.get("status")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
                .filter(|s| (400..600).contains(s))
                .ok_or("`status` must be 400..=599")?,
        ),
        "delay" => Fault::Delay(Duration::from_millis(
            body.get("delay_ms")
                .and_then(Value::as_u64)
                .ok_or("`delay_ms` is required")?,
        )),
        "drop" => Fault::Drop,
        "drop_mid_body" => Fault::DropMidBody,
        other => return Err(format!("unknown fault kind `{other}`")),
    };
    let mut rule = FaultRule::new(fault).times(
        body.get("times")
            .and_then(Value::as_u64)
            .map_or(1, |t| t as usize),
    );
    let route = body.get("route").and_then(Value::as_str);
    match (body.get("method").and_then(Value::as_str), route) {
        (Some(m), Some(r)) => rule = rule.on(m, r),
        (None, Some(r)) => rule = rule.on_path(r),
        (Some(m), None) => {
            rule.method = Some(m.to_ascii_uppercase());
        }
        (None, None) => {}
    }
    Ok(rule)
}

/// Serves a control request (`path` starts with [`CONTROL_PREFIX`]).
pub(crate) fn handle(shared: &Shared, method: &str, path: &str, body: &[u8]) -> Reply {
    let name = &path[CONTROL_PREFIX.len()..];
    match (method, name) {
        ("POST", "faults") => {
            let body = match parse_json_body(body) {
                Ok(v) => v,
                Err(e) => return e,
            };
            match parse_fault(&body) {
                Ok(rule) => {
                    let mut faults = lock(&shared.faults);
                    faults.push(rule);
                    let pending: usize = faults.iter().map(|f| f.remaining).sum();
                    Reply::ok(json!({ "pending": pending }))
                }
                Err(e) => Reply::user_error(400, &e),
            }
        }
        ("DELETE", "faults") => {
            lock(&shared.faults).clear();
            Reply::ok(json!({"pending": 0}))
        }
        ("GET", "attempts") => Reply::ok(json!(*lock(&shared.attempts))),
        ("GET", "requests") => Reply::ok(Value::Array(
            lock(&shared.log)
                .iter()
                .map(|r| {
                    json!({
                        "request_id": r.request_id,
                        "method": r.method,
                        "path": r.path,
                        "query": r.query,
                        "route": r.route,
                        "status": r.status,
                        "api_key": r.api_key,
                        "body_len": r.body_len,
                        "fault": r.fault,
                    })
                })
                .collect(),
        )),
        ("GET", "uploads") => Reply::ok(Value::Array(
            lock(&shared.uploads).iter().map(upload_json).collect(),
        )),
        ("GET", "generations") => Reply::ok(Value::Array(
            lock(&shared.generations)
                .iter()
                .map(generation_json)
                .collect(),
        )),
        (_, n) if n.starts_with("routstr/") => {
            routstr(shared, method, &n["routstr/".len()..], body)
        }
        ("POST", "reset") => {
            lock(&shared.log).clear();
            lock(&shared.attempts).clear();
            lock(&shared.faults).clear();
            Reply::ok(json!({"reset": true}))
        }
        _ => Reply::user_error(404, "Unknown mock control endpoint."),
    }
}

fn routstr(shared: &Shared, method: &str, name: &str, body: &[u8]) -> Reply {
    let Some(node) = &shared.routstr else {
        return Reply::user_error(404, "The mock is not in Routstr mode.");
    };
    let body = match parse_json_body(body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let msats = body.get("msats").and_then(Value::as_u64);
    match (method, name) {
        ("POST", "tokens") => match msats {
            Some(m) => Reply::ok(json!({
                "token": node.new_token(body.get("mint").and_then(Value::as_str), m)
            })),
            None => Reply::user_error(400, "`msats` is required"),
        },
        ("POST", "keys") => Reply::ok(json!({"api_key": node.new_key(msats.unwrap_or(0))})),
        ("GET", "keys") => Reply::ok(json!({
            "keys": node.keys().iter().map(|k| json!({
                "api_key": k.api_key,
                "balance_msats": k.balance_msats,
                "total_spent_msats": k.total_spent_msats,
                "total_requests": k.total_requests,
                "parent": k.parent,
            })).collect::<Vec<_>>(),
        })),
        _ => Reply::user_error(404, "Unknown mock control endpoint."),
    }
}
