//! What the mock received, exposed for assertions.

use bytes::Bytes;
use http::HeaderMap;
use serde_json::Value;

use crate::media::MediaKind;

/// One request as the mock received it.
#[derive(Debug, Clone)]
pub struct ReceivedRequest {
    /// The `x-request-id` the mock answered with.
    pub request_id: String,
    /// Upper-case method.
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// `"METHOD /template"` of the route that served it, if any matched.
    pub route: Option<String>,
    /// Request headers.
    pub headers: HeaderMap,
    /// The body, for buffered requests. Streamed uploads leave it empty (see
    /// [`ReceivedRequest::body_len`] and [`crate::RostroMock::uploads`]).
    pub body: Bytes,
    /// Number of body bytes received (also for streamed uploads).
    pub body_len: u64,
    /// The API key the request carried (`Authorization`, `CH-API-KEY` or `samwise`).
    pub api_key: Option<String>,
    /// Status code answered (0 when the connection was dropped).
    pub status: u16,
    /// The injected fault that caught this request, if any (`"429"`, `"drop"`, ...).
    pub fault: Option<String>,
}

impl ReceivedRequest {
    /// The body parsed as JSON, if it is JSON.
    pub fn body_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// A header value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Decoded query parameters.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        crate::util::parse_query(self.query.as_deref())
    }
}

/// How an upload arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadKind {
    /// A file part of a `multipart/form-data` body (or a raw request body).
    Multipart,
    /// Base64 data inside a JSON body (`POST /api/gallery/upload`).
    Base64Json,
    /// The chunked flow: `start-upload`, `signed-urls`, part `PUT`s, `complete-upload`.
    Chunked,
}

/// One part of a chunked upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRecord {
    /// 1-based part number.
    pub part_number: u32,
    /// Bytes received for the part.
    pub size: u64,
    /// Hex SHA-256 of the part (also its `ETag`, quoted).
    pub sha256: String,
}

/// One stored upload: sizes and hashes are computed while the body streams in.
#[derive(Debug, Clone)]
pub struct UploadRecord {
    /// The uuid the mock assigned (also used in `/media/{uuid}.{ext}`).
    pub uuid: String,
    /// `"METHOD /template"` of the endpoint that received it.
    pub route: String,
    /// How it arrived.
    pub kind: UploadKind,
    /// Multipart field name (or JSON key) the data came in.
    pub field: Option<String>,
    /// File name given by the client, if any.
    pub filename: Option<String>,
    /// Content type given by the client (or the data URL's MIME type).
    pub content_type: Option<String>,
    /// Total size in bytes (decoded bytes for base64).
    pub size: u64,
    /// Hex SHA-256 of the whole file (decoded bytes for base64).
    pub sha256: String,
    /// `project_id` sent along (form field, JSON field or path), if any.
    pub project_id: Option<i64>,
    /// Other text fields sent with the upload (multipart fields, JSON fields).
    pub fields: Vec<(String, String)>,
    /// Parts of a chunked upload, in part order.
    pub parts: Vec<PartRecord>,
    /// The bytes themselves, kept only when the upload is small enough
    /// (see [`crate::RostroMockBuilder::retain_upload_bytes`]).
    pub bytes: Option<Bytes>,
    /// URL of the media on the mock (`{uri}/media/{uuid}.{ext}`).
    pub url: String,
    /// True for items that appear in the gallery and imagine history.
    pub in_gallery: bool,
    /// NSFW flag sent with the upload.
    pub nsfw: bool,
    pub(crate) seq: u64,
    pub(crate) deleted: bool,
}

/// One generation job (`POST /imagine` or a per-type endpoint).
#[derive(Debug, Clone)]
pub struct GenerationRecord {
    /// The `generation_uuid` handed to the client.
    pub generation_uuid: String,
    /// uuid of the produced media item.
    pub media_uuid: String,
    /// `GenerationType` value (`text_to_image`, ...).
    pub generation_type: String,
    /// The media kind served at the media URL.
    pub kind: MediaKind,
    /// The prompt (or transcript) sent.
    pub prompt: String,
    /// `"METHOD /template"` of the endpoint that created it.
    pub route: String,
    /// Checks received so far.
    pub checks: u32,
    /// Checks after which the job finishes.
    pub checks_needed: u32,
    /// Rejection reason when the job is going to fail (or failed).
    pub failure: Option<String>,
    /// Cost in credits reported.
    pub cost: f64,
    /// Requested width/height (for images/videos).
    pub size: (u32, u32),
    pub(crate) seq: u64,
    pub(crate) deleted: bool,
}

