//! `rostro gallery upload|list|delete`. Uploads run concurrently with a bar per file and a
//! total bar, write an NDJSON manifest (one record per file), and resume from it.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use clap::{Args, Subcommand};
use futures::{StreamExt, TryStreamExt};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use rostro_sdk::media::Upload;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ctx::{Ctx, Session, ctrl_c};
use crate::exit::{CliError, CliResult};
use crate::output::style;
use crate::util::{first_of, human_bytes, s};

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
One file failing never stops the batch: it gets an error record and the rest go on.")]
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

/// One manifest line (its JSON form is [`RecordLine`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(into = "RecordLine", try_from = "RecordLine")]
pub struct Record {
    /// The file.
    pub path: PathBuf,
    /// Its size.
    pub size: u64,
    /// Hex SHA-256 of its bytes.
    #[serde(default)]
    pub sha256: String,
    /// `ok` or `error`.
    pub status: String,
    /// The new gallery item's uuid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A [`Record`] as written: the path as text when it is UTF-8, else as its raw bytes, so that
/// every file is recorded, whatever its name, and `--resume` finds it again.
#[derive(Debug, Serialize, Deserialize)]
struct RecordLine {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    /// Base64 of the raw path (Unix bytes; Windows UTF-16LE code units).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path_bytes: Option<String>,
    /// With `path_bytes`: a lossy rendering for people, never read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path_display: Option<String>,
    size: u64,
    #[serde(default)]
    sha256: String,
    status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uuid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl From<Record> for RecordLine {
    fn from(r: Record) -> Self {
        let (path, path_bytes, path_display) = match r.path.to_str() {
            Some(p) => (Some(p.to_owned()), None, None),
            None => (
                None,
                Some(B64.encode(path_to_bytes(&r.path))),
                Some(r.path.to_string_lossy().into_owned()),
            ),
        };
        RecordLine {
            path,
            path_bytes,
            path_display,
            size: r.size,
            sha256: r.sha256,
            status: r.status,
            uuid: r.uuid,
            error: r.error,
        }
    }
}

impl TryFrom<RecordLine> for Record {
    type Error = String;

    fn try_from(l: RecordLine) -> Result<Self, String> {
        let path = match (l.path, l.path_bytes) {
            (Some(p), _) => PathBuf::from(p),
            (None, Some(b)) => {
                let raw = B64
                    .decode(b.trim())
                    .map_err(|e| format!("`path_bytes` is not base64: {e}"))?;
                path_from_bytes(raw)?
            }
            (None, None) => return Err("a record needs `path` or `path_bytes`".into()),
        };
        Ok(Record {
            path,
            size: l.size,
            sha256: l.sha256,
            status: l.status,
            uuid: l.uuid,
            error: l.error,
        })
    }
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[cfg(unix)]
fn path_to_bytes(p: &Path) -> Vec<u8> {
    std::os::unix::ffi::OsStrExt::as_bytes(p.as_os_str()).to_vec()
}

#[cfg(unix)]
fn path_from_bytes(b: Vec<u8>) -> Result<PathBuf, String> {
    Ok(PathBuf::from(
        <std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(b),
    ))
}

#[cfg(windows)]
fn path_to_bytes(p: &Path) -> Vec<u8> {
    std::os::windows::ffi::OsStrExt::encode_wide(p.as_os_str())
        .flat_map(u16::to_le_bytes)
        .collect()
}

#[cfg(windows)]
fn path_from_bytes(b: Vec<u8>) -> Result<PathBuf, String> {
    if b.len() % 2 != 0 {
        return Err("`path_bytes` is not UTF-16LE (odd length)".into());
    }
    let wide: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    Ok(PathBuf::from(
        <std::ffi::OsString as std::os::windows::ffi::OsStringExt>::from_wide(&wide),
    ))
}

#[cfg(not(any(unix, windows)))]
fn path_to_bytes(p: &Path) -> Vec<u8> {
    p.to_string_lossy().into_owned().into_bytes()
}

#[cfg(not(any(unix, windows)))]
fn path_from_bytes(b: Vec<u8>) -> Result<PathBuf, String> {
    String::from_utf8(b)
        .map(PathBuf::from)
        .map_err(|_| "`path_bytes` is not UTF-8 on this platform".into())
}

const MEDIA_EXTS: &[&str] = &["png", "jpg", "jpeg", "webp", "gif", "avif", "bmp"];

/// Runs `rostro gallery`.
pub fn run(ctx: &Ctx, cmd: GalleryCmd) -> CliResult {
    match cmd {
        GalleryCmd::Upload(a) => upload(ctx, a),
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
        let items: Vec<rostro_sdk::types::GalleryItem> = stream.try_collect().await?;
        items
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(CliError::from)
    })?;
    super::print_list(
        ctx,
        &items,
        &[
            ("UUID", &|v| s(v, "uuid")),
            ("PROJECT", &|v| {
                first_of(v, &["primary_character_id", "project_id"])
            }),
            ("NAME", &|v| first_of(v, &["name", "description"])),
            ("URL", &|v| s(v, "primary_image_path")),
        ],
    )
}

/// Expands files and directories (images only, recursively, sorted).
fn expand(paths: &[PathBuf]) -> CliResult<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> CliResult {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| CliError::io(dir.display(), e))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        entries.sort();
        for p in entries {
            let hidden = p
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if hidden {
                continue;
            }
            if p.is_dir() {
                walk(&p, out)?;
            } else if p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| MEDIA_EXTS.contains(&e.to_ascii_lowercase().as_str()))
            {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            return Err(CliError::usage(format!(
                "{}: no such file or directory",
                p.display()
            )));
        }
    }
    let mut seen = HashSet::new();
    out.retain(|p| seen.insert(p.clone()));
    Ok(out)
}

