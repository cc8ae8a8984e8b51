//! The typed chat layer against hand-written servers (wiremock and a raw TCP server) for what
//! the reference mock does not cover: a mimic base URL with a path prefix, Routstr's usage
//! and cost, provider quirks, error envelopes, and closing the connection on drop.

use std::time::Duration;

use futures::StreamExt;
use rostro_sdk::chat::{ChatCompletionRequest, Cost, FinishReason, Message, ResponseFormat, Role};
use rostro_sdk::{ApiErrorBody, Client, Error};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(mimic_base: &str) -> Client {
    Client::builder()
        .api_key("sk-test-secret")
        .mimic_base_url(mimic_base)
        .max_retries(0)
        .build()
        .unwrap()
}

fn req() -> ChatCompletionRequest {
    ChatCompletionRequest::new("mymodel", vec![Message::user("hi")])
}

fn sse(events: &[&str]) -> String {
    events.iter().map(|e| format!("{e}\n\n")).collect()
}

fn sse_response(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/event-stream")
        .set_body_raw(body, "text/event-stream")
}

const CHUNK_A: &str = r#"data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"mymodel","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}"#;
const CHUNK_B: &str = r#"data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"mymodel","choices":[{"index":0,"delta":{"content":" there"},"finish_reason":"stop"}]}"#;

#[tokio::test]
async fn mimic_base_url_with_a_path_prefix() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/chub/mymodel/v1/chat/completions"))
        .and(body_partial_json(json!({"stream": true})))
        .respond_with(sse_response(sse(&[CHUNK_A, CHUNK_B, "data: [DONE]"])))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/chub/mymodel/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "c2", "object": "chat.completion", "created": 2, "model": "mymodel",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi there"}, "finish_reason": "stop"}]
        })))
        .with_priority(2)
        .mount(&server)
        .await;

    let client = client(&format!("{}/chub/mymodel/", server.uri()));
    let plain = client.chat().create(req()).await.unwrap();
    assert_eq!(plain.content(), Some("Hi there"));
    let streamed = client
        .chat()
        .stream(req())
        .await
        .unwrap()
        .collect_completion()
        .await
        .unwrap();
    assert_eq!(streamed.content(), Some("Hi there"));
    assert_eq!(streamed.finish_reason(), Some(&FinishReason::Stop));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn routstr_usage_cost_and_headers() {
    let server = MockServer::start().await;
    let usage_chunk = r#"data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"mymodel","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12,"cost":{"base_msats":0,"input_msats":700,"output_msats":534,"total_msats":1234},"cost_sats":1.234,"remaining_balance_msats":98766,"provider_latency_ms":42}}"#;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            sse_response(sse(&[CHUNK_A, CHUNK_B, usage_chunk, "data: [DONE]"]))
                .insert_header("x-routstr-request-id", "rt-123")
                .insert_header("x-routstr-cost-msats", "1234")
                .insert_header("x-cashu", "cashuAchange-token"),
        )
        .mount(&server)
        .await;

    let mut stream = client(&server.uri())
        .chat()
        .stream(req().include_usage(true))
        .await
        .unwrap();
    assert_eq!(stream.request_id(), Some("rt-123"));
    assert!(
        stream.usage().is_none(),
        "usage arrives with the last chunk"
    );
    while let Some(chunk) = stream.next().await {
        chunk.unwrap();
    }
    let usage = stream.usage().unwrap().clone();
    assert_eq!(usage.total_tokens, 12);
    assert_eq!(usage.cost_msats(), Some(1234));
    assert_eq!(usage.remaining_balance_msats, Some(98766));
    assert_eq!(usage.cost_sats, Some(1.234));
    assert_eq!(usage.extra["provider_latency_ms"], 42);
    match &usage.cost {
        Some(Cost::Breakdown(b)) => assert_eq!(b.input_msats, Some(700)),
        other => panic!("{other:?}"),
    }
    assert_eq!(stream.cost_msats(), Some(1234));
    assert_eq!(
        stream.headers()["x-cashu"].to_str().unwrap(),
        "cashuAchange-token"
    );
    assert!(
        !format!("{:?}", stream.meta()).contains("cashuAchange"),
        "change tokens stay out of Debug"
    );
    let completion = stream.collect_completion().await.unwrap();
    assert_eq!(completion.usage, Some(usage));
    assert_eq!(completion.content(), Some("Hi there"));
}

