//! Loopback SSE server for the `sse` benchmark, run as a separate process.
//!
//! ```sh
//! cargo run --release -p rostro-bench --bin sse_server            # pre-built bodies (default)
//! cargo run --release -p rostro-bench --bin sse_server -- --mock  # the reference mock instead
//! ```
//!
//! Prints its base URL as the first line of stdout, then serves until killed (or until stdin
//! closes, so it never outlives the benchmark that spawned it).
//!
//! The default mode answers a streaming `POST` (`"stream":true` in the body) with a chat
//! completion stream of N content chunks (N from `x-mock-chunks: N`, default 100 000), a
//! finish chunk, a usage chunk and `data: [DONE]`; any other `POST` with one small chat completion, and a `GET` with
//! a small `/v1/models` list (the `requests` benchmark). Bodies are built once and then written
//! from memory, so the server costs next to nothing and the client is what gets measured.
//! Plain HTTP/1.1 over tokio, keep-alive.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const DEFAULT_CHUNKS: usize = 100_000;
const WORDS: &[&str] = &[
    "echo:", "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dogs", "again",
];

/// The SSE body of a chat completion stream with `chunks` content chunks.
fn build_body(chunks: usize) -> Bytes {
    let head = r#"{"id":"chatcmpl-bench0000000001","object":"chat.completion.chunk","created":1732250000,"model":"mixtral","system_fingerprint":"fp_bench","choices":[{"index":0,"delta":{"#;
    let mut out = String::with_capacity(chunks * 230 + 1024);
    for i in 0..chunks {
        let word = WORDS[i % WORDS.len()];
        out.push_str("data: ");
        out.push_str(head);
        if i == 0 {
            out.push_str(r#""role":"assistant","content":""#);
            out.push_str(word);
        } else {
            out.push_str(r#""content":" "#);
            out.push_str(word);
        }
        out.push_str("\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n");
    }
    out.push_str("data: ");
    out.push_str(head);
    out.push_str("},\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n");
    out.push_str(&format!(
        "data: {{\"id\":\"chatcmpl-bench0000000001\",\"object\":\"chat.completion.chunk\",\"created\":1732250000,\"model\":\"mixtral\",\"choices\":[],\"usage\":{{\"prompt_tokens\":12,\"completion_tokens\":{chunks},\"total_tokens\":{}}}}}\n\n",
        chunks + 12
    ));
    out.push_str("data: [DONE]\n\n");
    Bytes::from(out)
}

/// The `GET` answer: a small model list, as an OpenAI-compatible server sends it.
const MODELS: &str = r#"{"object":"list","data":[{"id":"mixtral","object":"model","created":1732250000,"owned_by":"rostro"},{"id":"asha","object":"model","created":1732250000,"owned_by":"rostro"},{"id":"gpt-4o-mini","object":"model","created":1732250000,"owned_by":"openai"}]}"#;

/// The non-streaming chat answer.
const COMPLETION: &str = r#"{"id":"chatcmpl-bench0000000001","object":"chat.completion","created":1732250000,"model":"mixtral","system_fingerprint":"fp_bench","choices":[{"index":0,"message":{"role":"assistant","content":"echo: go"},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}"#;

type Bodies = Arc<Mutex<HashMap<usize, Bytes>>>;

fn body_for(bodies: &Bodies, chunks: usize) -> Bytes {
    let mut map = bodies.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(chunks)
        .or_insert_with(|| build_body(chunks))
        .clone()
}

async fn serve(stream: TcpStream, bodies: Bodies) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(stream);
    let mut served: u64 = 0;
    loop {
        // Request line and headers.
        let mut content_length = 0usize;
        let mut chunks = DEFAULT_CHUNKS;
        let mut line = String::new();
        let mut first = true;
        let mut is_get = false;
        loop {
            line.clear();
            if reader.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let l = line.trim_end();
            if l.is_empty() {
                if first {
                    continue;
                }
                break;
            }
            if first {
                is_get = l.starts_with("GET ");
                first = false;
                continue;
            }
            if let Some((name, value)) = l.split_once(':') {
                let value = value.trim();
                match name.trim().to_ascii_lowercase().as_str() {
                    "content-length" => content_length = value.parse().unwrap_or(0),
                    "x-mock-chunks" => chunks = value.parse().unwrap_or(DEFAULT_CHUNKS),
                    _ => {}
                }
            }
        }
        let mut request_body = vec![0u8; content_length];
        reader.read_exact(&mut request_body).await?;
        let request_body = String::from_utf8_lossy(&request_body);

        let (body, content_type) = if is_get {
            (Bytes::from_static(MODELS.as_bytes()), "application/json")
        } else if request_body.contains("\"stream\":true") {
            (body_for(&bodies, chunks), "text/event-stream")
        } else {
            (
                Bytes::from_static(COMPLETION.as_bytes()),
                "application/json",
            )
        };
        served += 1;
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncache-control: no-cache\r\nx-request-id: bench-{served}\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        let stream = reader.get_mut();
        stream.write_all(head.as_bytes()).await?;
        for piece in body.chunks(64 * 1024) {
            stream.write_all(piece).await?;
        }
        stream.flush().await?;
    }
}

async fn run_prebuilt() -> anyhow::Result<()> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    println!("http://{}", listener.local_addr()?);
    let bodies: Bodies = Arc::default();
    loop {
        let (stream, _) = listener.accept().await?;
        let bodies = bodies.clone();
        tokio::spawn(async move {
            let _ = serve(stream, bodies).await;
        });
    }
}

async fn run_mock() -> anyhow::Result<()> {
    let mock = rostro_mock::RostroMock::builder()
        .port(0)
        .chunk_count(DEFAULT_CHUNKS)
        .start()
        .await;
    println!("{}", mock.uri());
    std::future::pending::<()>().await;
    drop(mock);
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let mock = std::env::args().any(|a| a == "--mock");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    // Exit when the parent closes our stdin (or dies).
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
    rt.block_on(async move {
        if mock {
            run_mock().await
        } else {
            run_prebuilt().await
        }
    })
}
