//! Golden tests: every command run in-process ([`rostro_cli::run_with`]) against the `--mock`
//! server, human and `--json`, as a pipe and (where the output differs) as a terminal; stdout
//! and stderr compared with `tests/golden/*.txt` (see `golden/harness.rs` for the format and
//! the normaliser). Refresh with `UPDATE_GOLDEN=1 cargo test -p rostro-cli --test golden`.
//! `every_command_has_a_golden_test` walks the clap tree and fails for a command that no
//! golden file runs.

#[path = "golden/harness.rs"]
mod harness;

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
    g.finish();
}

#[test]
fn imagine() {
    let mut g = Golden::new("imagine");
    let out = g.path("out");
    std::fs::create_dir_all(&out).unwrap();
    g.run(&[
        "--mock",
        "imagine",
        "image",
        "a lighthouse at dusk",
        "--seed",
        "7",
        "--out",
        &out,
    ]);
    g.tty(&[
        "--mock",
        "imagine",
        "image",
        "a lighthouse at dusk",
        "--seed",
        "7",
        "--out",
        &out,
    ]);
    let o = g.run(&[
        "--mock",
        "--json",
        "imagine",
        "image",
        "a harbour",
        "--no-wait",
    ]);
    let uuid = id_in(&o.stdout, "uuid");
    g.run(&[
        "--mock",
        "imagine",
        "wait",
        &uuid,
        "--out",
        &g.path("wait.png"),
    ]);
    g.run(&["--mock", "--json", "imagine", "wait", &uuid]);
    let o = g.run(&["--mock", "imagine", "image", "a cliff", "--no-wait"]);
    assert_eq!(o.code, 0);
    g.run(&["--mock", "imagine", "history", "--limit", "3"]);
    g.run(&["--mock", "--json", "imagine", "history", "--limit", "2"]);
    g.finish();
}

#[test]
fn imagine_media() {
    let mut g = Golden::new("imagine-media");
    let img = g.file("in.png", PNG);
    let out = g.path("media/");
    for args in [
        vec!["video", "waves", "--duration", "3"],
        vec!["speech", "hello sailor", "--voice", "calm_female_20s"],
        vec!["music", "a sea shanty", "--music-type", "instrumental"],
        vec!["sfx", "a foghorn"],
        vec!["model3d", "a lighthouse"],
        vec!["edit", img.as_str(), "make it night"],
        vec!["animate", img.as_str(), "the light turns"],
        vec!["upscale", img.as_str()],
    ] {
        let mut argv = vec!["--mock", "imagine"];
        argv.extend(args.iter().copied());
        argv.extend(["--out", out.as_str()]);
        g.run(&argv);
    }
    g.run(&["--mock", "--json", "imagine", "sfx", "a bell", "--no-wait"]);
    g.finish();
}

#[test]
fn gallery() {
    let mut g = Golden::new("gallery");
    let dir = g.path("renders");
    g.file("renders/a.png", PNG);
    g.file("renders/b.png", PNG);
    let manifest = g.path("upload.ndjson");
    g.run(&[
        "--mock",
        "gallery",
        "upload",
        "--project",
        "1096",
        &dir,
        "--manifest",
        &manifest,
        "-j",
        "1",
    ]);
    g.run(&[
        "--mock",
        "--json",
        "gallery",
        "upload",
        "--project",
        "1096",
        &g.path("renders/a.png"),
    ]);
    g.run(&[
        "--mock",
        "gallery",
        "list",
        "--project",
        "1096",
        "--limit",
        "5",
    ]);
    let o = g.run(&[
        "--mock",
        "--json",
        "gallery",
        "list",
        "--project",
        "1096",
        "--limit",
        "5",
    ]);
    let uuid = id_in(&o.stdout, "uuid");
    g.run(&["--mock", "gallery", "delete", &uuid]);
    g.finish();
}

