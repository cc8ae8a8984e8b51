//! `characters create`: from flags and a JSON body, or from a card (`--from card.png|card.json|
//! card.charx`, with its character book made into a lorebook and linked).

use base64::Engine as _;
use rostro_sdk::cards::{self, CardError, CardV3};
use serde_json::{Map, Value, json};

use super::{CreateArgs, created_ref, flag_fields, ref_text, split_path};
use crate::cmd::BodyOpts;
use crate::ctx::Ctx;
use crate::exit::{CliError, CliResult};

/// `characters create`: prints the new id and its path.
pub(super) fn create(ctx: &Ctx, a: CreateArgs) -> CliResult {
    if let Some(card) = card_from_input(a.fields.body.from.as_deref())? {
        return import(ctx, &a, card);
    }
    let b = super::body(&a.fields)?;
    if b.get("name").is_none() {
        return Err(CliError::usage(
            "a character needs --name (or a name in --from)",
        ));
    }
    if a.dry_run {
        return ctx.out.json_value(&json!({ "character": b }));
    }
    let v = ctx.block_on(async {
        let s = ctx.session(true).await?;
        s.json(s.client.characters().create().body(b).into_request()?)
            .await
    })?;
    if ctx.out.json {
        return ctx.out.json_value(&v);
    }
    let (id, path) = created_ref(&v);
    if id.is_none() && path.is_none() {
        // The reference documents only `success`: say what is missing.
        ctx.out.success("Created character");
        ctx.out.warn(
            "the server did not return its id or path; find it with `rostro search --creator YOU`",
        );
        return Ok(());
    }
    ctx.out.success(&format!(
        "Created character{}",
        ref_text(id, path.as_deref())
    ));
    Ok(())
}

/// A card to import, with its avatar.
struct ImportCard {
    card: CardV3,
    version: u8,
    image: Option<Vec<u8>>,
    source: String,
}

/// A card error as the CLI's usage error (exit 2), naming the file.
fn not_a_card(source: &str, e: CardError) -> CliError {
    CliError::usage(format!("{source}: {e}"))
}

/// Reads `--from` as a card when it is one: a PNG or zip (which must then hold a card), or
/// JSON with a card `spec` or the V1 fields (`first_mes`, `mes_example`). Other JSON is an
/// ordinary request body (`None`).
fn card_from_input(from: Option<&str>) -> CliResult<Option<ImportCard>> {
    let Some(from) = from else { return Ok(None) };
    let bytes = crate::util::read_input(from)?;
    let is_binary = bytes.starts_with(b"\x89PNG")
        || bytes.starts_with(b"PK\x03\x04")
        || bytes.starts_with(b"PK\x05\x06");
    let lower = from.to_ascii_lowercase();
    let looks_like_card =
        is_binary || lower.ends_with(".charx") || lower.ends_with(".png") || is_card_json(&bytes);
    if !looks_like_card {
        return Ok(None);
    }
    let read = cards::read_card(&bytes).map_err(|e| not_a_card(from, e))?;
    let version = read.card.version();
    Ok(Some(ImportCard {
        card: read.card.into_v3(),
        version,
        image: read.image,
        source: from.to_owned(),
    }))
}

/// Whether a JSON input is a card (a `chara_card_*` spec, or V1's `first_mes` /
/// `mes_example`) rather than a request body. This reads the user's file, not an answer.
fn is_card_json(bytes: &[u8]) -> bool {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => {
            m.get("spec")
                .and_then(Value::as_str)
                .is_some_and(|s| s.starts_with("chara_card"))
                || m.contains_key("first_mes")
                || m.contains_key("mes_example")
        }
        _ => false,
    }
}

