//! `--mock` as a persistent sandbox: state lasts between separate `rostro --mock`
//! processes, two at once do not lose each other's writes, `rostro mock reset|path`
//! manage it, chats and created characters persist, and `--mock auth` never touches the
//! real stored key.
//! Every test points the sandbox at its own temporary directory (`ROSTRO_MOCK_DIR`).

mod common;

use common::{Env, assert_code, ndjson, stderr, stdout, with_env};

fn mock_cmd(env: &Env, args: &[&str]) -> assert_cmd::Command {
    with_env(
        env.cmd(std::iter::once("--mock").chain(args.iter().copied())),
        "ROSTRO_MOCK_DIR",
        env.path().join("sandbox"),
    )
}

fn run(env: &Env, args: &[&str]) -> std::process::Output {
    mock_cmd(env, args).output().expect("run rostro")
}

#[test]
fn the_readme_flow_works_across_invocations() {
    let env = Env::new();
    let o = run(&env, &["imagine", "image", "a fox", "--no-wait"]);
    assert_code(&o, 0);
    let uuid = stdout(&o).trim().to_string();
    assert!(!uuid.is_empty());
    let o = run(&env, &["imagine", "wait", &uuid]);
    assert_code(&o, 0);

    // A second generation gets its own uuid.
    let o = run(&env, &["imagine", "image", "a fox", "--no-wait"]);
    assert_code(&o, 0);
    assert_ne!(stdout(&o).trim(), uuid);

    let o = run(&env, &["--json", "imagine", "history"]);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("a fox"), "{}", stdout(&o));

    let png = env.path().join("pic.png");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n0000").unwrap();
    let o = run(
        &env,
        &[
            "gallery",
            "upload",
            "--project",
            "42",
            png.to_str().unwrap(),
        ],
    );
    assert_code(&o, 0);
    let o = run(&env, &["--json", "gallery", "list"]);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("/media/"), "{}", stdout(&o));

    let lore = env.path().join("notes.txt");
    std::fs::write(&lore, "the old keep").unwrap();
    let o = run(&env, &["lore", "add", lore.to_str().unwrap()]);
    assert_code(&o, 0);
    let o = run(&env, &["lore", "list", "--owner", "1"]);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("notes.txt"), "{}", stdout(&o));

    let o = run(&env, &["personas", "create", "--name", "Bob"]);
    assert_code(&o, 0);
    let o = run(&env, &["personas", "list"]);
    assert!(stdout(&o).contains("Bob"), "{}", stdout(&o));

    // `mock path` shows the directory; `mock reset` empties it.
    let o = mock_cmd(&env, &[]).args(["mock", "path"]).output().unwrap();
    assert_code(&o, 0);
    assert_eq!(
        stdout(&o).trim(),
        env.path().join("sandbox").display().to_string()
    );
    let o = run(&env, &["mock", "reset"]);
    assert_code(&o, 0);
    let o = run(&env, &["lore", "list", "--owner", "1"]);
    assert!(!stdout(&o).contains("notes.txt"), "{}", stdout(&o));
    let o = run(&env, &["imagine", "wait", &uuid]);
    assert_ne!(
        o.status.code(),
        Some(0),
        "the generation is gone after a reset"
    );
}

#[test]
fn the_default_sandbox_lives_in_the_state_dir() {
    let env = Env::new();
    // No ROSTRO_MOCK_DIR: the platform state dir (XDG_STATE_HOME in the test env).
    let o = env.cmd(["mock", "path"]).output().unwrap();
    assert_code(&o, 0);
    assert_eq!(
        stdout(&o).trim(),
        env.path()
            .join("state")
            .join("rostro")
            .join("sandbox")
            .display()
            .to_string()
    );
}

