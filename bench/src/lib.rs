//! Shared helpers for the benchmarks: the loopback server process, the ceiling clients
//! (built from `bench/ceiling/`, a workspace of its own), child processes that each print one
//! `RESULT` line, peak memory and CPU time.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};

/// Peak resident set size of this process (`VmHWM`), in bytes, where `/proc` has it.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// User + system CPU time of this process so far, from `/proc/self/stat` (100 ticks a second).
pub fn cpu_nanos() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the parenthesised command name, utime and stime are the 12th and 13th fields.
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: u64 = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    ticks * 10_000_000
}

/// Prints the line a child reports its measurement with.
pub fn print_result(count: u64, text_bytes: u64, nanos: u64) {
    println!(
        "RESULT {count} {text_bytes} {nanos} {} {}",
        peak_rss_bytes().unwrap_or(0),
        cpu_nanos()
    );
}

/// One measurement, as printed by a child:
/// `RESULT <count> <text bytes> <wall nanos> <peak rss> <cpu nanos>`.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// Events (streams) or successful requests.
    pub count: u64,
    /// Content text received (streams), else 0.
    pub text_bytes: u64,
    /// Wall time of the measured part.
    pub nanos: u64,
    /// Peak RSS of the child process.
    pub rss: u64,
    /// CPU time of the whole child process.
    pub cpu_nanos: u64,
}

impl Sample {
    /// Counted items per second of wall time.
    pub fn per_sec(&self) -> f64 {
        self.count as f64 / (self.nanos as f64 / 1e9)
    }

    /// CPU microseconds per counted item.
    pub fn cpu_us_each(&self) -> f64 {
        self.cpu_nanos as f64 / 1e3 / self.count.max(1) as f64
    }
}

/// Runs a child process and reads its `RESULT` line.
pub fn run_sample(cmd: &mut Command, what: &str) -> anyhow::Result<Sample> {
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running the {what} child"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("RESULT "))
        .with_context(|| format!("{what} child printed no result (status {})", out.status))?;
    let nums: Vec<u64> = line[7..]
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let [count, text_bytes, nanos, rss, cpu_nanos] = nums[..] else {
        bail!("bad result line {line:?}");
    };
    Ok(Sample {
        count,
        text_bytes,
        nanos,
        rss,
        cpu_nanos,
    })
}

/// The median of some figures.
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// A server process, killed when dropped.
pub struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a server binary that prints its base URL as its first line of stdout.
pub fn start_server(exe: &str, args: &[&str]) -> anyhow::Result<(Server, String)> {
    let mut child = Command::new(exe)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("spawning {exe}"))?;
    let stdout = child.stdout.take().context("server stdout")?;
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let url = line.trim().to_owned();
    if !url.starts_with("http://") {
        bail!("{exe} printed {url:?} instead of its url");
    }
    Ok((server, url))
}

/// Builds the ceiling clients (`bench/ceiling`, its own workspace and lockfile, release) and
/// returns the binary. Built apart so that no feature the rostro workspace turns on (the CLI's
/// `serde_json/preserve_order`, say) changes what the SDK is compared against.
pub fn ceiling_exe() -> anyhow::Result<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("ceiling");
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/ceiling");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--quiet",
            "--locked",
            "--manifest-path",
        ])
        .arg(dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        // The rostro workspace's settings are not the ceiling's.
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .context("building bench/ceiling")?;
    if !status.success() {
        bail!("building bench/ceiling failed ({status})");
    }
    Ok(target.join("release/rostro-bench-ceiling"))
}
