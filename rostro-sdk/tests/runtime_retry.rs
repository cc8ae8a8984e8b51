//! Retry behaviour of the request runtime against a real HTTP mock server.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use rostro_sdk::request::{Base, FilePart, HttpMethod, Operation, Part, Request, RequestOptions};
use rostro_sdk::{CallOptions, Client, ClientBuilder, Error};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-test-0123456789abcdef";

static GET_THING: Operation = Operation {
    id: "get_thing",
    method: HttpMethod::Get,
    path: "/api/thing",
    base: Base::Api,
};

static CREATE_THING: Operation = Operation {
    id: "create_thing",
    method: HttpMethod::Post,
    path: "/api/thing",
    base: Base::Api,
};

static UPLOAD: Operation = Operation {
    id: "upload_file",
    method: HttpMethod::Post,
    path: "/api/upload",
    base: Base::Api,
};

fn fast(server: &MockServer) -> ClientBuilder {
    Client::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .initial_retry_delay(Duration::from_millis(1))
        .max_retry_delay(Duration::from_millis(5))
}

async fn fail_first(
    server: &MockServer,
    verb: &str,
    p: &str,
    times: u64,
    template: ResponseTemplate,
) {
    Mock::given(method(verb))
        .and(path(p))
        .respond_with(template)
        .up_to_n_times(times)
        .with_priority(1)
        .mount(server)
        .await;
}

async fn then_ok(server: &MockServer, verb: &str, p: &str) {
    Mock::given(method(verb))
        .and(path(p))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(server)
        .await;
}

#[tokio::test]
async fn retry_after_header_is_honoured() {
    let server = MockServer::start().await;
    fail_first(
        &server,
        "GET",
        "/api/thing",
        1,
        ResponseTemplate::new(429).insert_header("Retry-After", "1"),
    )
    .await;
    then_ok(&server, "GET", "/api/thing").await;
    let client = fast(&server).build().unwrap();

    let start = Instant::now();
    let resp = client
        .execute::<Value>(Request::new(&GET_THING))
        .await
        .unwrap();
    let elapsed = start.elapsed();

    assert!(
        elapsed >= Duration::from_millis(950),
        "Retry-After: 1 was not honoured, retried after {elapsed:?}"
    );
    assert_eq!(resp.meta().attempts, 2);
    assert_eq!(resp.value(), &json!({"ok": true}));
}

#[tokio::test]
async fn retries_503_twice_then_succeeds() {
    let server = MockServer::start().await;
    fail_first(&server, "GET", "/api/thing", 2, ResponseTemplate::new(503)).await;
    then_ok(&server, "GET", "/api/thing").await;
    let client = fast(&server).build().unwrap();

    let resp = client
        .execute::<Value>(Request::new(&GET_THING))
        .await
        .unwrap();
    assert_eq!(resp.meta().attempts, 3);
    assert_eq!(resp.meta().status, 200);

    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 3);
    let counts: Vec<Option<&str>> = received
        .iter()
        .map(|r| {
            r.headers
                .get("x-rostro-retry-count")
                .map(|v| v.to_str().unwrap())
        })
        .collect();
    assert_eq!(counts, [None, Some("1"), Some("2")]);
}

#[tokio::test]
async fn retries_are_exhausted_with_the_last_error() {
    let server = MockServer::start().await;
    fail_first(&server, "GET", "/api/thing", 10, ResponseTemplate::new(502)).await;
    let client = fast(&server).max_retries(3).build().unwrap();

    let err = client
        .execute::<Value>(Request::new(&GET_THING))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
    assert!(err.is_retryable());
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
}

