//! The single send path: build the HTTP request once, send it, retry, decode.

use std::borrow::Cow;
use std::mem;
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use tokio::time::{Instant, timeout_at};
use tracing::Instrument as _;
use tracing::field::Empty;

use crate::client::{Client, ClientInner};
use crate::error::{ApiErrorBody, Error, Result, snippet};
use crate::request::{Base, Body, FilePartError, HttpMethod, OpenBody, Operation, Part, Request};
use crate::response::{Response, ResponseMeta, request_id_from_headers};
use crate::retry::{self, MAX_SERVER_WAIT};

const RETRY_COUNT: HeaderName = HeaderName::from_static("x-rostro-retry-count");
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");
const EMPTY_FORM_CONTENT_TYPE: &str = "multipart/form-data; boundary=rostro-empty-form";
const EMPTY_FORM_BODY: &[u8] = b"--rostro-empty-form--\r\n";
/// Error bodies are read up to this size (the rest is dropped with the connection).
const MAX_ERROR_BODY: usize = 256 * 1024;

impl Client {
    /// Sends `req` (retrying per the client's policy) and decodes the 2xx JSON body as `T`.
    ///
    /// An empty 2xx body decodes as JSON `null`, so `T = serde_json::Value`, `()` or
    /// `Option<_>` work for endpoints without content. A body that does not match `T` is an
    /// [`Error::Decode`] naming the failing JSON path.
    pub async fn execute<T: DeserializeOwned>(&self, req: Request) -> Result<Response<T>> {
        let op = req.op;
        let Sent::Buffered {
            status,
            headers,
            body,
            attempts,
        } = self.send(req, true).await?
        else {
            unreachable!("buffered send returns a buffered response")
        };
        let meta = ResponseMeta::new(status, headers, attempts);
        let value = decode::<T>(op.id, &body, self.secret()).map_err(|e| e.with_response(&meta))?;
        Ok(Response::new(value, meta))
    }

