//! What a trace may show of a request: its span, URL and credential headers by name.

use reqwest::header::HeaderValue;
use tracing::field::Empty;

use super::Prepared;
use super::redact::scrub;
use crate::request::Operation;

/// The `rostro.request` span every send runs in.
pub(super) fn request_span(op: &'static Operation) -> tracing::Span {
    tracing::debug_span!(
        "rostro.request",
        operation = op.id,
        method = op.method.as_str(),
        path = op.path,
        url = Empty,
        credentials = Empty,
        status = Empty,
        attempt = Empty,
        duration_ms = Empty,
    )
}

/// Records what a subscriber may show of the request: its URL (without credentials: no
/// user info, the API key scrubbed, a query only when `with_query`) and the credential
/// headers it carries, by name only (`[Authorization: Bearer ***] [X-Cashu: ***]`).
pub(super) fn record_target(
    span: &tracing::Span,
    prepared: &Prepared,
    with_query: bool,
    secret: Option<&str>,
) {
    let Some(template) = prepared.template.as_ref().filter(|_| !span.is_disabled()) else {
        return;
    };
    let mut url = template.url().clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_fragment(None);
    if !with_query {
        url.set_query(None);
    }
    span.record(
        "url",
        &*String::from_utf8_lossy(&scrub(url.as_str().as_bytes(), secret)),
    );
    let mut shown = String::new();
    for name in template.headers().keys() {
        if !crate::request::is_sensitive_header(name) {
            continue;
        }
        let display = match name.as_str() {
            "authorization" => match template.headers().get(name).map(HeaderValue::as_bytes) {
                Some(v) if v.len() > 7 && v[..7].eq_ignore_ascii_case(b"bearer ") => {
                    "Authorization: Bearer"
                }
                _ => "Authorization:",
            },
            "ch-api-key" => "CH-API-KEY:",
            "x-cashu" => "X-Cashu:",
            "x-api-key" => "X-API-Key:",
            "cookie" => "Cookie:",
            other => {
                shown.push_str(&format!(" [{other}: ***]"));
                continue;
            }
        };
        shown.push_str(&format!(" [{display} ***]"));
    }
    if !shown.is_empty() {
        span.record("credentials", shown.trim_start());
    }
}
