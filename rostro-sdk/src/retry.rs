//! Retry policy: which failures are retried, and how long to wait.
//!
//! * Retried: connection errors, timeouts, broken connections, 408, 409, 429 and 5xx.
//! * Rejections — a `429`, or a `503` with a wait (`Retry-After`, `retry-after-ms`) — say the
//!   server refused the request before processing it, so they are retried for every method,
//!   POST chat included, after the wait the server asked for.
//! * Everything else is retried for GET/PUT/DELETE/HEAD; for POST/PATCH only when the request
//!   provably never reached the server (connect error) or when it carries an
//!   `Idempotency-Key` (set per call, or generated for every POST/PATCH with
//!   [`ClientBuilder::idempotent_posts`](crate::ClientBuilder::idempotent_posts)): a 500, 502,
//!   504, a reset or a timeout may come after the server acted, and a repeat could act twice.
//! * Wait: what the server asked for (`retry-after-ms`, then `Retry-After` in seconds or as an
//!   HTTP date, then on a 429 `X-RateLimit-Reset`), else `min(initial * 2^n, max)` scaled by a
//!   random 75-100 % jitter (defaults 0.5 s and 8 s).
//! * A server-asked wait above [`MAX_SERVER_WAIT`] is not retried: the error is returned with
//!   `retry_after` set.
//! * At most [`ClientBuilder::max_retries`](crate::ClientBuilder::max_retries) retries
//!   (default 2: three attempts). Streams are retried only until their response starts.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::response::reset_to_wait;

/// Longest server-requested wait the client sleeps through before retrying (60 s).
pub const MAX_SERVER_WAIT: Duration = Duration::from_secs(60);

/// Default first backoff delay.
pub(crate) const DEFAULT_INITIAL_DELAY: Duration = Duration::from_millis(500);
/// Default backoff cap.
pub(crate) const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(8);

/// Backoff parameters of a client.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Backoff {
    pub(crate) initial: Duration,
    pub(crate) max: Duration,
}

impl Backoff {
    /// Delay before retry number `retry` (0-based): `min(initial * 2^retry, max)` times a
    /// random factor in `(0.75, 1.0]`.
    pub(crate) fn delay(&self, retry: u32) -> Duration {
        let exp = self
            .initial
            .saturating_mul(1u32 << retry.min(20))
            .min(self.max);
        let factor = 1.0 - 0.25 * rand::random::<f64>();
        // `mul_f64` panics when the product overflows (a `Duration::MAX` delay): saturate.
        Duration::try_from_secs_f64(exp.as_secs_f64() * factor).unwrap_or(exp)
    }
}

/// The retries of one logical transfer, shared between the send path (failures before the
/// response headers, see [`Client::execute_foreign_raw`](crate::Client::execute_foreign_raw))
/// and the caller (failures after them: a body cut short, a part whose signed URL expired).
/// Those later failures cannot be retried inside the send path, which hands the response
/// over once its headers arrived; the budget keeps the whole transfer at `max + 1` attempts
/// with the client's one backoff, instead of a second retry loop with its own count.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RetryBudget {
    max: u32,
    used: u32,
}

impl RetryBudget {
    /// A budget of `max` retries.
    pub(crate) fn new(max: u32) -> Self {
        RetryBudget { max, used: 0 }
    }

    /// Retries not spent yet: the `max_retries` of the next send.
    pub(crate) fn remaining(&self) -> u32 {
        self.max.saturating_sub(self.used)
    }

    /// Counts the retries a send made (`attempts - 1`).
    pub(crate) fn spend_send(&mut self, attempts: u32) {
        self.used = self.used.saturating_add(attempts.saturating_sub(1));
    }

    /// Takes one retry for a failure after the headers: the backoff to wait before it, or
    /// `None` when the budget is spent.
    pub(crate) fn next_wait(&mut self, backoff: &Backoff) -> Option<Duration> {
        if self.used >= self.max {
            return None;
        }
        let wait = backoff.delay(self.used);
        self.used += 1;
        Some(wait)
    }
}

/// Statuses worth retrying: 408, 409, 429 and every 5xx.
pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 409 | 429) || status.is_server_error()
}

