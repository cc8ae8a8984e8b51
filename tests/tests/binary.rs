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
