//! The SDK's [`Error`] type and the decoded error bodies the Rostro API and Routstr nodes send.
//!
//! ```no_run
//! use rostro_sdk::{ApiErrorBody, Error};
//! # async fn run(client: rostro_sdk::Client, req: rostro_sdk::request::Request) {
//! match client.execute::<serde_json::Value>(req).await {
//!     Ok(resp) => println!("{}", resp.value()),
//!     Err(err @ Error::Api { .. }) if err.is_rate_limited() => {
//!         println!("slow down: {err} (retry after {:?})", err.retry_after());
//!     }
//!     Err(Error::Api { status, body, .. }) => match &*body {
//!         ApiErrorBody::Validation(v) => println!("{status}: {} invalid field(s)", v.detail.len()),
//!         other => println!("{status}: {other}"),
//!     },
//!     Err(other) => println!("{other}"),
//! }
//! # }
//! ```

use std::fmt::{self, Write as _};
use std::path::PathBuf;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::response::ResponseMeta;

/// `Result` with the SDK's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Longest text kept from an unrecognised error body or an undecodable response.
pub const SNIPPET_MAX_CHARS: usize = 512;

/// Everything that can go wrong in a call. Messages are short, lower-case and start with the
/// request (`GET /api/public/{space}/{project_id}`; [`Error::operation`] keeps the
/// operationId); they never contain the API key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a non-2xx status (after any retries).
    #[error("{}: {}", OpLabel(.operation), api_display(.status, .body, .retry_after))]
    #[non_exhaustive]
    Api {
        /// Operation id.
        operation: &'static str,
        /// HTTP status.
        status: StatusCode,
        /// The decoded error body.
        body: Box<ApiErrorBody>,
        /// Request id from the response headers (see
        /// [`request_id_from_headers`](crate::response::request_id_from_headers)) or a
        /// top-level `request_id` field of the body.
        request_id: Option<String>,
        /// How long the server asked us to wait (`retry-after-ms`, `Retry-After`, or on a 429
        /// `X-RateLimit-Reset`).
        retry_after: Option<Duration>,
        /// All response headers (e.g. a Routstr `X-Cashu` refund token).
        headers: Box<HeaderMap>,
    },
    /// A 2xx response whose body did not match the expected type.
    #[error("{}: could not decode the response at `{path}`: {message}", OpLabel(.operation))]
    #[non_exhaustive]
    Decode {
        /// Operation id.
        operation: &'static str,
        /// JSON path of the failing field (`.` for the root, e.g. `nodes[3].name`).
        path: String,
        /// What serde reported.
        message: String,
        /// The start of the body (at most [`SNIPPET_MAX_CHARS`] characters).
        snippet: String,
        /// The response the body came with (status, headers, request id), when there was
        /// one: a Routstr `X-Cashu` change token survives an undecodable body here.
        response: Option<Box<ResponseMeta>>,
    },
    /// An attempt did not complete within the request timeout (after any retries).
    #[error("{}: timed out after {}", OpLabel(.operation), FmtDuration(.timeout))]
    #[non_exhaustive]
    Timeout {
        /// Operation id.
        operation: &'static str,
        /// The per-attempt timeout that elapsed.
        timeout: Duration,
        /// The response, when its headers had arrived and the body (or the next stream
        /// event) did not.
        response: Option<Box<ResponseMeta>>,
    },
    /// The connection could not be established (DNS, TCP, TLS); nothing reached the server.
    #[error("{}: could not connect: {message}", OpLabel(.operation))]
    #[non_exhaustive]
    Connect {
        /// Operation id.
        operation: &'static str,
        /// The root cause, e.g. `Connection refused (os error 111)`.
        message: String,
        /// The underlying error (its URL removed).
        #[source]
        source: reqwest::Error,
    },
    /// The connection failed after it was established (reset, protocol error, broken body).
    #[error("{}: request failed: {message}", OpLabel(.operation))]
    #[non_exhaustive]
    Transport {
        /// Operation id.
        operation: &'static str,
        /// The root cause.
        message: String,
        /// The underlying error (its URL removed).
        #[source]
        source: reqwest::Error,
        /// The response, when the failure came while reading its body (e.g. a body shorter
        /// than its `content-length`).
        response: Option<Box<ResponseMeta>>,
    },
    /// The request could not be built; nothing was sent.
    #[error("{}: invalid request: {message}", OpLabel(.operation))]
    #[non_exhaustive]
    InvalidRequest {
        /// Operation id.
        operation: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A streamed (SSE) response failed part-way or carried an error event.
    #[error("{}: stream error: {message}", OpLabel(.operation))]
    #[non_exhaustive]
    Stream {
        /// Operation id.
        operation: &'static str,
        /// What went wrong.
        message: String,
        /// The error payload, when the stream carried one.
        body: Option<Box<ApiErrorBody>>,
        /// Text received before the failure.
        partial: String,
        /// Why the stream failed, for code that reacts to the cause (an idle timeout, an
        /// event over the size cap, a body that is not an event stream, ...).
        kind: StreamErrorKind,
        /// The response the stream came with (status, headers, request id), when known.
        response: Option<Box<ResponseMeta>>,
    },
    /// A local I/O error, e.g. a file to upload could not be opened.
    #[error("{}: i/o error{}: {source}", OpLabel(.operation), FmtPath(.path))]
    #[non_exhaustive]
    Io {
        /// Operation id.
        operation: &'static str,
        /// The file involved, if any.
        path: Option<PathBuf>,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A media workflow failed after its calls succeeded: a generation ended with `is_failed`,
    /// waiting for it timed out, or a transfer did not match its checksum
    /// (see [`MediaError`](crate::media::MediaError)).
    #[error("{}: {source}", OpLabel(.operation))]
    #[non_exhaustive]
    Media {
        /// Operation id.
        operation: &'static str,
        /// What went wrong.
        #[source]
        source: Box<crate::media::MediaError>,
    },
    /// Invalid client configuration (bad URL, header, missing API key, ...).
    #[error("invalid configuration: {message}")]
    #[non_exhaustive]
    Config {
        /// What is wrong.
        message: String,
    },
}

impl Error {
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
        }
    }

    /// The HTTP status of the response the error came with: an [`Error::Api`]'s, or the
    /// (2xx) status of a response whose body could not be read or decoded, or whose stream
    /// failed. `None` when no response arrived.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => self.response().map(|r| r.status),
        }
    }

    /// The response an error after the headers came with ([`Error::Decode`],
    /// [`Error::Timeout`], [`Error::Transport`], [`Error::Stream`]): status, headers,
    /// request id. For an [`Error::Api`] see [`status`](Self::status),
    /// [`headers`](Self::headers) and [`request_id`](Self::request_id).
    pub fn response(&self) -> Option<&ResponseMeta> {
        match self {
            Error::Decode { response, .. }
            | Error::Timeout { response, .. }
            | Error::Transport { response, .. }
            | Error::Stream { response, .. } => response.as_deref(),
            _ => None,
        }
    }

    /// Attaches the response an error happened on (kept when one is already attached).
    pub(crate) fn with_response(mut self, meta: &ResponseMeta) -> Self {
        match &mut self {
            Error::Decode { response, .. }
            | Error::Timeout { response, .. }
            | Error::Transport { response, .. }
            | Error::Stream { response, .. } => {
                response.get_or_insert_with(|| Box::new(meta.clone()));
            }
            _ => {}
        }
        self
    }

    /// Whether the failure is transient: connection errors, timeouts, broken connections, and
    /// statuses 408, 409, 429 and 5xx. (The client already retried such errors within its
    /// limits before returning them.)
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api { status, .. } => crate::retry::is_retryable_status(*status),
            Error::Timeout { .. } | Error::Connect { .. } | Error::Transport { .. } => true,
            _ => false,
        }
    }

    /// Whether this is a `429 Too Many Requests`.
    pub fn is_rate_limited(&self) -> bool {
        self.status() == Some(StatusCode::TOO_MANY_REQUESTS)
    }

    /// Whether an attempt timed out, or a stream received nothing for its idle timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self,
            Error::Timeout { .. }
                | Error::Stream {
                    kind: StreamErrorKind::Idle { .. },
                    ..
                }
        )
    }

    /// The request id of the response the error came with, see
    /// [`Error::Api::request_id`](Error::Api) and [`ResponseMeta::request_id`].
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api { request_id, .. } => request_id.as_deref(),
            _ => self.response().and_then(|r| r.request_id.as_deref()),
        }
    }

    /// How long the server asked the client to wait.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The operation id the error belongs to (`None` for [`Error::Config`]).
    pub fn operation(&self) -> Option<&'static str> {
        match self {
            Error::Api { operation, .. }
            | Error::Decode { operation, .. }
            | Error::Timeout { operation, .. }
            | Error::Connect { operation, .. }
            | Error::Transport { operation, .. }
            | Error::InvalidRequest { operation, .. }
            | Error::Stream { operation, .. }
            | Error::Io { operation, .. }
            | Error::Media { operation, .. } => Some(operation),
            Error::Config { .. } => None,
        }
    }

    /// The decoded error body of an [`Error::Api`] or [`Error::Stream`].
    pub fn api_body(&self) -> Option<&ApiErrorBody> {
        match self {
            Error::Api { body, .. } => Some(body),
            Error::Stream { body, .. } => body.as_deref(),
            _ => None,
        }
    }

    /// The response headers the error came with: an [`Error::Api`]'s, or those of a
    /// response whose body or stream failed (e.g. a Routstr `X-Cashu` change token).
    pub fn headers(&self) -> Option<&HeaderMap> {
        match self {
            Error::Api { headers, .. } => Some(headers),
            _ => self.response().map(|r| &r.headers),
        }
    }
}

