//! wiremock responders: one per route, dispatching to the stateful handlers
//! or serving the document's example; plus the 404/405 fallback.

use std::sync::Arc;

use serde_json::{Value, json};
use wiremock::{Respond, ResponseTemplate};

use crate::catalog::Params;
use crate::chat::{ChatKind, plan, stream_settings};
use crate::imagine;
use crate::reply::{Reply, parse_json_body};
use crate::router::{Handler, Resolution, split_path};
use crate::state::{SearchEnvelope, Shared};
use crate::uploads;
use crate::util::parse_query;

/// Extracts the API key from `Authorization` (`Bearer <k>` or `<k>`),
/// `CH-API-KEY` or `samwise`.
pub(crate) fn api_key(headers: &http::HeaderMap) -> Option<String> {
    let get = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    if let Some(auth) = get("authorization") {
        let key = match auth.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ if auth.eq_ignore_ascii_case("bearer") => "",
            _ => auth,
        };
        if !key.is_empty() {
            return Some(key.to_string());
        }
    }
    get("ch-api-key")
        .or_else(|| get("samwise"))
        .map(str::to_string)
}

/// Serves one route inside wiremock.
pub(crate) struct RouteResponder {
    pub(crate) shared: Arc<Shared>,
    pub(crate) index: usize,
}

impl Respond for RouteResponder {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        dispatch(&self.shared, self.index, request).into_template()
    }
}

/// Lowest-priority responder: 405 when the path exists for another method,
/// else the API's 404 UserError.
pub(crate) struct FallbackResponder {
    pub(crate) shared: Arc<Shared>,
}

impl Respond for FallbackResponder {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        match self
            .shared
            .router
            .resolve(request.method.as_str(), request.url.path())
        {
            Resolution::MethodNotAllowed(allowed) => Reply::user_error(405, "Method Not Allowed")
                .header("allow", allowed.join(", "))
                .into_template(),
            _ => Reply::user_error(404, "Not Found").into_template(),
        }
    }
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn with_body(body: &[u8], f: impl FnOnce(Value) -> Reply) -> Reply {
    match parse_json_body(body) {
        Ok(v) => f(v),
        Err(e) => e,
    }
}

/// True when the request carries a body meant as JSON (a JSON content type,
/// or none at all).
fn sent_json(request: &wiremock::Request) -> bool {
    if request.body.is_empty() {
        return false;
    }
    match request
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
    {
        None => true,
        Some(ct) => ct.to_ascii_lowercase().contains("json"),
    }
}

