//! Successful responses: the decoded value plus [`ResponseMeta`] (status, headers, request id,
//! rate-limit state, attempts).
//!
//! ```no_run
//! # async fn run(client: rostro_sdk::Client, req: rostro_sdk::request::Request) -> rostro_sdk::Result<()> {
//! let resp = client.execute::<serde_json::Value>(req).await?;
//! if let Some(rl) = resp.meta().rate_limit {
//!     println!("{:?} requests left", rl.remaining);
//! }
//! let (value, meta) = resp.into_parts();
//! println!("{value} (request id {:?})", meta.request_id);
//! # Ok(())
//! # }
//! ```

use std::ops::Deref;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName};

// Looked up by constant: a `&str` name is parsed and hashed anew on every lookup.
const RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const RATELIMIT_RESET: HeaderName = HeaderName::from_static("x-ratelimit-reset");
const REQUEST_ID_HEADERS: [HeaderName; 3] = [
    HeaderName::from_static("x-request-id"),
    HeaderName::from_static("x-routstr-request-id"),
    HeaderName::from_static("cf-ray"),
];

/// A decoded response value together with its [`ResponseMeta`].
#[derive(Debug, Clone)]
pub struct Response<T> {
    value: T,
    meta: ResponseMeta,
}

impl<T> Response<T> {
    /// Pairs a value with its metadata.
    pub fn new(value: T, meta: ResponseMeta) -> Self {
        Response { value, meta }
    }

    /// The decoded value, dropping the metadata.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The decoded value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// Status, headers, request id, rate limits and attempts.
    pub fn meta(&self) -> &ResponseMeta {
        &self.meta
    }

    /// Splits into value and metadata.
    pub fn into_parts(self) -> (T, ResponseMeta) {
        (self.value, self.meta)
    }

    /// Transforms the value, keeping the metadata.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            value: f(self.value),
            meta: self.meta,
        }
    }
}

impl<T> Deref for Response<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}

/// Metadata of a successful response.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ResponseMeta {
    /// HTTP status (2xx).
    pub status: StatusCode,
    /// All response headers.
    pub headers: HeaderMap,
    /// The request id, see [`request_id_from_headers`].
    pub request_id: Option<String>,
    /// `X-RateLimit-*` headers, when any of them was sent.
    pub rate_limit: Option<RateLimit>,
    /// Number of HTTP attempts made (1 when the first attempt succeeded).
    pub attempts: u32,
}

impl ResponseMeta {
    /// Builds metadata from a response's status and headers.
    pub fn new(status: StatusCode, headers: HeaderMap, attempts: u32) -> Self {
        ResponseMeta {
            status,
            request_id: request_id_from_headers(&headers),
            rate_limit: RateLimit::from_headers(&headers),
            headers,
            attempts,
        }
    }
}

/// Rate-limit state from `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RateLimit {
    /// Maximum requests per window.
    pub limit: Option<u64>,
    /// Requests left in the current window.
    pub remaining: Option<u64>,
    /// The raw `X-RateLimit-Reset` value (see [`RateLimit::reset_after`] for its meaning).
    pub reset: Option<u64>,
}

impl RateLimit {
    /// Parses the `X-RateLimit-*` headers; `None` when none of them is present.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let num = |name: &HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|s| s.trim().parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(|v| v as u64)
        };
        let rl = RateLimit {
            limit: num(&RATELIMIT_LIMIT),
            remaining: num(&RATELIMIT_REMAINING),
            reset: num(&RATELIMIT_RESET),
        };
        (rl != RateLimit::default()).then_some(rl)
    }

    /// How long until the window resets, interpreting `reset` with [`reset_to_wait`].
    pub fn reset_after(&self) -> Option<Duration> {
        self.reset
            .map(|r| reset_to_wait(r as f64, SystemTime::now()))
    }
}

/// Interprets an `X-RateLimit-Reset` value.
///
/// The Rostro docs call it "a Unix timestamp", other servers send seconds-to-wait. The value
/// is read as:
/// * `>= 1e12`: a Unix timestamp in milliseconds;
/// * `>= 1e9` (September 2001 onwards): a Unix timestamp in seconds;
/// * anything smaller: a number of seconds to wait.
///
/// Timestamps in the past give a zero wait.
pub fn reset_to_wait(value: f64, now: SystemTime) -> Duration {
    if !value.is_finite() || value <= 0.0 {
        return Duration::ZERO;
    }
    let now_secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    let secs = if value >= 1e12 {
        value / 1000.0 - now_secs
    } else if value >= 1e9 {
        value - now_secs
    } else {
        value
    };
    Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or(Duration::MAX)
}

/// The request id of a response: `x-request-id`, else `x-routstr-request-id` (Routstr nodes),
/// else `cf-ray` (Cloudflare, the only id when the edge answered itself).
pub fn request_id_from_headers(headers: &HeaderMap) -> Option<String> {
    REQUEST_ID_HEADERS
        .iter()
        .find_map(|name| headers.get(name)?.to_str().ok())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_interpretation() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(reset_to_wait(30.0, now), Duration::from_secs(30));
        assert_eq!(reset_to_wait(1_700_000_042.0, now), Duration::from_secs(42));
        assert_eq!(
            reset_to_wait(1_700_000_005_000.0, now),
            Duration::from_secs(5)
        );
        assert_eq!(reset_to_wait(1_600_000_000.0, now), Duration::ZERO);
    }

    #[test]
    fn request_id_order() {
        let mut h = HeaderMap::new();
        h.insert("cf-ray", "ray".parse().unwrap());
        assert_eq!(request_id_from_headers(&h).as_deref(), Some("ray"));
        h.insert("x-routstr-request-id", "rt".parse().unwrap());
        assert_eq!(request_id_from_headers(&h).as_deref(), Some("rt"));
        h.insert("x-request-id", "rq".parse().unwrap());
        assert_eq!(request_id_from_headers(&h).as_deref(), Some("rq"));
    }
}
