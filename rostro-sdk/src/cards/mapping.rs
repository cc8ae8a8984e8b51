//! The mapping between the API's character definition and a card, both ways. The table is in
//! the module docs of [`crate::cards`].

use serde_json::{Map, Value, json};

use super::{CardDataV3, CardV3, CharacterBook, CharacterBookEntry};

/// Definition keys that have a card slot (everything else goes to `extensions.rostro`).
const MAPPED: &[&str] = &[
    "name",
    "description",
    "personality",
    "scenario",
    "first_message",
    "alternate_greetings",
    "example_dialogs",
    "system_prompt",
    "post_history_instructions",
    "creator_notes",
    "character_version",
    "embedded_lorebook",
    "extensions",
    "related_lorebooks",
];

/// The fields of a character book, as a lorebook's definition carries them.
const BOOK_FIELDS: &[&str] = &[
    "name",
    "description",
    "scan_depth",
    "token_budget",
    "recursive_scanning",
    "extensions",
    "entries",
];

/// Node keys read into the card (besides `definition`); the rest is presentation or counters.
const NODE_KEPT: &[&str] = &["id", "fullPath", "tagline", "nsfw", "nsfl"];

fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// Unix seconds from an RFC 3339 time (`2024-05-01T12:00:00Z`) or a number.
fn unix_seconds(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => parse_rfc3339(s),
        _ => None,
    }
}

fn parse_rfc3339(s: &str) -> Option<i64> {
    let (date, time) = s.split_once(['T', ' '])?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let time = time.trim_end_matches('Z');
    let (clock, offset) = match time.find(['+', '-']) {
        Some(i) => (&time[..i], Some(&time[i..])),
        None => (time, None),
    };
    let mut t = clock.split(':');
    let h: i64 = t.next()?.parse().ok()?;
    let min: i64 = t.next()?.parse().ok()?;
    let sec: i64 = t
        .next()
        .map(|x| x.split('.').next().unwrap_or("0").parse().ok())
        .unwrap_or(Some(0))?;
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let mut secs = days * 86_400 + h * 3600 + min * 60 + sec;
    if let Some(off) = offset {
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let mut parts = off[1..].split(':');
        let oh: i64 = parts.next()?.parse().ok()?;
        let om: i64 = parts.next().unwrap_or("0").parse().ok()?;
        secs -= sign * (oh * 3600 + om * 60);
    }
    Some(secs)
}

/// A lorebook's `definition` (or its project node) as a [`CharacterBook`]: the API's entry
/// `key` is the card's `keys`; other entry fields keep their names.
pub fn book_from_lorebook(lorebook: &Value) -> CharacterBook {
    let node = lorebook.get("node").unwrap_or(lorebook);
    let def = node.get("definition").unwrap_or(node);
    let book_src = def.get("embedded_lorebook").unwrap_or(def);
    // Only the book's own fields: a lorebook project's definition also carries character
    // fields (personality, first_message, ...) that are not part of a character book.
    let mut fields = Map::new();
    if let Value::Object(src) = book_src {
        for k in BOOK_FIELDS {
            if let Some(v) = src.get(*k) {
                fields.insert((*k).into(), v.clone());
            }
        }
    }
    let mut book: CharacterBook =
        serde_json::from_value(rename_entries(&Value::Object(fields), "key", "keys"))
            .unwrap_or_default();
    if book.name.is_none() {
        book.name = def
            .get("name")
            .or_else(|| node.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned);
    }
    if book.description.is_none() {
        book.description = def
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned);
    }
    let mut origin = Map::new();
    for k in ["id", "fullPath"] {
        if let Some(v) = node.get(k) {
            origin.insert(k.into(), v.clone());
        }
    }
    if !origin.is_empty() {
        book.extensions
            .insert("rostro".into(), json!({ "lorebook": origin }));
    }
    book
}

/// The API's lorebook create/update body for a [`CharacterBook`]: the inverse of
/// [`book_from_lorebook`].
pub fn lorebook_body(book: &CharacterBook, fallback_name: &str) -> Value {
    let mut book = book.clone();
    if let Some(Value::Object(r)) = book.extensions.get_mut("rostro") {
        r.remove("lorebook");
        r.remove("linked_lorebooks");
    }
    if matches!(book.extensions.get("rostro"), Some(Value::Object(r)) if r.is_empty()) {
        book.extensions.remove("rostro");
    }
    let mut v = rename_entries(
        &serde_json::to_value(&book).unwrap_or_default(),
        "keys",
        "key",
    );
    if book.name.as_deref().is_none_or(str::is_empty) {
        v["name"] = Value::from(format!("{fallback_name} lorebook"));
    }
    v
}

