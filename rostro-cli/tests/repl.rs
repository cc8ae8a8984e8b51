//! The chat REPL on a real pseudo-terminal (driven by `support/pty_drive.py`, which waits on
//! output, never on time): Ctrl-D on an empty prompt quits, Ctrl-C at the prompt ends the
//! line before the next prompt, and an unknown `/command` is answered, not sent.

#![cfg(unix)]

mod common;

use std::process::Output;

use common::*;
use rostro_mock::RostroMock;
use serde_json::{Value, json};

const DRIVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/pty_drive.py");

/// Runs `rostro ARGS` on a pty, playing `steps` (`["expect", text]` / `["send", keys]`).
async fn on_pty(env: &Env, args: &[&str], steps: Value) -> Output {
    let rostro = env.std_cmd(args);
    let mut cmd = std::process::Command::new("python3");
    cmd.env_clear();
    for (k, v) in rostro.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    cmd.env("ROSTRO_API_KEY", "test-key-0000000");
    cmd.current_dir(env.path())
        .arg(DRIVER)
        .arg(steps.to_string())
        .arg("--")
        .arg(rostro.get_program())
        .args(rostro.get_args());
    tokio::task::spawn_blocking(move || cmd.output().expect("python3 runs the pty driver"))
        .await
        .expect("join")
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_d_quits_ctrl_c_ends_the_line_and_unknown_commands_are_not_sent() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    let base = mock.uri();
    let o = on_pty(
        &env,
        &["--base-url", &base, "chat", "--model", "mobile"],
        json!([
            ["expect", "you: "],
            ["send", "/bogus\r"],
            ["expect", "unknown command `/bogus`"],
            ["expect", "you: "],
            ["send", "\u{3}"],
            ["expect", "you: "],
            ["send", "hello there\r"],
            ["expect", "echo: hello there"],
            ["expect", "you: "],
            ["send", "\u{4}"],
        ]),
    )
    .await;
    let screen = stdout(&o);
    assert_code(&o, 0);
    // The unknown command lists the known ones and reaches no model.
    assert!(
        screen.contains("/reset") && screen.contains("/exit"),
        "{screen}"
    );
    let sent: Vec<String> = mock
        .requests_to("POST", "/v1/chat/completions")
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(!sent[0].contains("bogus"), "{}", sent[0]);
    // Ctrl-C at the prompt: the next prompt starts on a line of its own.
    assert!(screen.contains("you: \r\nyou: "), "{screen:?}");
    assert!(!screen.contains("you: you: "), "{screen:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_inside_a_line_drops_it_and_the_repl_goes_on() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    let base = mock.uri();
    let o = on_pty(
        &env,
        &["--base-url", &base, "chat", "--model", "mobile"],
        json!([
            ["expect", "you: "],
            ["send", "half a thought"],
            ["expect", "you: half a thought"],
            ["send", "\u{3}"],
            ["expect", "you: "],
            ["send", "//etc is a directory\r"],
            ["expect", "echo: /etc is a directory"],
            ["expect", "you: "],
            ["send", "/exit\r"],
        ]),
    )
    .await;
    assert_code(&o, 0);
    let sent = mock.requests_to("POST", "/v1/chat/completions");
    assert_eq!(sent.len(), 1);
    assert!(!String::from_utf8_lossy(&sent[0].body).contains("half a thought"));
}
