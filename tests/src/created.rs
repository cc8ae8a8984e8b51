//! What users create: characters, lorebooks and chats, kept as stateful
//! collections (persisted with the sandbox, see crate::sandbox) so a create is
//! followed by a get, a search by id or path, an update and a delete that see
//! it, as on the real API.
//!
//! Created characters and lorebooks (and edited copies of seeded ones) are
//! served by the catalog routes
//! (`GET /api/public/{space}/{id}` and `/{namespace}/{creator}/{slug}`) in the
//! catalog's node shape, with the create fields as the definition: the same
//! shape a card export reads.

use serde_json::{Map, Value, json};

use crate::reply::Reply;
use crate::state::{Shared, lock};

/// The owner of everything created in the mock (the placeholder key's user).
pub(crate) const OWNER: &str = "mock-user";

/// Ids of created projects start here, far above the seeded catalog's.
const FIRST_ID: u64 = 9_000_000;

/// The named collection as a list (made empty when missing or not a list).
pub(crate) fn list<'a>(map: &'a mut Map<String, Value>, name: &str) -> &'a mut Vec<Value> {
    let v = map
        .entry(name.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if !v.is_array() {
        *v = Value::Array(Vec::new());
    }
    match v {
        Value::Array(a) => a,
        _ => unreachable!("made an array above"),
    }
}

fn id_is(v: &Value, id: &str) -> bool {
    v["id"].as_u64().is_some_and(|n| id.trim().parse() == Ok(n))
}

fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() {
        "untitled".to_owned()
    } else {
        out
    }
}

fn object(body: &Value) -> Result<Map<String, Value>, Reply> {
    body.as_object().cloned().ok_or_else(|| {
        Reply::validation(&["body"], "Input should be a valid dictionary", "dict_type")
    })
}