fn rename_entries(book: &Value, from: &str, to: &str) -> Value {
    let mut book = book.clone();
    if let Some(Value::Array(entries)) = book.get_mut("entries") {
        for e in entries {
            if let Some(obj) = e.as_object_mut()
                && let Some(k) = obj.remove(from)
            {
                obj.insert(to.into(), k);
            }
        }
    }
    book
}

/// Builds the V3 card of a character from its public project (`GET /api/public/...` with
/// `full=true`: `{node: {..., definition}}`) and the lorebooks linked to it (each the same
/// kind of response). See the mapping table in [`crate::cards`].
pub fn card_from_project(project: &Value, lorebooks: &[Value]) -> CardV3 {
    let node = project.get("node").unwrap_or(project);
    let empty = Value::Object(Map::new());
    let def = node.get("definition").unwrap_or(&empty);
    let get = |k: &str| def.get(k).or_else(|| node.get(k));
    let mut extensions = match def.get("extensions") {
        Some(Value::Object(m)) => m.clone(),
        _ => Map::new(),
    };
    let mut rostro = match extensions.remove("rostro") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    // Card fields the API has no slot for, kept by `import_of` under `extensions.rostro`.
    let nickname = rostro
        .remove("nickname")
        .and_then(|v| v.as_str().map(str::to_owned));
    let group_only_greetings = strings(rostro.remove("group_only_greetings").as_ref());
    let creator_notes_multilingual = match rostro.remove("creator_notes_multilingual") {
        Some(Value::Object(m)) => Some(m),
        _ => None,
    };
    let original_creator = rostro
        .remove("original_creator")
        .and_then(|v| v.as_str().map(str::to_owned));
    keep_unmapped(node, def, &mut rostro);
    let (book, linked) = merge_lorebooks(def, lorebooks);
    if !linked.is_empty() {
        rostro.insert("linked_lorebooks".into(), Value::Array(linked));
    }
    if !rostro.is_empty() {
        extensions.insert("rostro".into(), Value::Object(rostro));
    }
    let creator = original_creator.unwrap_or_else(|| {
        node.get("creator")
            .or_else(|| node.get("username"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| text(def.get("creator")))
    });
    let full_path = node.get("fullPath").and_then(Value::as_str);
    CardV3::new(CardDataV3 {
        name: text(get("name")),
        description: text(def.get("description").or_else(|| node.get("description"))),
        personality: text(def.get("personality")),
        scenario: text(def.get("scenario")),
        first_mes: text(def.get("first_message")),
        mes_example: text(def.get("example_dialogs")),
        creator_notes: text(def.get("creator_notes")),
        system_prompt: text(def.get("system_prompt")),
        post_history_instructions: text(def.get("post_history_instructions")),
        alternate_greetings: strings(def.get("alternate_greetings")),
        character_book: book,
        tags: strings(node.get("topics").or_else(|| node.get("tags"))),
        creator,
        character_version: text(def.get("character_version")),
        extensions,
        source: full_path.map(|p| vec![format!("rostro:characters/{p}")]),
        creation_date: unix_seconds(node.get("createdAt").or_else(|| node.get("created_at"))),
        modification_date: unix_seconds(
            node.get("lastActivityAt")
                .or_else(|| node.get("updated_at")),
        ),
        group_only_greetings,
        nickname,
        creator_notes_multilingual,
        ..Default::default()
    })
}

/// Keeps under `extensions.rostro` what the card has no field for: the kept node fields and
/// the definition's unmapped keys.
fn keep_unmapped(node: &Value, def: &Value, rostro: &mut Map<String, Value>) {
    for k in NODE_KEPT {
        if let Some(v) = node.get(*k)
            && !v.is_null()
        {
            rostro.insert((*k).into(), v.clone());
        }
    }
    let mut unmapped = Map::new();
    if let Value::Object(d) = def {
        for (k, v) in d {
            if !MAPPED.contains(&k.as_str()) && !v.is_null() {
                unmapped.insert(k.clone(), v.clone());
            }
        }
    }
    if !unmapped.is_empty() {
        rostro.insert("definition".into(), Value::Object(unmapped));
    }
}

/// The card's one character book (the embedded lorebook and the linked ones merged), and
/// the references of the linked lorebooks.
fn merge_lorebooks(def: &Value, lorebooks: &[Value]) -> (Option<CharacterBook>, Vec<Value>) {
    let mut book: Option<CharacterBook> = def
        .get("embedded_lorebook")
        .filter(|v| v.is_object())
        .map(|v| book_from_lorebook(&json!({ "definition": { "embedded_lorebook": v } })));
    let mut linked = Vec::new();
    for lb in lorebooks {
        let b = book_from_lorebook(lb);
        let lnode = lb.get("node").unwrap_or(lb);
        linked.push(json!({
            "id": lnode.get("id"),
            "fullPath": lnode.get("fullPath"),
            "name": b.name,
        }));
        match &mut book {
            None => book = Some(b),
            Some(book) => {
                // Several books become one: entries appended, each tagged with its book.
                let id = lnode.get("id").cloned().unwrap_or(Value::Null);
                for mut e in b.entries {
                    e.extensions
                        .insert("rostro".into(), json!({ "lorebook_id": id }));
                    book.entries.push(e);
                }
            }
        }
    }
    (book, linked)
}

/// What importing a card sends: the character's create body, and the lorebook to create and
/// link first (from `character_book`).
#[derive(Debug, Clone, PartialEq)]
pub struct CardImport {
    /// The body of `POST /api/core/characters`, in the API's field names (the same names
    /// [`card_from_project`] reads, so the mapping is its own inverse).
    pub character: Value,
    /// The body of `POST /api/core/lorebooks`, when the card has a book.
    pub lorebook: Option<Value>,
}

/// Maps a card back to the API's create fields (the inverse of [`card_from_project`]):
/// `extensions.rostro.definition` fields come back as definition fields, the server-owned
/// ones (`id`, `fullPath`, dates, `source`, `assets`) are not sent, and every other extension
/// is sent as `extensions`.
pub fn import_of(card: &CardV3) -> CardImport {
    let d = &card.data;
    let mut extensions = d.extensions.clone();
    let mut body = Map::new();
    let mut rostro = match extensions.remove("rostro") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    if let Some(Value::Object(def)) = rostro.remove("definition") {
        body.extend(def);
    }
    for k in ["id", "fullPath", "linked_lorebooks", "nsfl"] {
        rostro.remove(k);
    }
    if let Some(t) = rostro.remove("tagline") {
        body.insert("tagline".into(), t);
    }
    if let Some(n) = rostro.remove("nsfw") {
        body.insert("nsfw".into(), n);
    }
    let mut put = |k: &str, v: Value| {
        body.insert(k.into(), v);
    };
    put("name", d.name.clone().into());
    put("description", d.description.clone().into());
    put("personality", d.personality.clone().into());
    put("scenario", d.scenario.clone().into());
    put("first_message", d.first_mes.clone().into());
    put("alternate_greetings", d.alternate_greetings.clone().into());
    put("example_dialogs", d.mes_example.clone().into());
    put("system_prompt", d.system_prompt.clone().into());
    put(
        "post_history_instructions",
        d.post_history_instructions.clone().into(),
    );
    put("creator_notes", d.creator_notes.clone().into());
    put("character_version", d.character_version.clone().into());
    put("topics", d.tags.clone().into());
    if let Some(nick) = &d.nickname {
        rostro.insert("nickname".into(), nick.clone().into());
    }
    if !d.group_only_greetings.is_empty() {
        rostro.insert(
            "group_only_greetings".into(),
            d.group_only_greetings.clone().into(),
        );
    }
    if let Some(m) = &d.creator_notes_multilingual {
        rostro.insert(
            "creator_notes_multilingual".into(),
            Value::Object(m.clone()),
        );
    }
    if !d.creator.is_empty() {
        rostro.insert("original_creator".into(), d.creator.clone().into());
    }
    if !rostro.is_empty() {
        extensions.insert("rostro".into(), Value::Object(rostro));
    }
    if !extensions.is_empty() {
        put("extensions", Value::Object(extensions));
    }
    CardImport {
        character: Value::Object(body),
        lorebook: d
            .character_book
            .as_ref()
            .map(|b| lorebook_body(&without_origin(b), &d.name)),
    }
}

/// The book without the per-entry origin tags [`card_from_project`] adds when it merges books.
fn without_origin(book: &CharacterBook) -> CharacterBook {
    let mut book = book.clone();
    for e in &mut book.entries {
        strip_origin(e);
    }
    book
}

fn strip_origin(e: &mut CharacterBookEntry) {
    if let Some(Value::Object(r)) = e.extensions.get_mut("rostro") {
        r.remove("lorebook_id");
        if r.is_empty() {
            e.extensions.remove("rostro");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_to_unix() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2023-01-01T00:00:00Z"), Some(1_672_531_200));
        assert_eq!(
            parse_rfc3339("2023-01-01T01:00:00+01:00"),
            Some(1_672_531_200)
        );
        assert_eq!(parse_rfc3339("2024-02-29T12:30:15.5Z"), Some(1_709_209_815));
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
