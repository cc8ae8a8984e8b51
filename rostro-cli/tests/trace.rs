//! `-v`: the trace shows every request the SDK sends (API calls, polls, downloads, upload
//! parts, retries), built from the SDK's `rostro.request` spans, with no secret in it.

mod common;

use common::*;
use rostro_mock::{Fault, FaultRule, RostroMock};

const KEY: &str = "test-key-0000000";

/// The `>` request lines of a trace.
fn request_lines(err: &str) -> Vec<&str> {
    err.lines().filter(|l| l.starts_with("> ")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn verbose_imagine_shows_the_create_the_polls_and_the_download() {
    let env = Env::new();
    let out = env.path().join("x.png");
    let o = run(env.cmd([
        "--mock",
        "-v",
        "imagine",
        "image",
        "a lighthouse",
        "--poll-interval",
        "0.1",
        "--out",
        out.to_str().unwrap(),
    ]))
    .await;
    assert_code(&o, 0);
    assert!(out.is_file());
    let err = stderr(&o);
    let lines = request_lines(&err);
    let create: Vec<_> = lines
        .iter()
        .filter(|l| l.starts_with("> POST http://127.0.0.1:") && l.contains("/imagine?"))
        .collect();
    assert_eq!(create.len(), 1, "{err}");
    assert!(create[0].contains("[Authorization: Bearer ***]"), "{err}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("> POST ") && l.contains("/imagine/check")),
        "the polls: {err}"
    );
    let downloads: Vec<_> = lines
        .iter()
        .filter(|l| l.starts_with("> GET ") && l.contains("/media/"))
        .collect();
    assert_eq!(downloads.len(), 1, "the download: {err}");
    // Every request line has its outcome.
    let outcomes = err.lines().filter(|l| l.starts_with("< 200 OK")).count();
    assert_eq!(outcomes, lines.len(), "{err}");
    assert!(err.contains("download_media, attempt 1"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn verbose_chunked_upload_shows_the_part_puts_and_their_retries() {
    let mock = RostroMock::start().await;
    mock.inject_fault(
        FaultRule::new(Fault::Status(503)).on("PUT", "/_mock/upload/{upload_id}/{part_number}"),
    );
    let env = Env::new();
    let big = env.path().join("big.bin");
    std::fs::write(&big, vec![7u8; 2_500_000]).unwrap();
    let o = run(with_env(
        env.cmd([
            "--base-url",
            &mock.uri(),
            "-v",
            "--retry-delay",
            "0.005",
            "assets",
            "upload",
            big.to_str().unwrap(),
            "--chunk-threshold",
            "0",
            "--part-size",
            "1",
            "--concurrency",
            "1",
        ]),
        "ROSTRO_API_KEY",
        KEY,
    ))
    .await;
    assert_code(&o, 0);
    let err = stderr(&o);
    let lines = request_lines(&err);
    let puts: Vec<_> = lines
        .iter()
        .filter(|l| l.starts_with("> PUT ") && l.contains("/_mock/upload/"))
        .collect();
    assert_eq!(puts.len(), 4, "three parts, one sent twice: {err}");
    assert_eq!(
        puts.iter().filter(|l| l.ends_with(" (retry 1)")).count(),
        1,
        "{err}"
    );
    assert!(
        err.lines()
            .any(|l| l.starts_with("* ") && l.contains("retrying") && l.contains("status 503")),
        "{err}"
    );
    // Signed URLs are shown without their signature, and carry no API key.
    assert!(!err.contains("Signature"), "{err}");
    for put in &puts {
        assert!(!put.contains("***"), "{put}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains("/engine/api/upload/start-upload")),
        "{err}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("/engine/api/upload/complete-upload")),
        "{err}"
    );
    assert!(!err.contains(KEY), "{err}");
}
