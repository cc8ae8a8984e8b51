//! Hashing sinks for uploaded files, and registering a finished upload.

use super::*;

/// Hashes (and, while small, keeps) the bytes of one file.
pub(crate) struct FileSink {
    pub(super) hasher: Sha256,
    pub(super) size: u64,
    pub(super) retained: Option<Vec<u8>>,
    pub(super) limit: u64,
    pub(super) head: Vec<u8>,
}

pub(crate) struct SinkResult {
    pub(crate) size: u64,
    pub(crate) sha256: String,
    pub(crate) bytes: Option<Bytes>,
    pub(crate) head: Vec<u8>,
}

impl FileSink {
    pub(crate) fn new(limit: u64) -> FileSink {
        FileSink {
            hasher: Sha256::new(),
            size: 0,
            retained: Some(Vec::new()),
            limit,
            head: Vec::new(),
        }
    }

    pub(crate) fn write(&mut self, data: &[u8]) {
        self.hasher.update(data);
        self.size += data.len() as u64;
        if self.head.len() < 16 {
            let take = (16 - self.head.len()).min(data.len());
            self.head.extend_from_slice(&data[..take]);
        }
        if let Some(r) = &mut self.retained {
            if (r.len() + data.len()) as u64 <= self.limit {
                r.extend_from_slice(data);
            } else {
                self.retained = None;
            }
        }
    }

    pub(crate) fn finish(self) -> SinkResult {
        SinkResult {
            size: self.size,
            sha256: hex::encode(self.hasher.finalize()),
            bytes: self.retained.map(Bytes::from),
            head: self.head,
        }
    }
}

/// A received file: its content type and hashed bytes.
pub(crate) struct FilePart {
    pub(super) content_type: Option<String>,
    pub(super) sink: SinkResult,
}

/// A decoded base64 image: (JSON key, MIME type, URL when it was a URL, bytes).
pub(super) type Captured = (String, Option<String>, Option<String>, SinkResult);

/// Everything needed to register an upload.
pub(crate) struct Draft {
    pub(crate) route: String,
    pub(crate) kind: UploadKind,
    pub(crate) field: Option<String>,
    pub(crate) filename: Option<String>,
    pub(crate) content_type: Option<String>,
    pub(crate) project_id: Option<i64>,
    pub(crate) fields: Vec<(String, String)>,
    pub(crate) in_gallery: bool,
    pub(crate) nsfw: bool,
    pub(crate) external_url: Option<String>,
}

pub(super) fn pick_ext(filename: Option<&str>, content_type: Option<&str>, head: &[u8]) -> String {
    if let Some(ext) = filename
        .and_then(|f| f.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase())
        .filter(|e| !e.is_empty() && e.len() <= 5 && e.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return ext;
    }
    if let Some(ext) = content_type.and_then(ext_for_mime) {
        return ext.into();
    }
    sniff_ext(head).unwrap_or("bin").into()
}

/// Registers a finished upload and returns its record.
pub(crate) fn register(
    shared: &Shared,
    draft: Draft,
    sink: SinkResult,
    parts: Vec<PartRecord>,
) -> UploadRecord {
    let uuid = shared.new_uuid();
    let ext = pick_ext(
        draft.filename.as_deref(),
        draft.content_type.as_deref(),
        &sink.head,
    );
    let url = draft
        .external_url
        .unwrap_or_else(|| format!("{}/media/{uuid}.{ext}", shared.base_url));
    let content_type = draft
        .content_type
        .filter(|c| !c.is_empty() && c != "application/octet-stream")
        .or_else(|| Some(content_type_for_ext(&ext).to_string()));
    let record = UploadRecord {
        uuid,
        route: draft.route,
        kind: draft.kind,
        field: draft.field,
        filename: draft.filename,
        content_type,
        size: sink.size,
        sha256: sink.sha256,
        project_id: draft.project_id,
        fields: draft.fields,
        parts,
        bytes: sink.bytes,
        url,
        in_gallery: draft.in_gallery,
        nsfw: draft.nsfw,
        seq: shared.next_seq(),
        deleted: false,
    };
    lock(&shared.uploads).push(record.clone());
    record
}

/// `GalleryItem` JSON for an uploaded item.
pub(crate) fn gallery_item(u: &UploadRecord) -> Value {
    let text = |k: &str| {
        u.fields
            .iter()
            .find(|(f, _)| f == k)
            .map(|(_, v)| v.clone())
    };
    json!({
        "generation_uuid": null,
        "cost": 0,
        "queue_length": null,
        "primary_character_id": u.project_id,
        "secondary_character_ids": [],
        "lorebook_id": null,
        "primary_image_path": u.url,
        "user_owned": true,
        "nsfw_image": u.nsfw,
        "description": text("caption").or_else(|| text("description")),
        "prompt": null,
        "is_published": false,
        "comments_enabled": true,
        "is_done": true,
        "is_failed": false,
        "parent_image": null,
        "item_id": null,
        "uuid": u.uuid,
        "info": null,
        "name": u.filename.clone().or_else(|| text("name")),
        "preview": null,
        "project_id": u.project_id,
    })
}

pub(super) fn parse_project_id(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(super) fn truthy(v: Option<&str>) -> bool {
    matches!(
        v.map(|s| s.trim().to_ascii_lowercase()).as_deref(),
        Some("true" | "1" | "yes" | "on")
    )
}

pub(super) fn count_frame_bytes(counter: &Arc<std::sync::atomic::AtomicU64>, n: usize) {
    counter.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
}

/// The result of a streamed upload request: the reply and the bytes read.
pub(crate) struct Streamed {
    pub(crate) reply: Reply,
    pub(crate) received: u64,
}

pub(super) fn boundary_of(headers: &HeaderMap) -> Option<String> {
    let ct = headers.get(http::header::CONTENT_TYPE)?.to_str().ok()?;
    if !ct.to_ascii_lowercase().starts_with("multipart/") {
        return None;
    }
    multer::parse_boundary(ct).ok()
}

pub(super) const FILE_FIELDS: &[&str] = &[
    "file", "files", "sample", "image", "video", "audio", "asset", "upload", "data", "media",
];
