//! `imagine wait`, and the waiting and downloading every generation command shares:
//! the SDK's poller with a spinner, Ctrl-C and `--wait-timeout` hints that re-run as printed,
//! downloads with byte bars, `--out -` to stdout.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use futures::StreamExt as _;
use indicatif::ProgressBar;
use rostro_sdk::media::{
    CompletedGeneration, Generation, GenerationState, MediaError, WaitProgress,
};
use serde_json::{Value, json};

use super::WaitOpts;
use crate::ctx::{Ctx, ctrl_c};
use crate::exit::{CliError, CliResult};
use crate::output::style;
use crate::util;

/// `imagine wait`
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// The generation uuid
    pub uuid: String,
    /// Poll `POST /check` (generations started by per-type endpoints such as upscale)
    #[arg(long)]
    pub timed: bool,
    #[command(flatten)]
    pub wait: WaitOpts,
}

/// Runs `imagine wait`.
pub(super) fn resume(ctx: &Ctx, a: WaitArgs) -> CliResult {
    check_out(&a.wait)?;
    ctx.block_on(async {
        let s = ctx.session(true).await?;
        let started = Instant::now();
        let spinner = ctx.out.spinner("waiting");
        let generation = if a.timed {
            s.client.imagine().resume_check(&a.uuid)
        } else {
            s.client.imagine().resume(&a.uuid)
        };
        let done = wait_for(ctx, generation, &a.wait, &spinner, "generation", a.timed).await;
        spinner.finish_and_clear();
        finish(ctx, done?, &a.wait, "generation", started).await
    })
}

pub(super) fn check_out(w: &WaitOpts) -> CliResult {
    if !(w.poll_interval.is_finite() && w.poll_interval > 0.0) {
        return Err(CliError::usage("--poll-interval must be positive"));
    }
    if w.wait_timeout.is_some_and(|t| !(t.is_finite() && t >= 0.0)) {
        return Err(CliError::usage(
            "--wait-timeout must be a number of seconds",
        ));
    }
    Ok(())
}

/// Waits with the SDK's poller (first check after 250 ms, doubling up to `--poll-interval`),
/// showing state and elapsed time on the spinner. Ctrl-C prints how to resume and exits 130;
/// `--wait-timeout` exits 7 with the same hint.
pub(super) async fn wait_for(
    ctx: &Ctx,
    generation: Generation,
    w: &WaitOpts,
    spinner: &ProgressBar,
    label: &str,
    timed: bool,
) -> CliResult<CompletedGeneration> {
    let uuid = generation.generation_uuid().to_owned();
    let max = crate::cli::capped_secs(w.poll_interval);
    let mut generation = generation.poll_interval(Duration::from_millis(250).min(max), max);
    if let Some(t) = w.wait_timeout {
        generation = generation.timeout(crate::cli::capped_secs(t));
    }
    let pb = spinner.clone();
    let tag = format!("{label} {uuid}");
    pb.set_message(format!("{tag}: queued"));
    let generation = generation.on_progress(move |p: &WaitProgress| {
        let state = match (p.state, p.queue_length) {
            (GenerationState::Pending, Some(q)) if q > 0 => format!("queued (position {q})"),
            (GenerationState::Pending, _) => "generating".to_owned(),
            (GenerationState::Done, _) => "done".to_owned(),
            (GenerationState::Failed, _) => "failed".to_owned(),
            _ => "checking".to_owned(),
        };
        pb.set_message(format!("{tag}: {state} (check {})", p.attempt));
    });
    let mut args = vec!["imagine", "wait", uuid.as_str()];
    if timed {
        args.push("--timed");
    }
    if let Some(o) = &w.out {
        args.extend(["--out", o.as_str()]);
    }
    let hint = crate::rerun::command(&ctx.g, &args);
    let r = tokio::select! {
        r = generation.wait() => r,
        _ = ctrl_c() => {
            spinner.finish_and_clear();
            ctx.out.eprint(&format!(
                "{}interrupted:{} generation {uuid} keeps running on the server.\nResume with: {hint}",
                style::YELLOW,
                style::RESET
            ));
            return Err(CliError::Interrupted);
        }
    };
    r.map_err(|e| {
        spinner.finish_and_clear();
        if let rostro_sdk::Error::Media { source, .. } = &e
            && matches!(**source, MediaError::WaitTimedOut { .. })
        {
            return CliError::Timeout(format!(
                "gave up waiting for generation {uuid} (it keeps running); resume with: {hint}"
            ));
        }
        e.into()
    })
}

