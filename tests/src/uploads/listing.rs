//! Gallery listing and deletion, and media served back.

use super::*;

/// `GET /api/gallery` and `GET /api/gallery/project/{project_id}`.
pub(crate) fn gallery_list(
    shared: &Shared,
    project: Option<&str>,
    query: &[(String, String)],
) -> Reply {
    let q = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let project_id = match project {
        Some(p) => match p.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                return Reply::validation(
                    &["path", "project_id"],
                    "Input should be a valid integer, unable to parse string as an integer",
                    "int_parsing",
                );
            }
        },
        None => None,
    };
    let int = |k: &str, default: usize| -> Result<usize, Reply> {
        match q(k) {
            None | Some("") => Ok(default),
            Some(v) => v.parse::<usize>().map_err(|_| {
                Reply::validation(
                    &["query", k],
                    "Input should be a valid integer, unable to parse string as an integer",
                    "int_parsing",
                )
            }),
        }
    };
    let page = match int("page", 1) {
        Ok(p) => p.max(1),
        Err(e) => return e,
    };
    let limit = match int("limit", 24) {
        Ok(l) => l.clamp(1, 500),
        Err(e) => return e,
    };
    let nsfw = !matches!(q("nsfw"), Some("false" | "0" | "no"));
    let uploads = lock(&shared.uploads);
    let mut items: Vec<&UploadRecord> = uploads
        .iter()
        .filter(|u| u.in_gallery && !u.deleted)
        .filter(|u| project_id.is_none() || u.project_id == project_id)
        .filter(|u| nsfw || !u.nsfw)
        .collect();
    items.sort_by_key(|u| std::cmp::Reverse(u.seq));
    let count = items.len();
    let nodes: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * limit)
        .take(limit)
        .map(gallery_item)
        .collect();
    Reply::ok(json!({"count": count, "nodes": nodes, "page": page}))
}

/// `DELETE /api/gallery/{uuid}`.
pub(crate) fn gallery_delete(shared: &Shared, uuid: &str) -> Reply {
    let mut uploads = lock(&shared.uploads);
    match uploads
        .iter_mut()
        .find(|u| u.uuid == uuid && u.in_gallery && !u.deleted)
    {
        Some(u) => {
            u.deleted = true;
            Reply::ok(json!({"success": true}))
        }
        None => Reply::user_error(404, &format!("No gallery image with uuid {uuid}.")),
    }
}

/// `GET /media/{file}`: generated media, retained uploads and catalog avatars.
pub(crate) fn media(shared: &Shared, file: &str) -> Reply {
    let (stem, ext) = file.rsplit_once('.').unwrap_or((file, ""));
    if let Some(id) = stem
        .strip_prefix("avatar-")
        .and_then(|s| s.parse::<u64>().ok())
    {
        return Reply::bytes(200, "image/png", crate::media::png(16, 16, id));
    }
    if let Some((kind, bytes)) = crate::imagine::media_bytes(shared, stem) {
        return Reply::bytes(200, kind.content_type(), bytes);
    }
    let uploads = lock(&shared.uploads);
    if let Some(u) = uploads.iter().find(|u| u.uuid == stem && !u.deleted) {
        return match &u.bytes {
            Some(b) => Reply::bytes(
                200,
                u.content_type
                    .as_deref()
                    .unwrap_or_else(|| content_type_for_ext(ext)),
                b.clone(),
            ),
            None => Reply::user_error(
                404,
                "This upload was too large to be kept by the mock; only its size and hash are stored.",
            ),
        };
    }
    Reply::user_error(404, &format!("No media named {file}."))
}
