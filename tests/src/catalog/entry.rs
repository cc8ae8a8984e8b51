//! Catalog entries, their generation from the seed, and search.

use super::*;

/// One project in the catalog (a character or a lorebook).
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogEntry {
    /// Project id (characters from 1001, lorebooks from 500001).
    pub id: u64,
    /// `characters` or `lorebooks`.
    pub namespace: &'static str,
    /// Display name.
    pub name: String,
    /// Creator username.
    pub creator: String,
    /// `creator/slug`.
    pub full_path: String,
    /// One-line tagline.
    pub tagline: String,
    /// Longer description.
    pub description: String,
    /// Tags (topics), including `NSFW`/`NSFL` when flagged.
    pub tags: Vec<String>,
    /// NSFW flag.
    pub nsfw: bool,
    /// NSFL flag (always also NSFW).
    pub nsfl: bool,
    /// Token count of the definition.
    pub n_tokens: u64,
    /// Stars.
    pub stars: u64,
    /// Downloads.
    pub downloads: u64,
    /// Favorites.
    pub favorites: u64,
    /// Chats started.
    pub chats: u64,
    /// Messages sent.
    pub messages: u64,
    /// Average rating 0..=5.
    pub rating: f64,
    /// Number of ratings.
    pub rating_count: u64,
    /// Forks.
    pub forks: u64,
    /// Lorebook entries (0 for characters).
    pub entries: u64,
    /// Creation time, Unix seconds.
    pub created_at: u64,
    /// Last activity, Unix seconds.
    pub last_activity_at: u64,
    /// Trending score used by the default sort.
    pub score: u64,
    /// Language code.
    pub language: &'static str,
    /// Whether usage gallery images exist.
    pub has_gallery: bool,
}

impl CatalogEntry {
    /// The character's (or lorebook's) definition, derived from the entry so tests can assert
    /// what a client builds from it.
    pub fn definition(&self) -> Value {
        json!({
            "name": self.name,
            "description": self.description,
            "personality": format!("{} Curious and kind.", self.tagline),
            "scenario": format!("{} meets the user for the first time.", self.name),
            "first_message": format!("Hello, I am {}.", self.name),
            "example_dialogs": format!("{{{{user}}}}: Who are you?\n{{{{char}}}}: I am {}.", self.name),
            "system_prompt": "",
            "tavern_personality": "",
        })
    }

    /// The search node JSON for this entry (`base` is the mock's URL, used
    /// for avatar URLs).
    pub fn node(&self, base: &str) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "fullPath": self.full_path,
            "projectSpace": self.namespace,
            "creator": self.creator,
            "username": self.creator,
            "tagline": self.tagline,
            "description": self.description,
            "topics": self.tags,
            "tags": self.tags,
            "nsfw": self.nsfw,
            "nsfw_image": self.nsfw,
            "nsfl": self.nsfl,
            "nTokens": self.n_tokens,
            "token_count": self.n_tokens,
            "starCount": self.stars,
            "downloadCount": self.downloads,
            "n_favorites": self.favorites,
            "nChats": self.chats,
            "nMessages": self.messages,
            "rating": self.rating,
            "ratingCount": self.rating_count,
            "forksCount": self.forks,
            "n_entries": self.entries,
            "createdAt": rfc3339(self.created_at),
            "lastActivityAt": rfc3339(self.last_activity_at),
            "language": self.language,
            "hasGallery": self.has_gallery,
            "is_public": true,
            "avatar_url": format!("{base}/media/avatar-{}.png", self.id),
            "max_res_url": format!("{base}/media/avatar-{}.png", self.id),
        })
    }
}

/// The whole seeded catalog.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub(super) entries: Vec<CatalogEntry>,
}

pub(super) fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

impl Catalog {
    /// Builds `characters` characters and `lorebooks` lorebooks from `seed`.
    /// The same arguments always give the same catalog.
    pub fn generate(seed: u64, characters: usize, lorebooks: usize) -> Catalog {
        let mut rng = SplitMix64::new(seed ^ 0xC47A_1060);
        let entries = (0..characters + lorebooks)
            .map(|i| Self::entry(&mut rng, seed, i, characters))
            .collect();
        Catalog { entries }
    }

