//! No sat is lost after the response headers arrive: a paid (X-Cashu) request whose body
//! cannot be read, whose stream is cut, or whose upstream failed still yields the node's
//! change token, from the error (`Error::headers`, `RoutstrErrorExt::change_token`) and from
//! the response-headers hook, before the body is read.
//!
//! Two sources of truth: the Routstr mode of `rostro-mock` with its real-node quirks, and
//! byte-exact transcripts of what routstr-core 0.4.5 sends (`transcripts/routstr/*.http`),
//! replayed from a raw TCP server.
//!
//! The tests of the line-framed stream (`data: [DONE]\n` then EOF, single `\n` between lines)
//! need the SSE decoder that accepts that framing; see their doc comments.

use std::sync::{Arc, Mutex};

use futures::StreamExt;
use rostro_mock::{NodeQuirk, RoutstrMock};
use rostro_sdk::chat::{ChatCompletionRequest, Message};
use rostro_sdk::routstr::{Msats, PayWith, RoutstrClient, RoutstrErrorExt, RoutstrMeta, Sats};
use rostro_sdk::{CallOptions, Error, ResponseMeta};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const NONSTREAM: &[u8] = include_bytes!("transcripts/routstr/nonstream_length_mismatch.http");
const STREAM: &[u8] = include_bytes!("transcripts/routstr/stream_line_framing.http");

fn node_client(uri: &str) -> RoutstrClient {
    RoutstrClient::builder(uri).build().unwrap()
}

fn hello() -> ChatCompletionRequest {
    ChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("hello there")])
}

/// Every response the hook saw: status and `X-Cashu`.
type Seen = Arc<Mutex<Vec<(u16, Option<String>)>>>;

fn recorder() -> (Seen, impl Fn(&ResponseMeta) + Send + Sync + 'static) {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let hook = move |m: &ResponseMeta| {
        let change = RoutstrMeta::from_response(m)
            .change_token
            .map(|t| t.expose().to_owned());
        s.lock().unwrap().push((m.status.as_u16(), change));
    };
    (seen, hook)
}

fn change_of(e: &Error) -> String {
    e.change_token()
        .unwrap_or_else(|| panic!("no change token on {e:?}"))
        .expose()
        .to_owned()
}

/// The value of a header in a transcript's head.
fn transcript_header(t: &[u8], name: &str) -> String {
    let head = &t[..t.windows(4).position(|w| w == b"\r\n\r\n").unwrap()];
    std::str::from_utf8(head)
        .unwrap()
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
        .unwrap()
}

/// A TCP server on 127.0.0.1 answering one request with `transcript`, byte for byte, then
/// closing. Returns its URL and the request it received.
async fn replay(transcript: &'static [u8]) -> (String, tokio::task::JoinHandle<Vec<u8>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut req = Vec::new();
        let mut buf = [0u8; 4096];
        // The head, then as many body bytes as it announces.
        loop {
            let n = conn.read(&mut buf).await.unwrap();
            assert!(n > 0, "the client closed before sending its request");
            req.extend_from_slice(&buf[..n]);
            if let Some(end) = req.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&req[..end]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse().unwrap());
                if req.len() >= end + 4 + len {
                    break;
                }
            }
        }
        conn.write_all(transcript).await.unwrap();
        conn.flush().await.unwrap();
        let _ = conn.shutdown().await;
        req
    });
    (url, task)
}

