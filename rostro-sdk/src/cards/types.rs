//! The card structs of the three published formats. Every struct keeps fields it does not
//! know in `extra`, so a card read and written again loses nothing.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `spec` of a Character Card V2.
pub const SPEC_V2: &str = "chara_card_v2";
/// `spec_version` of a Character Card V2.
pub const SPEC_VERSION_V2: &str = "2.0";
/// `spec` of a Character Card V3.
pub const SPEC_V3: &str = "chara_card_v3";
/// `spec_version` of a Character Card V3.
pub const SPEC_VERSION_V3: &str = "3.0";

/// Deserializes `null` as the default, since many real cards write `null` for empty fields.
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A V1 ("TavernAI") card: the flat legacy object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CardV1 {
    /// Character name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Description (the main definition).
    #[serde(default, deserialize_with = "null_default")]
    pub description: String,
    /// Personality summary.
    #[serde(default, deserialize_with = "null_default")]
    pub personality: String,
    /// Scenario.
    #[serde(default, deserialize_with = "null_default")]
    pub scenario: String,
    /// First message.
    #[serde(default, deserialize_with = "null_default")]
    pub first_mes: String,
    /// Example dialogues.
    #[serde(default, deserialize_with = "null_default")]
    pub mes_example: String,
    /// Fields this struct does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A Character Card V2 (`chara_card_v2`, `2.0`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardV2 {
    /// Always [`SPEC_V2`].
    pub spec: String,
    /// Always [`SPEC_VERSION_V2`].
    pub spec_version: String,
    /// The card's content.
    pub data: CardDataV2,
    /// Top-level fields besides `spec`, `spec_version` and `data` (V1 mirrors, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `data` of a V2 card.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CardDataV2 {
    /// Character name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Description (the main definition).
    #[serde(default, deserialize_with = "null_default")]
    pub description: String,
    /// Personality summary.
    #[serde(default, deserialize_with = "null_default")]
    pub personality: String,
    /// Scenario.
    #[serde(default, deserialize_with = "null_default")]
    pub scenario: String,
    /// First message.
    #[serde(default, deserialize_with = "null_default")]
    pub first_mes: String,
    /// Example dialogues.
    #[serde(default, deserialize_with = "null_default")]
    pub mes_example: String,
    /// Notes for people reading the card, not for the model.
    #[serde(default, deserialize_with = "null_default")]
    pub creator_notes: String,
    /// Replaces the front-end's system prompt (`{{original}}` keeps it).
    #[serde(default, deserialize_with = "null_default")]
    pub system_prompt: String,
    /// Sent after the chat history ("jailbreak").
    #[serde(default, deserialize_with = "null_default")]
    pub post_history_instructions: String,
    /// More first messages to pick from.
    #[serde(default, deserialize_with = "null_default")]
    pub alternate_greetings: Vec<String>,
    /// The card's own lorebook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub character_book: Option<CharacterBook>,
    /// Tags.
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
    /// Creator.
    #[serde(default, deserialize_with = "null_default")]
    pub creator: String,
    /// The card's own version string.
    #[serde(default, deserialize_with = "null_default")]
    pub character_version: String,
    /// Namespaced application data (`extensions.rostro`, `extensions.depth_prompt`, ...).
    #[serde(default, deserialize_with = "null_default")]
    pub extensions: Map<String, Value>,
    /// Fields this struct does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A Character Card V3 (`chara_card_v3`, `3.0`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardV3 {
    /// Always [`SPEC_V3`].
    pub spec: String,
    /// Always [`SPEC_VERSION_V3`].
    pub spec_version: String,
    /// The card's content.
    pub data: CardDataV3,
    /// Top-level fields besides `spec`, `spec_version` and `data`.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `data` of a V3 card: the V2 fields plus the V3 additions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CardDataV3 {
    /// Character name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Description (the main definition).
    #[serde(default, deserialize_with = "null_default")]
    pub description: String,
    /// Personality summary.
    #[serde(default, deserialize_with = "null_default")]
    pub personality: String,
    /// Scenario.
    #[serde(default, deserialize_with = "null_default")]
    pub scenario: String,
    /// First message.
    #[serde(default, deserialize_with = "null_default")]
    pub first_mes: String,
    /// Example dialogues.
    #[serde(default, deserialize_with = "null_default")]
    pub mes_example: String,
    /// Notes for people reading the card, not for the model.
    #[serde(default, deserialize_with = "null_default")]
    pub creator_notes: String,
    /// Replaces the front-end's system prompt (`{{original}}` keeps it).
    #[serde(default, deserialize_with = "null_default")]
    pub system_prompt: String,
    /// Sent after the chat history.
    #[serde(default, deserialize_with = "null_default")]
    pub post_history_instructions: String,
    /// More first messages to pick from.
    #[serde(default, deserialize_with = "null_default")]
    pub alternate_greetings: Vec<String>,
    /// The card's own lorebook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub character_book: Option<CharacterBook>,
    /// Tags.
    #[serde(default, deserialize_with = "null_default")]
    pub tags: Vec<String>,
    /// Creator.
    #[serde(default, deserialize_with = "null_default")]
    pub creator: String,
    /// The card's own version string.
    #[serde(default, deserialize_with = "null_default")]
    pub character_version: String,
    /// Namespaced application data.
    #[serde(default, deserialize_with = "null_default")]
    pub extensions: Map<String, Value>,
    /// Greetings used only in group chats.
    #[serde(default, deserialize_with = "null_default")]
    pub group_only_greetings: Vec<String>,
    /// Images and other files of the card (`embeded://...` inside a CharX, `ccdefault:` for
    /// the PNG itself). `None` means the spec's default: the main icon is the card image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assets: Option<Vec<CardAsset>>,
    /// Name the `{{char}}` macro uses instead of `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    /// Creator notes by ISO 639-1 language code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_notes_multilingual: Option<Map<String, Value>>,
    /// Where the card came from (URLs or ids).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Vec<String>>,
    /// Creation time, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<i64>,
    /// Last modification time, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modification_date: Option<i64>,
    /// Fields this struct does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One asset of a V3 card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardAsset {
    /// `icon`, `background`, `user_icon`, `emotion`, or an `x_` type.
    #[serde(rename = "type")]
    pub kind: String,
    /// `embeded://path/in/zip`, `ccdefault:`, `https://...` or a `data:` URL.
    pub uri: String,
    /// `main` for the main icon or background; otherwise a free name.
    pub name: String,
    /// File extension without the dot (`png`, `webp`, ...).
    pub ext: String,
    /// Fields this struct does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A character book (lorebook, world info) in the V2/V3 card format.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CharacterBook {
    /// Book name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Book description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// How many recent messages are scanned for keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_depth: Option<i64>,
    /// Token budget for inserted entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_budget: Option<i64>,
    /// Whether inserted entries are scanned for keys too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recursive_scanning: Option<bool>,
    /// Namespaced application data.
    #[serde(default, deserialize_with = "null_default")]
    pub extensions: Map<String, Value>,
    /// The entries.
    #[serde(default, deserialize_with = "null_default")]
    pub entries: Vec<CharacterBookEntry>,
    /// Fields this struct does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One entry of a [`CharacterBook`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CharacterBookEntry {
    /// Keys that trigger the entry.
    #[serde(default, deserialize_with = "null_default")]
    pub keys: Vec<String>,
    /// Text inserted when triggered.
    #[serde(default, deserialize_with = "null_default")]
    pub content: String,
    /// Namespaced application data.
    #[serde(default, deserialize_with = "null_default")]
    pub extensions: Map<String, Value>,
    /// Whether the entry is active.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Lower is inserted first.
    #[serde(default, deserialize_with = "null_default")]
    pub insertion_order: i64,
    /// Whether keys match case-sensitively.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_sensitive: Option<bool>,
    /// V3: keys are regular expressions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_regex: Option<bool>,
    /// Entry name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Priority when over the token budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// Entry id (a number or a string in the wild).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    /// Comment for editors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Whether a secondary key must match too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selective: Option<bool>,
    /// Secondary keys (with `selective`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary_keys: Option<Vec<String>>,
    /// Always inserted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constant: Option<bool>,
    /// `before_char` or `after_char`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    /// Fields this struct does not name.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn yes() -> bool {
    true
}