#[tokio::test]
async fn unknown_fields_and_enum_values_decode() {
    let server = MockServer::start().await;
    let events = [
        ": OPENROUTER PROCESSING",
        r#"data: {"id":"c9","provider":"SomeCloud","object":"chat.completion.chunk","created":1732250000.5,"model":"m","choices":[{"index":0,"delta":{"role":"model","content":"Hel","reasoning_content":"think","native_finish_reason":null},"finish_reason":null,"extra":{"a":1}}],"usage":null}"#,
        r#"data: {"id":"c9","object":"chat.completion.chunk","created":1732250000,"model":"m","choices":null}"#,
        r#"data: {"id":"c9","object":"chat.completion.chunk","created":null,"model":"m","choices":[{"index":0,"delta":{"content":"lo","tool_calls":null},"finish_reason":"eos","logprobs":{"content":[{"token":"lo"}]}}]}"#,
        "event: ping\ndata: {\"t\": 1}",
        "data: [DONE]",
    ];
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"stream": true})))
        .respond_with(sse_response(sse(&events)))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "c9", "object": "chat.completion", "created": "1732250000", "model": "m",
            "provider": "SomeCloud",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello", "refusal": null,
                "reasoning": "think", "tool_calls": null, "audio": null}, "finish_reason": "eos",
                "native_finish_reason": "end_of_turn"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5,
                "prompt_tokens_details": {"cached_tokens": 1}, "cost": 0.0012, "is_byok": false}
        })))
        .with_priority(2)
        .mount(&server)
        .await;

    let client = client(&server.uri());
    let plain = client.chat().create(req()).await.unwrap();
    assert_eq!(plain.created, 1_732_250_000);
    assert_eq!(plain.content(), Some("Hello"));
    assert_eq!(
        plain.finish_reason(),
        Some(&FinishReason::Unknown("eos".into()))
    );
    let usage = plain.usage.as_ref().unwrap();
    assert_eq!(usage.cost, Some(Cost::Amount(0.0012)));
    assert_eq!(usage.cost_msats(), None);
    assert_eq!(usage.extra["is_byok"], false);

    let mut stream = client.chat().stream(req()).await.unwrap();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(
        first.choices[0].delta.role,
        Some(Role::Unknown("model".into()))
    );
    assert_eq!(first.created, 1_732_250_001);
    let rest: Vec<_> = stream.by_ref().collect().await;
    assert_eq!(rest.len(), 2, "the named `ping` event is skipped");
    assert!(rest.iter().all(Result::is_ok));
    assert!(stream.is_done());
    let c = stream.completion();
    assert_eq!(c.content(), Some("Hello"));
    assert_eq!(c.choices[0].message.reasoning.as_deref(), Some("think"));
    assert_eq!(c.finish_reason().map(FinishReason::as_str), Some("eos"));
    assert!(!c.finish_reason().unwrap().is_known());
    assert_eq!(
        c.choices[0].logprobs,
        Some(json!({"content": [{"token": "lo"}]}))
    );
}

#[tokio::test]
async fn error_envelopes() {
    let server = MockServer::start().await;
    // A named `error` event.
    Mock::given(method("POST"))
        .and(path("/a/v1/chat/completions"))
        .respond_with(sse_response(sse(&[
            CHUNK_A,
            "event: error\ndata: {\"error\":{\"message\":\"upstream overloaded\",\"type\":\"overloaded_error\",\"code\":\"overloaded\"}}",
        ])))
        .mount(&server)
        .await;
    // JSON where a stream was expected.
    Mock::given(method("POST"))
        .and(path("/b/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "detail": {"error": {"message": "Insufficient balance", "code": "insufficient_balance"}}
        })))
        .mount(&server)
        .await;
    // 200 with an error object to a plain call.
    Mock::given(method("POST"))
        .and(path("/c/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "error": {"message": "model crashed", "code": 502}
        })))
        .mount(&server)
        .await;
    // 402 before the stream starts.
    Mock::given(method("POST"))
        .and(path("/d/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(402).set_body_json(json!({
            "detail": {"error": {"message": "Insufficient balance", "code": "insufficient_balance"}},
            "request_id": "rq-9"
        })))
        .mount(&server)
        .await;

    let client = client(&server.uri());
    let err = client
        .chat()
        .stream_for_model("a", req())
        .await
        .unwrap()
        .collect_completion()
        .await
        .unwrap_err();
    match &err {
        Error::Stream { partial, body, .. } => {
            assert_eq!(partial, "Hi");
            assert_eq!(
                body.as_deref().and_then(ApiErrorBody::kind),
                Some("overloaded_error")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("upstream overloaded"), "{err}");

    let err = client
        .chat()
        .stream_for_model("b", req())
        .await
        .unwrap_err();
    match &err {
        Error::Stream {
            body: Some(body), ..
        } => {
            assert_eq!(
                body.code().map(ToString::to_string).as_deref(),
                Some("insufficient_balance")
            );
        }
        other => panic!("{other:?}"),
    }

    let err = client
        .chat()
        .create_for_model("c", req())
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
    assert!(err.to_string().contains("model crashed"), "{err}");

    let err = client
        .chat()
        .stream_for_model("d", req())
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(402));
    assert_eq!(err.request_id(), Some("rq-9"));
}

