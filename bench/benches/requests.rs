//! Small non-streaming requests: 10,000 requests at concurrency 32, rostro-sdk against bare
//! reqwest + `serde_json::Value` and async-openai 0.43 (both built in `bench/ceiling`, a
//! workspace of its own, so they share none of this workspace's features).
//!
//! ```sh
//! cargo bench -p rostro-bench --bench requests
//! REQ_BENCH_N=20000 REQ_BENCH_CONC=64 REQ_BENCH_RUNS=7 cargo bench -p rostro-bench --bench requests
//! ```
//!
//! Two calls: a generated GET builder (`client.models().list()`, `GET /v1/models`) and
//! `client.chat().create()` (`POST /v1/chat/completions`). The server (`sse_server`) runs in
//! its own process and answers from memory. Every measurement is a fresh child process on a
//! current-thread runtime; modes alternate and ratios are taken pair by pair.

use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use futures::StreamExt;
use rostro_bench::{Sample, ceiling_exe, median, run_sample, start_server};
use rostro_sdk::chat::{ChatCompletionRequest, Message};

/// `(mode, label)`: `sdk-*` modes run in this binary, the rest in the ceiling binary.
const MODES: [(&str, &str); 6] = [
    ("get", "reqwest + Value: GET /v1/models"),
    ("sdk-get", "rostro-sdk: models().list()"),
    ("aoai-get", "async-openai: models().list()"),
    ("chat", "reqwest + Value: POST chat"),
    ("sdk-chat", "rostro-sdk: chat().create()"),
    ("aoai-chat", "async-openai: chat().create()"),
];

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let mode = args.get(i + 1).context("mode")?;
        let url = args.get(i + 2).context("url")?;
        let n: usize = args.get(i + 3).context("n")?.parse()?;
        let conc: usize = args.get(i + 4).context("conc")?.parse()?;
        return child(mode, url, n, conc);
    }
    parent()
}

fn parent() -> anyhow::Result<()> {
    let n = env_num("REQ_BENCH_N", 10_000);
    let conc = env_num("REQ_BENCH_CONC", 32).max(1);
    let runs = env_num("REQ_BENCH_RUNS", 5).max(1);
    let ceiling = ceiling_exe()?;
    let (_server, url) = start_server(env!("CARGO_BIN_EXE_sse_server"), &[])?;
    let (n_s, conc_s) = (n.to_string(), conc.to_string());
    let sample = |mode: &str| -> anyhow::Result<Sample> {
        let mut cmd = if mode.starts_with("sdk") {
            let mut c = Command::new(std::env::current_exe()?);
            c.arg("--child");
            c
        } else {
            Command::new(&ceiling)
        };
        cmd.args([mode, &url, &n_s, &conc_s]);
        let s = run_sample(&mut cmd, mode)?;
        if s.count != n as u64 {
            bail!("{mode}: {} of {n} requests succeeded", s.count);
        }
        Ok(s)
    };

    for (mode, _) in MODES {
        sample(mode)?; // warm-up
    }
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); MODES.len()];
    for _ in 0..runs {
        for (i, (mode, _)) in MODES.iter().enumerate() {
            samples[i].push(sample(mode)?);
        }
    }
    let pair = |a: usize, b: usize| -> f64 {
        median(
            samples[a]
                .iter()
                .zip(&samples[b])
                .map(|(x, y)| x.per_sec() / y.per_sec())
                .collect(),
        )
    };

    println!();
    println!(
        "{n} requests at concurrency {conc}, loopback server in a separate process; median of {runs} runs, each in a fresh process"
    );
    println!();
    println!(
        "{:<36} {:>10} {:>14} {:>12}",
        "mode", "req/s", "CPU µs/req", "peak RSS"
    );
    for (i, (_, label)) in MODES.iter().enumerate() {
        let rate = median(samples[i].iter().map(Sample::per_sec).collect());
        let cpu = median(samples[i].iter().map(Sample::cpu_us_each).collect());
        let rss = samples[i].iter().map(|s| s.rss).max().unwrap_or(0);
        println!(
            "{:<36} {:>10.0} {:>14.1} {:>8.2} MiB",
            label,
            rate,
            cpu,
            rss as f64 / (1024.0 * 1024.0)
        );
    }
    println!();
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    for (name, sdk, bare, aoai) in [("GET builder", 1, 0, 2), ("chat().create()", 4, 3, 5)] {
        let (vs_bare, vs_aoai) = (pair(sdk, bare), pair(sdk, aoai));
        println!(
            "{name:<16} {vs_bare:.3}x bare reqwest (target >= 0.95: {}), {vs_aoai:.3}x async-openai (target >= 1.2: {})",
            verdict(vs_bare >= 0.95),
            verdict(vs_aoai >= 1.2)
        );
    }
    Ok(())
}

fn child(mode: &str, url: &str, n: usize, conc: usize) -> anyhow::Result<()> {
    let get = match mode {
        "sdk-get" => true,
        "sdk-chat" => false,
        other => bail!("unknown mode {other}"),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (ok, nanos) = rt.block_on(async {
        let client = rostro_sdk::Client::builder()
            .api_key("bench")
            .base_url(url)
            .mimic_base_url(url)
            .build()?;
        let request = ChatCompletionRequest::new("mixtral", vec![Message::user("go")]);
        let start = Instant::now();
        let mut ok = 0u64;
        let mut results = futures::stream::iter(0..n)
            .map(|_| {
                let (client, request) = (&client, &request);
                async move {
                    if get {
                        client.models().list().send().await.map(|m| {
                            std::hint::black_box(m);
                        })
                    } else {
                        client.chat().create(request.clone()).await.map(|c| {
                            std::hint::black_box(c);
                        })
                    }
                }
            })
            .buffer_unordered(conc);
        while let Some(r) = results.next().await {
            r?;
            ok += 1;
        }
        anyhow::Ok((ok, start.elapsed().as_nanos() as u64))
    })?;
    rostro_bench::print_result(ok, 0, nanos);
    Ok(())
}
