//! The client's shared view of the server's rate limit, so that a batch of concurrent
//! requests slows down instead of turning into a storm of 429s and retries, and the retry
//! budget that keeps a failing server from being hammered.
//!
//! Every response's `X-RateLimit-Limit` / `-Remaining` / `-Reset` (and a 429's wait) updates
//! one state shared by all requests of a [`Client`](crate::Client) (its clones included). An
//! attempt starts only while the window has budget left; when it has none, new attempts wait
//! for the window to reset. The budget is counted conservatively: requests started after the
//! answered one may not have reached the server yet, so they are taken off its `Remaining`.
//! Nothing is paced until a server has sent the headers, so a server without rate-limit
//! headers sees no difference.
//!
//! The retry budget is a token bucket (as in aws-sdk-rust's standard retry mode): a retry
//! after a failure costs tokens, a success gives some back, and with the bucket empty a
//! failure is returned instead of retried. Rejections (429, 503 with a wait) cost nothing:
//! the server is alive and said when to come back, and the pacing above waits for it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderName};
use tokio::time::Instant;

use crate::response::reset_to_wait;

/// The wait when a 429 or an exhausted window says no more but not until when.
const UNKNOWN_RESET: Duration = Duration::from_secs(1);
/// Waits longer than this are not taken from the headers (a clock far off, a bad header).
const MAX_PACING_WAIT: Duration = Duration::from_secs(60);

/// Default size of the retry budget, in tokens.
pub(crate) const DEFAULT_RETRY_BUDGET: u32 = 500;
/// Tokens a retry after a failure costs (a timeout costs twice this).
pub(crate) const RETRY_COST: u32 = 5;
/// Tokens a retry after a timeout costs.
pub(crate) const TIMEOUT_RETRY_COST: u32 = 10;
/// Tokens a success on the first attempt gives back (a success after a retry gives back
/// [`RETRY_COST`]).
const SUCCESS_REFUND: u32 = 1;

/// Shared rate-limit state and retry budget of one client.
#[derive(Debug)]
pub(crate) struct Pacer {
    /// Whether attempts wait for the rate limit (the budget applies either way).
    pacing: bool,
    /// Capacity of the retry budget; `None`: retries are not budgeted.
    budget_capacity: Option<u32>,
    /// Tokens left in the retry budget.
    tokens: AtomicU32,
    /// Whether a server has sent rate-limit headers or a 429: until then attempts are only
    /// counted, without taking the lock (the common case costs two atomic additions).
    engaged: AtomicBool,
    /// Attempts started so far (each permit's sequence number).
    started: AtomicU64,
    /// Attempts started and not yet finished.
    in_flight: AtomicU64,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Attempts left in the current window, less those started since the server said so;
    /// `None` while unknown.
    budget: Option<u64>,
    /// `X-RateLimit-Limit`, the budget of a fresh window.
    limit: Option<u64>,
    /// The lowest `X-RateLimit-Remaining` seen in the current window: the latest state of
    /// the server's count (answers that report more were counted earlier and are stale).
    floor: Option<u64>,
    /// When the current window ends.
    reset_at: Option<Instant>,
    /// No attempt starts before this (a 429's wait).
    hold_until: Option<Instant>,
}

/// One attempt's place in the window, given back when the attempt ends.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    pacer: &'a Pacer,
    /// The value of `started` when this attempt started.
    seq: u64,
    /// Whether this attempt is a retry (its success refunds the retry's cost).
    retry: bool,
    /// Whether the attempt goes to the API, whose rate limit this is (not a foreign URL).
    paced: bool,
}

impl Pacer {
    /// A pacer; `budget`: the retry budget's capacity in tokens (`None`: unlimited retries).
    pub(crate) fn new(pacing: bool, budget: Option<u32>) -> Pacer {
        Pacer {
            pacing,
            budget_capacity: budget,
            tokens: AtomicU32::new(budget.unwrap_or(0)),
            engaged: AtomicBool::new(false),
            started: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            state: Mutex::new(State::default()),
        }
    }