pub(crate) fn dispatch(shared: &Shared, index: usize, request: &wiremock::Request) -> Reply {
    let route = &shared.router.routes[index];
    let params = route
        .match_path(&split_path(request.url.path()))
        .unwrap_or_default();
    let query = parse_query(request.url.query());
    let key = route.key();
    match route.handler {
        // A body that is not JSON gets FastAPI's 422, as the API answers
        // (multipart and other declared non-JSON bodies are left alone).
        Handler::Example if sent_json(request) => match parse_json_body(&request.body) {
            Ok(_) => example(shared, index),
            Err(e) => e,
        },
        Handler::Example => example(shared, index),
        Handler::Search => with_body(&request.body, |body| {
            search(shared, &query, &body, &request.headers)
        }),
        Handler::Project => project(shared, &params),
        Handler::Minisearch => with_body(&request.body, |body| minisearch(shared, &query, &body)),
        Handler::Tags => with_body(&request.body, |body| {
            let mut p = Params::from_query(&query);
            p.merge_json(&body);
            match shared.catalog.tags(&p) {
                Ok(v) => Reply::ok(v),
                Err(e) => e,
            }
        }),
        Handler::Chat | Handler::Completions => with_body(&request.body, |body| {
            let kind = if route.handler == Handler::Chat {
                ChatKind::Chat
            } else {
                ChatKind::Completion
            };
            let settings = match stream_settings(shared, &request.headers) {
                Ok(s) => s,
                Err(e) => return e,
            };
            match plan(shared, kind, &body, param(&params, "model"), &settings) {
                Ok(p) => Reply::ok(p.response_json()),
                Err(e) => e,
            }
        }),
        Handler::Models => models(shared, &params),
        // The reference leaves the answer open; the guide shows `username` and `credits`.
        Handler::Account => Reply::ok(json!({
            "id": "1",
            "username": crate::created::OWNER,
            "name": "Mock User",
            "credits": 500,
            "subscription": "None",
        })),
        Handler::Imagine => with_body(&request.body, |body| {
            imagine::imagine(shared, &key, &query, &body, &request.headers)
        }),
        Handler::ImagineCheck => {
            with_body(&request.body, |body| imagine::check(shared, &body, false))
        }
        Handler::Check => with_body(&request.body, |body| imagine::check(shared, &body, true)),
        Handler::ImagineHistory => with_body(&request.body, |body| imagine::history(shared, &body)),
        Handler::ImagineHistoryDelete => {
            with_body(&request.body, |body| imagine::delete(shared, &body))
        }
        Handler::ImagineProject => imagine::project(shared, param(&params, "uuid").unwrap_or("")),
        Handler::Typed(t) => with_body(&request.body, |body| {
            match imagine::create(shared, &key, Some(t), &body, &request.headers) {
                Ok(rec) => {
                    Reply::ok(json!({"generation_uuid": rec.generation_uuid, "cost": rec.cost}))
                }
                Err(e) => e,
            }
        }),
        Handler::GalleryList => uploads::gallery_list(shared, param(&params, "project_id"), &query),
        Handler::GalleryDelete => {
            uploads::gallery_delete(shared, param(&params, "uuid").unwrap_or(""))
        }
        Handler::UploadStart => with_body(&request.body, |body| uploads::start(shared, &body)),
        Handler::UploadUrls => with_body(&request.body, |body| uploads::signed_urls(shared, &body)),
        Handler::UploadComplete => {
            with_body(&request.body, |body| uploads::complete(shared, &key, &body))
        }
        Handler::Media => uploads::media(shared, param(&params, "file").unwrap_or("")),
        Handler::LoreItems => crate::records::lore_items(shared),
        Handler::LoreRemove => crate::records::lore_remove(
            shared,
            param(&params, "owner_id").unwrap_or(""),
            param(&params, "uuid").unwrap_or(""),
        ),
        Handler::Personas if request.method.as_str() == "GET" => {
            crate::records::personas_list(shared)
        }
        Handler::Personas => with_body(&request.body, |body| {
            crate::records::persona_save(shared, None, &body)
        }),
        Handler::Persona => {
            let id = param(&params, "persona_id").unwrap_or("");
            if request.method.as_str() == "DELETE" {
                crate::records::persona_delete(shared, id)
            } else {
                with_body(&request.body, |body| {
                    crate::records::persona_save(shared, Some(id), &body)
                })
            }
        }
        Handler::ProjectCreate(space) => with_body(&request.body, |body| {
            crate::created::create_project(shared, space, &body)
        }),
        Handler::ProjectUpdate => with_body(&request.body, |body| {
            let path = format!(
                "{}/{}",
                param(&params, "username").unwrap_or_default(),
                param(&params, "pathname").unwrap_or_default()
            );
            crate::created::update_project(shared, param(&params, "project_id"), &path, &body)
        }),
        Handler::LorebookLink => crate::created::link_lorebook(
            shared,
            &format!(
                "{}/{}",
                param(&params, "username").unwrap_or_default(),
                param(&params, "pathname").unwrap_or_default()
            ),
            param(&params, "project_id").unwrap_or(""),
            request.method.as_str() == "POST",
        ),
        Handler::Chats if request.method.as_str() == "GET" => {
            crate::created::list_chats(shared, &query)
        }
        Handler::Chats => with_body(&request.body, |body| {
            crate::created::create_chat(shared, &body)
        }),
        Handler::ChatById => {
            let id = param(&params, "chat_id").unwrap_or("");
            if request.method.as_str() == "DELETE" {
                crate::created::delete_chat(shared, id)
            } else {
                crate::created::get_chat(shared, id)
            }
        }
        Handler::ChatMessages => with_body(&request.body, |body| {
            crate::created::add_messages(shared, param(&params, "chat_id").unwrap_or(""), &body)
        }),
        Handler::GalleryUpload | Handler::MultipartUpload | Handler::UploadPart => {
            Reply::api_error(
                500,
                "Uploads are streamed by the mock's front listener; send them to RostroMock::uri().",
            )
        }
    }
}

