//! One long event: decode time of a single 1, 4 and 16 MiB `data:` line arriving 16 bytes at
//! a time, to show it linear (the time per MiB stays flat). Two rows per size: the SSE
//! decoder alone (exact 16-byte pushes), and a whole `ChatStream` over loopback HTTP from a
//! server that writes the body 16 bytes per write (`TCP_NODELAY`).
//!
//! ```sh
//! cargo bench -p rostro-bench --bench sse_long
//! SSE_LONG_SIZES_MIB=1,4,16,32 cargo bench -p rostro-bench --bench sse_long
//! ```

use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use futures::StreamExt;
use rostro_sdk::Client;
use rostro_sdk::chat::{ChatCompletionRequest, Message, SseDecoder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const MIB: usize = 1 << 20;
const WRITE: usize = 16;

/// A chat stream body whose first event carries `size` bytes of content, then `[DONE]`.
fn body(size: usize) -> Vec<u8> {
    let mut b = br#"data: {"id":"c","choices":[{"index":0,"delta":{"content":""#.to_vec();
    b.resize(b.len() + size, b'x');
    b.extend_from_slice(b"\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
    b
}

fn decoder_only(body: &[u8]) -> anyhow::Result<Duration> {
    let start = Instant::now();
    let mut decoder = SseDecoder::new(64 * MIB);
    let mut events = 0;
    for piece in body.chunks(WRITE) {
        decoder.push(piece);
        while let Some(event) = decoder.next_event() {
            if let Err(kind) = event {
                anyhow::bail!("decode failed: {kind:?}");
            }
            events += 1;
        }
    }
    let elapsed = start.elapsed();
    ensure!(events == 2, "expected 2 events, got {events}");
    Ok(elapsed)
}

async fn serve(body: Vec<u8>) -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        let _ = sock.set_nodelay(true);
        let mut buf = vec![0u8; 16 * 1024];
        let mut seen = Vec::new();
        while !seen.windows(4).any(|w| w == b"\r\n\r\n") || !seen.ends_with(b"}") {
            match sock.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        if sock.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        for piece in body.chunks(WRITE) {
            if sock.write_all(piece).await.is_err() {
                return;
            }
        }
    });
    Ok(url)
}

async fn over_http(body: Vec<u8>, size: usize) -> anyhow::Result<Duration> {
    let url = serve(body).await?;
    let client = Client::builder()
        .base_url(&url)
        .max_event_size(64 * MIB)
        .build()?;
    let req = ChatCompletionRequest::new("m", vec![Message::user("hi")]);
    let start = Instant::now();
    let mut stream = client.chat().stream(req).await?;
    let mut text = 0;
    while let Some(chunk) = stream.next().await {
        text += chunk?.content().map_or(0, str::len);
    }
    let elapsed = start.elapsed();
    ensure!(text == size, "got {text} bytes of text, expected {size}");
    Ok(elapsed)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sizes: Vec<usize> = std::env::var("SSE_LONG_SIZES_MIB")
        .unwrap_or_else(|_| "1,4,16".into())
        .split(',')
        .map(|s| s.trim().parse().context("SSE_LONG_SIZES_MIB"))
        .collect::<anyhow::Result<_>>()?;
    println!("one event of N MiB, written {WRITE} bytes at a time");
    println!(
        "{:>8}  {:>14}  {:>12}  {:>14}  {:>12}",
        "size", "decoder", "ms per MiB", "ChatStream", "ms per MiB"
    );
    for mib in sizes {
        let size = mib * MIB;
        let body = body(size);
        let decode = decoder_only(&body)?;
        let http = over_http(body, size).await?;
        let per = |d: Duration| d.as_secs_f64() * 1e3 / mib as f64;
        println!(
            "{:>5} MiB  {:>11.1} ms  {:>12.2}  {:>11.1} ms  {:>12.2}",
            mib,
            decode.as_secs_f64() * 1e3,
            per(decode),
            http.as_secs_f64() * 1e3,
            per(http)
        );
    }
    Ok(())
}
