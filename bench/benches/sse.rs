//! SSE chat streaming: throughput and peak memory of `client.chat().stream()` against the
//! ceiling, the same body read with plain reqwest `bytes_stream()` and decoded line by line
//! into `serde_json::Value`.
//!
//! ```sh
//! cargo bench -p rostro-bench --bench sse
//! SSE_BENCH_CHUNKS=20000 SSE_BENCH_RUNS=3 cargo bench -p rostro-bench --bench sse
//! ```
//!
//! The server (`src/bin/sse_server.rs`) runs in its own process and serves a pre-built body,
//! so the client's decoding is what is measured. Every measurement runs in a fresh child
//! process (this binary re-executed with `--child <mode> <url> <chunks>`), so peak RSS is
//! that mode's alone. Modes alternate run by run; the table shows the median throughput and
//! the largest peak RSS. A third mode, `stream().discard_text()`, shows the SDK with its
//! running text accumulation turned off (constant memory however long the stream).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};
use futures::StreamExt;
use rostro_sdk::CallOptions;
use rostro_sdk::chat::{ChatCompletionRequest, Message};

const MIB: f64 = 1024.0 * 1024.0;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let mode = args.get(i + 1).context("mode")?;
        let url = args.get(i + 2).context("url")?;
        let chunks: usize = args.get(i + 3).context("chunks")?.parse()?;
        return child(mode, url, chunks);
    }
    parent()
}

/// One measurement, as printed by a child: `RESULT <events> <body bytes> <nanos> <peak rss>`.
#[derive(Debug, Clone, Copy)]
struct Sample {
    events: u64,
    text_bytes: u64,
    nanos: u64,
    rss: u64,
}

impl Sample {
    fn per_sec(&self) -> f64 {
        self.events as f64 / (self.nanos as f64 / 1e9)
    }
}

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server() -> anyhow::Result<(Server, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sse_server"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .context("spawning sse_server")?;
    let stdout = child.stdout.take().context("server stdout")?;
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let url = line.trim().to_owned();
    if !url.starts_with("http://") {
        bail!("sse_server printed {url:?} instead of its url");
    }
    Ok((server, url))
}