impl Default for CharacterBookEntry {
    fn default() -> Self {
        CharacterBookEntry {
            keys: Vec::new(),
            content: String::new(),
            extensions: Map::new(),
            enabled: true,
            insertion_order: 0,
            case_sensitive: None,
            use_regex: None,
            name: None,
            priority: None,
            id: None,
            comment: None,
            selective: None,
            secondary_keys: None,
            constant: None,
            position: None,
            extra: Map::new(),
        }
    }
}

/// Any card, as read: the version it was written in.
#[derive(Debug, Clone, PartialEq)]
pub enum Card {
    /// A flat V1 card.
    V1(CardV1),
    /// A V2 card.
    V2(CardV2),
    /// A V3 card.
    V3(CardV3),
}

impl CardV2 {
    /// A V2 card of `data`.
    pub fn new(data: CardDataV2) -> CardV2 {
        CardV2 {
            spec: SPEC_V2.into(),
            spec_version: SPEC_VERSION_V2.into(),
            data,
            extra: Map::new(),
        }
    }
}

impl CardV3 {
    /// A V3 card of `data`.
    pub fn new(data: CardDataV3) -> CardV3 {
        CardV3 {
            spec: SPEC_V3.into(),
            spec_version: SPEC_VERSION_V3.into(),
            data,
            extra: Map::new(),
        }
    }

