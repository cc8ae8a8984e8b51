//! Retry soak: 10,000 requests per mode at concurrency 32 against a loopback server that
//! faults about 30 % of attempts (429 and 503 with a wait, 500, 502, connection reset, stall
//! past the request timeout), with the default three attempts. Prints the success rate for
//! GETs, chat POSTs without a key (only rejections are retried) and chat POSTs with
//! `idempotent_posts` (everything retried, the server deduplicating by key), the number of
//! panics, how many requests the server applied more than once (and under how many keys),
//! and how many attempts it answered from its record of a key it had already applied.
//!
//! A fault that is not a rejection (500, 502, reset, stall) is injected *after* the server
//! applied the request, the worst case for repeats. With three attempts and 30 % faults the
//! expected success rate is 1 - 0.3^3 = 97.3 %.
//!
//! ```sh
//! cargo bench -p rostro-bench --bench soak
//! SOAK_REQUESTS=2000 cargo bench -p rostro-bench --bench soak
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::StreamExt;
use rostro_sdk::chat::{ChatCompletionRequest, Message};
use rostro_sdk::request::{Base, HttpMethod, Operation, Request};
use rostro_sdk::{Client, Error};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const CONCURRENCY: usize = 32;
const REQUEST_TIMEOUT: Duration = Duration::from_millis(300);
const STALL: Duration = Duration::from_millis(1500);

static GET_THING: Operation = Operation {
    id: "soak_get",
    method: HttpMethod::Get,
    path: "/soak/thing",
    base: Base::Api,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    None,
    RateLimited,
    Unavailable,
    Internal,
    BadGateway,
    Reset,
    Stall,
}

/// What the server saw, shared by its connection tasks.
#[derive(Default)]
struct Ledger {
    /// Idempotency key -> the logical request it applied (and how often).
    by_key: HashMap<String, (u64, u32)>,
    /// Logical request (`soak_id`) -> times applied.
    applied: HashMap<u64, u32>,
    rng: u64,
}

impl Ledger {
    fn roll(&mut self) -> Fault {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        match self.rng % 100 {
            0..8 => Fault::RateLimited,
            8..13 => Fault::Unavailable,
            13..18 => Fault::Internal,
            18..22 => Fault::BadGateway,
            22..26 => Fault::Reset,
            26..30 => Fault::Stall,
            _ => Fault::None,
        }
    }
}

struct Parsed {
    method: String,
    key: Option<String>,
    soak_id: Option<u64>,
}

/// Reads one request from `buf` + the socket; `None` at EOF.
async fn read_request(sock: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Parsed> {
    let mut tmp = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let header = |name: &str| {
                head.lines().find_map(|l| {
                    let (n, v) = l.split_once(':')?;
                    n.trim()
                        .eq_ignore_ascii_case(name)
                        .then(|| v.trim().to_owned())
                })
            };
            let len: usize = header("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                let body: Vec<u8> = buf[end + 4..end + 4 + len].to_vec();
                buf.drain(..end + 4 + len);
                let soak_id = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["soak_id"].as_u64());
                return Some(Parsed {
                    method: head.split(' ').next().unwrap_or_default().to_owned(),
                    key: header("idempotency-key"),
                    soak_id,
                });
            }
        }
        match sock.read(&mut tmp).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
    }
}

fn response(status: &str, extra: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\n\r\n{body}",
        body.len()
    )
}

const CHAT_OK: &str = r#"{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}"#;

async fn connection(mut sock: TcpStream, ledger: Arc<Mutex<Ledger>>) {
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut sock, &mut buf).await {
        let fault = {
            let mut l = ledger.lock().unwrap();
            let fault = l.roll();
            let replay = req.key.as_ref().is_some_and(|k| l.by_key.contains_key(k));
            let rejected = matches!(fault, Fault::RateLimited | Fault::Unavailable);
            // Apply unless refused up front or already applied under this key (then the
            // server answers from its record, never applying twice).
            if req.method == "POST" && !rejected && !replay {
                let id = req.soak_id.unwrap_or(u64::MAX);
                *l.applied.entry(id).or_default() += 1;
                if let Some(k) = &req.key {
                    l.by_key.insert(k.clone(), (id, 1));
                }
            } else if replay && let Some(k) = &req.key {
                l.by_key.get_mut(k).unwrap().1 += 1;
            }
            fault
        };
        let ok_body = if req.method == "POST" {
            CHAT_OK
        } else {
            r#"{"ok":true}"#
        };
        let out = match fault {
            // A replayed key gets the stored answer, unless this attempt faults too.
            Fault::None => response("200 OK", "", ok_body),
            Fault::RateLimited => response(
                "429 Too Many Requests",
                "retry-after: 1\r\nretry-after-ms: 5\r\n",
                r#"{"error":{"message":"slow down"}}"#,
            ),
            Fault::Unavailable => response(
                "503 Service Unavailable",
                "retry-after-ms: 5\r\n",
                r#"{"error":{"message":"busy"}}"#,
            ),
            Fault::Internal => response("500 Internal Server Error", "", "{}"),
            Fault::BadGateway => response("502 Bad Gateway", "", "{}"),
            Fault::Reset => {
                // Zero linger: dropping the socket sends a reset, not a FIN.
                let _ = sock.set_zero_linger();
                return;
            }
            Fault::Stall => {
                tokio::time::sleep(STALL).await;
                return;
            }
        };
        if sock.write_all(out.as_bytes()).await.is_err() {
            return;
        }
    }
}

