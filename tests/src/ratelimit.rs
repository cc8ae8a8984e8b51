//! The rate limit: `X-RateLimit-Limit`, `-Remaining` and `-Reset` on every response (2xx
//! too, as the API overview documents), and with a [`RateLimit`] set, `429` beyond it.
//!
//! Windows are fixed and aligned on the Unix epoch (a `100/s` window ends on a whole
//! second), counted per mock (not per key). `X-RateLimit-Reset` is the Unix time the window
//! ends, in seconds (with a fraction only for windows that do not end on a whole second).
//! Only requests that are served count; a refused one gets `429` with `Retry-After` (whole
//! seconds, rounded up) and `retry-after-ms` (the exact wait). Without a [`RateLimit`] the
//! headers announce a generous window that is never enforced (faults do that).
//! Chunked-upload part `PUT`s (signed storage URLs, not the API) are not counted.

use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::reply::Reply;
use crate::state::lock;

/// Environment variable read by [`RostroMockBuilder::try_start`](crate::RostroMockBuilder::try_start)
/// when no rate limit was set on the builder (so `rostro --mock` can be limited too), in
/// the [`RateLimit`] syntax: `100/s`, `6000/min`, `10/500ms`.
pub const ENV_RATE_LIMIT: &str = "ROSTRO_MOCK_RATE_LIMIT";

/// Requests per window the mock serves before it answers `429`.
///
/// ```
/// use rostro_mock::RateLimit;
/// use std::time::Duration;
/// let limit: RateLimit = "100/s".parse().unwrap();
/// assert_eq!(limit, RateLimit::new(100, Duration::from_secs(1)).unwrap());
/// assert_eq!(limit.to_string(), "100/s");
/// assert!("0/s".parse::<RateLimit>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    limit: u64,
    window: Duration,
}

impl RateLimit {
    /// `limit` requests per `window`; both must be positive, the window a whole number of
    /// milliseconds (at most a day).
    pub fn new(limit: u64, window: Duration) -> Result<RateLimit, String> {
        if limit == 0 {
            return Err("a rate limit must allow at least 1 request per window".into());
        }
        if window.is_zero()
            || !window.subsec_nanos().is_multiple_of(1_000_000)
            || window.as_secs() > 86_400
        {
            return Err(
                "a rate-limit window must be a whole number of milliseconds, 1 ms to 24 h".into(),
            );
        }
        Ok(RateLimit { limit, window })
    }

    /// Requests per window.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// The window's length.
    pub fn window(&self) -> Duration {
        self.window
    }

    fn window_ms(&self) -> u64 {
        self.window.as_millis() as u64
    }
}

impl FromStr for RateLimit {
    type Err = String;

    /// `N/UNIT` or `N/<count><unit>`: units `ms`, `s`, `min`, `h` (`100/s`, `6000/min`,
    /// `10/500ms`, `300/5s`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("invalid rate limit `{s}`: expected N/PERIOD, e.g. 100/s or 6000/min");
        let (n, per) = s.trim().split_once('/').ok_or_else(bad)?;
        let limit: u64 = n.trim().parse().map_err(|_| bad())?;
        let per = per.trim();
        let digits = per.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let count: u64 = match &per[..digits] {
            "" => 1,
            d => d.parse().map_err(|_| bad())?,
        };
        let unit_ms: u64 = match &per[digits..] {
            "ms" => 1,
            "s" | "sec" | "second" => 1000,
            "m" | "min" | "minute" => 60_000,
            "h" | "hour" => 3_600_000,
            _ => return Err(bad()),
        };
        let ms = count.checked_mul(unit_ms).ok_or_else(bad)?;
        RateLimit::new(limit, Duration::from_millis(ms)).map_err(|e| format!("{}: {e}", bad()))
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.window_ms();
        let (count, unit) = match ms {
            _ if ms.is_multiple_of(3_600_000) => (ms / 3_600_000, "h"),
            _ if ms.is_multiple_of(60_000) => (ms / 60_000, "min"),
            _ if ms.is_multiple_of(1000) => (ms / 1000, "s"),
            _ => (ms, "ms"),
        };
        match count {
            1 => write!(f, "{}/{unit}", self.limit),
            _ => write!(f, "{}/{count}{unit}", self.limit),
        }
    }
}

/// What the headers announce when no limit is enforced: generous, so that a client pacing
/// by them never waits.
const ADVISORY: RateLimit = RateLimit {
    limit: 100_000,
    window: Duration::from_secs(60),
};

/// The `X-RateLimit-*` values of one response.
#[derive(Debug, Clone)]
pub(crate) struct RateHeaders {
    limit: u64,
    remaining: u64,
    reset: String,
}

