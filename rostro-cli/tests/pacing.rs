//! A batch against a rate-limited server slows down instead of failing (`--no-pacing` for
//! comparison), and `--mock` can be rate limited with `ROSTRO_MOCK_RATE_LIMIT`. Counts
//! 429s, never wall time.

mod common;

use std::time::Duration;

use common::*;
use rostro_mock::{RateLimit, RostroMock};

const KEY: &str = "test-key-0000000";
const FILES: usize = 40;

fn make_images(env: &Env) -> std::path::PathBuf {
    let dir = env.path().join("renders");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..FILES {
        std::fs::write(dir.join(format!("img{i}.png")), format!("png {i}")).unwrap();
    }
    dir
}

/// Uploads [`FILES`] files at concurrency 16 to a mock serving 10 requests per 250 ms;
/// returns the exit code, stderr and the number of 429s the mock sent.
async fn upload(extra: &[&str]) -> (i32, String, usize) {
    let mock = RostroMock::builder()
        .rate_limit(RateLimit::new(10, Duration::from_millis(250)).unwrap())
        .start()
        .await;
    let env = Env::new();
    let dir = make_images(&env);
    let uri = mock.uri();
    let mut args = vec!["--base-url", &uri];
    args.extend_from_slice(extra);
    args.extend([
        "gallery",
        "upload",
        "--project",
        "42",
        dir.to_str().unwrap(),
        "--concurrency",
        "16",
    ]);
    let o = run(with_env(env.cmd(args), "ROSTRO_API_KEY", KEY)).await;
    let limited = mock
        .received_requests()
        .iter()
        .filter(|r| r.status == 429)
        .count();
    (code(&o), stderr(&o), limited)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_upload_respects_the_rate_limit() {
    let (code, err, paced) = upload(&[]).await;
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(&format!("{FILES} uploaded")), "{err}");
    // Only the first wave (16 at once, 10 allowed) can be refused.
    assert!(paced <= 16, "{paced} 429s");

    let (_, err, unpaced) = upload(&["--no-pacing"]).await;
    assert!(
        unpaced > 2 * paced.max(1),
        "{unpaced} 429s with --no-pacing vs {paced} paced: {err}"
    );
}

#[tokio::test]
async fn the_mock_of_mock_mode_takes_a_rate_limit_from_the_environment() {
    let env = Env::new();
    let o = run(with_env(
        env.cmd(["--mock", "models"]),
        "ROSTRO_MOCK_RATE_LIMIT",
        "lots",
    ))
    .await;
    assert_ne!(code(&o), 0);
    let err = stderr(&o);
    assert!(
        err.contains("ROSTRO_MOCK_RATE_LIMIT") && err.contains("invalid rate limit `lots`"),
        "{err}"
    );
    let o = run(with_env(
        env.cmd(["--mock", "--json", "models"]),
        "ROSTRO_MOCK_RATE_LIMIT",
        "100/s",
    ))
    .await;
    assert_code(&o, 0);
}
