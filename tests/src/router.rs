//! Route table: OpenAPI path templates turned into matchers, with the mock's
//! stateful handlers attached to the routes they serve.
//!
//! Precedence: among templates that match a path (they always have the same
//! number of segments) the one whose first differing segment is a literal
//! wins, so `/imagine/check` beats `/imagine/{x}` and `/a/v2/{id}` beats
//! `/a/{id}/items`. The same order is encoded into wiremock priorities, so the
//! front listener and wiremock always agree on which route serves a request.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::spec::{AuthRequirement, Spec, normalize_template};

/// What serves a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Handler {
    /// The operation's example (or a value synthesized from its schema).
    Example,
    Search,
    /// A catalog entry with its definition, by id or by `creator/slug`.
    Project,
    Minisearch,
    /// `GET /api/account`: the sandbox user, in the shape the guide shows.
    Account,
    Tags,
    Chat,
    Completions,
    Models,
    Imagine,
    ImagineCheck,
    ImagineHistory,
    ImagineHistoryDelete,
    ImagineProject,
    /// A per-type generation endpoint returning `TimedResponse`.
    Typed(&'static str),
    Check,
    GalleryList,
    GalleryDelete,
    /// Streamed by the front listener: JSON body with base64 image data.
    GalleryUpload,
    /// Streamed by the front listener: multipart (or raw) file upload.
    MultipartUpload,
    UploadStart,
    UploadUrls,
    /// Streamed by the front listener: one part of a chunked upload.
    UploadPart,
    UploadComplete,
    Media,
    /// `GET /lore/items`: the lore items added with `POST /lore/item`.
    LoreItems,
    /// `DELETE /lore/{owner_id}/item/{uuid}`.
    LoreRemove,
    /// `GET|POST /api/personas`: list or create.
    Personas,
    /// `POST|DELETE /api/personas/{persona_id}`: update or delete.
    Persona,
    /// `POST /api/core/characters|lorebooks`: create a project (the space).
    ProjectCreate(&'static str),
    /// `PUT /api/core/characters/{username}/{pathname}`, `PUT /api/core/lorebooks/{project_id}`.
    ProjectUpdate,
    /// `POST|DELETE /api/core/characters/link/{username}/{pathname}/lorebook/{project_id}`.
    LorebookLink,
    /// `GET|POST /api/core/chats`: list or start chats.
    Chats,
    /// `GET /api/core/chats/v2/{chat_id}`, `DELETE /api/core/chats/{chat_id}`.
    ChatById,
    /// `POST /api/core/chats/v2/{chat_id}/messages/atomic`.
    ChatMessages,
}

impl Handler {
    /// Handlers whose request bodies the front listener streams itself.
    pub(crate) fn is_streaming_upload(self) -> bool {
        matches!(
            self,
            Handler::GalleryUpload | Handler::MultipartUpload | Handler::UploadPart
        )
    }
}

/// Path prefix of the signed URLs handed out by `signed-urls`.
pub(crate) const PART_PREFIX: &str = "/_mock/upload";

/// Built-in routes: (method, template, handler, auth used when the document
/// does not declare the operation).
const BUILTINS: &[(&str, &str, Handler, AuthRequirement)] = {
    use AuthRequirement::{None as NoAuth, Optional as Opt, Required as Req};
    use Handler::*;
    &[
        ("GET", "/search", Search, Opt),
        ("POST", "/search", Search, Opt),
        ("POST", "/minisearch", Minisearch, Opt),
        ("GET", "/api/public/{space}/{project_id}", Project, Opt),
        (
            "GET",
            "/api/public/{namespace}/{creator_name}/{project_name}",
            Project,
            Opt,
        ),
        ("GET", "/api/account", Account, Req),
        ("POST", "/tags", Tags, Opt),
        ("POST", "/v1/chat/completions", Chat, Opt),
        ("POST", "/{model}/v1/chat/completions", Chat, Opt),
        ("POST", "/prompt", Chat, Opt),
        ("POST", "/v1/completions", Completions, Opt),
        ("POST", "/{model}/v1/completions", Completions, Opt),
        ("GET", "/v1/models", Models, Opt),
        ("GET", "/{model}/v1/models", Models, Opt),
        ("POST", "/imagine", Imagine, Req),
        ("POST", "/imagine/check", ImagineCheck, Req),
        ("POST", "/imagine/history", ImagineHistory, Req),
        ("POST", "/imagine/history/delete", ImagineHistoryDelete, Req),
        ("GET", "/imagine/project/{uuid}", ImagineProject, Opt),
        ("POST", "/images/text2img", Typed("text_to_image"), Opt),
        ("POST", "/images/img2img", Typed("image_to_image"), Opt),
        ("POST", "/images/inpaint", Typed("image_to_image"), Opt),
        (
            "POST",
            "/images/removebg_mask",
            Typed("image_to_image"),
            Opt,
        ),
        ("POST", "/images/upscale", Typed("image_to_image"), Opt),
        ("POST", "/images/expressions", Typed("image_to_image"), Opt),
        ("POST", "/images/animate", Typed("image_to_video"), Opt),
        ("POST", "/tts", Typed("text_to_speech"), Opt),
        ("POST", "/music", Typed("text_to_music"), Opt),
        ("POST", "/video", Typed("text_to_video"), Opt),
        ("POST", "/foley", Typed("text_to_sfx"), Opt),
        ("POST", "/model3d", Typed("text_to_3d"), Opt),
        ("POST", "/check", Check, Opt),
        ("GET", "/api/gallery", GalleryList, Opt),
        ("GET", "/api/gallery/project/{project_id}", GalleryList, Opt),
        ("DELETE", "/api/gallery/{uuid}", GalleryDelete, Opt),
        ("POST", "/api/gallery/upload", GalleryUpload, Opt),
        ("POST", "/lore/item", MultipartUpload, Opt),
        ("GET", "/lore/items", LoreItems, Opt),
        ("DELETE", "/lore/{owner_id}/item/{uuid}", LoreRemove, Opt),
        ("GET", "/api/personas", Personas, Opt),
        ("POST", "/api/personas", Personas, Opt),
        ("POST", "/api/personas/{persona_id}", Persona, Opt),
        ("DELETE", "/api/personas/{persona_id}", Persona, Opt),
        (
            "POST",
            "/api/core/characters",
            ProjectCreate("characters"),
            Req,
        ),
        (
            "POST",
            "/api/core/lorebooks",
            ProjectCreate("lorebooks"),
            Req,
        ),
        (
            "PUT",
            "/api/core/characters/{username}/{pathname}",
            ProjectUpdate,
            Req,
        ),
        (
            "PUT",
            "/api/core/lorebooks/{project_id}",
            ProjectUpdate,
            Req,
        ),
        (
            "POST",
            "/api/core/characters/link/{username}/{pathname}/lorebook/{project_id}",
            LorebookLink,
            Req,
        ),
        (
            "DELETE",
            "/api/core/characters/link/{username}/{pathname}/lorebook/{project_id}",
            LorebookLink,
            Req,
        ),
        ("GET", "/api/core/chats", Chats, Req),
        ("POST", "/api/core/chats", Chats, Req),
        ("GET", "/api/core/chats/v2/{chat_id}", ChatById, Req),
        ("DELETE", "/api/core/chats/{chat_id}", ChatById, Req),
        (
            "POST",
            "/api/core/chats/v2/{chat_id}/messages/atomic",
            ChatMessages,
            Req,
        ),
        ("POST", "/stt", MultipartUpload, Opt),
        ("POST", "/voice_clone", MultipartUpload, Opt),
        ("POST", "/engine/api/assets", MultipartUpload, Opt),
        (
            "POST",
            "/extension/{extension_id}/upload",
            MultipartUpload,
            Opt,
        ),
        ("POST", "/api/media/video/upload", MultipartUpload, Opt),
        ("POST", "/engine/api/upload/start-upload", UploadStart, Opt),
        ("POST", "/engine/api/upload/signed-urls", UploadUrls, Opt),
        (
            "POST",
            "/engine/api/upload/complete-upload",
            UploadComplete,
            Opt,
        ),
        (
            "PUT",
            "/_mock/upload/{upload_id}/{part_number}",
            UploadPart,
            NoAuth,
        ),
        ("GET", "/media/{file}", Media, NoAuth),
    ]
};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Lit(String),
    Param(String),
}

