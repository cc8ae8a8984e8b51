//! Resource commands and the `api` escape hatch against the mock, JSON output parsed.

mod common;

use common::*;
use rostro_mock::{RostroMock, SearchEnvelope};
use serde_json::Value;

const KEY: &str = "test-key-0000000";

fn keyed(env: &Env, base: &str, args: &[&str]) -> assert_cmd::Command {
    let mut all = vec!["--base-url", base];
    all.extend_from_slice(args);
    with_env(env.cmd(all), "ROSTRO_API_KEY", KEY)
}

/// Starts a chat in the env's sandbox and returns its id.
async fn start_chat(env: &Env) -> String {
    let o = run(env.cmd([
        "--mock",
        "api",
        "POST",
        "/api/core/chats",
        "-f",
        "name=Trip",
    ]))
    .await;
    assert_code(&o, 0);
    json(&o)["id"].to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn search_filters_and_pages() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    let base = mock.uri();

    // --limit across pages (pages of at most 100).
    let o = run(keyed(&env, &base, &["--json", "search", "--limit", "130"])).await;
    assert_code(&o, 0);
    let nodes = ndjson(&o);
    assert_eq!(nodes.len(), 130);
    let ids: std::collections::HashSet<i64> =
        nodes.iter().map(|n| n["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 130, "no duplicates across pages");
    assert_eq!(mock.attempts("GET", "/search"), 2);

    // Filters are sent and honoured.
    let o = run(keyed(
        &env,
        &base,
        &[
            "--json",
            "search",
            "--tag",
            "Dragon",
            "--min-tokens",
            "1000",
            "--max-tokens",
            "6000",
            "--sort",
            "star_count",
            "--limit",
            "20",
        ],
    ))
    .await;
    assert_code(&o, 0);
    let nodes = ndjson(&o);
    assert!(!nodes.is_empty());
    let mut last = i64::MAX;
    for n in &nodes {
        let tags: Vec<&str> = n["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert!(tags.contains(&"Dragon"), "{tags:?}");
        let t = n["nTokens"].as_i64().unwrap();
        assert!((1000..=6000).contains(&t));
        let stars = n["starCount"].as_i64().unwrap();
        assert!(stars <= last, "sorted by stars, descending");
        last = stars;
    }
    let creator = nodes[0]["creator"].as_str().unwrap().to_owned();
    let o = run(keyed(
        &env,
        &base,
        &["--json", "search", "--creator", &creator, "--limit", "5"],
    ))
    .await;
    for n in ndjson(&o) {
        assert_eq!(n["creator"], creator.as_str());
    }
    let o = run(keyed(
        &env,
        &base,
        &["--json", "search", "--lorebooks", "--limit", "3"],
    ))
    .await;
    for n in ndjson(&o) {
        assert_eq!(n["projectSpace"], "lorebooks");
    }
    // The human table.
    let o = run(keyed(&env, &base, &["search", "--limit", "3"])).await;
    assert_code(&o, 0);
    let out = stdout(&o);
    assert!(out.starts_with("ID"), "{out}");
    assert_eq!(out.lines().count(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn search_reads_the_data_envelope() {
    let mock = RostroMock::builder()
        .search_envelope(SearchEnvelope::Data)
        .start()
        .await;
    let env = Env::new();
    let o = run(keyed(
        &env,
        &mock.uri(),
        &["--json", "search", "--limit", "45"],
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(ndjson(&o).len(), 45);
}

#[tokio::test(flavor = "multi_thread")]
async fn resource_commands_answer() {
    let env = Env::new();
    // A creator/slug path the mock's catalog serves (`--mock` uses the same default catalog).
    let full_path = RostroMock::start().await.catalog().entries()[0]
        .full_path
        .clone();
    // `--mock` keeps state (in this env's state dir): update and remove what exists.
    let o = run(env.cmd(["--mock", "--json", "personas", "create", "--name", "Me"])).await;
    assert_code(&o, 0);
    let persona = json(&o)["id"].to_string();
    let lore_file = env.path().join("lore.txt");
    std::fs::write(&lore_file, "north").unwrap();
    let o = run(env.cmd([
        "--mock",
        "--json",
        "lore",
        "add",
        lore_file.to_str().unwrap(),
    ]))
    .await;
    assert_code(&o, 0);
    let lore = json(&o)["uuid"].as_str().unwrap().to_string();
    // The sandbox keeps chats: start one to show.
    let chat = start_chat(&env).await;
    let cases: Vec<Vec<&str>> = vec![
        vec!["account", "show"],
        vec!["account", "tokens"],
        vec!["characters", "get", "1001"],
        vec!["characters", "get", &full_path],
        vec![
            "characters",
            "create",
            "--name",
            "Hero",
            "--tag",
            "fantasy",
            "-F",
            "definition.personality=brave",
        ],
        vec!["characters", "update", &full_path, "--tagline", "new"],
        vec!["characters", "fork", "1001"],
        vec!["characters", "favorite", "1001"],
        vec!["characters", "favorite", "1001", "--remove"],
        vec!["characters", "delete", "1001", "--yes"],
        vec!["characters", "expressions", "1001"],
        vec!["personas", "list"],
        vec![
            "personas",
            "create",
            "--name",
            "Me",
            "--description",
            "a traveller",
        ],
        vec!["personas", "update", &persona, "--name", "Me too"],
        vec!["personas", "delete", &persona, "--yes"],
        vec!["chats", "list"],
        vec!["chats", "show", &chat],
        vec!["follow", "user", "alice"],
        vec!["follow", "user", "alice", "--remove"],
        vec!["follow", "tag", "Dragon"],
        vec!["follow", "list"],
        vec!["follow", "followers", "alice"],
        vec!["lore", "list", "--owner", "1"],
        vec!["lore", "query", "who rules the north?"],
        vec!["lore", "remove", "1", &lore],
        vec!["voices", "list"],
        vec!["assets", "list"],
        vec!["assets", "get", "a1"],
        vec!["imagine", "history"],
        vec!["models"],
    ];
    for args in cases {
        let mut all = vec!["--mock", "--json"];
        all.extend_from_slice(&args);
        let o = run(env.cmd(&all)).await;
        assert_code(&o, 0);
        // Every line is JSON.
        for line in stdout(&o).lines().filter(|l| !l.is_empty()) {
            serde_json::from_str::<Value>(line)
                .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {line}"));
        }
    }
    // Deleting without --yes needs a terminal.
    let o = run(env.cmd(["--mock", "characters", "delete", "1001"])).await;
    assert_code(&o, 2);
    assert!(stderr(&o).contains("--yes"));
}

#[tokio::test(flavor = "multi_thread")]
async fn models_and_chat_export() {
    let env = Env::new();
    let chat = start_chat(&env).await;
    let o = run(env.cmd(["--mock", "--json", "models"])).await;
    let ids: Vec<String> = ndjson(&o)
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(ids.contains(&"mobile".to_owned()), "{ids:?}");
    let file = env.path().join("chat.md");
    let o = run(env.cmd([
        "--mock",
        "chats",
        "export",
        &chat,
        "-o",
        file.to_str().unwrap(),
    ]))
    .await;
    assert_code(&o, 0);
    assert!(std::fs::read_to_string(&file).unwrap().starts_with("# "));
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_of_single_files() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    let base = mock.uri();
    let audio = env.path().join("voice.wav");
    std::fs::write(&audio, vec![7u8; 40_000]).unwrap();
    let notes = env.path().join("notes.md");
    std::fs::write(&notes, "# The North\nWinter is long.\n").unwrap();

    let o = run(keyed(&env, &base, &["stt", audio.to_str().unwrap()])).await;
    assert_code(&o, 0);
    assert!(stdout(&o).contains("40000 bytes"), "{}", stdout(&o));

    let o = run(keyed(
        &env,
        &base,
        &[
            "--json",
            "voices",
            "clone",
            audio.to_str().unwrap(),
            "--name",
            "Narrator",
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(json(&o)["name"], "Narrator");

    let o = run(keyed(
        &env,
        &base,
        &[
            "--json",
            "lore",
            "add",
            notes.to_str().unwrap(),
            "--metadata",
            "{\"topic\":\"north\"}",
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(json(&o)["status"], "indexed");

    // Small asset: one multipart request; large one (threshold 0): chunked parts.
    let o = run(keyed(
        &env,
        &base,
        &["--json", "assets", "upload", notes.to_str().unwrap()],
    ))
    .await;
    assert_code(&o, 0);
    let big = env.path().join("big.bin");
    let data: Vec<u8> = (0..3_500_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&big, &data).unwrap();
    let o = run(keyed(
        &env,
        &base,
        &[
            "--json",
            "assets",
            "upload",
            big.to_str().unwrap(),
            "--chunk-threshold",
            "0",
            "--part-size",
            "1",
        ],
    ))
    .await;
    assert_code(&o, 0);
    let v = json(&o);
    assert_eq!(v["chunked"], true);
    assert_eq!(v["size"], 3_500_000);
    assert_eq!(v["parts"], 4);
    let expected = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&data))
    };
    assert_eq!(v["sha256"], expected.as_str());

    let uploads = mock.uploads();
    assert!(
        uploads
            .iter()
            .any(|u| u.sha256 == expected && u.size == 3_500_000)
    );
    // Missing files are usage errors.
    let o = run(keyed(&env, &base, &["stt", "nope.wav"])).await;
    assert_code(&o, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn api_raw_requests() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    let base = mock.uri();

    let o = run(keyed(
        &env,
        &base,
        &["api", "/search?first=3", "--jq", ".nodes | length"],
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(stdout(&o).trim(), "3");

    // Fields on POST become the JSON body; -F is typed.
    let o = run(keyed(
        &env,
        &base,
        &[
            "api",
            "POST",
            "/imagine",
            "-f",
            "prompt=a red fox",
            "-f",
            "generation_type=text_to_image",
            "--jq",
            ".generation_uuid",
        ],
    ))
    .await;
    assert_code(&o, 0);
    let uuid = stdout(&o).trim().to_owned();
    assert!(!uuid.is_empty());
    let job = mock.generation(&uuid).expect("generation recorded");
    assert_eq!(job.prompt, "a red fox");

    // --input - reads the body from stdin.
    let o = run_stdin(
        keyed(
            &env,
            &base,
            &["api", "POST", "/imagine/check", "--input", "-"],
        ),
        &format!("{{\"generation_uuid\": \"{uuid}\"}}"),
    )
    .await;
    assert_code(&o, 0);
    assert_eq!(json(&o)["generation_uuid"], uuid.as_str());

    // GET fields go to the query string; --paginate follows the cursor.
    let o = run(keyed(
        &env,
        &base,
        &[
            "api",
            "GET",
            "/search",
            "-F",
            "first=50",
            "-F",
            "nsfw=true",
            "--paginate",
            "--jq",
            ".nodes | length",
        ],
    ))
    .await;
    assert_code(&o, 0);
    let pages: Vec<u64> = stdout(&o).lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(pages.iter().sum::<u64>(), 600, "{pages:?}");

    // Headers, -i.
    let o = run(keyed(
        &env,
        &base,
        &["api", "/api/self", "-i", "-H", "X-Trace: abc"],
    ))
    .await;
    assert_code(&o, 0);
    assert!(stdout(&o).contains("x-request-id"), "{}", stdout(&o));
    let req = mock.requests_to("GET", "/api/self");
    assert_eq!(req.last().unwrap().header("x-trace"), Some("abc"));

    // Multipart with --form: files as parts.
    let f = env.path().join("lore.txt");
    std::fs::write(&f, "hello").unwrap();
    let o = run(keyed(
        &env,
        &base,
        &[
            "api",
            "POST",
            "/lore/item",
            "--form",
            "-F",
            &format!("file=@{}", f.display()),
            "-f",
            "metadata={}",
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(json(&o)["size"], 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn api_call_by_operation_id() {
    let mock = RostroMock::start().await;
    let env = Env::new();
    let base = mock.uri();
    let o = run(keyed(
        &env,
        &base,
        &[
            "api",
            "call",
            "--jq",
            ".nodes | length",
            "search_projects",
            "--first",
            "4",
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(stdout(&o).trim(), "4");
    // group.method names, path parameters, body from a file.
    let o = run(keyed(
        &env,
        &base,
        &["api", "call", "gallery.delete", "--uuid", "nope"],
    ))
    .await;
    assert_code(&o, 4);
    let body = env.path().join("body.json");
    std::fs::write(
        &body,
        r#"{"prompt": "fox", "generation_type": "text_to_image"}"#,
    )
    .unwrap();
    let o = run(keyed(
        &env,
        &base,
        &[
            "api",
            "call",
            "imagine.create",
            "--body",
            body.to_str().unwrap(),
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert!(json(&o)["generation_uuid"].is_string());
    // Missing path parameters and unknown operations are usage errors.
    let o = run(keyed(&env, &base, &["api", "call", "GalleryDelete"])).await;
    assert_code(&o, 2);
    assert!(stderr(&o).contains("--uuid"));
    let o = run(keyed(&env, &base, &["api", "call", "no_such_operation"])).await;
    assert_code(&o, 2);
    // A parameter the operation does not declare is a usage error, not an extra query
    // parameter; nothing is sent.
    let before = mock.received_requests().len();
    let o = run(keyed(
        &env,
        &base,
        &["api", "call", "search_projects", "--frist", "4"],
    ))
    .await;
    assert_code(&o, 2);
    assert!(
        stderr(&o).contains("no parameter `frist`"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("--first"), "{}", stderr(&o));
    assert_eq!(mock.received_requests().len(), before);
    // Mimic operations go to the mimic base.
    let o = run(keyed(
        &env,
        &base,
        &["--jq", ".data[0].id", "api", "call", "models.list"],
    ))
    .await;
    assert_code(&o, 0);
    assert_eq!(stdout(&o).trim(), "mobile");
    // A global option after the operation id applies, as after any command; it is not
    // sent as a parameter.
    let o = run(keyed(
        &env,
        &base,
        &[
            "api",
            "call",
            "search.list",
            "--first",
            "2",
            "--jq",
            ".count",
        ],
    ))
    .await;
    assert_code(&o, 0);
    assert!(stdout(&o).trim().parse::<u64>().is_ok(), "{}", stdout(&o));
    let last = mock.received_requests().pop().expect("a request");
    assert!(!last.query.unwrap_or_default().contains("jq"));
}
