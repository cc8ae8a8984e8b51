//! One test per exit-code class.

mod common;

use std::time::Duration;

use common::*;
use rostro_mock::{Fault, FaultRule, RostroMock};

const KEY: &str = "good-key-123456";

#[tokio::test(flavor = "multi_thread")]
async fn unauthorized_is_3() {
    let mock = RostroMock::builder().valid_key(KEY).start().await;
    let env = Env::new();
    let o = run(with_env(
        env.cmd(["--base-url", &mock.uri(), "account", "show"]),
        "ROSTRO_API_KEY",
        "bad-key",
    ))
    .await;
    assert_code(&o, 3);
    assert!(stderr(&o).contains("401"), "{}", stderr(&o));
    // No key at all where one is needed: 3 without a request.
    let o = run(env.cmd(["--base-url", &mock.uri(), "account", "show"])).await;
    assert_code(&o, 3);
    // 403 too.
    mock.inject_fault(FaultRule::new(Fault::Status(403)).on("GET", "/api/account"));
    let o = run(with_env(
        env.cmd(["--base-url", &mock.uri(), "account", "show"]),
        "ROSTRO_API_KEY",
        KEY,
    ))
    .await;
    assert_code(&o, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn not_found_is_4() {
    let env = Env::new();
    let o = run(env.cmd(["--mock", "gallery", "delete", "no-such-image"])).await;
    assert_code(&o, 4);
    let o = run(env.cmd(["--mock", "api", "GET", "/no/such/route"])).await;
    assert_code(&o, 4);
    let o = run(env.cmd(["--mock", "imagine", "wait", "no-such-generation"])).await;
    assert_code(&o, 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limited_after_retries_is_5() {
    let mock = RostroMock::start().await;
    mock.inject_fault(
        FaultRule::new(Fault::rate_limited(0))
            .times(10)
            .on("GET", "/search"),
    );
    let env = Env::new();
    let o = run(with_env(
        env.cmd([
            "--base-url",
            &mock.uri(),
            "--retries",
            "2",
            "--retry-delay",
            "0.005",
            "search",
        ]),
        "ROSTRO_API_KEY",
        KEY,
    ))
    .await;
    assert_code(&o, 5);
    assert!(stderr(&o).contains("429"), "{}", stderr(&o));
    // One attempt plus two retries.
    assert_eq!(mock.attempts("GET", "/search"), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_recover_from_transient_errors() {
    let mock = RostroMock::start().await;
    mock.inject_fault(
        FaultRule::new(Fault::Status(503))
            .times(2)
            .on("GET", "/search"),
    );
    let env = Env::new();
    let o = run(with_env(
        env.cmd([
            "--base-url",
            &mock.uri(),
            "--json",
            "search",
            "--limit",
            "1",
        ]),
        "ROSTRO_API_KEY",
        KEY,
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(ndjson(&o).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_generation_is_6() {
    let env = Env::new();
    let o = run(env.cmd(["--mock", "imagine", "image", "this prompt will fail"])).await;
    assert_code(&o, 6);
    assert!(stderr(&o).contains("failed"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread")]
async fn timeouts_are_7() {
    let mock = RostroMock::start().await;
    mock.inject_fault(
        FaultRule::new(Fault::Delay(Duration::from_secs(3)))
            .times(5)
            .on("GET", "/search"),
    );
    let env = Env::new();
    let o = run(with_env(
        env.cmd([
            "--base-url",
            &mock.uri(),
            "--timeout",
            "0.3",
            "--retries",
            "0",
            "search",
        ]),
        "ROSTRO_API_KEY",
        KEY,
    ))
    .await;
    assert_code(&o, 7);
    assert!(stderr(&o).contains("timed out"), "{}", stderr(&o));

    // Giving up waiting for a generation: 7, with the resume command.
    let slow = RostroMock::builder().imagine_checks(1000).start().await;
    let o = run(with_env(
        env.cmd([
            "--base-url",
            &slow.uri(),
            "imagine",
            "image",
            "a slow fox",
            "--wait-timeout",
            "0.6",
            "--poll-interval",
            "0.2",
        ]),
        "ROSTRO_API_KEY",
        KEY,
    ))
    .await;
    assert_code(&o, 7);
    assert!(
        stderr(&o).contains(&format!("rostro --base-url {} imagine wait ", slow.uri())),
        "{}",
        stderr(&o)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn other_errors_are_1() {
    let env = Env::new();
    // Nothing listens there.
    let o = run(with_env(
        env.cmd([
            "--base-url",
            "http://127.0.0.1:9",
            "--retries",
            "0",
            "models",
        ]),
        "ROSTRO_API_KEY",
        KEY,
    ))
    .await;
    assert_code(&o, 1);
    assert!(stderr(&o).contains("connect"), "{}", stderr(&o));
}