/// Why an [`Error::Stream`] happened. Also what [`SseDecoder`](crate::chat::SseDecoder)
/// reports for bytes it cannot decode.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamErrorKind {
    /// The server sent an error event (`{"error": ...}` data, or `event: error`); its payload
    /// is in `body`.
    ErrorEvent,
    /// The connection broke mid-stream.
    Connection,
    /// Nothing arrived (not even a keep-alive comment) for this long.
    Idle {
        /// The idle timeout that elapsed.
        after: Duration,
    },
    /// One event grew past the size cap
    /// ([`ClientBuilder::max_event_size`](crate::ClientBuilder::max_event_size)).
    EventTooLarge {
        /// The cap, in bytes.
        cap: usize,
    },
    /// The bytes of an event (data, event name or id) are not valid UTF-8.
    InvalidUtf8,
    /// An event's data did not decode as the expected JSON.
    Decode,
    /// The 2xx response is not an event stream (another content type, or an empty body).
    NotEventStream {
        /// The `Content-Type` the server sent, if any.
        content_type: Option<String>,
    },
    /// The body ended before `data: [DONE]` and before every choice had a finish reason.
    Incomplete,
}

fn api_display<'a>(
    status: &StatusCode,
    body: &'a ApiErrorBody,
    retry_after: &Option<Duration>,
) -> ApiDisplay<'a> {
    ApiDisplay {
        status: *status,
        body,
        retry_after: *retry_after,
    }
}