/// The last record of every path in a manifest.
pub fn read_manifest(path: &Path) -> CliResult<BTreeMap<PathBuf, Record>> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::io(path.display(), e))?;
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let r: Record = serde_json::from_str(line).map_err(|e| {
            CliError::usage(format!(
                "{}:{}: not a manifest record: {e}",
                path.display(),
                i + 1
            ))
        })?;
        out.insert(r.path.clone(), r);
    }
    Ok(out)
}

fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(hex::encode(h.finalize()))
}

/// Appends records to the manifest as files finish (so a crash loses nothing).
struct ManifestWriter {
    file: Option<std::fs::File>,
}

impl ManifestWriter {
    fn open(path: Option<&Path>, append: bool) -> CliResult<ManifestWriter> {
        let file = match path {
            Some(p) => {
                if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| CliError::io(dir.display(), e))?;
                }
                Some(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(append)
                        .write(true)
                        .truncate(!append)
                        .open(p)
                        .map_err(|e| CliError::io(p.display(), e))?,
                )
            }
            None => None,
        };
        Ok(ManifestWriter { file })
    }

    fn write(&mut self, r: &Record) -> CliResult {
        if let Some(f) = &mut self.file {
            let line = serde_json::to_string(r)?;
            writeln!(f, "{line}").map_err(|e| CliError::io("manifest", e))?;
            f.flush().map_err(|e| CliError::io("manifest", e))?;
        }
        Ok(())
    }
}