/// Downloads the results with `--out` and reports them: the item (with the files) as JSON,
/// or a success line and the paths (or the URLs, without `--out`).
pub(super) async fn finish(
    ctx: &Ctx,
    done: CompletedGeneration,
    w: &WaitOpts,
    label: &str,
    started: Instant,
) -> CliResult {
    let uuid = done.generation_uuid().to_owned();
    let urls = done.media_urls();
    let mut files: Vec<Value> = Vec::new();
    if let Some(out) = &w.out {
        if urls.is_empty() {
            return Err(CliError::msg(format!(
                "generation {uuid} finished without a media URL"
            )));
        }
        if out == "-" {
            return download_to_stdout(ctx, &done).await;
        }
        files = download(ctx, &done, out, w.force).await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    if ctx.out.json {
        let mut v = serde_json::to_value(done.item())?;
        if let Value::Object(m) = &mut v
            && !files.is_empty()
        {
            m.insert("files".into(), Value::Array(files));
        }
        return ctx.out.json_value(&v);
    }
    ctx.out
        .success(&format!("{label} {uuid} done in {elapsed:.1}s"));
    if files.is_empty() {
        for (name, url) in &urls {
            if urls.len() > 1 {
                ctx.out.line(&format!("{name}: {url}"))?;
            } else {
                ctx.out.line(url)?;
            }
        }
    } else {
        for f in &files {
            ctx.out.line(&util::s(f, "path"))?;
        }
    }
    Ok(())
}

/// Downloads every file of a generation to `out` with a byte bar each; returns what was
/// written (name, url, path, size, sha256), warning about names that say another format.
async fn download(
    ctx: &Ctx,
    done: &CompletedGeneration,
    out: &str,
    force: bool,
) -> CliResult<Vec<Value>> {
    let multi = ctx.out.multi();
    let bars: Arc<Mutex<HashMap<String, ProgressBar>>> = Arc::default();
    let (m, b) = (multi.clone(), bars.clone());
    let download = done
        .download(PathBuf::from(out))
        .overwrite(force)
        .on_progress(move |p| {
            let mut bars = b.lock().unwrap_or_else(|e| e.into_inner());
            let bar = bars.entry(p.label.to_string()).or_insert_with(|| {
                let bar = m.add(ProgressBar::new(p.total.unwrap_or(0)));
                bar.set_style(crate::output::bytes_style(p.total.is_some()));
                bar.set_message(p.label.to_string());
                bar
            });
            if let Some(t) = p.total {
                bar.set_length(t);
            }
            bar.set_position(p.bytes);
        });
    let media = tokio::select! {
        r = download.send() => r,
        _ = ctrl_c() => return Err(CliError::Interrupted),
    };
    for bar in bars.lock().unwrap_or_else(|e| e.into_inner()).values() {
        bar.finish_and_clear();
    }
    let media = media?;
    let mut files = Vec::new();
    for f in std::iter::once(&media.primary).chain(&media.secondary) {
        if let Some(warning) = format_mismatch(&f.path, f.content_type.as_deref()) {
            ctx.out.warn(&warning);
        }
        files.push(json!({
            "name": f.label,
            "url": f.url,
            "path": f.path.display().to_string(),
            "size": f.size,
            "sha256": f.sha256,
        }));
    }
    Ok(files)
}

/// `--out -`: the primary media to stdout, exactly as served.
async fn download_to_stdout(ctx: &Ctx, done: &CompletedGeneration) -> CliResult {
    // The SDK's media stream: the send path's retries, Retry-After and timeout, no API key
    // for a CDN, a body that fails before its first byte fetched again. Each read is bounded
    // by the client's timeout, so a stall is exit 7.
    let mut media = done.download("-").stream().await?;
    while let Some(chunk) = media.next().await {
        match chunk {
            Ok(chunk) => ctx.out.bytes(&chunk)?,
            Err(rostro_sdk::Error::Timeout { timeout, .. }) => {
                return Err(CliError::Timeout(format!(
                    "download {}: no data for {}s",
                    media.url(),
                    timeout.as_secs_f64()
                )));
            }
            Err(e) => return Err(CliError::msg(format!("download {}: {e}", media.url()))),
        }
    }
    Ok(())
}

/// File extensions for the media types the service sends.
const EXTENSIONS: &[(&str, &[&str])] = &[
    ("image/png", &["png"]),
    ("image/jpeg", &["jpg", "jpeg"]),
    ("image/webp", &["webp"]),
    ("image/gif", &["gif"]),
    ("audio/wav", &["wav"]),
    ("audio/x-wav", &["wav"]),
    ("audio/wave", &["wav"]),
    ("audio/mpeg", &["mp3"]),
    ("audio/ogg", &["ogg", "oga"]),
    ("audio/flac", &["flac"]),
    ("video/mp4", &["mp4", "m4v"]),
    ("video/webm", &["webm"]),
    ("model/gltf-binary", &["glb"]),
];

/// A warning when a file's name says one format and its content type another (the service
/// picks the format; a `.mp3` name does not make WAV data MP3).
fn format_mismatch(path: &std::path::Path, content_type: Option<&str>) -> Option<String> {
    let ct = content_type?.split(';').next()?.trim().to_ascii_lowercase();
    let (_, exts) = EXTENSIONS.iter().find(|(t, _)| *t == ct)?;
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    let known = EXTENSIONS.iter().any(|(_, e)| e.contains(&ext.as_str()));
    if !known || exts.contains(&ext.as_str()) {
        return None;
    }
    Some(format!(
        "{} holds {ct} data, not .{ext}: the service chose the format; rename it to .{} (or convert it)",
        path.display(),
        exts[0]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn extension_and_content_type_must_agree() {
        let w = format_mismatch(Path::new("hello.mp3"), Some("audio/wav")).unwrap();
        assert!(w.contains("audio/wav") && w.contains(".wav"), "{w}");
        assert_eq!(
            format_mismatch(Path::new("hello.wav"), Some("audio/x-wav")),
            None
        );
        assert_eq!(
            format_mismatch(Path::new("a.JPG"), Some("image/jpeg; q=1")),
            None
        );
        // Unknown on either side: nothing to say.
        assert_eq!(format_mismatch(Path::new("a.dat"), Some("audio/wav")), None);
        assert_eq!(
            format_mismatch(Path::new("a.png"), Some("application/x-foo")),
            None
        );
        assert_eq!(format_mismatch(Path::new("a.png"), None), None);
    }
}
