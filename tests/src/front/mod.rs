//! The front listener: the one base URL clients talk to.
//!
//! It assigns `x-request-id`, records requests and per-route attempt counts,
//! applies latency and injected faults, enforces authentication, streams
//! uploads and SSE chat responses itself, and forwards everything else to
//! the wiremock server behind it.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

use crate::chat::sse_stream;
use crate::faults::Fault;
use crate::ratelimit::RateHeaders;
use crate::records::ReceivedRequest;
use crate::reply::Reply;
use crate::state::{Shared, lock};
use crate::util::unix_now;

mod handle;
mod steps;

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub(crate) type Body = BoxBody<Bytes, BoxError>;

/// Ends a connection without a (complete) response.
#[derive(Debug)]
pub(crate) struct Abort(String);

impl std::fmt::Display for Abort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Abort {}

fn abort(e: impl std::fmt::Display) -> Abort {
    Abort(e.to_string())
}

const DRAIN_LIMIT: u64 = 16 * 1024 * 1024;

pub(crate) struct Front {
    shared: Arc<Shared>,
    upstream: String,
    client: Client<HttpConnector, Full<Bytes>>,
}

fn full(bytes: Bytes) -> Body {
    Full::new(bytes).map_err(|never| match never {}).boxed()
}

fn reply_response(reply: Reply) -> Response<Body> {
    // A reply that sets its own `content-length` (a Routstr quirk) gets a body of unknown
    // size, so the header is what goes on the wire.
    let own_length = reply
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-length"));
    let body = if own_length {
        // The pause lets the server flush what was sent before a short body ends the
        // connection.
        let pause = futures::stream::once(tokio::time::sleep(Duration::from_millis(15)))
            .filter_map(|()| async { None::<Result<Frame<Bytes>, BoxError>> });
        let frames = futures::stream::iter([Ok::<_, BoxError>(Frame::data(reply.body))]);
        BodyExt::boxed(StreamBody::new(frames.chain(pause)))
    } else {
        full(reply.body)
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    let headers = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&reply.content_type) {
        headers.insert(http::header::CONTENT_TYPE, v);
    }
    for (k, v) in reply.headers {
        if let (Ok(k), Ok(v)) = (
            http::HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(&v),
        ) {
            headers.append(k, v);
        }
    }
    resp
}

fn fault_reply(fault: &Fault) -> Reply {
    match fault {
        Fault::RateLimited { retry_after } => {
            let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            Reply::user_error(429, "Rate limit exceeded. Please retry later.")
                .header("retry-after", secs.to_string())
                .header("x-ratelimit-limit", "60")
                .header("x-ratelimit-remaining", "0")
                .header("x-ratelimit-reset", (unix_now() + secs).to_string())
        }
        Fault::Status(502) => Reply::bad_gateway_html(),
        Fault::Status(s) if *s >= 500 => Reply::api_error(
            *s,
            StatusCode::from_u16(*s)
                .ok()
                .and_then(|c| c.canonical_reason())
                .unwrap_or("Server Error"),
        ),
        Fault::Status(s) => Reply::user_error(
            *s,
            StatusCode::from_u16(*s)
                .ok()
                .and_then(|c| c.canonical_reason())
                .unwrap_or("Error"),
        ),
        _ => Reply::api_error(500, "Internal Server Error"),
    }
}

async fn drain(mut body: Incoming) -> u64 {
    let mut n = 0u64;
    while n < DRAIN_LIMIT {
        match body.frame().await {
            Some(Ok(f)) => {
                if let Ok(d) = f.into_data() {
                    n += d.len() as u64;
                }
            }
            _ => break,
        }
    }
    n
}

/// Cuts a response body in half and then fails, dropping the connection.
fn truncate(resp: Response<Body>, bytes: Bytes) -> Response<Body> {
    let (mut parts, _) = resp.into_parts();
    let half = bytes.slice(..bytes.len() / 2);
    parts.headers.insert(
        http::header::CONTENT_LENGTH,
        HeaderValue::from(bytes.len() as u64),
    );
    let stream = futures::stream::unfold((0u8, half), |(step, half)| async move {
        match step {
            0 => Some((Ok(Frame::data(half.clone())), (1, half))),
            1 => {
                // Let the server flush the first half before the connection dies.
                tokio::time::sleep(Duration::from_millis(15)).await;
                let err: BoxError = "rostro-mock: connection dropped mid-body".into();
                Some((Err(err), (2, half)))
            }
            _ => None,
        }
    });
    Response::from_parts(parts, BodyExt::boxed(StreamBody::new(stream)))
}

struct Ctx {
    request_id: String,
    method: String,
    path: String,
    query: Option<String>,
    route: Option<String>,
    headers: HeaderMap,
    api_key: Option<String>,
    fault: Option<String>,
    /// The `X-RateLimit-*` headers of the response (none for Routstr nodes and storage
    /// URLs).
    rate: Option<RateHeaders>,
}

