//! The persistent sandbox: state kept in a directory survives the mock that
//! wrote it, is shared by mocks serving the same directory at once (in this
//! process and in a spawned `rostro-mock --state-dir`), and is reset on demand.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{KEY, client, get_json, post_json};
use rostro_mock::{RostroMock, RoutstrMock};
use serde_json::{Value, json};

async fn sandbox(dir: &std::path::Path) -> RostroMock {
    RostroMock::builder().state_dir(dir).start().await
}

async fn lore_add(mock: &RostroMock, name: &str) -> String {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"some lore".to_vec()).file_name(name.to_string()),
    );
    let v: Value = client()
        .post(format!("{}/lore/item", mock.uri()))
        .bearer_auth(KEY)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["uuid"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn state_survives_the_mock_that_wrote_it() {
    let dir = tempfile::tempdir().unwrap();
    let (generation, upload, lore, persona) = {
        let mock = sandbox(dir.path()).await;
        let (_, g) = post_json(
            &mock,
            "/imagine?return_immediate=true",
            &json!({"prompt": "a fox"}),
        )
        .await;
        let (_, u) = post_json(
            &mock,
            "/api/gallery/upload",
            &json!({"project_id": 7, "image": "aGVsbG8="}),
        )
        .await;
        let lore = lore_add(&mock, "notes.txt").await;
        let (_, p) = post_json(&mock, "/api/personas", &json!({"name": "Bob"})).await;
        (
            g["generation_uuid"].as_str().unwrap().to_string(),
            u["uuid"].as_str().unwrap().to_string(),
            lore,
            p["id"].clone(),
        )
    };
    assert!(dir.path().join(rostro_mock::sandbox::STATE_FILE).is_file());

    // A new mock (a new port) on the same directory: everything is still there.
    let mock = sandbox(dir.path()).await;
    let mut done = false;
    for _ in 0..5 {
        let (s, v) = post_json(
            &mock,
            "/imagine/check",
            &json!({"generation_uuid": generation}),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        if v["is_done"] == true {
            done = true;
            // Media URLs follow the new base URL.
            let url = v["primary_media_url"].as_str().unwrap_or_default();
            assert!(url.starts_with(&mock.uri()), "{v}");
            break;
        }
    }
    assert!(done, "the generation finishes across mocks");
    let (_, history) = post_json(&mock, "/imagine/history", &json!({"first": 50})).await;
    assert!(history["items"].as_array().unwrap().len() >= 2, "{history}");
    let (_, gallery) = get_json(&mock, "/api/gallery/project/7").await;
    assert_eq!(gallery["nodes"][0]["uuid"], upload.as_str());
    let media = client()
        .get(gallery["nodes"][0]["primary_image_path"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(media.status(), 200);
    assert_eq!(media.bytes().await.unwrap().as_ref(), b"hello");
    let (_, items) = get_json(&mock, "/lore/items").await;
    assert_eq!(items["items"][0]["uuid"], lore.as_str());
    assert_eq!(items["items"][0]["name"], "notes.txt");
    let (_, personas) = get_json(&mock, "/api/personas").await;
    assert_eq!(personas["personas"][0]["id"], persona);
    assert_eq!(personas["personas"][0]["name"], "Bob");

    // New ids never repeat the old ones.
    let (_, g2) = post_json(
        &mock,
        "/imagine?return_immediate=true",
        &json!({"prompt": "a fox"}),
    )
    .await;
    assert_ne!(g2["generation_uuid"].as_str().unwrap(), generation);
    let again = lore_add(&mock, "notes.txt").await;
    assert_ne!(again, lore);
    drop(mock);

    rostro_mock::sandbox::reset(dir.path()).unwrap();
    let mock = sandbox(dir.path()).await;
    let (_, items) = get_json(&mock, "/lore/items").await;
    assert_eq!(items["count"], 0);
    let (_, history) = post_json(&mock, "/imagine/history", &json!({"first": 50})).await;
    assert_eq!(history["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn two_mocks_on_one_directory_see_each_others_writes() {
    let dir = tempfile::tempdir().unwrap();
    let a = sandbox(dir.path()).await;
    let b = sandbox(dir.path()).await;
    // Interleaved and concurrent writes through both: none is lost.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let uri = if i % 2 == 0 { a.uri() } else { b.uri() };
        tasks.push(tokio::spawn(async move {
            let v: Value = client()
                .post(format!("{uri}/api/personas"))
                .bearer_auth(KEY)
                .json(&json!({"name": format!("p{i}")}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["id"].as_u64().unwrap()
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 20, "ids are unique across both mocks");
    for m in [&a, &b] {
        let (_, v) = get_json(m, "/api/personas").await;
        assert_eq!(v["personas"].as_array().unwrap().len(), 20);
    }
    // Library calls see the shared state too.
    let (_, g) = post_json(&a, "/imagine", &json!({"prompt": "x"})).await;
    let uuid = g["generation_uuid"].as_str().unwrap();
    assert!(b.generation(uuid).is_some());
}

#[tokio::test]
async fn routstr_balances_persist() {
    let dir = tempfile::tempdir().unwrap();
    let key = {
        let node = RoutstrMock::builder().state_dir(dir.path()).start().await;
        let key = node.create_key(50_000);
        let resp = client()
            .post(format!("{}/v1/chat/completions", node.uri()))
            .bearer_auth(&key)
            .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        key
    };
    let node = RoutstrMock::builder().state_dir(dir.path()).start().await;
    let balance = node.balance(&key).expect("the key is still known");
    assert!(balance < 50_000, "the spend is kept: {balance}");
    let info: Value = client()
        .get(format!("{}/v1/balance/info", node.uri()))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["balance"].as_u64(), Some(balance), "{info}");
}

#[tokio::test]
async fn a_corrupt_state_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(rostro_mock::sandbox::STATE_FILE), "{nope").unwrap();
    let err = RostroMock::builder()
        .state_dir(dir.path())
        .try_start()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("rostro mock reset"), "{err}");
}

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_serves_the_same_directory() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mock = sandbox(dir.path()).await;
        lore_add(&mock, "from-library.txt").await;
    }
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_rostro-mock"))
            .arg("--state-dir")
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn rostro-mock"),
    );
    let stdout = child.0.stdout.take().unwrap();
    let uri = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line.trim().to_string()
    })
    .await
    .unwrap();
    let v: Value = client()
        .get(format!("{uri}/lore/items"))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["items"][0]["name"], "from-library.txt", "{v}");
    // And what the binary stores, a library mock reads.
    let resp = client()
        .post(format!("{uri}/api/personas"))
        .bearer_auth(KEY)
        .json(&json!({"name": "from-binary"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mock = sandbox(dir.path()).await;
    let (_, p) = get_json(&mock, "/api/personas").await;
    assert_eq!(p["personas"][0]["name"], "from-binary");
}

async fn send_json(
    mock: &RostroMock,
    method: reqwest::Method,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut req = client()
        .request(method, format!("{}{path}", mock.uri()))
        .bearer_auth(KEY);
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn created_characters_lorebooks_and_chats_survive_and_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let (character, book, chat) = {
        let mock = sandbox(dir.path()).await;
        let (s, b) = post_json(
            &mock,
            "/api/core/lorebooks",
            &json!({"name": "Harbor lore", "entries": [{"key": ["tide"], "content": "The tide turns at noon."}]}),
        )
        .await;
        assert_eq!(s, 200, "{b}");
        let book = b["node"]["id"].as_u64().unwrap();
        let (s, c) = post_json(
            &mock,
            "/api/core/characters",
            &json!({"name": "Sera Vale", "tagline": "A harbor pilot", "topics": ["sea"],
                    "first_message": "Ahoy.", "related_lorebooks": [book]}),
        )
        .await;
        assert_eq!(s, 200, "{c}");
        assert_eq!(c["node"]["name"], "Sera Vale");
        let (s, ch) = post_json(&mock, "/api/core/chats", &json!({"name": "Night watch"})).await;
        assert_eq!(s, 200, "{ch}");
        let chat = ch["id"].as_u64().unwrap();
        let (s, m) = post_json(
            &mock,
            &format!("/api/core/chats/v2/{chat}/messages/atomic"),
            &json!({"messages": [{"role": "user", "content": "Any ships?"}]}),
        )
        .await;
        assert_eq!(s, 200, "{m}");
        (c["node"].clone(), book, chat)
    };

    // A new mock on the same directory serves what the first one created.
    let mock = sandbox(dir.path()).await;
    let id = character["id"].as_u64().unwrap();
    assert!(
        id > 600_000,
        "created ids stay clear of the catalog's: {id}"
    );
    let (s, by_id) = get_json(&mock, &format!("/api/public/characters/{id}")).await;
    assert_eq!(s, 200, "{by_id}");
    assert_eq!(by_id["node"]["definition"]["first_message"], "Ahoy.");
    assert_eq!(
        by_id["node"]["definition"]["related_lorebooks"],
        json!([book])
    );
    assert_eq!(by_id["node"]["tagline"], "A harbor pilot");
    let path = character["fullPath"].as_str().unwrap();
    let (s, by_path) = get_json(&mock, &format!("/api/public/characters/{path}")).await;
    assert_eq!(s, 200, "{by_path}");
    assert_eq!(by_path["node"]["id"], id);
    let (s, b) = get_json(&mock, &format!("/api/public/lorebooks/{book}")).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["node"]["definition"]["entries"][0]["content"],
        "The tide turns at noon."
    );
    // A lorebook id is not a character.
    let (s, _) = get_json(&mock, &format!("/api/public/characters/{book}")).await;
    assert_eq!(s, 404);

    // Updates merge into the definition.
    let (s, u) = send_json(
        &mock,
        reqwest::Method::PUT,
        &format!("/api/core/characters/{path}"),
        Some(&json!({"scenario": "Fog over the bay."})),
    )
    .await;
    assert_eq!(s, 200, "{u}");
    let (_, again) = get_json(&mock, &format!("/api/public/characters/{id}")).await;
    assert_eq!(again["node"]["definition"]["scenario"], "Fog over the bay.");
    assert_eq!(again["node"]["definition"]["first_message"], "Ahoy.");

    let (s, list) = get_json(&mock, "/api/core/chats?search=night").await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["chats"][0]["id"], chat, "{list}");
    let (s, one) = get_json(&mock, &format!("/api/core/chats/v2/{chat}")).await;
    assert_eq!(s, 200, "{one}");
    assert_eq!(one["chat"]["messages"][0]["content"], "Any ships?");
    let (s, _) = send_json(
        &mock,
        reqwest::Method::DELETE,
        &format!("/api/core/chats/{chat}"),
        None,
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = get_json(&mock, &format!("/api/core/chats/v2/{chat}")).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn chats_page_by_cursor_and_creates_validate() {
    let mock = RostroMock::start().await;
    for i in 0..5 {
        post_json(&mock, "/api/core/chats", &json!({"name": format!("c{i}")})).await;
    }
    let (_, p1) = get_json(&mock, "/api/core/chats?limit=2").await;
    assert_eq!(p1["chats"].as_array().unwrap().len(), 2);
    assert_eq!(p1["count"], 5);
    let cursor = p1["cursor"].as_str().unwrap().to_string();
    let (_, p2) = get_json(&mock, &format!("/api/core/chats?limit=10&cursor={cursor}")).await;
    assert_eq!(p2["chats"].as_array().unwrap().len(), 3);
    assert!(p2["cursor"].is_null(), "{p2}");
    let (s, v) = post_json(
        &mock,
        "/api/core/characters",
        &json!({"tagline": "no name"}),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    let (s, _) = post_json(&mock, "/api/core/characters", &json!([1, 2])).await;
    assert_eq!(s, 422);
}

#[tokio::test]
async fn an_edited_seeded_character_is_served_edited_and_survives() {
    let dir = tempfile::tempdir().unwrap();
    let mock = sandbox(dir.path()).await;
    let e = mock.catalog().characters().next().unwrap().clone();
    let (s, v) = send_json(
        &mock,
        reqwest::Method::PUT,
        &format!("/api/core/characters/{}", e.full_path),
        Some(&json!({"scenario": "Edited.", "tagline": "New tagline"})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    drop(mock);
    let mock = sandbox(dir.path()).await;
    let (_, got) = get_json(&mock, &format!("/api/public/characters/{}", e.id)).await;
    assert_eq!(got["node"]["definition"]["scenario"], "Edited.");
    assert_eq!(got["node"]["tagline"], "New tagline");
    assert_eq!(got["node"]["name"], e.name, "the rest of the entry is kept");
}

#[tokio::test]
async fn linking_a_lorebook_adds_it_once_and_unlinking_removes_it() {
    let mock = RostroMock::start().await;
    let (_, b) = post_json(&mock, "/api/core/lorebooks", &json!({"name": "Tides"})).await;
    let book = b["node"]["id"].as_u64().unwrap();
    let (_, c) = post_json(&mock, "/api/core/characters", &json!({"name": "Pilot"})).await;
    let path = c["node"]["fullPath"].as_str().unwrap().to_owned();
    let id = c["node"]["id"].as_u64().unwrap();
    let link = format!("/api/core/characters/link/{path}/lorebook/{book}");
    for _ in 0..2 {
        let (s, v) = post_json(&mock, &link, &json!({})).await;
        assert_eq!(s, 200, "{v}");
    }
    let (_, got) = get_json(&mock, &format!("/api/public/characters/{id}")).await;
    assert_eq!(
        got["node"]["definition"]["related_lorebooks"],
        json!([book])
    );
    let (s, _) = send_json(&mock, reqwest::Method::DELETE, &link, None).await;
    assert_eq!(s, 200);
    let (_, got) = get_json(&mock, &format!("/api/public/characters/{id}")).await;
    assert_eq!(got["node"]["definition"]["related_lorebooks"], json!([]));
    // A book that does not exist is a 404, not a silent success.
    let (s, _) = post_json(
        &mock,
        &format!("/api/core/characters/link/{path}/lorebook/424242"),
        &json!({}),
    )
    .await;
    assert_eq!(s, 404);
}