fn run_child(mode: &str, url: &str, chunks: usize) -> anyhow::Result<Sample> {
    let exe = std::env::current_exe()?;
    let out = Command::new(exe)
        .args(["--child", mode, url, &chunks.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running the {mode} child"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("RESULT "))
        .with_context(|| format!("{mode} child printed no result (status {})", out.status))?;
    let nums: Vec<u64> = line[7..]
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let [events, text_bytes, nanos, rss] = nums[..] else {
        bail!("bad result line {line:?}");
    };
    Ok(Sample {
        events,
        text_bytes,
        nanos,
        rss,
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn parent() -> anyhow::Result<()> {
    let chunks = env_num("SSE_BENCH_CHUNKS", 100_000);
    let runs = env_num("SSE_BENCH_RUNS", 5).max(1);
    let small = (chunks / 10).max(1);
    let (_server, url) = start_server()?;

    // Warm-up: the server builds each body once; the first connection pays for it.
    run_child("ceiling", &url, chunks)?;
    run_child("ceiling", &url, small)?;

    let modes = ["ceiling", "sdk", "sdk-discard"];
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); modes.len()];
    for _ in 0..runs {
        for (i, mode) in modes.iter().enumerate() {
            samples[i].push(run_child(mode, &url, chunks)?);
        }
    }
    let small_rss: Vec<u64> = modes
        .iter()
        .map(|mode| run_child(mode, &url, small).map(|s| s.rss))
        .collect::<anyhow::Result<_>>()?;

    let expected = chunks as u64 + 2;
    for (mode, s) in modes.iter().zip(&samples) {
        if let Some(bad) = s.iter().find(|s| s.events != expected) {
            bail!("{mode}: {} events instead of {expected}", bad.events);
        }
    }
    let rate: Vec<f64> = samples
        .iter()
        .map(|s| median(s.iter().map(Sample::per_sec).collect()))
        .collect();
    let rss: Vec<u64> = samples
        .iter()
        .map(|s| s.iter().map(|s| s.rss).max().unwrap_or(0))
        .collect();
    let text_mib = samples[1][0].text_bytes as f64 / MIB;

    println!();
    println!(
        "SSE chat stream: {chunks} content chunks (+ finish, usage, [DONE]), loopback server in a separate process"
    );
    println!(
        "median of {runs} runs per mode, each in a fresh process; {text_mib:.2} MiB of content text"
    );
    println!();
    println!(
        "{:<40} {:>12} {:>10} {:>14}",
        "mode", "chunks/s", "% ceiling", "peak RSS"
    );
    let labels = [
        "ceiling: reqwest bytes_stream + Value",
        "rostro-sdk: client.chat().stream()",
        "rostro-sdk: stream().discard_text()",
    ];
    for i in 0..modes.len() {
        println!(
            "{:<40} {:>12.0} {:>9.1}% {:>10.2} MiB",
            labels[i],
            rate[i],
            100.0 * rate[i] / rate[0],
            rss[i] as f64 / MIB
        );
    }
    println!();
    println!("peak RSS by stream length (the default stream keeps the text it received):");
    for i in 0..modes.len() {
        println!(
            "{:<40} {:>8.2} MiB at {small:>6} chunks {:>8.2} MiB at {chunks}",
            labels[i],
            small_rss[i] as f64 / MIB,
            rss[i] as f64 / MIB
        );
    }
    println!();
    let pct = 100.0 * rate[1] / rate[0];
    let rss_mib = rss[1] as f64 / MIB;
    println!(
        "targets: throughput >= 85% of the ceiling: {} ({pct:.1}%); peak RSS <= 16 MiB: {} ({rss_mib:.2} MiB)",
        if pct >= 85.0 { "met" } else { "NOT met" },
        if rss_mib <= 16.0 { "met" } else { "NOT met" },
    );
    Ok(())
}

fn child(mode: &str, url: &str, chunks: usize) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (events, text_bytes, nanos) = rt.block_on(async {
        match mode {
            "sdk" => sdk(url, chunks, false).await,
            "sdk-discard" => sdk(url, chunks, true).await,
            "ceiling" => ceiling(url, chunks).await,
            other => bail!("unknown mode {other}"),
        }
    })?;
    let rss = rostro_bench::peak_rss_bytes().unwrap_or(0);
    println!("RESULT {events} {text_bytes} {nanos} {rss}");
    Ok(())
}

fn request() -> ChatCompletionRequest {
    ChatCompletionRequest::new("mixtral", vec![Message::user("go")])
}

async fn sdk(url: &str, chunks: usize, discard_text: bool) -> anyhow::Result<(u64, u64, u64)> {
    let client = rostro_sdk::Client::builder()
        .api_key("bench")
        .base_url(url)
        .mimic_base_url(url)
        .build()?;
    let start = Instant::now();
    let mut stream = client
        .chat()
        .request(request())
        .extra_header("x-mock-chunks", &chunks.to_string())
        .stream()
        .await?;
    if discard_text {
        stream = stream.discard_text();
    }
    let (mut events, mut text) = (0u64, 0u64);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        events += 1;
        text += chunk.content().map_or(0, str::len) as u64;
    }
    let nanos = start.elapsed().as_nanos() as u64;
    if !stream.is_done() {
        bail!("the sdk stream ended without [DONE]");
    }
    Ok((events, text, nanos))
}

async fn ceiling(url: &str, chunks: usize) -> anyhow::Result<(u64, u64, u64)> {
    let http = reqwest::Client::new();
    let body = serde_json::to_vec(&request())?;
    let start = Instant::now();
    let resp = http
        .post(format!("{url}/v1/chat/completions"))
        .header("content-type", "application/json")
        .header("accept", "text/event-stream")
        .header("x-mock-chunks", chunks.to_string())
        .body(body)
        .send()
        .await?
        .error_for_status()?;
    let mut stream = resp.bytes_stream();
    let mut buf: Vec<u8> = Vec::new();
    let (mut events, mut text) = (0u64, 0u64);
    let mut done = false;
    'read: while let Some(bytes) = stream.next().await {
        buf.extend_from_slice(&bytes?);
        let mut start_of_line = 0;
        while let Some(pos) = buf[start_of_line..].iter().position(|&b| b == b'\n') {
            let line = &buf[start_of_line..start_of_line + pos];
            start_of_line += pos + 1;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let Some(data) = line.strip_prefix(b"data:") else {
                continue;
            };
            let data = data.strip_prefix(b" ").unwrap_or(data);
            if data == b"[DONE]" {
                done = true;
                break 'read;
            }
            let value: serde_json::Value = serde_json::from_slice(data)?;
            events += 1;
            text += value["choices"][0]["delta"]["content"]
                .as_str()
                .map_or(0, str::len) as u64;
        }
        buf.drain(..start_of_line);
    }
    let nanos = start.elapsed().as_nanos() as u64;
    if !done {
        bail!("the ceiling stream ended without [DONE]");
    }
    Ok((events, text, nanos))
}
