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

mod convert;
