//! SSE chat streaming: throughput and peak memory of `client.chat().stream()` against two
//! ceilings built outside this workspace (`bench/ceiling`, its own lockfile and features):
//! plain reqwest `bytes_stream()` decoded line by line into `serde_json::Value`, and
//! async-openai's `chat().create_stream()`.
//!
//! ```sh
//! cargo bench -p rostro-bench --bench sse
//! SSE_BENCH_CHUNKS=1000000 SSE_BENCH_RUNS=3 cargo bench -p rostro-bench --bench sse
//! ```
//!
//! The server (`src/bin/sse_server.rs`) runs in its own process and serves a pre-built body,
//! so the client's decoding is what is measured. Every measurement runs in a fresh child
//! process, so peak RSS is that mode's alone. Modes alternate run by run and the ratios are
//! taken pair by pair (each SDK run against the ceiling run beside it), so a drift in the
//! machine's speed affects both sides alike. `stream().discard_text()` shows the SDK with its
//! running text accumulation turned off (memory flat however long the stream).

use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use futures::StreamExt;
use rostro_bench::{Sample, ceiling_exe, median, run_sample, start_server};
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

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What each mode runs: the SDK modes in this binary, the ceilings in `bench/ceiling`.
const MODES: [(&str, &str); 4] = [
    ("ceiling", "ceiling: reqwest bytes_stream + Value"),
    ("sdk", "rostro-sdk: client.chat().stream()"),
    ("sdk-discard", "rostro-sdk: stream().discard_text()"),
    ("aoai", "async-openai 0.43: create_stream()"),
];

fn sample(
    mode: &str,
    ceiling: &std::path::Path,
    url: &str,
    chunks: usize,
) -> anyhow::Result<Sample> {
    let n = chunks.to_string();
    let mut cmd = match mode {
        "ceiling" => {
            let mut c = Command::new(ceiling);
            c.args(["sse", url, &n]);
            c
        }
        "aoai" => {
            let mut c = Command::new(ceiling);
            c.args(["aoai-sse", url, &n]);
            c
        }
        _ => {
            let mut c = Command::new(std::env::current_exe()?);
            c.args(["--child", mode, url, &n]);
            c
        }
    };
    run_sample(&mut cmd, mode)
}

fn parent() -> anyhow::Result<()> {
    let chunks = env_num("SSE_BENCH_CHUNKS", 100_000);
    let runs = env_num("SSE_BENCH_RUNS", 5).max(1);
    let small = (chunks / 10).max(1);
    let ceiling = ceiling_exe()?;
    let (_server, url) = start_server(env!("CARGO_BIN_EXE_sse_server"), &[])?;

    // Warm-up: the server builds each body once; the first connection pays for it.
    sample("ceiling", &ceiling, &url, chunks)?;
    sample("ceiling", &ceiling, &url, small)?;

    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); MODES.len()];
    for _ in 0..runs {
        for (i, (mode, _)) in MODES.iter().enumerate() {
            samples[i].push(sample(mode, &ceiling, &url, chunks)?);
        }
    }
    let small_rss: Vec<u64> = MODES
        .iter()
        .map(|(mode, _)| sample(mode, &ceiling, &url, small).map(|s| s.rss))
        .collect::<anyhow::Result<_>>()?;

    let expected = chunks as u64 + 2;
    for ((mode, _), s) in MODES.iter().zip(&samples) {
        if let Some(bad) = s.iter().find(|s| s.count != expected) {
            bail!("{mode}: {} events instead of {expected}", bad.count);
        }
    }
    let rate: Vec<f64> = samples
        .iter()
        .map(|s| median(s.iter().map(Sample::per_sec).collect()))
        .collect();
    // Pair by pair: run k of a mode against run k of the ceiling.
    let ratio: Vec<f64> = samples
        .iter()
        .map(|s| {
            median(
                s.iter()
                    .zip(&samples[0])
                    .map(|(a, c)| a.per_sec() / c.per_sec())
                    .collect(),
            )
        })
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
        "{:<40} {:>12} {:>14} {:>14}",
        "mode", "chunks/s", "x ceiling", "peak RSS"
    );
    for (i, (_, label)) in MODES.iter().enumerate() {
        println!(
            "{:<40} {:>12.0} {:>13.3}x {:>10.2} MiB",
            label,
            rate[i],
            ratio[i],
            rss[i] as f64 / MIB
        );
    }
    println!();
    println!("peak RSS by stream length (the default stream keeps the text it received):");
    for (i, (_, label)) in MODES.iter().enumerate() {
        println!(
            "{:<40} {:>8.2} MiB at {small:>7} chunks {:>8.2} MiB at {chunks}",
            label,
            small_rss[i] as f64 / MIB,
            rss[i] as f64 / MIB
        );
    }
    println!();
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    println!(
        "targets: sdk >= 1.0x ceiling: {} ({:.3}x); discard_text >= 1.0x: {} ({:.3}x); discard_text RSS flat (<= 1.25x of the {small}-chunk run): {}",
        verdict(ratio[1] >= 1.0),
        ratio[1],
        verdict(ratio[2] >= 1.0),
        ratio[2],
        verdict(rss[2] as f64 <= 1.25 * small_rss[2] as f64),
    );
    println!(
        "sdk vs async-openai: {:.2}x the chunks/s",
        median(
            samples[1]
                .iter()
                .zip(&samples[3])
                .map(|(a, b)| a.per_sec() / b.per_sec())
                .collect()
        )
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
            other => bail!("unknown mode {other}"),
        }
    })?;
    rostro_bench::print_result(events, text_bytes, nanos);
    Ok(())
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
        .request(ChatCompletionRequest::new(
            "mixtral",
            vec![Message::user("go")],
        ))
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
