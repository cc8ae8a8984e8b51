//! `rostro assets upload|list|get`: engine assets. Large files go through the chunked upload
//! (parallel parts, resumable: re-running the same command continues an interrupted upload).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use rostro_sdk::media::UploadState;
use rostro_sdk::types::{Asset, Assets};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{cell, key_values, text};
use crate::ctx::{Ctx, ctrl_c};
use crate::exit::{CliError, CliResult};
use crate::output::style;
use crate::util::human_bytes;

/// `rostro assets ...`
#[derive(Debug, Subcommand)]
pub enum AssetsCmd {
    /// Upload a file (chunked and resumable above --chunk-threshold)
    Upload(UploadArgs),
    /// List assets
    List(ListArgs),
    /// Show an asset
    Get(GetArgs),
}

/// `assets upload`
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The file
    pub file: PathBuf,
    /// Project the asset belongs to
    #[arg(long, value_name = "ID")]
    pub project: Option<String>,
    /// Use the chunked upload for files at least this many MiB (0: always)
    #[arg(long, default_value_t = 16, value_name = "MIB")]
    pub chunk_threshold: u64,
    /// Part size of the chunked upload, in MiB
    #[arg(long, default_value_t = 8, value_name = "MIB")]
    pub part_size: u64,
    /// Parts in flight at once
    #[arg(long, short = 'j', default_value_t = 4, value_name = "N", allow_negative_numbers = true, value_parser = crate::util::positive::<usize>)]
    pub concurrency: usize,
    /// Start over instead of resuming an interrupted upload of this file
    #[arg(long)]
    pub restart: bool,
}

/// `assets list`
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Search text
    #[arg(long)]
    pub search: Option<String>,
    /// At most this many
    #[arg(long, short = 'L', default_value_t = 30, allow_negative_numbers = true, value_parser = crate::util::positive::<u32>)]
    pub limit: u32,
}

/// `assets get`
#[derive(Debug, Args)]
pub struct GetArgs {
    /// Asset id
    pub id: String,
}

const MIB: u64 = 1024 * 1024;

/// Runs `rostro assets`.
pub fn run(ctx: &Ctx, cmd: AssetsCmd) -> CliResult {
    match cmd {
        AssetsCmd::Upload(a) => upload(ctx, a),
        AssetsCmd::List(a) => {
            let v = ctx.block_on(async {
                let s = ctx.session(true).await?;
                let mut b = s.client.engine_assets().list().limit(a.limit);
                if let Some(q) = &a.search {
                    b = b.search(q);
                }
                s.json(b.into_request()?).await
            })?;
            super::print_page(
                ctx,
                &v,
                "assets list",
                Assets::raw_items,
                Assets::items,
                &[
                    ("ID", &|a: &Asset| cell(&a.id)),
                    ("NAME", &|a: &Asset| cell(&a.name)),
                    ("SIZE", &|a: &Asset| {
                        a.size.map(size_text).unwrap_or_default()
                    }),
                    ("TYPE", &|a: &Asset| cell(&a.content_type)),
                ],
            )
        }
        AssetsCmd::Get(a) => {
            let v = ctx.block_on(async {
                let s = ctx.session(true).await?;
                s.json(s.client.engine_assets().get(&a.id).into_request()?)
                    .await
            })?;
            if ctx.out.json {
                return ctx.out.json_value(&v);
            }
            let asset: Asset = super::view(&v, "assets get")?;
            let human = key_values(&[
                ("Id", asset.id.clone()),
                ("Name", asset.name.clone()),
                ("Size", asset.size.map(size_text)),
                ("Type", asset.content_type.clone()),
                ("Project", text(&asset.project_id)),
                ("Created", asset.created_at.clone()),
                ("URL", asset.url.clone()),
            ]);
            let human = super::blocks(&[human, super::extra_lines(asset.extra())]);
            super::print_answer(ctx, &v, &human)
        }
    }
}

/// A size in bytes as people read it (a negative size from the server is shown as sent).
fn size_text(n: i64) -> String {
    u64::try_from(n).map_or_else(|_| n.to_string(), human_bytes)
}

/// Where the resume state of a chunked upload of `file` is kept.
fn state_path(file: &Path) -> Option<PathBuf> {
    let abs = std::fs::canonicalize(file).ok()?;
    let key = hex::encode(&Sha256::digest(abs.to_string_lossy().as_bytes())[..8]);
    let name = abs.file_name()?.to_string_lossy().into_owned();
    Some(
        crate::config::state_dir()?
            .join("uploads")
            .join(format!("{name}-{key}.json")),
    )
}

