//! `rostro imagine`: generate, wait, download, resume, history, Ctrl-C.

mod common;

use std::time::Duration;

use common::*;
use rostro_mock::RostroMock;
use sha2::Digest;

const KEY: &str = "test-key-0000000";

fn keyed(env: &Env, base: &str, args: &[&str]) -> assert_cmd::Command {
    let mut all = vec!["--base-url", base];
    all.extend_from_slice(args);
    with_env(env.cmd(all), "ROSTRO_API_KEY", KEY)
}

#[tokio::test(flavor = "multi_thread")]
async fn image_to_file_with_json_report() {
    let mock = RostroMock::builder().imagine_checks(2).start().await;
    let env = Env::new();
    std::fs::create_dir(env.path().join("art")).unwrap();
    let out = env.path().join("art").join("lighthouse.png");
    let o = run(keyed(
        &env,
        &mock.uri(),
        &[
            "--json",
            "imagine",
            "image",
            "a lighthouse at dusk",
            "--aspect-ratio",
            "16:9",
            "--seed",
            "7",
            "--negative",
            "fog",
            "--out",
            out.to_str().unwrap(),
            "--poll-interval",
            "0.3",
        ],
    ))
    .await;
    assert_code(&o, 0);
    let v = json(&o);
    assert_eq!(v["is_done"], true);
    let file = &v["files"][0];
    assert_eq!(file["path"], out.to_str().unwrap());
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"\x89PNG"), "a PNG");
    assert_eq!(file["size"], bytes.len() as u64);
    assert_eq!(
        file["sha256"],
        hex::encode(sha2::Sha256::digest(&bytes)).as_str()
    );
    // The request carried the flags.
    let sent = mock.requests_to("POST", "/imagine")[0].body_json().unwrap();
    assert_eq!(sent["aspect_ratio"], "w16h9");
    assert_eq!(sent["seed"], 7);
    assert_eq!(sent["negative_prompt"], "fog");
    assert_eq!(sent["generation_type"], "text_to_image");
    assert!(mock.attempts("POST", "/imagine/check") >= 2);
    // Human output: the path on stdout.
    let o = run(keyed(
        &env,
        &mock.uri(),
        &[
            "imagine",
            "image",
            "again",
            "--out",
            env.path().to_str().unwrap(),
        ],
    ))
    .await;
    assert_code(&o, 0);
    let path = stdout(&o).trim().to_owned();
    assert!(std::path::Path::new(&path).is_file(), "{path}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_kind_starts_the_right_generation() {
    let mock = RostroMock::builder().imagine_checks(0).start().await;
    let env = Env::new();
    let img = env.path().join("in.png");
    std::fs::write(&img, b"\x89PNG\r\n\x1a\nfake").unwrap();
    let lyrics = env.path().join("lyrics.txt");
    std::fs::write(&lyrics, "[verse]\nyo ho\n\n").unwrap();
    let img = img.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["video", "waves", "--duration", "3"], "text_to_video"),
        (
            vec!["video", "waves", "--init-image", img],
            "image_to_video",
        ),
        (
            vec!["speech", "Hello there", "--voice", "calm_female_20s"],
            "text_to_speech",
        ),
        (
            vec![
                "music",
                "sea shanty",
                "--lyrics",
                lyrics.to_str().unwrap(),
                "--genre",
                "folk",
            ],
            "text_to_music",
        ),
        (vec!["sfx", "door creak"], "text_to_sfx"),
        (vec!["model3d", "a chair", "--texture"], "text_to_3d"),
        (vec!["model3d", "--init-image", img], "image_to_3d"),
        (
            vec!["edit", img, "make it winter", "--strength", "0.5"],
            "image_to_image",
        ),
        (vec!["animate", img, "spin"], "image_to_video"),
    ];
    for (args, kind) in cases {
        let mut all = vec!["--json", "imagine"];
        all.extend_from_slice(&args);
        let o = run(keyed(&env, &mock.uri(), &all)).await;
        assert_code(&o, 0);
        let sent = mock
            .requests_to("POST", "/imagine")
            .last()
            .unwrap()
            .body_json()
            .unwrap();
        assert_eq!(sent["generation_type"], kind, "{args:?}");
        if args.contains(&img) {
            let field = if kind == "image_to_3d" {
                &sent["init_images"][0]
            } else {
                &sent["init_image"]
            };
            assert!(
                field
                    .as_str()
                    .unwrap()
                    .starts_with("data:image/png;base64,"),
                "{args:?}"
            );
        }
    }
    // Upscale uses its own endpoint and is checked with POST /check.
    let o = run(keyed(
        &env,
        &mock.uri(),
        &["--json", "imagine", "upscale", "https://example.test/a.png"],
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(mock.attempts("POST", "/images/upscale"), 1);
    // Local validation: nothing is sent.
    let before = mock.requests_to("POST", "/imagine").len();
    let o = run(keyed(
        &env,
        &mock.uri(),
        &["imagine", "music", "shanty", "--music-type", "vocals"],
    ))
    .await;
    assert_code(&o, 2);
    assert_eq!(mock.requests_to("POST", "/imagine").len(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_wait_then_resume_and_history() {
    let mock = RostroMock::builder().imagine_checks(2).start().await;
    let env = Env::new();
    let o = run(keyed(
        &env,
        &mock.uri(),
        &["imagine", "image", "a red fox", "--no-wait"],
    ))
    .await;
    assert_code(&o, 0);
    let uuid = stdout(&o).trim().to_owned();
    assert!(mock.generation(&uuid).is_some());
    assert_eq!(mock.attempts("POST", "/imagine/check"), 0);

    let dir = env.path().join("out/");
    let o = run(keyed(
        &env,
        &mock.uri(),
        &[
            "--json",
            "imagine",
            "wait",
            &uuid,
            "--out",
            dir.to_str().unwrap(),
            "--poll-interval",
            "0.2",
        ],
    ))
    .await;
    assert_code(&o, 0);
    let v = json(&o);
    assert_eq!(v["generation_uuid"], uuid.as_str());
    assert!(std::path::Path::new(v["files"][0]["path"].as_str().unwrap()).is_file());

    let o = run(keyed(
        &env,
        &mock.uri(),
        &["--json", "imagine", "history", "--limit", "5"],
    ))
    .await;
    assert_code(&o, 0);
    let items = ndjson(&o);
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["generation_uuid"], uuid.as_str());
    // --out - writes the media to stdout.
    let o = run(keyed(
        &env,
        &mock.uri(),
        &[
            "--retry-delay",
            "0.005",
            "imagine",
            "wait",
            &uuid,
            "--out",
            "-",
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert!(o.stdout.starts_with(b"\x89PNG"));
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_while_waiting_prints_the_resume_command() {
    let mock = RostroMock::builder().imagine_checks(100_000).start().await;
    let env = Env::new();
    let base = mock.uri();
    let mut cmd = env.std_cmd([
        "--base-url",
        &base,
        "imagine",
        "image",
        "a slow fox",
        "--poll-interval",
        "0.2",
    ]);
    cmd.env("ROSTRO_API_KEY", KEY);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    // Wait until it polls, then interrupt it.
    for _ in 0..100 {
        if mock.attempts("POST", "/imagine/check") > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(mock.attempts("POST", "/imagine/check") > 0, "never polled");
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_code(&o, 130);
    let uuid = &mock.generations()[0].generation_uuid;
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "rostro --base-url {} imagine wait {uuid}",
            mock.uri()
        )),
        "{err}"
    );
}

/// `--out` creates only what was asked for and never replaces a file without `--force`.
#[tokio::test(flavor = "multi_thread")]
async fn out_keeps_existing_files_and_creates_only_what_was_asked() {
    let mock = RostroMock::builder().imagine_checks(1).start().await;
    let env = Env::new();
    let generate = |out: &str, extra: &[&str]| {
        let mut args = vec![
            "imagine",
            "image",
            "a fox",
            "--poll-interval",
            "0.2",
            "--out",
            out,
        ];
        args.extend_from_slice(extra);
        keyed(&env, &mock.uri(), &args)
    };

    // A file path whose directory does not exist: nothing is created.
    let missing = env.path().join("no-such-dir").join("fox.png");
    let o = run(generate(missing.to_str().unwrap(), &[])).await;
    assert_code(&o, 1);
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
    assert!(!env.path().join("no-such-dir").exists());

    // An existing file is kept (exit 1, says why), and replaced with --force.
    let file = env.path().join("fox.png");
    std::fs::write(&file, b"mine").unwrap();
    let o = run(generate(file.to_str().unwrap(), &[])).await;
    assert_code(&o, 1);
    assert!(stderr(&o).contains("already there"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("hint: add --force to replace it"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"mine");
    let leftovers: Vec<_> = std::fs::read_dir(env.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let o = run(generate(file.to_str().unwrap(), &["--force"])).await;
    assert_code(&o, 0);
    assert!(std::fs::read(&file).unwrap().starts_with(b"\x89PNG"));

    // A directory asked for with a trailing slash is created.
    let dir = format!("{}/renders/", env.path().display());
    let o = run(generate(&dir, &[])).await;
    assert_code(&o, 0);
    assert!(std::path::Path::new(&dir).is_dir());
}

/// A name that says another format than the data gets a warning naming the right extension.
#[tokio::test(flavor = "multi_thread")]
async fn out_warns_when_the_extension_does_not_match_the_media() {
    let mock = RostroMock::builder().imagine_checks(1).start().await;
    let env = Env::new();
    let out = env.path().join("fox.jpg");
    let o = run(keyed(
        &env,
        &mock.uri(),
        &[
            "imagine",
            "image",
            "a fox",
            "--poll-interval",
            "0.2",
            "--out",
            out.to_str().unwrap(),
        ],
    ))
    .await;
    assert_code(&o, 0);
    let err = stderr(&o);
    assert!(err.contains("image/png") && err.contains(".png"), "{err}");
}

/// `imagine wait` offers no `--no-wait`; `--no-wait` with `--out` is refused by the parser.
#[tokio::test(flavor = "multi_thread")]
async fn wait_flags_fit_the_verb() {
    let env = Env::new();
    let o = run(env.cmd(["imagine", "wait", "--help"])).await;
    assert_code(&o, 0);
    let offered = stdout(&o)
        .lines()
        .any(|l| l.trim_start().starts_with("--no-wait"));
    assert!(!offered, "{}", stdout(&o));
    let o = run(env.cmd(["imagine", "image", "x", "--no-wait", "--out", "a.png"])).await;
    assert_code(&o, 2);
}

/// Hints carry the global options, so they re-run against the same account and server.
#[tokio::test(flavor = "multi_thread")]
async fn resume_hints_keep_the_global_options() {
    let mock = RostroMock::builder().imagine_checks(50).start().await;
    let env = Env::new();
    let o = run(keyed(
        &env,
        &mock.uri(),
        &[
            "--retries",
            "4",
            "imagine",
            "image",
            "a fox",
            "--wait-timeout",
            "0.2",
            "--out",
            "fox file.png",
        ],
    ))
    .await;
    assert_code(&o, 7);
    let err = stderr(&o);
    assert!(err.contains("--out 'fox file.png'"), "{err}");
    let expected = format!("rostro --base-url {} --retries 4 imagine wait ", mock.uri());
    assert!(err.contains(&expected), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn out_dash_download_is_retried_and_a_stall_times_out_with_exit_7() {
    use rostro_mock::{Fault, FaultRule};
    let mock = RostroMock::builder().imagine_checks(0).start().await;
    let env = Env::new();
    let o = run(keyed(
        &env,
        &mock.uri(),
        &["imagine", "image", "a fox", "--no-wait"],
    ))
    .await;
    assert_code(&o, 0);
    let uuid = stdout(&o).trim().to_owned();

    // A 503 on the media GET is retried, then the bytes reach stdout.
    mock.inject_fault(
        FaultRule::new(Fault::Status(503))
            .times(1)
            .on("GET", "/media/{file}"),
    );
    let o = run(keyed(
        &env,
        &mock.uri(),
        &[
            "--retry-delay",
            "0.005",
            "imagine",
            "wait",
            &uuid,
            "--out",
            "-",
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert!(o.stdout.starts_with(b"\x89PNG"));
    assert_eq!(mock.requests_to("GET", "/media/{file}").len(), 2);

    // A server that never answers the media GET is a timeout (exit 7), not a hang.
    mock.inject_fault(
        FaultRule::new(Fault::Delay(Duration::from_secs(60)))
            .times(10)
            .on("GET", "/media/{file}"),
    );
    let o = run(keyed(
        &env,
        &mock.uri(),
        &[
            "--timeout",
            "0.5",
            "--retries",
            "0",
            "imagine",
            "wait",
            &uuid,
            "--out",
            "-",
        ],
    ))
    .await;
    assert_code(&o, 7);
    assert!(o.stdout.is_empty());
}