    /// The `i`th entry (characters first, then lorebooks), drawn from `rng` in order.
    fn entry(rng: &mut SplitMix64, seed: u64, i: usize, characters: usize) -> CatalogEntry {
        let is_lore = i >= characters;
        let (id, namespace) = if is_lore {
            (500_001 + (i - characters) as u64, "lorebooks")
        } else {
            (1_001 + i as u64, "characters")
        };
        let name = entry_name(rng, is_lore);
        let creator = rng.pick(CREATORS).to_string();
        let (tags, nsfw, nsfl) = entry_tags(rng);
        let role = rng.pick(ROLES);
        let tagline = if is_lore {
            format!("A lorebook about {} and its people.", name.to_lowercase())
        } else {
            format!("{name}, {role}.")
        };
        let description = format!(
            "{} Themes: {}. Created by {creator}.",
            if is_lore {
                format!("World notes for roleplay set in {name}.")
            } else {
                format!("Meet {name}, {role} with a secret.")
            },
            tags.join(", ")
        );
        let created_at = 1_672_531_200 + rng.range(0, 2 * 365 * 86_400);
        let last_activity_at = created_at + rng.range(0, 180 * 86_400);
        let stars = rng.range(0, 5_000);
        CatalogEntry {
            id,
            namespace,
            full_path: format!("{creator}/{}-{}", slug(&name), id),
            name,
            creator,
            tagline,
            description,
            tags,
            nsfw,
            nsfl,
            n_tokens: if is_lore {
                rng.range(500, 40_000)
            } else {
                rng.range(100, 8_000)
            },
            stars,
            downloads: stars * rng.range(2, 20),
            favorites: stars / rng.range(2, 6),
            chats: rng.range(0, 20_000),
            messages: rng.range(0, 500_000),
            rating: (rng.range(0, 51) as f64) / 10.0,
            rating_count: rng.range(0, 300),
            forks: rng.range(0, 40),
            entries: if is_lore { rng.range(3, 200) } else { 0 },
            created_at,
            last_activity_at,
            score: mix64(seed ^ id) % 1_000_000,
            language: if rng.chance(90) { "en" } else { "es" },
            has_gallery: rng.chance(30),
        }
    }

    /// Every entry, characters first.
    pub fn entries(&self) -> &[CatalogEntry] {
        &self.entries
    }

    /// Characters only.
    pub fn characters(&self) -> impl Iterator<Item = &CatalogEntry> {
        self.entries.iter().filter(|e| e.namespace == "characters")
    }

    /// Lorebooks only.
    pub fn lorebooks(&self) -> impl Iterator<Item = &CatalogEntry> {
        self.entries.iter().filter(|e| e.namespace == "lorebooks")
    }

    /// Runs a search (the parameters of `GET /search`) and returns the page.
    /// NSFW entries are excluded unless `nsfw` (or `nsfw_only`) asks for them,
    /// the reference's default for every caller.
    pub(crate) fn search(&self, params: &Params) -> Result<SearchPage, Reply> {
        let filter = SearchFilter::from_params(params)?;
        let (first, offset) = page_window(params)?;
        let mut hits: Vec<&CatalogEntry> =
            self.entries.iter().filter(|e| filter.matches(e)).collect();

        let sort = params.str("sort").unwrap_or_default();
        let asc = params.bool("asc")?.unwrap_or(false);
        sort_entries(&mut hits, &sort, asc);
        let count = hits.len();
        let page: Vec<CatalogEntry> = hits
            .iter()
            .skip(offset)
            .take(first)
            .map(|e| (*e).clone())
            .collect();
        let next = offset + page.len();
        Ok(SearchPage {
            count,
            page: offset / first + 1,
            cursor: (next < count).then(|| encode_cursor(next)),
            nodes: page,
        })
    }