/// The character body of a card import: the card's fields, then flags and `-F` fields (which
/// win), then the avatar as a data URL.
fn import_body(a: &CreateArgs, ic: &ImportCard, card_body: Value) -> CliResult<Map<String, Value>> {
    let mut character = match card_body {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let overrides = BodyOpts {
        from: None,
        fields: a.fields.body.fields.clone(),
    };
    if let Value::Object(m) = overrides.build(&flag_fields(&a.fields))? {
        character.extend(m);
    }
    if character
        .get("name")
        .and_then(Value::as_str)
        .is_none_or(|n| n.trim().is_empty())
    {
        return Err(CliError::usage(format!(
            "{}: the card has no name (give one with --name)",
            ic.source
        )));
    }
    if let Some(img) = &ic.image {
        let mime = if img.starts_with(b"\x89PNG") {
            "image/png"
        } else if img.starts_with(b"\xff\xd8\xff") {
            "image/jpeg"
        } else {
            "image/webp"
        };
        character.insert(
            "avatar".into(),
            Value::from(format!(
                "data:{mime};base64,{}",
                base64::engine::general_purpose::STANDARD.encode(img)
            )),
        );
    }
    Ok(character)
}

/// `--dry-run` of a card import: what would be sent (the avatar abbreviated in human mode).
fn dry_run(
    ctx: &Ctx,
    ic: &ImportCard,
    lorebook: &Option<Value>,
    character: &Map<String, Value>,
) -> CliResult {
    let mut shown = character.clone();
    if !ctx.out.json
        && let Some(Value::String(av)) = shown.get_mut("avatar")
    {
        let n = ic.image.as_ref().map_or(0, Vec::len);
        *av = format!(
            "{}… ({n} bytes of image, base64)",
            &av[..av.find(',').map_or(0, |i| i + 1)]
        );
    }
    ctx.out.json_value(&json!({
        "dry_run": true,
        "card_version": ic.version,
        "lorebook": lorebook,
        "character": Value::Object(shown),
        "link_lorebook": lorebook.is_some(),
    }))
}

/// What a card import made: the lorebook answer, the character answer, and whether the
/// lorebook was linked.
struct Imported {
    lorebook: Value,
    character: Value,
    linked: bool,
}

/// Sends a card import: the lorebook first (its id goes into the character), the character,
/// then the link.
fn send_import(
    ctx: &Ctx,
    lorebook: Option<Value>,
    mut character: Map<String, Value>,
) -> CliResult<Imported> {
    ctx.block_on(async {
        let s = ctx.session(true).await?;
        let mut lorebook_id = None;
        let mut book = Value::Null;
        if let Some(b) = lorebook {
            book = s
                .json(s.client.lorebooks().create().body(b).into_request()?)
                .await?;
            lorebook_id = created_ref(&book).0;
            if lorebook_id.is_none() {
                ctx.out.warn("the server created the lorebook but returned no id; it is not linked to the character");
            }
        }
        if let Some(id) = lorebook_id {
            character.insert("related_lorebooks".into(), json!([id]));
        }
        let created = s
            .json(s.client.characters().create().body(Value::Object(character)).into_request()?)
            .await?;
        let mut linked = false;
        if let (Some(lb), (_, Some(path))) = (lorebook_id, created_ref(&created)) {
            let (creator, slug) = split_path(&path)?;
            s.json(s.client.characters().link_lorebook(creator, slug, lb).into_request()?)
                .await?;
            linked = true;
        }
        Ok(Imported { lorebook: book, character: created, linked })
    })
}

fn import(ctx: &Ctx, a: &CreateArgs, ic: ImportCard) -> CliResult {
    let plan = cards::import_of(&ic.card);
    let character = import_body(a, &ic, plan.character)?;
    let name = character
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if a.dry_run {
        return dry_run(ctx, &ic, &plan.lorebook, &character);
    }
    let done = send_import(ctx, plan.lorebook, character)?;
    let (id, path) = created_ref(&done.character);
    if ctx.out.json {
        return ctx.out.json_value(&json!({
            "id": id,
            "fullPath": path,
            "character": done.character,
            "lorebook": done.lorebook,
            "lorebook_linked": done.linked,
        }));
    }
    ctx.out.success(&format!(
        "Created character {name} from {} (V{} card){}",
        ic.source,
        ic.version,
        ref_text(id, path.as_deref())
    ));
    if id.is_none() && path.is_none() {
        ctx.out
            .warn("the server did not return the new character's id or path");
    }
    if let Some(lb) = created_ref(&done.lorebook).0 {
        ctx.out.note(&format!(
            "lorebook {lb} created from the card's character book{}",
            if done.linked {
                " and linked"
            } else {
                " (sent as related_lorebooks)"
            }
        ));
    }
    Ok(())
}