#[test]
fn lore() {
    let mut g = Golden::new("lore");
    let notes = g.file("notes.txt", b"The lighthouse keeper is called Mira.\n");
    g.run(&["--mock", "lore", "add", &notes, "--owner", "1096"]);
    let o = g.run(&["--mock", "--json", "lore", "add", &notes, "--owner", "1096"]);
    let uuid = id_in(&o.stdout, "uuid");
    g.run(&["--mock", "lore", "list", "--owner", "1096"]);
    g.run(&["--mock", "--json", "lore", "list", "--owner", "1096"]);
    g.run(&[
        "--mock",
        "lore",
        "query",
        "who keeps the lighthouse?",
        "--owner",
        "1096",
    ]);
    g.run(&[
        "--mock",
        "--json",
        "lore",
        "query",
        "who keeps the lighthouse?",
        "--owner",
        "1096",
    ]);
    g.run(&["--mock", "lore", "remove", "1096", &uuid]);
    let o = g.quiet(&[
        "--mock",
        "--json",
        "search",
        "dragon",
        "--lorebooks",
        "--limit",
        "1",
    ]);
    let book = if o.code == 0 {
        id_in(&o.stdout, "id")
    } else {
        "1".to_owned()
    };
    g.run(&[
        "--mock",
        "lore",
        "download",
        &book,
        "--out",
        &g.path("book.json"),
    ]);
    g.run(&[
        "--mock", "lore", "download", &book, "--format", "book", "--out", "-",
    ]);
    g.finish();
}

#[test]
fn voices_and_stt() {
    let mut g = Golden::new("voices");
    let wav = g.file("voice.wav", WAV);
    g.run(&["--mock", "voices", "list"]);
    g.run(&["--mock", "--json", "voices", "list"]);
    let o = g.run(&[
        "--mock", "--json", "voices", "clone", &wav, "--name", "Keeper",
    ]);
    g.run(&["--mock", "voices", "clone", &wav, "--name", "Keeper 2"]);
    let id = id_in(&o.stdout, "uuid");
    g.run(&["--mock", "voices", "delete", &id]);
    g.run(&["--mock", "stt", &wav]);
    g.run(&["--mock", "--json", "stt", &wav]);
    g.finish();
}

