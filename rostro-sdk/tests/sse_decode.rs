//! Chat streams against a raw HTTP/1.1 server on 127.0.0.1 that writes exact bytes, in the
//! pieces given, like a real node does: BOM, `[DONE]` without a blank line, ends without
//! `[DONE]`, bodies that are not event streams, events over the size cap, stalls, and
//! durations too large for `Instant`.

use std::time::Duration;

use futures::StreamExt;
use rostro_sdk::chat::{ChatCompletionRequest, Message, StreamEnd};
use rostro_sdk::{CallOptions, Client, ClientBuilder, Error, StreamErrorKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the server does after its last piece.
#[derive(Clone, Copy)]
enum After {
    /// Close the connection (the body ends at EOF: no content-length, `connection: close`).
    Close,
    /// Keep the connection open and silent for this long.
    Stall(Duration),
}

/// Reads one request (head and content-length body).
async fn read_request(sock: &mut tokio::net::TcpStream) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut seen = Vec::new();
    loop {
        let n = sock.read(&mut buf).await.unwrap();
        if n == 0 {
            return;
        }
        seen.extend_from_slice(&buf[..n]);
        if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if seen.len() >= end + 4 + len {
                return;
            }
        }
    }
}

/// A server answering every connection with `200`, `content_type` (none if `None`) and the
/// body written piece by piece (each flushed on its own).
async fn server(content_type: Option<&str>, pieces: Vec<Vec<u8>>, after: After) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let ct = content_type
        .map(|ct| format!("content-type: {ct}\r\n"))
        .unwrap_or_default();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let (ct, pieces) = (ct.clone(), pieces.clone());
            tokio::spawn(async move {
                read_request(&mut sock).await;
                let head = format!("HTTP/1.1 200 OK\r\n{ct}connection: close\r\n\r\n");
                sock.write_all(head.as_bytes()).await.unwrap();
                for piece in pieces {
                    if sock.write_all(&piece).await.is_err() || sock.flush().await.is_err() {
                        return;
                    }
                }
                if let After::Stall(d) = after {
                    tokio::time::sleep(d).await;
                }
            });
        }
    });
    url
}

fn builder(url: &str) -> ClientBuilder {
    Client::builder()
        .api_key("sk-test-0123456789abcdef")
        .base_url(url)
        .max_retries(0)
}

fn req() -> ChatCompletionRequest {
    ChatCompletionRequest::new("m", vec![Message::user("hi")])
}

fn chunk(text: &str, finish: Option<&str>) -> String {
    let finish = finish.map_or("null".to_owned(), |f| format!("\"{f}\""));
    format!(
        r#"{{"id":"c","object":"chat.completion.chunk","choices":[{{"index":0,"delta":{{"content":"{text}"}},"finish_reason":{finish}}}]}}"#
    )
}

/// Reads the whole stream: the text of every chunk, the error if any, and how it ended.
async fn run(client: &Client) -> (String, Option<Error>, Option<StreamEnd>) {
    let mut stream = client.chat().stream(req()).await.unwrap();
    let mut text = String::new();
    let mut error = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(c) => text.push_str(c.content().unwrap_or_default()),
            Err(e) => error = Some(e),
        }
    }
    assert!(
        stream.next().await.is_none(),
        "nothing after the end or the error"
    );
    (text, error, stream.end())
}

fn sse() -> Option<&'static str> {
    Some("text/event-stream")
}

#[tokio::test]
async fn a_body_starting_with_a_bom_decodes_like_one_without() {
    for split in [1, 2, 3, 1000] {
        let mut body = b"\xEF\xBB\xBF".to_vec();
        body.extend(format!("data: {}\n\n", chunk("a", None)).bytes());
        body.extend(format!("data: {}\r\n\r\ndata: [DONE]\n\n", chunk("b", Some("stop"))).bytes());
        let pieces = body.chunks(split).map(<[u8]>::to_vec).collect();
        let url = server(sse(), pieces, After::Close).await;
        let (text, error, end) = run(&builder(&url).build().unwrap()).await;
        assert!(error.is_none(), "split {split}: {error:?}");
        assert_eq!((text.as_str(), end), ("ab", Some(StreamEnd::Done)));
    }
}

