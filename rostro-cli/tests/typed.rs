//! Commands read typed answers: a list in the documented place becomes a table, an answer
//! of another shape is an error that says so (not empty columns), `--json` prints what came,
//! and changes say what changed.

mod common;

use common::*;
use rostro_mock::RostroMock;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "test-key-0000000";

fn keyed(env: &Env, base: &str, args: &[&str]) -> assert_cmd::Command {
    let mut all = vec!["--base-url", base];
    all.extend_from_slice(args);
    with_env(env.cmd(all), "ROSTRO_API_KEY", KEY)
}

async fn serve(verb: &str, route: &str, body: Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method(verb))
        .and(path(route))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn a_list_answer_of_another_shape_is_an_error_not_empty_columns() {
    let server = serve("GET", "/api/account/tokens", json!({"tokens": "none"})).await;
    let env = Env::new();
    let o = run(keyed(&env, &server.uri(), &["account", "tokens"])).await;
    assert_ne!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
    assert!(
        stderr(&o).contains("account tokens") && stderr(&o).contains("--json"),
        "{}",
        stderr(&o)
    );
    // `--json` never needs the typed view: the answer shows as it came.
    let o = run(keyed(&env, &server.uri(), &["--json", "account", "tokens"])).await;
    assert_code(&o, 0);
    assert_eq!(json(&o), json!({"tokens": "none"}));
}

#[tokio::test(flavor = "multi_thread")]
async fn list_items_print_as_they_came_with_json_and_typed_in_the_table() {
    let item = json!({"id": "4", "name": "Harbour talk", "mood": {"x": 1}, "updated_at": "2026-01-02T00:00:00Z"});
    let server = serve(
        "GET",
        "/api/core/chats",
        json!({"chats": [item.clone()], "count": "1"}),
    )
    .await;
    let env = Env::new();
    let o = run(keyed(&env, &server.uri(), &["--json", "chats", "list"])).await;
    assert_code(&o, 0);
    assert_eq!(ndjson(&o), [item], "the item exactly as it came");
    let o = run(keyed(&env, &server.uri(), &["chats", "list"])).await;
    assert_code(&o, 0);
    let row = stdout(&o)
        .lines()
        .find(|l| l.contains("Harbour talk"))
        .map(str::to_owned)
        .unwrap_or_default();
    // The id the server wrote as text reads as the number it is.
    assert!(
        row.starts_with('4') && row.contains("2026-01-02"),
        "{}",
        stdout(&o)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn lore_query_and_follows_read_the_documented_lists() {
    let server = serve(
        "POST",
        "/lore",
        json!({"results": [{"text": "Storms are sacred.", "score": "0.8"}]}),
    )
    .await;
    let env = Env::new();
    let o = run(keyed(&env, &server.uri(), &["lore", "query", "storms"])).await;
    assert_code(&o, 0);
    assert!(
        stdout(&o).contains("0.800") && stdout(&o).contains("Storms are sacred."),
        "{}",
        stdout(&o)
    );

    let server = serve(
        "GET",
        "/api/followers/You",
        json!({"count": 1, "users": [{"username": "bob", "id": 9}]}),
    )
    .await;
    let o = run(keyed(&env, &server.uri(), &["follow", "followers"])).await;
    assert_code(&o, 0);
    assert!(
        stdout(&o)
            .lines()
            .any(|l| l.starts_with("bob") && l.ends_with('9')),
        "{}",
        stdout(&o)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn updates_say_which_fields_changed_and_an_empty_update_is_refused() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    let o = run(keyed(
        &env,
        &mock.uri(),
        &["--json", "characters", "create", "--name", "Aria"],
    ))
    .await;
    assert_code(&o, 0);
    let full_path = json(&o)["node"]["fullPath"].as_str().unwrap().to_owned();
    let o = run(keyed(
        &env,
        &mock.uri(),
        &[
            "characters",
            "update",
            &full_path,
            "--name",
            "Aria",
            "--tagline",
            "Storms",
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert!(
        stderr(&o).contains(&format!("Updated {full_path}: name, tagline")),
        "{}",
        stderr(&o)
    );
    let o = run(keyed(
        &env,
        &mock.uri(),
        &["characters", "update", &full_path],
    ))
    .await;
    assert_code(&o, 2);
    assert!(stderr(&o).contains("nothing to update"), "{}", stderr(&o));
    assert!(
        mock.requests_to("PUT", "/api/core/characters/{username}/{pathname}")
            .len()
            == 1,
        "the empty update sent nothing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn characters_create_prints_the_new_id_and_path() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    let o = run(keyed(
        &env,
        &mock.uri(),
        &["characters", "create", "--name", "Nim"],
    ))
    .await;
    assert_code(&o, 0);
    let line = stderr(&o);
    assert!(
        line.contains("Created character: id ") && line.contains("/nim-"),
        "{line}"
    );
}
