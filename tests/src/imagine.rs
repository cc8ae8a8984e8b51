//! Generation jobs: `POST /imagine` + `POST /imagine/check`, the per-type
//! endpoints + `POST /check`, history, deletion and project lookup.

use http::HeaderMap;
use serde_json::{Value, json};

use crate::media::MediaKind;
use crate::records::{GenerationRecord, UploadRecord};
use crate::reply::Reply;
use crate::state::{Shared, lock};
use crate::util::mix64;

mod history;

pub(crate) use history::history;

/// Every `GenerationType` value.
pub const GENERATION_TYPES: [&str; 9] = [
    "text_to_speech",
    "text_to_image",
    "text_to_video",
    "image_to_image",
    "image_to_video",
    "text_to_sfx",
    "text_to_music",
    "text_to_3d",
    "image_to_3d",
];

/// Every `RejectionReason` value.
pub const REJECTION_REASONS: [&str; 5] = [
    "unknown",
    "explicit_text",
    "explicit_image",
    "malformed_image",
    "out_of_credits",
];

fn has(body: &Value, key: &str) -> bool {
    body.get(key).is_some_and(|v| match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => true,
    })
}

fn infer_type(body: &Value) -> &'static str {
    let image_in = has(body, "init_image") || has(body, "init_images");
    if has(body, "lyrics") || has(body, "music_type") || has(body, "genre") {
        "text_to_music"
    } else if has(body, "transcript") {
        "text_to_speech"
    } else if image_in {
        "image_to_image"
    } else {
        "text_to_image"
    }
}

fn cost_for(kind: MediaKind) -> f64 {
    match kind {
        MediaKind::Image => 1.0,
        MediaKind::Audio => 2.0,
        MediaKind::Video => 10.0,
        MediaKind::Model3d => 5.0,
    }
}

/// The job's type: the per-type endpoint's (its image-input variant when the body has
/// an input image), else the body's `generation_type`, else inferred from the body.
fn generation_type(fixed_type: Option<&'static str>, body: &Value) -> Result<String, Reply> {
    Ok(match fixed_type {
        Some("text_to_video") if has(body, "init_image") => "image_to_video".into(),
        Some("text_to_3d") if has(body, "init_images") || has(body, "init_image") => {
            "image_to_3d".into()
        }
        Some(t) => t.into(),
        None => match body.get("generation_type") {
            None | Some(Value::Null) => infer_type(body).into(),
            Some(Value::String(t)) if GENERATION_TYPES.contains(&t.as_str()) => t.clone(),
            Some(_) => {
                return Err(Reply::validation(
                    &["body", "generation_type"],
                    &format!(
                        "Input should be {}",
                        GENERATION_TYPES.map(|t| format!("'{t}'")).join(", ")
                    ),
                    "enum",
                ));
            }
        },
    })
}

/// The first non-empty of `prompt`, `transcript` and `lyrics` (else empty).
fn prompt_of(body: &Value) -> String {
    ["prompt", "transcript", "lyrics"]
        .iter()
        .find_map(|k| {
            body.get(*k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        })
        .unwrap_or("")
        .to_string()
}

/// Why the job will fail, if it will: the `x-mock-fail` header, else a prompt that
/// says "fail" (with the rejection reason it names, else `unknown`), else the
/// configured failure.
fn failure_of(shared: &Shared, header: Option<&str>, prompt: &str) -> Option<String> {
    let lower = prompt.to_lowercase();
    if let Some(reason) = header {
        Some(reason.trim().to_string())
    } else if lower.contains("fail") {
        Some(
            REJECTION_REASONS
                .iter()
                .find(|r| lower.contains(*r))
                .unwrap_or(&"unknown")
                .to_string(),
        )
    } else {
        shared.config.generation_failure.clone()
    }
}

/// Creates a job. `fixed_type` is the per-type endpoint's type, `None` for
/// `/imagine` (type from the body).
pub(crate) fn create(
    shared: &Shared,
    route: &str,
    fixed_type: Option<&'static str>,
    body: &Value,
    headers: &HeaderMap,
) -> Result<GenerationRecord, Reply> {
    if !body.is_object() {
        return Err(Reply::validation(
            &["body"],
            "Input should be a valid dictionary or object",
            "model_attributes_type",
        ));
    }
    let generation_type = generation_type(fixed_type, body)?;
    let prompt = prompt_of(body);
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let checks_needed = match header("x-mock-checks") {
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| Reply::user_error(400, "Header `x-mock-checks` must be a number."))?,
        None => shared.config.imagine_checks,
    };
    let failure = failure_of(shared, header("x-mock-fail"), &prompt);
    let kind = MediaKind::for_generation_type(&generation_type);
    let dim = |k: &str, default: u32| {
        body.get(k)
            .and_then(Value::as_u64)
            .map_or(default, |v| v.min(8192) as u32)
    };
    let record = GenerationRecord {
        generation_uuid: shared.new_uuid(),
        media_uuid: shared.new_uuid(),
        generation_type,
        kind,
        prompt,
        route: route.to_string(),
        checks: 0,
        checks_needed,
        failure,
        cost: cost_for(kind),
        size: (dim("width", 1024), dim("height", 1024)),
        seq: shared.next_seq(),
        deleted: false,
    };
    lock(&shared.generations).push(record.clone());
    Ok(record)
}