#[tokio::test]
async fn body_longer_than_its_length_keeps_the_change_on_the_error() {
    let node = RoutstrMock::builder()
        .quirk(NodeQuirk::BodyLongerThanLength)
        .start()
        .await;
    let token = node.mint_token(30_000);
    let (seen, hook) = recorder();
    let err = node_client(&node.uri())
        .chat()
        .request(hello())
        .pay_with(&token)
        .on_response_headers(hook)
        .send_with_response()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    // The response is on the error: status, headers, request id, the node's money headers.
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
    let sent = &node.requests_to("POST", "/v1/chat/completions")[0];
    assert_eq!(err.request_id(), Some(sent.request_id.as_str()));
    let change = change_of(&err);
    assert_eq!(node.token_value(&change), Some(30_000 - 30));
    let meta = err.routstr_meta();
    assert_eq!(meta.cost_msats, Some(Msats(30)));
    assert_eq!(
        meta.change_token.as_ref().map(|t| t.expose()),
        Some(&*change)
    );
    // The hook had it before the body was read.
    assert_eq!(*seen.lock().unwrap(), vec![(200, Some(change))]);
    // The change header stays out of Debug output.
    assert!(!format!("{err:?}").contains(&token));
}

#[tokio::test]
async fn body_shorter_than_its_length_keeps_the_change_on_the_error() {
    let node = RoutstrMock::start().await;
    let token = node.mint_token(30_000);
    let (seen, hook) = recorder();
    let err = node_client(&node.uri())
        .chat()
        .request(hello())
        .pay_with(&token)
        .extra_header("x-mock-routstr-quirks", "body-shorter")
        .on_response_headers(hook)
        .send_with_response()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Transport { .. } | Error::Decode { .. }),
        "{err:?}"
    );
    let change = change_of(&err);
    assert!(node.token_value(&change).unwrap() > 0);
    assert!(err.response().is_some_and(|r| r.status.is_success()));
    assert_eq!(seen.lock().unwrap()[0].1.as_deref(), Some(&*change));
    // Paid requests are never retried (the token is spent).
    assert_eq!(node.attempts("POST", "/v1/chat/completions"), 1);
}

#[tokio::test]
async fn upstream_502_refund_reaches_the_hook_and_the_error() {
    let node = RoutstrMock::start().await;
    let token = node.mint_token(30_000);
    let (seen, hook) = recorder();
    let err = node_client(&node.uri())
        .chat()
        .request(hello())
        .pay_with(&token)
        .extra_header("x-mock-routstr-error", "upstream_error")
        .on_response_headers(hook)
        .send_with_response()
        .await
        .unwrap_err();
    let refund = change_of(&err);
    assert_eq!(node.token_value(&refund), Some(30_000));
    assert_eq!(*seen.lock().unwrap(), vec![(502, Some(refund))]);
}

#[tokio::test]
async fn a_cut_stream_keeps_the_change_on_the_stream_error() {
    let node = RoutstrMock::builder()
        .quirk(NodeQuirk::StreamCut)
        .start()
        .await;
    let token = node.mint_token(30_000);
    let mut stream = node_client(&node.uri())
        .chat()
        .request(hello())
        .pay_with(&token)
        .stream()
        .await
        .unwrap();
    let from_headers = RoutstrMeta::from_headers(stream.headers())
        .change_token
        .expect("change in the headers");
    let mut last = None;
    while let Some(item) = stream.next().await {
        last = Some(item);
    }
    let err = last.expect("an item").unwrap_err();
    assert!(matches!(err, Error::Stream { .. }), "{err:?}");
    assert_eq!(change_of(&err), from_headers.expose());
    assert_eq!(err.request_id(), stream.request_id());
    assert!(node.token_value(from_headers.expose()).unwrap() > 0);
}

#[tokio::test]
async fn catalog_model_id_comes_back_in_the_reply() {
    let node = RoutstrMock::builder()
        .quirk(NodeQuirk::CatalogModelId)
        .start()
        .await;
    let token = node.mint_token(30_000);
    let resp = node_client(&node.uri())
        .chat()
        .request(hello())
        .pay_with(&token)
        .send_with_response()
        .await
        .unwrap();
    assert_eq!(resp.value().model, "openai/gpt-4o-mini");
    assert!(
        RoutstrMeta::from_response(resp.meta())
            .change_token
            .is_some()
    );
}