async fn start_server(ledger: Arc<Mutex<Ledger>>) -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(connection(sock, ledger.clone()));
        }
    });
    Ok(url)
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    Get,
    ChatPost,
    ChatPostWithKeys,
}

struct Outcome {
    ok: usize,
    failed: usize,
    panics: usize,
    errors: HashMap<String, usize>,
    applied_twice: usize,
    keys_applied_twice: usize,
    /// Attempts answered from the server's record of an already applied key.
    replays: u32,
    elapsed: Duration,
}

async fn run(mode: Mode, requests: usize, seed: u64) -> anyhow::Result<Outcome> {
    let ledger = Arc::new(Mutex::new(Ledger {
        rng: seed,
        ..Ledger::default()
    }));
    let url = start_server(ledger.clone()).await?;
    let client = Client::builder()
        .base_url(&url)
        .timeout(REQUEST_TIMEOUT)
        .initial_retry_delay(Duration::from_millis(5))
        .max_retry_delay(Duration::from_millis(20))
        .idempotent_posts(matches!(mode, Mode::ChatPostWithKeys))
        .build()?;
    let start = Instant::now();
    let results: Vec<_> = futures::stream::iter(0..requests)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                match mode {
                    Mode::Get => client
                        .execute::<serde_json::Value>(Request::new(&GET_THING))
                        .await
                        .map(drop),
                    Mode::ChatPost | Mode::ChatPostWithKeys => {
                        let mut req = ChatCompletionRequest::new("m", vec![Message::user("hi")]);
                        req.extra.insert("soak_id".into(), (i as u64).into());
                        client.chat().create(req).await.map(drop)
                    }
                }
            })
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let elapsed = start.elapsed();
    let mut out = Outcome {
        ok: 0,
        failed: 0,
        panics: 0,
        errors: HashMap::new(),
        applied_twice: 0,
        keys_applied_twice: 0,
        replays: 0,
        elapsed,
    };
    for r in results {
        match r {
            Ok(Ok(())) => out.ok += 1,
            Ok(Err(e)) => {
                out.failed += 1;
                *out.errors.entry(kind(&e)).or_default() += 1;
            }
            Err(join) if join.is_panic() => out.panics += 1,
            Err(_) => out.failed += 1,
        }
    }
    let l = ledger.lock().unwrap();
    out.applied_twice = l.applied.values().filter(|&&n| n > 1).count();
    let mut keys_per_id: HashMap<u64, usize> = HashMap::new();
    for (id, _) in l.by_key.values() {
        *keys_per_id.entry(*id).or_default() += 1;
    }
    out.replays = l.by_key.values().map(|(_, n)| n - 1).sum();
    out.keys_applied_twice = keys_per_id.values().filter(|&&n| n > 1).count();
    Ok(out)
}

fn kind(e: &Error) -> String {
    match e {
        Error::Api { status, .. } => status.as_u16().to_string(),
        Error::Timeout { .. } => "timeout".into(),
        Error::Transport { .. } => "reset".into(),
        Error::Connect { .. } => "connect".into(),
        other => format!("{other}"),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let requests: usize = std::env::var("SOAK_REQUESTS")
        .ok()
        .map(|v| v.parse().context("SOAK_REQUESTS"))
        .transpose()?
        .unwrap_or(10_000);
    println!(
        "{requests} requests per mode, concurrency {CONCURRENCY}, 3 attempts, ~30 % faulty attempts"
    );
    println!(
        "{:<26} {:>9} {:>7} {:>7} {:>14} {:>8} {:>8}  failures",
        "mode", "success", "failed", "panics", "applied twice", "replays", "time"
    );
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    for mode in [Mode::Get, Mode::ChatPost, Mode::ChatPostWithKeys] {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        let o = run(mode, requests, seed | 1).await?;
        let mut errors: Vec<_> = o.errors.iter().collect();
        errors.sort();
        println!(
            "{:<26} {:>8.2}% {:>7} {:>7} {:>14} {:>8} {:>7.1}s  {:?}",
            format!("{mode:?}"),
            100.0 * o.ok as f64 / requests as f64,
            o.failed,
            o.panics,
            format!("{} ({} keys)", o.applied_twice, o.keys_applied_twice),
            o.replays,
            o.elapsed.as_secs_f64(),
            errors
        );
    }
    Ok(())
}
