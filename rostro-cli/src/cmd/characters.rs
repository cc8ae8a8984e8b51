//! `rostro characters get|download|create|update|fork|favorite|delete|expressions`.
//!
//! `download` writes a character card (PNG, JSON or CharX; V2 or V3) through the SDK's
//! `cards` module; `create --from card.png|card.json|card.charx` imports one.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use clap::{Args, Subcommand, ValueEnum};
use rostro_sdk::cards::{self, CardError, CardFormat, CardSpec, CardV3};
use serde_json::{Value, json};

use super::BodyOpts;
use super::personas::done;
use crate::ctx::Ctx;
use crate::exit::{CliError, CliResult};

/// `rostro characters ...`
#[derive(Debug, Subcommand)]
pub enum CharactersCmd {
    /// Show a character by id or CREATOR/SLUG
    Get(GetArgs),
    /// Download a character as a card (PNG, JSON or CharX; V3 or V2) for chat front-ends
    #[command(after_help = "Examples:
  rostro characters download quillsmith/aria-stormwind-1001
  rostro characters download 1001 --format json --spec v2 --out aria.json
  rostro characters download 1001 --format charx --out cards/
  rostro --mock search dragon --limit 1 --json | jq -r .fullPath | xargs rostro --mock characters download --out card.png")]
    Download(DownloadArgs),
    /// Create a character (from flags, a JSON body, or a card: --from card.png|card.json|card.charx)
    Create(CreateArgs),
    /// Update one of your characters (CREATOR/SLUG)
    Update(UpdateArgs),
    /// Fork a character into your account
    Fork(IdArgs),
    /// Favorite (or with --remove, unfavorite) a character
    Favorite(FavArgs),
    /// Delete one of your characters
    Delete(DeleteArgs),
    /// List a character's expression packs
    Expressions(IdArgs),
}

/// `characters get`
#[derive(Debug, Args)]
pub struct GetArgs {
    /// Numeric id, or CREATOR/SLUG
    pub id: String,
    /// Search lorebooks instead of characters (for CREATOR/SLUG and ids)
    #[arg(long)]
    pub lorebook: bool,
}

/// `characters download`
#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// Numeric id, or CREATOR/SLUG
    pub id: String,
    /// Card container
    #[arg(long, value_enum, default_value_t = FormatArg::Png)]
    pub format: FormatArg,
    /// Card spec (CharX is always V3)
    #[arg(long, value_enum, default_value_t = SpecArg::V3)]
    pub spec: SpecArg,
    /// Output file, directory, or `-` for stdout (default: SLUG.EXT here)
    #[arg(long, short = 'o', value_name = "PATH|DIR|-")]
    pub out: Option<String>,
    /// Overwrite an existing file
    #[arg(long)]
    pub force: bool,
}

/// `--format` of `characters download`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// PNG image with the card in `ccv3`/`chara` text chunks
    Png,
    /// The bare card JSON
    Json,
    /// The V3 zip container (card.json + avatar)
    Charx,
}

/// `--spec` of `characters download`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SpecArg {
    /// Character Card V2 (chara_card_v2)
    V2,
    /// Character Card V3 (chara_card_v3)
    V3,
}

/// `characters create`
#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    fields: CharFields,
    /// Show what would be sent (the lorebook and character bodies) and send nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// Character fields.
#[derive(Debug, Args)]
pub struct CharFields {
    /// Name
    #[arg(long)]
    pub name: Option<String>,
    /// Short tagline
    #[arg(long)]
    pub tagline: Option<String>,
    /// Description (shown on the character page)
    #[arg(long)]
    pub description: Option<String>,
    /// Personality / definition
    #[arg(long)]
    pub personality: Option<String>,
    /// First message
    #[arg(long)]
    pub first_message: Option<String>,
    /// Tags (repeatable)
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    #[command(flatten)]
    body: BodyOpts,
}

/// `characters update`
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// CREATOR/SLUG
    pub path: String,
    #[command(flatten)]
    fields: CharFields,
}

/// An id.
#[derive(Debug, Args)]
pub struct IdArgs {
    /// Character (project) id
    pub id: i64,
}

/// `characters favorite`
#[derive(Debug, Args)]
pub struct FavArgs {
    /// Character (project) id
    pub id: i64,
    /// Remove the favorite
    #[arg(long)]
    pub remove: bool,
}

/// `characters delete`
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Character (project) id
    pub id: i64,
    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,
}

fn body(f: &CharFields) -> CliResult<Value> {
    f.body.build(&[
        ("name", f.name.clone().map(Value::from)),
        ("tagline", f.tagline.clone().map(Value::from)),
        ("description", f.description.clone().map(Value::from)),
        ("personality", f.personality.clone().map(Value::from)),
        ("first_message", f.first_message.clone().map(Value::from)),
        (
            "topics",
            (!f.tags.is_empty()).then(|| Value::from(f.tags.clone())),
        ),
    ])
}