    /// The V2 form of this card, for readers that know only V2. The V3-only fields go under
    /// `extensions.rostro.v3` so that [`Card::into_v3`] restores them.
    pub fn to_v2(&self) -> CardV2 {
        let d = &self.data;
        let mut extensions = d.extensions.clone();
        let mut v3 = Map::new();
        let mut put = |k: &str, v: Value| {
            if !v.is_null() {
                v3.insert(k.into(), v);
            }
        };
        if !d.group_only_greetings.is_empty() {
            put(
                "group_only_greetings",
                d.group_only_greetings.clone().into(),
            );
        }
        put(
            "assets",
            serde_json::to_value(&d.assets).unwrap_or_default(),
        );
        put(
            "nickname",
            serde_json::to_value(&d.nickname).unwrap_or_default(),
        );
        put(
            "creator_notes_multilingual",
            serde_json::to_value(&d.creator_notes_multilingual).unwrap_or_default(),
        );
        put(
            "source",
            serde_json::to_value(&d.source).unwrap_or_default(),
        );
        put("creation_date", d.creation_date.into());
        put("modification_date", d.modification_date.into());
        for (k, v) in &d.extra {
            put(k, v.clone());
        }
        if !v3.is_empty() {
            let rostro = extensions
                .entry("rostro")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(r) = rostro {
                r.insert("v3".into(), Value::Object(v3));
            }
        }
        // Readers that predate V2 (TavernAI and libraries built on it) look only at the top
        // level: mirror the V1 fields there, as SillyTavern does. `into_v3` drops the mirrors.
        let mut top = self.extra.clone();
        for (k, v) in v1_mirror(d) {
            top.insert(k.into(), v.into());
        }
        CardV2 {
            spec: SPEC_V2.into(),
            spec_version: SPEC_VERSION_V2.into(),
            data: CardDataV2 {
                name: d.name.clone(),
                description: d.description.clone(),
                personality: d.personality.clone(),
                scenario: d.scenario.clone(),
                first_mes: d.first_mes.clone(),
                mes_example: d.mes_example.clone(),
                creator_notes: d.creator_notes.clone(),
                system_prompt: d.system_prompt.clone(),
                post_history_instructions: d.post_history_instructions.clone(),
                alternate_greetings: d.alternate_greetings.clone(),
                character_book: d.character_book.clone(),
                tags: d.tags.clone(),
                creator: d.creator.clone(),
                character_version: d.character_version.clone(),
                extensions,
                extra: Map::new(),
            },
            extra: top,
        }
    }
}