#[tokio::test]
async fn per_call_max_retries_zero_disables_retries() {
    let server = MockServer::start().await;
    fail_first(&server, "GET", "/api/thing", 10, ResponseTemplate::new(503)).await;
    let client = fast(&server).build().unwrap();

    let mut req = Request::new(&GET_THING);
    req.options(RequestOptions::default().max_retries(0));
    let err = client.execute::<Value>(req).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn non_retryable_status_is_not_retried() {
    let server = MockServer::start().await;
    fail_first(&server, "GET", "/api/thing", 10, ResponseTemplate::new(404)).await;
    let client = fast(&server).build().unwrap();

    let err = client
        .execute::<Value>(Request::new(&GET_THING))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert!(!err.is_retryable());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn post_is_not_retried_without_idempotency_key() {
    let server = MockServer::start().await;
    fail_first(
        &server,
        "POST",
        "/api/thing",
        10,
        ResponseTemplate::new(500),
    )
    .await;
    then_ok(&server, "POST", "/api/thing").await;
    let client = fast(&server).build().unwrap();

    let mut req = Request::new(&CREATE_THING);
    req.json_body(&json!({"name": "x"})).unwrap();
    let err = client.execute::<Value>(req).await.unwrap_err();

    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1, "a POST must not be repeated after a 500");
    assert!(received[0].headers.get("idempotency-key").is_none());
}

#[tokio::test]
async fn idempotent_posts_reuse_one_generated_key_on_every_attempt() {
    let server = MockServer::start().await;
    fail_first(&server, "POST", "/api/thing", 2, ResponseTemplate::new(500)).await;
    then_ok(&server, "POST", "/api/thing").await;
    let client = fast(&server).idempotent_posts(true).build().unwrap();

    let mut req = Request::new(&CREATE_THING);
    req.json_body(&json!({"name": "x"})).unwrap();
    let resp = client.execute::<Value>(req).await.unwrap();
    assert_eq!(resp.meta().attempts, 3);

    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 3);
    let keys: Vec<&str> = received
        .iter()
        .map(|r| r.headers.get("idempotency-key").unwrap().to_str().unwrap())
        .collect();
    assert!(keys.iter().all(|k| *k == keys[0]), "keys differ: {keys:?}");
    assert_eq!(keys[0].len(), 36, "expected a uuid, got {}", keys[0]);
    assert!(
        received
            .iter()
            .all(|r| r.body_json::<Value>().unwrap() == json!({"name": "x"}))
    );

    // A second logical call gets a fresh key.
    let mut req = Request::new(&CREATE_THING);
    req.json_body(&json!({"name": "y"})).unwrap();
    client.execute::<Value>(req).await.unwrap();
    let received = server.received_requests().await.unwrap();
    let fresh = received[3].headers.get("idempotency-key").unwrap();
    assert_ne!(fresh.to_str().unwrap(), keys[0]);
}

#[tokio::test]
async fn explicit_idempotency_key_is_sent_and_enables_post_retries() {
    let server = MockServer::start().await;
    fail_first(&server, "POST", "/api/thing", 1, ResponseTemplate::new(503)).await;
    then_ok(&server, "POST", "/api/thing").await;
    let client = fast(&server).build().unwrap();

    let mut req = Request::new(&CREATE_THING);
    req.json_body(&json!({})).unwrap();
    req.options(RequestOptions::default().idempotency_key("order-42"));
    let resp = client.execute::<Value>(req).await.unwrap();
    assert_eq!(resp.meta().attempts, 2);
    let received = server.received_requests().await.unwrap();
    assert!(
        received
            .iter()
            .all(|r| r.headers.get("idempotency-key").unwrap() == "order-42")
    );
}

#[tokio::test]
async fn long_retry_after_is_not_retried() {
    let server = MockServer::start().await;
    fail_first(
        &server,
        "GET",
        "/api/thing",
        10,
        ResponseTemplate::new(429)
            .insert_header("Retry-After", "3600")
            .set_body_json(json!({"error": {"message": "slow down", "type": "rate_limit"}})),
    )
    .await;
    let client = fast(&server).build().unwrap();

    let err = client
        .execute::<Value>(Request::new(&GET_THING))
        .await
        .unwrap_err();
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert!(err.is_rate_limited());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
    let msg = err.to_string();
    assert!(msg.contains("3600s"), "{msg}");
    assert!(msg.contains("get_thing") && msg.contains("429"), "{msg}");
    assert!(msg.contains("slow down"), "{msg}");
}

#[tokio::test]
async fn rate_limit_reset_timestamp_far_away_is_not_retried() {
    let server = MockServer::start().await;
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    fail_first(
        &server,
        "GET",
        "/api/thing",
        10,
        ResponseTemplate::new(429).insert_header("X-RateLimit-Reset", reset.to_string().as_str()),
    )
    .await;
    let client = fast(&server).build().unwrap();

    let err = client
        .execute::<Value>(Request::new(&GET_THING))
        .await
        .unwrap_err();
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    let wait = err.retry_after().unwrap();
    assert!(wait > Duration::from_secs(500), "{wait:?}");
}

