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

use std::path::PathBuf;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::response::ResponseMeta;

mod body;
mod debug;
mod display;
mod text;

pub use body::{
    ApiError, ApiErrorBody, ErrorCode, HttpValidationError, LocItem, OpenAiError, Rejection,
    UserError, ValidationError,
};
use display::{ConnectTarget, FmtDuration, FmtPath, OpLabel, RequestLabel, api_display};
pub use text::{readable_text, snippet};

/// `Result` with the SDK's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Longest text kept from an unrecognised error body or an undecodable response.
pub const SNIPPET_MAX_CHARS: usize = 512;

/// Everything that can go wrong in a call. Messages are short, lower-case and start with the
/// request (`GET /api/public/characters/999`; [`Error::operation`] keeps the
/// operationId); they never contain the API key.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a non-2xx status (after any retries).
    #[error("{}: {}", RequestLabel(.operation, .path), api_display(.status, .body, .retry_after))]
    #[non_exhaustive]
    Api {
        /// Operation id.
        operation: &'static str,
        /// The path the request was sent to, without its query
        /// (`/api/public/characters/999`), when known.
        path: Option<String>,
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
    #[error("{}: {}", OpLabel(.operation), ConnectTarget(.url, .message))]
    #[non_exhaustive]
    Connect {
        /// Operation id.
        operation: &'static str,
        /// Where the client tried to connect: the request's URL without its query, fragment
        /// or credentials (`None` when it was not known).
        url: Option<Box<url::Url>>,
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

    /// An [`Error::Connect`] from a reqwest connection failure, naming the URL it tried
    /// (without anything secret: no query, fragment or credentials).
    pub(crate) fn connect(operation: &'static str, source: reqwest::Error) -> Self {
        let url = source.url().map(|u| {
            let mut u = u.clone();
            u.set_query(None);
            u.set_fragment(None);
            // Only fails for URLs that cannot have credentials, which then have none.
            let _ = u.set_username("");
            let _ = u.set_password(None);
            Box::new(u)
        });
        Error::Connect {
            operation,
            url,
            message: crate::transport::root_cause(&source),
            source: source.without_url(),
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