#[tokio::test]
async fn done_without_a_blank_line_before_eof_counts_as_done() {
    // What a Routstr node sends on its X-Cashu path: single `\n` separators, then EOF.
    let body = format!("data: {}\ndata: [DONE]\n", chunk("hi", None));
    let url = server(sse(), vec![body.into_bytes()], After::Close).await;
    let (text, error, end) = run(&builder(&url).build().unwrap()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!((text.as_str(), end), ("hi", Some(StreamEnd::Done)));

    // Each line its own event, as that node replays them line by line.
    let body = format!("data: {}\n\ndata: [DONE]\n", chunk("hi", None));
    let url = server(sse(), vec![body.into_bytes()], After::Close).await;
    let (_, error, end) = run(&builder(&url).build().unwrap()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(end, Some(StreamEnd::Done));
}

#[tokio::test]
async fn an_end_without_done_after_every_finish_reason_is_complete() {
    let body = format!(
        "data: {}\n\ndata: {}\n\n",
        chunk("he", None),
        chunk("llo", Some("stop"))
    );
    let url = server(sse(), vec![body.into_bytes()], After::Close).await;
    let client = builder(&url).build().unwrap();
    let (text, error, end) = run(&client).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!((text.as_str(), end), ("hello", Some(StreamEnd::Finished)));
    // `collect_completion` agrees.
    let done = client
        .chat()
        .stream(req())
        .await
        .unwrap()
        .collect_completion()
        .await;
    assert_eq!(done.unwrap().content(), Some("hello"));
}

#[tokio::test]
async fn an_end_without_done_or_finish_reason_is_a_stream_error_with_the_partial_text() {
    // Last event cut off (no blank line, truncated JSON) and no finish reason.
    let body = format!(
        "data: {}\n\ndata: {{\"id\":\"c\",\"cho",
        chunk("part", None)
    );
    let url = server(sse(), vec![body.into_bytes()], After::Close).await;
    let (text, error, end) = run(&builder(&url).build().unwrap()).await;
    assert_eq!(text, "part");
    assert_eq!(end, Some(StreamEnd::Failed));
    match error {
        Some(Error::Stream {
            partial,
            kind,
            message,
            ..
        }) => {
            assert_eq!(partial, "part");
            assert_eq!(kind, StreamErrorKind::Incomplete);
            assert!(message.contains("[DONE]"), "{message}");
        }
        other => panic!("{other:?}"),
    }

    // Cleanly framed, but no finish reason and no `[DONE]`.
    let body = format!("data: {}\n\n", chunk("part", None));
    let url = server(sse(), vec![body.into_bytes()], After::Close).await;
    let (_, error, _) = run(&builder(&url).build().unwrap()).await;
    assert!(
        matches!(&error, Some(Error::Stream { kind: StreamErrorKind::Incomplete, partial, .. }) if partial == "part"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_200_that_is_not_an_event_stream_says_what_arrived() {
    let html = b"<html><body>Please log in</body></html>".to_vec();
    let url = server(Some("text/html; charset=utf-8"), vec![html], After::Close).await;
    let err = builder(&url)
        .build()
        .unwrap()
        .chat()
        .stream(req())
        .await
        .unwrap_err();
    match &err {
        Error::Stream { kind, message, .. } => {
            assert_eq!(
                *kind,
                StreamErrorKind::NotEventStream {
                    content_type: Some("text/html; charset=utf-8".into())
                }
            );
            assert!(message.contains("got text/html"), "{message}");
            assert!(message.contains("Please log in"), "{message}");
        }
        other => panic!("{other:?}"),
    }

    let url = server(Some("text/plain"), vec![], After::Close).await;
    let err = builder(&url)
        .build()
        .unwrap()
        .chat()
        .stream(req())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("empty body"), "{err}");

    // The right content type but nothing in the body.
    let url = server(sse(), vec![], After::Close).await;
    let (_, error, _) = run(&builder(&url).build().unwrap()).await;
    let error = error.expect("an empty stream is an error");
    assert!(error.to_string().contains("empty body"), "{error}");
}

#[tokio::test]
async fn an_event_over_the_cap_ends_the_stream_naming_the_cap_and_keeps_the_text() {
    let mut body = format!("data: {}\n\n", chunk("kept", None)).into_bytes();
    body.extend_from_slice(b"data: ");
    body.extend(std::iter::repeat_n(b'x', 100 * 1024));
    let pieces = body.chunks(4096).map(<[u8]>::to_vec).collect();
    let url = server(sse(), pieces, After::Stall(Duration::from_secs(30))).await;
    let client = builder(&url).max_event_size(64 * 1024).build().unwrap();
    let (text, error, end) = run(&client).await;
    assert_eq!(text, "kept");
    assert_eq!(end, Some(StreamEnd::Failed));
    match error {
        Some(Error::Stream {
            kind,
            message,
            partial,
            ..
        }) => {
            assert_eq!(kind, StreamErrorKind::EventTooLarge { cap: 64 * 1024 });
            assert!(message.contains("64 KiB"), "{message}");
            assert_eq!(partial, "kept");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        Client::builder().build().unwrap().max_event_size(),
        rostro_sdk::DEFAULT_MAX_EVENT_SIZE
    );
    assert!(Client::builder().max_event_size(0).build().is_err());
}

#[tokio::test]
async fn a_long_event_in_tiny_writes_arrives_whole() {
    let text = "y".repeat(256 * 1024);
    let body = format!("data: {}\n\ndata: [DONE]\n\n", chunk(&text, Some("stop")));
    let pieces = body.as_bytes().chunks(16).map(<[u8]>::to_vec).collect();
    let url = server(sse(), pieces, After::Close).await;
    let (got, error, end) = run(&builder(&url).build().unwrap()).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(got.len(), text.len());
    assert_eq!(end, Some(StreamEnd::Done));
}

#[tokio::test]
async fn a_stalled_stream_times_out_by_the_client_default_keeping_the_text() {
    assert_eq!(
        Client::builder().build().unwrap().stream_idle_timeout(),
        Some(rostro_sdk::DEFAULT_STREAM_IDLE_TIMEOUT),
        "on by default"
    );
    let body = format!("data: {}\n\n: keep-alive\n\n", chunk("so far", None));
    let url = server(
        sse(),
        vec![body.into_bytes()],
        After::Stall(Duration::from_secs(30)),
    )
    .await;
    // The client-wide setting applies to every stream (no per-call option here).
    let client = builder(&url)
        .stream_idle_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let (text, error, end) = run(&client).await;
    assert_eq!(text, "so far");
    assert_eq!(end, Some(StreamEnd::Failed));
    let error = error.expect("a stall ends the stream");
    assert!(error.is_timeout(), "{error:?}");
    match &error {
        Error::Stream { kind, partial, .. } => {
            assert_eq!(
                *kind,
                StreamErrorKind::Idle {
                    after: Duration::from_millis(300)
                }
            );
            assert_eq!(partial, "so far");
        }
        other => panic!("{other:?}"),
    }
    // `None` only when asked.
    assert_eq!(
        Client::builder()
            .stream_idle_timeout(None)
            .build()
            .unwrap()
            .stream_idle_timeout(),
        None
    );
}

#[tokio::test]
async fn any_duration_is_accepted_without_panicking() {
    let body = format!("data: {}\n\ndata: [DONE]\n\n", chunk("ok", Some("stop")));
    let url = server(sse(), vec![body.into_bytes()], After::Close).await;
    let huge = [
        Duration::MAX,
        Duration::from_secs_f64(1e19),
        Duration::from_secs(u64::MAX),
    ];
    for d in huge {
        let client = builder(&url)
            .timeout(d)
            .connect_timeout(d)
            .stream_idle_timeout(d)
            .initial_retry_delay(d)
            .max_retry_delay(d)
            .build()
            .unwrap();
        let (text, error, _) = run(&client).await;
        assert!(error.is_none(), "{d:?}: {error:?}");
        assert_eq!(text, "ok");
        let stream = client
            .chat()
            .request(req())
            .request_timeout(d)
            .idle_timeout(d)
            .stream()
            .await
            .unwrap();
        assert_eq!(
            stream.collect_completion().await.unwrap().content(),
            Some("ok")
        );
    }
}
