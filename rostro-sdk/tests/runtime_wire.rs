//! What the runtime puts on the wire: URLs, auth headers, parameters, bodies, metadata.

use std::time::Duration;

use bytes::Bytes;
use rostro_sdk::request::{Base, FilePart, HttpMethod, Operation, Part, Request, RequestOptions};
use rostro_sdk::{AuthStyle, CallOptions, Client, ClientBuilder, Error};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "ch-key-abc123";

static GET_PROJECT: Operation = Operation {
    id: "get_project",
    method: HttpMethod::Get,
    path: "/api/gallery/project/{project_id}",
    base: Base::Api,
};

static SEARCH: Operation = Operation {
    id: "search",
    method: HttpMethod::Get,
    path: "/search",
    base: Base::Api,
};

static CHAT: Operation = Operation {
    id: "create_chat_completion",
    method: HttpMethod::Post,
    path: "/v1/chat/completions",
    base: Base::Mimic,
};

static UPDATE: Operation = Operation {
    id: "update_thing",
    method: HttpMethod::Put,
    path: "/api/thing/{id}/sub/{sub}",
    base: Base::Api,
};

static UPLOAD: Operation = Operation {
    id: "upload",
    method: HttpMethod::Post,
    path: "/api/upload",
    base: Base::Api,
};

fn builder(server: &MockServer) -> ClientBuilder {
    Client::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .initial_retry_delay(Duration::from_millis(1))
        .max_retry_delay(Duration::from_millis(5))
}

async fn ok_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&server)
        .await;
    server
}

async fn last_request(server: &MockServer) -> wiremock::Request {
    server.received_requests().await.unwrap().pop().unwrap()
}

fn header<'a>(r: &'a wiremock::Request, name: &str) -> Option<&'a str> {
    r.headers.get(name).map(|v| v.to_str().unwrap())
}

fn project(id: &str) -> Request {
    let mut req = Request::new(&GET_PROJECT);
    req.path_param("project_id", id);
    req
}

