//! Steps of handling one request at the front: the key check, streamed uploads, the
//! bounded body read and SSE chat answers.

use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderMap, HeaderValue, Response};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Incoming;

use super::{Abort, Body, BoxError, abort, drain, reply_response, truncate};
use crate::chat::{ChatKind, plan, sse_stream, stream_settings};
use crate::reply::parse_json_body;
use crate::router::{Handler, Route};
use crate::spec::AuthRequirement;
use crate::state::Shared;
use crate::uploads;
use crate::util::parse_query;

/// Reads a body of at most `limit` bytes; a longer one is drained and `Err` gives how
/// many bytes came.
pub(super) async fn read_bounded(
    mut body: Incoming,
    limit: usize,
) -> Result<Result<Bytes, u64>, Abort> {
    let mut buf = Vec::new();
    let mut too_large = false;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(abort)?;
        if let Ok(d) = frame.into_data() {
            if buf.len() + d.len() > limit {
                too_large = true;
                break;
            }
            buf.extend_from_slice(&d);
        }
    }
    if too_large {
        return Ok(Err(buf.len() as u64 + drain(body).await));
    }
    Ok(Ok(Bytes::from(buf)))
}

/// The SSE answer of a chat or completion request that asks for `stream: true`; `None`
/// for every other request.
pub(super) fn chat_stream(
    shared: &Shared,
    route: Option<&Route>,
    params: &[(String, String)],
    headers: &HeaderMap,
    bytes: &Bytes,
) -> Option<Response<Body>> {
    let route = route?;
    if !matches!(route.handler, Handler::Chat | Handler::Completions) {
        return None;
    }
    let json = parse_json_body(bytes).ok()?;
    if json.get("stream").and_then(serde_json::Value::as_bool) != Some(true) {
        return None;
    }
    let kind = if route.handler == Handler::Chat {
        ChatKind::Chat
    } else {
        ChatKind::Completion
    };
    let model = params
        .iter()
        .find(|(k, _)| k == "model")
        .map(|(_, v)| v.as_str());
    let result = stream_settings(shared, headers)
        .and_then(|s| plan(shared, kind, &json, model, &s).map(|p| (p, s)));
    Some(match result {
        Err(reply) => reply_response(reply),
        Ok((p, s)) => {
            let stream =
                sse_stream(p, s.scenarios, s.delay).map(|r| r.map_err(|e| Box::new(e) as BoxError));
            let mut resp = Response::new(BodyExt::boxed(StreamBody::new(stream)));
            let h = resp.headers_mut();
            h.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream; charset=utf-8"),
            );
            h.insert(
                http::header::CACHE_CONTROL,
                HeaderValue::from_static("no-cache"),
            );
            resp
        }
    })
}

/// Why a request is refused for its key, if it is: no key where the route needs one
/// (or where every route does, when configured so), or a key the mock does not accept.
pub(super) fn auth_denial(
    shared: &Shared,
    route: &Route,
    api_key: Option<&str>,
) -> Option<&'static str> {
    let required = match route.auth {
        AuthRequirement::None => return None,
        AuthRequirement::Required => true,
        AuthRequirement::Optional => shared.config.require_auth_everywhere,
    };
    match api_key {
        None if required => {
            Some("Not authenticated: send `Authorization: Bearer <key>` or `CH-API-KEY: <key>`.")
        }
        Some(k) if !shared.config.key_is_valid(k) => Some("Invalid API key."),
        _ => None,
    }
}

/// A streamed upload (gallery, multipart or a storage part PUT): the bytes received and
/// the response (cut short when the fault says so).
pub(super) async fn streaming_upload(
    shared: &Shared,
    route: &Route,
    params: &[(String, String)],
    parts: &http::request::Parts,
    body: Incoming,
    drop_mid_body: bool,
) -> (u64, Response<Body>) {
    let query = parse_query(parts.uri.query());
    let key = route.key();
    let streamed = match route.handler {
        Handler::GalleryUpload => {
            uploads::gallery_upload(shared, &key, &query, &parts.headers, body).await
        }
        Handler::UploadPart => uploads::put_part(shared, params, body).await,
        _ => {
            uploads::multipart(
                shared,
                &key,
                &route.template,
                params,
                &query,
                &parts.headers,
                body,
            )
            .await
        }
    };
    let reply_body = streamed.reply.body.clone();
    let mut resp = reply_response(streamed.reply);
    if drop_mid_body {
        resp = truncate(resp, reply_body);
    }
    (streamed.received, resp)
}
