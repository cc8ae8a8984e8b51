//! `rostro auth`: login with --with-token into the fallback file (mode 0600) under a
//! temporary HOME, status, token, logout, ROSTRO_API_KEY precedence, and no credential in
//! `-v` output.

mod common;

use common::*;
use rostro_mock::RostroMock;

const KEY: &str = "ch-test-secret-key-0123456789";

#[tokio::test(flavor = "multi_thread")]
async fn login_status_token_logout() {
    let mock = RostroMock::builder().valid_key(KEY).start().await;
    let env = Env::new();
    let base = mock.uri();

    // Not logged in yet: exit 3.
    let o = run(env.cmd(["--base-url", &base, "auth", "status"])).await;
    assert_code(&o, 3);

    // A rejected key is not stored.
    let o = run_stdin(
        env.cmd(["--base-url", &base, "auth", "login", "--with-token"]),
        "wrong-key\n",
    )
    .await;
    assert_code(&o, 3);
    assert!(!env.config_dir().join("credentials.toml").exists());

    // The right key is verified and stored in the 0600 fallback file with a warning.
    let o = run_stdin(
        env.cmd(["--base-url", &base, "auth", "login", "--with-token"]),
        &format!("{KEY}\n"),
    )
    .await;
    assert_code(&o, 0);
    assert!(stderr(&o).contains("warning:"), "{}", stderr(&o));
    assert!(!stdout(&o).contains(KEY) && !stderr(&o).contains(KEY));
    let cred = env.config_dir().join("credentials.toml");
    let text = std::fs::read_to_string(&cred).unwrap();
    assert!(text.contains(KEY));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cred).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "credentials file mode {mode:o}");
    }
    // The mock saw the key on the account endpoint.
    assert!(mock.attempts("GET", "/api/account") >= 2);

    let o = run(env.cmd(["--base-url", &base, "--json", "auth", "status"])).await;
    assert_code(&o, 0);
    let v = json(&o);
    assert_eq!(v["logged_in"], true);
    assert_eq!(v["verified"], true);
    assert!(!v["token"].as_str().unwrap().contains("secret"));
    assert!(!stdout(&o).contains(KEY));

    let o = run(env.cmd(["auth", "token"])).await;
    assert_code(&o, 0);
    assert_eq!(stdout(&o).trim(), KEY);

    // The stored key is used for requests (the mock only accepts KEY).
    let o = run(env.cmd(["--base-url", &base, "--json", "account", "show"])).await;
    assert_code(&o, 0);

    // ROSTRO_API_KEY takes precedence over the stored key.
    let o = run(with_env(
        env.cmd(["--base-url", &base, "account", "show"]),
        "ROSTRO_API_KEY",
        "some-other-key",
    ))
    .await;
    assert_code(&o, 3);

    let o = run(env.cmd(["auth", "logout"])).await;
    assert_code(&o, 0);
    let o = run(env.cmd(["auth", "token"])).await;
    assert_code(&o, 3);
    let o = run(env.cmd(["auth", "logout"])).await;
    assert_code(&o, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn profiles_keep_separate_keys() {
    let env = Env::new();
    for (profile, key) in [("a", "key-for-a-000000"), ("b", "key-for-b-000000")] {
        let o = run_stdin(
            env.cmd([
                "--profile",
                profile,
                "auth",
                "login",
                "--with-token",
                "--no-verify",
            ]),
            key,
        )
        .await;
        assert_code(&o, 0);
    }
    let o = run(env.cmd(["--profile", "a", "auth", "token"])).await;
    assert_eq!(stdout(&o).trim(), "key-for-a-000000");
    let o = run(with_env(env.cmd(["auth", "token"]), "ROSTRO_PROFILE", "b")).await;
    assert_eq!(stdout(&o).trim(), "key-for-b-000000");
    // Empty input is a usage error.
    let o = run_stdin(env.cmd(["auth", "login", "--with-token"]), "  \n").await;
    assert_code(&o, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn verbose_trace_never_shows_the_key() {
    let mock = RostroMock::builder().valid_key(KEY).start().await;
    let env = Env::new();
    let o = run(with_env(
        env.cmd([
            "--base-url",
            &mock.uri(),
            "-v",
            "--json",
            "search",
            "--limit",
            "2",
        ]),
        "ROSTRO_API_KEY",
        KEY,
    ))
    .await;
    assert_code(&o, 0);
    let err = stderr(&o);
    assert!(err.contains("> GET "), "{err}");
    assert!(err.contains("/search?"), "{err}");
    assert!(err.contains("< 200 OK"), "{err}");
    assert!(err.contains("Bearer ***"), "{err}");
    assert!(!err.contains(KEY) && !stdout(&o).contains(KEY));
    assert!(!err.contains("secret"), "{err}");

    // CH-API-KEY style, and an error response: still redacted.
    let o = run(with_env(
        env.cmd(["config", "set", "auth_header", "ch-api-key"]),
        "ROSTRO_API_KEY",
        KEY,
    ))
    .await;
    assert_code(&o, 0);
    let o = run(with_env(
        env.cmd(["--base-url", &mock.uri(), "-v", "gallery", "delete", "nope"]),
        "ROSTRO_API_KEY",
        KEY,
    ))
    .await;
    assert_code(&o, 4);
    let err = stderr(&o);
    assert!(err.contains("CH-API-KEY: ***"), "{err}");
    assert!(err.contains("< 404"), "{err}");
    assert!(!err.contains(KEY));
}