#[tokio::test]
async fn timeouts_are_retried_for_get_and_reported() {
    let server = MockServer::start().await;
    fail_first(
        &server,
        "GET",
        "/api/thing",
        10,
        ResponseTemplate::new(200).set_delay(Duration::from_secs(5)),
    )
    .await;
    let client = fast(&server)
        .timeout(Duration::from_millis(200))
        .max_retries(1)
        .build()
        .unwrap();

    let err = client
        .execute::<Value>(Request::new(&GET_THING))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(err.is_timeout() && err.is_retryable());
    assert!(err.to_string().contains("get_thing"), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn post_timeout_is_not_retried_without_key() {
    let server = MockServer::start().await;
    fail_first(
        &server,
        "POST",
        "/api/thing",
        10,
        ResponseTemplate::new(200).set_delay(Duration::from_secs(5)),
    )
    .await;
    let client = fast(&server).build().unwrap();

    let req = Request::new(&CREATE_THING).request_timeout(Duration::from_millis(200));
    let err = client.execute::<Value>(req).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn connect_errors_are_retried_even_for_post() {
    // A port nobody listens on.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = Client::builder()
        .api_key(KEY)
        .base_url(format!("http://127.0.0.1:{port}"))
        .initial_retry_delay(Duration::from_millis(200))
        .max_retry_delay(Duration::from_millis(200))
        .build()
        .unwrap();
    let mut req = Request::new(&CREATE_THING);
    req.json_body(&json!({})).unwrap();
    let start = Instant::now();
    let err = client.execute::<Value>(req).await.unwrap_err();
    // Two backoff waits of 150-200 ms each (a single retry would wait at most 200 ms).
    assert!(
        start.elapsed() >= Duration::from_millis(300),
        "expected two retries, took {:?}",
        start.elapsed()
    );

    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("create_thing: could not connect"),
        "{err}"
    );
}

fn temp_file(contents: &[u8]) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("rostro-runtime-{}.bin", uuid::Uuid::new_v4()));
    std::fs::write(&p, contents).unwrap();
    p
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[tokio::test]
async fn multipart_file_from_path_is_resent_intact_on_retry() {
    let contents: Vec<u8> = (0..=255u8).cycle().take(200_000).collect();
    let file = temp_file(&contents);

    let server = MockServer::start().await;
    fail_first(
        &server,
        "POST",
        "/api/upload",
        1,
        ResponseTemplate::new(503),
    )
    .await;
    then_ok(&server, "POST", "/api/upload").await;
    let client = fast(&server).build().unwrap();

    let mut req = Request::new(&UPLOAD);
    req.multipart(vec![
        ("purpose".to_owned(), Part::text("avatar")),
        (
            "file".to_owned(),
            Part::File(FilePart::from_path(&file).file_name("pic.png")),
        ),
    ]);
    req.options(RequestOptions::default().idempotency_key("upload-1"));
    let resp = client.execute::<Value>(req).await.unwrap();
    assert_eq!(resp.meta().attempts, 2);
    std::fs::remove_file(&file).unwrap();

    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    for r in &received {
        let ct = r.headers.get("content-type").unwrap().to_str().unwrap();
        assert!(ct.starts_with("multipart/form-data; boundary="), "{ct}");
        let len: usize = r
            .headers
            .get("content-length")
            .expect("file parts have a known length")
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(len, r.body.len());
        let at = find(&r.body, &contents).expect("file bytes are in the body");
        let head = String::from_utf8_lossy(&r.body[..at]);
        assert!(head.contains("name=\"purpose\""), "{head}");
        assert!(head.contains("avatar"), "{head}");
        assert!(head.contains("filename=\"pic.png\""), "{head}");
        assert!(head.contains("Content-Type: image/png"), "{head}");
        // Exactly the file, followed by the closing boundary.
        assert!(r.body[at + contents.len()..].starts_with(b"\r\n--"));
    }
}

#[tokio::test]
async fn missing_upload_file_is_an_io_error_naming_the_path() {
    let server = MockServer::start().await;
    let client = fast(&server).build().unwrap();
    let mut req = Request::new(&UPLOAD);
    req.multipart(vec![(
        "file".to_owned(),
        Part::File(FilePart::from_path("/definitely/not/here.png")),
    )]);
    let err = client.execute::<Value>(req).await.unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(
        err.to_string().contains("/definitely/not/here.png"),
        "{err}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[test]
fn execute_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let client = Client::builder().build().unwrap();
    let fut = client.execute::<Value>(Request::new(&GET_THING));
    assert_send(&fut);
    let raw = client.execute_raw(Request::new(&GET_THING));
    assert_send(&raw);
}

#[tokio::test]
async fn per_call_idempotent_retries_override_the_client_setting() {
    let server = MockServer::start().await;
    fail_first(&server, "POST", "/api/thing", 1, ResponseTemplate::new(503)).await;
    then_ok(&server, "POST", "/api/thing").await;

    // Client default off, call opts in: a key is generated and the POST retried.
    let client = fast(&server).build().unwrap();
    let mut req = Request::new(&CREATE_THING).idempotent_retries(true);
    req.json_body(&json!({})).unwrap();
    let resp = client.execute::<Value>(req).await.unwrap();
    assert_eq!(resp.meta().attempts, 2);
    let received = server.received_requests().await.unwrap();
    let key = received[0].headers.get("idempotency-key").unwrap();
    assert_eq!(received[1].headers.get("idempotency-key"), Some(key));

    // Client default on, call opts out: no key, no retry.
    server.reset().await;
    fail_first(&server, "POST", "/api/thing", 1, ResponseTemplate::new(503)).await;
    then_ok(&server, "POST", "/api/thing").await;
    let client = fast(&server).idempotent_posts(true).build().unwrap();
    let req = Request::new(&CREATE_THING)
        .with_options(RequestOptions::default().idempotent_retries(false));
    let err = client.execute::<Value>(req).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    assert!(received[0].headers.get("idempotency-key").is_none());
}

static CHAT: Operation = Operation {
    id: "chat_create",
    method: HttpMethod::Post,
    path: "/v1/chat/completions",
    base: Base::Mimic,
};

fn chat_ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "c", "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}]
    }))
}

