//! Helpers shared by the integration tests.
#![allow(dead_code)]

use rostro_mock::{RostroMock, Spec};
use serde_json::Value;

/// The key the tests send.
pub const KEY: &str = "test-key";

/// A plain reqwest client (no proxies, short timeout).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .expect("client")
}

/// The routing fixture document.
pub fn fixture_spec() -> Spec {
    Spec::from_json(include_str!("../../fixtures/mini.openapi.json")).expect("fixture parses")
}

/// A mock serving the fixture document.
pub async fn fixture_mock() -> RostroMock {
    RostroMock::builder().spec(fixture_spec()).start().await
}

/// Status and JSON body of a response.
pub async fn status_json(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, v)
}

/// POSTs JSON with the test key and returns status + body.
pub async fn post_json(mock: &RostroMock, path: &str, body: &Value) -> (u16, Value) {
    let resp = client()
        .post(format!("{}{path}", mock.uri()))
        .bearer_auth(KEY)
        .json(body)
        .send()
        .await
        .expect("request");
    status_json(resp).await
}

/// GETs with the test key and returns status + body.
pub async fn get_json(mock: &RostroMock, path: &str) -> (u16, Value) {
    let resp = client()
        .get(format!("{}{path}", mock.uri()))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("request");
    status_json(resp).await
}

/// Splits an SSE body into its `data:` payloads (comments skipped).
pub fn sse_data(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter_map(|event| {
            let lines: Vec<&str> = event
                .lines()
                .filter(|l| !l.starts_with(':'))
                .filter_map(|l| l.strip_prefix("data: "))
                .collect();
            (!lines.is_empty()).then(|| lines.join("\n"))
        })
        .collect()
}
