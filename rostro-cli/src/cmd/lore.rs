//! `rostro lore add|list|query|remove`: unstructured lore items (RAG).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use rostro_sdk::request::FilePart;
use serde_json::{Value, json};

use crate::ctx::Ctx;
use crate::exit::{CliError, CliResult};
use crate::util::{first_of, items_of, s};

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
        LoreCmd::Add(a) => {
            let (size, name) = super::file_info(&a.file)?;
            if let Some(m) = &a.metadata {
                serde_json::from_str::<Value>(m)
                    .map_err(|e| CliError::usage(format!("--metadata is not JSON: {e}")))?;
            }
            let v = ctx.block_on(async {
                let s = ctx.session(true).await?;
                let mut b = s
                    .client
                    .lore()
                    .add_item()
                    .file("file", FilePart::from_path(&a.file));
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
            ctx.out.success(&format!(
                "Added {} ({}) as lore item {}",
                a.file.display(),
                crate::util::human_bytes(size),
                first_of(&v, &["uuid", "id"])
            ));
            Ok(())
        }
        LoreCmd::List(a) => {
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
            let items = items_of(&v, &["items", "nodes"]);
            super::print_list(
                ctx,
                &items,
                &[
                    ("UUID", &|v| first_of(v, &["uuid", "id"])),
                    ("NAME", &|v| first_of(v, &["name", "filename", "title"])),
                    ("STATUS", &|v| s(v, "status")),
                ],
            )
        }
        LoreCmd::Query(a) => {
            let v = ctx.block_on(async {
                let s = ctx.session(true).await?;
                let mut body = json!({ "query": a.query });
                if !a.owners.is_empty() {
                    body["owner_ids"] = json!(a.owners);
                }
                s.json(s.client.lore().query().body(body).into_request()?)
                    .await
            })?;
            let items = items_of(&v, &["results", "items"]);
            if items.is_empty() || ctx.out.json {
                return super::print_value(ctx, &v, None);
            }
            super::print_list(
                ctx,
                &items,
                &[
                    ("SCORE", &|v| s(v, "score")),
                    ("TEXT", &|v| first_of(v, &["text", "content"])),
                ],
            )
        }
        LoreCmd::Remove(a) => {
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
            if ctx.out.json {
                return ctx.out.json_value(&v);
            }
            ctx.out.success(&format!("Removed lore item {}", a.uuid));
            Ok(())
        }
    }
}
