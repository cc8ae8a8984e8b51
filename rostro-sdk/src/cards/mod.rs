//! Character cards: the files chat front-ends (SillyTavern, RisuAI, Agnai, ...) import and
//! export, read and written in every published format (feature `cards`, on by default).
//!
//! * Formats: V1 (the flat TavernAI object), [Character Card V2] (`chara_card_v2`, `2.0`)
//!   and [V3] (`chara_card_v3`, `3.0`): [`CardV1`], [`CardV2`], [`CardV3`], read as a
//!   [`Card`]. Every struct keeps the fields it does not know (`extra`), so nothing is lost.
//! * Containers: bare JSON; PNG with the card base64-encoded in a `chara` (V2) or `ccv3` (V3)
//!   text chunk ([`png`]: `tEXt`, `zTXt` and `iTXt` read, `tEXt` written, both chunks written
//!   for V3 so older readers still find `chara`); CharX, the V3 zip with `card.json` and the
//!   avatar under `assets/` ([`charx`]).
//! * [`read_card`] sniffs the container and returns the card (V3 preferred when a PNG carries
//!   both chunks) with its image; [`encode_card`] writes one.
//! * From the API: [`CharactersApi::download_card`](crate::generated::characters::CharactersApi::download_card)
//!   fetches the public project, its avatar (through the SDK) and its linked lorebooks, and
//!   maps them; [`LorebooksApi::download_book`](crate::generated::lorebooks::LorebooksApi::download_book)
//!   fetches one lorebook as a [`CharacterBook`] (and [`world_info`] turns it into the world
//!   info JSON SillyTavern imports). [`import_of`] maps a card back to the API's create bodies.
//!
//! # Mapping between the API's character and a card
//!
//! | card field (`data.`) | API (`GET /api/public/characters/...?full=true`) |
//! | --- | --- |
//! | `name` | `definition.name` (else `node.name`) |
//! | `description` | `definition.description` |
//! | `personality` | `definition.personality` |
//! | `scenario` | `definition.scenario` |
//! | `first_mes` | `definition.first_message` |
//! | `alternate_greetings` | `definition.alternate_greetings` |
//! | `mes_example` | `definition.example_dialogs` |
//! | `system_prompt` | `definition.system_prompt` |
//! | `post_history_instructions` | `definition.post_history_instructions` |
//! | `creator_notes` | `definition.creator_notes` |
//! | `character_version` | `definition.character_version` |
//! | `tags` | `node.topics` (create: `topics`) |
//! | `creator` | `node.creator` (an imported card's own creator is kept as `extensions.rostro.original_creator` and restored) |
//! | `character_book` | `definition.embedded_lorebook` and the linked lorebooks (`related_lorebooks`), entries appended in that order; entry `keys` is the API's `key`, other entry fields keep their names |
//! | `extensions` | `definition.extensions`, plus `extensions.rostro`: `id`, `fullPath`, `tagline`, `nsfw`, `nsfl`, `linked_lorebooks` (`[{id, fullPath, name}]`) and `definition` (every definition field without a card slot, e.g. `tavern_personality`) |
//! | V3 `source` | `["rostro:characters/<fullPath>"]` |
//! | V3 `creation_date`, `modification_date` | `node.createdAt`, `node.lastActivityAt` (Unix seconds) |
//! | V3 `nickname`, `group_only_greetings`, `creator_notes_multilingual` | no API slot: kept in `extensions.rostro` on import, restored on export |
//! | V3 `assets` | the avatar: `ccdefault:` in a PNG (the image itself), `embeded://assets/icon/image/main.png` in a CharX |
//!
//! A V2 card written from a V3 one keeps the V3-only fields under `extensions.rostro.v3`,
//! which [`Card::into_v3`] restores. Importing ([`import_of`]) sends the API's field names
//! above; server-owned fields (`id`, `fullPath`, dates, `source`, `assets`, linked lorebook
//! ids) are not sent, the card's `character_book` becomes a new lorebook linked to the new
//! character.
//!
//! ```no_run
//! use rostro_sdk::Client;
//! use rostro_sdk::cards::{CardFormat, CardSpec, read_card};
//!
//! # async fn run(client: Client) -> Result<(), Box<dyn std::error::Error>> {
//! let card = client.characters().download_card("quillsmith/aria-stormwind-1001").await?;
//! std::fs::write("aria.png", card.encode(CardFormat::Png, CardSpec::V3)?)?;
//!
//! let back = read_card(&std::fs::read("aria.png")?)?;
//! assert_eq!(back.card.into_v3().data.name, card.card.data.name);
//! # Ok(())
//! # }
//! ```
//!
//! [Character Card V2]: https://github.com/malfoyslastname/character-card-spec-v2
//! [V3]: https://github.com/kwaroran/character-card-spec-v3

