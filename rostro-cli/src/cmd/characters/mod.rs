//! `rostro characters get|download|create|update|fork|favorite|delete|expressions`.
//!
//! `download` writes a character card (PNG, JSON or CharX; V2 or V3) through the SDK's
//! `cards` module; `create --from card.png|card.json|card.charx` imports one.

mod change;
mod create;
mod download;
mod get;

use clap::{Args, Subcommand, ValueEnum};
use rostro_sdk::types::ProjectAnswer;
use serde::Deserialize as _;
use serde_json::Value;

pub(crate) use download::{OutTarget, file_stem, out_target, write_out};

use super::BodyOpts;
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

/// The request body of `create` and `update`: `--from` and `-F` fields, then the flags.
fn body(f: &CharFields) -> CliResult<Value> {
    f.body.build(&flag_fields(f))
}

/// The fields the dedicated flags set (`None` where the flag is not given).
fn flag_fields(f: &CharFields) -> [(&'static str, Option<Value>); 6] {
    [
        ("name", f.name.clone().map(Value::from)),
        ("tagline", f.tagline.clone().map(Value::from)),
        ("description", f.description.clone().map(Value::from)),
        ("personality", f.personality.clone().map(Value::from)),
        ("first_message", f.first_message.clone().map(Value::from)),
        (
            "topics",
            (!f.tags.is_empty()).then(|| Value::from(f.tags.clone())),
        ),
    ]
}

/// `CREATOR/SLUG` (a leading `characters/` is dropped) split in two.
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
        CharactersCmd::Get(a) => get::get(ctx, a),
        CharactersCmd::Download(a) => download::download(ctx, a),
        CharactersCmd::Create(a) => create::create(ctx, a),
        CharactersCmd::Update(a) => change::update(ctx, a),
        CharactersCmd::Fork(a) => change::fork(ctx, a),
        CharactersCmd::Favorite(a) => change::favorite(ctx, a),
        CharactersCmd::Delete(a) => change::delete(ctx, a),
        CharactersCmd::Expressions(a) => get::expressions(ctx, a),
    }
}

/// The id and `CREATOR/SLUG` of the project in an answer (in `node`, or beside it), where
/// the server gives them. (The reference documents only `success` for a create.)
fn created_ref(raw: &Value) -> (Option<i64>, Option<String>) {
    let Ok(answer) = ProjectAnswer::deserialize(raw) else {
        return (None, None);
    };
    let node = answer.node.unwrap_or_default();
    let path = node
        .full_path
        .or(answer.full_path)
        .map(|p| p.trim_start_matches("characters/").to_owned())
        .filter(|p| p.split('/').count() == 2);
    (node.id.or(answer.id), path)
}

/// `: id N, CREATOR/SLUG` for a success line, from what the server returned.
fn ref_text(id: Option<i64>, path: Option<&str>) -> String {
    match (id, path) {
        (Some(id), Some(p)) => format!(": id {id}, {p}"),
        (Some(id), None) => format!(": id {id}"),
        (None, Some(p)) => format!(": {p}"),
        (None, None) => String::new(),
    }
}
