//! Streams, retries and timeouts that hold against any server: `--timeout` values that never
//! panic, a stalled stream that ends with exit 7 and its partial text, `--idempotent`,
//! nothing lost in the JSON modes (stream errors, Ctrl-C), non-UTF-8 file names in gallery
//! manifests, `--input`/`--body` JSON checked locally, and the panic report.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use common::*;
use rostro_mock::{ChatScenario, Fault, FaultRule, RostroMock};
use serde_json::Value;
use sha2::Digest;

const KEY: &str = "test-key-0000000";

/// Kills a run that would hang, so that a regression fails instead of blocking the suite.
const GUARD: Duration = Duration::from_secs(60);

fn keyed(env: &Env, base: &str, args: &[&str]) -> assert_cmd::Command {
    let mut all = vec!["--base-url", base];
    all.extend_from_slice(args);
    let mut c = with_env(env.cmd(all), "ROSTRO_API_KEY", KEY);
    c.timeout(GUARD);
    c
}

/// One SSE chat chunk carrying `text`.
fn chunk(text: &str) -> String {
    let v = serde_json::json!({
        "id": "chatcmpl-stall",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "stall-model",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}],
    });
    format!("data: {v}\n\n")
}

/// A loopback server that answers every request with a `200 text/event-stream` carrying
/// `pieces`, then sends nothing more while keeping the connection open (until the client
/// goes away). Each connection reports on the returned channel once its events are written.
fn stalling_server(pieces: &[&str]) -> (String, mpsc::Receiver<()>) {
    stalling_server_with(pieces, "")
}

/// [`stalling_server`] with extra response header lines (`"name: value\r\n"`...).
fn stalling_server_with(pieces: &[&str], headers: &str) -> (String, mpsc::Receiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let body: String = pieces.iter().map(|p| chunk(p)).collect();
    let headers = headers.to_owned();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            let (body, headers, tx) = (body.clone(), headers.clone(), tx.clone());
            std::thread::spawn(move || serve_then_stall(conn, &body, &headers, &tx));
        }
    });
    (format!("http://{addr}"), rx)
}

