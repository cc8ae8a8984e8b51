//! Process-level basics: version, help with the exit-code table, usage errors, completions,
//! the man page, config, the operation table, --jq.

mod common;

use common::*;

#[tokio::test]
async fn version_and_help() {
    let env = Env::new();
    let o = run(env.cmd(["--version"])).await;
    assert_code(&o, 0);
    assert!(stdout(&o).starts_with("rostro "));

    let o = run(env.cmd(["--help"])).await;
    assert_code(&o, 0);
    let help = stdout(&o);
    for needle in [
        "Exit codes:",
        "  0  success",
        "  2  usage error",
        "  3  authentication failed",
        "  4  not found",
        "  5  rate limited",
        "  6  a generation failed",
        "  7  timed out",
        "130  interrupted",
        "--mock",
        "--jq",
    ] {
        assert!(help.contains(needle), "help lacks {needle:?}:\n{help}");
    }
}

#[tokio::test]
async fn usage_errors_exit_2() {
    let env = Env::new();
    for args in [
        vec!["--no-such-flag"],
        vec!["nosuchcommand"],
        vec!["imagine", "image"],
        vec!["search", "--limit", "notanumber"],
        vec!["--jq", ".[", "models"],
        vec!["imagine", "image", "x", "--aspect-ratio", "7:5"],
        vec!["config", "set", "nope", "x"],
        vec!["--mock", "--base-url", "http://x", "models"],
    ] {
        let o = run(env.cmd(&args)).await;
        assert_code(&o, 2);
        assert!(!stderr(&o).is_empty(), "{args:?} printed no error");
    }
    // A prompt needs a terminal: the error names the flag to use.
    let o = run_stdin(env.cmd(["auth", "login"]), "").await;
    assert_code(&o, 2);
    assert!(stderr(&o).contains("--with-token"), "{}", stderr(&o));
}

#[tokio::test]
async fn completions_and_man_page() {
    let env = Env::new();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let o = run(env.cmd(["completion", shell])).await;
        assert_code(&o, 0);
        assert!(stdout(&o).contains("imagine"), "{shell} completion");
    }
    let o = run(env.cmd(["man"])).await;
    assert_code(&o, 0);
    assert!(stdout(&o).contains(".TH rostro"), "{}", stdout(&o));
    let dir = env.path().join("man");
    let o = run(env.cmd(["man", "--out-dir", dir.to_str().unwrap()])).await;
    assert_code(&o, 0);
    assert!(dir.join("rostro-imagine.1").is_file());
}

#[tokio::test]
async fn config_profiles() {
    let env = Env::new();
    let o = run(env.cmd(["config", "set", "base_url", "https://example.test"])).await;
    assert_code(&o, 0);
    let o = run(env.cmd([
        "--profile",
        "work",
        "config",
        "set",
        "default_model",
        "asha",
    ]))
    .await;
    assert_code(&o, 0);
    let o = run(env.cmd(["config", "set", "profile", "work"])).await;
    assert_code(&o, 0);

    let o = run(env.cmd(["config", "get", "default_model"])).await;
    assert_code(&o, 0);
    assert_eq!(stdout(&o).trim(), "asha");
    let o = run(env.cmd(["--profile", "default", "config", "get", "base_url"])).await;
    assert_eq!(stdout(&o).trim(), "https://example.test");
    let o = run(with_env(
        env.cmd(["config", "get", "base_url"]),
        "ROSTRO_PROFILE",
        "default",
    ))
    .await;
    assert_eq!(stdout(&o).trim(), "https://example.test");
    // Unset keys show the value in effect (mimic_base_url follows base_url); a key without a
    // default is "not found".
    let o = run(env.cmd(["config", "get", "mimic_base_url"])).await;
    assert_code(&o, 0);
    assert_eq!(stdout(&o).trim(), "https://api.rostro.dev");
    let o = run(env.cmd(["--profile", "default", "config", "get", "mimic_base_url"])).await;
    assert_eq!(stdout(&o).trim(), "https://example.test");
    let o = run(env.cmd(["--profile", "default", "config", "get", "default_model"])).await;
    assert_code(&o, 4);

    let o = run(env.cmd(["--json", "config", "list"])).await;
    assert_code(&o, 0);
    let v = json(&o);
    assert_eq!(v["profile"], "work");
    assert_eq!(v["profiles"]["default"]["base_url"], "https://example.test");
    assert_eq!(v["profiles"]["work"]["default_model"], "asha");

    // Validation.
    for (k, v) in [
        ("base_url", "not a url"),
        ("auth_header", "cookie"),
        ("provider", "openai"),
        ("balance_prefix", "v2"),
        ("profile.x", "routstr"),
    ] {
        let o = run(env.cmd(["config", "set", k, v])).await;
        assert_code(&o, 2);
    }
    // `profile.NAME.KEY` names the profile; routstr is a provider.
    let o = run(env.cmd(["config", "set", "profile.node.provider", "routstr"])).await;
    assert_code(&o, 0);
    let o = run(env.cmd(["config", "get", "profile.node.provider"])).await;
    assert_eq!(stdout(&o).trim(), "routstr");
    let o = run(env.cmd(["--profile", "node", "config", "get", "provider"])).await;
    assert_eq!(stdout(&o).trim(), "routstr");
    let text = std::fs::read_to_string(env.config_dir().join("config.toml")).unwrap();
    assert!(text.contains("[profiles.work]"), "{text}");
    assert!(text.contains("[profiles.node]"), "{text}");
}

#[tokio::test]
async fn operations_table_covers_every_operation() {
    let env = Env::new();
    let o = run(env.cmd(["api", "operations", "--json"])).await;
    assert_code(&o, 0);
    let ops = ndjson(&o);
    assert_eq!(ops.len(), 219);
    let ids: std::collections::HashSet<&str> =
        ops.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 219);
    let search = ops.iter().find(|o| o["id"] == "search_projects").unwrap();
    assert_eq!(search["cli"], "search");
    assert_eq!(search["path"], "/search");
    // --jq applies per NDJSON item; strings print raw.
    let o = run(env.cmd([
        "api",
        "operations",
        "--jq",
        "select(.sdk == \"imagine.check\") | .cli",
    ]))
    .await;
    assert_eq!(stdout(&o).trim(), "imagine wait");
}

#[tokio::test]
async fn jq_filters_json_output() {
    let env = Env::new();
    let o = run(env.cmd(["--mock", "models", "--jq", ".id"])).await;
    assert_code(&o, 0);
    let out = stdout(&o);
    let ids: Vec<&str> = out.lines().collect();
    assert!(ids.contains(&"mobile"), "{ids:?}");
    // A runtime jq error is an error (exit 1), not a crash.
    let o = run(env.cmd(["--mock", "models", "--jq", "error(\"boom\")"])).await;
    assert_code(&o, 1);
    assert!(stderr(&o).contains("boom"));
}
