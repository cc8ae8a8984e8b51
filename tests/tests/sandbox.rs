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
