//! Ctrl-C (SIGINT) stops a streaming reply: the one-shot chat exits 130 with the partial text;
//! the REPL drops the reply and goes on with the next message.

#![cfg(unix)]

mod common;

use std::io::{Read, Write};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::*;
use rostro_mock::{ChatScenario, RostroMock};

const KEY: &str = "test-key-0000000";

async fn slow_mock() -> RostroMock {
    RostroMock::builder()
        .chat_scenario(ChatScenario::Slow)
        .chunk_delay(Duration::from_millis(60))
        .chunk_count(30)
        .start()
        .await
}

/// Reads the child's stdout on a thread; returns a receiver of chunks.
fn watch_stdout(child: &mut Child) -> mpsc::Receiver<Vec<u8>> {
    let mut out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match out.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}

fn interrupt(child: &Child) {
    let ok = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

/// Waits for stdout to contain `needle`, collecting what arrived.
fn wait_for(rx: &mpsc::Receiver<Vec<u8>>, seen: &mut Vec<u8>, needle: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !String::from_utf8_lossy(seen).contains(needle) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(chunk) => seen.extend(chunk),
            Err(_) => panic!(
                "never saw {needle:?} in {:?}",
                String::from_utf8_lossy(seen)
            ),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_stops_a_one_shot_reply() {
    let mock = slow_mock().await;
    let env = Env::new();
    let base = mock.uri();
    let mut cmd = env.std_cmd(["--base-url", &base, "chat", "tell me everything"]);
    cmd.env("ROSTRO_API_KEY", KEY)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let rx = watch_stdout(&mut child);
    let status = tokio::task::spawn_blocking(move || {
        let mut seen = Vec::new();
        wait_for(&rx, &mut seen, "echo:");
        interrupt(&child);
        let status = child.wait().unwrap();
        while let Ok(c) = rx.recv_timeout(Duration::from_millis(200)) {
            seen.extend(c);
        }
        (status, String::from_utf8_lossy(&seen).into_owned())
    })
    .await
    .unwrap();
    assert_eq!(status.0.code(), Some(130), "{}", status.1);
    // Partial: far fewer than the 30 words of the full reply.
    let words = status.1.split_whitespace().count();
    assert!((1..25).contains(&words), "{:?}", status.1);
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_in_the_repl_stops_only_the_reply() {
    let mock = slow_mock().await;
    let env = Env::new();
    let base = mock.uri();
    let mut cmd = env.std_cmd(["--base-url", &base, "chat", "--repl"]);
    cmd.env("ROSTRO_API_KEY", KEY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let rx = watch_stdout(&mut child);
    let (code, out, err) = tokio::task::spawn_blocking(move || {
        let mut seen = Vec::new();
        writeln!(stdin, "first message").unwrap();
        wait_for(&rx, &mut seen, "echo:");
        interrupt(&child);
        std::thread::sleep(Duration::from_millis(200));
        writeln!(stdin, "second").unwrap();
        drop(stdin);
        let o = child.wait_with_output().unwrap();
        while let Ok(c) = rx.recv_timeout(Duration::from_millis(200)) {
            seen.extend(c);
        }
        (
            o.status.code(),
            String::from_utf8_lossy(&seen).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(err.contains("reply stopped"), "{err}");
    // The second message was answered in full after the interrupted first one.
    assert!(out.contains("echo: second"), "{out}");
    let reqs = mock.requests_to("POST", "/v1/chat/completions");
    assert_eq!(reqs.len(), 2);
    // The stopped exchange is not part of the history.
    let second = reqs[1].body_json().unwrap();
    assert_eq!(second["messages"].as_array().unwrap().len(), 1);
}
