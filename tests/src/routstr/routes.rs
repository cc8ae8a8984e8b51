//! Routing of a Routstr request to its handler.

use super::*;

/// What the front should send.
pub(crate) enum Answer {
    /// A whole response.
    Reply(Reply),
    /// An SSE chat stream (`buffered`: produced whole, then sent).
    Sse {
        plan: Box<ChatPlan>,
        settings: StreamSettings,
        headers: Vec<(String, String)>,
        buffered: bool,
        /// How a buffered stream is replayed.
        replay: Replay,
    },
}

pub(super) const PREFIXES: [&str; 2] = ["/v1/balance", "/v1/wallet"];

/// The `"METHOD /template"` of a Routstr route (for attempt counts and
/// fault rules), `None` for unknown paths.
pub(crate) fn route_key(method: &str, path: &str) -> Option<String> {
    let path = normalize(path);
    let (m, template) = match_route(method, &path)?;
    Some(format!("{m} {template}"))
}

pub(super) fn normalize(path: &str) -> String {
    let p = path.trim_end_matches('/');
    if p.is_empty() { "/".into() } else { p.into() }
}

/// The route a request is for: its method and template, or `None`.
pub(super) fn match_route(method: &str, path: &str) -> Option<(String, String)> {
    let templ = |t: &str| Some((method.to_string(), t.to_string()));
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, path) {
        ("GET", "/" | "/v1/info") => return templ(path),
        ("GET", "/v1/models" | "/v1/providers") => return templ(path),
        ("POST", "/v1/chat/completions" | "/v1/completions") => return templ(path),
        _ => {}
    }
    if method == "GET" && segs.len() == 3 && segs[0] == "v1" && segs[1] == "models" {
        return templ("/v1/models/{model_id}");
    }
    // Lightning, bare or under a balance prefix.
    let rest = PREFIXES
        .iter()
        .find_map(|p| path.strip_prefix(p).filter(|r| r.starts_with("/lightning")))
        .unwrap_or(path);
    let lsegs: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    if method == "POST" && rest == "/lightning/invoice" {
        return Some((method.into(), path.into()));
    }
    if method == "GET"
        && lsegs.len() == 4
        && lsegs[0] == "lightning"
        && lsegs[1] == "invoice"
        && lsegs[3] == "status"
    {
        let prefix = &path[..path.len() - rest.len()];
        return Some((
            method.into(),
            format!("{prefix}/lightning/invoice/{{invoice_id}}/status"),
        ));
    }
    for p in PREFIXES {
        let Some(rest) = path.strip_prefix(p) else {
            continue;
        };
        let ok = matches!(
            (method, rest),
            ("GET", "" | "/info" | "/history" | "/create")
                | ("POST", "/create" | "/topup" | "/refund" | "/child-key")
        );
        if ok {
            return templ(path);
        }
    }
    None
}

pub(super) fn known_path(path: &str) -> bool {
    ["GET", "POST"]
        .iter()
        .any(|m| match_route(m, path).is_some())
}

pub(super) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

pub(super) fn bearer(headers: &HeaderMap) -> Option<String> {
    let auth = header(headers, "authorization")?;
    let key = match auth.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => auth,
    };
    (!key.is_empty()).then(|| key.to_string())
}

/// One buffered request, as the front received it.
pub(crate) struct Incoming<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) query: Option<&'a str>,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
    pub(crate) request_id: &'a str,
}

/// Serves one request in Routstr mode.
pub(crate) fn respond(shared: &Shared, node: &Node, req: Incoming<'_>) -> Answer {
    let path = normalize(req.path);
    let envelope = envelope_of(req.headers);
    let Some((_, template)) = match_route(req.method, &path) else {
        return Answer::Reply(if known_path(&path) {
            Reply::json(405, &json!({"detail": "Method Not Allowed"}))
        } else {
            Reply::json(404, &json!({"detail": "Not Found"}))
        });
    };
    let upstream_error = match injected_error(req.headers, &template, req.request_id, envelope) {
        Ok(upstream_error) => upstream_error,
        Err(answer) => return answer,
    };
    let json_body = match request_json(req.method, req.query, req.body) {
        Ok(v) => v,
        Err(e) => return Answer::Reply(e),
    };
    if let Some(reply) = node_info(shared, node, &template, &path) {
        return Answer::Reply(reply);
    }
    let routed = Routed {
        path: &path,
        template: &template,
        body: &json_body,
        upstream_error,
    };
    match dispatch(shared, node, &req, routed) {
        Ok(a) => a,
        Err(f) => Answer::Reply((*f).reply(req.request_id, envelope)),
    }
}

/// Whether a template is one of the chat routes.
fn is_chat(template: &str) -> bool {
    matches!(template, "/v1/chat/completions" | "/v1/completions")
}

