//! Reading bodies: bounded reads of error bodies, the API error, the JSON decode.

use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use tokio::time::{Instant, timeout_at};

use super::redact::scrub;
use crate::error::{ApiErrorBody, Error, Result, snippet};
use crate::response::request_id_from_headers;

/// Reads the start of a body, at most `limit` bytes (a chunk may carry it a little past)
/// before `deadline`: for error bodies and other answers only shown to the user. Read
/// errors and the deadline just end it (the status is what matters).
pub(crate) async fn read_bounded(
    resp: &mut reqwest::Response,
    limit: usize,
    deadline: Instant,
) -> Bytes {
    let mut first: Option<Bytes> = None;
    let mut buf: Vec<u8> = Vec::new();
    while let Ok(Ok(Some(chunk))) = timeout_at(deadline, resp.chunk()).await {
        match first.take() {
            None if buf.is_empty() => first = Some(chunk),
            prev => {
                if let Some(prev) = prev {
                    buf.extend_from_slice(&prev);
                }
                buf.extend_from_slice(&chunk);
            }
        }
        if first.as_ref().map_or(buf.len(), Bytes::len) >= limit {
            break;
        }
    }
    match first {
        Some(b) => b,
        None => Bytes::from(buf),
    }
}

pub(super) fn api_error(
    operation: &'static str,
    path: Option<String>,
    status: StatusCode,
    headers: HeaderMap,
    body: &[u8],
    retry_after: Option<Duration>,
    secret: Option<&str>,
) -> Error {
    let body = scrub(body, secret);
    let (parsed, body_request_id) = ApiErrorBody::parse_with_request_id(&body);
    Error::Api {
        operation,
        path,
        status,
        body: Box::new(parsed),
        request_id: request_id_from_headers(&headers).or(body_request_id),
        retry_after,
        headers: Box::new(headers),
    }
}

pub(super) fn decode<T: DeserializeOwned>(
    operation: &'static str,
    body: &[u8],
    secret: Option<&str>,
) -> Result<T> {
    let empty = body.trim_ascii().is_empty();
    let json: &[u8] = if empty { b"null" } else { body };
    // Plain decoding first: tracking the path costs on every field, and is only needed to
    // explain a failure, so a body that does not decode is read again with it.
    if let Ok(value) = serde_json::from_slice(json) {
        return Ok(value);
    }
    let error = |path: String, message: String| Error::Decode {
        operation,
        path,
        message,
        snippet: snippet(&scrub(body, secret)),
        response: None,
    };
    let mut de = serde_json::Deserializer::from_slice(json);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let message = if empty {
            // The position refers to our stand-in `null`, not to anything the server sent.
            let inner = e.inner().to_string();
            let inner = inner.rsplit_once(" at line ").map_or(&*inner, |(m, _)| m);
            format!("the response body is empty ({inner})")
        } else {
            e.inner().to_string()
        };
        error(e.path().to_string(), message)
    })?;
    de.end().map_err(|e| error(".".to_owned(), e.to_string()))?;
    Ok(value)
}