#[test]
fn concurrent_invocations_keep_every_write() {
    let env = Env::new();
    let children: Vec<_> = (0..6)
        .map(|i| {
            let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("rostro"));
            c.env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("HOME", env.path())
                .env("XDG_CONFIG_HOME", env.path().join("config"))
                .env("XDG_STATE_HOME", env.path().join("state"))
                .env("ROSTRO_KEYRING", "off")
                .env("ROSTRO_MOCK_DIR", env.path().join("sandbox"))
                .args(["--mock", "personas", "create", "--name", &format!("p{i}")])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let o = run(&env, &["--json", "personas", "list"]);
    assert_code(&o, 0);
    let rows = ndjson(&o);
    let names: Vec<&str> = rows.iter().filter_map(|p| p["name"].as_str()).collect();
    for i in 0..6 {
        assert!(names.contains(&format!("p{i}").as_str()), "{names:?}");
    }
}

#[test]
fn mock_auth_never_touches_the_real_key() {
    let env = Env::new();
    let o = env
        .cmd(["auth", "login", "--with-token", "--no-verify"])
        .write_stdin("real-key-123456")
        .output()
        .unwrap();
    assert_code(&o, 0);

    // Status under --mock: the placeholder key every --mock command uses, in the sandbox.
    let o = run(&env, &["auth", "status"]);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("placeholder"), "{}", stdout(&o));
    assert!(stdout(&o).contains("Sandbox:"), "{}", stdout(&o));

    let o = mock_cmd(&env, &["auth", "login", "--with-token"])
        .write_stdin("sandbox-key-999999")
        .output()
        .unwrap();
    assert_code(&o, 0);
    assert!(stderr(&o).contains("sandbox") || stdout(&o).contains("sandbox"));
    let o = run(&env, &["auth", "token"]);
    assert_eq!(stdout(&o).trim(), "sandbox-key-999999");

    // The real key is unchanged.
    let o = env.cmd(["auth", "token"]).output().unwrap();
    assert_code(&o, 0);
    assert_eq!(stdout(&o).trim(), "real-key-123456");

    let o = run(&env, &["auth", "logout"]);
    assert_code(&o, 0);
    let o = run(&env, &["auth", "token"]);
    assert_eq!(stdout(&o).trim(), "rostro-mock-key");
    let o = env.cmd(["auth", "token"]).output().unwrap();
    assert_eq!(stdout(&o).trim(), "real-key-123456");
}

#[test]
fn help_and_readme_search_examples_return_results() {
    let env = Env::new();
    let o = run(
        &env,
        &[
            "search", "dragons", "--tag", "fantasy", "--limit", "5", "--json",
        ],
    );
    assert_code(&o, 0);
    assert!(!stdout(&o).trim().is_empty(), "no results");
    let o = run(
        &env,
        &[
            "api",
            "call",
            "search_projects",
            "--search",
            "wizard",
            "--first",
            "3",
        ],
    );
    assert_code(&o, 0);
    assert!(stdout(&o).contains("izard"), "{}", stdout(&o));
}

#[test]
fn chats_started_in_one_invocation_are_listed_and_shown_in_the_next() {
    let env = Env::new();
    let o = run(
        &env,
        &["api", "POST", "/api/core/chats", "-f", "name=Harbor watch"],
    );
    assert_code(&o, 0);
    let chat: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let id = chat["id"].as_u64().expect("the new chat's id").to_string();
    let msg = env.path().join("msg.json");
    std::fs::write(
        &msg,
        r#"{"messages": [{"role": "user", "content": "Any ships tonight?"}]}"#,
    )
    .unwrap();
    let o = run(
        &env,
        &[
            "api",
            "POST",
            &format!("/api/core/chats/v2/{id}/messages/atomic"),
            "--input",
            msg.to_str().unwrap(),
        ],
    );
    assert_code(&o, 0);

    let o = run(&env, &["chats", "list"]);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("Harbor watch"), "{}", stdout(&o));
    let o = run(&env, &["chats", "show", &id]);
    assert_code(&o, 0);
    assert!(
        stdout(&o).contains("user: Any ships tonight?"),
        "{}",
        stdout(&o)
    );
    let o = run(&env, &["mock", "reset"]);
    assert_code(&o, 0);
    let o = run(&env, &["chats", "show", &id]);
    assert_code(&o, 4);
}

#[test]
fn characters_create_prints_the_new_id_and_path_and_get_finds_it() {
    let env = Env::new();
    let o = run(&env, &["characters", "create", "--name", "Harbor Pilot"]);
    assert_code(&o, 0);
    let err = stderr(&o);
    let line = err
        .lines()
        .find(|l| l.contains("Created character: id "))
        .unwrap_or_else(|| panic!("{err}"));
    let path = line.rsplit(", ").next().unwrap().trim().to_owned();
    assert!(path.contains("/harbor-pilot"), "{line}");
    let o = run(&env, &["characters", "get", &path]);
    assert_code(&o, 0);
    assert!(stdout(&o).contains("Harbor Pilot"), "{}", stdout(&o));
}