struct ApiDisplay<'a> {
    status: StatusCode,
    body: &'a ApiErrorBody,
    retry_after: Option<Duration>,
}

impl fmt::Display for ApiDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.status.as_u16())?;
        if let Some(reason) = self.status.canonical_reason() {
            f.write_char(' ')?;
            for c in reason.chars() {
                f.write_char(c.to_ascii_lowercase())?;
            }
        }
        write!(f, ": {}", self.body)?;
        if let Some(wait) = self.retry_after {
            write!(f, " (retry after {})", FmtDuration(&wait))?;
        }
        Ok(())
    }
}

/// Prints `3600s`, `1.5s` or `250ms`.
struct FmtDuration<'a>(&'a Duration);

impl fmt::Display for FmtDuration<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = *self.0;
        if d < Duration::from_secs(1) {
            write!(f, "{}ms", d.as_millis())
        } else if d.subsec_millis() == 0 {
            write!(f, "{}s", d.as_secs())
        } else {
            write!(f, "{:.1}s", d.as_secs_f64())
        }
    }
}

struct FmtPath<'a>(&'a Option<PathBuf>);

impl fmt::Display for FmtPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(p) => write!(f, " on `{}`", p.display()),
            None => Ok(()),
        }
    }
}

/// An integer or string error code (the API sends both).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ErrorCode {
    /// A numeric code.
    Int(i64),
    /// A textual code such as `insufficient_balance`.
    Str(String),
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorCode::Int(i) => write!(f, "{i}"),
            ErrorCode::Str(s) => f.write_str(s),
        }
    }
}

