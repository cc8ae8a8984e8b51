//! Routstr profiles, run as a process against an in-process `RoutstrMock`: the balance
//! lifecycle (`wallet create` -> `chat` -> `wallet topup` -> `wallet refund`), paying per
//! request with `--pay-with` and keeping the change (`--change-out`) on success and on an
//! upstream error, malformed tokens, sats prices, Lightning invoices, history, exit codes and
//! redaction in `-v` traces.
//!
//! Forcing an upstream error: the mock fails a paid chat with `502 upstream_error` (and
//! refunds the whole token in `X-Cashu`) when the request carries `x-mock-routstr-error:
//! upstream_error`. `rostro chat` sends no custom headers, so the test puts a small TCP proxy
//! between the CLI and the mock that adds that header to the request (see
//! [`header_proxy`]); the same failure is also forced through `rostro api -H`.

mod common;

use std::path::Path;

use common::*;
use rostro_mock::RoutstrMock;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PROFILE: &str = "routstr";
const MODEL: &str = "gpt-4o-mini";

/// An environment with a Routstr profile `routstr` pointing at `uri`, set up through
/// `rostro config set profile.NAME.KEY`.
async fn node_env(uri: &str) -> Env {
    let env = Env::new();
    for (k, v) in [("provider", "routstr"), ("base_url", uri)] {
        let o = run(env.cmd(["config", "set", &format!("profile.{PROFILE}.{k}"), v])).await;
        assert_code(&o, 0);
    }
    env
}