impl GenerationRecord {
    /// True once enough checks arrived and the job succeeds.
    pub fn is_done(&self) -> bool {
        self.checks >= self.checks_needed && self.failure.is_none()
    }

    /// True once enough checks arrived and the job fails.
    pub fn is_failed(&self) -> bool {
        self.checks >= self.checks_needed && self.failure.is_some()
    }
}

// ---------------------------------------------------------------------------
// Lore items and personas: small stateful collections (persisted with the
// sandbox, see crate::sandbox).

/// `GET /lore/items`: every lore item added and not removed, oldest first.
pub(crate) fn lore_items(shared: &crate::state::Shared) -> crate::reply::Reply {
    let uploads = crate::state::lock(&shared.uploads);
    let items: Vec<Value> = uploads
        .iter()
        .filter(|u| u.route == "POST /lore/item" && !u.deleted)
        .map(|u| {
            let owner = u
                .fields
                .iter()
                .find(|(k, _)| k == "owner_id")
                .and_then(|(_, v)| v.parse::<i64>().ok());
            serde_json::json!({
                "uuid": u.uuid,
                "name": u.filename,
                "status": "indexed",
                "size": u.size,
                "owner_id": owner,
                "content_type": u.content_type,
            })
        })
        .collect();
    crate::reply::Reply::ok(serde_json::json!({ "count": items.len(), "items": items }))
}

/// `DELETE /lore/{owner_id}/item/{uuid}`.
pub(crate) fn lore_remove(
    shared: &crate::state::Shared,
    _owner: &str,
    uuid: &str,
) -> crate::reply::Reply {
    let mut uploads = crate::state::lock(&shared.uploads);
    match uploads
        .iter_mut()
        .find(|u| u.route == "POST /lore/item" && u.uuid == uuid && !u.deleted)
    {
        Some(u) => {
            u.deleted = true;
            crate::reply::Reply::ok(serde_json::json!({"message": "success", "success": true}))
        }
        None => crate::reply::Reply::user_error(404, &format!("No lore item with uuid {uuid}.")),
    }
}

fn personas(map: &mut serde_json::Map<String, Value>) -> &mut Vec<Value> {
    crate::created::list(map, "personas")
}

fn persona_id_is(p: &Value, id: &str) -> bool {
    p["id"].as_u64().is_some_and(|n| id.trim().parse() == Ok(n))
}

/// `GET /api/personas`.
pub(crate) fn personas_list(shared: &crate::state::Shared) -> crate::reply::Reply {
    let mut c = crate::state::lock(&shared.collections);
    let list = personas(&mut c).clone();
    crate::reply::Reply::ok(serde_json::json!({ "personas": list }))
}

/// `POST /api/personas` (create, `id: None`) and `POST /api/personas/{id}` (update).
pub(crate) fn persona_save(
    shared: &crate::state::Shared,
    id: Option<&str>,
    body: &Value,
) -> crate::reply::Reply {
    let Some(fields) = body.as_object() else {
        return crate::reply::Reply::validation(
            &["body"],
            "Input should be a valid dictionary",
            "dict_type",
        );
    };
    let mut c = crate::state::lock(&shared.collections);
    match id {
        None => {
            let id = shared.next_seq();
            let mut p = fields.clone();
            p.insert("id".into(), Value::from(id));
            personas(&mut c).push(Value::Object(p.clone()));
            crate::reply::Reply::ok(Value::Object(p))
        }
        Some(id) => {
            let list = personas(&mut c);
            match list.iter_mut().find(|p| persona_id_is(p, id)) {
                Some(p) => {
                    for (k, v) in fields {
                        if k != "id" {
                            p[k] = v.clone();
                        }
                    }
                    crate::reply::Reply::ok(
                        serde_json::json!({"message": "success", "success": true}),
                    )
                }
                None => crate::reply::Reply::user_error(404, &format!("No persona with id {id}.")),
            }
        }
    }
}

/// `DELETE /api/personas/{id}`.
pub(crate) fn persona_delete(shared: &crate::state::Shared, id: &str) -> crate::reply::Reply {
    let mut c = crate::state::lock(&shared.collections);
    let list = personas(&mut c);
    let before = list.len();
    list.retain(|p| !persona_id_is(p, id));
    if list.len() == before {
        return crate::reply::Reply::user_error(404, &format!("No persona with id {id}."));
    }
    crate::reply::Reply::ok(serde_json::json!({"message": "success", "success": true}))
}