/// The spec's `UserError`: `{error, errorCode, code}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct UserError {
    /// Human-readable message.
    pub error: Option<String>,
    /// `errorCode` (usually the HTTP status).
    #[serde(rename = "errorCode")]
    pub error_code: Option<ErrorCode>,
    /// Application error code.
    pub code: Option<ErrorCode>,
}

/// The spec's `APIError`: `{error, message, type, code, errorCode, param}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ApiError {
    /// Short error (sometimes the only text).
    pub error: Option<String>,
    /// Human-readable message.
    pub message: Option<String>,
    /// The `type` field.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Application error code.
    pub code: Option<ErrorCode>,
    /// `errorCode` (usually the HTTP status).
    #[serde(rename = "errorCode")]
    pub error_code: Option<ErrorCode>,
    /// The offending parameter, if reported.
    pub param: Option<Value>,
}

/// The spec's `HTTPValidationError` (status 422): `{detail: [ValidationError]}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct HttpValidationError {
    /// One entry per invalid field.
    pub detail: Vec<ValidationError>,
}

/// The spec's `ValidationError`: `{loc, msg, type}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ValidationError {
    /// Location of the field, e.g. `["body", "messages", 0]`.
    pub loc: Vec<LocItem>,
    /// Message, e.g. `field required`.
    pub msg: String,
    /// The `type` field, e.g. `value_error.missing`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// One step of a [`ValidationError::loc`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum LocItem {
    /// An object key.
    Key(String),
    /// An array index.
    Index(i64),
}

impl fmt::Display for LocItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocItem::Key(k) => f.write_str(k),
            LocItem::Index(i) => write!(f, "{i}"),
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.loc.iter().enumerate() {
            if i > 0 {
                f.write_char('.')?;
            }
            write!(f, "{item}")?;
        }
        if !self.loc.is_empty() {
            f.write_str(": ")?;
        }
        f.write_str(&self.msg)
    }
}

/// The spec's `Rejection` (content moderation, credits): `{reason, location}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Rejection {
    /// `unknown`, `explicit_text`, `explicit_image`, `malformed_image`, `out_of_credits`, or
    /// free text on Routstr nodes.
    pub reason: Option<String>,
    /// Where the rejected content was found.
    pub location: Option<String>,
    /// The `type` field, when sent (Routstr: `minimum_balance_required`).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Any other fields (Routstr: `amount_required_msat`, `model`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The OpenAI-style envelope `{error: {message, type, code, param}}` (mimic API, Routstr).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct OpenAiError {
    /// Human-readable message.
    pub message: Option<String>,
    /// The `type` field, e.g. `invalid_request_error`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Error code, e.g. `invalid_api_key` or `insufficient_balance`.
    pub code: Option<ErrorCode>,
    /// The offending parameter, if reported.
    pub param: Option<Value>,
}

/// A decoded non-2xx response body.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub enum ApiErrorBody {
    /// `UserError` `{error, errorCode, code}`.
    User(UserError),
    /// `APIError` `{error, message, type, code, errorCode, param}`.
    Api(ApiError),
    /// `HTTPValidationError` `{detail: [{loc, msg, type}]}`.
    Validation(HttpValidationError),
    /// `Rejection` `{reason, location}`.
    Rejection(Rejection),
    /// OpenAI-style `{error: {type, message, code, param}}`.
    OpenAi(OpenAiError),
    /// `{detail: "message"}`.
    Detail(String),
    /// Anything else, as one readable line of at most [`SNIPPET_MAX_CHARS`] characters
    /// (the `<title>` of an HTML page; empty for an empty body).
    Text(String),
}

impl ApiErrorBody {
    /// Decodes an error body, recognising (in this order) `UserError`, `APIError`,
    /// `HTTPValidationError`, `Rejection`, the OpenAI envelope and `{detail: "..."}`; anything
    /// else becomes [`ApiErrorBody::Text`].
    pub fn parse(body: &[u8]) -> Self {
        Self::parse_with_request_id(body).0
    }

