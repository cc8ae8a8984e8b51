//! One request at the front, in order: request id, control API, route, attempt count,
//! rate limit, latency and faults ([`Front::handle`]), then the key check, streamed
//! uploads, the bounded body read and the answer ([`Front::serve`]).

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::steps::{auth_denial, chat_stream, read_bounded, streaming_upload};
use super::{Abort, Body, Ctx, Front, abort, drain, fault_reply, reply_response};
use crate::faults::Fault;
use crate::handlers::api_key;
use crate::reply::Reply;
use crate::router::{Handler, Resolution, Route};
use crate::state::{Shared, lock};
use crate::util::mix64;

/// A request for the control API (storage part URLs share its prefix but are storage).
fn is_control(path: &str) -> bool {
    path.starts_with(crate::control::CONTROL_PREFIX)
        && !path.starts_with(&format!("{}/", crate::router::PART_PREFIX))
}

/// The control API's answer with the request id; control calls are not recorded.
async fn control_response(
    shared: &Shared,
    method: &str,
    path: &str,
    body: Incoming,
    request_id: &str,
) -> Result<Response<Body>, Abort> {
    let bytes = body.collect().await.map_err(abort)?.to_bytes();
    let mut resp = reply_response(crate::control::handle(shared, method, path, &bytes));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    Ok(resp)
}

/// The document route that serves a request and its path parameters. Routstr mode
/// serves its own routes (crate::routstr), not the document's.
fn route_of<'a>(
    shared: &'a Shared,
    method: &str,
    path: &str,
) -> (Option<&'a Route>, Vec<(String, String)>) {
    if shared.routstr.is_some() {
        return (None, Vec::new());
    }
    match shared.router.resolve(method, path) {
        Resolution::Found { route, params } => (Some(&shared.router.routes[route]), params),
        _ => (None, Vec::new()),
    }
}

/// The key attempts are counted and faults matched under (`METHOD /template`).
fn route_key(shared: &Shared, route: Option<&Route>, method: &str, path: &str) -> Option<String> {
    match shared.routstr {
        Some(_) => crate::routstr::route_key(method, path),
        None => route.map(|r| r.key()),
    }
}

/// Counts one attempt under the route's key, else under the raw method and path.
fn count_attempt(shared: &Shared, route_key: Option<&String>, method: &str, path: &str) {
    *lock(&shared.attempts)
        .entry(
            route_key
                .cloned()
                .unwrap_or_else(|| format!("{method} {path}")),
        )
        .or_default() += 1;
}

impl Front {
    /// Answers one request (see the module docs for the order of the steps).
    pub(super) async fn handle(&self, req: Request<Incoming>) -> Result<Response<Body>, Abort> {
        let shared = &self.shared;
        let (parts, body) = req.into_parts();
        let method = parts.method.as_str().to_ascii_uppercase();
        let path = parts.uri.path().to_string();
        let seq = shared.next_request_seq();
        let request_id = format!("req_{:016x}", mix64(shared.config.seed ^ (seq << 1)));
        if is_control(&path) {
            return control_response(shared, &method, &path, body, &request_id).await;
        }
        let (route, params) = route_of(shared, &method, &path);
        let route_key = route_key(shared, route, &method, &path);
        let fault_template = route_key
            .as_deref()
            .and_then(|k| k.split_once(' '))
            .map(|(_, t)| t.to_string());
        count_attempt(shared, route_key.as_ref(), &method, &path);
        let mut ctx = Ctx {
            request_id,
            method: method.clone(),
            path: path.clone(),
            query: parts.uri.query().map(str::to_string),
            route: route_key,
            headers: parts.headers.clone(),
            api_key: api_key(&parts.headers),
            fault: None,
            rate: None,
        };

        // Storage URLs (part PUTs) are not the API: not limited.
        let storage = route.is_some_and(|r| r.handler == Handler::UploadPart);
        if shared.routstr.is_none() && !storage {
            match shared.limiter.admit() {
                Ok(rate) => ctx.rate = Some(rate),
                Err(reply) => return Ok(self.refuse(ctx, body, || *reply).await),
            }
        }

        if !shared.config.latency.is_zero() {
            tokio::time::sleep(shared.config.latency).await;
        }

        let mut drop_mid_body = false;
        if let Some(fault) = shared.take_fault(&method, &path, fault_template.as_deref()) {
            ctx.fault = Some(fault.label());
            match fault {
                Fault::Delay(d) => tokio::time::sleep(d).await,
                Fault::DropMidBody => drop_mid_body = true,
                Fault::Drop => {
                    self.record(ctx, Bytes::new(), 0, 0);
                    return Err(abort("rostro-mock: injected connection drop"));
                }
                other => return Ok(self.refuse(ctx, body, || fault_reply(&other)).await),
            }
        }
        let request = (parts, body, drop_mid_body);
        self.serve(ctx, request, route, &params).await
    }

    /// Answers without reading the request: its body is drained (and counted) first,
    /// then the reply is made.
    async fn refuse(
        &self,
        ctx: Ctx,
        body: Incoming,
        reply: impl FnOnce() -> Reply,
    ) -> Response<Body> {
        let n = drain(body).await;
        self.finish(ctx, Bytes::new(), n, reply_response(reply()))
    }

    /// The steps after admission: the key check, a streamed upload, else the bounded
    /// body read and the Routstr node's, the SSE chat stream's or wiremock's answer.
    async fn serve(
        &self,
        ctx: Ctx,
        (parts, body, drop_mid_body): (http::request::Parts, Incoming, bool),
        route: Option<&Route>,
        params: &[(String, String)],
    ) -> Result<Response<Body>, Abort> {
        let shared = &self.shared;
        if let Some(route) = route {
            if let Some(msg) = auth_denial(shared, route, ctx.api_key.as_deref()) {
                let denial = || Reply::user_error(401, msg).header("www-authenticate", "Bearer");
                return Ok(self.refuse(ctx, body, denial).await);
            }
            if route.handler.is_streaming_upload() {
                let (received, resp) =
                    streaming_upload(shared, route, params, &parts, body, drop_mid_body).await;
                return Ok(self.finish(ctx, Bytes::new(), received, resp));
            }
        }

        // Buffer the body (bounded) for everything else.
        let bytes = match read_bounded(body, shared.config.max_buffered_body).await? {
            Ok(bytes) => bytes,
            Err(n) => {
                let resp = reply_response(Reply::user_error(413, "Request body too large."));
                return Ok(self.finish(ctx, Bytes::new(), n, resp));
            }
        };
        let len = bytes.len() as u64;

        if let Some(node) = &shared.routstr {
            let answer = crate::routstr::respond(
                shared,
                node,
                crate::routstr::Incoming {
                    method: &ctx.method,
                    path: &ctx.path,
                    query: parts.uri.query(),
                    headers: &parts.headers,
                    body: &bytes,
                    request_id: &ctx.request_id,
                },
            );
            let resp = self.routstr_response(answer).await;
            return Ok(self.finish(ctx, bytes, len, resp));
        }

        if let Some(resp) = chat_stream(shared, route, params, &parts.headers, &bytes) {
            return Ok(self.finish(ctx, bytes, len, resp));
        }

        // Forward to wiremock.
        let resp = self.forward(&parts, &bytes, drop_mid_body).await?;
        Ok(self.finish(ctx, bytes, len, resp))
    }
}