    /// Waits until a new attempt may start, and counts it. `retry`: a retry of a request;
    /// `paced`: the attempt goes to the API (else it neither waits nor counts).
    pub(crate) async fn acquire(&self, retry: bool, paced: bool) -> Permit<'_> {
        let paced = paced && self.pacing;
        if !paced {
            return Permit {
                pacer: self,
                seq: 0,
                retry,
                paced,
            };
        }
        if !self.engaged.load(Ordering::Acquire) {
            return self.start(retry);
        }
        loop {
            let wait_until = {
                let mut s = self.lock();
                let in_flight = self.in_flight.load(Ordering::Relaxed);
                let wait = s.wait_until(Instant::now(), in_flight);
                if wait.is_none() {
                    s.budget = s.budget.map(|b| b.saturating_sub(1));
                }
                wait
            };
            match wait_until {
                Some(t) => tokio::time::sleep_until(t).await,
                None => return self.start(retry),
            }
        }
    }

    /// Counts a paced attempt that starts now.
    fn start(&self, retry: bool) -> Permit<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        let seq = self.started.fetch_add(1, Ordering::AcqRel) + 1;
        Permit {
            pacer: self,
            seq,
            retry,
            paced: true,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    /// When an attempt starting at `now` must wait until, if it must.
    fn wait_until(&mut self, now: Instant, in_flight: u64) -> Option<Instant> {
        if self.hold_until.is_some_and(|t| t <= now) {
            self.hold_until = None;
        }
        if self.reset_at.is_some_and(|t| t <= now) {
            // A new window: its limit, less what may still land in it, until a response says.
            self.reset_at = None;
            self.floor = None;
            self.budget = self.limit.map(|l| l.saturating_sub(in_flight));
        }
        match (self.hold_until, self.budget) {
            (Some(t), _) => Some(t),
            (None, Some(0)) => Some(*self.reset_at.get_or_insert(now + UNKNOWN_RESET)),
            (None, _) => None,
        }
    }
}

impl Permit<'_> {
    /// Takes in what a response to this attempt said about the rate limit, and refunds the
    /// retry budget on a success.
    pub(crate) fn observe(&self, status: StatusCode, headers: &HeaderMap) {
        let pacer = self.pacer;
        if let Some(capacity) = pacer.budget_capacity
            && status.is_success()
        {
            let refund = if self.retry {
                RETRY_COST
            } else {
                SUCCESS_REFUND
            };
            let _ = pacer
                .tokens
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                    (t < capacity).then(|| t.saturating_add(refund).min(capacity))
                });
        }
        let limited = status == StatusCode::TOO_MANY_REQUESTS;
        if self.paced && (limited || headers.contains_key(&REMAINING)) {
            pacer.engaged.store(true, Ordering::Release);
            let mut s = pacer.lock();
            self.observe_limit(&mut s, limited, headers);
        }
    }

    fn observe_limit(&self, s: &mut State, limited: bool, headers: &HeaderMap) {
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
        if let Some(limit) = number("x-ratelimit-limit") {
            s.limit = Some(limit as u64);
        }
        if let Some(remaining) = number(REMAINING.as_str()).map(|r| r as u64) {
            let same_window = match (s.reset_at, reset_at) {
                (Some(a), Some(b)) => a.max(b) - a.min(b) < Duration::from_millis(500),
                (a, b) => a.is_none() == b.is_none(),
            };
            // The freshest count of the server decides (a minimum over every answer would
            // stick to the most pessimistic one and leave the window part unused). Attempts
            // started after this one may not have been counted yet.
            if !same_window || s.floor.is_none_or(|f| remaining <= f) {
                s.floor = Some(remaining);
                let started = self.pacer.started.load(Ordering::Acquire);
                s.budget = Some(remaining.saturating_sub(started.saturating_sub(self.seq)));
            }
            if reset_at.is_some() {
                s.reset_at = reset_at;
            }
        }
        if limited {
            let wait = crate::retry::server_wait(headers, StatusCode::TOO_MANY_REQUESTS)
                .filter(|w| *w <= MAX_PACING_WAIT)
                .unwrap_or(UNKNOWN_RESET);
            let until = now + wait;
            s.hold_until = Some(s.hold_until.map_or(until, |t| t.max(until)));
            s.budget = Some(0);
            s.floor = Some(0);
            s.reset_at = Some(s.reset_at.map_or(until, |t| t.max(until)));
        }
    }

    /// Whether a retry costing `cost` tokens may be made; takes the tokens if so. Ends the
    /// attempt (its place in the window is given back before the retry's wait).
    pub(crate) fn take_retry(self, cost: u32) -> bool {
        if self.pacer.budget_capacity.is_none() {
            return true;
        }
        self.pacer
            .tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| t.checked_sub(cost))
            .is_ok()
    }
}