fn split_path(p: &str) -> CliResult<(&str, &str)> {
    let p = p.trim_matches('/');
    let p = p.strip_prefix("characters/").unwrap_or(p);
    p.split_once('/')
        .filter(|(a, b)| !a.is_empty() && !b.is_empty() && !b.contains('/'))
        .ok_or_else(|| CliError::usage(format!("expected CREATOR/SLUG, got `{p}`")))
}

/// Runs `rostro characters`.
pub fn run(ctx: &Ctx, cmd: CharactersCmd) -> CliResult {
    match cmd {
        CharactersCmd::Get(a) => {
            let space = if a.lorebook {
                "lorebooks"
            } else {
                "characters"
            };
            let v = ctx.block_on(async {
                let s = ctx.session(false).await?;
                let p = s.client.projects();
                let req = match a.id.parse::<i64>() {
                    Ok(id) => p.get_public_by_id(space, id).full(true).into_request()?,
                    Err(_) => {
                        let (creator, slug) = split_path(&a.id)?;
                        p.get_public(space, creator, slug).into_request()?
                    }
                };
                s.json(req).await
            })?;
            let node = v.get("node").unwrap_or(&v);
            let human = super::key_values(
                node,
                &[
                    ("Id", "id"),
                    ("Name", "name"),
                    ("Path", "fullPath"),
                    ("Creator", "creator"),
                    ("Tagline", "tagline"),
                    ("Tokens", "nTokens"),
                    ("Stars", "starCount"),
                    ("Description", "description"),
                ],
            );
            super::print_value(ctx, &v, (!human.is_empty()).then_some(human))
        }
        CharactersCmd::Download(a) => download(ctx, a),
        CharactersCmd::Create(a) => {
            if let Some(card) = card_from_input(a.fields.body.from.as_deref())? {
                return import(ctx, &a, card);
            }
            let b = body(&a.fields)?;
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
            let what = match created_ref(&v) {
                (Some(id), Some(p)) => format!("Created character: id {id}, {p}"),
                (Some(id), None) => format!("Created character: id {id}"),
                (None, Some(p)) => format!("Created character: {p}"),
                // The reference documents only `success`: say what is missing.
                (None, None) => "Created character (the server did not return its id or path; \
                     find it with `rostro search --creator YOU`)"
                    .to_owned(),
            };
            done(ctx, &v, &what)
        }
        CharactersCmd::Update(u) => {
            let (creator, slug) = split_path(&u.path)?;
            let b = body(&u.fields)?;
            let v = ctx.block_on(async {
                let s = ctx.session(true).await?;
                s.json(
                    s.client
                        .characters()
                        .update(creator, slug)
                        .body(b)
                        .into_request()?,
                )
                .await
            })?;
            done(ctx, &v, &format!("Updated {creator}/{slug}"))
        }
        CharactersCmd::Fork(a) => {
            let v = ctx.block_on(async {
                let s = ctx.session(true).await?;
                s.json(
                    s.client
                        .projects()
                        .fork(a.id)
                        .body(json!({}))
                        .into_request()?,
                )
                .await
            })?;
            done(ctx, &v, &format!("Forked character {}", a.id))
        }
        CharactersCmd::Favorite(a) => {
            let v = ctx.block_on(async {
                let s = ctx.session(true).await?;
                let f = s.client.favorites();
                let req = if a.remove {
                    f.remove(a.id).into_request()?
                } else {
                    f.add(a.id).into_request()?
                };
                s.json(req).await
            })?;
            let msg = if a.remove {
                "Removed favorite"
            } else {
                "Favorited"
            };
            if ctx.out.json {
                return ctx.out.json_value(&v);
            }
            ctx.out.success(&format!("{msg} {}", a.id));
            Ok(())
        }
        CharactersCmd::Delete(a) => {
            super::confirm(ctx, &format!("Delete character {}?", a.id), a.yes)?;
            let v = ctx.block_on(async {
                let s = ctx.session(true).await?;
                s.json(s.client.projects().delete(a.id).into_request()?)
                    .await
            })?;
            if ctx.out.json {
                return ctx.out.json_value(&v);
            }
            ctx.out.success(&format!("Deleted character {}", a.id));
            Ok(())
        }
        CharactersCmd::Expressions(a) => {
            let v = ctx.block_on(async {
                let s = ctx.session(false).await?;
                s.json(
                    s.client
                        .characters()
                        .list_expressions(a.id)
                        .into_request()?,
                )
                .await
            })?;
            super::print_value(ctx, &v, None)
        }
    }
}

