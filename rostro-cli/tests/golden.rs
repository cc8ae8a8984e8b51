//! Golden tests: every command run in-process ([`rostro_cli::run_with`]) against the `--mock`
//! server, human and `--json`, as a pipe and (where the output differs) as a terminal; stdout
//! and stderr compared with `tests/golden/*.txt` (see `golden/harness.rs` for the format and
//! the normaliser). Refresh with `UPDATE_GOLDEN=1 cargo test -p rostro-cli --test golden`.
//! `every_command_has_a_golden_test` walks the clap tree and fails for a command that no
//! golden file runs.

#[path = "golden/harness.rs"]
mod harness;
#[path = "golden/in_process.rs"]
mod in_process;
#[path = "golden/media.rs"]
mod media;

use harness::{Golden, Mode};

/// A small PNG (the mock checks the magic bytes, nothing more).
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
/// A small WAV header.
const WAV: &[u8] =
    b"RIFF$\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x40\x1f\0\0\x80\x3e\0\0\x02\0\x10\0data\0\0\0\0";

/// The first `"uuid"` (or `"id"`) string of a JSON answer.
fn first_id(v: &serde_json::Value, key: &str) -> Option<String> {
    match v {
        serde_json::Value::Object(m) => {
            if let Some(s) = m.get(key).and_then(|x| {
                x.as_str()
                    .map(str::to_owned)
                    .or_else(|| x.as_i64().map(|n| n.to_string()))
            }) {
                return Some(s);
            }
            m.values().find_map(|x| first_id(x, key))
        }
        serde_json::Value::Array(a) => a.iter().find_map(|x| first_id(x, key)),
        _ => None,
    }
}

/// The value of a `key` field in the NDJSON lines / JSON document of `text`.
fn id_in(text: &str, key: &str) -> String {
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .chain(serde_json::from_str::<serde_json::Value>(text).ok())
        .find_map(|v| first_id(&v, key))
        .unwrap_or_else(|| panic!("no `{key}` in:\n{text}"))
}

#[test]
fn search() {
    let mut g = Golden::new("search");
    g.run(&["--mock", "search", "dragon", "--limit", "3"]);
    g.tty(&["--mock", "search", "dragon", "--limit", "3"]);
    g.run(&["--mock", "--json", "search", "dragon", "--limit", "2"]);
    g.run(&["--mock", "search", "zzzz-nothing-matches"]);
    g.tty(&["--mock", "search", "zzzz-nothing-matches"]);
    g.finish();
}

#[test]
fn models() {
    let mut g = Golden::new("models");
    g.run(&["--mock", "models"]);
    g.run(&["--mock", "--json", "models"]);
    g.finish();
}

#[test]
fn chat() {
    let mut g = Golden::new("chat");
    g.run(&["--mock", "chat", "hello there"]);
    g.run(&["--mock", "chat", "--no-stream", "hello there"]);
    g.run(&["--mock", "--json", "chat", "--no-stream", "hello there"]);
    g.stdin(&["--mock", "chat"], b"summarise this\n");
    g.run(&["--mock", "chat"]);
    g.stdin(&["--mock", "chat", "--repl"], b"hi\nhow are you\n");
    g.step(&["--mock", "chat", "--repl"], Mode::Tty, b"hi\n/bogus\n");
    g.finish();
}