    /// Tag counts, optionally for one namespace and filtered by a substring.
    pub(crate) fn tags(&self, params: &Params) -> Result<Value, Reply> {
        let namespace = params.str("namespace").filter(|s| !s.is_empty());
        let search = params.str("search").map(|s| s.to_lowercase());
        let limit = params.int("limit")?.map(|l| l.max(0) as usize);
        let offset = params.int("offset")?.unwrap_or(0).max(0) as usize;
        let mut counts: BTreeMap<(String, &'static str), u64> = BTreeMap::new();
        for e in &self.entries {
            if namespace.as_deref().is_some_and(|n| n != e.namespace) {
                continue;
            }
            for t in &e.tags {
                *counts.entry((t.clone(), e.namespace)).or_default() += 1;
            }
        }
        let mut tags: Vec<_> = counts
            .into_iter()
            .filter(|((t, _), _)| search.as_ref().is_none_or(|s| t.to_lowercase().contains(s)))
            .collect();
        tags.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let total = tags.len();
        let tags: Vec<Value> = tags
            .into_iter()
            .skip(offset)
            .take(limit.unwrap_or(usize::MAX))
            .map(|((name, ns), count)| json!({"name": name, "count": count, "namespace": ns}))
            .collect();
        Ok(json!({"tags": tags, "count": total}))
    }
}

/// The filters of a `GET /search`, read from its parameters.
struct SearchFilter {
    namespace: &'static str,
    text: Option<Vec<Vec<String>>>,
    name_like: Option<String>,
    include: Vec<String>,
    exclude: Vec<String>,
    inclusive_or: bool,
    nsfw_only: bool,
    nsfw: bool,
    nsfl: bool,
    require_images: bool,
    min_tokens: Option<i64>,
    max_tokens: Option<i64>,
    min_tags: Option<i64>,
    creator: Option<String>,
    language: Option<String>,
}

impl SearchFilter {
    fn from_params(params: &Params) -> Result<SearchFilter, Reply> {
        let namespace = params
            .str("namespace")
            .unwrap_or_else(|| "characters".into());
        let namespace = match namespace.as_str() {
            "" | "characters" | "character" => "characters",
            "lorebooks" | "lorebook" => "lorebooks",
            _ => "",
        };
        let text = params.str("search").or_else(|| params.str("exact_search"));
        let text = text.map(|s| query_words(&s)).filter(|w| !w.is_empty());
        let name_like = params.str("name_like").map(|s| s.to_lowercase());
        let mut include = params.list("tags");
        include.extend(params.list("topics"));
        let mut exclude = params.list("exclude_tags");
        exclude.extend(params.list("excludetopics"));
        let inclusive_or = params.bool("inclusive_or")?.unwrap_or(false);
        let nsfw_only = params.bool("nsfw_only")?.unwrap_or(false);
        let nsfw = params.bool("nsfw")?.unwrap_or(nsfw_only);
        let nsfl = params.bool("nsfl")?.unwrap_or(nsfw);
        let require_images = params.bool("require_images")?.unwrap_or(false);
        let min_tokens = params.int("min_tokens")?;
        let max_tokens = params.int("max_tokens")?;
        let min_tags = params.int("min_tags")?;
        let creator = params
            .str("username")
            .or_else(|| params.str("creator"))
            .map(|s| s.to_lowercase())
            .filter(|s| !s.is_empty());
        let language = params.str("language").filter(|s| !s.is_empty());
        Ok(SearchFilter {
            namespace,
            text,
            name_like,
            include,
            exclude,
            inclusive_or,
            nsfw_only,
            nsfw,
            nsfl,
            require_images,
            min_tokens,
            max_tokens,
            min_tags,
            creator,
            language,
        })
    }