/// What `--out` resolves to.
pub(crate) enum OutTarget {
    /// Write to stdout.
    Stdout,
    /// Write to this file.
    File(PathBuf),
}

/// Resolves `--out` (a file, a directory, `-`, or nothing: `default_name` here) and refuses
/// to replace an existing file without `--force`.
pub(crate) fn out_target(
    out: Option<&str>,
    default_name: &str,
    force: bool,
) -> CliResult<OutTarget> {
    let path = match out {
        Some("-") => return Ok(OutTarget::Stdout),
        Some(o)
            if o.ends_with('/')
                || o.ends_with(std::path::MAIN_SEPARATOR)
                || Path::new(o).is_dir() =>
        {
            Path::new(o).join(default_name)
        }
        Some(o) => PathBuf::from(o),
        None => PathBuf::from(default_name),
    };
    if path.is_dir() {
        return Err(CliError::usage(format!(
            "{}: is a directory",
            path.display()
        )));
    }
    if !force && path.exists() {
        return Err(CliError::usage(format!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        )));
    }
    Ok(OutTarget::File(path))
}

/// Writes `bytes` to the target: a file is written beside itself and renamed into place, so
/// a failed write never leaves half a card (nor destroys the file it replaces).
pub(crate) fn write_out(ctx: &Ctx, target: &OutTarget, bytes: &[u8]) -> CliResult {
    let path = match target {
        OutTarget::Stdout => return ctx.out.bytes(bytes),
        OutTarget::File(p) => p,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| CliError::io(dir.display(), e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "card".into());
    let tmp = dir.join(format!(".{name}.{}.part", std::process::id()));
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|_| f.sync_all()))
        .and_then(|_| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(CliError::io(path.display(), e));
    }
    Ok(())
}