#[test]
fn characters() {
    let mut g = Golden::new("characters");
    g.run(&["--mock", "characters", "get", "1096"]);
    g.run(&[
        "--mock",
        "--json",
        "characters",
        "get",
        "saltwind/mira-starling-1096",
    ]);
    g.run(&[
        "--mock",
        "characters",
        "download",
        "1096",
        "--out",
        &g.path("card.png"),
    ]);
    g.run(&[
        "--mock",
        "characters",
        "download",
        "1096",
        "--format",
        "json",
        "--out",
        &g.path("card.json"),
    ]);
    g.run(&[
        "--mock",
        "characters",
        "create",
        "--name",
        "Keeper",
        "--tagline",
        "keeps the light",
        "--dry-run",
    ]);
    let o = g.run(&[
        "--mock",
        "characters",
        "create",
        "--name",
        "Keeper",
        "--tagline",
        "keeps the light",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    g.run(&[
        "--mock",
        "--json",
        "characters",
        "create",
        "--name",
        "Keeper Two",
    ]);
    g.run(&[
        "--mock",
        "characters",
        "update",
        "saltwind/mira-starling-1096",
        "--tagline",
        "a new tagline",
    ]);
    g.run(&["--mock", "characters", "fork", "1096"]);
    g.run(&["--mock", "characters", "favorite", "1096"]);
    g.run(&["--mock", "characters", "favorite", "1096", "--remove"]);
    g.run(&["--mock", "characters", "expressions", "1096"]);
    g.run(&["--mock", "--json", "characters", "expressions", "1096"]);
    g.run(&["--mock", "characters", "delete", "1096"]);
    // Prompts need the process's terminal: an in-process run "as a TTY" gets the usage error.
    g.tty(&["--mock", "characters", "delete", "1096"]);
    g.run(&["--mock", "characters", "delete", "1096", "--yes"]);
    g.finish();
}

#[test]
fn personas() {
    let mut g = Golden::new("personas");
    let o = g.run(&[
        "--mock",
        "--json",
        "personas",
        "create",
        "--name",
        "Sailor",
        "--description",
        "a tired sailor",
    ]);
    let id = id_in(&o.stdout, "id");
    g.run(&["--mock", "personas", "create", "--name", "Cook"]);
    g.run(&["--mock", "personas", "list"]);
    g.run(&["--mock", "--json", "personas", "list"]);
    g.run(&["--mock", "personas", "update", &id, "--name", "Old sailor"]);
    g.run(&["--mock", "personas", "delete", &id, "--yes"]);
    g.finish();
}

#[test]
fn chats() {
    let mut g = Golden::new("chats");
    g.run(&["--mock", "chats", "list", "--limit", "3"]);
    let o = g.run(&[
        "--mock",
        "api",
        "POST",
        "/api/core/chats",
        "-f",
        "name=Trip",
    ]);
    let id = id_in(&o.stdout, "id");
    g.run(&["--mock", "chats", "list", "--limit", "3"]);
    g.run(&["--mock", "--json", "chats", "list", "--limit", "2"]);
    g.run(&["--mock", "chats", "show", &id]);
    g.run(&["--mock", "--json", "chats", "show", &id]);
    g.run(&[
        "--mock",
        "chats",
        "export",
        &id,
        "--output",
        &g.path("chat.jsonl"),
    ]);
    g.finish();
}

#[test]
fn account_and_follow() {
    let mut g = Golden::new("account");
    g.run(&["--mock", "account", "show"]);
    g.run(&["--mock", "--json", "account", "show"]);
    g.run(&["--mock", "account", "tokens"]);
    g.run(&["--mock", "--json", "account", "tokens"]);
    g.run(&["--mock", "follow", "user", "saltwind"]);
    g.run(&["--mock", "follow", "tag", "dragons"]);
    g.run(&["--mock", "follow", "list"]);
    g.run(&["--mock", "--json", "follow", "list"]);
    g.run(&["--mock", "follow", "followers", "saltwind"]);
    g.run(&["--mock", "follow", "user", "saltwind", "--remove"]);
    g.finish();
}

#[test]
fn config() {
    let mut g = Golden::new("config");
    g.run(&["config", "list"]);
    g.run(&["config", "set", "profile.work.default_model", "asha"]);
    g.run(&["config", "set", "profile", "work"]);
    g.run(&["config", "get", "profile.work.default_model"]);
    g.run(&["config", "list"]);
    g.run(&["--json", "config", "list"]);
    g.run(&["config", "unset", "profile"]);
    g.run(&["config", "get", "profile"]);
    g.run(&["config", "set", "profile.work.nonsense", "x"]);
    g.run(&["config", "path"]);
    g.finish();
}

#[test]
fn auth_file_fallback() {
    let mut g = Golden::new("auth");
    g.run(&["auth", "status", "--offline"]);
    g.stdin(
        &["auth", "login", "--with-token", "--no-verify"],
        b"rk-golden-test-key\n",
    );
    g.run(&["auth", "status", "--offline"]);
    g.run(&["--json", "auth", "status", "--offline"]);
    g.run(&["auth", "token"]);
    g.run(&["auth", "logout"]);
    g.run(&["auth", "token"]);
    g.stdin(
        &["--mock", "auth", "login", "--with-token"],
        b"rk-sandbox-key\n",
    );
    g.run(&["--mock", "auth", "status"]);
    g.run(&["auth", "login"]);
    g.finish();
}

/// A Routstr profile `node` served by the in-process Routstr mock of `--mock`.
fn routstr_sandbox(name: &str) -> Golden {
    let g = Golden::new(name);
    for (k, v) in [
        ("provider", "routstr"),
        ("base_url", "https://node.example"),
    ] {
        let o = g.quiet(&["config", "set", &format!("profile.node.{k}"), v]);
        assert_eq!(o.code, 0, "{}", o.stderr);
    }
    g
}

fn token(msats: u64, secret: &str) -> String {
    rostro_mock::routstr::mint_token(rostro_mock::routstr::DEFAULT_MINT_URL, msats, secret)
}

#[test]
fn wallet() {
    let mut g = routstr_sandbox("wallet");
    let n = ["--profile", "node", "--mock"];
    let with =
        |rest: &[&str]| -> Vec<String> { n.iter().chain(rest).map(|s| s.to_string()).collect() };
    let run = |g: &mut Golden, rest: &[&str], mode: Mode, stdin: &[u8]| {
        let args = with(rest);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        g.step(&args, mode, stdin)
    };
    let t1 = token(50_000, "golden-1");
    let t2 = token(20_000, "golden-2");
    run(&mut g, &["wallet", "info"], Mode::Pipe, b"");
    run(
        &mut g,
        &["wallet", "create", "--token", &t1, "--replace"],
        Mode::Pipe,
        b"",
    );
    run(&mut g, &["wallet", "info"], Mode::Pipe, b"");
    run(&mut g, &["--json", "wallet", "info"], Mode::Pipe, b"");
    run(
        &mut g,
        &["wallet", "topup", "--token", "-"],
        Mode::Pipe,
        t2.as_bytes(),
    );
    run(&mut g, &["wallet", "history"], Mode::Pipe, b"");
    run(&mut g, &["--json", "wallet", "history"], Mode::Pipe, b"");
    run(
        &mut g,
        &[
            "wallet",
            "child-keys",
            "--count",
            "2",
            "--balance-limit",
            "1000",
        ],
        Mode::Pipe,
        b"",
    );
    let o = run(
        &mut g,
        &["--json", "wallet", "invoice", "--amount", "7"],
        Mode::Pipe,
        b"",
    );
    let id = id_in(&o.stdout, "invoice_id");
    run(&mut g, &["wallet", "invoice-status", &id], Mode::Pipe, b"");
    run(
        &mut g,
        &["wallet", "invoice", "--amount", "3"],
        Mode::Tty,
        b"",
    );
    run(
        &mut g,
        &["chat", "-m", "gpt-4o-mini", "hello node"],
        Mode::Pipe,
        b"",
    );
    run(&mut g, &["models"], Mode::Pipe, b"");
    let refund = g.path("refund.txt");
    run(
        &mut g,
        &["wallet", "refund", "--out", &refund],
        Mode::Pipe,
        b"",
    );
    run(&mut g, &["wallet", "info"], Mode::Pipe, b"");
    g.finish();
}

#[test]
fn api() {
    let mut g = Golden::new("api");
    g.run(&["--mock", "api", "/api/account"]);
    g.run(&[
        "--mock",
        "api",
        "GET",
        "/search?search=dragon&first=1",
        "--jq",
        ".nodes[0].name",
    ]);
    g.run(&["--mock", "api", "-i", "GET", "/api/self"]);
    g.run(&["--mock", "api", "GET", "/api/nothing-here"]);
    g.run(&[
        "--mock",
        "--jq",
        ".nodes | length",
        "api",
        "call",
        "search.list",
        "--search",
        "dragon",
        "--first",
        "1",
    ]);
    g.run(&[
        "--mock",
        "api",
        "call",
        "search.list",
        "--search",
        "dragon",
        "--first",
        "1",
        "--jq",
        ".nodes | length",
    ]);
    g.run(&["--mock", "api", "call", "no_such_operation"]);
    g.head(&["api", "operations"], 8);
    g.head(&["--json", "api", "operations", "--api-only"], 3);
    g.finish();
}

#[test]
fn completion_man_mock() {
    let mut g = Golden::new("completion");
    g.head(&["completion", "bash"], 5);
    g.head(&["completion", "zsh"], 5);
    g.head(&["man"], 12);
    g.head(&["man", "imagine", "image"], 12);
    g.run(&["man", "--out-dir", &g.path("man")]);
    g.run(&["mock", "path"]);
    g.quiet(&["--mock", "personas", "create", "--name", "Kept"]);
    g.run(&["mock", "reset"]);
    g.run(&["--mock", "personas", "list"]);
    g.finish();
}

#[test]
fn usage_errors_and_help() {
    let mut g = Golden::new("usage");
    g.run(&["--version"]);
    g.run(&["no-such-command"]);
    g.run(&["--mock", "--base-url", "http://127.0.0.1:9", "models"]);
    g.run(&["--timeout", "0", "models"]);
    g.run(&["--jq", ".[", "--mock", "models"]);
    g.head(&["imagine", "--help"], 6);
    g.finish();
}

/// The coverage check: every command of the clap tree is run successfully (exit 0) by at
/// least one golden file (the `# command:` lines the harness writes); the count is printed.
#[test]
fn every_command_has_a_golden_test() {
    let leaves = harness::leaf_commands();
    let mut covered = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(harness::golden_dir()).expect("tests/golden") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "txt") {
            let text = std::fs::read_to_string(&path).expect("read");
            for l in text.lines() {
                // Only a run that succeeded counts: an error shows little of a command.
                if let Some(rest) = l.strip_prefix("# command: ")
                    && rest.ends_with(" · exit 0")
                {
                    covered.insert(rest.split(" · ").next().unwrap_or("").to_owned());
                }
            }
        }
    }
    let missing: Vec<&String> = leaves.iter().filter(|l| !covered.contains(*l)).collect();
    println!(
        "commands with golden tests: {}/{}",
        leaves.len() - missing.len(),
        leaves.len()
    );
    assert!(
        missing.is_empty(),
        "commands without a golden test: {missing:?}"
    );
}

#[test]
fn the_normaliser_replaces_only_what_varies() {
    let t = "at /tmp/x/y.png http://127.0.0.1:43123/a 0c6f2a8e-1b2c-4d5e-8f90-a1b2c3d4e5f6 \
             (GET x, attempt 1, 12 ms) id 1096 in (2.5s) 10 items";
    assert_eq!(
        harness::normalise(t, &["/tmp/x"]),
        "at [TMP]/y.png http://127.0.0.1:[PORT]/a [UUID] (GET x, attempt 1, [TIME] ms) id 1096 \
         in ([TIME]s) 10 items"
    );
    assert_eq!(
        harness::normalise(
            "3000 msat (3 sat), done in 0.8s\n1500ms 2s. v2s 10 items",
            &[]
        ),
        "3000 msat (3 sat), done in [TIME]s\n[TIME]ms [TIME]s. v2s 10 items"
    );
    let d = harness::diff("a\nb\nc\n", "a\nB\nc\n");
    assert!(d.contains("-  b") && d.contains("+  B"), "{d}");
}
