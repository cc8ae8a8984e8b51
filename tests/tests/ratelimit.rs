//! The rate-limited mode: `X-RateLimit-*` on every response, 429 with `Retry-After` beyond
//! the limit, selectable from the library and the binary (`--rate-limit`, or
//! `ROSTRO_MOCK_RATE_LIMIT`).

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use rostro_mock::{RateLimit, RostroMock};

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn spawn(args: &[&str], env: Option<(&str, &str)>) -> (Child, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rostro-mock"));
    cmd.args(args)
        .env_remove("ROSTRO_MOCK_RATE_LIMIT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some((k, v)) = env {
        cmd.env(k, v);
    }
    let mut child = Child(cmd.spawn().expect("spawn rostro-mock"));
    let stdout = child.0.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    (child, line.trim().to_owned())
}

fn header<'a>(resp: &'a reqwest::Response, name: &str) -> &'a str {
    resp.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .unwrap()
}

/// Sends `n` GETs and checks the window counts down, then one more that is refused.
async fn count_down(uri: &str, n: u64) {
    let c = reqwest::Client::builder().no_proxy().build().unwrap();
    let get = || c.get(format!("{uri}/v1/models")).bearer_auth("k").send();
    let mut reset = None;
    for left in (0..n).rev() {
        let resp = get().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(header(&resp, "x-ratelimit-limit"), n.to_string());
        assert_eq!(header(&resp, "x-ratelimit-remaining"), left.to_string());
        let r: u64 = header(&resp, "x-ratelimit-reset").parse().unwrap();
        assert!(reset.is_none_or(|prev| prev == r), "one window");
        reset = Some(r);
    }
    let resp = get().await.unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(header(&resp, "x-ratelimit-remaining"), "0");
    let secs: u64 = header(&resp, "retry-after").parse().unwrap();
    let ms: u64 = header(&resp, "retry-after-ms").parse().unwrap();
    assert!(secs >= 1 && secs == ms.div_ceil(1000), "{secs} s, {ms} ms");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["errorCode"], 429);
}

#[tokio::test]
async fn the_library_mode_refuses_beyond_the_limit() {
    // An hour's window: the test cannot cross its end.
    let mock = RostroMock::builder()
        .rate_limit(RateLimit::new(3, Duration::from_secs(3600)).unwrap())
        .start()
        .await;
    count_down(&mock.uri(), 3).await;
    let statuses: Vec<u16> = mock.received_requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 200, 200, 429], "refusals are recorded");
}

#[tokio::test]
async fn the_binary_takes_a_rate_limit_flag() {
    let (_child, uri) = spawn(&["--rate-limit", "4/h"], None).await;
    count_down(&uri, 4).await;
}

#[tokio::test]
async fn the_binary_reads_the_environment() {
    let (_child, uri) = spawn(&[], Some(("ROSTRO_MOCK_RATE_LIMIT", "2/60min"))).await;
    count_down(&uri, 2).await;
}

#[tokio::test]
async fn without_a_limit_the_headers_are_advisory() {
    let mock = RostroMock::start().await;
    let c = reqwest::Client::builder().no_proxy().build().unwrap();
    for _ in 0..20 {
        let resp = c
            .get(format!("{}/v1/models", mock.uri()))
            .bearer_auth("k")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let remaining: u64 = header(&resp, "x-ratelimit-remaining").parse().unwrap();
        assert!(remaining > 1000, "{remaining}");
    }
}

#[test]
fn a_bad_rate_limit_is_refused_with_a_message() {
    for bad in ["0/s", "100", "5/fortnight"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rostro-mock"))
            .args(["--rate-limit", bad])
            .env_remove("ROSTRO_MOCK_RATE_LIMIT")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success(), "{bad}");
        assert!(err.contains("invalid rate limit"), "{bad}: {err}");
    }
}
