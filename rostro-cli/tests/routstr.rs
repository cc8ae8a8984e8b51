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
    // A rejected payment was not redeemed: no refund to ask for.
    assert!(!stderr(&o).contains("wallet refund"), "{}", stderr(&o));

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

// The table of paid paths: every cell asserts the exit code and that the change file holds
// a token worth something (the node's change, or its refund of the whole payment).

const NONSTREAM_TRANSCRIPT: &[u8] =
    include_bytes!("../../rostro-sdk/tests/transcripts/routstr/nonstream_length_mismatch.http");
const STREAM_TRANSCRIPT: &[u8] =
    include_bytes!("../../rostro-sdk/tests/transcripts/routstr/stream_line_framing.http");

#[derive(Clone, Copy, Debug)]
enum PaidPath {
    Stream,
    NoStream,
    Api,
}

/// The arguments of one paid request on `path` (`stream` picks a streamed `api` body).
fn paid_args(env: &Env, path: PaidPath, token: &str, change: &Path, stream: bool) -> Vec<String> {
    let change = change.to_str().unwrap().to_owned();
    let mut a: Vec<String> = match path {
        PaidPath::Stream => vec!["chat".into(), "-m".into(), MODEL.into(), "pay me".into()],
        PaidPath::NoStream => vec![
            "chat".into(),
            "-m".into(),
            MODEL.into(),
            "pay me".into(),
            "--no-stream".into(),
        ],
        PaidPath::Api => {
            let req = env.path().join("req.json");
            let body = serde_json::json!({
                "model": MODEL,
                "messages": [{"role": "user", "content": "pay me"}],
                "stream": stream,
            });
            std::fs::write(&req, body.to_string()).unwrap();
            vec![
                "api".into(),
                "POST".into(),
                "/v1/chat/completions".into(),
                "--input".into(),
                req.to_str().unwrap().into(),
            ]
        }
    };
    a.extend([
        "--pay-with".into(),
        token.into(),
        "--change-out".into(),
        change,
    ]);
    a
}

/// Runs one cell against `base` (the mock, or a proxy in front of it); returns the output
/// and the change file's tokens.
async fn paid_cell(
    env: &Env,
    base: &str,
    path: PaidPath,
    token: &str,
    stream: bool,
    name: &str,
) -> (std::process::Output, Vec<String>) {
    let change = env.path().join(format!("change-{name}.txt"));
    let mut args = vec!["--base-url".to_owned(), base.to_owned()];
    args.extend(paid_args(env, path, token, &change, stream));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run(r(env, &args)).await;
    (o, lines(&change))
}