/// Needs the SSE decoder that ends a stream on `data: [DONE]\n` + EOF and reads
/// single-`\n`-separated lines as events (the streams work); the change is read from the
/// headers either way.
#[tokio::test]
async fn line_framed_stream_ends_at_done_with_the_usage_chunk() {
    let node = RoutstrMock::builder()
        .quirk(NodeQuirk::LineFraming)
        .quirk(NodeQuirk::CatalogModelId)
        .start()
        .await;
    let token = node.mint_token(30_000);
    let stream = node_client(&node.uri())
        .chat()
        .request(hello().include_usage(true))
        .pay_with(&token)
        .stream()
        .await
        .unwrap();
    let change = RoutstrMeta::from_headers(stream.headers()).change_token;
    assert!(node.token_value(change.unwrap().expose()).unwrap() > 0);
    let done = stream.collect_completion().await.expect("the whole reply");
    assert_eq!(done.model, "openai/gpt-4o-mini");
    // The whole reply, reassembled from the line-framed replay (the mock echoes the prompt).
    assert_eq!(done.content(), Some("echo: hello there"));
    assert!(done.usage.and_then(|u| u.cost_msats()).unwrap() > 0);
}

#[tokio::test]
async fn whole_sat_refunds_and_repeated_refunds() {
    let node = RoutstrMock::builder().refund_in_sats(true).start().await;
    let key = node.create_key(4_297_982);
    let rc = RoutstrClient::new(node.uri(), &key).unwrap();
    let first = rc.balance().refund().await.unwrap();
    // `"sats": "4297"`, a string.
    assert_eq!(first.sats, Some(Sats(4297)));
    assert_eq!(first.amount(), Some(Msats(4_297_000)));
    // The remainder stays on the key.
    assert_eq!(rc.balance().info().await.unwrap().balance, Msats(982));
    let again = rc.balance().refund().await.unwrap();
    assert_eq!(again.token, first.token);
}

#[tokio::test]
async fn transcript_nonstream_reply_longer_than_its_length() {
    let (url, server) = replay(NONSTREAM).await;
    let token = RoutstrMock::start().await.mint_token(100_000);
    let (seen, hook) = recorder();
    let err = node_client(&url)
        .chat()
        .request(hello())
        .pay_with(&token)
        .on_response_headers(hook)
        .send_with_response()
        .await
        .unwrap_err();
    let request = String::from_utf8(server.await.unwrap()).unwrap();
    assert!(
        request.contains(&format!("x-cashu: {token}\r\n")),
        "{request}"
    );
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    let expected = transcript_header(NONSTREAM, "x-cashu");
    assert_eq!(change_of(&err), expected);
    assert_eq!(
        err.request_id(),
        Some("6a0f3e1c-52d4-4b8e-9a3f-2c7d1e8b4f90")
    );
    assert_eq!(err.routstr_meta().cost_msats, Some(Msats(6750)));
    assert_eq!(*seen.lock().unwrap(), vec![(200, Some(expected))]);
}

/// Needs the SSE decoder that accepts routstr-core's framing (see the module docs).
#[tokio::test]
async fn transcript_stream_line_framed_buffered_replay() {
    let (url, _server) = replay(STREAM).await;
    let token = RoutstrMock::start().await.mint_token(100_000);
    let stream = node_client(&url)
        .chat()
        .request(hello().include_usage(true))
        .pay_with(&token)
        .stream()
        .await
        .unwrap();
    let change = RoutstrMeta::from_headers(stream.headers()).change_token;
    assert_eq!(
        change.unwrap().expose(),
        transcript_header(STREAM, "x-cashu")
    );
    let done = stream.collect_completion().await.expect("the whole reply");
    assert_eq!(done.content(), Some("Hello! How can I help you today?"));
    assert_eq!(done.model, "openai/gpt-4o-mini");
    assert_eq!(done.usage.and_then(|u| u.cost_msats()), Some(6750));
}
