//! What a new user meets first: profiles that exist, defaults that are shown, `--jq` errors
//! that point at the mistake.

mod common;

use common::*;
use rostro_mock::RostroMock;

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_profile_is_a_usage_error_naming_the_known_ones() {
    let env = Env::new();
    let o = run(env.cmd([
        "config",
        "set",
        "profile.work.base_url",
        "http://127.0.0.1:9",
    ]))
    .await;
    assert_code(&o, 0);
    let o = run(env.cmd(["--profile", "wrok", "search", "dragon"])).await;
    assert_code(&o, 2);
    let err = stderr(&o);
    assert!(
        err.contains("no profile `wrok`") && err.contains("known: work"),
        "{err}"
    );
    // The same through the environment.
    let o = run(with_env(env.cmd(["models"]), "ROSTRO_PROFILE", "nosuch")).await;
    assert_code(&o, 2);
    // `default` needs no section, and config commands may create a profile.
    let o = run(env.cmd([
        "--profile",
        "fresh",
        "config",
        "set",
        "base_url",
        "http://127.0.0.1:9",
    ]))
    .await;
    assert_code(&o, 0);
    let o = run(env.cmd(["--profile", "fresh", "config", "get", "base_url"])).await;
    assert_eq!(stdout(&o).trim(), "http://127.0.0.1:9");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_profile_with_only_a_stored_key_is_known() {
    let mock = RostroMock::builder().start().await;
    let env = Env::new();
    let o = run_stdin(
        env.cmd([
            "--profile",
            "keyonly",
            "--base-url",
            &mock.uri(),
            "auth",
            "login",
            "--with-token",
        ]),
        "test-key-0000000\n",
    )
    .await;
    assert_code(&o, 0);
    let o = run(env.cmd(["--profile", "keyonly", "--base-url", &mock.uri(), "models"])).await;
    assert_code(&o, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn config_get_shows_the_default_in_effect() {
    let env = Env::new();
    let o = run(env.cmd(["config", "get", "base_url"])).await;
    assert_code(&o, 0);
    assert_eq!(stdout(&o).trim(), "https://api.rostro.dev");
    let o = run(env.cmd(["config", "get", "auth_header"])).await;
    assert_eq!(stdout(&o).trim(), "bearer");
    let o = run(env.cmd(["config", "set", "base_url", "http://127.0.0.1:9"])).await;
    assert_code(&o, 0);
    let o = run(env.cmd(["config", "get", "mimic_base_url"])).await;
    assert_eq!(stdout(&o).trim(), "http://127.0.0.1:9", "follows base_url");
    // No default: still "not set", exit 4.
    let o = run(env.cmd(["config", "get", "default_model"])).await;
    assert_code(&o, 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn jq_syntax_errors_point_at_the_mistake() {
    let env = Env::new();
    let o = run(env.cmd(["--mock", "--jq", ".name | ", "models"])).await;
    assert_code(&o, 2);
    let err = stderr(&o);
    assert!(err.contains("invalid --jq filter: expected term"), "{err}");
    assert!(err.contains("  .name | \n") && err.contains('^'), "{err}");
    assert!(!err.contains("File {") && !err.contains("Parse(["), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn negative_counts_say_what_is_wanted() {
    let env = Env::new();
    for args in [
        &["search", "dragon", "--limit", "-5"][..],
        &["search", "dragon", "--limit", "0"],
        &["search", "dragon", "--min-tokens", "-1"],
        &["imagine", "history", "--limit", "-2"],
        &["chats", "list", "--limit", "-1"],
    ] {
        let o = run(env.cmd(args)).await;
        assert_code(&o, 2);
        let err = stderr(&o);
        assert!(!err.contains("unexpected argument"), "{args:?}: {err}");
        assert!(err.contains("whole number"), "{args:?}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn man_prints_one_page_per_command() {
    let env = Env::new();
    let o = run(env.cmd(["man", "imagine"])).await;
    assert_code(&o, 0);
    let page = stdout(&o);
    assert!(
        page.contains(".TH rostro-imagine 1"),
        "{}",
        &page[..page.len().min(300)]
    );
    let o = run(env.cmd(["man", "imagine", "image"])).await;
    assert!(stdout(&o).contains(".TH rostro-imagine-image 1"));
    let o = run(env.cmd(["man", "nosuch"])).await;
    assert_code(&o, 2);
    assert!(stderr(&o).contains("imagine"), "{}", stderr(&o));
    let dir = env.path().join("man");
    let o = run(env.cmd(["man", "--out-dir", dir.to_str().unwrap()])).await;
    assert_code(&o, 0);
    assert!(dir.join("rostro.1").is_file() && dir.join("rostro-imagine-image.1").is_file());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_base_url_without_scheme_is_a_usage_error_with_the_fix() {
    let env = Env::new();
    let o = run(env.cmd(["--base-url", "127.0.0.1:9", "search", "dragon"])).await;
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("did you mean `http://127.0.0.1:9`"),
        "{}",
        stderr(&o)
    );
    let o = run(env.cmd(["--base-url", "ftp://x", "search", "dragon"])).await;
    assert_code(&o, 2);
}

/// Errors name the request, not the operation's internal id, carry no meaningless `(0)`,
/// and say what to do next: a 404 points at search, a refused connection at --base-url and
/// --mock.
#[test]
fn errors_name_the_request_and_say_what_to_do_next() {
    let env = Env::new();
    let o = with_env(
        env.cmd(["--mock", "characters", "get", "999"]),
        "ROSTRO_MOCK_DIR",
        env.path().join("s"),
    )
    .output()
    .unwrap();
    assert_code(&o, 4);
    let err = stderr(&o);
    assert!(err.contains("GET /api/public/characters/999: 404"), "{err}");
    assert!(!err.contains("_get:") && !err.contains("(0)"), "{err}");
    assert!(err.contains("rostro search"), "{err}");

    let o = with_env(
        env.cmd(["--base-url", "http://127.0.0.1:9", "search", "dragon"]),
        "ROSTRO_API_KEY",
        "test-key-0000000",
    )
    .output()
    .unwrap();
    let err = stderr(&o);
    assert!(
        err.contains("could not connect to http://127.0.0.1:9/search: connection refused"),
        "{err}"
    );
    assert!(
        err.contains("--base-url") && err.contains("--mock"),
        "{err}"
    );
}

/// The global options are listed once, under `rostro --help`; subcommand help points there
/// instead of repeating them, and they are still accepted after any subcommand.
#[tokio::test(flavor = "multi_thread")]
async fn global_options_are_shown_once_and_accepted_everywhere() {
    let env = Env::new();
    let o = run(env.cmd(["--help"])).await;
    assert_code(&o, 0);
    let top = stdout(&o);
    for flag in ["--base-url", "--profile", "--jq", "--retries", "--mock"] {
        assert!(top.contains(flag), "{flag} in {top}");
    }
    for args in [
        &["search", "--help"][..],
        &["imagine", "image", "--help"],
        &["api", "call", "--help"],
        &["gallery", "upload", "-h"],
        &["help", "chat"],
    ] {
        let o = run(env.cmd(args)).await;
        assert_code(&o, 0);
        let help = stdout(&o);
        assert!(
            help.contains("Global options: see `rostro --help`"),
            "{args:?}: {help}"
        );
        for flag in [
            "--base-url",
            "--profile <NAME>",
            "--retries",
            "--idempotent",
        ] {
            assert!(!help.contains(flag), "{args:?} repeats {flag}: {help}");
        }
    }
    // Hidden from help, not from the parser.
    let o = run(env.cmd(["search", "dragon", "--mock", "--limit", "1", "--json"])).await;
    assert_code(&o, 0);
}

/// `api call OP` takes global options after its parameters like every other command, and
/// a parameter's value that looks like a flag stays the value.
#[tokio::test(flavor = "multi_thread")]
async fn global_options_work_after_api_call() {
    let env = Env::new();
    let o = run(env.cmd([
        "api",
        "call",
        "search_projects",
        "--first",
        "2",
        "--jq",
        ".nodes[].name",
        "-v",
        "--mock",
    ]))
    .await;
    assert_code(&o, 0);
    assert_eq!(stdout(&o).lines().count(), 2, "{}", stdout(&o));
    assert!(!stdout(&o).contains('{'), "--jq applied: {}", stdout(&o));
    assert!(stderr(&o).contains("> GET "), "-v traced: {}", stderr(&o));
    let o = run(env.cmd([
        "api",
        "call",
        "search_projects",
        "--search",
        "--json",
        "--first",
        "1",
        "--mock",
        "-v",
    ]))
    .await;
    assert_code(&o, 0);
    assert!(stderr(&o).contains("search=--json"), "{}", stderr(&o));
}

/// `rostro api GET` (a method, no path) is a usage error that shows the usage, not a
/// request to `/GET`.
#[tokio::test(flavor = "multi_thread")]
async fn api_with_a_method_and_no_path_is_a_usage_error() {
    let env = Env::new();
    for args in [&["api", "GET"][..], &["api", "delete"], &["api"]] {
        let o = run(env.cmd(args)).await;
        assert_code(&o, 2);
        let err = stderr(&o);
        assert!(err.contains("Usage: rostro api"), "{args:?}: {err}");
        assert!(!err.contains("could not connect"), "{args:?}: {err}");
    }
}

/// `chat --stream-json` implies `--json` (NDJSON chunks, not plain text); with
/// `--no-stream` there is nothing to stream: a usage error.
#[tokio::test(flavor = "multi_thread")]
async fn stream_json_implies_json() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    let base = mock.uri();
    let o = run(with_env(
        env.cmd(["--base-url", &base, "chat", "--stream-json", "hello there"]),
        "ROSTRO_API_KEY",
        "test-key-0000000",
    ))
    .await;
    assert_code(&o, 0);
    let lines = ndjson(&o);
    assert!(lines.len() > 1, "{}", stdout(&o));
    assert!(
        lines.iter().all(|l| l["object"] == "chat.completion.chunk"),
        "{}",
        stdout(&o)
    );
    let o = run(env.cmd(["chat", "--stream-json", "--no-stream", "hi"])).await;
    assert_code(&o, 2);
    let o = run(env.cmd(["chat", "--help"])).await;
    assert!(stdout(&o).contains("(implies --json)"), "{}", stdout(&o));
}

/// A negative number for any numeric flag is a value that is answered, never clap's
/// "unexpected argument '-1'" (the unit test in cli.rs walks every flag; this is the
/// spawned binary).
#[tokio::test(flavor = "multi_thread")]
async fn negative_numbers_reach_the_flag_that_takes_them() {
    let env = Env::new();
    for args in [
        &["--retries", "-1", "search", "dragon"][..],
        &["chat", "--max-tokens", "-5", "hi"],
        &["gallery", "upload", "--project", "1", "-j", "-2", "."],
        &["imagine", "wait", "abc", "--poll-interval", "-1"],
    ] {
        let o = run(env.cmd(args)).await;
        assert_code(&o, 2);
        let err = stderr(&o);
        assert!(!err.contains("unexpected argument"), "{args:?}: {err}");
        assert!(!err.contains("4294967295"), "{args:?}: {err}");
    }
    let o = run(env.cmd(["--retries", "-1", "search", "dragon"])).await;
    assert!(
        stderr(&o).contains("positive whole number or 0"),
        "{}",
        stderr(&o)
    );
}
