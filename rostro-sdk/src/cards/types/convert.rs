//! Building cards and converting between the formats (V1 <-> V2 <-> V3).

use serde_json::{Map, Value};

use super::*;

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
    pub fn from_json(bytes: &[u8]) -> Result<Card, crate::cards::CardError> {
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| crate::cards::CardError::Json {
                message: e.to_string(),
            })?;
        Card::from_value(value)
    }

    /// [`Card::from_json`] for an already parsed value.
    pub fn from_value(value: Value) -> Result<Card, crate::cards::CardError> {
        let bad = |e: serde_json::Error| crate::cards::CardError::Json {
            message: e.to_string(),
        };
        let Some(obj) = value.as_object() else {
            return Err(crate::cards::CardError::NotACard {
                reason: "the JSON is not an object".into(),
            });
        };
        match obj.get("spec").and_then(Value::as_str) {
            Some(SPEC_V3) => Ok(Card::V3(serde_json::from_value(value).map_err(bad)?)),
            Some(SPEC_V2) => Ok(Card::V2(serde_json::from_value(value).map_err(bad)?)),
            Some(other) => Err(crate::cards::CardError::UnsupportedSpec {
                spec: other.to_owned(),
            }),
            None if obj.get("name").is_some_and(Value::is_string) => {
                Ok(Card::V1(serde_json::from_value(value).map_err(bad)?))
            }
            None => Err(crate::cards::CardError::NotACard {
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
            Card::V2(c) => v2_into_v3(c),
            Card::V1(c) => v1_into_v3(c),
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

/// A V2 card as V3, with the V3 fields kept under `extensions.rostro.v3` restored.
fn v2_into_v3(c: CardV2) -> CardV3 {
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
        creator_notes_multilingual: serde_json::from_value(take("creator_notes_multilingual"))
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

/// A V1 card as V3, its front-end fields kept under `extensions.rostro.v1`.
fn v1_into_v3(c: CardV1) -> CardV3 {
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