    /// Sends `req` through the same retry path and returns the response as soon as a 2xx
    /// status and headers arrived, for SSE streams and downloads. Retries happen only before
    /// that point; the per-attempt timeout covers only the wait for the headers. A non-2xx
    /// response becomes [`Error::Api`].
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
        let start = Instant::now();
        let result = async {
            let mut prepared = prepare(&self.inner, req)?;
            record_target(&span, &prepared, true, self.secret());
            self.send_inner(&mut prepared, buffered, &span).await
        }
        .instrument(span.clone())
        .await;
        span.record("duration_ms", start.elapsed().as_millis() as u64);
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
        let start = Instant::now();
        let mut prepared = prepare_foreign(&self.inner, req);
        // The query of a signed URL is a credential: only origin and path are traced.
        record_target(&span, &prepared, false, self.secret());
        let result = self
            .send_inner(&mut prepared, buffered, &span)
            .instrument(span.clone())
            .await;
        span.record("duration_ms", start.elapsed().as_millis() as u64);
        (result, prepared.attempts)
    }

    async fn send_inner(
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

            let failure = match timeout_at(deadline, inner.http.execute(http_req)).await {
                Err(_) => Failure::Timeout,
                Ok(Err(e)) => Failure::from_reqwest(e),
                Ok(Ok(mut resp)) => {
                    let status = resp.status();
                    span.record("status", status.as_u16());
                    permit.observe(status, resp.headers());
                    if let Some(hook) = &prepared.on_headers {
                        let mut headers = resp.headers().clone();
                        mark_sensitive(&mut headers);
                        hook.call(&ResponseMeta::new(status, headers, attempt));
                    }
                    if status.is_success() {
                        if !buffered {
                            return Ok(Sent::Raw(resp, attempt));
                        }
                        let mut headers = mem::take(resp.headers_mut());
                        mark_sensitive(&mut headers);
                        match timeout_at(deadline, resp.bytes()).await {
                            Ok(Ok(body)) => {
                                return Ok(Sent::Buffered {
                                    status,
                                    headers,
                                    body,
                                    attempts: attempt,
                                });
                            }
                            // The headers arrived: the error keeps them (a Routstr change
                            // token must survive a body that cannot be read).
                            failed => {
                                let inner = match failed {
                                    Ok(Err(e)) => Failure::from_reqwest(e),
                                    _ => Failure::Timeout,
                                };
                                let meta = ResponseMeta::new(status, headers, attempt);
                                Failure::Body(Box::new(inner), Box::new(meta))
                            }
                        }
                    } else {
                        let mut headers = mem::take(resp.headers_mut());
                        mark_sensitive(&mut headers);
                        let wait = retry::server_wait(&headers, status);
                        let body = read_bounded(&mut resp, MAX_ERROR_BODY, deadline).await;
                        let error = api_error(op.id, status, headers, &body, wait, self.secret());
                        Failure::Status {
                            error,
                            retryable: retry::is_retryable_status(status),
                            rejected: retry::is_rejection(status, wait),
                            wait,
                        }
                    }
                }
            };

            let allowed = match &failure {
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
                return Err(failure.into_error(op.id, prepared.timeout));
            }
            let wait = match failure.server_wait() {
                Some(w) if w > MAX_SERVER_WAIT => {
                    return Err(failure.into_error(op.id, prepared.timeout));
                }
                Some(w) if !w.is_zero() => w,
                _ => inner.backoff.delay(retries),
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
}

/// The `rostro.request` span every send runs in.
fn request_span(op: &'static Operation) -> tracing::Span {
    tracing::debug_span!(
        "rostro.request",
        operation = op.id,
        method = op.method.as_str(),
        path = op.path,
        url = Empty,
        credentials = Empty,
        status = Empty,
        attempt = Empty,
        duration_ms = Empty,
    )
}

/// Records what a subscriber may show of the request: its URL (without credentials: no
/// user info, the API key scrubbed, a query only when `with_query`) and the credential
/// headers it carries, by name only (`[Authorization: Bearer ***] [X-Cashu: ***]`).
fn record_target(
    span: &tracing::Span,
    prepared: &Prepared,
    with_query: bool,
    secret: Option<&str>,
) {
    let Some(template) = prepared.template.as_ref().filter(|_| !span.is_disabled()) else {
        return;
    };
    let mut url = template.url().clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_fragment(None);
    if !with_query {
        url.set_query(None);
    }
    span.record(
        "url",
        &*String::from_utf8_lossy(&scrub(url.as_str().as_bytes(), secret)),
    );
    let mut shown = String::new();
    for name in template.headers().keys() {
        if !crate::request::is_sensitive_header(name) {
            continue;
        }
        let display = match name.as_str() {
            "authorization" => match template.headers().get(name).map(HeaderValue::as_bytes) {
                Some(v) if v.len() > 7 && v[..7].eq_ignore_ascii_case(b"bearer ") => {
                    "Authorization: Bearer"
                }
                _ => "Authorization:",
            },
            "ch-api-key" => "CH-API-KEY:",
            "x-cashu" => "X-Cashu:",
            "x-api-key" => "X-API-Key:",
            "cookie" => "Cookie:",
            other => {
                shown.push_str(&format!(" [{other}: ***]"));
                continue;
            }
        };
        shown.push_str(&format!(" [{display} ***]"));
    }
    if !shown.is_empty() {
        span.record("credentials", shown.trim_start());
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

/// Why one attempt failed.
enum Failure {
    Connect(reqwest::Error),
    Timeout,
    Transport(reqwest::Error),
    Status {
        error: Error,
        retryable: bool,
        /// The server refused before processing (see [`retry::is_rejection`]).
        rejected: bool,
        wait: Option<Duration>,
    },
    /// A 2xx response whose body could not be read (`Timeout` or `Transport` inside).
    Body(Box<Failure>, Box<ResponseMeta>),
}

impl Failure {
    fn from_reqwest(e: reqwest::Error) -> Self {
        if e.is_connect() {
            Failure::Connect(e)
        } else if e.is_timeout() {
            Failure::Timeout
        } else {
            Failure::Transport(e)
        }
    }

    fn server_wait(&self) -> Option<Duration> {
        match self {
            Failure::Status { wait, .. } => *wait,
            _ => None,
        }
    }

    /// What retrying after this failure costs from the client's retry budget.
    fn retry_cost(&self) -> u32 {
        match self {
            Failure::Status { rejected: true, .. } => 0,
            Failure::Timeout => crate::pacing::TIMEOUT_RETRY_COST,
            Failure::Body(inner, _) => inner.retry_cost(),
            _ => crate::pacing::RETRY_COST,
        }
    }

    fn reason(&self) -> Cow<'static, str> {
        match self {
            Failure::Connect(_) => "connect error".into(),
            Failure::Timeout => "timeout".into(),
            Failure::Transport(_) => "connection error".into(),
            Failure::Status { error, .. } => match error.status() {
                Some(s) => format!("status {}", s.as_u16()).into(),
                None => "status".into(),
            },
            Failure::Body(inner, _) => inner.reason(),
        }
    }

    fn into_error(self, operation: &'static str, timeout: Duration) -> Error {
        match self {
            Failure::Connect(e) => Error::connect(operation, e),
            Failure::Timeout => Error::Timeout {
                operation,
                timeout,
                response: None,
            },
            Failure::Transport(e) => Error::Transport {
                operation,
                message: root_cause(&e),
                source: e.without_url(),
                response: None,
            },
            Failure::Status { error, .. } => error,
            Failure::Body(inner, meta) => inner.into_error(operation, timeout).with_response(&meta),
        }
    }
}

/// A failure reading a response body after the send path handed it over (a download): the
/// error the send path makes of the same failure.
pub(crate) fn body_error(operation: &'static str, e: reqwest::Error, timeout: Duration) -> Error {
    Failure::from_reqwest(e).into_error(operation, timeout)
}

/// The innermost error message (e.g. `Connection refused (os error 111)`).
pub(crate) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Response headers that carry credentials or money (Routstr change tokens) are hidden from
/// `Debug` output.
pub(crate) fn mark_sensitive(headers: &mut HeaderMap) {
    for name in ["x-cashu", header::SET_COOKIE.as_str()] {
        if let header::Entry::Occupied(mut entry) = headers.entry(name) {
            for value in entry.iter_mut() {
                value.set_sensitive(true);
            }
        }
    }
}

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

/// Shortest API key that is redacted from error text. A shorter key (say `e`) cannot be told
/// apart from ordinary text: replacing it would mangle every message (`valu*** is not ...`)
/// while hiding nothing, since such a key is trivially guessed anyway.
pub(crate) const MIN_REDACTED_SECRET_LEN: usize = 8;

/// Replaces the API key by `***` wherever a server echoed it, byte for byte (nothing else is
/// touched, invalid UTF-8 included).
pub(crate) fn scrub<'a>(text: &'a [u8], secret: Option<&str>) -> Cow<'a, [u8]> {
    let Some(secret) = secret.map(str::as_bytes) else {
        return Cow::Borrowed(text);
    };
    if secret.len() < MIN_REDACTED_SECRET_LEN || !contains(text, secret) {
        return Cow::Borrowed(text);
    }
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = find(rest, secret) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(b"***");
        rest = &rest[at + secret.len()..];
    }
    out.extend_from_slice(rest);
    Cow::Owned(out)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle).is_some()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn api_error(
    operation: &'static str,
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
        status,
        body: Box::new(parsed),
        request_id: request_id_from_headers(&headers).or(body_request_id),
        retry_after,
        headers: Box::new(headers),
    }
}