/// A file-name-safe stem for a project: the slug of `fullPath`, else the name.
pub(crate) fn file_stem(node: &Value, fallback: &str) -> String {
    let raw = node
        .get("fullPath")
        .and_then(Value::as_str)
        .and_then(|p| p.rsplit('/').next())
        .or_else(|| node.get("name").and_then(Value::as_str))
        .unwrap_or(fallback);
    let mut out = String::new();
    for c in raw.chars() {
        if c.is_alphanumeric() || c == '-' || c == '_' || c == '.' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches(['-', '.']).to_owned();
    if out.is_empty() {
        fallback.to_owned()
    } else {
        out
    }
}

/// A card error as the CLI's usage error (exit 2), naming the file.
fn not_a_card(source: &str, e: CardError) -> CliError {
    CliError::usage(format!("{source}: {e}"))
}

fn download(ctx: &Ctx, a: DownloadArgs) -> CliResult {
    let format = match a.format {
        FormatArg::Png => CardFormat::Png,
        FormatArg::Json => CardFormat::Json,
        FormatArg::Charx => CardFormat::CharX,
    };
    let spec = match a.spec {
        SpecArg::V2 => CardSpec::V2,
        SpecArg::V3 => CardSpec::V3,
    };
    if format == CardFormat::CharX && spec == CardSpec::V2 {
        return Err(CliError::usage(
            "CharX is a V3 container: use --spec v3 (or --format png|json for V2)",
        ));
    }
    // Check the target before any request: a refused overwrite costs nothing.
    if let Some(o) = a.out.as_deref()
        && o != "-"
        && !a.force
        && !o.ends_with('/')
        && Path::new(o).is_file()
    {
        return Err(CliError::usage(format!(
            "{o} already exists; pass --force to overwrite it"
        )));
    }
    let got = ctx.block_on(async {
        let s = ctx.session(false).await?;
        s.client
            .characters()
            .download_card(&a.id)
            .await
            .map_err(|e| s.err(e))
    })?;
    let node = got.project.get("node").unwrap_or(&got.project);
    let stem = file_stem(node, "character");
    let target = out_target(
        a.out.as_deref(),
        &format!("{stem}.{}", format.extension()),
        a.force,
    )?;
    let bytes = got
        .encode(format, spec)
        .map_err(|e| CliError::msg(format!("cannot write the card: {e}")))?;
    write_out(ctx, &target, &bytes)?;
    for n in &got.notes {
        ctx.out.warn(n);
    }
    let entries = got
        .card
        .data
        .character_book
        .as_ref()
        .map_or(0, |b| b.entries.len());
    let spec_name = match (format, spec) {
        (CardFormat::CharX, _) | (_, CardSpec::V3) => "V3",
        _ => "V2",
    };
    match &target {
        OutTarget::Stdout => Ok(()),
        OutTarget::File(path) => {
            if ctx.out.json {
                return ctx.out.json_value(&json!({
                    "path": path.display().to_string(),
                    "format": format.extension(),
                    "spec": spec_name,
                    "name": got.card.data.name,
                    "id": node.get("id"),
                    "fullPath": node.get("fullPath"),
                    "bytes": bytes.len(),
                    "lorebook_entries": entries,
                    "placeholder_image": got.uses_placeholder(format),
                    "notes": got.notes,
                }));
            }
            ctx.out.success(&format!(
                "Wrote {} ({spec_name} {} card of {}, {}, {entries} lorebook entries)",
                path.display(),
                format.extension().to_uppercase(),
                got.card.data.name,
                crate::util::human_bytes(bytes.len() as u64),
            ));
            Ok(())
        }
    }
}

/// A card to import, with its avatar.
struct ImportCard {
    card: CardV3,
    version: u8,
    image: Option<Vec<u8>>,
    source: String,
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
    let looks_like_card = is_binary || {
        let lower = from.to_ascii_lowercase();
        lower.ends_with(".charx")
            || lower.ends_with(".png")
            || match serde_json::from_slice::<Value>(&bytes) {
                Ok(Value::Object(m)) => {
                    m.get("spec")
                        .is_some_and(|s| s.as_str().is_some_and(|s| s.starts_with("chara_card")))
                        || (m.contains_key("first_mes") || m.contains_key("mes_example"))
                }
                _ => false,
            }
    };
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

/// The id and `CREATOR/SLUG` in a create response, where the server gives them.
fn created_ref(v: &Value) -> (Option<i64>, Option<String>) {
    let node = v.get("node").or_else(|| v.get("data")).unwrap_or(v);
    let id = ["id", "project_id"].iter().find_map(|k| {
        node.get(*k)
            .and_then(|x| x.as_i64().or_else(|| x.as_str()?.parse().ok()))
    });
    let path = ["fullPath", "full_path", "path"]
        .iter()
        .find_map(|k| node.get(*k).and_then(Value::as_str))
        .map(|p| p.trim_start_matches("characters/").to_owned())
        .filter(|p| p.split('/').count() == 2);
    (id, path)
}

fn import(ctx: &Ctx, a: &CreateArgs, ic: ImportCard) -> CliResult {
    let plan = cards::import_of(&ic.card);
    let mut character = match plan.character {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    // Flags and -F fields win over the card.
    let overrides = BodyOpts {
        from: None,
        fields: a.fields.body.fields.clone(),
    };
    let f = &a.fields;
    let extra = overrides.build(&[
        ("name", f.name.clone().map(Value::from)),
        ("tagline", f.tagline.clone().map(Value::from)),
        ("description", f.description.clone().map(Value::from)),
        ("personality", f.personality.clone().map(Value::from)),
        ("first_message", f.first_message.clone().map(Value::from)),
        (
            "topics",
            (!f.tags.is_empty()).then(|| Value::from(f.tags.clone())),
        ),
    ])?;
    if let Value::Object(m) = extra {
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
    let name = character
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if a.dry_run {
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
        return ctx.out.json_value(&json!({
            "dry_run": true,
            "card_version": ic.version,
            "lorebook": plan.lorebook,
            "character": Value::Object(shown),
            "link_lorebook": plan.lorebook.is_some(),
        }));
    }
    let (lorebook, created, linked) = ctx.block_on(async {
        let s = ctx.session(true).await?;
        let mut lorebook_id = None;
        let mut lorebook = Value::Null;
        if let Some(book) = &plan.lorebook {
            lorebook = s
                .json(s.client.lorebooks().create().body(book.clone()).into_request()?)
                .await?;
            lorebook_id = created_ref(&lorebook).0;
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
        Ok((lorebook, created, linked))
    })?;
    let (id, path) = created_ref(&created);
    if ctx.out.json {
        return ctx.out.json_value(&json!({
            "id": id,
            "fullPath": path,
            "character": created,
            "lorebook": lorebook,
            "lorebook_linked": linked,
        }));
    }
    let lb_id = created_ref(&lorebook).0;
    let mut msg = format!(
        "Created character {name} from {} (V{} card)",
        ic.source, ic.version
    );
    match (id, &path) {
        (Some(id), Some(p)) => msg.push_str(&format!(": id {id}, {p}")),
        (Some(id), None) => msg.push_str(&format!(": id {id}")),
        (None, Some(p)) => msg.push_str(&format!(": {p}")),
        (None, None) => {}
    }
    ctx.out.success(&msg);
    if id.is_none() && path.is_none() {
        ctx.out
            .warn("the server did not return the new character's id or path");
    }
    if let Some(lb) = lb_id {
        ctx.out.note(&format!(
            "lorebook {lb} created from the card's character book{}",
            if linked {
                " and linked"
            } else {
                " (sent as related_lorebooks)"
            }
        ));
    }
    Ok(())
}
