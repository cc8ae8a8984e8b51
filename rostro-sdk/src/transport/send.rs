//! The attempts of one request: send, read or classify the answer, decide whether to retry.

use std::future::{Future, poll_fn};
use std::mem;
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::Duration;

use reqwest::StatusCode;
use tokio::time::{Instant, Sleep, sleep_until};

use super::failure::Failure;
use super::read::{api_error, read_bounded};
use super::{Prepared, Sent, deadline_after, mark_sensitive};
use crate::client::Client;
use crate::error::Result;
use crate::pacing::Permit;
use crate::request::Operation;
use crate::response::ResponseMeta;
use crate::retry::{self, MAX_SERVER_WAIT};

/// Error bodies are read up to this size (the rest is dropped with the connection).
const MAX_ERROR_BODY: usize = 256 * 1024;

impl Client {
    pub(super) async fn send_inner(
        &self,
        prepared: &mut Prepared,
        buffered: bool,
        span: &tracing::Span,
    ) -> Result<Sent> {
        let inner = &*self.inner;
        let op = prepared.op;
        let mut retries: u32 = 0;
        loop {
            let attempt = retries + 1;
            prepared.attempts = attempt;
            span.record("attempt", attempt);
            let last = retries >= prepared.max_retries;
            let http_req = prepared.attempt(&inner.http, retries, last).await?;
            let permit = inner.pacer.acquire(retries > 0, prepared.paced).await;
            let deadline = deadline_after(prepared.timeout);
            // One timer for the headers and the body of this attempt.
            let mut timer = pin!(sleep_until(deadline));

            let failure = match before(timer.as_mut(), inner.http.execute(http_req)).await {
                None => Failure::Timeout,
                Some(Err(e)) => Failure::from_reqwest(e),
                Some(Ok(resp)) => {
                    let status = resp.status();
                    span.record("status", status.as_u16());
                    permit.observe(status, resp.headers());
                    if let Some(hook) = &prepared.on_headers {
                        let mut headers = resp.headers().clone();
                        mark_sensitive(&mut headers);
                        hook.call(&ResponseMeta::new(status, headers, attempt));
                    }
                    let read = if status.is_success() {
                        read_success(resp, status, buffered, attempt, timer).await
                    } else {
                        Err(self.read_failure(op, resp, status, deadline).await)
                    };
                    match read {
                        Ok(sent) => return Ok(sent),
                        Err(failure) => failure,
                    }
                }
            };

            let Some(wait) = self.retry_wait(prepared, &failure, permit, retries, last) else {
                return Err(failure.into_error(op.id, prepared.timeout));
            };
            tracing::debug!(
                operation = op.id,
                attempt,
                reason = %failure.reason(),
                wait_ms = wait.as_millis() as u64,
                "retrying rostro request"
            );
            tokio::time::sleep(wait).await;
            retries += 1;
        }
    }

    /// A non-2xx response: the API error made of its headers and bounded body, and whether
    /// and when it may be retried.
    async fn read_failure(
        &self,
        op: &'static Operation,
        mut resp: reqwest::Response,
        status: StatusCode,
        deadline: Instant,
    ) -> Failure {
        let path = Some(resp.url().path().to_owned());
        let mut headers = mem::take(resp.headers_mut());
        mark_sensitive(&mut headers);
        let wait = retry::server_wait(&headers, status);
        let body = read_bounded(&mut resp, MAX_ERROR_BODY, deadline).await;
        let error = api_error(op.id, path, status, headers, &body, wait, self.secret());
        Failure::Status {
            error,
            retryable: retry::is_retryable_status(status),
            rejected: retry::is_rejection(status, wait),
            wait,
        }
    }

    /// How long to wait before the next attempt, or `None` when `failure` is final: the
    /// last attempt, not safe to repeat, out of retry budget, or a server wait too long.
    fn retry_wait(
        &self,
        prepared: &Prepared,
        failure: &Failure,
        permit: Permit<'_>,
        retries: u32,
        last: bool,
    ) -> Option<Duration> {
        let allowed = match failure {
            // Nothing reached the server: safe to repeat for any method.
            Failure::Connect(_) => true,
            // A rejection (429, 503 + Retry-After) was not processed: any method.
            Failure::Status {
                retryable,
                rejected,
                ..
            } => *rejected || (*retryable && prepared.replayable),
            Failure::Timeout | Failure::Transport(_) | Failure::Body(..) => prepared.replayable,
        };
        if last || !allowed || !permit.take_retry(failure.retry_cost()) {
            return None;
        }
        match failure.server_wait() {
            Some(w) if w > MAX_SERVER_WAIT => None,
            Some(w) if !w.is_zero() => Some(w),
            _ => Some(self.inner.backoff.delay(retries)),
        }
    }
}

/// Polls `fut` until it completes or `timer` fires: `None` on time-out. The future is
/// polled first, so an answer that is ready wins over a deadline that passed meanwhile (as
/// with `tokio::time::timeout_at`, which makes a timer of its own on every call).
async fn before<F: Future>(mut timer: Pin<&mut Sleep>, fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    poll_fn(|cx| {
        if let Poll::Ready(out) = fut.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        timer.as_mut().poll(cx).map(|()| None)
    })
    .await
}

/// A 2xx response: handed over once its headers arrived, or with its body read before
/// `timer` fires when `buffered`.
async fn read_success(
    mut resp: reqwest::Response,
    status: StatusCode,
    buffered: bool,
    attempt: u32,
    timer: Pin<&mut Sleep>,
) -> std::result::Result<Sent, Failure> {
    if !buffered {
        return Ok(Sent::Raw(resp, attempt));
    }
    let mut headers = mem::take(resp.headers_mut());
    mark_sensitive(&mut headers);
    match before(timer, resp.bytes()).await {
        Some(Ok(body)) => Ok(Sent::Buffered {
            status,
            headers,
            body,
            attempts: attempt,
        }),
        // The headers arrived: the error keeps them (a Routstr change
        // token must survive a body that cannot be read).
        failed => {
            let inner = match failed {
                Some(Err(e)) => Failure::from_reqwest(e),
                _ => Failure::Timeout,
            };
            let meta = ResponseMeta::new(status, headers, attempt);
            Err(Failure::Body(Box::new(inner), Box::new(meta)))
        }
    }
}