pub(crate) fn media_url(shared: &Shared, rec: &GenerationRecord) -> String {
    format!(
        "{}/media/{}.{}",
        shared.base_url,
        rec.media_uuid,
        rec.kind.extension()
    )
}

fn layer_info(rec: &GenerationRecord) -> Value {
    let duration = match rec.kind {
        MediaKind::Audio => 0.25,
        MediaKind::Video => 1.0,
        _ => 0.0,
    };
    json!({
        "width": rec.size.0, "height": rec.size.1, "dpi": 72, "z_index": 0, "opacity": 100,
        "duration": duration, "visible": true, "locked": false, "start_time": 0,
        "end_time": duration, "in_point": 0, "out_point": duration, "effects": {}, "children": []
    })
}

/// The `ImaginedItem` for a job. `force_pending` renders it as not yet done.
pub(crate) fn imagined_item(shared: &Shared, rec: &GenerationRecord, force_pending: bool) -> Value {
    let done = rec.is_done() && !force_pending;
    let failed = rec.is_failed() && !force_pending;
    let url = media_url(shared, rec);
    json!({
        "generation_uuid": rec.generation_uuid,
        "cost": rec.cost,
        "primary_media_url": if done { Value::from(url.clone()) } else { Value::Null },
        "description": if done { Value::from(format!("A {} generated from: {}", rec.generation_type.replace('_', " "), rec.prompt)) } else { Value::Null },
        "prompt": {"prompt": rec.prompt, "generation_type": rec.generation_type},
        "is_done": done,
        "is_failed": failed,
        "uuid": rec.media_uuid,
        "info": layer_info(rec),
        "secondary_media_urls": if done && rec.kind == MediaKind::Model3d {
            json!({"texture": format!("{}/media/{}-texture.png", shared.base_url, rec.media_uuid)})
        } else { Value::Null },
        "error": if failed { json!({"reason": rec.failure, "location": null}) } else { Value::Null },
        "note": if done || failed { Value::Null } else {
            Value::from("Still generating: poll POST /imagine/check with this generation_uuid.")
        },
    })
}

/// The `TimedResponse` of `POST /check`: a `RunningGeneration` while pending
/// (with `is_done: false`), a `GalleryItem` once finished.
pub(crate) fn timed_response(shared: &Shared, rec: &GenerationRecord) -> Value {
    if !rec.is_done() && !rec.is_failed() {
        return json!({
            "generation_uuid": rec.generation_uuid,
            "cost": rec.cost,
            "queue_length": rec.checks_needed.saturating_sub(rec.checks),
            "is_done": false,
            "is_failed": false,
        });
    }
    let done = rec.is_done();
    let mut v = json!({
        "generation_uuid": rec.generation_uuid,
        "cost": rec.cost,
        "queue_length": 0,
        "primary_character_id": null,
        "secondary_character_ids": [],
        "lorebook_id": null,
        "primary_image_path": if done { media_url(shared, rec) } else { String::new() },
        "user_owned": true,
        "nsfw_image": false,
        "description": if done { Value::from(format!("A {} generated from: {}", rec.generation_type.replace('_', " "), rec.prompt)) } else { Value::Null },
        "prompt": {"prompt": rec.prompt, "generation_type": rec.generation_type},
        "is_published": false,
        "comments_enabled": true,
        "is_done": done,
        "is_failed": !done,
        "parent_image": null,
        "item_id": null,
        "uuid": rec.media_uuid,
        "info": layer_info(rec),
        "name": null,
        "preview": null,
    });
    if !done {
        v["error"] = json!({"reason": rec.failure, "location": null});
    }
    v
}