pub mod charx;
mod download;
mod mapping;
pub mod png;
mod types;

pub use charx::{CharX, read_charx, write_charx};
pub use download::{DownloadedBook, DownloadedCard};
pub use mapping::{CardImport, book_from_lorebook, card_from_project, import_of, lorebook_body};
pub use png::{PngCardChunks, placeholder_png, read_png_chunks, write_png};
pub use types::{
    Card, CardAsset, CardDataV2, CardDataV3, CardV1, CardV2, CardV3, CharacterBook,
    CharacterBookEntry, SPEC_V2, SPEC_V3, SPEC_VERSION_V2, SPEC_VERSION_V3,
};

use serde_json::{Map, Value, json};

/// Why bytes are not a card we can read (or a card could not be written).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CardError {
    /// A valid PNG with neither a `chara` nor a `ccv3` text chunk.
    #[error("not a card: the PNG has no `chara` or `ccv3` text chunk")]
    NoCardChunk,
    /// A card chunk whose text is not base64.
    #[error("not a card: the `{chunk}` chunk is not valid base64 ({message})")]
    Base64 {
        /// `chara` or `ccv3`.
        chunk: String,
        /// What the decoder said.
        message: String,
    },
    /// Card JSON that does not parse, or does not fit the card's shape.
    #[error("not a card: invalid card JSON ({message})")]
    Json {
        /// What the parser said (with the chunk, for PNG cards).
        message: String,
    },
    /// JSON that parses but is not a card.
    #[error("not a card: {reason}")]
    NotACard {
        /// What is missing.
        reason: String,
    },
    /// A `spec` other than `chara_card_v2` or `chara_card_v3`.
    #[error("unsupported card spec `{spec}` (expected chara_card_v2 or chara_card_v3)")]
    UnsupportedSpec {
        /// The `spec` found.
        spec: String,
    },
    /// A zip without `card.json` at its root.
    #[error("not a card: the zip has no card.json")]
    NoCardJson,
    /// A CharX whose card names an `embeded://` asset the zip does not contain.
    #[error("broken CharX: the asset {uri} is missing from the zip")]
    MissingAsset {
        /// The asset's URI.
        uri: String,
    },
    /// Bytes that are not a readable PNG (or a PNG that could not be written).
    #[error("not a card: not a readable PNG ({message})")]
    Png {
        /// What the PNG decoder or encoder said.
        message: String,
    },
    /// Bytes that are not a readable zip.
    #[error("not a card: not a readable zip ({message})")]
    Zip {
        /// What the zip reader said.
        message: String,
    },
}

/// A card container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CardFormat {
    /// A PNG image with the card in text chunks (the default).
    #[default]
    Png,
    /// The bare card JSON.
    Json,
    /// The V3 zip container.
    CharX,
}

impl CardFormat {
    /// The usual file extension (`png`, `json`, `charx`).
    pub fn extension(self) -> &'static str {
        match self {
            CardFormat::Png => "png",
            CardFormat::Json => "json",
            CardFormat::CharX => "charx",
        }
    }
}

/// Which card spec to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CardSpec {
    /// Character Card V2.
    V2,
    /// Character Card V3 (the default).
    #[default]
    V3,
}

