//! In-process runs: isolated from each other (env, `-v` trace), TTY and pipe, and the
//! commands rostro prints for the user to run, run as printed.

use super::harness::{Golden, Mode};
use super::{routstr_sandbox, token};

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

/// In-process runs print what the binary prints: the same bytes on stdout and stderr and the
/// same exit code, on pipes, for output, errors, usage errors and stdin.
#[test]
fn in_process_runs_match_the_binary() {
    let g = Golden::new("scratch");
    let notes = g.file("notes.txt", b"lore\n");
    let cases: &[(&[&str], &[u8])] = &[
        (&["--mock", "search", "dragon", "--limit", "2"], b""),
        (&["--mock", "--json", "models"], b""),
        (
            &["--mock", "--jq", ".node.name", "characters", "get", "1096"],
            b"",
        ),
        (&["--mock", "chat", "--no-stream"], b"from stdin\n"),
        (&["--mock", "lore", "add", &notes, "--owner", "1096"], b""),
        (&["--mock", "chats", "show", "999999"], b""),
        (
            &["--mock", "--base-url", "http://127.0.0.1:9", "models"],
            b"",
        ),
        (&["config", "get", "profile"], b""),
        (&["auth", "token"], b""),
        (&["--version"], b""),
    ];
    for (args, stdin) in cases {
        let spawned = g.spawn(args, stdin);
        let inproc = g.exec(args, Mode::Pipe, stdin);
        assert_eq!(inproc.code, spawned.code, "{args:?}: {}", spawned.stderr);
        assert_eq!(
            g.normalised(&inproc.stdout),
            g.normalised(&spawned.stdout),
            "{args:?}"
        );
        assert_eq!(
            g.normalised(&inproc.stderr),
            g.normalised(&spawned.stderr),
            "{args:?}"
        );
    }
}

/// Colour is off unless asked for, and then only where the stream counts as a terminal and
/// `--no-color` is not given.
#[test]
fn colour_follows_the_io_and_no_color() {
    let g = Golden::new("scratch");
    let env = g.path("");
    let run = |tty: bool, color: bool, extra: &[&str]| {
        let (out, err) = (rostro_cli::Buffer::new(), rostro_cli::Buffer::new());
        let io = rostro_cli::Io::new(out.clone(), err.clone())
            .tty(tty)
            .color(color)
            .env("XDG_CONFIG_HOME", format!("{env}/config"))
            .env("XDG_STATE_HOME", format!("{env}/state"))
            .env("ROSTRO_KEYRING", "off");
        let mut args = vec!["rostro"];
        args.extend_from_slice(extra);
        args.extend(["--mock", "search", "dragon", "--limit", "1"]);
        assert_eq!(rostro_cli::run_with(args, io), 0, "{}", err.text());
        out.text()
    };
    let bold = "\x1b[1m";
    assert!(run(true, true, &[]).starts_with(bold), "a bold header");
    assert!(!run(true, false, &[]).contains('\x1b'), "off by default");
    assert!(!run(false, true, &[]).contains('\x1b'), "not on a pipe");
    assert!(
        !run(true, true, &["--no-color"]).contains('\x1b'),
        "--no-color"
    );
}