/// `POST /imagine`.
pub(crate) fn imagine(
    shared: &Shared,
    route: &str,
    query: &[(String, String)],
    body: &Value,
    headers: &HeaderMap,
) -> Reply {
    let return_immediate = match query.iter().find(|(k, _)| k == "return_immediate") {
        None => false,
        Some((_, v)) => match v.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => true,
            "false" | "0" | "no" | "off" | "" => false,
            _ => {
                return Reply::validation(
                    &["query", "return_immediate"],
                    "Input should be a valid boolean, unable to interpret input",
                    "bool_parsing",
                );
            }
        },
    };
    match create(shared, route, None, body, headers) {
        Ok(rec) => {
            let instant = rec.checks_needed == 0;
            Reply::ok(imagined_item(shared, &rec, return_immediate || !instant))
        }
        Err(e) => e,
    }
}

/// `POST /imagine/check` (`ImaginedItem`) and `POST /check` (`TimedResponse`).
pub(crate) fn check(shared: &Shared, body: &Value, timed: bool) -> Reply {
    let Some(uuid) = body.get("generation_uuid").and_then(Value::as_str) else {
        return Reply::user_error(400, "generation_uuid is required.");
    };
    let mut gens = lock(&shared.generations);
    let Some(rec) = gens
        .iter_mut()
        .find(|g| !g.deleted && (g.generation_uuid == uuid || g.media_uuid == uuid))
    else {
        return Reply::user_error(404, &format!("No generation with uuid {uuid}."));
    };
    if rec.checks < rec.checks_needed {
        rec.checks += 1;
    }
    let rec = rec.clone();
    drop(gens);
    if timed {
        Reply::ok(timed_response(shared, &rec))
    } else {
        Reply::ok(imagined_item(shared, &rec, false))
    }
}

/// The `ImaginedItem` shape of an uploaded item.
pub(crate) fn upload_item(u: &UploadRecord) -> Value {
    json!({
        "generation_uuid": null,
        "cost": 0,
        "primary_media_url": u.url,
        "description": u.fields.iter().find(|(k, _)| k == "caption" || k == "description").map(|(_, v)| v.clone()),
        "prompt": null,
        "is_done": true,
        "is_failed": false,
        "uuid": u.uuid,
        "info": null,
        "secondary_media_urls": null,
        "error": null,
        "note": null,
    })
}

/// `POST /imagine/history/delete`.
pub(crate) fn delete(shared: &Shared, body: &Value) -> Reply {
    let uuids: Vec<String> = body
        .get("uuids")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let mut successes = Vec::new();
    let mut failures = Vec::new();
    let mut gens = lock(&shared.generations);
    let mut uploads = lock(&shared.uploads);
    for id in uuids {
        let mut found = false;
        for g in gens.iter_mut().filter(|g| !g.deleted) {
            if g.media_uuid == id || g.generation_uuid == id {
                g.deleted = true;
                found = true;
            }
        }
        for u in uploads.iter_mut().filter(|u| !u.deleted && u.uuid == id) {
            u.deleted = true;
            found = true;
        }
        if found {
            successes.push(id);
        } else {
            failures.push(id);
        }
    }
    Reply::ok(json!({"successes": successes, "failures": failures}))
}

/// `GET /imagine/project/{uuid}`.
pub(crate) fn project(shared: &Shared, uuid: &str) -> Reply {
    if let Some(g) = lock(&shared.generations)
        .iter()
        .find(|g| !g.deleted && (g.media_uuid == uuid || g.generation_uuid == uuid))
    {
        return Reply::ok(imagined_item(shared, g, false));
    }
    if let Some(u) = lock(&shared.uploads)
        .iter()
        .find(|u| !u.deleted && u.uuid == uuid)
    {
        return Reply::ok(upload_item(u));
    }
    // The operation declares only 200 and 422, so an unknown uuid is a 422
    // on the path parameter (the real API's 404 is not in its contract).
    Reply::validation(
        &["path", "uuid"],
        &format!("No imagine project or image with uuid {uuid}."),
        "value_error",
    )
}

/// Bytes for `/media/{file}` of a generation, if the job finished.
pub(crate) fn media_bytes(shared: &Shared, stem: &str) -> Option<(MediaKind, Vec<u8>)> {
    let (uuid, texture) = match stem.strip_suffix("-texture") {
        Some(u) => (u, true),
        None => (stem, false),
    };
    let gens = lock(&shared.generations);
    let g = gens.iter().find(|g| g.media_uuid == uuid && !g.deleted)?;
    if !g.is_done() {
        return None;
    }
    let seed = mix64(shared.config.seed ^ g.seq);
    if texture {
        return Some((MediaKind::Image, MediaKind::Image.render(seed)));
    }
    Some((g.kind, g.kind.render(seed)))
}