/// One route of the table.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    pub(crate) method: String,
    pub(crate) template: String,
    segs: Vec<Seg>,
    pub(crate) handler: Handler,
    pub(crate) auth: AuthRequirement,
    /// Index of the matching operation in the spec, if the spec declares it.
    pub(crate) op: Option<usize>,
    builtin: bool,
    /// wiremock priority encoding this route's precedence.
    pub(crate) priority: u8,
}

impl Route {
    fn new(method: &str, template: &str, handler: Handler, auth: AuthRequirement) -> Route {
        let segs = split_path(template)
            .into_iter()
            .map(|s| {
                if s.len() >= 2 && s.starts_with('{') && s.ends_with('}') {
                    Seg::Param(s[1..s.len() - 1].to_string())
                } else {
                    Seg::Lit(s.to_string())
                }
            })
            .collect();
        Route {
            method: method.to_ascii_uppercase(),
            template: template.to_string(),
            segs,
            handler,
            auth,
            op: None,
            builtin: handler != Handler::Example,
            priority: 0,
        }
    }

    /// `"METHOD /template"`.
    pub(crate) fn key(&self) -> String {
        format!("{} {}", self.method, self.template)
    }

    /// Matches a request path (already split) and extracts parameters.
    pub(crate) fn match_path(&self, segs: &[&str]) -> Option<Vec<(String, String)>> {
        if segs.len() != self.segs.len() {
            return None;
        }
        let mut params = Vec::new();
        for (want, got) in self.segs.iter().zip(segs) {
            match want {
                Seg::Lit(l) if l == got => {}
                Seg::Lit(_) => return None,
                Seg::Param(_) if got.is_empty() => return None,
                Seg::Param(name) => params.push((name.clone(), percent_decode(got))),
            }
        }
        Some(params)
    }

