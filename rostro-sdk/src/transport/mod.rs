//! The single send path: build the HTTP request once, send it, retry, decode.
//!
//! `prepare` turns a [`Request`] (or a [`ForeignRequest`]) into a request that can be sent
//! any number of times, `send` runs the attempts and retries, `failure` classifies what went
//! wrong, `read` reads and decodes bodies, `redact` and `trace` keep credentials out of
//! errors, `Debug` output and traces.

mod failure;
mod prepare;
mod read;
mod redact;
mod send;
mod trace;

use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::Instrument as _;

use crate::client::Client;
use crate::error::Result;
use crate::request::{OpenBody, Operation, Request};
use crate::response::{Response, ResponseMeta};

pub(crate) use failure::{body_error, root_cause};
pub(crate) use read::read_bounded;
pub(crate) use redact::{mark_sensitive, scrub};

use prepare::{Prepared, prepare, prepare_foreign};
use read::decode;
use trace::{record_target, request_span};

impl Client {
    /// Sends `req` (retrying per the client's policy) and decodes the 2xx JSON body as `T`.
    ///
    /// An empty 2xx body decodes as JSON `null`, so `T = serde_json::Value`, `()` or
    /// `Option<_>` work for endpoints without content. A body that does not match `T` is an
    /// [`Error::Decode`](crate::Error::Decode) naming the failing JSON path.
    pub async fn execute<T: DeserializeOwned>(&self, req: Request) -> Result<Response<T>> {
        let op = req.op;
        let (status, headers, body, attempts) = self.send_buffered(req).await?;
        let meta = ResponseMeta::new(status, headers, attempts);
        let value = decode::<T>(op.id, &body, self.secret()).map_err(|e| e.with_response(&meta))?;
        Ok(Response::new(value, meta))
    }

    /// [`execute`](Self::execute) for callers that keep only the value (the builders'
    /// `send`): the [`ResponseMeta`] is made only for a body that does not decode, whose
    /// error carries it, instead of for every answer.
    pub(crate) async fn execute_value<T: DeserializeOwned>(&self, req: Request) -> Result<T> {
        let op = req.op;
        let (status, headers, body, attempts) = self.send_buffered(req).await?;
        decode::<T>(op.id, &body, self.secret())
            .map_err(|e| e.with_response(&ResponseMeta::new(status, headers, attempts)))
    }

    /// The one buffered send behind both: status, headers, the whole 2xx body and the attempts.
    async fn send_buffered(&self, req: Request) -> Result<(StatusCode, HeaderMap, Bytes, u32)> {
        match self.send(req, true).await? {
            Sent::Buffered {
                status,
                headers,
                body,
                attempts,
            } => Ok((status, headers, body, attempts)),
            Sent::Raw(..) => unreachable!("buffered send returns a buffered response"),
        }
    }

    /// Sends `req` through the same retry path and returns the response as soon as a 2xx
    /// status and headers arrived, for SSE streams and downloads. Retries happen only before
    /// that point; the per-attempt timeout covers only the wait for the headers. A non-2xx
    /// response becomes [`Error::Api`](crate::Error::Api).
    pub async fn execute_raw(&self, req: Request) -> Result<reqwest::Response> {
        Ok(self.execute_raw_counted(req).await?.0)
    }

    /// [`execute_raw`](Self::execute_raw), also returning how many attempts it took to get
    /// the 2xx headers (for a stream's [`ResponseMeta::attempts`]). Crate-private: callers
    /// outside the SDK get attempts from the typed streams' [`ResponseMeta`].
    pub(crate) async fn execute_raw_counted(
        &self,
        req: Request,
    ) -> Result<(reqwest::Response, u32)> {
        match self.send(req, false).await? {
            Sent::Raw(resp, attempts) => Ok((resp, attempts)),
            Sent::Buffered { .. } => unreachable!("raw send returns a raw response"),
        }
    }

    fn secret(&self) -> Option<&str> {
        self.inner.api_key.as_ref().map(|k| k.expose())
    }

