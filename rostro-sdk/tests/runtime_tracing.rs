//! Tracing output: one `rostro.request` span per call, one event per retry, and never the key.
//!
//! This binary holds a single test on purpose: the subscriber is installed before any
//! callsite is hit and no other test runs concurrently, so tracing's per-callsite interest
//! cache cannot race with another thread.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rostro_sdk::request::{Base, HttpMethod, Operation, Request};
use rostro_sdk::{AuthStyle, CallOptions, Client};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-live-SECRET-tracing-5f4e3d";

static GET_THING: Operation = Operation {
    id: "get_thing",
    method: HttpMethod::Get,
    path: "/api/thing/{id}",
    base: Base::Api,
};

static CREATE_THING: Operation = Operation {
    id: "create_thing",
    method: HttpMethod::Post,
    path: "/api/thing",
    base: Base::Api,
};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

fn get(id: &str) -> Request {
    let mut req = Request::new(&GET_THING);
    req.path_param("id", id);
    req
}

#[tokio::test]
async fn spans_retry_events_and_no_key_in_traces() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_writer(capture.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/thing/flaky"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after-ms", "10"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/thing/flaky"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"echo": KEY})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/thing/denied"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": {"message": format!("bad key {KEY}")}})),
        )
        .mount(&server)
        .await;

    // A call retried twice: one span, two retry events with reason and wait.
    let client = Client::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .initial_retry_delay(Duration::from_millis(1))
        .build()
        .unwrap();
    let resp = client.execute::<Value>(get("flaky")).await.unwrap();
    assert_eq!(resp.meta().attempts, 3);
    let logs = capture.take();
    assert_eq!(
        logs.matches("retrying rostro request").count(),
        2,
        "expected two retry events:\n{logs}"
    );
    assert!(logs.contains("reason=status 503"), "{logs}");
    assert!(logs.contains("wait_ms=10"), "{logs}");
    let close = logs
        .lines()
        .find(|l| l.contains("rostro.request") && l.contains("close"))
        .unwrap_or_else(|| panic!("no span close:\n{logs}"));
    for field in [
        "operation=\"get_thing\"",
        "method=\"GET\"",
        "path=\"/api/thing/{id}\"",
        "attempt=3",
        "status=200",
        "duration_ms=",
    ] {
        assert!(close.contains(field), "{field} missing in {close}");
    }
    assert_eq!(
        logs.lines()
            .filter(|l| l.contains("rostro.request") && l.contains(" new"))
            .count(),
        1,
        "one span per logical call:\n{logs}"
    );

    // Errors, both auth styles, and a per-call credential header: never the key.
    for style in [AuthStyle::Bearer, AuthStyle::ChubHeaders] {
        let client = Client::builder()
            .api_key(KEY)
            .auth_style(style)
            .base_url(server.uri())
            .build()
            .unwrap();
        let err = client.execute::<Value>(get("denied")).await.unwrap_err();
        tracing::error!(error = %err, debug = ?err, "call failed");
        tracing::info!(client = ?client, "client");
        let req = get("flaky").extra_header("x-cashu", KEY);
        tracing::info!(request = ?req, "request");
        client.execute::<Value>(req).await.unwrap();
    }

    // A POST whose connection is refused is retried (it never reached the server).
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = Client::builder()
        .api_key(KEY)
        .base_url(format!("http://127.0.0.1:{port}"))
        .initial_retry_delay(Duration::from_millis(1))
        .max_retry_delay(Duration::from_millis(5))
        .build()
        .unwrap();
    let mut req = Request::new(&CREATE_THING);
    req.json_body(&json!({})).unwrap();
    client.execute::<Value>(req).await.unwrap_err();

    let logs = logs + &capture.take();
    let connect_retries = logs
        .lines()
        .filter(|l| l.contains("retrying rostro request") && l.contains("reason=connect error"))
        .count();
    assert_eq!(connect_retries, 2, "{logs}");
    assert!(logs.contains("bad key ***"), "{logs}");
    assert!(!logs.contains(KEY), "key leaked into traces:\n{logs}");
    assert!(!logs.contains("SECRET"), "key leaked into traces:\n{logs}");
}