/// `rostro --profile routstr ARGS...`
fn r(env: &Env, args: &[&str]) -> assert_cmd::Command {
    let mut all = vec!["--profile", PROFILE];
    all.extend_from_slice(args);
    env.cmd(all)
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

async fn balance(env: &Env) -> Value {
    let o = run(r(env, &["--json", "wallet", "info"])).await;
    assert_code(&o, 0);
    json(&o)
}

/// A TCP proxy in front of `upstream` (`http://host:port`) that adds `header` to every
/// request it forwards (inserted after the request line; bodies are untouched).
async fn header_proxy(upstream: &str, header: &'static str) -> String {
    let upstream = upstream
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                    return;
                };
                // Read up to the end of the request line, then insert the header.
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                let split = loop {
                    let Ok(n) = client.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    head.extend_from_slice(&buf[..n]);
                    if let Some(i) = head.windows(2).position(|w| w == b"\r\n") {
                        break i + 2;
                    }
                };
                let mut out = head[..split].to_vec();
                out.extend_from_slice(header.as_bytes());
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(&head[split..]);
                if server.write_all(&out).await.is_err() {
                    return;
                }
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread")]
async fn balance_lifecycle_create_chat_topup_refund() {
    let mock = RoutstrMock::start().await;
    let env = node_env(&mock.uri()).await;

    // wallet create --token @FILE: the key is stored for the profile (file store here).
    let token = mock.mint_token(50_000);
    let token_file = env.path().join("token.txt");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let o = run(r(
        &env,
        &[
            "--json",
            "wallet",
            "create",
            "--token",
            &format!("@{}", token_file.display()),
        ],
    ))
    .await;
    assert_code(&o, 0);
    let created = json(&o);
    assert_eq!(created["balance_msats"], 50_000);
    assert_eq!(created["balance_sats"], 50);
    assert!(mock.is_spent(&token));
    let key = mock.keys()[0].api_key.clone();
    assert!(
        !stdout(&o).contains(&key),
        "the stored key is masked: {}",
        stdout(&o)
    );
    let creds = std::fs::read_to_string(env.config_dir().join("credentials.toml")).unwrap();
    assert!(creds.contains(&key));

    // A second create would overwrite the key: refused before the token is spent.
    let other = mock.mint_token(10_000);
    let o = run(r(&env, &["wallet", "create", "--token", &other])).await;
    assert_code(&o, 2);
    assert!(stderr(&o).contains("already has a key"), "{}", stderr(&o));
    assert!(!mock.is_spent(&other));

    let info = balance(&env).await;
    assert_eq!(info["balance_msats"], 50_000);
    assert_eq!(info["total_requests"], 0);

    // Chat, paid from the key's balance.
    let o = run(r(&env, &["chat", "--model", MODEL, "hello node"])).await;
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "echo: hello node\n");
    let sent = &mock.requests_to("POST", "/v1/chat/completions")[0];
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {key}").as_str())
    );
    let after_chat = balance(&env).await;
    let left = after_chat["balance_msats"].as_u64().unwrap();
    assert!(left < 50_000, "{after_chat}");
    assert_eq!(after_chat["total_requests"], 1);
    assert_eq!(
        after_chat["total_spent_msats"].as_u64().unwrap(),
        50_000 - left
    );

    // Human output: both units, labelled.
    let o = run(r(&env, &["wallet", "info"])).await;
    assert_code(&o, 0);
    assert!(
        stdout(&o).contains(&format!("Balance:      {left} msat (")),
        "{}",
        stdout(&o)
    );

    // Top up from stdin.
    let top = mock.mint_token(20_000);
    let o = run_stdin(
        r(&env, &["--json", "wallet", "topup", "--token", "-"]),
        &top,
    )
    .await;
    assert_code(&o, 0);
    assert_eq!(json(&o)["added_msats"], 20_000);
    assert_eq!(balance(&env).await["balance_msats"], left + 20_000);

    // History: NDJSON, one line per transaction, amounts in msat and sat.
    let o = run(r(&env, &["--json", "wallet", "history"])).await;
    assert_code(&o, 0);
    let txs = ndjson(&o);
    assert_eq!(txs.len(), 2, "{txs:?}");
    let sources: Vec<&str> = txs.iter().filter_map(|t| t["source"].as_str()).collect();
    assert!(sources.contains(&"create") && sources.contains(&"topup"));
    assert!(txs.iter().any(|t| t["amount_msats"] == 20_000));
    assert!(txs.iter().any(|t| t["amount_sats"] == 20));
    let o = run(r(&env, &["wallet", "history"])).await;
    assert_code(&o, 0);
    assert!(stdout(&o).contains("AMOUNT (MSAT)"), "{}", stdout(&o));

    // Refund into a 0600 file; the refunded key is forgotten.
    let out = env.path().join("refund.txt");
    let o = run(r(
        &env,
        &["wallet", "refund", "--out", out.to_str().unwrap()],
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "", "the token went to the file");
    let refund = lines(&out);
    assert_eq!(refund.len(), 1);
    assert!(refund[0].starts_with("cashuA"));
    assert_eq!(mock.token_value(&refund[0]), Some(left + 20_000));
    #[cfg(unix)]
    assert_eq!(mode(&out), 0o600);
    assert!(stderr(&o).contains("Refunded"), "{}", stderr(&o));
    let creds = std::fs::read_to_string(env.config_dir().join("credentials.toml")).unwrap();
    assert!(!creds.contains(&key));
    let o = run(r(&env, &["wallet", "info"])).await;
    assert_code(&o, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn pay_with_keeps_the_change_on_success_and_on_upstream_errors() {
    let mock = RoutstrMock::start().await;
    let env = node_env(&mock.uri()).await;
    let change = env.path().join("change.txt");
    let change_arg = change.to_str().unwrap().to_owned();

    // Success, streamed: the change is appended, the request paid with X-Cashu and no key.
    let t1 = mock.mint_token(30_000);
    let o = run(r(
        &env,
        &[
            "chat",
            "-m",
            MODEL,
            "pay me",
            "--pay-with",
            &t1,
            "--change-out",
            &change_arg,
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "echo: pay me\n");
    let sent = &mock.requests_to("POST", "/v1/chat/completions")[0];
    assert_eq!(sent.header("x-cashu"), Some(t1.as_str()));
    assert_eq!(sent.header("authorization"), None);
    let kept = lines(&change);
    assert_eq!(kept.len(), 1);
    let v1 = mock.token_value(&kept[0]).unwrap();
    assert!(v1 > 0 && v1 < 30_000, "{v1}");
    #[cfg(unix)]
    assert_eq!(mode(&change), 0o600);
    assert!(stderr(&o).contains("appended to"), "{}", stderr(&o));
    assert!(
        !stderr(&o).contains(&kept[0]),
        "saved change is not printed"
    );
    assert!(stderr(&o).contains("cost "), "{}", stderr(&o));

    // --json --no-stream: the change token is in the output too (and appended).
    let t2 = mock.mint_token(30_000);
    let o = run(r(
        &env,
        &[
            "--json",
            "chat",
            "-m",
            MODEL,
            "again",
            "--no-stream",
            "--pay-with",
            &t2,
            "--change-out",
            &change_arg,
        ],
    ))
    .await;
    assert_code(&o, 0);
    let v = json(&o);
    assert_eq!(v["choices"][0]["message"]["content"], "echo: again");
    let kept = lines(&change);
    assert_eq!(kept.len(), 2);
    assert_eq!(v["change_token"], kept[1].as_str());

    // Forced upstream error (502): the node refunds the whole token in X-Cashu; it is
    // appended before the error is reported.
    let proxy = header_proxy(&mock.uri(), "x-mock-routstr-error: upstream_error").await;
    let t3 = mock.mint_token(25_000);
    let o = run(r(
        &env,
        &[
            "--base-url",
            &proxy,
            "chat",
            "-m",
            MODEL,
            "boom",
            "--pay-with",
            &t3,
            "--change-out",
            &change_arg,
        ],
    ))
    .await;
    assert_code(&o, 1);
    assert!(stderr(&o).contains("502"), "{}", stderr(&o));
    assert!(mock.is_spent(&t3));
    let kept = lines(&change);
    assert_eq!(kept.len(), 3);
    assert_eq!(mock.token_value(&kept[2]), Some(25_000));
    assert!(stderr(&o).contains("appended to"), "{}", stderr(&o));

    // Same through `rostro api -H`, with --json: the refund is also on stdout.
    let body = env.path().join("req.json");
    std::fs::write(
        &body,
        format!(r#"{{"model":"{MODEL}","messages":[{{"role":"user","content":"x"}}]}}"#),
    )
    .unwrap();
    let t4 = mock.mint_token(22_000);
    let o = run(r(
        &env,
        &[
            "--json",
            "api",
            "POST",
            "/v1/chat/completions",
            "--input",
            body.to_str().unwrap(),
            "-H",
            "x-mock-routstr-error: upstream_error",
            "--pay-with",
            &t4,
            "--change-out",
            &change_arg,
        ],
    ))
    .await;
    assert_code(&o, 1);
    let kept = lines(&change);
    assert_eq!(kept.len(), 4);
    assert_eq!(mock.token_value(&kept[3]), Some(22_000));
    let v = json(&o);
    assert_eq!(v["change_token"], kept[3].as_str());
    assert_eq!(v["error"]["kind"], "upstream_error");

    // Without --change-out the change is never dropped: printed on stderr, with a warning.
    let t5 = mock.mint_token(30_000);
    let o = run(r(&env, &["chat", "-m", MODEL, "loose", "--pay-with", &t5])).await;
    assert_code(&o, 0);
    let err = stderr(&o);
    assert!(err.contains("keep this Cashu token"), "{err}");
    let printed = err
        .lines()
        .find(|l| l.starts_with("cashuA"))
        .expect("the change token on stderr");
    assert!(mock.token_value(printed).unwrap() > 0);
    assert!(!mock.is_spent(printed));
    assert_eq!(lines(&change).len(), 4, "the file is only used when asked");

    // Paying with the change of an earlier request works (the file holds several tokens:
    // pick one line).
    let one = env.path().join("one.txt");
    std::fs::write(&one, format!("{}\n", lines(&change)[2])).unwrap();
    let o = run(r(
        &env,
        &[
            "chat",
            "-m",
            MODEL,
            "reuse",
            "--pay-with",
            &format!("@{}", one.display()),
            "--change-out",
            &change_arg,
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(lines(&change).len(), 5);
    let o = run(r(
        &env,
        &[
            "chat",
            "-m",
            MODEL,
            "many",
            "--pay-with",
            &format!("@{change_arg}"),
        ],
    ))
    .await;
    assert_code(&o, 2);
    assert!(stderr(&o).contains("exactly one token"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_tokens_are_usage_errors_and_send_nothing() {
    let mock = RoutstrMock::start().await;
    let env = node_env(&mock.uri()).await;
    let change = env.path().join("never.txt");
    let cases: Vec<Vec<String>> = vec![
        vec!["chat", "-m", MODEL, "hi", "--pay-with", "cashuAnot-a-token"],
        vec![
            "chat",
            "-m",
            MODEL,
            "hi",
            "--pay-with",
            "sk-0123456789abcdef",
        ],
        vec![
            "chat",
            "-m",
            MODEL,
            "hi",
            "--pay-with",
            "@/no/such/token.txt",
        ],
        vec!["chat", "-m", MODEL, "hi", "--pay-with", "-"],
        vec![
            "wallet",
            "create",
            "--token",
            "cashuA!!!!!!!!!!!!!!!!!!!!!!!!!",
        ],
        vec!["wallet", "topup", "--token", "hunter2"],
        vec!["wallet", "refund", "--token", "cashuB"],
    ]
    .into_iter()
    .map(|c| c.into_iter().map(str::to_owned).collect())
    .collect();
    for case in cases {
        let mut args: Vec<&str> = case.iter().map(String::as_str).collect();
        if args[0] == "chat" {
            args.extend(["--change-out", change.to_str().unwrap()]);
        }
        let o = run(with_env(
            r(&env, &args),
            "ROSTRO_API_KEY",
            "sk-0123456789abcdef",
        ))
        .await;
        assert_code(&o, 2);
        assert!(!stderr(&o).contains("not-a-token"), "never echoed");
    }
    assert!(
        mock.received_requests().is_empty(),
        "{:?}",
        mock.received_requests()
            .iter()
            .map(|r| r.path.clone())
            .collect::<Vec<_>>()
    );
    // --change-out needs --pay-with; --pay-with needs a Routstr profile.
    let o = run(r(
        &env,
        &["chat", "-m", MODEL, "hi", "--change-out", "c.txt"],
    ))
    .await;
    assert_code(&o, 2);
    let t = mock.mint_token(30_000);
    let o = run(env.cmd(["chat", "hi", "--pay-with", &t])).await;
    assert_code(&o, 2);
    assert!(stderr(&o).contains("Routstr profile"), "{}", stderr(&o));
    let o = run(env.cmd(["wallet", "info"])).await;
    assert_code(&o, 2);
    assert!(mock.received_requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn models_show_sats_prices() {
    let mock = RoutstrMock::start().await;
    let env = node_env(&mock.uri()).await;
    let o = run(r(&env, &["--json", "models"])).await;
    assert_code(&o, 0);
    let models = ndjson(&o);
    assert!(models.len() >= 3);
    let m = models.iter().find(|m| m["id"] == MODEL).expect(MODEL);
    // The node's own fields are kept...
    assert!(m["sats_pricing"]["max_cost"].as_f64().unwrap() > 0.0);
    assert!(m["pricing"]["prompt"].as_f64().unwrap() > 0.0);
    // ...and the figures of the table added, exact in msat.
    let p = &m["price"];
    let per_token_msats = (m["sats_pricing"]["prompt"].as_f64().unwrap() * 1000.0).round() as u64;
    assert_eq!(p["prompt_msats_per_1k"], per_token_msats * 1000);
    assert_eq!(p["prompt_sats_per_1k"], per_token_msats);
    assert_eq!(p["prompt_msats_per_1m"], per_token_msats * 1_000_000);
    let max_sats = m["sats_pricing"]["max_cost"].as_f64().unwrap();
    assert_eq!(p["max_cost_msats"], (max_sats * 1000.0) as u64);
    assert!(p["prompt_usd_per_1m"].as_f64().unwrap() > 0.0);

    let o = run(r(&env, &["models"])).await;
    assert_code(&o, 0);
    let out = stdout(&o);
    for col in ["SAT/1K IN", "SAT/1K OUT", "SAT/REQ", "MAX SAT", "USD/1M IN"] {
        assert!(out.contains(col), "{out}");
    }
    assert!(out.contains(MODEL));
    // No key is needed to list models.
    assert!(
        mock.requests_to("GET", "/v1/models")[0]
            .header("authorization")
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn lightning_invoices_wait_until_paid() {
    let mock = RoutstrMock::start().await;
    let env = node_env(&mock.uri()).await;

    // purpose create (default): the bolt11 first, then the new key is stored.
    let o = run(r(
        &env,
        &[
            "wallet",
            "invoice",
            "--amount",
            "100",
            "--wait",
            "--interval",
            "0.05",
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert!(stdout(&o).starts_with("lnbc"), "{}", stdout(&o));
    assert!(stderr(&o).contains("paid"), "{}", stderr(&o));
    let info = balance(&env).await;
    assert_eq!(info["balance_msats"], 100_000);

    // purpose topup, --json: the invoice line, then the final status line.
    let o = run(r(
        &env,
        &[
            "--json",
            "wallet",
            "invoice",
            "--amount",
            "5",
            "--purpose",
            "topup",
            "--wait",
            "--interval",
            "0.05",
        ],
    ))
    .await;
    assert_code(&o, 0);
    let docs = ndjson(&o);
    assert_eq!(docs.len(), 2, "{docs:?}");
    assert!(docs[0]["bolt11"].as_str().unwrap().starts_with("lnbc"));
    assert_eq!(docs[0]["amount_sats"], 5);
    assert_eq!(docs[1]["status"], "paid");
    assert_eq!(docs[1]["amount_msats"], 5_000);
    assert_eq!(docs[1]["api_key"], Value::Null, "no new key for a top-up");
    assert_eq!(balance(&env).await["balance_msats"], 105_000);

    // Without --wait: the invoice only; then invoice-status checks it.
    let o = run(r(&env, &["--json", "wallet", "invoice", "--amount", "7"])).await;
    assert_code(&o, 0);
    let inv = json(&o);
    let id = inv["invoice_id"].as_str().unwrap().to_owned();
    let o = run(r(&env, &["--json", "wallet", "invoice-status", &id])).await;
    assert_code(&o, 0);
    assert_eq!(json(&o)["status"], "pending");
    // Paid now: a new key, but the profile has one already.
    let o = run(r(&env, &["--json", "wallet", "invoice-status", &id])).await;
    assert_code(&o, 2);
    assert!(stderr(&o).contains("already has a key"), "{}", stderr(&o));
    let o = run(r(
        &env,
        &["--json", "wallet", "invoice-status", &id, "--no-store"],
    ))
    .await;
    assert_code(&o, 0);
    let v = json(&o);
    assert_eq!(v["status"], "paid");
    assert!(v["api_key"].as_str().unwrap().starts_with("sk-"));
    assert_eq!(
        mock.balance(v["api_key"].as_str().unwrap()),
        Some(7_000),
        "printed in full with --no-store"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn payment_errors_have_their_exit_codes() {
    let mock = RoutstrMock::start().await;
    let env = node_env(&mock.uri()).await;

    // A key below the model's maximum cost: 402 insufficient_balance -> exit 8 + hint.
    let poor = mock.create_key(1_000);
    let o = run(with_env(
        r(&env, &["chat", "-m", MODEL, "hi"]),
        "ROSTRO_API_KEY",
        &poor,
    ))
    .await;
    assert_code(&o, 8);
    assert!(stderr(&o).contains("wallet topup"), "{}", stderr(&o));

    // A token worth less than the model's maximum: minimum_balance_required -> 8, and the
    // token is not spent.
    let small = mock.mint_token(1_000);
    let o = run(r(&env, &["chat", "-m", MODEL, "hi", "--pay-with", &small])).await;
    assert_code(&o, 8);
    assert!(!mock.is_spent(&small));

    // A spent token -> 3.
    let t = mock.mint_token(30_000);
    let o = run(r(
        &env,
        &[
            "chat",
            "-m",
            MODEL,
            "hi",
            "--pay-with",
            &t,
            "--change-out",
            "c.txt",
        ],
    ))
    .await;
    assert_code(&o, 0);
    let o = run(r(
        &env,
        &[
            "chat",
            "-m",
            MODEL,
            "hi",
            "--pay-with",
            &t,
            "--change-out",
            "c.txt",
        ],
    ))
    .await;
    assert_code(&o, 3);
    assert!(stderr(&o).contains("already redeemed"), "{}", stderr(&o));
    let o = run(r(&env, &["wallet", "create", "--token", &t])).await;
    assert_code(&o, 3);

    // An unknown key -> 3; no key at all -> 3 with the way out.
    let o = run(with_env(
        r(&env, &["wallet", "info"]),
        "ROSTRO_API_KEY",
        "sk-0000000000000000",
    ))
    .await;
    assert_code(&o, 3);
    let o = run(r(&env, &["chat", "-m", MODEL, "hi"])).await;
    assert_code(&o, 3);
    assert!(stderr(&o).contains("wallet create"), "{}", stderr(&o));
    // A Rostro key on a Routstr profile is refused before sending.
    let before = mock.received_requests().len();
    let o = run(with_env(
        r(&env, &["wallet", "info"]),
        "ROSTRO_API_KEY",
        "ch-rostro-key-123",
    ))
    .await;
    assert_code(&o, 3);
    assert_eq!(mock.received_requests().len(), before);

    // The exit table documents 8.
    let o = run(env.cmd(["--help"])).await;
    assert!(
        stdout(&o).contains("    8  payment required"),
        "{}",
        stdout(&o)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn verbose_traces_never_show_keys_or_tokens() {
    let mock = RoutstrMock::start().await;
    let env = node_env(&mock.uri()).await;
    let token = mock.mint_token(60_000);
    let change = env.path().join("change.txt");
    let out = env.path().join("refund.txt");
    let mut secrets = vec![token.clone()];
    let mut all_err = String::new();

    let o = run(r(&env, &["-v", "wallet", "create", "--token", &token])).await;
    assert_code(&o, 0);
    all_err.push_str(&stderr(&o));
    let key = mock.keys()[0].api_key.clone();
    secrets.push(key.clone());

    let pay = mock.mint_token(30_000);
    secrets.push(pay.clone());
    let top = mock.mint_token(5_000);
    secrets.push(top.clone());
    for args in [
        vec!["-v", "wallet", "info"],
        vec!["-v", "chat", "-m", MODEL, "traced"],
        vec![
            "-v",
            "chat",
            "-m",
            MODEL,
            "paid",
            "--pay-with",
            &pay,
            "--change-out",
            change.to_str().unwrap(),
        ],
        vec!["-v", "wallet", "topup", "--token", &top],
        vec!["-v", "wallet", "history"],
        vec!["-v", "models"],
        vec!["-v", "wallet", "refund", "--out", out.to_str().unwrap()],
    ] {
        let o = run(r(&env, &args)).await;
        assert_code(&o, 0);
        all_err.push_str(&stderr(&o));
    }
    secrets.extend(lines(&change));
    secrets.extend(lines(&out));
    assert!(all_err.contains("> POST"), "{all_err}");
    assert!(all_err.contains("< 200"), "{all_err}");
    assert!(all_err.contains("(redacted)"), "{all_err}");
    assert!(all_err.contains("[X-Cashu: ***]"), "{all_err}");
    for s in &secrets {
        assert!(
            !all_err.contains(s.as_str()),
            "secret in the trace:\n{all_err}"
        );
        // Not even a long piece of one.
        assert!(!all_err.contains(&s[s.len() - 16..]), "{all_err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn older_nodes_use_the_wallet_prefix() {
    let mock = RoutstrMock::start().await;
    let env = node_env(&mock.uri()).await;
    let o = run(env.cmd([
        "config",
        "set",
        &format!("profile.{PROFILE}.wallet_prefix"),
        "true",
    ]))
    .await;
    assert_code(&o, 0);
    let o = run(r(&env, &["config", "get", "balance_prefix"])).await;
    assert_eq!(stdout(&o).trim(), "wallet");
    let key = mock.create_key(42_000);
    let o = run(with_env(
        r(&env, &["--json", "wallet", "info"]),
        "ROSTRO_API_KEY",
        &key,
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(json(&o)["balance_msats"], 42_000);
    assert_eq!(mock.requests_to("GET", "/v1/wallet/info").len(), 1);
    assert!(mock.requests_to("GET", "/v1/balance/info").is_empty());

    // `auth login` on a Routstr profile checks the key against the node.
    let o = run_stdin(r(&env, &["auth", "login", "--with-token"]), &key).await;
    assert_code(&o, 0);
    let o = run(r(&env, &["auth", "status"])).await;
    assert_code(&o, 0);
    assert!(stdout(&o).contains("42000 msat (42 sat)"), "{}", stdout(&o));
}

/// Ctrl-C while a paid request waits for the node: the CLI waits for the answer (a second
/// Ctrl-C would give up), keeps the change, then exits 130.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_a_paid_request_still_keeps_the_change() {
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let mock = RoutstrMock::builder()
        .latency(Duration::from_millis(1500))
        .start()
        .await;
    let env = node_env(&mock.uri()).await;
    let change = env.path().join("change.txt");
    let token = mock.mint_token(30_000);
    let mut cmd = env.std_cmd([
        "--profile",
        PROFILE,
        "chat",
        "-m",
        MODEL,
        "slow",
        "--pay-with",
        &token,
        "--change-out",
        change.to_str().unwrap(),
    ]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    // Once the node has the request, the CLI is waiting (its Ctrl-C handler is in place).
    let deadline = Instant::now() + Duration::from_secs(10);
    while mock.attempts("POST", "/v1/chat/completions") == 0 {
        assert!(Instant::now() < deadline, "the request never arrived");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let ok = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let o = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_code(&o, 130);
    assert!(
        stderr(&o).contains("waiting for the node's answer"),
        "{}",
        stderr(&o)
    );
    let kept = lines(&change);
    assert_eq!(kept.len(), 1, "{}", stderr(&o));
    assert!(mock.token_value(&kept[0]).unwrap() > 0);
}

/// `--mock` on a Routstr profile: an in-process node and a made-up key (no URL needed).
#[tokio::test(flavor = "multi_thread")]
async fn mock_flag_runs_an_in_process_node() {
    let env = Env::new();
    let o = run(env.cmd([
        "config",
        "set",
        &format!("profile.{PROFILE}.provider"),
        "routstr",
    ]))
    .await;
    assert_code(&o, 0);
    // Without --mock a node URL is required.
    let o = run(r(&env, &["models"])).await;
    assert_code(&o, 2);
    assert!(stderr(&o).contains("base_url"), "{}", stderr(&o));
    let o = run(r(&env, &["--mock", "--json", "wallet", "info"])).await;
    assert_code(&o, 0);
    assert_eq!(json(&o)["balance_msats"], 1_000_000);
    let o = run(r(&env, &["--mock", "chat", "-m", MODEL, "hi"])).await;
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "echo: hi\n");
}