    /// One logical request inside its tracing span.
    async fn send(&self, req: Request, buffered: bool) -> Result<Sent> {
        let op = req.op;
        let span = request_span(op);
        // No clock read for a span no subscriber records.
        let start = (!span.is_disabled()).then(Instant::now);
        let result = async {
            let mut prepared = prepare(&self.inner, req)?;
            record_target(&span, &prepared, true, self.secret());
            self.send_inner(&mut prepared, buffered, &span).await
        }
        .instrument(span.clone())
        .await;
        if let Some(start) = start {
            span.record("duration_ms", start.elapsed().as_millis() as u64);
        }
        result
    }

    /// Sends a request to an absolute URL outside the API (a signed upload URL, a CDN
    /// download) through the same retry, wait, tracing, redaction and bounded error-read
    /// path, returning the response once a 2xx status and headers arrived (for streamed
    /// downloads). The client's default headers are not added, except `User-Agent`: the
    /// API key must never reach a third party. The per-attempt timeout covers the
    /// connect and the wait for the headers; the caller bounds the body reads.
    ///
    /// Also returns the attempts made, on failure too, so that a caller retrying after the
    /// headers (a broken download body, a re-signed upload URL) spends the same budget
    /// ([`retry::RetryBudget`]).
    pub(crate) async fn execute_foreign_raw(
        &self,
        req: ForeignRequest,
    ) -> (Result<reqwest::Response>, u32) {
        let (sent, attempts) = self.send_foreign(req, false).await;
        let resp = sent.map(|sent| match sent {
            Sent::Raw(resp, _) => resp,
            Sent::Buffered { .. } => unreachable!("raw send returns a raw response"),
        });
        (resp, attempts)
    }

    async fn send_foreign(&self, req: ForeignRequest, buffered: bool) -> (Result<Sent>, u32) {
        let span = request_span(req.op);
        let start = (!span.is_disabled()).then(Instant::now);
        let mut prepared = prepare_foreign(&self.inner, req);
        // The query of a signed URL is a credential: only origin and path are traced.
        record_target(&span, &prepared, false, self.secret());
        let result = self
            .send_inner(&mut prepared, buffered, &span)
            .instrument(span.clone())
            .await;
        if let Some(start) = start {
            span.record("duration_ms", start.elapsed().as_millis() as u64);
        }
        (result, prepared.attempts)
    }
}

/// A request to an absolute URL outside the API, for [`Client::execute_foreign_raw`].
pub(crate) struct ForeignRequest {
    /// Names the call in errors and traces (its `base` and `path` are not used for the URL).
    pub(crate) op: &'static Operation,
    /// The absolute URL, sent as given.
    pub(crate) url: reqwest::Url,
    /// Headers sent with every attempt (no client defaults besides `User-Agent`).
    pub(crate) headers: HeaderMap,
    /// A replayable body, if any.
    pub(crate) body: Option<Bytes>,
    /// A streamed body, re-opened for every attempt (upload parts), with its length.
    pub(crate) stream: Option<OpenBody>,
    /// Retry limit for this request; the client's when `None`.
    pub(crate) max_retries: Option<u32>,
}

/// What a send hands back: a read body, or the response with only its headers read.
enum Sent {
    Buffered {
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
        attempts: u32,
    },
    /// The response with its headers read, and the number of attempts made.
    Raw(reqwest::Response, u32),
}

/// `now + d`, saturating: any `Duration` (even `Duration::MAX`) is a valid timeout and means
/// "practically never" instead of a panic on `Instant` overflow.
pub(crate) fn deadline_after(d: Duration) -> Instant {
    let now = Instant::now();
    // About 30 years: far beyond any wait, well within every platform's `Instant` range.
    const FAR: Duration = Duration::from_secs(30 * 365 * 86_400);
    now.checked_add(d.min(FAR))
        .or_else(|| now.checked_add(Duration::from_secs(86_400)))
        .unwrap_or(now)
}
