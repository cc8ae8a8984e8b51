//! `rostro gallery upload|list|delete`. Uploads run concurrently with a bar per file and a
//! total bar, write an NDJSON manifest (one record per file), and resume from it.

mod files;
mod manifest;
mod upload;

use std::path::PathBuf;

use clap::{Args, Subcommand};
use futures::TryStreamExt;

use super::cell;
use crate::ctx::Ctx;
use crate::exit::{CliError, CliResult};
use rostro_sdk::types::GalleryItem;

/// `rostro gallery ...`
#[derive(Debug, Subcommand)]
pub enum GalleryCmd {
    /// Upload images (files, or every image in directories) to a project's gallery
    Upload(UploadArgs),
    /// List gallery images (all, or one project's)
    List(ListArgs),
    /// Delete a gallery image
    Delete(DeleteArgs),
}

/// `gallery upload`
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  rostro gallery upload --project 42 cover.png extra/*.webp
  rostro gallery upload --project 42 ./renders --concurrency 8 --manifest upload.ndjson
  rostro gallery upload --project 42 --resume upload.ndjson     # only what failed

The manifest has one JSON line per file: {\"path\", \"size\", \"sha256\", \"status\": \"ok\"|\"error\",
\"uuid\" | \"error\"}. With --resume the records are appended to the same file (the last record
of a path wins) unless --manifest names another. --json prints the same records on stdout.
A path that is not UTF-8 is recorded losslessly as \"path_bytes\" instead of \"path\": its raw
bytes in base64 (standard alphabet, padded; on Windows its UTF-16LE code units), with
\"path_display\", a lossy rendering for people (ignored when read back).
One file failing never stops the batch: it gets an error record and the rest go on.

From directories only images are taken (by extension: png, jpg, jpeg, webp, gif, avif, bmp);
what is left out (other files, hidden files and directories, unreadable directories) is listed
on stderr with the reason. Exit status: 0 when every file was uploaded (or, with --resume, had
been); 4 when there was nothing to upload (an empty directory, or every file skipped); 1 when
some files failed; the failures' own code when all failed the same way (e.g. 3 for a bad key).")]
pub struct UploadArgs {
    /// The project (character) id
    #[arg(long, value_name = "ID")]
    pub project: i64,
    /// Files, or directories (their images, recursively)
    #[arg(value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,
    /// Uploads in flight at once
    #[arg(long, short = 'j', default_value_t = 4, value_name = "N")]
    pub concurrency: usize,
    /// Write one JSON record per file to this file (NDJSON)
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// Upload again only the files this manifest records as failed (or not done)
    #[arg(long, value_name = "FILE")]
    pub resume: Option<PathBuf>,
    /// Caption for every image
    #[arg(long)]
    pub caption: Option<String>,
}

/// `gallery list`
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this project's images
    #[arg(long, value_name = "ID")]
    pub project: Option<i64>,
    /// At most this many images
    #[arg(long, short = 'L', default_value_t = 30)]
    pub limit: usize,
    /// Include NSFW images
    #[arg(long)]
    pub nsfw: bool,
}

/// `gallery delete`
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Image uuid
    pub uuid: String,
    /// Only remove it from this project (when you do not own the image)
    #[arg(long, value_name = "ID")]
    pub project: Option<i64>,
}

/// Runs `rostro gallery`.
pub fn run(ctx: &Ctx, cmd: GalleryCmd) -> CliResult {
    match cmd {
        GalleryCmd::Upload(a) => upload::run(ctx, a),
        GalleryCmd::List(a) => list(ctx, a),
        GalleryCmd::Delete(a) => {
            let v = ctx.block_on(async {
                let s = ctx.session(true).await?;
                let mut b = s.client.gallery().delete(&a.uuid);
                if let Some(p) = a.project {
                    b = b.project_id(p);
                }
                s.json(b.into_request()?).await
            })?;
            if ctx.out.json {
                return ctx.out.json_value(&v);
            }
            ctx.out.success(&format!("Deleted {}", a.uuid));
            Ok(())
        }
    }
}

fn list(ctx: &Ctx, a: ListArgs) -> CliResult {
    let items = ctx.block_on(async {
        let s = ctx.session(false).await?;
        let page = a.limit.clamp(1, 100) as i64;
        let stream = match a.project {
            Some(p) => {
                let mut b = s.client.gallery().list_for_project(p).limit(page);
                if a.nsfw {
                    b = b.nsfw(true);
                }
                b.stream_limit(a.limit)
            }
            None => {
                let mut b = s.client.gallery().list().limit(page);
                if a.nsfw {
                    b = b.nsfw(true);
                }
                b.stream_limit(a.limit)
            }
        };
        let items: Vec<GalleryItem> = stream.try_collect().await?;
        Ok::<_, CliError>(items)
    })?;
    if ctx.out.json {
        for it in &items {
            ctx.out.json_line(&serde_json::to_value(it)?)?;
        }
        return Ok(());
    }
    super::print_table(
        ctx,
        &items,
        &[
            ("UUID", &|g: &GalleryItem| {
                cell(&g.uuid.as_ref().or(g.generation_uuid.as_ref()))
            }),
            ("PROJECT", &|g: &GalleryItem| cell(&g.primary_character_id)),
            ("NAME", &|g: &GalleryItem| {
                cell(&g.name.as_ref().or(g.description.as_ref()))
            }),
            ("URL", &|g: &GalleryItem| cell(&g.primary_image_path)),
        ],
    )
}