fn upload(ctx: &Ctx, a: UploadArgs) -> CliResult {
    if a.concurrency == 0 {
        return Err(CliError::usage("--concurrency must be at least 1"));
    }
    // What to upload.
    let previous = match &a.resume {
        Some(m) => read_manifest(m)?,
        None => BTreeMap::new(),
    };
    let mut files = if a.paths.is_empty() {
        if a.resume.is_none() {
            return Err(CliError::usage(
                "give files or directories to upload (or --resume MANIFEST)",
            ));
        }
        previous
            .values()
            .filter(|r| r.status != "ok")
            .map(|r| r.path.clone())
            .collect()
    } else {
        expand(&a.paths)?
    };
    let skipped = files.len();
    files.retain(|p| previous.get(p).is_none_or(|r| r.status != "ok"));
    let skipped = skipped - files.len();
    if a.resume.is_some() {
        ctx.out.note(&format!(
            "resuming: {} file(s) to upload, {skipped} already uploaded",
            files.len()
        ));
    }
    if files.is_empty() {
        if ctx.out.json {
            return Ok(());
        }
        ctx.out.success("nothing to upload");
        return Ok(());
    }
    let manifest_path = a.manifest.clone().or(a.resume.clone());
    let append = a.manifest.is_none() && a.resume.is_some();
    let writer = Arc::new(Mutex::new(ManifestWriter::open(
        manifest_path.as_deref(),
        append,
    )?));

    let sizes: Vec<u64> = files
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .collect();
    let total_bytes: u64 = sizes.iter().sum();
    let n = files.len();

    let results = ctx.block_on(async {
        let s = ctx.session(true).await?;
        let multi = ctx.out.multi();
        let total = multi.add(ProgressBar::new(total_bytes));
        total.set_style(
            ProgressStyle::with_template(
                "{msg:>12} [{bar:30.green/blue}] {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>11} {eta:>4}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        total.set_message(format!("0/{n} files"));
        let done_count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let jobs = files.iter().zip(sizes.iter()).map(|(path, size)| {
            let (s, multi, total, writer, done_count) = (
                &s,
                multi.clone(),
                total.clone(),
                writer.clone(),
                done_count.clone(),
            );
            let caption = a.caption.clone();
            let project = a.project;
            async move {
                let rec = upload_one(ctx, s, project, path, *size, caption, &multi, &total).await;
                let d = done_count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                total.set_message(format!("{d}/{n} files"));
                let line = match &rec.0.status[..] {
                    "ok" => format!(
                        "{}✓{} {} → {}",
                        style::GREEN,
                        style::RESET,
                        rec.0.path.display(),
                        rec.0.uuid.as_deref().unwrap_or("")
                    ),
                    _ => format!(
                        "{}✗{} {}: {}",
                        style::RED,
                        style::RESET,
                        rec.0.path.display(),
                        rec.0.error.as_deref().unwrap_or("")
                    ),
                };
                if ctx.out.shows_progress() {
                    let _ = multi.println(anstream::adapter::strip_str(&line).to_string());
                } else if !ctx.out.json {
                    ctx.out.eprint(&line);
                }
                let w = writer.lock().unwrap_or_else(|e| e.into_inner()).write(&rec.0);
                if ctx.out.json {
                    ctx.out.json_line(&serde_json::to_value(&rec.0)?)?;
                }
                w?;
                Ok::<_, CliError>(rec)
            }
        });
        let mut stream = futures::stream::iter(jobs).buffer_unordered(a.concurrency);
        let mut results: Vec<(Record, Option<CliError>)> = Vec::new();
        let interrupted = loop {
            tokio::select! {
                next = stream.next() => match next {
                    Some(r) => results.push(r?),
                    None => break false,
                },
                _ = ctrl_c() => break true,
            }
        };
        drop(stream);
        total.finish_and_clear();
        let _ = multi.clear();
        if interrupted {
            let finished: HashSet<PathBuf> = results.iter().map(|r| r.0.path.clone()).collect();
            let mut w = writer.lock().unwrap_or_else(|e| e.into_inner());
            for (p, size) in files.iter().zip(&sizes) {
                if !finished.contains(p) {
                    w.write(&Record {
                        path: p.clone(),
                        size: *size,
                        sha256: String::new(),
                        status: "error".into(),
                        uuid: None,
                        error: Some("interrupted".into()),
                    })?;
                }
            }
            let hint = match &manifest_path {
                Some(m) => format!(
                    "resume with: rostro gallery upload --project {} --resume {}",
                    a.project,
                    m.display()
                ),
                None => "use --manifest FILE to be able to resume".to_owned(),
            };
            ctx.out.eprint(&format!(
                "{}interrupted:{} {} of {n} file(s) finished; {hint}",
                style::YELLOW,
                style::RESET,
                results.len()
            ));
            return Err(CliError::Interrupted);
        }
        Ok(results)
    })?;

    let ok = results.iter().filter(|r| r.0.status == "ok").count();
    let failed: Vec<&(Record, Option<CliError>)> =
        results.iter().filter(|r| r.0.status != "ok").collect();
    let bytes: u64 = results
        .iter()
        .filter(|r| r.0.status == "ok")
        .map(|r| r.0.size)
        .sum();
    let mut summary = format!("{ok} uploaded ({})", human_bytes(bytes));
    if skipped > 0 {
        summary.push_str(&format!(", {skipped} skipped (already uploaded)"));
    }
    if failed.is_empty() {
        ctx.out.success(&summary);
        if let Some(m) = &manifest_path {
            ctx.out.note(&format!("manifest: {}", m.display()));
        }
        return Ok(());
    }
    summary.push_str(&format!(", {} failed", failed.len()));
    ctx.out
        .eprint(&format!("{}✗{} {summary}", style::RED, style::RESET));
    match &manifest_path {
        Some(m) => ctx.out.eprint(&format!(
            "retry the failures with: rostro gallery upload --project {} --resume {}",
            a.project,
            m.display()
        )),
        None => ctx
            .out
            .eprint("use --manifest FILE to record results and --resume FILE to retry failures"),
    }
    // Every failure of the same kind (e.g. all 401): exit with that kind's code.
    let codes: HashSet<u8> = failed
        .iter()
        .map(|r| r.1.as_ref().map_or(1, CliError::code))
        .collect();
    if ok == 0
        && codes.len() == 1
        && !codes.contains(&1)
        && let Some(e) = results.into_iter().find_map(|r| r.1)
    {
        return Err(e);
    }
    Err(CliError::Partial(summary))
}

/// Uploads one file; never fails (a failure is a record with `status: error`).
#[allow(clippy::too_many_arguments)]
async fn upload_one(
    _ctx: &Ctx,
    s: &Session,
    project: i64,
    path: &Path,
    size: u64,
    caption: Option<String>,
    multi: &MultiProgress,
    total: &ProgressBar,
) -> (Record, Option<CliError>) {
    let mut rec = Record {
        path: path.to_path_buf(),
        size,
        sha256: String::new(),
        status: "error".into(),
        uuid: None,
        error: None,
    };
    let p = path.to_path_buf();
    match tokio::task::spawn_blocking(move || sha256_file(&p)).await {
        Ok(Ok(h)) => rec.sha256 = h,
        Ok(Err(e)) => {
            rec.error = Some(format!("cannot read the file: {e}"));
            return (rec, Some(CliError::io(path.display(), e)));
        }
        Err(e) => {
            rec.error = Some(e.to_string());
            return (rec, Some(CliError::msg(e.to_string())));
        }
    }
    let bar = multi.insert_from_back(1, ProgressBar::new(size));
    bar.set_style(crate::output::bytes_style(true));
    bar.set_message(
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    // Progress of this file; the total bar advances by the difference.
    let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let (b, t, sent2) = (bar.clone(), total.clone(), sent.clone());
    let mut up = s
        .client
        .gallery()
        .upload_file(project, Upload::path(path))
        .on_progress(move |p| {
            let prev = sent2.swap(p.bytes, std::sync::atomic::Ordering::SeqCst);
            b.set_position(p.bytes);
            if p.bytes >= prev {
                t.inc(p.bytes - prev);
            } else {
                // A retry starts over.
                t.set_position(t.position().saturating_sub(prev - p.bytes));
            }
        });
    if let Some(c) = caption {
        up = up.caption(c);
    }
    let result = match up.into_request() {
        Ok(req) => s.json(req).await,
        Err(e) => Err(e.into()),
    };
    bar.finish_and_clear();
    multi.remove(&bar);
    // Keep the total right whatever the callbacks saw.
    let seen = sent.load(std::sync::atomic::Ordering::SeqCst);
    match result {
        Ok(v) => {
            if seen < size {
                total.inc(size - seen);
            }
            let uuid = first_of(&v, &["uuid", "id"]);
            rec.status = "ok".into();
            rec.uuid = (!uuid.is_empty()).then_some(uuid);
            (rec, None)
        }
        Err(e) => {
            total.set_position(total.position().saturating_sub(seen));
            total.set_length(total.length().unwrap_or(0).saturating_sub(size));
            rec.error = Some(e.to_string());
            (rec, Some(e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_last_record_wins() {
        let dir = std::env::temp_dir().join(format!("rostro-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let m = dir.join("m.ndjson");
        let mut w = ManifestWriter::open(Some(&m), false).unwrap();
        let mut r = Record {
            path: "a.png".into(),
            size: 1,
            sha256: "x".into(),
            status: "error".into(),
            uuid: None,
            error: Some("boom".into()),
        };
        w.write(&r).unwrap();
        r.status = "ok".into();
        r.error = None;
        r.uuid = Some("u".into());
        w.write(&r).unwrap();
        let got = read_manifest(&m).unwrap();
        assert_eq!(got[Path::new("a.png")].status, "ok");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn expands_directories_to_images() {
        let dir = std::env::temp_dir().join(format!("rostro-expand-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        for f in ["b.png", "a.JPG", "notes.txt", ".hidden.png", "sub/c.webp"] {
            std::fs::write(dir.join(f), b"x").unwrap();
        }
        let got = expand(std::slice::from_ref(&dir)).unwrap();
        let names: Vec<String> = got
            .iter()
            .map(|p| p.strip_prefix(&dir).unwrap().display().to_string())
            .collect();
        assert_eq!(names, vec!["a.JPG", "b.png", "sub/c.webp"]);
        let _ = std::fs::remove_dir_all(dir);
    }
}