#[test]
fn assets() {
    let mut g = Golden::new("assets");
    let file = g.file("model.glb", &[7u8; 4096]);
    g.run(&["--mock", "assets", "upload", &file]);
    let o = g.run(&[
        "--mock",
        "--json",
        "assets",
        "upload",
        &file,
        "--chunk-threshold",
        "0",
        "--part-size",
        "1",
    ]);
    g.run(&["--mock", "assets", "list"]);
    g.run(&["--mock", "--json", "assets", "list"]);
    let id = id_in(&o.stdout, "uuid");
    g.run(&["--mock", "assets", "get", &id]);
    g.run(&["--mock", "--json", "assets", "get", &id]);
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

/// The coverage check: every command of the clap tree is run by at least one golden file
/// (the `# command:` lines the harness writes), and the count is printed.
#[test]
fn every_command_has_a_golden_test() {
    let leaves = harness::leaf_commands();
    let mut covered = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(harness::golden_dir()).expect("tests/golden") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "txt") {
            let text = std::fs::read_to_string(&path).expect("read");
            for l in text.lines() {
                if let Some(rest) = l.strip_prefix("# command: ") {
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

// --- In-process runs: isolation, and printed commands that re-run as printed ---------------

/// Splits a command line printed by rostro (words quoted for a POSIX shell with `'...'`).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    cur.push(q);
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            ' ' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// The text between `start` and the next `end` after it.
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let i = text
        .find(start)
        .unwrap_or_else(|| panic!("no `{start}` in:\n{text}"))
        + start.len();
    let j = text[i..].find(end).expect("end marker") + i;
    &text[i..j]
}

/// A wallet hint names the profile and `--mock`: run as printed, it refunds the key it is
/// about (before, `rostro wallet refund` ran on the default, non-Routstr profile: exit 2).
#[test]
fn wallet_hints_re_run_as_printed() {
    let g = routstr_sandbox("scratch");
    let n = ["--profile", "node", "--mock"];
    let o = g.quiet(&[&n[..], &["wallet", "info"]].concat());
    assert_eq!(o.code, 0, "{}", o.stderr);
    let t = token(10_000, "hint-1");
    let o = g.quiet(&[&n[..], &["wallet", "create", "--token", &t]].concat());
    assert_eq!(o.code, 2, "a key is stored already: {}", o.stderr);
    let hint = between(&o.stderr, "refund it first (`", "`)");
    let words = shell_words(hint);
    assert_eq!(
        words,
        ["rostro", "--profile", "node", "--mock", "wallet", "refund"],
        "{hint}"
    );
    let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    let o = g.quiet(&args);
    assert_eq!(o.code, 0, "{hint}: {}", o.stderr);
    assert!(o.stderr.contains("Refunded"), "{}", o.stderr);

    // `wallet invoice` says how to check it, with the same globals and key choice.
    let o = g.exec(
        &[
            &n[..],
            &["wallet", "invoice", "--amount", "2", "--no-store"],
        ]
        .concat(),
        Mode::Tty,
        b"",
    );
    let hint = between(&o.stderr, "after paying: `", "`");
    let words = shell_words(hint);
    assert_eq!(
        &words[..4],
        ["rostro", "--profile", "node", "--mock"],
        "{hint}"
    );
    assert!(
        words.ends_with(&["--wait".into(), "--no-store".into()]),
        "{hint}"
    );
    let mut args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    args.retain(|a| *a != "--wait");
    let o = g.quiet(&args);
    assert_eq!(o.code, 0, "{hint}: {}", o.stderr);
    assert!(o.stderr.contains("pending"), "{}", o.stderr);
}

/// `--mock` keeps wallet keys in the sandbox: `wallet create` never writes the real
/// credential store, and the next `--mock` command uses the key it created (before, the key
/// went to the real store and `wallet info` showed the sandbox's other key).
#[test]
fn mock_wallet_keys_stay_in_the_sandbox() {
    let g = routstr_sandbox("scratch");
    let n = ["--profile", "node", "--mock"];
    let t = token(40_000, "sandbox-1");
    let o = g.quiet(&[&n[..], &["--json", "wallet", "create", "--token", &t]].concat());
    assert_eq!(o.code, 0, "{}", o.stderr);
    let created: serde_json::Value = serde_json::from_str(&o.stdout).expect("json");
    let stored_in = created["stored_in"].as_str().expect("stored");
    assert!(stored_in.contains("sandbox"), "{stored_in}");
    assert!(
        !std::path::Path::new(&g.path("config/rostro/credentials.toml")).exists(),
        "the real credential store is untouched"
    );
    let o = g.quiet(&[&n[..], &["--json", "wallet", "info"]].concat());
    let info: serde_json::Value = serde_json::from_str(&o.stdout).expect("json");
    assert_eq!(info["api_key"], created["api_key"], "{}", o.stdout);
    assert_eq!(info["balance_msats"], 40_000);
    // The refund forgets the sandbox copy of the refunded key.
    let o = g.quiet(&[&n[..], &["--json", "wallet", "refund"]].concat());
    assert_eq!(o.code, 0, "{}", o.stderr);
    let r: serde_json::Value = serde_json::from_str(&o.stdout).expect("json");
    assert_eq!(r["key_forgotten"], true, "{}", o.stdout);
}

/// Runs at once in one process see only their own environment, and `-v` in one run does not
/// trace the others (the trace subscriber is process-wide once installed).
#[test]
fn in_process_runs_are_isolated() {
    let runs: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let g = Golden::new("scratch");
                let name = format!("p{i}");
                let key = format!("profile.{name}.default_model");
                assert_eq!(g.quiet(&["config", "set", &key, "asha"]).code, 0);
                let o = g.quiet(&["config", "set", "profile", &name]);
                assert_eq!(o.code, 0, "{}", o.stderr);
                let verbose = i % 2 == 0;
                let mut args = vec!["--mock", "search", "dragon", "--limit", "1"];
                if verbose {
                    args.insert(0, "-v");
                }
                let s = g.quiet(&args);
                assert_eq!(s.code, 0, "{}", s.stderr);
                (
                    i,
                    g.quiet(&["config", "get", "profile"]).stdout,
                    verbose,
                    s.stderr,
                )
            })
        })
        .collect();
    for r in runs {
        let (i, profile, verbose, stderr) = r.join().expect("thread");
        assert_eq!(profile, format!("p{i}\n"));
        if verbose {
            assert!(stderr.contains("> GET http://127.0.0.1:"), "{stderr}");
        } else {
            assert_eq!(stderr, "", "no trace from the other runs");
        }
    }
}

/// The same command as a terminal and as a pipe: pretty JSON and notes only on a terminal.
#[test]
fn tty_and_pipe_differ_where_they_should() {
    let mut g = Golden::new("tty");
    let pipe = g.run(&["--mock", "--json", "characters", "get", "1096"]);
    let tty = g.tty(&["--mock", "--json", "characters", "get", "1096"]);
    assert_eq!(pipe.stdout.lines().count(), 1, "compact on a pipe");
    assert!(tty.stdout.starts_with("{\n  \""), "pretty on a terminal");
    g.run(&["--mock", "assets", "list"]);
    g.tty(&["--mock", "assets", "list"]);
    g.run(&["--mock", "search", "zzzz-nothing"]);
    g.tty(&["--mock", "search", "zzzz-nothing"]);
    g.tty(&["--mock", "imagine", "image", "a fox", "--no-wait"]);
    g.finish();
}