/// `POST /api/core/characters` (`space = "characters"`) and
/// `POST /api/core/lorebooks` (`"lorebooks"`): stores the project and answers
/// the contract's `APIResponse` (`message`, `success`) plus `node`, the new
/// project with its id and `fullPath`. The `node` member is the mock's own: the
/// reference documents only `message` and `success`, and the CLI copes with both.
pub(crate) fn create_project(shared: &Shared, space: &str, body: &Value) -> Reply {
    let mut def = match object(body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let name = def
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_owned();
    if name.is_empty() {
        return Reply::validation(&["body", "name"], "Field required", "missing");
    }
    let id = FIRST_ID + shared.next_seq();
    // Node-level fields live beside the definition, as the catalog serves them.
    let tagline = def.remove("tagline").unwrap_or(Value::Null);
    let nsfw = def.remove("nsfw").unwrap_or(Value::Bool(false));
    let topics = def.remove("topics").unwrap_or_else(|| json!([]));
    def.remove("avatar");
    if space == "characters" {
        def.entry("related_lorebooks").or_insert_with(|| json!([]));
    }
    let full_path = format!("{OWNER}/{}-{id}", slug(&name));
    let node = json!({
        "id": id,
        "name": name,
        "fullPath": full_path,
        "projectSpace": space,
        "creator": OWNER,
        "username": OWNER,
        "tagline": tagline,
        "description": def.get("description").cloned().unwrap_or(Value::Null),
        "topics": topics,
        "tags": topics,
        "nsfw": nsfw,
        "is_public": false,
        "createdAt": crate::util::rfc3339(crate::util::unix_now()),
        "definition": def,
    });
    list(&mut lock(&shared.collections), "projects").push(node.clone());
    Reply::ok(json!({ "message": "success", "success": true, "node": served(shared, node) }))
}

/// A stored node as served: media URLs follow this mock's base URL (a sandbox
/// outlives the port that wrote it), so they are never stored.
fn served(shared: &Shared, mut node: Value) -> Value {
    let id = node["id"].as_u64().unwrap_or(0);
    // A generated avatar stands in for an uploaded one.
    let url = format!("{}/media/avatar-{id}.png", shared.base_url);
    node["avatar_url"] = json!(url);
    node["max_res_url"] = json!(url);
    node
}

/// A created project by id (`space` must match) or by `creator/slug`.
pub(crate) fn project(shared: &Shared, space: &str, id: Option<&str>, path: &str) -> Option<Value> {
    let mut c = lock(&shared.collections);
    let found = list(&mut c, "projects")
        .iter()
        .find(|p| match id {
            Some(id) => id_is(p, id) && (space.is_empty() || p["projectSpace"] == space),
            None => p["fullPath"]
                .as_str()
                .is_some_and(|f| f.eq_ignore_ascii_case(path)),
        })
        .cloned();
    drop(c);
    found.map(|n| served(shared, n))
}

/// `PUT /api/core/characters/{username}/{pathname}` and
/// `PUT /api/core/lorebooks/{project_id}`: merges the fields into the definition.
pub(crate) fn update_project(shared: &Shared, id: Option<&str>, path: &str, body: &Value) -> Reply {
    let fields = match object(body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let matches = |p: &Value| match id {
        Some(id) => id_is(p, id),
        None => p["fullPath"]
            .as_str()
            .is_some_and(|f| f.eq_ignore_ascii_case(path)),
    };
    let mut c = lock(&shared.collections);
    let projects = list(&mut c, "projects");
    if !projects.iter().any(&matches) {
        // A seeded entry changes by a copy kept beside the catalog, which the
        // catalog routes then serve instead of the original.
        let entry = shared.catalog.entries().iter().find(|e| match id {
            Some(id) => id.trim() == e.id.to_string(),
            None => e.full_path.eq_ignore_ascii_case(path),
        });
        let Some(e) = entry else {
            return Reply::user_error(404, "Project not found.");
        };
        let mut node = e.node(&shared.base_url);
        node["definition"] = shared.catalog.full_definition(e);
        projects.push(node);
    }
    let Some(p) = projects.iter_mut().find(|p| matches(p)) else {
        return Reply::user_error(404, "Project not found.");
    };
    for (k, v) in fields {
        match k.as_str() {
            "tagline" | "nsfw" => p[&k] = v,
            "topics" => {
                p["topics"] = v.clone();
                p["tags"] = v;
            }
            "id" | "fullPath" => {}
            _ => {
                if k == "name" {
                    p["name"] = v.clone();
                }
                p["definition"][&k] = v;
            }
        }
    }
    let node = p.clone();
    drop(c);
    Reply::ok(json!({ "node": served(shared, node) }))
}

/// `POST|DELETE /api/core/characters/link/{username}/{pathname}/lorebook/{project_id}`:
/// links (or unlinks) a lorebook to a created or seeded character.
pub(crate) fn link_lorebook(shared: &Shared, path: &str, book: &str, link: bool) -> Reply {
    let Ok(book_id) = book.trim().parse::<u64>() else {
        return Reply::validation(
            &["path", "project_id"],
            "Input should be a valid integer",
            "int_parsing",
        );
    };
    let exists = project(shared, "lorebooks", Some(book), "").is_some()
        || shared
            .catalog
            .entries()
            .iter()
            .any(|e| e.id == book_id && e.namespace == "lorebooks");
    if !exists {
        return Reply::user_error(404, "Lorebook not found.");
    }
    // Through the update path, so a seeded character gets its edited copy.
    let current = match update_project(shared, None, path, &json!({})) {
        r if r.status != 200 => return r,
        _ => project(shared, "", None, path).unwrap_or(Value::Null),
    };
    let mut ids: Vec<u64> = current["definition"]["related_lorebooks"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    ids.retain(|&i| i != book_id);
    if link {
        ids.push(book_id);
    }
    update_project(shared, None, path, &json!({ "related_lorebooks": ids }));
    Reply::ok(json!({"message": "success", "success": true}))
}

/// `POST /api/core/chats`: starts a chat (with `character_ids` / `project_id`
/// when given) and answers it with its id.
pub(crate) fn create_chat(shared: &Shared, body: &Value) -> Reply {
    let fields = match object(body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let id = shared.next_seq();
    let mut chat = fields;
    chat.insert("id".into(), json!(id));
    chat.entry("name")
        .or_insert_with(|| json!(format!("Chat {id}")));
    chat.entry("messages").or_insert_with(|| json!([]));
    let now = crate::util::rfc3339(crate::util::unix_now());
    chat.insert("created_at".into(), json!(now));
    chat.insert("updated_at".into(), json!(now));
    let chat = Value::Object(chat);
    list(&mut lock(&shared.collections), "chats").push(chat.clone());
    Reply::ok(chat)
}

/// `GET /api/core/chats`: the chats started, newest first, filtered by
/// `search` (name, case-insensitive) and paged by `limit` and `cursor` (or `offset`).
pub(crate) fn list_chats(shared: &Shared, query: &[(String, String)]) -> Reply {
    let q = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let mut c = lock(&shared.collections);
    let mut chats: Vec<Value> = list(&mut c, "chats").iter().rev().cloned().collect();
    if let Some(s) = q("search").map(str::to_lowercase) {
        chats.retain(|ch| {
            ch["name"]
                .as_str()
                .is_some_and(|n| n.to_lowercase().contains(&s))
        });
    }
    let total = chats.len();
    // The cursor is the offset of the next page, as an opaque string.
    let offset = q("cursor")
        .or_else(|| q("offset"))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0usize);
    let limit = q("limit").and_then(|v| v.parse().ok()).unwrap_or(50usize);
    let page: Vec<Value> = chats
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|mut ch| {
            // The list shows chats, not their transcripts.
            if let Some(m) = ch.as_object_mut() {
                m.remove("messages");
            }
            ch
        })
        .collect();
    let next = offset + page.len();
    let cursor = (next < total).then(|| next.to_string());
    Reply::ok(json!({ "chats": page, "count": total, "cursor": cursor }))
}

/// `GET /api/core/chats/v2/{chat_id}`: one chat with its messages.
pub(crate) fn get_chat(shared: &Shared, id: &str) -> Reply {
    let mut c = lock(&shared.collections);
    match list(&mut c, "chats").iter().find(|ch| id_is(ch, id)) {
        Some(ch) => Reply::ok(json!({ "chat": ch })),
        None => Reply::user_error(404, &format!("No chat with id {id}.")),
    }
}

/// `POST /api/core/chats/v2/{chat_id}/messages/atomic`: appends the body's
/// `messages` (or the body itself as one message).
pub(crate) fn add_messages(shared: &Shared, id: &str, body: &Value) -> Reply {
    let new: Vec<Value> = match body.get("messages").and_then(Value::as_array) {
        Some(m) => m.clone(),
        None if body.is_object() => vec![body.clone()],
        None => {
            return Reply::validation(&["body"], "Input should be a valid dictionary", "dict_type");
        }
    };
    let mut c = lock(&shared.collections);
    let Some(ch) = list(&mut c, "chats").iter_mut().find(|ch| id_is(ch, id)) else {
        return Reply::user_error(404, &format!("No chat with id {id}."));
    };
    let mut ids = Vec::new();
    for mut m in new {
        let mid = shared.next_seq();
        m["id"] = json!(mid);
        ids.push(mid);
        if let Some(a) = ch["messages"].as_array_mut() {
            a.push(m);
        }
    }
    ch["updated_at"] = json!(crate::util::rfc3339(crate::util::unix_now()));
    Reply::ok(json!({ "success": true, "message_ids": ids }))
}

/// `DELETE /api/core/chats/{chat_id}`.
pub(crate) fn delete_chat(shared: &Shared, id: &str) -> Reply {
    let mut c = lock(&shared.collections);
    let chats = list(&mut c, "chats");
    let before = chats.len();
    chats.retain(|ch| !id_is(ch, id));
    if chats.len() == before {
        return Reply::user_error(404, &format!("No chat with id {id}."));
    }
    Reply::ok(json!({"message": "success", "success": true}))
}