const REMAINING: HeaderName = HeaderName::from_static("x-ratelimit-remaining");

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if self.paced {
            self.pacer.in_flight.fetch_sub(1, Ordering::Relaxed);
        }
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

    fn pacer() -> Pacer {
        Pacer::new(true, Some(DEFAULT_RETRY_BUDGET))
    }

    #[tokio::test(start_paused = true)]
    async fn no_headers_no_pacing() {
        let pacer = pacer();
        let start = Instant::now();
        for _ in 0..1000 {
            let p = pacer.acquire(false, true).await;
            p.observe(StatusCode::OK, &HeaderMap::new());
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn an_exhausted_window_waits_for_its_reset() {
        let pacer = pacer();
        let start = Instant::now();
        let p = pacer.acquire(false, true).await;
        p.observe(
            StatusCode::OK,
            &headers(&[("x-ratelimit-remaining", "2"), ("x-ratelimit-reset", "3")]),
        );
        drop(p);
        // Two more start at once, the third waits for the reset 3 s later.
        drop(pacer.acquire(false, true).await);
        drop(pacer.acquire(false, true).await);
        assert_eq!(start.elapsed(), Duration::ZERO);
        drop(pacer.acquire(false, true).await);
        assert_eq!(start.elapsed(), Duration::from_secs(3));
        // The new window's size is unknown (no limit was sent): no pacing until a response says.
        drop(pacer.acquire(false, true).await);
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_window_starts_with_the_limit() {
        let pacer = pacer();
        let start = Instant::now();
        let p = pacer.acquire(false, true).await;
        p.observe(
            StatusCode::OK,
            &headers(&[
                ("x-ratelimit-limit", "2"),
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "1"),
            ]),
        );
        drop(p);
        // Window 2 and 3: two attempts each, then a wait.
        for window in 1..=2 {
            drop(pacer.acquire(false, true).await);
            drop(pacer.acquire(false, true).await);
            assert_eq!(start.elapsed(), Duration::from_secs(window));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_started_later_come_off_the_budget() {
        let pacer = pacer();
        let a = pacer.acquire(false, true).await;
        let _b = pacer.acquire(false, true).await;
        let _c = pacer.acquire(false, true).await;
        // a's answer: 2 left, but b and c (started after a) may not have been counted yet.
        a.observe(
            StatusCode::OK,
            &headers(&[("x-ratelimit-remaining", "2"), ("x-ratelimit-reset", "1")]),
        );
        drop(a);
        let start = Instant::now();
        drop(pacer.acquire(false, true).await);
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_started_earlier_are_taken_as_counted() {
        let pacer = pacer();
        let _a = pacer.acquire(false, true).await;
        let b = pacer.acquire(false, true).await;
        // b's answer: 1 left; a went out first, so the server has counted it.
        b.observe(
            StatusCode::OK,
            &headers(&[("x-ratelimit-remaining", "1"), ("x-ratelimit-reset", "1")]),
        );
        drop(b);
        let start = Instant::now();
        drop(pacer.acquire(false, true).await);
        assert_eq!(start.elapsed(), Duration::ZERO);
        drop(pacer.acquire(false, true).await);
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    /// Headers of a one-second window with `remaining` requests left.
    fn window(remaining: &'static str) -> HeaderMap {
        headers(&[
            ("x-ratelimit-remaining", remaining),
            ("x-ratelimit-reset", "1"),
        ])
    }

    #[tokio::test(start_paused = true)]
    async fn the_freshest_count_decides() {
        let pacer = pacer();
        let a = pacer.acquire(false, true).await;
        let b = pacer.acquire(false, true).await;
        // b overtook a at the server: 9 left after b, 8 after a. a's answer undercounts
        // (b started after a, so it is taken off again: 7) ...
        b.observe(StatusCode::OK, &window("9"));
        a.observe(StatusCode::OK, &window("8"));
        drop((a, b));
        let d = pacer.acquire(false, true).await;
        d.observe(StatusCode::OK, &window("7"));
        drop(d);
        // ... but the next fresh answer corrects it: 7 left, not min(6, 7).
        let start = Instant::now();
        for _ in 0..7 {
            drop(pacer.acquire(false, true).await);
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        drop(pacer.acquire(false, true).await);
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stale_answer_does_not_reopen_the_window() {
        let pacer = pacer();
        let a = pacer.acquire(false, true).await;
        let b = pacer.acquire(false, true).await;
        b.observe(StatusCode::OK, &window("0"));
        // a was counted before b: its answer says more was left then.
        a.observe(StatusCode::OK, &window("5"));
        drop((a, b));
        let start = Instant::now();
        drop(pacer.acquire(false, true).await);
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_holds_every_new_attempt() {
        let pacer = pacer();
        let p = pacer.acquire(false, true).await;
        p.observe(
            StatusCode::TOO_MANY_REQUESTS,
            &headers(&[("retry-after", "2")]),
        );
        drop(p);
        let start = Instant::now();
        drop(pacer.acquire(true, true).await);
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn pacing_off_never_waits() {
        let pacer = Pacer::new(false, None);
        let p = pacer.acquire(false, true).await;
        p.observe(
            StatusCode::TOO_MANY_REQUESTS,
            &headers(&[("retry-after", "2"), ("x-ratelimit-remaining", "0")]),
        );
        drop(p);
        let start = Instant::now();
        drop(pacer.acquire(true, true).await);
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn absurd_resets_are_ignored() {
        let pacer = pacer();
        let p = pacer.acquire(false, true).await;
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
        drop(pacer.acquire(false, true).await);
        assert!(start.elapsed() <= UNKNOWN_RESET, "{:?}", start.elapsed());
    }

    #[tokio::test(start_paused = true)]
    async fn the_retry_budget_drains_and_refills() {
        let pacer = Pacer::new(true, Some(12));
        // Two retries fit, the third does not.
        assert!(pacer.acquire(false, true).await.take_retry(RETRY_COST));
        assert!(pacer.acquire(true, true).await.take_retry(RETRY_COST));
        assert!(!pacer.acquire(true, true).await.take_retry(RETRY_COST));
        // A success after a retry gives the retry's cost back; then one more retry fits.
        pacer
            .acquire(true, true)
            .await
            .observe(StatusCode::OK, &HeaderMap::new());
        assert!(pacer.acquire(false, true).await.take_retry(RETRY_COST));
        // Rejections are free, whatever is left.
        assert!(pacer.acquire(false, true).await.take_retry(0));
        // Never above the capacity.
        for _ in 0..100 {
            pacer
                .acquire(false, true)
                .await
                .observe(StatusCode::OK, &HeaderMap::new());
        }
        assert!(
            pacer
                .acquire(false, true)
                .await
                .take_retry(TIMEOUT_RETRY_COST)
        );
        assert!(
            !pacer
                .acquire(false, true)
                .await
                .take_retry(TIMEOUT_RETRY_COST)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn no_budget_means_unlimited_retries() {
        let pacer = Pacer::new(true, None);
        for _ in 0..1000 {
            assert!(
                pacer
                    .acquire(true, true)
                    .await
                    .take_retry(TIMEOUT_RETRY_COST)
            );
        }
    }
}