impl Front {
    pub(crate) fn new(shared: Arc<Shared>, upstream: String) -> Front {
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build_http();
        Front {
            shared,
            upstream,
            client,
        }
    }

    fn record(&self, ctx: Ctx, body: Bytes, body_len: u64, status: u16) {
        lock(&self.shared.log).push(ReceivedRequest {
            request_id: ctx.request_id,
            method: ctx.method,
            path: ctx.path,
            query: ctx.query,
            route: ctx.route,
            headers: ctx.headers,
            body,
            body_len,
            api_key: ctx.api_key,
            status,
            fault: ctx.fault,
        });
    }

    fn finish(
        &self,
        ctx: Ctx,
        body: Bytes,
        body_len: u64,
        mut resp: Response<Body>,
    ) -> Response<Body> {
        // Routstr nodes send only their own request id header.
        let id_header = if self.shared.routstr.is_some() {
            "x-routstr-request-id"
        } else {
            "x-request-id"
        };
        if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
            resp.headers_mut().insert(id_header, v);
        }
        // The overview documents X-RateLimit-* on every response, not only 429s.
        if let Some(rate) = &ctx.rate
            && !resp.headers().contains_key("x-ratelimit-limit")
        {
            let h = resp.headers_mut();
            for (name, value) in rate.pairs() {
                if let Ok(v) = HeaderValue::from_str(&value) {
                    h.insert(name, v);
                }
            }
        }
        let status = resp.status().as_u16();
        tracing::debug!(
            method = %ctx.method,
            path = %ctx.path,
            status,
            fault = ?ctx.fault,
            request_id = %ctx.request_id,
            "rostro-mock served a request"
        );
        self.record(ctx, body, body_len, status);
        resp
    }

    /// Turns a Routstr answer into a response (an X-Cashu stream is produced
    /// whole, then sent, like routstr-core's buffered replay).
    async fn routstr_response(&self, answer: crate::routstr::Answer) -> Response<Body> {
        let (plan, settings, headers, buffered, replay) = match answer {
            crate::routstr::Answer::Reply(reply) => return reply_response(reply),
            crate::routstr::Answer::Sse {
                plan,
                settings,
                headers,
                buffered,
                replay,
            } => (plan, settings, headers, buffered, replay),
        };
        let stream = sse_stream(*plan, settings.scenarios, settings.delay);
        let mut resp = if buffered {
            let frames: Vec<_> = stream.collect().await;
            let mut buf = Vec::new();
            for frame in frames.into_iter().flatten() {
                if let Ok(d) = frame.into_data() {
                    buf.extend_from_slice(&d);
                }
            }
            crate::routstr::replay_response(buf, replay)
        } else {
            let stream = stream.map(|r| r.map_err(|e| Box::new(e) as BoxError));
            Response::new(BodyExt::boxed(StreamBody::new(stream)))
        };
        let h = resp.headers_mut();
        h.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream; charset=utf-8"),
        );
        h.insert(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        );
        for (k, v) in headers {
            if let (Ok(k), Ok(v)) = (
                http::HeaderName::from_bytes(k.as_bytes()),
                HeaderValue::from_str(&v),
            ) {
                h.append(k, v);
            }
        }
        resp
    }

    /// Sends the request on to the wiremock server behind the front, and its answer back
    /// (cut short when the fault says so).
    async fn forward(
        &self,
        parts: &http::request::Parts,
        bytes: &Bytes,
        drop_mid_body: bool,
    ) -> Result<Response<Body>, Abort> {
        let pq = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        let mut builder = Request::builder()
            .method(parts.method.clone())
            .uri(format!("{}{}", self.upstream, pq));
        for (k, v) in &parts.headers {
            if k != http::header::HOST
                && k != http::header::CONNECTION
                && k != http::header::TRANSFER_ENCODING
                && k != http::header::CONTENT_LENGTH
            {
                builder = builder.header(k, v);
            }
        }
        let upstream_req = builder.body(Full::new(bytes.clone())).map_err(abort)?;
        Ok(match self.client.request(upstream_req).await {
            Ok(r) => {
                let (mut rparts, rbody) = r.into_parts();
                let rbytes = rbody.collect().await.map_err(abort)?.to_bytes();
                rparts.headers.remove(http::header::TRANSFER_ENCODING);
                rparts.headers.remove(http::header::CONNECTION);
                let resp = Response::from_parts(rparts, full(rbytes.clone()));
                if drop_mid_body {
                    truncate(resp, rbytes)
                } else {
                    resp
                }
            }
            Err(e) => reply_response(Reply::api_error(
                502,
                &format!("rostro-mock: wiremock backend unreachable: {e}"),
            )),
        })
    }
}

/// Accepts connections until the task is aborted.
pub(crate) async fn run(listener: TcpListener, front: Arc<Front>) {
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let front = front.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let front = front.clone();
                async move {
                    match &front.shared.sandbox {
                        Some(sandbox) => {
                            sandbox.transaction(&front.shared, front.handle(req)).await
                        }
                        None => front.handle(req).await,
                    }
                }
            });
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