#[tokio::test]
async fn bearer_auth_and_default_headers() {
    let server = ok_server().await;
    let client = builder(&server)
        .default_header("x-app", "tests")
        .build()
        .unwrap();
    client.execute::<Value>(project("1")).await.unwrap();
    let r = last_request(&server).await;
    assert_eq!(header(&r, "authorization"), Some("Bearer ch-key-abc123"));
    assert_eq!(header(&r, "ch-api-key"), None);
    assert_eq!(header(&r, "samwise"), None);
    assert_eq!(
        header(&r, "user-agent"),
        Some(concat!("rostro-sdk/", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(header(&r, "accept"), Some("application/json"));
    assert_eq!(header(&r, "x-app"), Some("tests"));
    assert_eq!(header(&r, "x-rostro-retry-count"), None);
}

#[tokio::test]
async fn chub_header_auth() {
    let server = ok_server().await;
    let client = builder(&server)
        .auth_style(AuthStyle::ChubHeaders)
        .user_agent("my-app/1.0")
        .build()
        .unwrap();
    client.execute::<Value>(project("1")).await.unwrap();
    let r = last_request(&server).await;
    assert_eq!(header(&r, "ch-api-key"), Some(KEY));
    assert_eq!(header(&r, "samwise"), Some(KEY));
    assert_eq!(header(&r, "authorization"), None);
    assert_eq!(header(&r, "user-agent"), Some("my-app/1.0"));
}

#[tokio::test]
async fn no_key_or_auth_none_sends_no_credentials() {
    let server = ok_server().await;
    let anonymous = Client::builder().base_url(server.uri()).build().unwrap();
    assert!(!anonymous.has_api_key());
    anonymous.execute::<Value>(project("1")).await.unwrap();
    let with_none = builder(&server)
        .auth_style(AuthStyle::None)
        .build()
        .unwrap();
    assert!(with_none.has_api_key());
    with_none.execute::<Value>(project("2")).await.unwrap();
    for r in server.received_requests().await.unwrap() {
        for name in ["authorization", "ch-api-key", "samwise"] {
            assert_eq!(header(&r, name), None, "{name}");
        }
    }
}

#[tokio::test]
async fn path_params_are_percent_encoded() {
    let server = ok_server().await;
    let client = builder(&server).build().unwrap();
    client
        .execute::<Value>(project("a b/c?d#e%f"))
        .await
        .unwrap();
    let mut req = Request::new(&UPDATE);
    req.path_param("id", 42);
    req.path_param("sub", "ünï");
    client.execute::<Value>(req).await.unwrap();

    let received = server.received_requests().await.unwrap();
    assert_eq!(
        received[0].url.path(),
        "/api/gallery/project/a%20b%2Fc%3Fd%23e%25f"
    );
    assert_eq!(received[0].url.query(), None);
    assert_eq!(received[1].url.path(), "/api/thing/42/sub/%C3%BCn%C3%AF");
    assert_eq!(received[1].method.as_str(), "PUT");
}

#[tokio::test]
async fn query_and_extra_query_arrive_in_order() {
    let server = ok_server().await;
    let client = builder(&server).build().unwrap();
    let mut req = Request::new(&SEARCH);
    req.query("search", "elf & dwarf");
    req.query("topics", "fantasy");
    req.query("topics", "sci-fi");
    let req = req.extra_query("first", "20").extra_query("x y", "1+1");
    client.execute::<Value>(req).await.unwrap();
    let r = last_request(&server).await;
    assert_eq!(
        r.url.query(),
        Some("search=elf+%26+dwarf&topics=fantasy&topics=sci-fi&first=20&x+y=1%2B1")
    );
    let pairs: Vec<(String, String)> = r.url.query_pairs().into_owned().collect();
    assert_eq!(pairs[0], ("search".into(), "elf & dwarf".into()));
    assert_eq!(pairs[4], ("x y".into(), "1+1".into()));
}

#[tokio::test]
async fn json_body_with_extra_fields_and_headers() {
    let server = ok_server().await;
    let client = builder(&server).build().unwrap();
    let mut req = Request::new(&CHAT);
    req.json_body(&json!({"model": "m", "temperature": 0.5}))
        .unwrap();
    let opts = RequestOptions::default()
        .extra_body_field("min_p", 0.1)
        .extra_body_field("temperature", 1.0)
        .extra_header("X-Cashu", "cashuAtoken")
        .extra_header("accept", "text/event-stream");
    req.options(opts);
    client.execute::<Value>(req).await.unwrap();
    let r = last_request(&server).await;
    assert_eq!(
        r.body_json::<Value>().unwrap(),
        json!({"model": "m", "temperature": 1.0, "min_p": 0.1})
    );
    // Field order is preserved (the merge keeps the original order, appends new fields).
    assert_eq!(
        std::str::from_utf8(&r.body).unwrap(),
        r#"{"model":"m","temperature":1.0,"min_p":0.1}"#
    );
    assert_eq!(header(&r, "content-type"), Some("application/json"));
    assert_eq!(header(&r, "x-cashu"), Some("cashuAtoken"));
    assert_eq!(header(&r, "accept"), Some("text/event-stream"));
    assert_eq!(r.url.path(), "/v1/chat/completions");
}

#[tokio::test]
async fn extra_body_fields_without_a_body_become_the_body() {
    let server = ok_server().await;
    let client = builder(&server).build().unwrap();
    let req = Request::new(&CHAT).extra_body_field("model", "m");
    client.execute::<Value>(req).await.unwrap();
    let r = last_request(&server).await;
    assert_eq!(r.body_json::<Value>().unwrap(), json!({"model": "m"}));
}

#[tokio::test]
async fn mimic_base_url_with_a_path_prefix() {
    let server = ok_server().await;
    let client = builder(&server)
        .base_url("http://unused.invalid")
        .mimic_base_url(format!("{}/chub/mymodel/", server.uri()))
        .build()
        .unwrap();
    assert_eq!(
        client.mimic_base_url(),
        format!("{}/chub/mymodel", server.uri())
    );
    assert_eq!(client.base_url(), "http://unused.invalid");
    let mut req = Request::new(&CHAT);
    req.json_body(&json!({})).unwrap();
    client.execute::<Value>(req).await.unwrap();
    let r = last_request(&server).await;
    assert_eq!(r.url.path(), "/chub/mymodel/v1/chat/completions");
}

#[tokio::test]
async fn default_mimic_base_is_the_api_base() {
    let client = Client::builder().build().unwrap();
    assert_eq!(client.base_url(), "https://api.rostro.dev");
    assert_eq!(client.mimic_base_url(), "https://api.rostro.dev");
    assert_eq!(client.max_retries(), 2);
    assert_eq!(client.timeout(), Duration::from_secs(600));
    assert_eq!(client.auth_style(), AuthStyle::Bearer);
}

#[tokio::test]
async fn rate_limit_headers_surface_in_meta() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-RateLimit-Limit", "100")
                .insert_header("X-RateLimit-Remaining", "97")
                .insert_header("X-RateLimit-Reset", "30")
                .insert_header("x-routstr-request-id", "rt-abc")
                .set_body_json(json!([1, 2, 3])),
        )
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();
    let resp = client.execute::<Vec<u32>>(project("1")).await.unwrap();
    let meta = resp.meta();
    let rl = meta.rate_limit.expect("rate limit headers");
    assert_eq!(rl.limit, Some(100));
    assert_eq!(rl.remaining, Some(97));
    assert_eq!(rl.reset, Some(30));
    assert_eq!(rl.reset_after(), Some(Duration::from_secs(30)));
    assert_eq!(meta.request_id.as_deref(), Some("rt-abc"));
    assert_eq!(meta.attempts, 1);
    assert_eq!(meta.headers.get("x-ratelimit-limit").unwrap(), "100");
    assert_eq!(resp.len(), 3); // Deref to the value
    let (value, meta) = resp.into_parts();
    assert_eq!(value, vec![1, 2, 3]);
    assert_eq!(meta.status, 200);

    // No rate-limit headers: no RateLimit.
    let server = ok_server().await;
    let client = builder(&server).build().unwrap();
    let resp = client.execute::<Value>(project("1")).await.unwrap();
    assert!(resp.meta().rate_limit.is_none());
    assert!(resp.meta().request_id.is_none());
}

#[tokio::test]
async fn multipart_text_and_in_memory_file() {
    let server = ok_server().await;
    let client = builder(&server).build().unwrap();
    let mut req = Request::new(&UPLOAD);
    req.multipart(vec![
        ("name".to_owned(), Part::text("bob")),
        (
            "file".to_owned(),
            Part::File(FilePart::from_bytes(
                "a \"b\".txt",
                Bytes::from_static(b"hello world"),
            )),
        ),
    ]);
    let req = req.extra_body_field("tags", json!(["x"]));
    client.execute::<Value>(req).await.unwrap();
    let r = last_request(&server).await;
    let body = String::from_utf8(r.body.clone()).unwrap();
    assert!(body.contains("name=\"name\"\r\n\r\nbob\r\n"), "{body}");
    assert!(body.contains("filename=\"a %22b%22.txt\""), "{body}");
    assert!(
        body.contains("Content-Type: text/plain\r\n\r\nhello world\r\n"),
        "{body}"
    );
    assert!(body.contains("name=\"tags\"\r\n\r\n[\"x\"]\r\n"), "{body}");
}

#[tokio::test]
async fn multipart_file_on_idempotent_put_is_resent_on_retry() {
    let contents: Vec<u8> = (0..50_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let file = std::env::temp_dir().join(format!("rostro-wire-{}.dat", uuid::Uuid::new_v4()));
    std::fs::write(&file, &contents).unwrap();

    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();
    let mut req = Request::new(&UPDATE);
    req.path_param("id", 1);
    req.path_param("sub", 2);
    req.multipart(vec![(
        "file".to_owned(),
        Part::File(FilePart::from_path(&file)),
    )]);
    let resp = client.execute::<Value>(req).await.unwrap();
    std::fs::remove_file(&file).unwrap();
    assert_eq!(resp.meta().attempts, 3);
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 3);
    for r in &received {
        assert!(
            r.body
                .windows(contents.len())
                .any(|w| w == contents.as_slice()),
            "file bytes missing on an attempt"
        );
        let head = String::from_utf8_lossy(&r.body[..400]);
        assert!(head.contains("application/octet-stream"), "{head}");
    }
}

#[tokio::test]
async fn raw_body_is_sent_as_is() {
    let server = ok_server().await;
    let client = builder(&server).build().unwrap();
    let mut req = Request::new(&UPLOAD);
    req.raw_body("image/png", Bytes::from_static(b"\x89PNG..."));
    client.execute::<Value>(req).await.unwrap();
    let r = last_request(&server).await;
    assert_eq!(header(&r, "content-type"), Some("image/png"));
    assert_eq!(r.body, b"\x89PNG...");
}

#[tokio::test]
async fn execute_raw_streams_success_and_maps_errors() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/chat/completions"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw("data: {\"x\":1}\n\ndata: [DONE]\n\n", "text/event-stream"),
        )
        .mount(&server)
        .await;
    Mock::given(path("/api/gallery/project/missing"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"detail": "no such project"})),
        )
        .mount(&server)
        .await;
    let client = builder(&server).build().unwrap();

    let mut req = Request::new(&CHAT);
    req.json_body(&json!({"stream": true})).unwrap();
    let resp = client.execute_raw(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.text().await.unwrap(),
        "data: {\"x\":1}\n\ndata: [DONE]\n\n"
    );

    let err = client.execute_raw(project("missing")).await.unwrap_err();
    assert!(matches!(err, Error::Api { .. }));
    assert_eq!(
        err.to_string(),
        "get_project: 404 not found: no such project"
    );
}

#[tokio::test]
async fn per_call_timeout_overrides_the_client_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(300)))
        .mount(&server)
        .await;
    let client = builder(&server)
        .timeout(Duration::from_millis(50))
        .max_retries(0)
        .build()
        .unwrap();
    let err = client.execute::<Value>(project("1")).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    let ok = client
        .execute::<Value>(project("1").request_timeout(Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(ok.value(), &Value::Null);
}

#[tokio::test]
async fn clones_share_configuration() {
    let server = ok_server().await;
    let client = builder(&server).build().unwrap();
    let clone = client.clone();
    let handle = tokio::spawn(async move { clone.execute::<Value>(project("1")).await });
    handle.await.unwrap().unwrap();
    client.execute::<Value>(project("2")).await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[test]
fn public_types_are_thread_safe() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    fn assert_error<T: std::error::Error + Send + Sync + 'static>() {}
    assert_send_sync::<Client>();
    assert_send_sync::<ClientBuilder>();
    assert_send_sync::<Request>();
    assert_send_sync::<RequestOptions>();
    assert_send_sync::<rostro_sdk::Response<Value>>();
    assert_error::<Error>();
}