fn assert_saved(o: &std::process::Output, kept: &[String], mock: &RoutstrMock, cell: &str) {
    assert_eq!(kept.len(), 1, "{cell}: {kept:?}\n{}", stderr(o));
    assert!(
        mock.token_value(&kept[0]).is_some_and(|v| v > 0),
        "{cell}: not a token of the node"
    );
    assert!(
        !stderr(o).contains(&kept[0]),
        "{cell}: saved change is not printed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn paid_paths_keep_the_change_on_success_upstream_errors_and_unreadable_replies() {
    let mock = RoutstrMock::start().await;
    let env = node_env(&mock.uri()).await;
    let upstream = header_proxy(&mock.uri(), "x-mock-routstr-error: upstream_error").await;
    let shorter = header_proxy(&mock.uri(), "x-mock-routstr-quirks: body-shorter").await;
    let longer = header_proxy(&mock.uri(), "x-mock-routstr-quirks: body-longer").await;
    let cut = header_proxy(&mock.uri(), "x-mock-routstr-quirks: stream-cut").await;
    let lost = "the node's reply could not be read; your change was saved to";

    for path in [PaidPath::Stream, PaidPath::NoStream, PaidPath::Api] {
        // Success.
        let t = mock.mint_token(30_000);
        let cell = format!("{path:?} success");
        let (o, kept) = paid_cell(&env, &mock.uri(), path, &t, false, &cell).await;
        assert_code(&o, 0);
        assert_saved(&o, &kept, &mock, &cell);
        assert!(mock.token_value(&kept[0]).unwrap() < 30_000);

        // Upstream 502: the whole payment comes back.
        let t = mock.mint_token(30_000);
        let cell = format!("{path:?} upstream 502");
        let (o, kept) = paid_cell(&env, &upstream, path, &t, false, &cell).await;
        assert_code(&o, 1);
        assert_saved(&o, &kept, &mock, &cell);
        assert_eq!(mock.token_value(&kept[0]), Some(30_000), "{cell}");

        // A body shorter than its content-length: the connection closes mid-body.
        let t = mock.mint_token(30_000);
        let cell = format!("{path:?} body shorter");
        let (o, kept) = paid_cell(&env, &shorter, path, &t, false, &cell).await;
        assert_saved(&o, &kept, &mock, &cell);
        match path {
            // Every event, `[DONE]` included, arrived before the connection broke.
            PaidPath::Stream => assert_code(&o, 0),
            _ => {
                assert_code(&o, 1);
                assert!(stderr(&o).contains(lost), "{cell}: {}", stderr(&o));
            }
        }

        // Stream cut after the first line (a streamed api body for `api`).
        if !matches!(path, PaidPath::NoStream) {
            let t = mock.mint_token(30_000);
            let cell = format!("{path:?} stream cut");
            let (o, kept) = paid_cell(&env, &cut, path, &t, true, &cell).await;
            assert_code(&o, 1);
            assert_saved(&o, &kept, &mock, &cell);
            assert!(stderr(&o).contains(lost), "{cell}: {}", stderr(&o));
        }
    }

    // A body longer than its content-length (the real node's bug): the reply is cut.
    for path in [PaidPath::NoStream, PaidPath::Api] {
        let t = mock.mint_token(30_000);
        let cell = format!("{path:?} body longer");
        let (o, kept) = paid_cell(&env, &longer, path, &t, false, &cell).await;
        assert_code(&o, 1);
        assert_saved(&o, &kept, &mock, &cell);
        assert!(stderr(&o).contains(lost), "{cell}: {}", stderr(&o));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn json_failures_carry_the_change_token() {
    let mock = RoutstrMock::start().await;
    let env = node_env(&mock.uri()).await;
    let longer = header_proxy(&mock.uri(), "x-mock-routstr-quirks: body-longer").await;
    let change = env.path().join("change.txt");
    let t = mock.mint_token(30_000);
    let mut args = vec!["--json".to_owned(), "--base-url".to_owned(), longer];
    args.extend(paid_args(&env, PaidPath::NoStream, &t, &change, false));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run(r(&env, &args)).await;
    assert_code(&o, 1);
    let v = json(&o);
    let kept = lines(&change);
    assert_eq!(v["change_token"], kept[0].as_str(), "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("decode"),
        "{v}"
    );
    assert_eq!(v["refund_command"], Value::Null);
}

/// A server that reads one request, reports it, and sends `transcript` byte for byte once
/// released, then closes (`head_only`: only the response head, then the body never comes).
async fn stalling_server(
    transcript: &'static [u8],
    head_only: bool,
) -> (
    String,
    tokio::sync::oneshot::Receiver<()>,
    tokio::sync::oneshot::Sender<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (got_tx, got_rx) = tokio::sync::oneshot::channel();
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut req = Vec::new();
        let mut buf = [0u8; 4096];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = conn.read(&mut buf).await.unwrap();
            if n == 0 {
                return;
            }
            req.extend_from_slice(&buf[..n]);
        }
        let _ = got_tx.send(());
        if go_rx.await.is_err() {
            return;
        }
        let end = transcript
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap()
            + 4;
        let bytes = if head_only {
            &transcript[..end]
        } else {
            transcript
        };
        let _ = conn.write_all(bytes).await;
        if head_only {
            // Hold the connection open until the client goes away.
            let _ = conn.read(&mut buf).await;
        } else {
            let _ = conn.shutdown().await;
        }
    });
    (url, got_rx, go_tx)
}

fn transcript_change(t: &[u8]) -> String {
    let head =
        std::str::from_utf8(&t[..t.windows(4).position(|w| w == b"\r\n\r\n").unwrap()]).unwrap();
    head.lines()
        .find_map(|l| l.strip_prefix("x-cashu: "))
        .unwrap()
        .to_owned()
}

