//! `characters download`: a card file (PNG, JSON or CharX; V2 or V3), and the `--out`
//! handling `lore download` shares.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use rostro_sdk::cards::{CardFormat, CardSpec};
use rostro_sdk::types::{Project, ProjectAnswer};
use serde_json::json;

use super::{DownloadArgs, FormatArg, SpecArg};
use crate::ctx::Ctx;
use crate::exit::{CliError, CliResult};

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
pub(crate) fn file_stem(node: Option<&Project>, fallback: &str) -> String {
    let raw = node
        .and_then(|n| n.full_path.as_deref())
        .and_then(|p| p.rsplit('/').next())
        .or_else(|| node.and_then(|n| n.name.as_deref()))
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

/// The card format and spec asked for; checks the target before any request, so a refused
/// overwrite costs nothing.
fn card_kind(a: &DownloadArgs) -> CliResult<(CardFormat, CardSpec)> {
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
    Ok((format, spec))
}

/// `characters download ID|CREATOR/SLUG`: writes a card file (or stdout).
pub(super) fn download(ctx: &Ctx, a: DownloadArgs) -> CliResult {
    let (format, spec) = card_kind(&a)?;
    let got = ctx.block_on(async {
        let s = ctx.session(false).await?;
        s.client
            .characters()
            .download_card(&a.id)
            .await
            .map_err(|e| s.err(e))
    })?;
    let answer: ProjectAnswer = crate::cmd::view(&got.project, "characters download")?;
    let node = answer.node.as_ref();
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
                    "id": node.and_then(|n| n.id),
                    "fullPath": node.and_then(|n| n.full_path.clone()),
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
