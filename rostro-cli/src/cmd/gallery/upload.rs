//! `rostro gallery upload`: files in flight at once, a bar per file and a total bar, a
//! manifest record per file as it finishes, `--resume` from a manifest. A run that uploads
//! nothing it was given is not a success.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::UploadArgs;
use super::files::{MEDIA_EXTS, expand};
use super::manifest::{ManifestWriter, Record, read_manifest, sha256_file};
use crate::ctx::{Ctx, Session, ctrl_c};
use crate::exit::{CliError, CliResult};
use crate::output::style;
use crate::util::human_bytes;
use serde::Deserialize as _;

/// One finished file: its record, and the error when it failed.
type Outcome = (Record, Option<CliError>);

/// What a run will upload.
struct Plan {
    files: Vec<PathBuf>,
    /// Files `--resume` found uploaded already.
    done_before: usize,
    /// What the directories held that is not sent, with why.
    skipped: Vec<(PathBuf, String)>,
    manifest: Option<PathBuf>,
}

/// Runs `rostro gallery upload`.
pub(super) fn run(ctx: &Ctx, a: UploadArgs) -> CliResult {
    if a.concurrency == 0 {
        return Err(CliError::usage("--concurrency must be at least 1"));
    }
    let plan = plan(&a)?;
    report_skipped(ctx, &plan.skipped);
    if a.resume.is_some() {
        ctx.out.note(&format!(
            "resuming: {} file(s) to upload, {} already uploaded",
            plan.files.len(),
            plan.done_before
        ));
    }
    if plan.files.is_empty() {
        return nothing_to_upload(ctx, &a, &plan);
    }
    let append = a.manifest.is_none() && a.resume.is_some();
    let writer = Mutex::new(ManifestWriter::open(plan.manifest.as_deref(), append)?);
    let results = ctx.block_on(upload_all(ctx, &a, &plan, &writer))?;
    summarise(ctx, &a, &plan, results)
}

/// The files to upload: those named (directories expanded), or with `--resume` alone the
/// manifest's failures; minus what the manifest records as uploaded.
fn plan(a: &UploadArgs) -> CliResult<Plan> {
    let previous = match &a.resume {
        Some(m) => read_manifest(m)?,
        None => BTreeMap::new(),
    };
    let (mut files, skipped) = if a.paths.is_empty() {
        if a.resume.is_none() {
            return Err(CliError::usage(
                "give files or directories to upload (or --resume MANIFEST)",
            ));
        }
        let failed = previous.values().filter(|r| r.status != "ok");
        (failed.map(|r| r.path.clone()).collect(), Vec::new())
    } else {
        let found = expand(&a.paths)?;
        (found.files, found.skipped)
    };
    let before = files.len();
    files.retain(|p| previous.get(p).is_none_or(|r| r.status != "ok"));
    Ok(Plan {
        done_before: before - files.len(),
        files,
        skipped,
        manifest: a.manifest.clone().or(a.resume.clone()),
    })
}

/// Lists what was left out, on stderr (stdout stays the records of `--json`).
fn report_skipped(ctx: &Ctx, skipped: &[(PathBuf, String)]) {
    for (p, why) in skipped {
        ctx.out.eprint(&format!(
            "{}skipped{} {}: {why}",
            style::YELLOW,
            style::RESET,
            p.display()
        ));
    }
}

/// Nothing left to send: a success only when `--resume` finds everything uploaded already;
/// an empty directory, or one whose every file was skipped, fails (exit 4) so a script sees
/// that nothing was uploaded.
fn nothing_to_upload(ctx: &Ctx, a: &UploadArgs, plan: &Plan) -> CliResult {
    if plan.done_before > 0 {
        if !ctx.out.json {
            ctx.out.success(&format!(
                "nothing to upload: all {} file(s) were uploaded before",
                plan.done_before
            ));
        }
        return Ok(());
    }
    let given: Vec<String> = a.paths.iter().map(|p| p.display().to_string()).collect();
    let what = if a.paths.is_empty() {
        "the manifest lists no files".to_owned()
    } else if plan.skipped.is_empty() {
        format!("{} has no files", given.join(", "))
    } else {
        format!(
            "{} has no images ({} file(s) skipped, listed above)",
            given.join(", "),
            plan.skipped.len()
        )
    };
    Err(CliError::NotFound(format!(
        "nothing uploaded: {what}; images are found by extension: {}",
        MEDIA_EXTS.join(", ")
    )))
}