/// Ctrl-C while a paid request waits for the node: the CLI waits for the headers, writes the
/// change, and exits 130 without waiting for the (stalled) body.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_on_a_paid_request_waits_for_the_change_then_stops() {
    use std::io::Read as _;
    use std::process::Stdio;
    let mock = RoutstrMock::start().await;
    let env = node_env(&mock.uri()).await;
    for path in [PaidPath::Stream, PaidPath::NoStream, PaidPath::Api] {
        let transcript = match path {
            PaidPath::Stream => STREAM_TRANSCRIPT,
            _ => NONSTREAM_TRANSCRIPT,
        };
        let (url, got, go) = stalling_server(transcript, true).await;
        let change = env.path().join(format!("change-ctrlc-{path:?}.txt"));
        let t = mock.mint_token(30_000);
        let mut args = vec![
            "--profile".to_owned(),
            PROFILE.to_owned(),
            "--base-url".to_owned(),
            url,
        ];
        args.extend(paid_args(&env, path, &t, &change, false));
        let mut cmd = env.std_cmd(args);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut err_pipe = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        got.await.expect("the request reached the node");
        let ok = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let mut seen = Vec::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !String::from_utf8_lossy(&seen).contains("press Ctrl-C again") {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match rx.recv_timeout(left) {
                Ok(c) => seen.extend(c),
                Err(_) => panic!(
                    "{path:?}: no warning in {:?}",
                    String::from_utf8_lossy(&seen)
                ),
            }
        }
        go.send(()).unwrap();
        let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap();
        while let Ok(c) = rx.recv_timeout(std::time::Duration::from_secs(5)) {
            seen.extend(c);
        }
        let err = String::from_utf8_lossy(&seen);
        assert_eq!(status.code(), Some(130), "{path:?}: {err}");
        assert_eq!(
            lines(&change),
            vec![transcript_change(transcript)],
            "{path:?}"
        );
        assert!(
            err.contains("the request was interrupted; your change was saved to"),
            "{path:?}: {err}"
        );
    }
}

/// No change arrived (the node never answered the paid request): the exact refund command.
#[tokio::test(flavor = "multi_thread")]
async fn no_change_prints_the_refund_command() {
    let mock = RoutstrMock::start().await;
    let env = node_env(&mock.uri()).await;
    // A node that accepts the request and closes the connection without answering.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut c, _)) = listener.accept().await {
            let mut buf = [0u8; 8192];
            let _ = c.read(&mut buf).await;
        }
    });
    let token_file = env.path().join("pay.txt");
    std::fs::write(&token_file, mock.mint_token(30_000)).unwrap();
    let pay = format!("@{}", token_file.display());
    let change = env.path().join("change.txt");
    let o = run(r(
        &env,
        &[
            "--json",
            "--base-url",
            &url,
            "chat",
            "-m",
            MODEL,
            "hi",
            "--no-stream",
            "--pay-with",
            &pay,
            "--change-out",
            change.to_str().unwrap(),
        ],
    ))
    .await;
    assert_code(&o, 1);
    // The command names the node this payment went to (`--base-url`): it re-runs as printed.
    let cmd = format!("rostro --profile {PROFILE} --base-url {url} wallet refund --token {pay}");
    assert!(stderr(&o).contains(&cmd), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["change_token"], Value::Null);
    assert_eq!(v["refund_command"], cmd.as_str());
    assert!(lines(&change).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn refunds_say_when_the_token_was_issued_before_and_where_the_remainder_went() {
    let mock = RoutstrMock::builder().refund_in_sats(true).start().await;
    let env = node_env(&mock.uri()).await;
    let key = mock.create_key(4_297_982);
    let o = run(with_env(
        r(&env, &["wallet", "refund"]),
        "ROSTRO_API_KEY",
        &key,
    ))
    .await;
    assert_code(&o, 0);
    let first = stdout(&o).trim().to_owned();
    assert_eq!(mock.token_value(&first), Some(4_297_000));
    let err = stderr(&o);
    assert!(err.contains("Refunded 4297000 msat (4297 sat)"), "{err}");
    assert!(
        err.contains("the node refunds whole sats: 982 msat (0.982 sat) stayed on the key"),
        "{err}"
    );

    // Asked again: the same token, said plainly.
    let o = run(with_env(
        r(&env, &["--json", "wallet", "refund"]),
        "ROSTRO_API_KEY",
        &key,
    ))
    .await;
    assert_code(&o, 0);
    let v = json(&o);
    assert_eq!(v["token"], first.as_str());
    assert_eq!(v["issued_before"], true);
    assert_eq!(v["whole_sats"], true);
    assert_eq!(v["left_on_node_msats"], 982);
    let o = run(with_env(
        r(&env, &["wallet", "refund"]),
        "ROSTRO_API_KEY",
        &key,
    ))
    .await;
    let err = stderr(&o);
    assert!(
        err.contains("the node returned the token it issued before"),
        "{err}"
    );
    assert!(err.contains("spent if you redeemed it"), "{err}");
    assert!(!err.contains("keep it, it is money"), "{err}");

    // A token the node does not know: exit 4, said plainly.
    let unknown = mock.mint_token(5_000);
    let o = run(r(&env, &["wallet", "refund", "--token", &unknown])).await;
    assert_code(&o, 4);
    assert!(
        stderr(&o).contains("the node has no balance for this token"),
        "{}",
        stderr(&o)
    );
}

/// routstr-core's real stream framing (single `\n` between lines, `data: [DONE]\n` then EOF),
/// from the mock and from the byte-exact transcript. Needs the SSE decoder that accepts this
/// framing (the streams work); the change is saved either way.
#[tokio::test(flavor = "multi_thread")]
async fn chat_pay_with_reads_the_real_node_stream_framing() {
    let mock = RoutstrMock::start().await;
    let env = node_env(&mock.uri()).await;
    let framed = header_proxy(
        &mock.uri(),
        "x-mock-routstr-quirks: line-framing,catalog-model",
    )
    .await;
    let t = mock.mint_token(30_000);
    let (o, kept) = paid_cell(&env, &framed, PaidPath::Stream, &t, false, "framing").await;
    assert_saved(&o, &kept, &mock, "line framing");
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "echo: pay me\n");

    let (url, got, go) = stalling_server(STREAM_TRANSCRIPT, false).await;
    go.send(()).unwrap();
    drop(got);
    let change = env.path().join("change-transcript.txt");
    let mut args = vec!["--base-url".to_owned(), url];
    args.extend(paid_args(&env, PaidPath::Stream, &t, &change, false));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run(r(&env, &args)).await;
    assert_eq!(lines(&change), vec![transcript_change(STREAM_TRANSCRIPT)]);
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "Hello! How can I help you today?\n");
}