    /// Like [`parse`](Self::parse), also returning a top-level `request_id` string field.
    pub(crate) fn parse_with_request_id(body: &[u8]) -> (Self, Option<String>) {
        let trimmed = body.trim_ascii();
        if trimmed.first() == Some(&b'{')
            && let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(trimmed)
        {
            let request_id = map
                .get("request_id")
                .and_then(Value::as_str)
                .map(str::to_owned);
            if let Some(parsed) = classify(&map, true) {
                return (parsed, request_id);
            }
            return (ApiErrorBody::Text(snippet(trimmed)), request_id);
        }
        (ApiErrorBody::Text(readable_text(trimmed)), None)
    }

    /// The application error code, when the body carries one.
    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            ApiErrorBody::User(e) => e.code.as_ref(),
            ApiErrorBody::Api(e) => e.code.as_ref(),
            ApiErrorBody::OpenAi(e) => e.code.as_ref(),
            _ => None,
        }
    }

    /// The error `type`, when the body carries one.
    pub fn kind(&self) -> Option<&str> {
        match self {
            ApiErrorBody::Api(e) => e.kind.as_deref(),
            ApiErrorBody::OpenAi(e) => e.kind.as_deref(),
            ApiErrorBody::Rejection(e) => e.reason.as_deref(),
            _ => None,
        }
    }
}

impl fmt::Display for ApiErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn with_code(
            f: &mut fmt::Formatter<'_>,
            text: &str,
            code: Option<&ErrorCode>,
        ) -> fmt::Result {
            f.write_str(text)?;
            match code {
                // `code: 0` is the API's "no application code": showing it says nothing.
                Some(ErrorCode::Int(0)) => Ok(()),
                Some(code) if code.to_string() != text => write!(f, " ({code})"),
                _ => Ok(()),
            }
        }
        match self {
            ApiErrorBody::User(e) => with_code(
                f,
                e.error.as_deref().unwrap_or("user error"),
                e.code.as_ref(),
            ),
            ApiErrorBody::Api(e) => {
                let text = e
                    .message
                    .as_deref()
                    .or(e.error.as_deref())
                    .or(e.kind.as_deref())
                    .unwrap_or("api error");
                with_code(f, text, e.code.as_ref())
            }
            ApiErrorBody::OpenAi(e) => {
                let text = e
                    .message
                    .as_deref()
                    .or(e.kind.as_deref())
                    .unwrap_or("error");
                with_code(f, text, e.code.as_ref())
            }
            ApiErrorBody::Validation(v) => {
                const SHOWN: usize = 5;
                if v.detail.is_empty() {
                    return f.write_str("validation error");
                }
                for (i, item) in v.detail.iter().take(SHOWN).enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{item}")?;
                }
                if v.detail.len() > SHOWN {
                    write!(f, " (and {} more)", v.detail.len() - SHOWN)?;
                }
                Ok(())
            }
            ApiErrorBody::Rejection(r) => {
                write!(f, "rejected: {}", r.reason.as_deref().unwrap_or("unknown"))?;
                match &r.location {
                    Some(loc) => write!(f, " (at {loc})"),
                    None => Ok(()),
                }
            }
            ApiErrorBody::Detail(d) => f.write_str(d),
            ApiErrorBody::Text(t) if t.is_empty() => f.write_str("empty response body"),
            ApiErrorBody::Text(t) => f.write_str(t),
        }
    }
}