/// `GET /search` (and its POST form): a catalog page in the configured (or asked) envelope.
fn search(
    shared: &Shared,
    query: &[(String, String)],
    body: &Value,
    headers: &wiremock::http::HeaderMap,
) -> Reply {
    let mut p = Params::from_query(query);
    p.merge_json(body);
    match shared.catalog.search(&p) {
        Ok(page) => {
            let v = page.to_json(&shared.base_url);
            let envelope = match headers.get("x-mock-envelope").and_then(|v| v.to_str().ok()) {
                Some("data") => SearchEnvelope::Data,
                Some("flat") => SearchEnvelope::Flat,
                _ => shared.config.envelope,
            };
            match envelope {
                SearchEnvelope::Flat => Reply::ok(v),
                SearchEnvelope::Data => Reply::ok(json!({ "data": v })),
            }
        }
        Err(e) => e,
    }
}

/// One project by `creator/name` (or id): what users created first, then the catalog.
fn project(shared: &Shared, params: &[(String, String)]) -> Reply {
    let path = format!(
        "{}/{}",
        param(params, "creator_name").unwrap_or_default(),
        param(params, "project_name").unwrap_or_default()
    );
    let wanted = |e: &&crate::catalog::CatalogEntry| match param(params, "project_id") {
        Some(id) => id == e.id.to_string(),
        None => e.full_path.eq_ignore_ascii_case(&path),
    };
    let space = param(params, "space")
        .or_else(|| param(params, "namespace"))
        .unwrap_or_default();
    // What users created or edited first, then the seeded catalog.
    match crate::created::project(shared, space, param(params, "project_id"), &path) {
        Some(node) => Reply::ok(json!({ "node": node })),
        None => match shared.catalog.entries().iter().find(wanted) {
            Some(e) => {
                let mut node = e.node(&shared.base_url);
                node["definition"] = shared.catalog.full_definition(e);
                Reply::ok(json!({ "node": node }))
            }
            None => Reply::user_error(404, "Project not found."),
        },
    }
}

/// The small name search: a star-sorted catalog search, answered in its own shape.
fn minisearch(shared: &Shared, query: &[(String, String)], body: &Value) -> Reply {
    let mut p = Params::from_query(query);
    p.merge_json(body);
    let mut sp = Params::default();
    let text = p
        .str("name")
        .or_else(|| p.str("search"))
        .or_else(|| p.str("query"));
    let mut q = Vec::new();
    if let Some(t) = text {
        q.push(("name_like".to_string(), t));
    }
    for k in ["namespace", "nsfw"] {
        if let Some(v) = p.str(k) {
            q.push((k.to_string(), v));
        }
    }
    let first = p
        .str("first")
        .or_else(|| p.str("limit"))
        .unwrap_or("10".into());
    q.push(("first".into(), first));
    q.push(("sort".into(), "star_count".into()));
    sp.merge_json(&Value::Object(
        q.into_iter().map(|(k, v)| (k, Value::String(v))).collect(),
    ));
    match shared.catalog.search(&sp) {
        Ok(page) => Reply::ok(json!({
            "count": page.count,
            "results": page.nodes.iter().map(|e| json!({
                "id": e.id,
                "name": e.name,
                "fullPath": e.full_path,
                "projectSpace": e.namespace,
                "tagline": e.tagline,
                "nsfw": e.nsfw,
                "avatar_url": format!("{}/media/avatar-{}.png", shared.base_url, e.id),
            })).collect::<Vec<_>>(),
        })),
        Err(e) => e,
    }
}

/// `GET /v1/models` (or one model): the configured models, OpenAI's list shape.
fn models(shared: &Shared, params: &[(String, String)]) -> Reply {
    let created = 1_700_000_000u64;
    let models: Vec<String> = match param(params, "model") {
        Some(m) => vec![m.to_string()],
        None => shared.config.models.clone(),
    };
    Reply::ok(json!({
        "object": "list",
        "data": models.iter().map(|m| json!({
            "id": m, "object": "model", "created": created, "owned_by": "rostro", "permission": []
        })).collect::<Vec<_>>(),
    }))
}

/// The document's example (or synthesized) response for a route.
pub(crate) fn example(shared: &Shared, index: usize) -> Reply {
    let route = &shared.router.routes[index];
    match route.op.map(|i| &shared.spec.operations()[i]) {
        Some(op) => Reply::json(op.success_status, &shared.spec.default_response(op)),
        None => Reply::ok(json!({})),
    }
}