/// A card read from a file, with the image it came in.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadCard {
    /// The card.
    pub card: Card,
    /// The container it was in.
    pub format: CardFormat,
    /// The avatar: the PNG itself, or a CharX's main icon.
    pub image: Option<Vec<u8>>,
}

/// Reads a card from a PNG, a CharX zip or JSON, recognised by their first bytes.
pub fn read_card(bytes: &[u8]) -> Result<ReadCard, CardError> {
    const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.starts_with(PNG_SIGNATURE) {
        let card = read_png_chunks(bytes)?
            .preferred()
            .ok_or(CardError::NoCardChunk)?;
        return Ok(ReadCard {
            card,
            format: CardFormat::Png,
            image: Some(bytes.to_vec()),
        });
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        let x = read_charx(bytes)?;
        let image = x.main_icon().map(<[u8]>::to_vec);
        return Ok(ReadCard {
            card: x.card,
            format: CardFormat::CharX,
            image,
        });
    }
    let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    Ok(ReadCard {
        card: Card::from_json(text)?,
        format: CardFormat::Json,
        image: None,
    })
}

/// Writes `card` as `format` in `spec`: `image` is the PNG to embed it in (PNG) or the main
/// icon (CharX; CharX is always V3). Without an image a PNG card uses [`placeholder_png`].
pub fn encode_card(
    card: &CardV3,
    format: CardFormat,
    spec: CardSpec,
    image: Option<&[u8]>,
) -> Result<Vec<u8>, CardError> {
    let json_err = |e: serde_json::Error| CardError::Json {
        message: e.to_string(),
    };
    match format {
        CardFormat::Json => match spec {
            CardSpec::V3 => serde_json::to_vec_pretty(card).map_err(json_err),
            CardSpec::V2 => serde_json::to_vec_pretty(&card.to_v2()).map_err(json_err),
        },
        CardFormat::Png => {
            let placeholder;
            let image = match image {
                Some(i) => i,
                None => {
                    placeholder = placeholder_png();
                    &placeholder
                }
            };
            write_png(image, card, spec == CardSpec::V2)
        }
        CardFormat::CharX => write_charx(card, image),
    }
}

/// A [`CharacterBook`] as SillyTavern world info (`{"entries": {"0": {...}}, "originalData":
/// <the book>}`), the JSON its World Info panel imports; `originalData` keeps the book as is.
pub fn world_info(book: &CharacterBook) -> Value {
    let mut entries = Map::new();
    for (i, e) in book.entries.iter().enumerate() {
        let ext = |k: &str| e.extensions.get(k).cloned();
        let position = ext("position").unwrap_or_else(|| {
            json!(if e.position.as_deref() == Some("before_char") {
                0
            } else {
                1
            })
        });
        entries.insert(
            i.to_string(),
            json!({
                "uid": i,
                "key": e.keys,
                "keysecondary": e.secondary_keys.clone().unwrap_or_default(),
                "comment": e.comment.clone().or_else(|| e.name.clone()).unwrap_or_default(),
                "content": e.content,
                "constant": e.constant.unwrap_or(false),
                "selective": e.selective.unwrap_or(false),
                "selectiveLogic": ext("selectiveLogic").unwrap_or(json!(0)),
                "order": e.insertion_order,
                "position": position,
                "disable": !e.enabled,
                "addMemo": true,
                "excludeRecursion": ext("exclude_recursion").unwrap_or(json!(false)),
                "probability": ext("probability").unwrap_or(json!(100)),
                "useProbability": ext("useProbability").unwrap_or(json!(true)),
                "depth": ext("depth").unwrap_or(json!(4)),
                "group": ext("group").unwrap_or(json!("")),
                "caseSensitive": e.case_sensitive,
                "displayIndex": i,
            }),
        );
    }
    json!({
        "name": book.name,
        "description": book.description,
        "entries": entries,
        "originalData": book,
    })
}
