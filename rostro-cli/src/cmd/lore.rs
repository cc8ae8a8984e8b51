//! `rostro lore add|list|query|remove`: unstructured lore items (RAG); `rostro lore download`:
//! a lorebook as the world info JSON chat front-ends import.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use rostro_sdk::types::{LoreItem, LoreItems, LoreResult, LoreResults};
use serde_json::{Value, json};

use super::cell;
use crate::ctx::Ctx;
use crate::exit::{CliError, CliResult};

/// `rostro lore ...`
#[derive(Debug, Subcommand)]
pub enum LoreCmd {
    /// Upload a file (text, markdown, PDF, ...) as a lore item
    Add(AddArgs),
    /// List the lore items of owners
    List(ListArgs),
    /// Ask the lore index a question
    Query(QueryArgs),
    /// Remove a lore item
    Remove(RemoveArgs),
    /// Download a lorebook as SillyTavern world info JSON (or a bare character book)
    #[command(after_help = "Examples:
  rostro lore download 500001
  rostro lore download fable/the-duskbane-city-codex-500002 --format book --out book.json")]
    Download(DownloadArgs),
}

/// `lore download`
#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// Lorebook id, or CREATOR/SLUG
    pub id: String,
    /// `json`: SillyTavern world info (entries by uid, with the character book as
    /// `originalData`); `book`: the bare character book of the card specs
    #[arg(long, value_enum, default_value_t = BookFormat::Json)]
    pub format: BookFormat,
    /// Output file, directory, or `-` for stdout (default: SLUG.json here)
    #[arg(long, short = 'o', value_name = "PATH|DIR|-")]
    pub out: Option<String>,
    /// Overwrite an existing file
    #[arg(long)]
    pub force: bool,
}

/// `--format` of `lore download`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BookFormat {
    /// SillyTavern world info JSON
    Json,
    /// The character book object (`character_book` of a V2/V3 card)
    Book,
}

/// `lore add`
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The file
    pub file: PathBuf,
    /// JSON metadata stored with the item
    #[arg(long, value_name = "JSON")]
    pub metadata: Option<String>,
    /// Owner (project) id to attach the item to
    #[arg(long, value_name = "ID")]
    pub owner: Option<i64>,
}

/// `lore list`
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Owner ids (repeatable)
    #[arg(long = "owner", value_name = "ID", required = true)]
    pub owners: Vec<i64>,
}

/// `lore query`
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The question
    pub query: String,
    /// Owner ids to search (repeatable)
    #[arg(long = "owner", value_name = "ID")]
    pub owners: Vec<i64>,
}

/// `lore remove`
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// Owner id
    pub owner: i64,
    /// Item uuid
    pub uuid: String,
}

/// Runs `rostro lore`.
pub fn run(ctx: &Ctx, cmd: LoreCmd) -> CliResult {
    match cmd {
        LoreCmd::Add(a) => add(ctx, a),
        LoreCmd::List(a) => list(ctx, a),
        LoreCmd::Query(a) => query(ctx, a),
        LoreCmd::Download(a) => download(ctx, a),
        LoreCmd::Remove(a) => remove(ctx, a),
    }
}

fn add(ctx: &Ctx, a: AddArgs) -> CliResult {
    let (size, name) = super::file_info(&a.file)?;
    if let Some(m) = &a.metadata {
        serde_json::from_str::<Value>(m)
            .map_err(|e| CliError::usage(format!("--metadata is not JSON: {e}")))?;
    }
    let v = ctx.block_on(async {
        let s = ctx.session(true).await?;
        let mut b = s.client.lore().add_item().file("file", &a.file);
        if let Some(m) = &a.metadata {
            b = b.text("metadata", m);
        }
        if let Some(o) = a.owner {
            b = b.text("owner_id", o.to_string());
        }
        let (bar, progress) = super::transfer_bar(ctx, size, &name);
        let req = s.client.upload(b).on_progress(progress).into_request()?;
        let r = s.json(req).await;
        bar.finish_and_clear();
        r
    })?;
    if ctx.out.json {
        return ctx.out.json_value(&v);
    }
    let item: LoreItem = super::view(&v, "lore add")?;
    let what = format!(
        "Added {} ({})",
        a.file.display(),
        crate::util::human_bytes(size)
    );
    match (&item.uuid, &item.status) {
        (Some(id), Some(st)) => ctx.out.success(&format!("{what} as lore item {id} ({st})")),
        (Some(id), None) => ctx.out.success(&format!("{what} as lore item {id}")),
        _ => {
            ctx.out.success(&what);
            ctx.out.warn(
                "the server did not return the new item's uuid; find it with `rostro lore list`",
            );
        }
    }
    Ok(())
}

