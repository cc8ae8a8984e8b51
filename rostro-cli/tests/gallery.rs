//! `rostro gallery upload`: directories, concurrency, manifest, failures, resume.

mod common;

use std::collections::HashMap;

use common::*;
use rostro_mock::{Fault, FaultRule, RostroMock};
use serde_json::Value;
use sha2::Digest;

const KEY: &str = "test-key-0000000";

fn keyed(env: &Env, base: &str, args: &[&str]) -> assert_cmd::Command {
    let mut all = vec!["--base-url", base];
    all.extend_from_slice(args);
    with_env(env.cmd(all), "ROSTRO_API_KEY", KEY)
}

fn make_images(env: &Env, n: usize) -> std::path::PathBuf {
    let dir = env.path().join("renders");
    std::fs::create_dir_all(dir.join("more")).unwrap();
    for i in 0..n {
        let sub = if i % 2 == 0 { "" } else { "more/" };
        let bytes: Vec<u8> = (0..(10_000 + i * 1000))
            .map(|b| (b * (i + 1)) as u8)
            .collect();
        std::fs::write(dir.join(format!("{sub}img{i}.png")), bytes).unwrap();
    }
    std::fs::write(dir.join("README.txt"), "not an image").unwrap();
    dir
}

fn manifest(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_a_directory_with_a_manifest() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    let dir = make_images(&env, 6);
    let m = env.path().join("upload.ndjson");
    let o = run(keyed(
        &env,
        &mock.uri(),
        &[
            "gallery",
            "upload",
            "--project",
            "42",
            dir.to_str().unwrap(),
            "--concurrency",
            "3",
            "--manifest",
            m.to_str().unwrap(),
            "--caption",
            "render",
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert!(stderr(&o).contains("6 uploaded"), "{}", stderr(&o));
    let records = manifest(&m);
    assert_eq!(records.len(), 6);
    let uploads: HashMap<String, _> = mock
        .uploads()
        .into_iter()
        .map(|u| (u.uuid.clone(), u))
        .collect();
    for r in &records {
        assert_eq!(r["status"], "ok");
        let path = r["path"].as_str().unwrap();
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(r["size"], bytes.len() as u64);
        let sha = hex::encode(sha2::Sha256::digest(&bytes));
        assert_eq!(r["sha256"], sha.as_str());
        // What the server stored is what was on disk.
        let u = &uploads[r["uuid"].as_str().unwrap()];
        assert_eq!(u.sha256, sha);
        assert_eq!(u.project_id, Some(42));
    }
    // --json: one record per line on stdout.
    let o = run(keyed(
        &env,
        &mock.uri(),
        &[
            "--json",
            "gallery",
            "upload",
            "--project",
            "42",
            dir.join("img0.png").to_str().unwrap(),
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(ndjson(&o)[0]["status"], "ok");

    let o = run(keyed(
        &env,
        &mock.uri(),
        &[
            "--json",
            "gallery",
            "list",
            "--project",
            "42",
            "--limit",
            "50",
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(ndjson(&o).len(), 7);
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_are_recorded_and_resumed() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    let dir = make_images(&env, 5);
    let m = env.path().join("upload.ndjson");
    // Two uploads fail (no retries).
    mock.inject_fault(
        FaultRule::new(Fault::Status(500))
            .times(2)
            .on("POST", "/api/gallery/upload"),
    );
    let o = run(keyed(
        &env,
        &mock.uri(),
        &[
            "--retries",
            "0",
            "gallery",
            "upload",
            "--project",
            "7",
            dir.to_str().unwrap(),
            "--concurrency",
            "1",
            "--manifest",
            m.to_str().unwrap(),
        ],
    ))
    .await;
    assert_code(&o, 1);
    let err = stderr(&o);
    assert!(
        err.contains("3 uploaded") && err.contains("2 failed"),
        "{err}"
    );
    assert!(err.contains("--resume"), "{err}");
    let records = manifest(&m);
    let failed: Vec<&Value> = records.iter().filter(|r| r["status"] == "error").collect();
    assert_eq!(failed.len(), 2);
    assert!(failed[0]["error"].as_str().unwrap().contains("500"));

    // Resume: only the failed files are sent again; records are appended.
    let before = mock.uploads().len();
    let o = run(keyed(
        &env,
        &mock.uri(),
        &[
            "gallery",
            "upload",
            "--project",
            "7",
            "--resume",
            m.to_str().unwrap(),
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(mock.uploads().len(), before + 2);
    let records = manifest(&m);
    assert_eq!(records.len(), 7);
    let mut last: HashMap<&str, &Value> = HashMap::new();
    for r in &records {
        last.insert(r["path"].as_str().unwrap(), r);
    }
    assert!(last.values().all(|r| r["status"] == "ok"));
    // Resuming again uploads nothing.
    let o = run(keyed(
        &env,
        &mock.uri(),
        &[
            "gallery",
            "upload",
            "--project",
            "7",
            "--resume",
            m.to_str().unwrap(),
            dir.to_str().unwrap(),
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(mock.uploads().len(), before + 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn all_rejected_keeps_the_error_class() {
    let mock = RostroMock::builder()
        .valid_key("the-only-key-1234")
        .start()
        .await;
    let env = Env::new();
    let dir = make_images(&env, 2);
    let o = run(keyed(
        &env,
        &mock.uri(),
        &["gallery", "upload", "--project", "7", dir.to_str().unwrap()],
    ))
    .await;
    assert_code(&o, 3);
    // Bad input.
    let o = run(keyed(
        &env,
        &mock.uri(),
        &["gallery", "upload", "--project", "7", "no/such/dir"],
    ))
    .await;
    assert_code(&o, 2);
}

/// An upload that uploads nothing is not a success: an empty directory, or one whose every
/// file is skipped, exits 4; what was skipped is listed with the reason, and a run that
/// uploads lists what it left out too.
#[tokio::test(flavor = "multi_thread")]
async fn nothing_to_upload_fails_and_skipped_files_are_listed() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    let empty = env.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let upload = |dir: &std::path::Path| {
        keyed(
            &env,
            &mock.uri(),
            &[
                "gallery",
                "upload",
                "--project",
                "42",
                dir.to_str().unwrap(),
            ],
        )
    };
    let o = run(upload(&empty)).await;
    assert_code(&o, 4);
    assert!(stderr(&o).contains("nothing uploaded"), "{}", stderr(&o));
    assert!(!stderr(&o).contains('✓'), "{}", stderr(&o));

    let notes = env.path().join("notes");
    std::fs::create_dir_all(notes.join(".cache")).unwrap();
    std::fs::write(notes.join("todo.txt"), "not an image").unwrap();
    let o = run(upload(&notes)).await;
    assert_code(&o, 4);
    let err = stderr(&o);
    assert!(
        err.contains("todo.txt: not an image") && err.contains(".cache: hidden directory"),
        "{err}"
    );
    assert!(err.contains("no images (2 file(s) skipped"), "{err}");
    assert!(mock.requests_to("POST", "/api/gallery/upload").is_empty());

    let dir = make_images(&env, 1);
    let o = run(upload(&dir)).await;
    assert_code(&o, 0);
    assert!(
        stderr(&o).contains("README.txt: not an image"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("1 left out"), "{}", stderr(&o));
    let o = run(env.cmd(["gallery", "upload", "--help"])).await;
    assert!(
        stdout(&o).contains("4 when there was nothing to upload"),
        "{}",
        stdout(&o)
    );
}