#[tokio::test]
async fn request_body_shape() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(sse_response(sse(&[CHUNK_A, "data: [DONE]"])))
        .mount(&server)
        .await;
    let request = req()
        .temperature(0.5)
        .stop("END")
        .seed(7)
        .logit_bias(50256, -100.0)
        .response_format(ResponseFormat::JsonObject)
        .include_usage(true)
        .extra("min_p", 0.1);
    client(&server.uri())
        .chat()
        .stream(request)
        .await
        .unwrap()
        .collect_completion()
        .await
        .unwrap();
    let sent = &server.received_requests().await.unwrap()[0];
    let body: serde_json::Value = serde_json::from_slice(&sent.body).unwrap();
    assert_eq!(
        body,
        json!({
            "model": "mymodel",
            "messages": [{"role": "user", "content": "hi"}],
            "temperature": 0.5,
            "stream": true,
            "stream_options": {"include_usage": true},
            "stop": "END",
            "logit_bias": {"50256": -100.0},
            "response_format": {"type": "json_object"},
            "seed": 7,
            "min_p": 0.1
        })
    );
    assert_eq!(sent.headers["authorization"], "Bearer sk-test-secret");
}

/// Reads one request's head and body (small; reqwest sends `Content-Length`).
async fn read_request(sock: &mut tokio::net::TcpStream) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut seen = Vec::new();
    loop {
        let n = sock.read(&mut buf).await.unwrap();
        assert!(n > 0, "the client hung up before its request was complete");
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

/// A raw HTTP/1.1 server that streams one event every few milliseconds (at most a few
/// thousand, so it always stops by itself) and reports whether its writes started failing,
/// i.e. whether the client closed the connection. With `stall_after`, it goes silent after
/// that many events (keeping the connection open for a while).
async fn endless_sse_server(
    stall_after: Option<usize>,
) -> (String, tokio::sync::oneshot::Receiver<bool>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        read_request(&mut sock).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
        sock.write_all(head.as_bytes()).await.unwrap();
        let mut closed = false;
        for i in 0..4000 {
            if stall_after == Some(i) {
                tokio::time::sleep(Duration::from_secs(20)).await;
                break;
            }
            let event = format!(
                "data: {{\"id\":\"c\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"w{i} \"}}}}]}}\n\n"
            );
            let frame = format!("{:x}\r\n{event}\r\n", event.len());
            if sock.write_all(frame.as_bytes()).await.is_err() || sock.flush().await.is_err() {
                closed = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let _ = tx.send(closed);
    });
    (url, rx)
}

#[tokio::test]
async fn dropping_the_stream_closes_the_connection() {
    let (url, closed) = endless_sse_server(None).await;
    let mut stream = client(&url).chat().stream(req()).await.unwrap();
    for i in 0..3 {
        let chunk = stream.next().await.unwrap().unwrap();
        assert_eq!(chunk.content(), Some(format!("w{i} ").as_str()));
    }
    drop(stream);
    // The server notices within a few writes; the bound only keeps a broken build from
    // hanging (the server gives up by itself after 4000 events, ~20 s).
    let closed = tokio::time::timeout(Duration::from_secs(60), closed)
        .await
        .expect("the server finished")
        .unwrap();
    assert!(closed, "the server saw the connection close");
}

#[tokio::test]
async fn an_idle_stream_times_out_keeping_the_partial_text() {
    let (url, _closed) = endless_sse_server(Some(2)).await;
    let result = client(&url)
        .chat()
        .request(req())
        .idle_timeout(Duration::from_millis(300))
        .stream()
        .await
        .unwrap()
        .collect_completion()
        .await;
    match result {
        Err(Error::Stream {
            message, partial, ..
        }) => {
            assert!(message.contains("no data received"), "{message}");
            assert_eq!(partial, "w0 w1 ");
        }
        other => panic!("{other:?}"),
    }
}

/// A raw server that reads one request, writes `response` and then keeps the connection
/// open without a word for a minute.
async fn stalling_server(response: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        read_request(&mut sock).await;
        sock.write_all(response.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_secs(60)).await;
    });
    url
}

#[tokio::test]
async fn a_stalled_non_event_stream_answer_is_reported_within_the_timeout() {
    let url = stalling_server(
        "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ntransfer-encoding: chunked\r\n\r\n10\r\n<html>login page\r\n",
    )
    .await;
    let client = Client::builder()
        .api_key("sk-test-secret")
        .mimic_base_url(&url)
        .max_retries(0)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    // The bound only keeps a broken build from hanging for the server's whole minute.
    let result = tokio::time::timeout(Duration::from_secs(30), client.chat().stream(req()))
        .await
        .expect("the start of the body is read within the client's timeout");
    match result {
        Err(Error::Stream { message, .. }) => {
            assert!(message.contains("text/html"), "{message}");
            assert!(message.contains("<html>login page"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}