#[tokio::test]
async fn a_429_is_retried_for_post_chat_honouring_the_wait() {
    let server = MockServer::start().await;
    fail_first(
        &server,
        "POST",
        "/v1/chat/completions",
        2,
        ResponseTemplate::new(429).insert_header("retry-after-ms", "50"),
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(chat_ok())
        .mount(&server)
        .await;
    let client = fast(&server).build().unwrap();
    let started = Instant::now();
    let req = rostro_sdk::chat::ChatCompletionRequest::new(
        "m",
        vec![rostro_sdk::chat::Message::user("hi")],
    );
    let answer = client.chat().create(req.clone()).await.unwrap();
    assert_eq!(answer.content(), Some("hi"));
    assert!(
        started.elapsed() >= Duration::from_millis(100),
        "waited twice"
    );
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 3, "429, 429, then 200");
    assert!(
        received
            .iter()
            .all(|r| r.headers.get("idempotency-key").is_none())
    );

    // A stream's opening too.
    server.reset().await;
    fail_first(
        &server,
        "POST",
        "/v1/chat/completions",
        1,
        ResponseTemplate::new(429).insert_header("retry-after", "0"),
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"s\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
            "text/event-stream",
        ))
        .mount(&server)
        .await;
    let stream = client.chat().stream(req).await.unwrap();
    assert_eq!(stream.meta().attempts, 2);
    assert_eq!(
        stream.collect_completion().await.unwrap().content(),
        Some("s")
    );
}

#[tokio::test]
async fn a_503_with_retry_after_is_retried_for_post_a_bare_503_is_not() {
    let server = MockServer::start().await;
    fail_first(
        &server,
        "POST",
        "/api/thing",
        1,
        ResponseTemplate::new(503).insert_header("retry-after", "0"),
    )
    .await;
    then_ok(&server, "POST", "/api/thing").await;
    let client = fast(&server).build().unwrap();
    let mut req = Request::new(&CREATE_THING);
    req.json_body(&json!({"name": "x"})).unwrap();
    client.execute::<Value>(req).await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 2);

    // Without a wait a 503 may come from a server that started the work: not repeated.
    server.reset().await;
    fail_first(&server, "POST", "/api/thing", 1, ResponseTemplate::new(503)).await;
    then_ok(&server, "POST", "/api/thing").await;
    let mut req = Request::new(&CREATE_THING);
    req.json_body(&json!({"name": "x"})).unwrap();
    let err = client.execute::<Value>(req).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    // 502 and 504 keep needing a key.
    for status in [502, 504] {
        server.reset().await;
        fail_first(
            &server,
            "POST",
            "/v1/chat/completions",
            1,
            ResponseTemplate::new(status),
        )
        .await;
        Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(chat_ok())
            .mount(&server)
            .await;
        let mut req = Request::new(&CHAT);
        req.json_body(&json!({"model": "m"})).unwrap();
        assert!(client.execute::<Value>(req).await.is_err());
        assert_eq!(
            server.received_requests().await.unwrap().len(),
            1,
            "{status}"
        );
    }
}
