//! A batch at scale against a rate-limited server: `rostro gallery upload` of 2,000 small
//! files at `--concurrency 32` against `rostro-mock --rate-limit 100/s`, with pacing (the
//! default) and with `--no-pacing`. Prints, per mode, the failed files, the total time
//! against the ideal (files / rate), the 429s the mock sent and the CLI's peak RSS.
//!
//! Uses the release `rostro` and `rostro-mock` binaries beside this bench (or
//! `ROSTRO_EXE` / `ROSTRO_MOCK_EXE`), each run in its own process:
//!
//! ```sh
//! cargo build --release -p rostro-cli --bin rostro -p rostro-mock --bin rostro-mock
//! cargo bench -p rostro-bench --bench batch
//! BATCH_FILES=500 BATCH_CONC=64 BATCH_RATE=50/s cargo bench -p rostro-bench --bench batch
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rostro_bench::start_server;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// A binary of this workspace's release build: beside the bench's own directory.
fn sibling_exe(var: &str, name: &str) -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os(var) {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe()?;
    // target/release/deps/batch-<hash> -> target/release/<name>
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .context("bench exe directory")?;
    let path = dir.join(name);
    if !path.exists() {
        bail!(
            "{} not found: build it first (cargo build --release -p rostro-cli --bin rostro \
             -p rostro-mock --bin rostro-mock) or set {var}",
            path.display()
        );
    }
    Ok(path)
}

/// Peak RSS (`VmHWM`) of a running process, in bytes.
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
}

struct Run {
    exit: i32,
    failed: usize,
    delivered: usize,
    secs: f64,
    limited: usize,
    rss: u64,
}

fn run(
    rostro: &Path,
    mock: &Path,
    rate: &str,
    dir: &Path,
    conc: &str,
    pacing: bool,
) -> anyhow::Result<Run> {
    let (_server, url) =
        start_server(mock.to_str().context("mock path")?, &["--rate-limit", rate])?;
    let manifest = dir.with_extension(if pacing {
        "paced.ndjson"
    } else {
        "unpaced.ndjson"
    });
    let _ = std::fs::remove_file(&manifest);
    let home = dir.with_extension("home");
    std::fs::create_dir_all(&home)?;
    let mut cmd = Command::new(rostro);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("ROSTRO_KEYRING", "off")
        .env("ROSTRO_API_KEY", "bench-key-0000000")
        .args(["--base-url", &url]);
    if !pacing {
        cmd.arg("--no-pacing");
    }
    cmd.args(["gallery", "upload", "--project", "42"])
        .arg(dir)
        .args(["--concurrency", conc, "--manifest"])
        .arg(&manifest)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let start = Instant::now();
    let mut child = cmd.spawn().context("spawning rostro")?;
    let mut rss = 0;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        rss = rss.max(peak_rss(child.id()).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(20));
    };
    let secs = start.elapsed().as_secs_f64();
    let text = std::fs::read_to_string(&manifest).unwrap_or_default();
    let mut last = std::collections::HashMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line)?;
        last.insert(v["path"].to_string(), v["status"] == "ok");
    }
    let delivered = last.values().filter(|ok| **ok).count();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let requests: serde_json::Value = serde_json::from_str(&rt.block_on(async {
        reqwest::get(format!("{url}/_mock/requests"))
            .await?
            .text()
            .await
    })?)?;
    let limited = requests
        .as_array()
        .context("requests")?
        .iter()
        .filter(|r| r["status"] == 429)
        .count();
    Ok(Run {
        exit: status.code().unwrap_or(-1),
        failed: last.len() - delivered,
        delivered,
        secs,
        limited,
        rss,
    })
}

fn main() -> anyhow::Result<()> {
    let files: usize = env_or("BATCH_FILES", "2000").parse()?;
    let conc = env_or("BATCH_CONC", "32");
    let rate = env_or("BATCH_RATE", "100/s");
    let per_sec: f64 = {
        let (n, per) = rate.split_once('/').context("BATCH_RATE is N/s")?;
        if per != "s" {
            bail!("BATCH_RATE must be per second (N/s)");
        }
        n.parse()?
    };
    let rostro = sibling_exe("ROSTRO_EXE", "rostro")?;
    let mock = sibling_exe("ROSTRO_MOCK_EXE", "rostro-mock")?;
    let dir = std::env::temp_dir().join(format!("rostro-batch-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    for i in 0..files {
        // Small files with distinct contents (about 1 KiB each).
        let body: Vec<u8> = (0..1024u32).map(|b| (b ^ i as u32) as u8).collect();
        std::fs::write(dir.join(format!("img{i:05}.png")), body)?;
    }
    let ideal = files as f64 / per_sec;
    println!();
    println!(
        "rostro gallery upload: {files} files of 1 KiB at --concurrency {conc} against rostro-mock --rate-limit {rate} (ideal {ideal:.1} s)"
    );
    println!();
    println!(
        "{:<14} {:>6} {:>9} {:>8} {:>9} {:>7} {:>10}",
        "mode", "exit", "delivered", "failed", "time s", "429s", "peak RSS"
    );
    let mut paced_secs = 0.0;
    for (label, pacing) in [("paced", true), ("--no-pacing", false)] {
        let r = run(&rostro, &mock, &rate, &dir, &conc, pacing)?;
        if pacing {
            paced_secs = r.secs;
        }
        println!(
            "{label:<14} {:>6} {:>9} {:>8} {:>9.2} {:>7} {:>6.1} MiB",
            r.exit,
            r.delivered,
            r.failed,
            r.secs,
            r.limited,
            r.rss as f64 / (1024.0 * 1024.0)
        );
    }
    let off = (paced_secs / ideal - 1.0) * 100.0;
    println!();
    println!(
        "paced time {:+.1}% of the ideal (target within 10%: {})",
        off,
        if off.abs() <= 10.0 { "met" } else { "NOT met" }
    );
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(dir.with_extension("home"));
    for ext in ["paced.ndjson", "unpaced.ndjson"] {
        let _ = std::fs::remove_file(dir.with_extension(ext));
    }
    Ok(())
}