fn upload(ctx: &Ctx, a: UploadArgs) -> CliResult {
    let meta = std::fs::metadata(&a.file).map_err(|e| CliError::io(a.file.display(), e))?;
    if !meta.is_file() {
        return Err(CliError::usage(format!("{}: not a file", a.file.display())));
    }
    if a.concurrency == 0 || a.part_size == 0 {
        return Err(CliError::usage(
            "--concurrency and --part-size must be at least 1",
        ));
    }
    let size = meta.len();
    let chunked = size >= a.chunk_threshold * MIB;
    let name = a
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    ctx.block_on(async {
        let s = ctx.session(true).await?;
        let (bar, progress) = super::transfer_bar(ctx, size, &name);
        let (v, link): (Value, String) = if chunked {
            chunked_upload(ctx, &s, &a, &name, &bar, progress).await?
        } else {
            let mut b = s.client.engine_assets().create().file("file", &a.file);
            if let Some(pid) = &a.project {
                b = b.text("project_id", pid);
            }
            let req = s.client.upload(b).on_progress(progress).into_request()?;
            let r = tokio::select! {
                r = s.json(req) => r,
                _ = ctrl_c() => {
                    bar.finish_and_clear();
                    return Err(CliError::Interrupted);
                }
            };
            bar.finish_and_clear();
            let v = r?;
            let link = if ctx.out.json {
                String::new()
            } else {
                let asset: Asset = super::view(&v, "assets upload")?;
                asset.url.or(asset.uuid).or(asset.id).unwrap_or_default()
            };
            (v, link)
        };
        if ctx.out.json {
            return ctx.out.json_value(&v);
        }
        ctx.out.success(&format!(
            "Uploaded {name} ({}){}",
            human_bytes(size),
            if chunked { " in parts" } else { "" }
        ));
        if link.is_empty() {
            ctx.out
                .warn("the server did not say where the asset is (no url or id in its answer)");
            return Ok(());
        }
        ctx.out.line(&link)
    })
}

/// The chunked upload of `assets upload`: resumes from the saved state unless `--restart`;
/// returns the answer `--json` prints and the link the human line shows.
async fn chunked_upload(
    ctx: &Ctx,
    s: &crate::ctx::Session,
    a: &UploadArgs,
    name: &str,
    bar: &indicatif::ProgressBar,
    progress: impl Fn(rostro_sdk::media::TransferProgress) + Send + Sync + 'static,
) -> CliResult<(Value, String)> {
    let state_file = state_path(&a.file);
    let previous = match (&state_file, a.restart) {
        (Some(p), false) if p.is_file() => UploadState::load(p).await.ok(),
        _ => None,
    };
    let up = match previous {
        Some(state) => {
            ctx.out.note(&format!(
                "resuming the upload of {name}: {} of {} parts already sent",
                state.completed.len(),
                state.part_count
            ));
            bar.set_position(state.completed_bytes());
            s.client.engine_upload().resume(state)
        }
        None => s.client.engine_upload().upload_file(&a.file),
    };
    let mut up = up
        .part_size(a.part_size * MIB)
        .concurrency(a.concurrency)
        .on_progress(progress);
    if let Some(p) = &state_file {
        if let Some(dir) = p.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        up = up.state_file(p);
    }
    if let Some(pid) = &a.project {
        up = up.project_id(pid.parse::<i64>().map(Value::from).unwrap_or(json!(pid)));
    }
    let r = tokio::select! {
        r = up.send() => r,
        _ = ctrl_c() => {
            bar.finish_and_clear();
            ctx.out.eprint(&format!(
                "{}interrupted:{} run the same command again to resume the upload",
                style::YELLOW, style::RESET
            ));
            return Err(CliError::Interrupted);
        }
    };
    bar.finish_and_clear();
    let r = r?;
    let id = r.uuid.clone().unwrap_or_else(|| r.upload_id.clone());
    let link = if r.url.is_empty() { id } else { r.url.clone() };
    let v = json!({
        "upload_id": r.upload_id,
        "uuid": r.uuid,
        "key": r.key,
        "url": r.url,
        "size": r.size,
        "sha256": r.sha256,
        "parts": r.parts,
        "parts_sent": r.parts_sent,
        "chunked": true,
    });
    Ok((v, link))
}
