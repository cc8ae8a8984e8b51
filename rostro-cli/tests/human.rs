//! Human mode never prints raw JSON: answers the reference leaves untyped (account, tokens,
//! follows, ...) are shown as `key  value` lines, an empty answer prints nothing on stdout,
//! and `--json` still prints the server's answer as it came, unknown members included.

mod common;

use common::*;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "test-key-0000000";

fn keyed(env: &Env, base: &str, args: &[&str]) -> assert_cmd::Command {
    let mut all = vec!["--base-url", base];
    all.extend_from_slice(args);
    with_env(env.cmd(all), "ROSTRO_API_KEY", KEY)
}

async fn serve(route: &str, body: Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(route))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_with_undocumented_members_reads_as_lines_and_json_keeps_them() {
    let answer = json!({
        "username": "sera", "credits": 120, "is_pro": true,
        "plan": {"name": "free", "renews_at": "2027-01-01"},
        "badges": ["early", "helper"]
    });
    let server = serve("/api/account", answer.clone()).await;
    let env = Env::new();
    let o = run(keyed(&env, &server.uri(), &["account", "show"])).await;
    assert_code(&o, 0);
    let out = stdout(&o);
    assert!(!out.contains('{') && !out.contains('"'), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("Username") && l.ends_with("sera")),
        "{out}"
    );

    // No known key at all: every member still shows, dotted for nested ones.
    let other = json!({"handle": "sera", "plan": {"name": "free"}, "badges": ["early", "helper"]});
    let server = serve("/api/account", other.clone()).await;
    let o = run(keyed(&env, &server.uri(), &["account", "show"])).await;
    assert_code(&o, 0);
    let out = stdout(&o);
    assert!(!out.contains('{'), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("plan.name") && l.ends_with("free")),
        "{out}"
    );
    assert!(out.contains("early, helper"), "{out}");

    let o = run(keyed(&env, &server.uri(), &["--json", "account", "show"])).await;
    assert_code(&o, 0);
    assert_eq!(json(&o), other, "--json is the answer as it came");
}

#[tokio::test(flavor = "multi_thread")]
async fn empty_answers_print_nothing_on_stdout_in_human_mode() {
    for (route, args) in [
        ("/api/account", &["account", "show"][..]),
        ("/api/account/tokens", &["account", "tokens"][..]),
    ] {
        let server = serve(route, json!({})).await;
        let env = Env::new();
        let o = run(keyed(&env, &server.uri(), args)).await;
        assert_code(&o, 0);
        assert_eq!(stdout(&o), "", "{args:?}");
        let o = run(keyed(
            &env,
            &server.uri(),
            &[&["--json"][..], args].concat(),
        ))
        .await;
        assert_code(&o, 0);
        assert_eq!(json(&o), json!({}), "{args:?}");
    }
}

#[test]
fn mock_commands_with_untyped_answers_never_print_json_in_human_mode() {
    let env = Env::new();
    for args in [
        &["account", "show"][..],
        &["account", "tokens"][..],
        &["lore", "query", "castle"][..],
        &["follow", "list"][..],
        &["assets", "list"][..],
    ] {
        let o = with_env(
            env.cmd([&["--mock"][..], args].concat()),
            "ROSTRO_MOCK_DIR",
            env.path().join("sandbox"),
        )
        .output()
        .unwrap();
        assert_code(&o, 0);
        let out = stdout(&o);
        assert!(!out.trim_start().starts_with('{'), "{args:?}: {out}");
    }
}