fn decode<T: DeserializeOwned>(
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

/// A request ready to be sent any number of times.
struct Prepared {
    op: &'static Operation,
    /// URL, headers and (replayable) body; cloned per attempt, moved on the last one.
    template: Option<reqwest::Request>,
    /// Multipart fields, rebuilt per attempt (files re-opened).
    multipart: Option<Vec<(String, Part)>>,
    /// A streamed body, re-opened per attempt.
    stream: Option<OpenBody>,
    timeout: Duration,
    max_retries: u32,
    /// Whether a request that may have reached the server can be sent again.
    replayable: bool,
    /// Called with every response's headers before its body is read.
    on_headers: Option<crate::request::HeadersHook>,
    /// Attempts made so far.
    attempts: u32,
    /// Whether the API's rate limit applies (not to foreign URLs: another server's limit).
    paced: bool,
}

impl Prepared {
    async fn attempt(
        &mut self,
        http: &reqwest::Client,
        retries: u32,
        last: bool,
    ) -> Result<reqwest::Request> {
        let invalid = |message: String| Error::InvalidRequest {
            operation: self.op.id,
            message,
        };
        let mut req = if last {
            self.template.take()
        } else {
            self.template.as_ref().and_then(reqwest::Request::try_clone)
        }
        .ok_or_else(|| invalid("the request body cannot be replayed".into()))?;
        if retries > 0 {
            req.headers_mut()
                .insert(RETRY_COUNT, HeaderValue::from(retries));
        }
        if let Some(open) = &self.stream {
            let (body, len) = open().await.map_err(|source| Error::Io {
                operation: self.op.id,
                path: None,
                source,
            })?;
            if let Some(len) = len {
                req.headers_mut()
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            }
            *req.body_mut() = Some(body);
            return Ok(req);
        }
        let Some(parts) = &self.multipart else {
            return Ok(req);
        };
        let mut form = reqwest::multipart::Form::new().percent_encode_noop();
        for (name, part) in parts {
            let name = crate::request::escape_disposition(name).into_owned();
            form = match part {
                Part::Text(text) => form.text(name, text.clone()),
                Part::File(file) => {
                    let p = file.to_reqwest().await.map_err(|e| match e {
                        FilePartError::InvalidMime => {
                            invalid(format!("invalid content type for multipart field `{name}`"))
                        }
                        FilePartError::Io(source) => Error::Io {
                            operation: self.op.id,
                            path: file.path().map(ToOwned::to_owned),
                            source,
                        },
                    })?;
                    form.part(name, p)
                }
            };
        }
        reqwest::RequestBuilder::from_parts(http.clone(), req)
            .multipart(form)
            .build()
            .map_err(|e| invalid(format!("could not build the multipart body: {e}")))
    }
}

fn prepare_foreign(inner: &ClientInner, req: ForeignRequest) -> Prepared {
    let mut headers = req.headers;
    if let Some(ua) = inner.default_headers.get(header::USER_AGENT)
        && !headers.contains_key(header::USER_AGENT)
    {
        headers.insert(header::USER_AGENT, ua.clone());
    }
    let mut template = reqwest::Request::new(req.op.method.to_reqwest(), req.url);
    *template.headers_mut() = headers;
    if let Some(bytes) = req.body {
        *template.body_mut() = Some(reqwest::Body::from(bytes));
    }
    Prepared {
        op: req.op,
        template: Some(template),
        multipart: None,
        stream: req.stream,
        timeout: inner.timeout,
        max_retries: req.max_retries.unwrap_or(inner.max_retries),
        replayable: req.op.method.is_idempotent(),
        on_headers: None,
        attempts: 0,
        paced: false,
    }
}

fn prepare(inner: &ClientInner, req: Request) -> Result<Prepared> {
    let Request {
        op,
        path,
        query,
        body,
        options,
        invalid,
    } = req;
    let invalid_request = |message: String| Error::InvalidRequest {
        operation: op.id,
        message,
    };
    if let Some(message) = invalid {
        return Err(invalid_request(message));
    }
    if let Some(message) = options.invalid {
        return Err(invalid_request(message));
    }
    if let Some(open) = path.find('{') {
        let name = path[open + 1..].split('}').next().unwrap_or_default();
        return Err(invalid_request(format!("missing path parameter `{name}`")));
    }

    // URL: base without trailing `/` + rendered path + query.
    let base: &str = match op.base {
        Base::Api => &inner.api_base,
        Base::Mimic => &inner.mimic_base,
    };
    let extra_query = options.extra_query_params();
    let extra_len: usize = extra_query.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    let mut url = String::with_capacity(base.len() + path.len() + query.len() + extra_len + 1);
    url.push_str(base);
    url.push_str(&path);
    let mut sep = '?';
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query);
        sep = '&';
    }
    for (name, value) in extra_query {
        url.push(sep);
        sep = '&';
        url.extend(url::form_urlencoded::byte_serialize(name.as_bytes()));
        url.push('=');
        url.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
    }
    let url =
        reqwest::Url::parse(&url).map_err(|e| invalid_request(format!("invalid url: {e}")))?;

    // Body, with extra fields merged into a top-level JSON object.
    let extra_body = options.extra_body_fields();
    let mut multipart = None;
    let mut stream = None;
    let (content_type, bytes) = match body {
        Body::Empty if extra_body.is_empty() => (None, None),
        Body::Empty => {
            let bytes = serde_json::to_vec(extra_body).map_err(|e| {
                invalid_request(format!("could not serialize extra body fields: {e}"))
            })?;
            (Some(APPLICATION_JSON), Some(Bytes::from(bytes)))
        }
        Body::Json(bytes) if extra_body.is_empty() => (Some(APPLICATION_JSON), Some(bytes)),
        Body::Json(bytes) => {
            let bytes =
                crate::codec::merge_json_object(&bytes, extra_body).map_err(invalid_request)?;
            (Some(APPLICATION_JSON), Some(Bytes::from(bytes)))
        }
        Body::Raw(_, _) if !extra_body.is_empty() => {
            return Err(invalid_request(
                "extra body fields cannot be added to a raw body".into(),
            ));
        }
        Body::Raw(ct, bytes) => (Some(ct), Some(bytes)),
        Body::Stream(..) if !extra_body.is_empty() => {
            return Err(invalid_request(
                "extra body fields cannot be added to a streamed body".into(),
            ));
        }
        Body::Stream(ct, open) => {
            stream = Some(open);
            (Some(ct), None)
        }
        Body::Multipart(mut parts) => {
            for (name, value) in extra_body {
                let text = match value {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                parts.push((name.clone(), Part::Text(text)));
            }
            if parts.is_empty() {
                // reqwest sends an empty form as zero bytes, which is not a
                // multipart body; a form without fields still has its closing
                // delimiter (RFC 2046 section 5.1.1).
                (
                    Some(HeaderValue::from_static(EMPTY_FORM_CONTENT_TYPE)),
                    Some(Bytes::from_static(EMPTY_FORM_BODY)),
                )
            } else {
                multipart = Some(parts);
                (None, None)
            }
        }
    };

    // Headers: client defaults < content type < per-call headers < idempotency key.
    let mut headers = inner.default_headers.clone();
    if let Some(ct) = content_type {
        headers.insert(header::CONTENT_TYPE, ct);
    }
    let mut last: Option<HeaderName> = None;
    for (name, value) in options.headers() {
        if last.as_ref() == Some(name) {
            headers.append(name.clone(), value.clone());
        } else {
            headers.insert(name.clone(), value.clone());
            last = Some(name.clone());
        }
    }
    let unsafe_method = matches!(op.method, HttpMethod::Post | HttpMethod::Patch);
    if let Some(key) = options.idempotency_key_value() {
        let value = HeaderValue::from_str(key)
            .map_err(|_| invalid_request("invalid idempotency key".into()))?;
        headers.insert(IDEMPOTENCY_KEY, value);
    } else if unsafe_method
        && options
            .idempotent_retries_override()
            .unwrap_or(inner.idempotent_posts)
        && !headers.contains_key(IDEMPOTENCY_KEY)
    {
        let mut buf = uuid::Uuid::encode_buffer();
        let key = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
        if let Ok(value) = HeaderValue::from_str(key) {
            headers.insert(IDEMPOTENCY_KEY, value);
        }
    }
    let replayable = op.method.is_idempotent() || headers.contains_key(IDEMPOTENCY_KEY);

    let mut template = reqwest::Request::new(op.method.to_reqwest(), url);
    *template.headers_mut() = headers;
    if let Some(bytes) = bytes {
        *template.body_mut() = Some(reqwest::Body::from(bytes));
    }

    Ok(Prepared {
        op,
        template: Some(template),
        multipart,
        stream,
        timeout: options.timeout().unwrap_or(inner.timeout),
        max_retries: options.retry_limit().unwrap_or(inner.max_retries),
        replayable,
        on_headers: options.on_headers().cloned(),
        attempts: 0,
        paced: true,
    })
}