fn serve_then_stall(mut conn: TcpStream, body: &str, headers: &str, tx: &mpsc::Sender<()>) {
    // Read the request head and its body (the request is small: one read usually).
    let mut seen = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
        if let Some(end) = find(&seen, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if seen.len() >= end + 4 + len {
                break;
            }
        }
    }
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n\
         {headers}transfer-encoding: chunked\r\n\r\n"
    );
    let chunked = format!("{:x}\r\n{body}\r\n", body.len());
    if conn.write_all(head.as_bytes()).is_err() || conn.write_all(chunked.as_bytes()).is_err() {
        return;
    }
    let _ = conn.flush();
    let _ = tx.send(());
    // Stall: hold the connection until the client closes it.
    while let Ok(n) = conn.read(&mut buf) {
        if n == 0 {
            return;
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

// --- 1. --timeout ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn timeout_values_never_panic() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    // Huge values are capped (they used to overflow a deadline and panic).
    for huge in ["1e19", "2e19", "1e300"] {
        let o = run(keyed(
            &env,
            &mock.uri(),
            &["--timeout", huge, "--json", "account", "show"],
        ))
        .await;
        assert_code(&o, 0);
        assert!(json(&o).is_object(), "{huge}: {}", stdout(&o));
    }
    // Not a positive number: a usage error naming the rule, nothing sent.
    mock.clear_received();
    for bad in ["inf", "-inf", "NaN", "0", "-1", "-0.5", "soon"] {
        let flag = format!("--timeout={bad}");
        let o = run(keyed(&env, &mock.uri(), &[&flag, "account", "show"])).await;
        assert_code(&o, 2);
        assert!(
            stderr(&o).contains("must be a positive number of seconds"),
            "{bad}: {}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    }
    // The spaced form of a negative value reaches the same check.
    let o = run(keyed(
        &env,
        &mock.uri(),
        &["--timeout", "-1", "account", "show"],
    ))
    .await;
    assert_code(&o, 2);
    assert!(stderr(&o).contains("positive number of seconds"));
    assert!(mock.received_requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_times_never_panic() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    for flags in [
        ["--wait-timeout", "1e19"],
        ["--wait-timeout", "2e19"],
        ["--poll-interval", "2e19"],
    ] {
        let mut args = vec!["--json", "imagine", "image", "a fox"];
        args.extend_from_slice(&flags);
        let o = run(keyed(&env, &mock.uri(), &args)).await;
        assert!(!stderr(&o).contains("crashed"), "{flags:?}: {}", stderr(&o));
        assert_code(&o, 0);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_stream_exits_7_with_the_partial_text() {
    let (base, _written) = stalling_server(&["Hello ", "wor"]);
    let env = Env::new();

    let o = run(keyed(&env, &base, &["--timeout", "1", "chat", "hi"])).await;
    assert_code(&o, 7);
    assert_eq!(stdout(&o), "Hello wor\n");
    let err = stderr(&o);
    assert!(err.contains("no data received"), "{err}");
    assert!(err.contains("--timeout"), "the hint names the flag: {err}");

    // --json: the completion so far, with the error.
    let o = run(keyed(
        &env,
        &base,
        &["--timeout", "1", "--json", "chat", "hi"],
    ))
    .await;
    assert_code(&o, 7);
    let v = json(&o);
    assert_eq!(v["choices"][0]["message"]["content"], "Hello wor");
    assert_eq!(v["model"], "stall-model");
    assert_eq!(v["error"]["kind"], "timeout");
    assert_eq!(v["error"]["exit_code"], 7);

    // --stream-json: every chunk, then the error line.
    let o = run(keyed(
        &env,
        &base,
        &["--timeout", "1", "--json", "chat", "--stream-json", "hi"],
    ))
    .await;
    assert_code(&o, 7);
    let lines = ndjson(&o);
    assert_eq!(lines.len(), 3, "{}", stdout(&o));
    assert_eq!(lines[1]["choices"][0]["delta"]["content"], "wor");
    assert_eq!(lines[2]["object"], "rostro.error");
    assert_eq!(lines[2]["error"]["kind"], "timeout");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_paid_stream_prints_one_record_with_the_change() {
    let node = rostro_mock::RoutstrMock::start().await;
    let (pay, change) = (node.mint_token(50_000), node.mint_token(20_000));
    let (base, _written) =
        stalling_server_with(&["Hello ", "wor"], &format!("x-cashu: {change}\r\n"));
    let env = Env::new();
    for (k, v) in [("provider", "routstr"), ("base_url", base.as_str())] {
        let o = run(env.cmd(["config", "set", &format!("profile.node.{k}"), v])).await;
        assert_code(&o, 0);
    }
    let mut c = env.cmd([
        "--profile",
        "node",
        "--timeout",
        "1",
        "--json",
        "chat",
        "-m",
        "stall-model",
        "hi",
        "--pay-with",
        &pay,
    ]);
    c.timeout(GUARD);
    let o = run(c).await;
    assert_code(&o, 7);
    // One JSON document: the partial reply, the error and the change together.
    let v = json(&o);
    assert_eq!(v["choices"][0]["message"]["content"], "Hello wor");
    assert_eq!(v["error"]["kind"], "timeout");
    assert_eq!(v["change_token"], change.as_str());
}

#[test]
fn help_says_what_timeout_and_retries_cover() {
    let env = Env::new();
    let o = env.cmd(["--help"]).output().unwrap();
    assert_code(&o, 0);
    let help = stdout(&o).split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in [
        "each next piece of a streamed reply",
        "exit 7",
        "429 and 503 with Retry-After for every method",
        "Other POST/PATCH failures only with --idempotent",
        "--idempotent",
        "--retry-delay <SECS> Seconds to wait before the first retry",
        "101",
    ] {
        assert!(help.contains(needle), "--help lacks {needle:?}:\n{help}");
    }
}

// --- 2. --idempotent ------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn hints_say_what_is_retried() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    // A timed-out POST: not retried without --idempotent, and the hint says so.
    mock.inject_fault(
        FaultRule::new(Fault::Delay(Duration::from_secs(3)))
            .times(3)
            .on("POST", "/v1/chat/completions"),
    );
    let o = run(keyed(
        &env,
        &mock.uri(),
        &["--timeout", "0.3", "chat", "--no-stream", "hi"],
    ))
    .await;
    assert_code(&o, 7);
    assert_eq!(mock.attempts("POST", "/v1/chat/completions"), 1);
    let err = stderr(&o);
    assert!(err.contains("hint: raise --timeout"), "{err}");
    assert!(err.contains("only with --idempotent"), "{err}");

    // A 429 after the retries: the hint says it is retried for every method.
    mock.clear_faults();
    mock.inject_fault(
        FaultRule::new(Fault::rate_limited(0))
            .times(10)
            .on("GET", "/api/account"),
    );
    let o = run(keyed(
        &env,
        &mock.uri(),
        &["--retries", "1", "account", "show"],
    ))
    .await;
    assert_code(&o, 5);
    assert!(
        stderr(&o).contains("retried for every method"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn idempotent_retries_posts_with_one_key() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    let route = "/v1/chat/completions";

    // Without it a POST that failed with 500 is not repeated, and the hint says why.
    mock.inject_fault(FaultRule::new(Fault::Status(500)).on("POST", route));
    let o = run(keyed(
        &env,
        &mock.uri(),
        &["--retries", "2", "chat", "--no-stream", "hello"],
    ))
    .await;
    assert_code(&o, 1);
    assert_eq!(mock.requests_to("POST", route).len(), 1);
    assert!(stderr(&o).contains("--idempotent"), "{}", stderr(&o));

    // With it: the same key on both attempts, and the retry succeeds.
    mock.clear_received();
    mock.inject_fault(FaultRule::new(Fault::Status(500)).on("POST", route));
    let o = run(keyed(
        &env,
        &mock.uri(),
        &[
            "--retries",
            "2",
            "--retry-delay",
            "0.005",
            "--idempotent",
            "chat",
            "--no-stream",
            "hello",
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert!(stdout(&o).contains("hello"), "{}", stdout(&o));
    let reqs = mock.requests_to("POST", route);
    assert_eq!(reqs.len(), 2);
    let keys: Vec<&str> = reqs
        .iter()
        .map(|r| r.header("idempotency-key").expect("a key on every attempt"))
        .collect();
    assert!(!keys[0].is_empty());
    assert_eq!(keys[0], keys[1]);
    assert_eq!(reqs[0].fault.as_deref(), Some("500"));
}

// --- 3. Nothing lost ------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn json_modes_keep_the_partial_reply_of_a_failed_stream() {
    for scenario in [ChatScenario::ErrorMidStream, ChatScenario::DropMidStream] {
        let mock = RostroMock::builder().chat_scenario(scenario).start().await;
        let env = Env::new();
        let prompt = "one two three four five six seven eight";

        let o = run(keyed(&env, &mock.uri(), &["--json", "chat", prompt])).await;
        assert_code(&o, 1);
        let v = json(&o);
        let content = v["choices"][0]["message"]["content"]
            .as_str()
            .unwrap_or_else(|| panic!("{scenario:?}: no content in {v}"));
        assert!(content.starts_with("echo:"), "{scenario:?}: {content}");
        let err = &v["error"];
        assert_eq!(err["kind"], "stream", "{scenario:?}");
        assert_eq!(err["exit_code"], 1);
        assert!(err["message"].as_str().unwrap().contains("stream"), "{err}");

        // The text mode prints the same partial text.
        let text = run(keyed(&env, &mock.uri(), &["chat", prompt])).await;
        assert_code(&text, 1);
        assert_eq!(stdout(&text).trim_end(), content, "{scenario:?}");

        let o = run(keyed(
            &env,
            &mock.uri(),
            &["--json", "chat", "--stream-json", prompt],
        ))
        .await;
        assert_code(&o, 1);
        let lines = ndjson(&o);
        let (last, chunks) = lines.split_last().unwrap();
        assert!(!chunks.is_empty(), "{scenario:?}: {}", stdout(&o));
        assert!(
            chunks
                .iter()
                .all(|c| c["object"] == "chat.completion.chunk")
        );
        assert_eq!(last["object"], "rostro.error", "{scenario:?}");
        assert_eq!(last["error"]["exit_code"], 1);
        // --jq sees the same record.
        let o = run(keyed(
            &env,
            &mock.uri(),
            &["--jq", ".error.kind", "chat", prompt],
        ))
        .await;
        assert_code(&o, 1);
        assert_eq!(stdout(&o), "stream\n");
    }
}

/// Sends SIGINT to a child.
#[cfg(unix)]
fn interrupt(child: &std::process::Child) {
    let ok = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

/// Runs `rostro ARGS` against `base`, sends Ctrl-C once `ready` says so (given the stdout so
/// far), and returns the exit code and the whole stdout.
#[cfg(unix)]
fn interrupted_run(
    env: &Env,
    base: &str,
    args: &[&str],
    ready: impl Fn(&[u8]) -> bool,
) -> (Option<i32>, String) {
    use std::process::Stdio;
    let mut all = vec!["--base-url", base];
    all.extend_from_slice(args);
    let mut cmd = env.std_cmd(all);
    cmd.env("ROSTRO_API_KEY", KEY)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let mut out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + GUARD;
    while !ready(&seen) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left.min(Duration::from_millis(100))) {
            Ok(c) => seen.extend(c),
            Err(mpsc::RecvTimeoutError::Timeout) if !left.is_zero() => {}
            Err(_) => {
                let _ = child.kill();
                panic!("never ready: {:?}", String::from_utf8_lossy(&seen));
            }
        }
    }
    interrupt(&child);
    let status = child.wait().unwrap();
    while let Ok(c) = rx.recv_timeout(Duration::from_secs(5)) {
        seen.extend(c);
    }
    (status.code(), String::from_utf8_lossy(&seen).into_owned())
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_keeps_the_partial_reply_in_json_modes() {
    let env = Env::new();
    // --stream-json: the chunks already printed, then the error line.
    let (base, _written) = stalling_server(&["Hello ", "wor"]);
    let env2 = Env::new();
    let (code, out) = tokio::task::spawn_blocking(move || {
        interrupted_run(
            &env2,
            &base,
            &["--json", "chat", "--stream-json", "hi"],
            |s| String::from_utf8_lossy(s).lines().count() >= 2,
        )
    })
    .await
    .unwrap();
    assert_eq!(code, Some(130), "{out}");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[2]["object"], "rostro.error");
    assert_eq!(lines[2]["error"]["kind"], "interrupted");
    assert_eq!(lines[2]["error"]["exit_code"], 130);

    // --json prints nothing while streaming: interrupt once the server has written its
    // events and the client had ample time to read them (it then waits on a silent
    // connection; the default --timeout is far away).
    let (base, written) = stalling_server(&["Hello ", "wor"]);
    let (code, out) = tokio::task::spawn_blocking(move || {
        let wrote = std::sync::atomic::AtomicBool::new(false);
        interrupted_run(&env, &base, &["--json", "chat", "hi"], |_| {
            if !wrote.load(std::sync::atomic::Ordering::SeqCst)
                && written.recv_timeout(Duration::from_millis(100)).is_ok()
            {
                wrote.store(true, std::sync::atomic::Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(1500));
            }
            wrote.load(std::sync::atomic::Ordering::SeqCst)
        })
    })
    .await
    .unwrap();
    assert_eq!(code, Some(130), "{out}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    assert_eq!(v["error"]["kind"], "interrupted");
    assert_eq!(v["error"]["exit_code"], 130);
    // Normally all of it; a prefix if the machine was too busy to read it all in time.
    let content = v["choices"][0]["message"]["content"].as_str().unwrap_or("");
    assert!("Hello wor".starts_with(content), "{v}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_in_the_json_repl_ends_the_reply_with_an_error_line() {
    use std::process::Stdio;
    let mock = RostroMock::builder()
        .chat_scenario(ChatScenario::Slow)
        .chunk_delay(Duration::from_millis(60))
        .chunk_count(30)
        .start()
        .await;
    let env = Env::new();
    let base = mock.uri();
    let mut cmd = env.std_cmd([
        "--base-url",
        &base,
        "--json",
        "chat",
        "--repl",
        "--stream-json",
    ]);
    cmd.env("ROSTRO_API_KEY", KEY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut out = child.stdout.take().unwrap();
    let (code, text) = tokio::task::spawn_blocking(move || {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = out.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        writeln!(stdin, "first message").unwrap();
        let mut seen = Vec::new();
        while !String::from_utf8_lossy(&seen).contains("echo:") {
            seen.extend(rx.recv_timeout(GUARD).expect("a first chunk"));
        }
        interrupt(&child);
        std::thread::sleep(Duration::from_millis(200));
        writeln!(stdin, "second").unwrap();
        drop(stdin);
        let status = child.wait().unwrap();
        while let Ok(c) = rx.recv_timeout(Duration::from_millis(500)) {
            seen.extend(c);
        }
        (status.code(), String::from_utf8_lossy(&seen).into_owned())
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{text}");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let stops: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l["object"] == "rostro.error")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(stops.len(), 1, "{text}");
    assert_eq!(lines[stops[0]]["error"]["kind"], "interrupted");
    // The second reply streamed in full after the error line.
    let after: String = lines[stops[0] + 1..]
        .iter()
        .filter_map(|l| l["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert!(after.contains("echo: second"), "{text}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn gallery_manifest_records_non_utf8_names_and_resumes() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    let mock = RostroMock::start().await;
    let env = Env::new();
    let dir = env.path().join("renders");
    std::fs::create_dir_all(&dir).unwrap();
    let odd = dir.join(OsStr::from_bytes(b"caf\xe9 \xff.png"));
    std::fs::write(&odd, b"odd bytes").unwrap();
    std::fs::write(dir.join("a.png"), b"plain a").unwrap();
    std::fs::write(dir.join("z.png"), b"plain z").unwrap();
    let m = env.path().join("upload.ndjson");
    let o = run(keyed(
        &env,
        &mock.uri(),
        &[
            "--json",
            "gallery",
            "upload",
            "--project",
            "42",
            dir.to_str().unwrap(),
            "--concurrency",
            "1",
            "--manifest",
            m.to_str().unwrap(),
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(mock.uploads().len(), 3, "the whole batch went up");
    // stdout and the manifest: one record per file, the odd one losslessly.
    let printed = ndjson(&o);
    let records: Vec<Value> = std::fs::read_to_string(&m)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for recs in [&printed, &records] {
        assert_eq!(recs.len(), 3, "{recs:?}");
        assert!(recs.iter().all(|r| r["status"] == "ok"));
        let odd_rec = recs
            .iter()
            .find(|r| r.get("path").is_none())
            .expect("the non-UTF-8 record");
        use base64::Engine as _;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(odd_rec["path_bytes"].as_str().unwrap())
            .unwrap();
        assert_eq!(raw, odd.as_os_str().as_bytes());
        assert!(odd_rec["path_display"].as_str().unwrap().contains("caf"));
        assert_eq!(odd_rec["size"], 9);
    }

    // --resume reads it back: nothing is uploaded again.
    let o = run(keyed(
        &env,
        &mock.uri(),
        &[
            "gallery",
            "upload",
            "--project",
            "42",
            "--resume",
            m.to_str().unwrap(),
            dir.to_str().unwrap(),
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(mock.uploads().len(), 3, "{}", stderr(&o));

    // The odd file alone fails; --resume with the manifest alone uploads it (from its
    // path_bytes).
    let m2 = env.path().join("second.ndjson");
    mock.inject_fault(FaultRule::new(Fault::Status(500)).on("POST", "/api/gallery/upload"));
    let uri = mock.uri();
    let mut c = env.cmd([
        OsStr::new("--base-url"),
        OsStr::new(&uri),
        OsStr::new("--retries"),
        OsStr::new("0"),
        OsStr::new("gallery"),
        OsStr::new("upload"),
        OsStr::new("--project"),
        OsStr::new("42"),
        odd.as_os_str(),
        OsStr::new("--manifest"),
        m2.as_os_str(),
    ]);
    c.env("ROSTRO_API_KEY", KEY).timeout(GUARD);
    let o = run(c).await;
    assert_code(&o, 1);
    assert_eq!(mock.uploads().len(), 3);
    let rec: Value = serde_json::from_str(std::fs::read_to_string(&m2).unwrap().trim()).unwrap();
    assert_eq!(rec["status"], "error");
    assert!(rec["path_bytes"].is_string(), "{rec}");
    let o = run(keyed(
        &env,
        &mock.uri(),
        &[
            "gallery",
            "upload",
            "--project",
            "42",
            "--resume",
            m2.to_str().unwrap(),
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(mock.uploads().len(), 4);
    assert_eq!(
        mock.uploads()[3].sha256,
        hex::encode(sha2::Sha256::digest(b"odd bytes"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn api_input_must_be_json_unless_raw() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    let bad = env.path().join("bad.json");
    std::fs::write(&bad, "{\n  \"prompt\": \"x\",\n  oops\n}\n").unwrap();
    let binary = env.path().join("blob.bin");
    std::fs::write(&binary, [0x89, b'P', b'N', b'G', 0xff, 0x00, 0xfe]).unwrap();
    let (bad_s, bin_s) = (bad.to_str().unwrap(), binary.to_str().unwrap());

    let o = run(keyed(
        &env,
        &mock.uri(),
        &["api", "POST", "/imagine", "--input", bad_s],
    ))
    .await;
    assert_code(&o, 2);
    let err = stderr(&o);
    assert!(err.contains("not valid JSON (line 3, column 3)"), "{err}");
    assert!(err.contains("--raw-body"), "{err}");

    let o = run(keyed(
        &env,
        &mock.uri(),
        &["api", "POST", "/imagine", "--input", bin_s],
    ))
    .await;
    assert_code(&o, 2);
    assert!(stderr(&o).contains("line 1, column 1"), "{}", stderr(&o));

    // Explicitly JSON, from stdin.
    let o = run_stdin(
        keyed(
            &env,
            &mock.uri(),
            &[
                "api",
                "POST",
                "/imagine",
                "-H",
                "Content-Type: application/json; charset=utf-8",
                "--input",
                "-",
            ],
        ),
        "{\"prompt\": ",
    )
    .await;
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("stdin is not valid JSON"),
        "{}",
        stderr(&o)
    );

    let o = run(keyed(
        &env,
        &mock.uri(),
        &["api", "call", "imagine.check", "--body", bad_s],
    ))
    .await;
    assert_code(&o, 2);
    assert!(stderr(&o).contains("line 3, column 3"), "{}", stderr(&o));
    let o = run(keyed(
        &env,
        &mock.uri(),
        &["api", "call", "imagine.check", "--raw-body"],
    ))
    .await;
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("--raw-body applies to --body"),
        "{}",
        stderr(&o)
    );
    assert!(mock.received_requests().is_empty(), "nothing was sent");

    // Raw bytes on request: --raw-body, or a non-JSON content type; sent byte for byte.
    let _ = run(keyed(
        &env,
        &mock.uri(),
        &["api", "POST", "/imagine", "--input", bin_s, "--raw-body"],
    ))
    .await;
    let _ = run(keyed(
        &env,
        &mock.uri(),
        &[
            "api",
            "POST",
            "/imagine",
            "--input",
            bad_s,
            "-H",
            "Content-Type: text/plain",
        ],
    ))
    .await;
    let _ = run(keyed(
        &env,
        &mock.uri(),
        &[
            "api",
            "call",
            "imagine.check",
            "--body",
            bin_s,
            "--raw-body",
        ],
    ))
    .await;
    let sent = mock.received_requests();
    assert_eq!(sent.len(), 3);
    assert_eq!(&sent[0].body[..], &std::fs::read(&binary).unwrap()[..]);
    assert_eq!(sent[0].header("content-type"), Some("application/json"));
    assert_eq!(&sent[1].body[..], &std::fs::read(&bad).unwrap()[..]);
    assert_eq!(sent[1].header("content-type"), Some("text/plain"));
    assert_eq!(&sent[2].body[..], &std::fs::read(&binary).unwrap()[..]);

    // Valid JSON still goes through.
    mock.clear_received();
    let good = env.path().join("good.json");
    std::fs::write(
        &good,
        r#"{"prompt": "a red fox", "generation_type": "text_to_image"}"#,
    )
    .unwrap();
    let o = run(keyed(
        &env,
        &mock.uri(),
        &["api", "POST", "/imagine", "--input", good.to_str().unwrap()],
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(mock.received_requests().len(), 1);
}

// --- 4. Panics ------------------------------------------------------------------------------

#[test]
fn a_panic_prints_a_short_report_and_exits_101() {
    // The trigger (`ROSTRO_DEBUG_PANIC`) is compiled into debug builds only, as the suite is.
    if !cfg!(debug_assertions) {
        return;
    }
    let env = Env::new();
    let o = with_env(env.cmd(["config", "list"]), "ROSTRO_DEBUG_PANIC", "1")
        .output()
        .unwrap();
    assert_code(&o, 101);
    let err = stderr(&o);
    assert!(
        err.starts_with("error: rostro crashed: ROSTRO_DEBUG_PANIC is set"),
        "{err}"
    );
    assert!(err.contains("src/lib.rs:"), "where: {err}");
    assert!(
        err.contains("https://github.com/rostro-dev/rostro/issues"),
        "{err}"
    );
    assert!(err.contains("RUST_BACKTRACE=1"), "{err}");
    assert!(!err.contains("panicked at"), "no raw report: {err}");
    assert!(err.lines().count() <= 4, "short: {err}");
    assert!(o.stdout.is_empty());

    // Asked for: the backtrace follows the message.
    let mut c = with_env(env.cmd(["config", "list"]), "ROSTRO_DEBUG_PANIC", "1");
    c.env("RUST_BACKTRACE", "1");
    let o = c.output().unwrap();
    assert_code(&o, 101);
    let err = stderr(&o);
    assert!(err.starts_with("error: rostro crashed"), "{err}");
    assert!(!err.contains("RUST_BACKTRACE=1"), "{err}");
    assert!(err.contains("debug_panic_hook"), "a backtrace: {err}");
}
