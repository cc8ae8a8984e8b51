//! Upload benchmark: a large file (1 GiB by default) sent through a multipart endpoint and
//! through the gallery's base64 JSON endpoint to a sink in a separate process
//! (`src/bin/upload_sink.rs`, which decodes, hashes and discards what arrives), and as a
//! chunked upload (`engine_upload().upload_file()`: start, signed URLs, 8 MiB part `PUT`s four
//! at a time, complete) to the reference mock in a separate process (`sse_server --mock`),
//! which hashes the parts as they arrive. The chunked upload also runs with a file a quarter
//! of the size, to show its peak RSS does not grow with the file.
//!
//! ```sh
//! cargo bench -p rostro-bench --bench upload
//! ROSTRO_BENCH_UPLOAD_MIB=256 cargo bench -p rostro-bench --bench upload   # a smaller file
//! ```
//!
//! Each mode runs in its own child process (this binary with `--child`), so its peak RSS
//! (`VmHWM`) is that of one upload; the benchmark fails if it exceeds 64 MiB, if the chunked
//! upload's peak RSS at the full size is more than 8 MiB above the quarter size's, or if the
//! server's SHA-256 of the file differs from the local one. Figures: wall time, file MB/s (and
//! wire MB/s for base64, which sends 4/3 of the bytes), peak RSS.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use rostro_sdk::Client;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const RSS_LIMIT: u64 = 64 * 1024 * 1024;
/// How much more the chunked upload of the full-size file may peak at than the quarter size.
const RSS_GROWTH_LIMIT: u64 = 8 * 1024 * 1024;
const MIB: u64 = 1024 * 1024;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let mode = args.get(i + 1).context("mode")?;
        let url = args.get(i + 2).context("url")?;
        let file = args.get(i + 3).context("file")?;
        return child(mode, url, Path::new(file));
    }
    parent()
}

/// Runs one upload and prints one JSON line: `{mode, secs, rss, answer}`.
fn child(mode: &str, url: &str, file: &Path) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (secs, answer) = runtime.block_on(async {
        let client = Client::builder()
            .api_key("bench")
            .base_url(url)
            .timeout(Duration::from_secs(3600))
            .max_retries(0)
            .build()?;
        let start = Instant::now();
        let answer: Value = match mode {
            "multipart" => {
                client
                    .upload(client.media().upload_video())
                    .file("file", file)
                    .send_as()
                    .await?
            }
            "base64" => client.gallery().upload_file(1, file).send_as().await?,
            "chunked" => {
                let done = client.engine_upload().upload_file(file).send().await?;
                // What the server hashed, not the SDK's own hash of the file.
                let server = done.response;
                json!({"size": server["size"], "sha256": server["sha256"],
                       "parts": done.parts, "body_bytes": done.size})
            }
            other => bail!("unknown mode {other}"),
        };
        anyhow::Ok((start.elapsed().as_secs_f64(), answer))
    })?;
    let rss = rostro_bench::peak_rss_bytes().unwrap_or(0);
    println!(
        "{}",
        json!({"mode": mode, "secs": secs, "rss": rss, "answer": answer})
    );
    Ok(())
}

