//! The client's shared view of the server's rate limit, so that a batch of concurrent
//! requests slows down instead of turning into a storm of 429s and retries.
//!
//! Every response's `X-RateLimit-Remaining` / `X-RateLimit-Reset` (and a 429's `Retry-After`)
//! updates one state shared by all requests of a [`Client`](crate::Client) (its clones
//! included). A request starts only while the window has budget left; when it has none, new
//! requests wait for the window to reset. The budget is counted conservatively: requests
//! already in flight when a response reports `Remaining: n` may not have reached the server
//! yet, so they are taken off `n`. Nothing is paced until a server has sent the headers, so a
//! server without rate-limit headers sees no difference.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use tokio::time::Instant;

use crate::response::reset_to_wait;

/// The wait when a 429 or an exhausted window says no more but not until when.
const UNKNOWN_RESET: Duration = Duration::from_secs(1);
/// Waits longer than this are not taken from the headers (a clock far off, a bad header).
const MAX_PACING_WAIT: Duration = Duration::from_secs(60);

/// Shared rate-limit state of one client.
#[derive(Debug, Default)]
pub(crate) struct Pacer {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Requests left in the current window, less those started since the server said so;
    /// `None` while unknown.
    budget: Option<u64>,
    /// When the current window ends.
    reset_at: Option<Instant>,
    /// No request starts before this (a 429's `Retry-After`).
    hold_until: Option<Instant>,
    /// Requests started and not yet answered.
    in_flight: u64,
}

/// One request's place in the window, given back when the request ends.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    pacer: &'a Pacer,
}

impl Pacer {
    /// Waits until a new request may start, and counts it.
    pub(crate) async fn acquire(&self) -> Permit<'_> {
        loop {
            let wait_until = {
                let mut s = self.lock();
                let now = Instant::now();
                if s.hold_until.is_some_and(|t| t <= now) {
                    s.hold_until = None;
                }
                if s.reset_at.is_some_and(|t| t <= now) {
                    // A new window: unknown until the next response says.
                    s.reset_at = None;
                    s.budget = None;
                }
                match (s.hold_until, s.budget) {
                    (Some(t), _) => Some(t),
                    (None, Some(0)) => Some(*s.reset_at.get_or_insert(now + UNKNOWN_RESET)),
                    (None, budget) => {
                        s.budget = budget.map(|b| b - 1);
                        s.in_flight += 1;
                        None
                    }
                }
            };
            match wait_until {
                Some(t) => tokio::time::sleep_until(t).await,
                None => return Permit { pacer: self },
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Permit<'_> {
    /// Takes in what a response said about the rate limit.
    pub(crate) fn observe(&self, status: StatusCode, headers: &HeaderMap) {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v >= 0.0)
        };
        let now = Instant::now();
        let reset_at = number("x-ratelimit-reset")
            .map(|r| reset_to_wait(r, SystemTime::now()))
            .filter(|w| *w <= MAX_PACING_WAIT)
            .map(|w| now + w);
        let remaining = number("x-ratelimit-remaining").map(|r| r as u64);
        let mut s = self.pacer.lock();
        if let Some(remaining) = remaining {
            // The others in flight may not have been counted yet.
            let others = s.in_flight.saturating_sub(1);
            let budget = remaining.saturating_sub(others);
            let same_window = match (s.reset_at, reset_at) {
                (Some(a), Some(b)) => a.max(b) - a.min(b) < Duration::from_millis(500),
                _ => s.reset_at.is_none() == reset_at.is_none(),
            };
            s.budget = Some(match s.budget {
                Some(b) if same_window => b.min(budget),
                _ => budget,
            });
            if reset_at.is_some() {
                s.reset_at = reset_at;
            }
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            let wait = crate::retry::server_wait(headers, status)
                .filter(|w| *w <= MAX_PACING_WAIT)
                .unwrap_or(UNKNOWN_RESET);
            let until = now + wait;
            s.hold_until = Some(s.hold_until.map_or(until, |t| t.max(until)));
            s.budget = Some(0);
            s.reset_at = Some(s.reset_at.map_or(until, |t| t.max(until)));
        }
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut s = self.pacer.lock();
        s.in_flight = s.in_flight.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[tokio::test(start_paused = true)]
    async fn no_headers_no_pacing() {
        let pacer = Pacer::default();
        let start = Instant::now();
        for _ in 0..1000 {
            let p = pacer.acquire().await;
            p.observe(StatusCode::OK, &HeaderMap::new());
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn an_exhausted_window_waits_for_its_reset() {
        let pacer = Pacer::default();
        let start = Instant::now();
        let p = pacer.acquire().await;
        p.observe(
            StatusCode::OK,
            &headers(&[("x-ratelimit-remaining", "2"), ("x-ratelimit-reset", "3")]),
        );
        drop(p);
        // Two more start at once, the third waits for the reset 3 s later.
        drop(pacer.acquire().await);
        drop(pacer.acquire().await);
        assert_eq!(start.elapsed(), Duration::ZERO);
        drop(pacer.acquire().await);
        assert_eq!(start.elapsed(), Duration::from_secs(3));
        // The new window is unknown again: no pacing until a response says.
        drop(pacer.acquire().await);
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn requests_in_flight_come_off_the_budget() {
        let pacer = Pacer::default();
        let a = pacer.acquire().await;
        let _b = pacer.acquire().await;
        let _c = pacer.acquire().await;
        // a's answer: 2 left, but b and c may not have been counted yet.
        a.observe(
            StatusCode::OK,
            &headers(&[("x-ratelimit-remaining", "2"), ("x-ratelimit-reset", "1")]),
        );
        drop(a);
        let start = Instant::now();
        drop(pacer.acquire().await);
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_holds_every_new_request() {
        let pacer = Pacer::default();
        let p = pacer.acquire().await;
        p.observe(
            StatusCode::TOO_MANY_REQUESTS,
            &headers(&[("retry-after", "2")]),
        );
        drop(p);
        let start = Instant::now();
        drop(pacer.acquire().await);
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn absurd_resets_are_ignored() {
        let pacer = Pacer::default();
        let p = pacer.acquire().await;
        // A Unix timestamp an hour ahead (a clock far off): not slept through.
        let far = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3600;
        p.observe(
            StatusCode::OK,
            &headers(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", &far.to_string()),
            ]),
        );
        drop(p);
        let start = Instant::now();
        drop(pacer.acquire().await);
        assert!(start.elapsed() <= UNKNOWN_RESET, "{:?}", start.elapsed());
    }
}
