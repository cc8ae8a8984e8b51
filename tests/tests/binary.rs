//! The `rostro-mock` binary prints its base URL first and serves until killed.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_prints_its_url_and_serves() {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_rostro-mock"))
            .args([
                "--port",
                "0",
                "--seed",
                "9",
                "--latency-ms",
                "1",
                "--key",
                "k1",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn rostro-mock"),
    );
    let stdout = child.0.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let uri = line.trim().to_string();
    assert!(uri.starts_with("http://127.0.0.1:"), "{uri}");
    let c = reqwest::Client::builder().no_proxy().build().unwrap();
    let resp = c
        .get(format!("{uri}/v1/models"))
        .bearer_auth("k1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("x-request-id"));
    let resp = c
        .get(format!("{uri}/v1/models"))
        .bearer_auth("other")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn control_api_drives_faults_and_reports_state() {
    let mock = rostro_mock::RostroMock::start().await;
    let c = reqwest::Client::builder().no_proxy().build().unwrap();
    let uri = mock.uri();
    let resp = c
        .post(format!("{uri}/_mock/faults"))
        .json(&serde_json::json!({"kind": "status", "status": 503, "times": 2, "method": "GET", "route": "/v1/models"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["pending"], 2);
    for expected in [503, 503, 200] {
        let s = c
            .get(format!("{uri}/v1/models"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(s, expected);
    }
    let attempts: serde_json::Value = c
        .get(format!("{uri}/_mock/attempts"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(attempts["GET /v1/models"], 3);
    let requests: serde_json::Value = c
        .get(format!("{uri}/_mock/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        requests.as_array().unwrap().len(),
        3,
        "control calls are not recorded"
    );
    assert_eq!(requests[0]["fault"], "503");
    let bad = c
        .post(format!("{uri}/_mock/faults"))
        .json(&serde_json::json!({"kind": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let uploads: serde_json::Value = c
        .get(format!("{uri}/_mock/uploads"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(uploads, serde_json::json!([]));
    c.post(format!("{uri}/_mock/reset")).send().await.unwrap();
    assert!(mock.received_requests().is_empty());
    assert_eq!(mock.attempts("GET", "/v1/models"), 0);
}