    pub(crate) fn method_matches(&self, method: &str) -> bool {
        self.method == method || (method == "HEAD" && self.method == "GET")
    }

    fn precedence(&self) -> (Vec<u8>, u8) {
        let mask = self
            .segs
            .iter()
            .map(|s| u8::from(matches!(s, Seg::Param(_))))
            .collect();
        (mask, u8::from(!self.builtin))
    }
}

/// Splits a path into its segments (`/a/b` -> `["a", "b"]`, `/` -> `[""]`).
pub(crate) fn split_path(path: &str) -> Vec<&str> {
    path.strip_prefix('/').unwrap_or(path).split('/').collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            let hex = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
            out.push(hex(bytes[i + 1]) * 16 + hex(bytes[i + 2]));
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The outcome of resolving a request against the table.
#[derive(Debug, Clone)]
pub(crate) enum Resolution {
    /// A route serves it.
    Found {
        route: usize,
        params: Vec<(String, String)>,
    },
    /// The path exists, but not for this method.
    MethodNotAllowed(Vec<String>),
    /// Nothing matches.
    NotFound,
}

/// All routes: built-in stateful ones and the document's operations.
#[derive(Debug)]
pub(crate) struct Router {
    pub(crate) routes: Vec<Route>,
}

impl Router {
    pub(crate) fn new(spec: &Spec) -> Router {
        let mut routes: Vec<Route> = BUILTINS
            .iter()
            .map(|(m, t, h, a)| Route::new(m, t, *h, *a))
            .collect();
        let builtin_count = routes.len();
        for (i, op) in spec.operations().iter().enumerate() {
            let norm = normalize_template(&op.path);
            let existing = routes[..builtin_count]
                .iter_mut()
                .find(|r| r.method == op.method && normalize_template(&r.template) == norm);
            match existing {
                Some(r) => {
                    r.op = Some(i);
                    r.auth = op.auth;
                }
                None => {
                    let mut r = Route::new(&op.method, &op.path, Handler::Example, op.auth);
                    r.op = Some(i);
                    routes.push(r);
                }
            }
        }
        // Encode precedence as wiremock priorities: rank distinct precedence
        // keys within each segment count (only equal-length templates can
        // both match a path).
        let mut by_len: BTreeMap<usize, Vec<(Vec<u8>, u8)>> = BTreeMap::new();
        for r in &routes {
            by_len.entry(r.segs.len()).or_default().push(r.precedence());
        }
        for keys in by_len.values_mut() {
            keys.sort();
            keys.dedup();
        }
        for r in &mut routes {
            let keys = &by_len[&r.segs.len()];
            let rank = keys.binary_search(&r.precedence()).unwrap_or(0);
            r.priority = u8::try_from(10 + rank).unwrap_or(250).min(250);
        }
        Router { routes }
    }

    /// Resolves a request (path without query).
    pub(crate) fn resolve(&self, method: &str, path: &str) -> Resolution {
        let segs = split_path(path);
        let mut best: Option<(usize, Vec<(String, String)>)> = None;
        let mut other_methods = Vec::new();
        for (i, r) in self.routes.iter().enumerate() {
            let Some(params) = r.match_path(&segs) else {
                continue;
            };
            if !r.method_matches(method) {
                if !other_methods.contains(&r.method) {
                    other_methods.push(r.method.clone());
                }
                continue;
            }
            let better = match &best {
                None => true,
                Some((b, _)) => r.precedence() < self.routes[*b].precedence(),
            };
            if better {
                best = Some((i, params));
            }
        }
        match best {
            Some((route, params)) => Resolution::Found { route, params },
            None if !other_methods.is_empty() => Resolution::MethodNotAllowed(other_methods),
            None => Resolution::NotFound,
        }
    }
}

/// wiremock matcher for one route: method (HEAD also matches GET routes) and
/// path template.
pub(crate) struct RouteMatcher {
    pub(crate) router: Arc<Router>,
    pub(crate) index: usize,
}

impl wiremock::Match for RouteMatcher {
    fn matches(&self, request: &wiremock::Request) -> bool {
        let route = &self.router.routes[self.index];
        route.method_matches(request.method.as_str())
            && route.match_path(&split_path(request.url.path())).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Spec {
        Spec::from_json(
            r#"{"paths": {
                "/imagine/project/{uuid}": {"get": {}},
                "/a/{id}/items": {"get": {}},
                "/a/v2/{id}": {"get": {}},
                "/a/{x}": {"delete": {}}
            }}"#,
        )
        .unwrap()
    }

    fn found(r: &Router, m: &str, p: &str) -> String {
        match r.resolve(m, p) {
            Resolution::Found { route, .. } => r.routes[route].template.clone(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn literal_segments_win() {
        let r = Router::new(&spec());
        assert_eq!(found(&r, "POST", "/imagine/check"), "/imagine/check");
        assert_eq!(found(&r, "GET", "/a/v2/items"), "/a/v2/{id}");
        assert_eq!(found(&r, "GET", "/a/b/items"), "/a/{id}/items");
        assert_eq!(found(&r, "GET", "/mixtral/v1/models"), "/{model}/v1/models");
        assert_eq!(found(&r, "GET", "/v1/models"), "/v1/models");
        assert!(matches!(r.resolve("GET", "/nope"), Resolution::NotFound));
        assert!(matches!(
            r.resolve("GET", "/a/x"),
            Resolution::MethodNotAllowed(_)
        ));
        assert!(matches!(
            r.resolve("HEAD", "/media/x.png"),
            Resolution::Found { .. }
        ));
        let lit = r
            .routes
            .iter()
            .find(|x| x.template == "/a/v2/{id}")
            .unwrap();
        let par = r
            .routes
            .iter()
            .find(|x| x.template == "/a/{id}/items")
            .unwrap();
        assert!(lit.priority < par.priority);
    }

    #[test]
    fn params_are_decoded() {
        let r = Router::new(&spec());
        match r.resolve("GET", "/imagine/project/a%20b") {
            Resolution::Found { params, .. } => assert_eq!(params[0].1, "a b"),
            other => panic!("{other:?}"),
        }
    }
}
