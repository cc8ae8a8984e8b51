//! Lorebook definitions, character lookups and sorting.

use super::*;

/// Full definitions, as `GET /api/public/...?full=true` serves them: what a card exporter
/// needs (greetings, post-history instructions, creator notes, linked lorebooks) and, for
/// lorebooks, their entries.
impl Catalog {
    /// The definition served for `e`: [`CatalogEntry::definition`] plus the fields of a full
    /// character (alternate greetings, post-history instructions, creator notes, version,
    /// `related_lorebooks` ids of existing lorebooks) or a full lorebook (entries).
    pub fn full_definition(&self, e: &CatalogEntry) -> Value {
        let mut def = e.definition();
        if e.namespace == "lorebooks" {
            let entries: Vec<Value> = (0..e.entries.clamp(1, MAX_BOOK_ENTRIES))
                .map(|i| lorebook_entry(e, i))
                .collect();
            def["scan_depth"] = json!(4);
            def["token_budget"] = json!(512);
            def["recursive_scanning"] = json!(false);
            def["extensions"] = json!({});
            def["entries"] = Value::Array(entries);
            return def;
        }
        def["alternate_greetings"] = json!([
            format!("*{} looks up from the map.* Lost again?", e.name),
            format!("Back so soon? {} was expecting you.", e.name),
        ]);
        def["post_history_instructions"] = json!(format!(
            "Stay in character as {}; never speak for {{{{user}}}}.",
            e.name
        ));
        def["creator_notes"] = json!(format!("{} Best with a long context.", e.tagline));
        def["character_version"] = json!(format!("1.{}", e.id % 7));
        def["extensions"] = json!({});
        def["related_lorebooks"] = json!(self.linked_lorebooks(e));
        def
    }

    /// Ids of the lorebooks linked to character `e`: one for most characters, two for every
    /// third, none when the catalog has no lorebooks.
    pub fn linked_lorebooks(&self, e: &CatalogEntry) -> Vec<u64> {
        let books: Vec<u64> = self.lorebooks().map(|b| b.id).collect();
        if books.is_empty() || e.namespace != "characters" {
            return Vec::new();
        }
        let first = (mix64(e.id ^ 0x10EB_00C5) % books.len() as u64) as usize;
        let mut ids = vec![books[first]];
        if e.id.is_multiple_of(3) && books.len() > 1 {
            ids.push(books[(first + 1) % books.len()]);
        }
        ids
    }
}

/// Entry `i` of lorebook `e`, in the API's lorebook entry shape (`key`, `content`,
/// `enabled`, `insertion_order`, `case_sensitive`, ...).
pub(super) fn lorebook_entry(e: &CatalogEntry, i: u64) -> Value {
    let mut rng = SplitMix64::new(e.id.wrapping_mul(31) ^ i);
    let place = rng.pick(LORE_TOPICS);
    let who = rng.pick(FIRST);
    let selective = i % 2 == 1;
    json!({
        "id": i + 1,
        "key": [place.to_lowercase(), format!("{who} of the {place}")],
        "secondary_keys": if selective { json!([who.to_lowercase()]) } else { json!([]) },
        "content": format!("The {place} of {}: {who} keeps its records; outsiders need a writ to enter.", e.name),
        "enabled": true,
        "insertion_order": 100 + i as i64 * 10,
        "case_sensitive": false,
        "name": format!("{place} ({who})"),
        "priority": 10 - i as i64,
        "comment": format!("entry {} of {}", i + 1, e.full_path),
        "selective": selective,
        "constant": i == 0,
        "position": if i.is_multiple_of(2) { "before_char" } else { "after_char" },
        "extensions": {},
    })
}

pub(super) fn sort_entries(hits: &mut [&CatalogEntry], sort: &str, asc: bool) {
    let key = |e: &CatalogEntry| -> i128 {
        match sort {
            "id" => e.id as i128,
            "created_at" | "createdAt" | "created" | "newest" => e.created_at as i128,
            "last_activity_at" | "lastActivityAt" | "activity" | "updated_at" => {
                e.last_activity_at as i128
            }
            "star_count" | "starCount" | "stars" => e.stars as i128,
            "download_count" | "downloadCount" | "downloads" => e.downloads as i128,
            "n_tokens" | "nTokens" | "tokens" | "token_count" => e.n_tokens as i128,
            "rating" => (e.rating * 10.0) as i128,
            "n_favorites" | "favorites" => e.favorites as i128,
            "chats" | "n_chats" | "nChats" | "msgs_chat" => e.chats as i128,
            "random" => (mix64(e.id) >> 1) as i128,
            _ => e.score as i128,
        }
    };
    if sort == "name" {
        hits.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    } else {
        hits.sort_by(|a, b| key(a).cmp(&key(b)).then(a.id.cmp(&b.id)));
    }
    if !asc {
        hits.reverse();
    }
}