impl RateHeaders {
    /// The headers, as name/value pairs.
    pub(crate) fn pairs(&self) -> [(&'static str, String); 3] {
        [
            ("x-ratelimit-limit", self.limit.to_string()),
            ("x-ratelimit-remaining", self.remaining.to_string()),
            ("x-ratelimit-reset", self.reset.clone()),
        ]
    }
}

/// The window counter of one mock.
#[derive(Debug)]
pub(crate) struct Limiter {
    /// The enforced limit; `None`: [`ADVISORY`] headers only.
    rule: Option<RateLimit>,
    /// (window number since the epoch, requests served in it).
    window: Mutex<(u64, u64)>,
}

impl Limiter {
    pub(crate) fn new(rule: Option<RateLimit>) -> Limiter {
        Limiter {
            rule,
            window: Mutex::new((0, 0)),
        }
    }

    /// Counts a request that is to be served and returns its headers, or the `429` reply
    /// for one beyond the limit.
    pub(crate) fn admit(&self) -> Result<RateHeaders, Box<Reply>> {
        let rule = self.rule.unwrap_or(ADVISORY);
        let window_ms = rule.window_ms();
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let index = now_ms / window_ms;
        let end_ms = (index + 1) * window_ms;
        let reset = match end_ms % 1000 {
            0 => (end_ms / 1000).to_string(),
            frac => format!("{}.{frac:03}", end_ms / 1000),
        };
        let mut w = lock(&self.window);
        if w.0 != index {
            *w = (index, 0);
        }
        if self.rule.is_some() && w.1 >= rule.limit {
            drop(w);
            let wait_ms = (end_ms - now_ms).max(1);
            let headers = RateHeaders {
                limit: rule.limit,
                remaining: 0,
                reset,
            };
            let mut reply = Reply::user_error(429, "Rate limit exceeded. Please retry later.")
                .header("retry-after", wait_ms.div_ceil(1000).to_string())
                .header("retry-after-ms", wait_ms.to_string());
            for (k, v) in headers.pairs() {
                reply = reply.header(k, v);
            }
            return Err(Box::new(reply));
        }
        w.1 += 1;
        Ok(RateHeaders {
            limit: rule.limit,
            remaining: rule.limit.saturating_sub(w.1),
            reset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        for (text, limit, ms, shown) in [
            ("100/s", 100, 1000, "100/s"),
            (" 6000 / min ", 6000, 60_000, "6000/min"),
            ("10/500ms", 10, 500, "10/500ms"),
            ("300/5s", 300, 5000, "300/5s"),
            ("1/h", 1, 3_600_000, "1/h"),
            ("7/60s", 7, 60_000, "7/min"),
        ] {
            let r: RateLimit = text.parse().unwrap();
            assert_eq!((r.limit(), r.window()), (limit, Duration::from_millis(ms)));
            assert_eq!(r.to_string(), shown);
        }
        for bad in [
            "",
            "100",
            "100/",
            "x/s",
            "100/parsec",
            "0/s",
            "5/0s",
            "-1/s",
            "1/25h",
        ] {
            let e = bad.parse::<RateLimit>().unwrap_err();
            assert!(e.contains("invalid rate limit"), "{bad}: {e}");
        }
        assert!(RateLimit::new(1, Duration::from_micros(1500)).is_err());
    }

    #[test]
    fn refuses_beyond_the_limit_within_a_window() {
        // A window of a day: the test cannot cross its end.
        let limiter = Limiter::new(Some(
            RateLimit::new(3, Duration::from_secs(86_400)).unwrap(),
        ));
        let remaining: Vec<u64> = (0..3).map(|_| limiter.admit().unwrap().remaining).collect();
        assert_eq!(remaining, [2, 1, 0]);
        let reply = limiter.admit().unwrap_err();
        assert_eq!(reply.status, 429);
        let header = |name: &str| {
            reply
                .headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(header("x-ratelimit-remaining").as_deref(), Some("0"));
        assert_eq!(header("x-ratelimit-limit").as_deref(), Some("3"));
        let ms: u64 = header("retry-after-ms").unwrap().parse().unwrap();
        let secs: u64 = header("retry-after").unwrap().parse().unwrap();
        assert!((1..=86_400_000).contains(&ms) && secs == ms.div_ceil(1000));
        // Refusals are not counted: still refused, still 0 left.
        assert!(limiter.admit().is_err());
    }

    #[test]
    fn advisory_headers_are_never_enforced() {
        let limiter = Limiter::new(None);
        for _ in 0..1000 {
            let h = limiter.admit().unwrap();
            assert_eq!(h.limit, ADVISORY.limit);
        }
    }
}
