//! The ceiling clients of rostro's benchmarks, one mode per invocation:
//!
//! ```text
//! rostro-bench-ceiling sse        URL CHUNKS   # reqwest bytes_stream, lines decoded into serde_json::Value
//! rostro-bench-ceiling aoai-sse   URL CHUNKS   # async-openai chat().create_stream()
//! rostro-bench-ceiling get        URL N CONC   # N x GET /v1/models, bare reqwest + Value
//! rostro-bench-ceiling chat       URL N CONC   # N x POST /v1/chat/completions, bare reqwest + Value
//! rostro-bench-ceiling aoai-get   URL N CONC   # async-openai models().list()
//! rostro-bench-ceiling aoai-chat  URL N CONC   # async-openai chat().create()
//! ```
//!
//! Each prints one line `RESULT <count> <text bytes> <wall nanos> <peak rss> <cpu nanos>`, the
//! same line the rostro-sdk side of each benchmark prints, so the parent can compare them.
//! Every mode runs on a current-thread runtime, like the SDK side.

use std::time::Instant;

use async_openai::Client as OpenAi;
use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{
    ChatCompletionRequestUserMessageArgs, CreateChatCompletionRequest,
    CreateChatCompletionRequestArgs,
};
use futures::StreamExt;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Events or requests counted, content bytes, wall nanoseconds.
type Counts = (u64, u64, u64);

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, url, rest @ ..] = &args[..] else {
        return Err("usage: rostro-bench-ceiling MODE URL ARGS...".into());
    };
    let num = |i: usize| -> Result<usize> {
        Ok(rest
            .get(i)
            .ok_or_else(|| format!("{mode}: argument {} missing", i + 3))?
            .parse()?)
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (count, text, nanos) = rt.block_on(async {
        match mode.as_str() {
            "sse" => sse(url, num(0)?).await,
            "aoai-sse" => aoai_sse(url, num(0)?).await,
            "get" => get(url, num(0)?, num(1)?).await,
            "chat" => chat(url, num(0)?, num(1)?).await,
            "aoai-get" => aoai_get(url, num(0)?, num(1)?).await,
            "aoai-chat" => aoai_chat(url, num(0)?, num(1)?).await,
            other => Err(format!("unknown mode {other}").into()),
        }
    })?;
    println!(
        "RESULT {count} {text} {nanos} {} {}",
        peak_rss_bytes(),
        cpu_nanos()
    );
    Ok(())
}

/// Peak resident set size (`VmHWM`) of this process, in bytes; 0 where `/proc` lacks it.
fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// User + system CPU time of this process so far (from `/proc/self/stat`, 100 ticks/s).
fn cpu_nanos() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<u64> = after
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse().ok())
        .collect();
    fields.iter().sum::<u64>() * 10_000_000
}

fn chat_body(stream: bool) -> serde_json::Value {
    serde_json::json!({
        "model": "mixtral",
        "messages": [{"role": "user", "content": "go"}],
        "stream": stream,
    })
}

fn aoai_client(url: &str) -> OpenAi<OpenAIConfig> {
    OpenAi::with_config(
        OpenAIConfig::new()
            .with_api_base(format!("{url}/v1"))
            .with_api_key("bench"),
    )
}

fn aoai_request() -> Result<CreateChatCompletionRequest> {
    Ok(CreateChatCompletionRequestArgs::default()
        .model("mixtral")
        .messages([ChatCompletionRequestUserMessageArgs::default()
            .content("go")
            .build()?
            .into()])
        .build()?)
}

async fn sse(url: &str, chunks: usize) -> Result<Counts> {
    let http = reqwest::Client::new();
    let body = serde_json::to_vec(&chat_body(true))?;
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
        return Err("the ceiling stream ended without [DONE]".into());
    }
    Ok((events, text, nanos))
}

async fn aoai_sse(url: &str, chunks: usize) -> Result<Counts> {
    let client = OpenAi::with_config(
        OpenAIConfig::new()
            .with_api_base(format!("{url}/v1"))
            .with_api_key("bench")
            .with_header("x-mock-chunks", chunks.to_string())?,
    );
    let req = aoai_request()?;
    let start = Instant::now();
    let mut stream = client.chat().create_stream(req).await?;
    let (mut events, mut text) = (0u64, 0u64);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        events += 1;
        text += chunk
            .choices
            .first()
            .and_then(|c| c.delta.content.as_deref())
            .map_or(0, str::len) as u64;
    }
    Ok((events, text, start.elapsed().as_nanos() as u64))
}

/// Runs `n` requests made by `one`, `conc` at a time; counts the successes.
async fn run_many<F, Fut>(n: usize, conc: usize, one: F) -> Result<Counts>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let start = Instant::now();
    let mut ok = 0u64;
    let mut results = futures::stream::iter((0..n).map(|_| one())).buffer_unordered(conc);
    while let Some(r) = results.next().await {
        r?;
        ok += 1;
    }
    Ok((ok, 0, start.elapsed().as_nanos() as u64))
}

async fn get(url: &str, n: usize, conc: usize) -> Result<Counts> {
    let http = reqwest::Client::new();
    let target = format!("{url}/v1/models");
    run_many(n, conc, || async {
        let bytes = http
            .get(&target)
            .bearer_auth("bench")
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        let v: serde_json::Value = serde_json::from_slice(&bytes)?;
        std::hint::black_box(v);
        Ok(())
    })
    .await
}

async fn chat(url: &str, n: usize, conc: usize) -> Result<Counts> {
    let http = reqwest::Client::new();
    let target = format!("{url}/v1/chat/completions");
    let body = bytes::Bytes::from(serde_json::to_vec(&chat_body(false))?);
    run_many(n, conc, || async {
        let bytes = http
            .post(&target)
            .bearer_auth("bench")
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        let v: serde_json::Value = serde_json::from_slice(&bytes)?;
        std::hint::black_box(v);
        Ok(())
    })
    .await
}

async fn aoai_get(url: &str, n: usize, conc: usize) -> Result<Counts> {
    let client = aoai_client(url);
    run_many(n, conc, || async {
        std::hint::black_box(client.models().list().await?);
        Ok(())
    })
    .await
}

async fn aoai_chat(url: &str, n: usize, conc: usize) -> Result<Counts> {
    let client = aoai_client(url);
    let req = aoai_request()?;
    run_many(n, conc, || async {
        std::hint::black_box(client.chat().create(req.clone()).await?);
        Ok(())
    })
    .await
}