fn parent() -> anyhow::Result<()> {
    let mib: u64 = std::env::var("ROSTRO_BENCH_UPLOAD_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let size = mib * MIB;
    let dir = std::env::temp_dir().join(format!("rostro-bench-upload-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let _cleanup = RemoveDir(dir.clone());
    let file = dir.join("big.bin");
    let sha = make_file(&file, size)?;
    println!("upload benchmark: {mib} MiB file, sha256 {sha}");

    let mut sink = Command::new(env!("CARGO_BIN_EXE_upload_sink"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("starting upload_sink")?;
    let mut first = String::new();
    BufReader::new(sink.stdout.take().context("sink stdout")?).read_line(&mut first)?;
    let url = first.trim().to_owned();
    ensure!(url.starts_with("http://"), "the sink said {first:?}");
    let (_mock, mock_url) =
        rostro_bench::start_server(env!("CARGO_BIN_EXE_sse_server"), &["--mock"])?;

    // The quarter-size file for the chunked upload's second size.
    let small = dir.join("quarter.bin");
    let small_size = (size / 4).max(MIB);
    let small_sha = make_file(&small, small_size)?;

    let mut failures = Vec::new();
    println!(
        "{:<10} {:>9} {:>9} {:>12} {:>12} {:>10}",
        "mode", "MiB", "seconds", "file MB/s", "wire MB/s", "peak RSS"
    );
    let runs = [
        ("multipart", &url, &file, size, &sha),
        ("base64", &url, &file, size, &sha),
        ("chunked", &mock_url, &small, small_size, &small_sha),
        ("chunked", &mock_url, &file, size, &sha),
    ];
    let mut chunked_rss = Vec::new();
    for (mode, url, file, size, sha) in runs {
        let rss = run_mode(mode, url, file, size, sha, &mut failures)?;
        if mode == "chunked" {
            chunked_rss.push(rss);
        }
    }
    if let [small_rss, big_rss] = chunked_rss[..]
        && big_rss > small_rss + RSS_GROWTH_LIMIT
    {
        failures.push(format!(
            "chunked: peak RSS grew from {:.1} MiB to {:.1} MiB with the file size",
            small_rss as f64 / MIB as f64,
            big_rss as f64 / MIB as f64
        ));
    }
    drop(sink.stdin.take());
    let _ = sink.wait();
    if !failures.is_empty() {
        bail!("{}", failures.join("\n"));
    }
    println!(
        "ok: the server's sha256 matched for every mode, peak RSS within 64 MiB, the chunked \
         upload's flat in the file size"
    );
    Ok(())
}

/// Runs one upload in a child process, prints its line and returns its peak RSS; a wrong
/// hash or size at the server, or too much memory, is added to `failures`.
fn run_mode(
    mode: &str,
    url: &str,
    file: &Path,
    size: u64,
    sha: &str,
    failures: &mut Vec<String>,
) -> anyhow::Result<u64> {
    let out = Command::new(std::env::current_exe()?)
        .args(["--child", mode, url])
        .arg(file)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running the {mode} child"))?;
    ensure!(out.status.success(), "{mode}: child failed: {}", out.status);
    let line = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(line.trim())
        .with_context(|| format!("{mode}: child printed {line:?}"))?;
    let secs = report["secs"].as_f64().unwrap_or(f64::NAN);
    let rss = report["rss"].as_u64().unwrap_or(0);
    let answer = &report["answer"];
    let wire = answer["body_bytes"].as_u64().unwrap_or(0);
    println!(
        "{:<10} {:>9} {:>9.2} {:>12.0} {:>12.0} {:>7.1} MiB",
        mode,
        size / MIB,
        secs,
        size as f64 / secs / 1e6,
        wire as f64 / secs / 1e6,
        rss as f64 / MIB as f64
    );
    if answer["size"].as_u64() != Some(size) || answer["sha256"].as_str() != Some(sha) {
        failures.push(format!("{mode}: the server received {answer}"));
    }
    if rss > RSS_LIMIT {
        failures.push(format!(
            "{mode}: peak RSS {:.1} MiB is above {} MiB",
            rss as f64 / MIB as f64,
            RSS_LIMIT / MIB
        ));
    }
    Ok(rss)
}

/// Writes `size` bytes (a repeating non-zero pattern, so the hashes see real data) and
/// returns their SHA-256.
fn make_file(path: &Path, size: u64) -> anyhow::Result<String> {
    let mut block = vec![0u8; MIB as usize];
    for (i, b) in block.iter_mut().enumerate() {
        *b = (i * 131 % 251) as u8;
    }
    let mut hasher = Sha256::new();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut written = 0;
    while written < size {
        let n = (size - written).min(MIB) as usize;
        // Vary each block a little so the file is not one block repeated.
        block[0] = (written / MIB) as u8;
        out.write_all(&block[..n])?;
        hasher.update(&block[..n]);
        written += n as u64;
    }
    out.flush()?;
    // Read it back once so it is in the page cache for both modes alike.
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; MIB as usize];
    while f.read(&mut buf)? > 0 {}
    Ok(hex::encode(hasher.finalize()))
}

struct RemoveDir(PathBuf);

impl Drop for RemoveDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
