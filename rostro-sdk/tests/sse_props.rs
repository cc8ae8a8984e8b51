//! Property test of the SSE path: realistic transcripts (BOM, CR/LF/CRLF, comments,
//! retry-only events, multi-line data, long lines, `[DONE]` with and without a blank line),
//! cut into random reads (1-byte writes included) and mutated (truncated, bytes flipped,
//! invalid UTF-8, stray line breaks). For every input: no panic; the events do not depend on
//! how the body was split; unmutated transcripts give exactly the events they were built
//! from; over HTTP a chat stream either completes with the text or fails with a typed
//! `Error::Stream`. Seeded, so a failure names the case that reproduces it.

use std::time::Duration;

use futures::StreamExt;
use rostro_sdk::chat::{ChatCompletionRequest, Message, SseDecoder, SseEvent, StreamEnd};
use rostro_sdk::{Client, Error, StreamErrorKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// xorshift64*: small, deterministic, good enough to pick cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// A transcript and the events (and text) it must decode to.
struct Transcript {
    bytes: Vec<u8>,
    events: Vec<SseEvent>,
    trailing: Option<SseEvent>,
    text: String,
}

fn event(event: &str, data: &str, id: Option<&str>) -> SseEvent {
    // `SseEvent` is non-exhaustive: build it the way the decoder does.
    let mut d = SseDecoder::new(usize::MAX);
    let mut raw = String::new();
    if let Some(id) = id {
        raw.push_str(&format!("id: {id}\n"));
    }
    if event != "message" {
        raw.push_str(&format!("event: {event}\n"));
    }
    for line in data.split('\n') {
        raw.push_str(&format!("data: {line}\n"));
    }
    raw.push('\n');
    d.push(raw.as_bytes());
    d.next_event().unwrap().unwrap()
}

fn chunk_json(text: &str, finish: bool) -> String {
    let finish = if finish { "\"stop\"" } else { "null" };
    format!(
        r#"{{"id":"c","object":"chat.completion.chunk","choices":[{{"index":0,"delta":{{"content":"{text}"}},"finish_reason":{finish}}}]}}"#
    )
}

fn transcript(rng: &mut Rng) -> Transcript {
    let eol = ["\n", "\r\n", "\r"][rng.below(3)];
    let mut s = String::new();
    let mut events = Vec::new();
    let mut text = String::new();
    let mut last_id: Option<String> = None;
    let pieces = 1 + rng.below(6);
    for i in 0..pieces {
        match rng.below(6) {
            0 => s.push_str(&format!(": keep-alive {i}{eol}{eol}")),
            1 => s.push_str(&format!("retry: {}{eol}{eol}", rng.below(10_000))),
            2 => {
                // Multi-line data in a named event: skipped by chat, still an event.
                s.push_str(&format!("event: ping{eol}data: a{eol}data:b{eol}{eol}"));
                events.push(event("ping", "a\nb", last_id.as_deref()));
            }
            3 => {
                let id = format!("id-{i}");
                s.push_str(&format!("id: {id}{eol}"));
                last_id = Some(id);
                let piece = format!("w{i} ");
                let json = chunk_json(&piece, false);
                s.push_str(&format!("data: {json}{eol}{eol}"));
                events.push(event("message", &json, last_id.as_deref()));
                text.push_str(&piece);
            }
            4 => {
                // A long line.
                let piece = "L".repeat(1000 + rng.below(8000));
                let json = chunk_json(&piece, false);
                s.push_str(&format!("data:{json}{eol}{eol}"));
                events.push(event("message", &json, last_id.as_deref()));
                text.push_str(&piece);
            }
            _ => {
                let piece = format!("é{i}");
                let json = chunk_json(&piece, false);
                s.push_str(&format!("data: {json}{eol}{eol}"));
                events.push(event("message", &json, last_id.as_deref()));
                text.push_str(&piece);
            }
        }
    }
    let trailing = if rng.chance(50) {
        s.push_str(&format!("data: [DONE]{eol}{eol}"));
        events.push(event("message", "[DONE]", last_id.as_deref()));
        None
    } else {
        // Routstr's X-Cashu replay: no blank line before EOF.
        s.push_str(&format!("data: [DONE]{eol}"));
        Some(event("message", "[DONE]", last_id.as_deref()))
    };
    let mut bytes = Vec::new();
    if rng.chance(30) {
        bytes.extend_from_slice(b"\xEF\xBB\xBF");
    }
    bytes.extend_from_slice(s.as_bytes());
    Transcript {
        bytes,
        events,
        trailing,
        text,
    }
}

fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(3) {
        if bytes.is_empty() {
            return;
        }
        let at = rng.below(bytes.len());
        match rng.below(5) {
            0 => bytes.truncate(at),
            1 => bytes[at] ^= 1 << rng.below(8),
            2 => bytes.insert(at, 0xFF),
            3 => bytes.insert(at, [b'\r', b'\n'][rng.below(2)]),
            _ => {
                bytes.remove(at);
            }
        }
    }
}