fn list(ctx: &Ctx, a: ListArgs) -> CliResult {
    let v = ctx.block_on(async {
        let s = ctx.session(true).await?;
        let req = s
            .client
            .lore()
            .list_items()
            .body(json!({ "owner_ids": a.owners }))
            .into_request()?;
        s.json(req).await
    })?;
    super::print_page(
        ctx,
        &v,
        "lore list",
        LoreItems::raw_items,
        LoreItems::items,
        &[
            ("UUID", &|i: &LoreItem| cell(&i.uuid)),
            ("NAME", &|i: &LoreItem| cell(&i.name)),
            ("STATUS", &|i: &LoreItem| cell(&i.status)),
            ("OWNER", &|i: &LoreItem| cell(&i.owner_id)),
        ],
    )
}

fn query(ctx: &Ctx, a: QueryArgs) -> CliResult {
    let v = ctx.block_on(async {
        let s = ctx.session(true).await?;
        let mut body = json!({ "query": a.query });
        if !a.owners.is_empty() {
            body["owner_ids"] = json!(a.owners);
        }
        s.json(s.client.lore().query().body(body).into_request()?)
            .await
    })?;
    super::print_page(
        ctx,
        &v,
        "lore query",
        LoreResults::raw_items,
        LoreResults::items,
        &[
            ("SCORE", &|r: &LoreResult| {
                r.score.map(|x| format!("{x:.3}")).unwrap_or_default()
            }),
            ("TEXT", &|r: &LoreResult| cell(&r.text)),
        ],
    )
}

fn remove(ctx: &Ctx, a: RemoveArgs) -> CliResult {
    let v = ctx.block_on(async {
        let s = ctx.session(true).await?;
        s.json(
            s.client
                .lore()
                .remove_item(&a.uuid, a.owner)
                .into_request()?,
        )
        .await
    })?;
    super::print_done(
        ctx,
        &v,
        &format!("Removed lore item {} of owner {}", a.uuid, a.owner),
    )
}

fn download(ctx: &Ctx, a: DownloadArgs) -> CliResult {
    use super::characters::{OutTarget, file_stem, out_target, write_out};
    if let Some(o) = a.out.as_deref()
        && o != "-"
        && !a.force
        && std::path::Path::new(o).is_file()
    {
        return Err(CliError::usage(format!(
            "{o} already exists; pass --force to overwrite it"
        )));
    }
    let got = ctx.block_on(async {
        let s = ctx.session(false).await?;
        s.client
            .lorebooks()
            .download_book(&a.id)
            .await
            .map_err(|e| s.err(e))
    })?;
    let answer: rostro_sdk::types::ProjectAnswer = super::view(&got.project, "lore download")?;
    let node = answer.node.as_ref();
    let target = out_target(
        a.out.as_deref(),
        &format!("{}.json", file_stem(node, "lorebook")),
        a.force,
    )?;
    let doc = match a.format {
        BookFormat::Json => rostro_sdk::cards::world_info(&got.book),
        BookFormat::Book => serde_json::to_value(&got.book)
            .map_err(|e| CliError::msg(format!("cannot write the lorebook: {e}")))?,
    };
    let mut bytes = serde_json::to_vec_pretty(&doc)
        .map_err(|e| CliError::msg(format!("cannot write the lorebook: {e}")))?;
    bytes.push(b'\n');
    write_out(ctx, &target, &bytes)?;
    if let OutTarget::File(path) = &target {
        if ctx.out.json {
            return ctx.out.json_value(&json!({
                "path": path.display().to_string(),
                "format": match a.format { BookFormat::Json => "world_info", BookFormat::Book => "character_book" },
                "name": got.book.name,
                "id": node.and_then(|n| n.id),
                "entries": got.book.entries.len(),
                "bytes": bytes.len(),
            }));
        }
        ctx.out.success(&format!(
            "Wrote {} ({} entries of {})",
            path.display(),
            got.book.entries.len(),
            got.book.name.as_deref().unwrap_or("the lorebook")
        ));
    }
    Ok(())
}