/// `wallet create` whose answer is cut: the token may be a key now; the CLI says how to get
/// the balance back.
#[tokio::test(flavor = "multi_thread")]
async fn wallet_create_with_a_lost_reply_prints_the_refund_command() {
    let mock = RoutstrMock::start().await;
    let env = node_env(&mock.uri()).await;
    let cut: &'static [u8] = Box::leak(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 120\r\nx-routstr-request-id: r-1\r\n\r\n{\"api_key\": \"sk-"
            .to_vec()
            .into_boxed_slice(),
    );
    let (url, _got, go) = stalling_server(cut, false).await;
    go.send(()).unwrap();
    let token_file = env.path().join("t.txt");
    std::fs::write(&token_file, mock.mint_token(10_000)).unwrap();
    let arg = format!("@{}", token_file.display());
    let o = run(r(
        &env,
        &["--base-url", &url, "wallet", "create", "--token", &arg],
    ))
    .await;
    assert_code(&o, 1);
    let want = format!("rostro --profile {PROFILE} --base-url {url} wallet refund --token {arg}");
    assert!(stderr(&o).contains(&want), "{}", stderr(&o));
}

/// Huge waits saturate instead of panicking (`Duration::from_secs_f64` panics above
/// `u64::MAX` seconds); values that are not positive numbers are usage errors.
#[tokio::test(flavor = "multi_thread")]
async fn wallet_wait_flags_take_any_number_without_panicking() {
    let mock = RoutstrMock::start().await;
    let env = node_env(&mock.uri()).await;
    let o = run(r(
        &env,
        &[
            "wallet",
            "invoice",
            "--amount",
            "3",
            "--wait",
            "--interval",
            "0.05",
            "--wait-timeout",
            "2e19",
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert!(stderr(&o).contains("paid"), "{}", stderr(&o));
    for bad in ["0", "nan", "inf"] {
        let o = run(r(
            &env,
            &[
                "wallet",
                "invoice",
                "--amount",
                "3",
                "--wait",
                "--interval",
                bad,
            ],
        ))
        .await;
        assert_code(&o, 2);
        assert!(stderr(&o).contains("--interval"), "{bad}: {}", stderr(&o));
    }
}