/// The failure a request injects with `x-mock-routstr-error`: `Ok(true)` for an
/// upstream error on a chat route (the chat handler plays it), `Ok(false)` for none,
/// `Err` with the answer for any other kind (an unknown kind is a 400).
fn injected_error(
    headers: &HeaderMap,
    template: &str,
    request_id: &str,
    envelope: Option<Envelope>,
) -> Result<bool, Answer> {
    let Some(kind) = header(headers, "x-mock-routstr-error") else {
        return Ok(false);
    };
    match Fail::injected(kind) {
        Some(f) if f.kind == "upstream_error" && is_chat(template) => Ok(true),
        Some(f) => Err(Answer::Reply((*f).reply(request_id, envelope))),
        None => Err(Answer::Reply(Reply::json(
            400,
            &json!({"detail": format!("x-mock-routstr-error: unknown kind `{kind}`")}),
        ))),
    }
}

/// The request's JSON body; a GET's query parameters join it
/// (`GET /v1/balance/create?initial_balance_token=...`).
fn request_json(method: &str, query: Option<&str>, body: &[u8]) -> Result<Value, Reply> {
    let mut json_body = parse_json_body(body)?;
    if method == "GET" {
        for (k, v) in parse_query(query) {
            if let Some(obj) = json_body.as_object_mut() {
                obj.insert(k, Value::String(v));
            }
        }
    }
    Ok(json_body)
}

/// A request matched to a route: its normalized path, template and JSON body, and
/// whether it carries an injected upstream error.
struct Routed<'a> {
    path: &'a str,
    template: &'a str,
    body: &'a Value,
    upstream_error: bool,
}

/// Runs the route's handler: chat, Lightning or the balance API.
fn dispatch(
    shared: &Shared,
    node: &Node,
    req: &Incoming<'_>,
    routed: Routed<'_>,
) -> Result<Answer, Box<Fail>> {
    let Routed {
        path,
        template,
        body,
        upstream_error,
    } = routed;
    let (method, headers, request_id) = (req.method, req.headers, req.request_id);
    match template {
        "/v1/chat/completions" | "/v1/completions" => {
            let kind = if template == "/v1/completions" {
                ChatKind::Completion
            } else {
                ChatKind::Chat
            };
            chat(
                shared,
                node,
                kind,
                headers,
                body,
                request_id,
                upstream_error,
            )
        }
        t if t.contains("/lightning/invoice") => {
            lightning(node, method, path, headers, body, request_id)
        }
        t => {
            let action = PREFIXES
                .iter()
                .find_map(|p| t.strip_prefix(p))
                .unwrap_or_default();
            balance(node, method, action, headers, body, request_id)
        }
    }
}

/// The node's description, catalog and providers; `None` for other routes.
fn node_info(shared: &Shared, node: &Node, template: &str, path: &str) -> Option<Reply> {
    match template {
        "/" | "/v1/info" => Some(Reply::ok(json!({
            "name": "rostro-mock Routstr node",
            "description": "A mock Routstr node for tests",
            "version": "0.2.0-mock",
            "npub": "npub1rostromock0000000000000000000000000000000000000000000000",
            "mints": [node.config.mint_url],
            "http_url": shared.base_url,
            "onion_url": null,
            "models": node.config.models.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
        }))),
        "/v1/models" => Some(Reply::ok(json!({
            "object": "list",
            "data": node.config.models.iter().map(RoutstrModel::json).collect::<Vec<_>>(),
        }))),
        "/v1/models/{model_id}" => {
            let id = path.rsplit('/').next().unwrap_or_default();
            match node.config.models.iter().find(|m| m.id == id) {
                Some(m) => Some(Reply::ok(m.json())),
                None => Some(Reply::json(404, &json!({"detail": "Model not found"}))),
            }
        }
        "/v1/providers" => Some(Reply::ok(json!({"providers": [{
            "id": "mock-provider-1",
            "name": "rostro-mock sibling node",
            "endpoint_url": "http://sibling.rostro-mock.test",
            "onion_url": null,
            "npub": "npub1siblingmock00000000000000000000000000000000000000000000",
            "mints": [node.config.mint_url],
            "version": "0.2.0-mock",
            "status": "online",
            "models": ["gpt-4o-mini"],
        }]}))),
        _ => None,
    }
}

/// The error envelope a request asks for (`x-mock-routstr-envelope`).
fn envelope_of(headers: &HeaderMap) -> Option<Envelope> {
    match header(headers, "x-mock-routstr-envelope") {
        Some("openai") => Some(Envelope::OpenAi),
        Some("detail_error" | "detail-error") => Some(Envelope::DetailError),
        Some("detail") => Some(Envelope::Detail),
        Some("min_balance" | "min-balance") => Some(Envelope::MinBalance),
        _ => None,
    }
}