    /// Whether `e` passes every filter.
    fn matches(&self, e: &CatalogEntry) -> bool {
        let has = |t: &String| e.tags.iter().any(|x| x.eq_ignore_ascii_case(t));
        let included = if self.include.is_empty() {
            true
        } else if self.inclusive_or {
            self.include.iter().any(has)
        } else {
            self.include.iter().all(has)
        };
        e.namespace == self.namespace
            && (self.nsfw || !e.nsfw)
            && (self.nsfl || !e.nsfl)
            && (!self.nsfw_only || e.nsfw)
            && (!self.require_images || e.has_gallery)
            && self.text.as_ref().is_none_or(|words| {
                let haystack = entry_words(e);
                words.iter().all(|w| word_matches(w, &haystack))
            })
            && self
                .name_like
                .as_ref()
                .is_none_or(|t| e.name.to_lowercase().contains(t))
            && included
            && !self.exclude.iter().any(has)
            && self.min_tokens.is_none_or(|m| e.n_tokens as i64 >= m)
            && self.max_tokens.is_none_or(|m| e.n_tokens as i64 <= m)
            && self.min_tags.is_none_or(|m| e.tags.len() as i64 >= m)
            && self
                .creator
                .as_ref()
                .is_none_or(|c| e.creator.to_lowercase() == *c)
            && self.language.as_ref().is_none_or(|l| e.language == l)
    }
}

/// The page size (`first`) and the offset a search starts at (`cursor`, else `page`).
fn page_window(params: &Params) -> Result<(usize, usize), Reply> {
    let first = match params.int("first")? {
        None => DEFAULT_PAGE_SIZE,
        Some(n) if n < 1 => {
            return Err(Reply::validation(
                &["query", "first"],
                "Input should be greater than or equal to 1",
                "greater_than_equal",
            ));
        }
        Some(n) => (n as usize).min(MAX_PAGE_SIZE),
    };
    let offset = match params
        .str("cursor")
        .filter(|c| !c.is_empty() && c != "null")
    {
        Some(c) => {
            decode_cursor(&c).ok_or_else(|| Reply::user_error(400, "Invalid pagination cursor."))?
        }
        None => {
            let page = params.int("page")?.unwrap_or(1).max(1) as usize;
            (page - 1) * first
        }
    };
    Ok((first, offset))
}

/// A generated entry's name: a person for a character, a codex for a lorebook.
fn entry_name(rng: &mut SplitMix64, is_lore: bool) -> String {
    if is_lore {
        format!(
            "The {} {} Codex",
            rng.pick(LAST)
                .trim_start_matches("the ")
                .trim_start_matches("of the "),
            rng.pick(LORE_TOPICS)
        )
    } else {
        format!("{} {}", rng.pick(FIRST), rng.pick(LAST))
    }
}

/// A generated entry's tags (one to five topics, then `NSFW`/`NSFL`) and its two flags.
fn entry_tags(rng: &mut SplitMix64) -> (Vec<String>, bool, bool) {
    let mut tags: Vec<String> = Vec::new();
    for _ in 0..rng.range(1, 6) {
        let t = rng.pick(TAGS).to_string();
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    let nsfw = rng.chance(25);
    let nsfl = nsfw && rng.chance(20);
    if nsfw {
        tags.push("NSFW".into());
    }
    if nsfl {
        tags.push("NSFL".into());
    }
    (tags, nsfw, nsfl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_deterministic() {
        let a = Catalog::generate(42, 50, 10);
        let b = Catalog::generate(42, 50, 10);
        assert_eq!(a.entries(), b.entries());
        assert_ne!(a.entries(), Catalog::generate(43, 50, 10).entries());
        assert_eq!(a.characters().count(), 50);
        assert_eq!(a.lorebooks().count(), 10);
    }

    #[test]
    fn full_definitions_link_existing_lorebooks_with_entries() {
        let c = Catalog::generate(7, 30, 5);
        for ch in c.characters() {
            let def = c.full_definition(ch);
            let ids = def["related_lorebooks"].as_array().unwrap();
            assert!(!ids.is_empty(), "{} links no lorebook", ch.id);
            for id in ids {
                let lb = c
                    .entries()
                    .iter()
                    .find(|e| Some(e.id) == id.as_u64())
                    .unwrap();
                let book = c.full_definition(lb);
                let entries = book["entries"].as_array().unwrap();
                assert!(!entries.is_empty());
                assert!(entries[0]["key"].as_array().is_some_and(|k| !k.is_empty()));
            }
            assert_eq!(def["alternate_greetings"].as_array().unwrap().len(), 2);
            // The base definition is unchanged underneath.
            assert_eq!(def["first_message"], ch.definition()["first_message"]);
        }
        let none = Catalog::generate(7, 3, 0);
        assert!(none.linked_lorebooks(&none.entries()[0]).is_empty());
    }

    #[test]
    fn cursors_round_trip() {
        assert_eq!(decode_cursor(&encode_cursor(40)), Some(40));
        assert_eq!(decode_cursor("garbage!"), None);
    }

    #[test]
    fn pages_cover_everything_once() {
        let c = Catalog::generate(1, 120, 0);
        let mut p = Params::default();
        p.0.insert("first".into(), json!(50));
        p.0.insert("nsfw".into(), json!(true));
        let mut seen = Vec::new();
        loop {
            let page = c.search(&p).unwrap();
            seen.extend(page.nodes.iter().map(|e| e.id));
            match page.cursor {
                Some(cur) => {
                    p.0.insert("cursor".into(), json!(cur));
                }
                None => break,
            }
        }
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 120);
    }
}