/// The V1 fields of a card, as `(key, value)`, for the top level of a V2 card.
fn v1_mirror(d: &CardDataV3) -> [(&'static str, String); 6] {
    [
        ("name", d.name.clone()),
        ("description", d.description.clone()),
        ("personality", d.personality.clone()),
        ("scenario", d.scenario.clone()),
        ("first_mes", d.first_mes.clone()),
        ("mes_example", d.mes_example.clone()),
    ]
}

impl Card {
    /// Parses card JSON of any version: `spec` picks V2 or V3; an object without `spec` but
    /// with a `name` is V1.
    pub fn from_json(bytes: &[u8]) -> Result<Card, super::CardError> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| super::CardError::Json {
            message: e.to_string(),
        })?;
        Card::from_value(value)
    }

    /// [`Card::from_json`] for an already parsed value.
    pub fn from_value(value: Value) -> Result<Card, super::CardError> {
        let bad = |e: serde_json::Error| super::CardError::Json {
            message: e.to_string(),
        };
        let Some(obj) = value.as_object() else {
            return Err(super::CardError::NotACard {
                reason: "the JSON is not an object".into(),
            });
        };
        match obj.get("spec").and_then(Value::as_str) {
            Some(SPEC_V3) => Ok(Card::V3(serde_json::from_value(value).map_err(bad)?)),
            Some(SPEC_V2) => Ok(Card::V2(serde_json::from_value(value).map_err(bad)?)),
            Some(other) => Err(super::CardError::UnsupportedSpec {
                spec: other.to_owned(),
            }),
            None if obj.get("name").is_some_and(Value::is_string) => {
                Ok(Card::V1(serde_json::from_value(value).map_err(bad)?))
            }
            None => Err(super::CardError::NotACard {
                reason: "the JSON has neither `spec` nor `name`".into(),
            }),
        }
    }

    /// Which version this card was written in: 1, 2 or 3.
    pub fn version(&self) -> u8 {
        match self {
            Card::V1(_) => 1,
            Card::V2(_) => 2,
            Card::V3(_) => 3,
        }
    }

    /// This card as V3 (the richest form): V1 and V2 fields carry over, and V3 fields kept
    /// by [`CardV3::to_v2`] under `extensions.rostro.v3` come back.
    pub fn into_v3(self) -> CardV3 {
        match self {
            Card::V3(c) => c,
            Card::V2(c) => {
                let d = c.data;
                let mut extensions = d.extensions;
                let mut v3 = Map::new();
                if let Some(Value::Object(r)) = extensions.get_mut("rostro")
                    && let Some(Value::Object(saved)) = r.remove("v3")
                {
                    v3 = saved;
                }
                if matches!(extensions.get("rostro"), Some(Value::Object(r)) if r.is_empty()) {
                    extensions.remove("rostro");
                }
                let take = |k: &str| v3.get(k).cloned().unwrap_or(Value::Null);
                let mut data = CardDataV3 {
                    name: d.name,
                    description: d.description,
                    personality: d.personality,
                    scenario: d.scenario,
                    first_mes: d.first_mes,
                    mes_example: d.mes_example,
                    creator_notes: d.creator_notes,
                    system_prompt: d.system_prompt,
                    post_history_instructions: d.post_history_instructions,
                    alternate_greetings: d.alternate_greetings,
                    character_book: d.character_book,
                    tags: d.tags,
                    creator: d.creator,
                    character_version: d.character_version,
                    extensions,
                    group_only_greetings: serde_json::from_value(take("group_only_greetings"))
                        .unwrap_or_default(),
                    assets: serde_json::from_value(take("assets")).unwrap_or_default(),
                    nickname: serde_json::from_value(take("nickname")).unwrap_or_default(),
                    creator_notes_multilingual: serde_json::from_value(take(
                        "creator_notes_multilingual",
                    ))
                    .unwrap_or_default(),
                    source: serde_json::from_value(take("source")).unwrap_or_default(),
                    creation_date: take("creation_date").as_i64(),
                    modification_date: take("modification_date").as_i64(),
                    extra: d.extra,
                };
                for (k, v) in v3 {
                    if !V3_ONLY.contains(&k.as_str()) {
                        data.extra.insert(k, v);
                    }
                }
                let mut top = c.extra;
                for (k, v) in v1_mirror(&data) {
                    if top.get(k).and_then(Value::as_str) == Some(v.as_str()) {
                        top.remove(k);
                    }
                }
                CardV3 {
                    spec: SPEC_V3.into(),
                    spec_version: SPEC_VERSION_V3.into(),
                    data,
                    extra: top,
                }
            }
            Card::V1(c) => {
                let data = CardDataV3 {
                    name: c.name,
                    description: c.description,
                    personality: c.personality,
                    scenario: c.scenario,
                    first_mes: c.first_mes,
                    mes_example: c.mes_example,
                    ..Default::default()
                };
                let mut card = CardV3::new(data);
                // V1 cards carry front-end fields (`avatar`, `chat`, `create_date`, ...) at the
                // top level; keep them where a V2/V3 reader will not mistake them for content.
                if !c.extra.is_empty() {
                    card.data.extensions.insert(
                        "rostro".into(),
                        serde_json::json!({ "v1": Value::Object(c.extra) }),
                    );
                }
                card
            }
        }
    }

    /// The card's JSON.
    pub fn to_value(&self) -> Value {
        match self {
            Card::V1(c) => serde_json::to_value(c),
            Card::V2(c) => serde_json::to_value(c),
            Card::V3(c) => serde_json::to_value(c),
        }
        .unwrap_or(Value::Null)
    }
}

const V3_ONLY: &[&str] = &[
    "group_only_greetings",
    "assets",
    "nickname",
    "creator_notes_multilingual",
    "source",
    "creation_date",
    "modification_date",
];