/// Uploads every planned file, `--concurrency` at a time, with bars; Ctrl-C records the
/// unfinished files as interrupted and stops.
async fn upload_all(
    ctx: &Ctx,
    a: &UploadArgs,
    plan: &Plan,
    writer: &Mutex<ManifestWriter>,
) -> CliResult<Vec<Outcome>> {
    let sizes: Vec<u64> = plan
        .files
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .collect();
    let n = plan.files.len();
    let s = ctx.session(true).await?;
    let multi = ctx.out.multi();
    let total = multi.add(ProgressBar::new(sizes.iter().sum()));
    total.set_style(
        ProgressStyle::with_template(
            "{msg:>12} [{bar:30.green/blue}] {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>11} {eta:>4}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    total.set_message(format!("0/{n} files"));
    let done = AtomicUsize::new(0);
    let jobs = plan.files.iter().zip(&sizes).map(|(path, size)| {
        let (s, multi, total, done) = (&s, &multi, &total, &done);
        async move {
            let rec = upload_one(s, a, path, *size, multi, total).await;
            let d = done.fetch_add(1, Ordering::SeqCst) + 1;
            total.set_message(format!("{d}/{n} files"));
            finish_one(ctx, multi, writer, &rec.0)?;
            Ok::<_, CliError>(rec)
        }
    });
    let mut stream = futures::stream::iter(jobs).buffer_unordered(a.concurrency);
    let mut results: Vec<Outcome> = Vec::new();
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
        return Err(interrupted_run(ctx, a, plan, &sizes, &results, writer));
    }
    Ok(results)
}

/// Reports one finished file (a line on stderr, its record in the manifest and, with
/// `--json`, on stdout).
fn finish_one(
    ctx: &Ctx,
    multi: &MultiProgress,
    writer: &Mutex<ManifestWriter>,
    rec: &Record,
) -> CliResult {
    let line = match &rec.status[..] {
        "ok" => format!(
            "{}✓{} {} → {}",
            style::GREEN,
            style::RESET,
            rec.path.display(),
            rec.uuid.as_deref().unwrap_or("")
        ),
        _ => format!(
            "{}✗{} {}: {}",
            style::RED,
            style::RESET,
            rec.path.display(),
            rec.error.as_deref().unwrap_or("")
        ),
    };
    if ctx.out.shows_progress() {
        let _ = multi.println(anstream::adapter::strip_str(&line).to_string());
    } else if !ctx.out.json {
        ctx.out.eprint(&line);
    }
    let written = writer.lock().unwrap_or_else(|e| e.into_inner()).write(rec);
    if ctx.out.json {
        ctx.out.json_line(&serde_json::to_value(rec)?)?;
    }
    written
}

/// After Ctrl-C: the unfinished files get an `interrupted` record, and the resume command
/// is printed.
fn interrupted_run(
    ctx: &Ctx,
    a: &UploadArgs,
    plan: &Plan,
    sizes: &[u64],
    results: &[Outcome],
    writer: &Mutex<ManifestWriter>,
) -> CliError {
    let finished: HashSet<&Path> = results.iter().map(|r| r.0.path.as_path()).collect();
    let mut w = writer.lock().unwrap_or_else(|e| e.into_inner());
    for (p, size) in plan.files.iter().zip(sizes) {
        if !finished.contains(p.as_path()) {
            let rec = Record {
                path: p.clone(),
                size: *size,
                sha256: String::new(),
                status: "error".into(),
                uuid: None,
                error: Some("interrupted".into()),
            };
            if let Err(e) = w.write(&rec) {
                return e;
            }
        }
    }
    let hint = match &plan.manifest {
        Some(m) => format!(
            "resume with: rostro gallery upload --project {} --resume {}",
            a.project,
            m.display()
        ),
        None => "use --manifest FILE to be able to resume".to_owned(),
    };
    ctx.out.eprint(&format!(
        "{}interrupted:{} {} of {} file(s) finished; {hint}",
        style::YELLOW,
        style::RESET,
        results.len(),
        plan.files.len()
    ));
    CliError::Interrupted
}

/// The closing line, and the exit status: success when every file was uploaded; when all
/// failed the same way, that failure's code; else exit 1 (a partial batch).
fn summarise(ctx: &Ctx, a: &UploadArgs, plan: &Plan, results: Vec<Outcome>) -> CliResult {
    let ok = results.iter().filter(|r| r.0.status == "ok").count();
    let bytes: u64 = results
        .iter()
        .filter(|r| r.0.status == "ok")
        .map(|r| r.0.size)
        .sum();
    let mut summary = format!("{ok} uploaded ({})", human_bytes(bytes));
    if plan.done_before > 0 {
        summary.push_str(&format!(
            ", {} skipped (already uploaded)",
            plan.done_before
        ));
    }
    if !plan.skipped.is_empty() {
        summary.push_str(&format!(", {} left out (listed above)", plan.skipped.len()));
    }
    let failed = results.len() - ok;
    if failed == 0 {
        ctx.out.success(&summary);
        if let Some(m) = &plan.manifest {
            ctx.out.note(&format!("manifest: {}", m.display()));
        }
        return Ok(());
    }
    summary.push_str(&format!(", {failed} failed"));
    ctx.out
        .eprint(&format!("{}✗{} {summary}", style::RED, style::RESET));
    match &plan.manifest {
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
    let codes: HashSet<u8> = results
        .iter()
        .filter(|r| r.0.status != "ok")
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

/// The file's SHA-256 (off the async threads), or why it cannot be read.
async fn hash(path: &Path) -> Result<String, (String, CliError)> {
    let p = path.to_path_buf();
    match tokio::task::spawn_blocking(move || sha256_file(&p)).await {
        Ok(Ok(h)) => Ok(h),
        Ok(Err(e)) => Err((
            format!("cannot read the file: {e}"),
            CliError::io(path.display(), e),
        )),
        Err(e) => Err((e.to_string(), CliError::msg(e.to_string()))),
    }
}

/// Uploads one file; never fails (a failure is a record with `status: error`).
async fn upload_one(
    s: &Session,
    a: &UploadArgs,
    path: &Path,
    size: u64,
    multi: &MultiProgress,
    total: &ProgressBar,
) -> Outcome {
    let mut rec = Record {
        path: path.to_path_buf(),
        size,
        sha256: String::new(),
        status: "error".into(),
        uuid: None,
        error: None,
    };
    match hash(path).await {
        Ok(h) => rec.sha256 = h,
        Err((why, e)) => {
            rec.error = Some(why);
            return (rec, Some(e));
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
    let sent = Arc::new(AtomicU64::new(0));
    let (b, t, sent2) = (bar.clone(), total.clone(), sent.clone());
    let mut up = s
        .client
        .gallery()
        .upload_file(a.project, path)
        .on_progress(move |p| {
            let prev = sent2.swap(p.bytes, Ordering::SeqCst);
            b.set_position(p.bytes);
            if p.bytes >= prev {
                t.inc(p.bytes - prev);
            } else {
                // A retry starts over.
                t.set_position(t.position().saturating_sub(prev - p.bytes));
            }
        });
    if let Some(c) = &a.caption {
        up = up.caption(c.clone());
    }
    let result = match up.into_request() {
        Ok(req) => s.json(req).await,
        Err(e) => Err(e.into()),
    };
    bar.finish_and_clear();
    multi.remove(&bar);
    // Keep the total right whatever the callbacks saw.
    let seen = sent.load(Ordering::SeqCst);
    match result {
        Ok(v) => {
            if seen < size {
                total.inc(size - seen);
            }
            // The answer is the new gallery item; the file is uploaded even if it has
            // another shape, so the record then just has no uuid.
            let item = rostro_sdk::types::GalleryItem::deserialize(&v).unwrap_or_default();
            rec.status = "ok".into();
            rec.uuid = item.uuid.or(item.generation_uuid).filter(|u| !u.is_empty());
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
