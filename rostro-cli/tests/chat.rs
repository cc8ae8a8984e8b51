//! `rostro chat`: streaming, JSON, piped stdin, the REPL through piped stdin, stream errors.

mod common;

use common::*;
use rostro_mock::{ChatScenario, RostroMock};

const KEY: &str = "test-key-0000000";

fn keyed(env: &Env, base: &str, args: &[&str]) -> assert_cmd::Command {
    let mut all = vec!["--base-url", base];
    all.extend_from_slice(args);
    with_env(env.cmd(all), "ROSTRO_API_KEY", KEY)
}

#[tokio::test(flavor = "multi_thread")]
async fn streams_tokens_and_reports_usage() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    let o = run(keyed(
        &env,
        &mock.uri(),
        &[
            "chat",
            "tell me a story",
            "--model",
            "asha",
            "--system",
            "be brief",
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "echo: tell me a story\n");
    let body = mock.requests_to("POST", "/v1/chat/completions")[0]
        .body_json()
        .unwrap();
    assert_eq!(body["model"], "asha");
    assert_eq!(body["stream"], true);
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["messages"][1]["content"], "tell me a story");

    // --json: the assembled completion with usage.
    let o = run(keyed(&env, &mock.uri(), &["--json", "chat", "hi there"])).await;
    assert_code(&o, 0);
    let v = json(&o);
    assert_eq!(v["choices"][0]["message"]["content"], "echo: hi there");
    assert!(v["usage"]["total_tokens"].as_u64().unwrap() > 0);

    // --stream-json: one chunk per line.
    let o = run(keyed(
        &env,
        &mock.uri(),
        &["--json", "chat", "--stream-json", "one two three"],
    ))
    .await;
    assert_code(&o, 0);
    let chunks = ndjson(&o);
    assert!(chunks.len() >= 4, "{chunks:?}");
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk")
    );

    // --no-stream.
    let o = run(keyed(&env, &mock.uri(), &["chat", "--no-stream", "whole"])).await;
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "echo: whole\n");
    let last = mock.requests_to("POST", "/v1/chat/completions");
    assert_ne!(last.last().unwrap().body_json().unwrap()["stream"], true);

    // The profile's default model.
    let o = run(env.cmd(["config", "set", "default_model", "soji"])).await;
    assert_code(&o, 0);
    let o = run(keyed(&env, &mock.uri(), &["chat", "x"])).await;
    assert_code(&o, 0);
    let last = mock.requests_to("POST", "/v1/chat/completions");
    assert_eq!(last.last().unwrap().body_json().unwrap()["model"], "soji");
}

#[tokio::test(flavor = "multi_thread")]
async fn piped_stdin_is_added_to_the_prompt() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    let o = run_stdin(
        keyed(&env, &mock.uri(), &["chat", "summarise:"]),
        "some piped text\n",
    )
    .await;
    assert_code(&o, 0);
    let body = mock.requests_to("POST", "/v1/chat/completions")[0]
        .body_json()
        .unwrap();
    assert_eq!(
        body["messages"][0]["content"],
        "summarise:\n\nsome piped text"
    );
    // Stdin alone is the prompt.
    let o = run_stdin(keyed(&env, &mock.uri(), &["chat"]), "only stdin").await;
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "echo: only stdin\n");
    // Nothing at all is a usage error.
    let o = run_stdin(keyed(&env, &mock.uri(), &["chat"]), "").await;
    assert_code(&o, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn repl_through_piped_stdin() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    let script = "first question\nsecond question\n/reset\nthird\n\"\"\"\nline one\nline two\n\"\"\"\ncontinued \\\nline\n/model mixtral\nlast\n/exit\nnever sent\n";
    let o = run_stdin(keyed(&env, &mock.uri(), &["chat", "--repl"]), script).await;
    assert_code(&o, 0);
    assert_eq!(
        stdout(&o),
        "echo: first question\necho: second question\necho: third\necho: line one line two\necho: continued line\necho: last\n"
    );
    let reqs = mock.requests_to("POST", "/v1/chat/completions");
    assert_eq!(reqs.len(), 6);
    let counts: Vec<usize> = reqs
        .iter()
        .map(|r| r.body_json().unwrap()["messages"].as_array().unwrap().len())
        .collect();
    // History grows, /reset clears it.
    assert_eq!(counts, vec![1, 3, 1, 3, 5, 7]);
    let multi = reqs[3].body_json().unwrap();
    assert_eq!(multi["messages"][2]["content"], "line one\nline two");
    assert_eq!(reqs[5].body_json().unwrap()["model"], "mixtral");
}

#[tokio::test(flavor = "multi_thread")]
async fn stream_errors_fail_with_partial_output() {
    let mock = RostroMock::builder()
        .chat_scenario(ChatScenario::ErrorMidStream)
        .start()
        .await;
    let env = Env::new();
    let o = run(keyed(
        &env,
        &mock.uri(),
        &["chat", "one two three four five six"],
    ))
    .await;
    assert_code(&o, 1);
    assert!(
        stdout(&o).starts_with("echo:"),
        "partial text kept: {}",
        stdout(&o)
    );
    assert!(stderr(&o).contains("error"), "{}", stderr(&o));

    // In the REPL an error does not end the session.
    let o = run_stdin(
        keyed(&env, &mock.uri(), &["chat", "--repl"]),
        "a b c d\nagain\n",
    )
    .await;
    assert_code(&o, 0);
    assert!(stderr(&o).matches("error").count() >= 2, "{}", stderr(&o));

    let dropping = RostroMock::builder()
        .chat_scenario(ChatScenario::DropMidStream)
        .start()
        .await;
    let o = run(keyed(
        &env,
        &dropping.uri(),
        &["chat", "one two three four"],
    ))
    .await;
    assert_code(&o, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn character_definition_becomes_the_system_prompt() {
    let mock = RostroMock::start().await;
    let entry = mock.catalog().entries()[5].clone();
    let env = Env::new();
    let id = entry.id.to_string();
    let o = run(keyed(
        &env,
        &mock.uri(),
        &["chat", "--character", &id, "who are you?", "--no-stream"],
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(stdout(&o), "echo: who are you?\n");
    let body = mock.requests_to("POST", "/v1/chat/completions")[0]
        .body_json()
        .unwrap();
    let system = body["messages"][0]["content"].as_str().unwrap_or_default();
    assert_eq!(body["messages"][0]["role"], "system");
    assert!(
        system.contains(&format!("You are {}.", entry.name)),
        "{system}"
    );
    assert!(system.contains(&entry.description), "{system}");
    // An id the catalog does not have: not found, nothing sent to the model.
    let o = run(keyed(
        &env,
        &mock.uri(),
        &["chat", "--character", "999999999", "hello"],
    ))
    .await;
    assert_code(&o, 4);
    assert_eq!(mock.requests_to("POST", "/v1/chat/completions").len(), 1);
}