fn split(rng: &mut Rng, bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    let one_byte = rng.chance(20);
    while !rest.is_empty() {
        let n = if one_byte {
            1
        } else {
            1 + rng.below(rest.len().min(300))
        };
        out.push(rest[..n].to_vec());
        rest = &rest[n..];
    }
    out
}

type Decoded = (Vec<Result<SseEvent, StreamErrorKind>>, Option<SseEvent>);

fn decode(cap: usize, pieces: &[Vec<u8>]) -> Decoded {
    let mut d = SseDecoder::new(cap);
    let mut out = Vec::new();
    for p in pieces {
        d.push(p);
        while let Some(e) = d.next_event() {
            out.push(e);
        }
    }
    let trailing = d.finish();
    while let Some(e) = d.next_event() {
        out.push(e);
    }
    (out, trailing)
}

#[test]
fn random_splits_and_mutations_decode_like_the_whole_body() {
    let mut rng = Rng(0x0005_EED0_F55E);
    for case in 0..4000 {
        let t = transcript(&mut rng);
        let mut bytes = t.bytes.clone();
        let mutated = rng.chance(50);
        if mutated {
            mutate(&mut rng, &mut bytes);
        }
        // A cap small enough to be hit by the long lines now and then.
        let cap = if rng.chance(20) { 2000 } else { 1 << 20 };
        let whole = decode(cap, &[bytes.clone()]);
        let pieces = split(&mut rng, &bytes);
        let parts = decode(cap, &pieces);
        assert_eq!(whole, parts, "case {case}: {} reads", pieces.len());
        if !mutated && cap > t.bytes.len() {
            let expected: Vec<_> = t.events.iter().cloned().map(Ok).collect();
            assert_eq!(whole.0, expected, "case {case}");
            assert_eq!(whole.1, t.trailing, "case {case}");
        }
        if let Some(Err(kind)) = whole.0.last() {
            assert!(
                matches!(
                    kind,
                    StreamErrorKind::EventTooLarge { .. } | StreamErrorKind::InvalidUtf8
                ),
                "case {case}: {kind:?}"
            );
        }
    }
}

/// Reads one request: its head and its content-length body.
async fn read_request(sock: &mut tokio::net::TcpStream) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = sock.read(&mut buf).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        seen.extend_from_slice(&buf[..n]);
        if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap_or(0));
            if seen.len() >= end + 4 + len {
                return;
            }
        }
    }
}

/// Serves each accepted connection the next body, written in its pieces, then closes.
async fn server(bodies: Vec<Vec<Vec<u8>>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        for pieces in bodies {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            read_request(&mut sock).await;
            let head =
                "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
            let _ = sock.write_all(head.as_bytes()).await;
            for p in pieces {
                if sock.write_all(&p).await.is_err() || sock.flush().await.is_err() {
                    break;
                }
            }
        }
    });
    url
}

#[tokio::test]
async fn chat_streams_over_http_complete_or_fail_typed() {
    let mut rng = Rng(0xC4A7_5EED);
    let cases: Vec<(Transcript, Vec<u8>, bool)> = (0..150)
        .map(|_| {
            let t = transcript(&mut rng);
            let mut bytes = t.bytes.clone();
            let mutated = rng.chance(50);
            if mutated {
                mutate(&mut rng, &mut bytes);
            }
            (t, bytes, mutated)
        })
        .collect();
    let bodies = cases.iter().map(|(_, b, _)| split(&mut rng, b)).collect();
    let url = server(bodies).await;
    let client = Client::builder()
        .base_url(&url)
        .max_retries(0)
        // Only a guard against a hang in a broken build: every body ends by itself.
        .stream_idle_timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    for (case, (t, _, mutated)) in cases.iter().enumerate() {
        let req = ChatCompletionRequest::new("m", vec![Message::user("hi")]);
        let mut stream = client.chat().stream(req).await.unwrap();
        let mut error = None;
        while let Some(item) = stream.next().await {
            if let Err(e) = item {
                error = Some(e);
            }
        }
        match (&error, mutated) {
            (None, false) => {
                assert_eq!(stream.text(), t.text, "case {case}");
                assert_eq!(stream.end(), Some(StreamEnd::Done), "case {case}");
            }
            (Some(Error::Stream { partial, .. }), _) => {
                assert_eq!(stream.end(), Some(StreamEnd::Failed), "case {case}");
                assert_eq!(
                    partial,
                    &stream.text(),
                    "case {case}: the partial text is kept"
                );
                assert!(
                    *mutated,
                    "case {case}: an intact transcript failed: {error:?}"
                );
            }
            (None, true) => assert!(stream.end().is_some(), "case {case}"),
            (Some(other), _) => panic!("case {case}: not a stream error: {other:?}"),
        }
    }
}