fn str_field(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn code_field(map: &Map<String, Value>, key: &str) -> Option<ErrorCode> {
    match map.get(key)? {
        Value::Number(n) => n.as_i64().map(ErrorCode::Int),
        Value::String(s) => Some(ErrorCode::Str(s.clone())),
        _ => None,
    }
}

fn classify(map: &Map<String, Value>, top_level: bool) -> Option<ApiErrorBody> {
    let error = map.get("error");
    // OpenAI-style `{error: {...}}`, also Routstr's `{detail: {error}, error, request_id}`.
    if let Some(Value::Object(inner)) = error {
        return Some(ApiErrorBody::OpenAi(OpenAiError {
            message: str_field(inner, "message"),
            kind: str_field(inner, "type"),
            code: code_field(inner, "code"),
            param: inner.get("param").filter(|v| !v.is_null()).cloned(),
        }));
    }
    let error_str = error.and_then(Value::as_str);
    let has_api_only = ["message", "param"].iter().any(|k| map.contains_key(*k));
    if error_str.is_some() && !has_api_only && !map.contains_key("type") {
        return Some(ApiErrorBody::User(UserError {
            error: error_str.map(str::to_owned),
            error_code: code_field(map, "errorCode"),
            code: code_field(map, "code"),
        }));
    }
    if error_str.is_some() || map.get("message").is_some_and(Value::is_string) {
        return Some(ApiErrorBody::Api(ApiError {
            error: error_str.map(str::to_owned),
            message: str_field(map, "message"),
            kind: str_field(map, "type"),
            code: code_field(map, "code"),
            error_code: code_field(map, "errorCode"),
            param: map.get("param").filter(|v| !v.is_null()).cloned(),
        }));
    }
    match map.get("detail") {
        Some(Value::Array(items)) => {
            if let Some(detail) = items.iter().map(validation_item).collect() {
                return Some(ApiErrorBody::Validation(HttpValidationError { detail }));
            }
        }
        Some(Value::String(s)) => return Some(ApiErrorBody::Detail(s.clone())),
        Some(Value::Object(inner)) if top_level => {
            if let Some(parsed) = classify(inner, false) {
                return Some(parsed);
            }
        }
        _ => {}
    }
    if let Some(reason) = map.get("reason").and_then(Value::as_str) {
        return Some(ApiErrorBody::Rejection(Rejection {
            reason: Some(reason.to_owned()),
            location: str_field(map, "location"),
            kind: str_field(map, "type"),
            extra: map
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "reason" | "location" | "type"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }));
    }
    None
}

fn validation_item(v: &Value) -> Option<ValidationError> {
    let obj = v.as_object()?;
    let loc = obj
        .get("loc")?
        .as_array()?
        .iter()
        .map(|l| match l {
            Value::String(s) => Some(LocItem::Key(s.clone())),
            Value::Number(n) => n.as_i64().map(LocItem::Index),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some(ValidationError {
        loc,
        msg: obj.get("msg")?.as_str()?.to_owned(),
        kind: str_field(obj, "type").unwrap_or_default(),
    })
}

/// One line of text from arbitrary bytes: whitespace collapsed, at most
/// [`SNIPPET_MAX_CHARS`] characters (an ellipsis marks a cut).
pub fn snippet(bytes: &[u8]) -> String {
    // Never look at more than needed: 4 bytes per char at most, plus whitespace slack.
    let window = &bytes[..bytes.len().min(SNIPPET_MAX_CHARS * 8)];
    one_line(&String::from_utf8_lossy(window), bytes.len() > window.len())
}

fn one_line(text: &str, truncated: bool) -> String {
    let mut out = String::with_capacity(text.len().min(SNIPPET_MAX_CHARS + 4));
    let mut chars = 0;
    let mut cut = truncated;
    for word in text.split_whitespace() {
        if chars > 0 {
            if chars >= SNIPPET_MAX_CHARS {
                cut = true;
                break;
            }
            out.push(' ');
            chars += 1;
        }
        for c in word.chars() {
            if chars >= SNIPPET_MAX_CHARS {
                cut = true;
                break;
            }
            out.push(c);
            chars += 1;
        }
    }
    if cut {
        out.push('…');
    }
    out
}

/// A readable line from a non-JSON body: an HTML page gives its `<title>`, other markup its
/// text without tags, anything else its first [`SNIPPET_MAX_CHARS`] characters.
pub fn readable_text(bytes: &[u8]) -> String {
    // Markup (HTML error pages, XML errors from storage backends) is reduced to its text.
    if bytes.first() != Some(&b'<') {
        return snippet(bytes);
    }
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]);
    let lower = text.to_ascii_lowercase();
    if let Some(start) = lower.find("<title")
        && let Some(open_end) = lower[start..].find('>')
    {
        let content_start = start + open_end + 1;
        if let Some(len) = lower[content_start..].find("</title") {
            let title = decode_entities(&text[content_start..content_start + len]);
            let line = one_line(&title, false);
            if !line.is_empty() {
                return line;
            }
        }
    }
    // No title: drop tags, scripts and styles.
    let mut plain = String::with_capacity(text.len() / 2);
    let mut rest = &text[..];
    let mut rest_lower = &lower[..];
    while let Some(lt) = rest_lower.find('<') {
        plain.push_str(&rest[..lt]);
        plain.push(' ');
        let skip_to = if rest_lower[lt..].starts_with("<script") {
            rest_lower[lt..].find("</script>").map(|i| lt + i + 9)
        } else if rest_lower[lt..].starts_with("<style") {
            rest_lower[lt..].find("</style>").map(|i| lt + i + 8)
        } else {
            rest_lower[lt..].find('>').map(|i| lt + i + 1)
        };
        let Some(next) = skip_to else {
            rest = "";
            break;
        };
        rest = &rest[next..];
        rest_lower = &rest_lower[next..];
    }
    plain.push_str(rest);
    one_line(&decode_entities(&plain), false)
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    s.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// How an error names its call: `METHOD /path` for an operation of the API, else the
/// hand-written step's name (`paginate`, `download_media`).
struct OpLabel(&'static str);

impl fmt::Display for OpLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match crate::OperationId::from_spec_id(self.0) {
            Some(op) => {
                let o = op.operation();
                write!(f, "{} {}", o.method.as_str(), o.path)
            }
            None => f.write_str(self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_title() {
        let page = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
        assert_eq!(readable_text(page), "502 Bad Gateway");
        let no_title = b"<!DOCTYPE html><html><body><h1>Oops</h1>\n<p>Try &amp; again</p><script>var x = 1;</script></body></html>";
        assert_eq!(readable_text(no_title), "Oops Try & again");
        let xml = b"<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>";
        assert_eq!(readable_text(xml), "AccessDenied Access Denied");
    }

    #[test]
    fn a_zero_code_is_not_shown_and_a_real_one_is() {
        let p = |s: &str| ApiErrorBody::parse(s.as_bytes()).to_string();
        assert_eq!(
            p(r#"{"code":0,"error":"Project not found.","errorCode":404}"#),
            "Project not found."
        );
        assert_eq!(
            p(r#"{"code":7,"error":"nope","errorCode":400}"#),
            "nope (7)"
        );
    }

    #[test]
    fn snippet_is_bounded() {
        let long = "ab ".repeat(1000);
        let s = snippet(long.as_bytes());
        assert!(s.chars().count() <= SNIPPET_MAX_CHARS + 1);
        assert!(s.ends_with('…'));
        assert_eq!(snippet(b"a\n\n b\t c"), "a b c");
    }

    #[test]
    fn recognition_order() {
        let p = |s: &str| ApiErrorBody::parse(s.as_bytes());
        assert!(matches!(
            p(r#"{"error":"nope","errorCode":400,"code":7}"#),
            ApiErrorBody::User(_)
        ));
        assert!(matches!(
            p(r#"{"error":"x","message":"m","type":"t","code":"c"}"#),
            ApiErrorBody::Api(_)
        ));
        assert!(matches!(
            p(r#"{"detail":[{"loc":["body",1],"msg":"m","type":"t"}]}"#),
            ApiErrorBody::Validation(_)
        ));
        assert!(matches!(
            p(r#"{"reason":"explicit_text","location":null}"#),
            ApiErrorBody::Rejection(_)
        ));
        assert!(matches!(
            p(r#"{"error":{"message":"m","type":"t","code":401}}"#),
            ApiErrorBody::OpenAi(_)
        ));
        assert!(matches!(p(r#"{"detail":"gone"}"#), ApiErrorBody::Detail(_)));
        assert!(matches!(
            p(r#"{"detail":{"error":{"message":"broke","code":"insufficient_balance"}}}"#),
            ApiErrorBody::OpenAi(_)
        ));
        assert!(matches!(
            p(r#"{"detail":{"reason":"low","type":"minimum_balance_required"}}"#),
            ApiErrorBody::Rejection(_)
        ));
        assert_eq!(p(""), ApiErrorBody::Text(String::new()));
        assert_eq!(p("[1,2]"), ApiErrorBody::Text("[1,2]".into()));
    }
}