/// Whether `status` is a refusal before processing: a 429, or a 503 that says when to come
/// back. Safe to repeat for any method.
pub(crate) fn is_rejection(status: StatusCode, wait: Option<Duration>) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::SERVICE_UNAVAILABLE && wait.is_some())
}

/// The wait the server asked for, in this order: `retry-after-ms` (milliseconds, OpenAI
/// style), `Retry-After` (seconds or an HTTP date), and for a 429 only `X-RateLimit-Reset`
/// (interpreted by [`reset_to_wait`]: seconds to wait, or a Unix timestamp).
pub(crate) fn server_wait(headers: &HeaderMap, status: StatusCode) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let secs = |s: &str| s.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0);
    if let Some(ms) = text("retry-after-ms").and_then(secs) {
        return Some(Duration::try_from_secs_f64(ms / 1000.0).unwrap_or(Duration::MAX));
    }
    if let Some(value) = text("retry-after") {
        if let Some(s) = secs(value) {
            return Some(Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX));
        }
        if let Ok(at) = httpdate::parse_http_date(value) {
            return Some(
                at.duration_since(SystemTime::now())
                    .unwrap_or(Duration::ZERO),
            );
        }
    }
    if status == StatusCode::TOO_MANY_REQUESTS
        && let Some(reset) = text("x-ratelimit-reset").and_then(secs)
    {
        return Some(reset_to_wait(reset, SystemTime::now()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_and_jittered() {
        let b = Backoff {
            initial: DEFAULT_INITIAL_DELAY,
            max: DEFAULT_MAX_DELAY,
        };
        for n in 0..40 {
            let d = b.delay(n);
            let full = (Duration::from_millis(500) * 2u32.pow(n.min(5))).min(DEFAULT_MAX_DELAY);
            assert!(d <= full && d >= full.mul_f64(0.75), "{n}: {d:?}");
        }
    }

    #[test]
    fn a_budget_is_shared_by_sends_and_later_retries() {
        let b = Backoff {
            initial: Duration::from_millis(1),
            max: Duration::from_millis(1),
        };
        let mut budget = RetryBudget::new(3);
        budget.spend_send(2);
        assert_eq!(budget.remaining(), 2);
        assert!(budget.next_wait(&b).is_some());
        budget.spend_send(1);
        assert_eq!(budget.remaining(), 1);
        assert!(budget.next_wait(&b).is_some());
        assert_eq!(budget.remaining(), 0);
        assert!(budget.next_wait(&b).is_none());
        budget.spend_send(5);
        assert_eq!(budget.remaining(), 0);
    }

    #[test]
    fn huge_delays_saturate() {
        let b = Backoff {
            initial: Duration::MAX,
            max: Duration::MAX,
        };
        for n in 0..200 {
            assert!(b.delay(n) >= Duration::MAX.mul_f64(0.7), "{n}");
        }
    }

    #[test]
    fn server_wait_headers() {
        let mut h = HeaderMap::new();
        assert_eq!(server_wait(&h, StatusCode::TOO_MANY_REQUESTS), None);
        h.insert("x-ratelimit-reset", "7".parse().unwrap());
        assert_eq!(
            server_wait(&h, StatusCode::SERVICE_UNAVAILABLE),
            None,
            "reset only counts on 429"
        );
        assert_eq!(
            server_wait(&h, StatusCode::TOO_MANY_REQUESTS),
            Some(Duration::from_secs(7))
        );
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(
            server_wait(&h, StatusCode::TOO_MANY_REQUESTS),
            Some(Duration::from_secs(2))
        );
        h.insert("retry-after-ms", "150".parse().unwrap());
        assert_eq!(
            server_wait(&h, StatusCode::TOO_MANY_REQUESTS),
            Some(Duration::from_millis(150))
        );
        let mut h = HeaderMap::new();
        let later = SystemTime::now() + Duration::from_secs(120);
        h.insert(
            "retry-after",
            httpdate::fmt_http_date(later).parse().unwrap(),
        );
        let w = server_wait(&h, StatusCode::SERVICE_UNAVAILABLE).unwrap();
        assert!(w > Duration::from_secs(100) && w <= Duration::from_secs(120));
    }
}
