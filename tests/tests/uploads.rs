//! Uploads: base64 JSON, multipart endpoints and the chunked flow, hashed
//! while streaming; gallery listings show them.

mod common;

use base64::Engine;
use common::{KEY, client, get_json, post_json, status_json};
use futures::StreamExt;
use rostro_mock::{RostroMock, UploadKind};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Deterministic pseudo-random bytes.
fn data(len: usize, seed: u8) -> Vec<u8> {
    let mut x = u32::from(seed) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

#[tokio::test]
async fn gallery_base64_upload_is_listed_and_served_back() {
    let mock = RostroMock::start().await;
    let png = rostro_mock::MediaKind::Image.render(9);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&png);
    let (s, item) = post_json(
        &mock,
        "/api/gallery/upload",
        &json!({"project_id": 172700, "image": format!("data:image/png;base64,{b64}"), "caption": "hi"}),
    )
    .await;
    assert_eq!(s, 200);
    let uuid = item["uuid"].as_str().unwrap().to_string();
    let path = item["primary_image_path"].as_str().unwrap().to_string();
    assert!(path.ends_with(&format!("{uuid}.png")));
    let rec = mock.upload(&uuid).unwrap();
    assert_eq!(rec.kind, UploadKind::Base64Json);
    assert_eq!(rec.size, png.len() as u64);
    assert_eq!(rec.sha256, sha(&png));
    assert_eq!(rec.project_id, Some(172700));
    assert_eq!(rec.content_type.as_deref(), Some("image/png"));
    assert!(rec.fields.contains(&("caption".into(), "hi".into())));

    let served = client().get(&path).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.bytes().await.unwrap().as_ref(), &png[..]);

    // Another project's upload, then the listings.
    let (_, other) = post_json(
        &mock,
        "/api/gallery/upload",
        &json!({"project_id": 5, "image": b64}),
    )
    .await;
    let (_, all) = get_json(&mock, "/api/gallery").await;
    assert_eq!(all["count"], 2);
    assert_eq!(all["page"], 1);
    assert_eq!(all["nodes"][0]["uuid"], other["uuid"], "newest first");
    let (_, proj) = get_json(&mock, "/api/gallery/project/172700").await;
    assert_eq!(proj["count"], 1);
    assert_eq!(proj["nodes"][0]["uuid"], uuid.as_str());
    assert_eq!(proj["nodes"][0]["primary_image_path"], path.as_str());
    let (_, paged) = get_json(&mock, "/api/gallery?limit=1&page=2").await;
    assert_eq!(paged["nodes"].as_array().unwrap().len(), 1);
    assert_eq!(paged["nodes"][0]["uuid"], uuid.as_str());

    // Deleting removes it from the gallery.
    let resp = client()
        .delete(format!("{}/api/gallery/{uuid}", mock.uri()))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (_, proj) = get_json(&mock, "/api/gallery/project/172700").await;
    assert_eq!(proj["count"], 0);

    let (s, v) = post_json(&mock, "/api/gallery/upload", &json!({"project_id": 1})).await;
    assert_eq!(s, 422);
    assert_eq!(v["detail"][0]["loc"], json!(["body", "image"]));
    let (s, _) = post_json(
        &mock,
        "/api/gallery/upload",
        &json!({"image": "not base64!"}),
    )
    .await;
    assert_eq!(s, 422);
}

#[tokio::test]
async fn large_base64_upload_is_hashed_without_being_kept() {
    let mock = RostroMock::builder()
        .retain_upload_bytes(1024)
        .start()
        .await;
    let bytes = data(6 * 1024 * 1024 + 3, 1);
    let body = format!(
        r#"{{"project_id": "9", "image": "{}"}}"#,
        base64::engine::general_purpose::STANDARD.encode(&bytes)
    );
    let resp = client()
        .post(format!("{}/api/gallery/upload", mock.uri()))
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    let (s, item) = status_json(resp).await;
    assert_eq!(s, 200, "{item}");
    let rec = mock.upload(item["uuid"].as_str().unwrap()).unwrap();
    assert_eq!(rec.size, bytes.len() as u64);
    assert_eq!(rec.sha256, sha(&bytes));
    assert!(rec.bytes.is_none());
    assert_eq!(rec.project_id, Some(9));
    let req = mock.received_requests().pop().unwrap();
    assert_eq!(req.body_len, body.len() as u64);
    assert!(req.body.is_empty(), "streamed bodies are not recorded");
}

#[tokio::test]
async fn multipart_endpoints_store_files() {
    let mock = RostroMock::start().await;
    let file = data(70_000, 2);
    let cases = [
        ("/lore/item", "file"),
        ("/stt", "sample"),
        ("/voice_clone", "sample"),
        ("/engine/api/assets", "file"),
        ("/extension/ext-1/upload", "file"),
        ("/api/media/video/upload", "file"),
    ];
    for (path, field) in cases {
        let part = reqwest::multipart::Part::bytes(file.clone())
            .file_name("clip.mp4")
            .mime_str("video/mp4")
            .unwrap();
        let form = reqwest::multipart::Form::new()
            .text("project_id", "42")
            .text("name", "My voice")
            .part(field, part);
        let resp = client()
            .post(format!("{}{path}", mock.uri()))
            .bearer_auth(KEY)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let (s, v) = status_json(resp).await;
        assert_eq!(s, 200, "{path}: {v}");
        let rec = mock.uploads().pop().unwrap();
        assert_eq!(rec.kind, UploadKind::Multipart);
        assert_eq!(rec.field.as_deref(), Some(field));
        assert_eq!(rec.filename.as_deref(), Some("clip.mp4"));
        assert_eq!(rec.size, file.len() as u64, "{path}");
        assert_eq!(rec.sha256, sha(&file), "{path}");
        assert_eq!(rec.project_id, Some(42));
        assert!(rec.fields.contains(&("name".into(), "My voice".into())));
        match path {
            "/stt" => assert!(
                v["reference_text"]
                    .as_str()
                    .unwrap()
                    .contains("70000 bytes")
            ),
            "/voice_clone" => assert_eq!(v["name"], "My voice"),
            "/lore/item" => assert_eq!(v["status"], "indexed"),
            "/extension/ext-1/upload" => assert_eq!(v["success"], true),
            "/api/media/video/upload" => assert_eq!(v["uuid"], rec.uuid.as_str()),
            _ => assert_eq!(v["uuid"], rec.uuid.as_str()),
        }
    }
    assert_eq!(mock.uploads().len(), cases.len());
    // The video upload shows up in the project gallery.
    let (_, g) = get_json(&mock, "/api/gallery/project/42").await;
    assert_eq!(g["count"], 1);
    // A multipart request without a file part is a validation error.
    let form = reqwest::multipart::Form::new().text("name", "x");
    let resp = client()
        .post(format!("{}/stt", mock.uri()))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (s, v) = status_json(resp).await;
    assert_eq!(s, 422);
    assert_eq!(v["detail"][0]["loc"], json!(["body", "sample"]));
}

#[tokio::test]
async fn streamed_multipart_upload_is_hashed_incrementally() {
    let mock = RostroMock::builder().retain_upload_bytes(0).start().await;
    const CHUNK: usize = 256 * 1024;
    const CHUNKS: usize = 64; // 16 MiB
    let mut expected = Sha256::new();
    for i in 0..CHUNKS {
        expected.update(data(CHUNK, i as u8));
    }
    let stream = futures::stream::iter(0..CHUNKS)
        .map(|i| Ok::<Vec<u8>, std::io::Error>(data(CHUNK, i as u8)));
    let part = reqwest::multipart::Part::stream_with_length(
        reqwest::Body::wrap_stream(stream),
        (CHUNK * CHUNKS) as u64,
    )
    .file_name("big.bin");
    let form = reqwest::multipart::Form::new().part("file", part);
    let resp = client()
        .post(format!("{}/engine/api/assets", mock.uri()))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let rec = mock.uploads().pop().unwrap();
    assert_eq!(rec.size, (CHUNK * CHUNKS) as u64);
    assert_eq!(rec.sha256, hex::encode(expected.finalize()));
    assert!(rec.bytes.is_none());
}

async fn put(mock: &RostroMock, url: &str, body: Vec<u8>) -> (u16, Option<String>) {
    let resp = client().put(url).body(body).send().await.unwrap();
    let etag = resp
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string());
    let _ = mock;
    (resp.status().as_u16(), etag)
}

#[tokio::test]
async fn chunked_upload_in_order() {
    let mock = RostroMock::start().await;
    let file = data(2_500_000, 3);
    let (s, start) = post_json(
        &mock,
        "/engine/api/upload/start-upload",
        &json!({"filename": "scene.glb", "size": file.len(), "part_size": 1_000_000, "content_type": "model/gltf-binary"}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(start["parts"], 3);
    let id = start["upload_id"].as_str().unwrap().to_string();
    let (_, urls) = post_json(
        &mock,
        "/engine/api/upload/signed-urls",
        &json!({"upload_id": id}),
    )
    .await;
    let urls = urls["urls"].as_array().unwrap().clone();
    assert_eq!(urls.len(), 3);
    let mut parts = Vec::new();
    for (i, u) in urls.iter().enumerate() {
        let url = u["url"].as_str().unwrap();
        assert!(url.starts_with(&mock.uri()));
        let chunk = file[i * 1_000_000..((i + 1) * 1_000_000).min(file.len())].to_vec();
        let (s, etag) = put(&mock, url, chunk.clone()).await;
        assert_eq!(s, 200);
        assert_eq!(
            etag.as_deref(),
            Some(format!("\"{}\"", sha(&chunk)).as_str())
        );
        parts.push(json!({"part_number": u["part_number"], "etag": etag}));
    }
    let (s, done) = post_json(
        &mock,
        "/engine/api/upload/complete-upload",
        &json!({"upload_id": id, "parts": parts}),
    )
    .await;
    assert_eq!(s, 200, "{done}");
    assert_eq!(done["size"], file.len());
    assert_eq!(done["sha256"], sha(&file).as_str());
    let rec = mock.upload(done["uuid"].as_str().unwrap()).unwrap();
    assert_eq!(rec.kind, UploadKind::Chunked);
    assert_eq!(rec.parts.len(), 3);
    assert_eq!(rec.parts[2].size, 500_000);
    assert_eq!(rec.filename.as_deref(), Some("scene.glb"));
    // Completing twice answers the same.
    let (_, again) = post_json(
        &mock,
        "/engine/api/upload/complete-upload",
        &json!({"upload_id": id}),
    )
    .await;
    assert_eq!(again, done);
}

#[tokio::test]
async fn chunked_upload_out_of_order_and_concurrent_parts() {
    let mock = RostroMock::start().await;
    // Part 2 is larger than the in-memory spool limit, so it goes to a temp file.
    let p1 = data(300_000, 4);
    let p2 = data(9 * 1024 * 1024, 5);
    let p3 = data(100_000, 6);
    let (_, start) = post_json(
        &mock,
        "/engine/api/upload/start-upload",
        &json!({"filename": "a.bin"}),
    )
    .await;
    let id = start["upload_id"].as_str().unwrap().to_string();
    let (_, urls) = post_json(
        &mock,
        "/engine/api/upload/signed-urls",
        &json!({"upload_id": id, "parts": 3}),
    )
    .await;
    let url = |n: usize| urls["urls"][n - 1]["url"].as_str().unwrap().to_string();
    // Parts 3 and 2 concurrently, then 1.
    let (u2, u3) = (url(2), url(3));
    let (a, b) = tokio::join!(put(&mock, &u3, p3.clone()), put(&mock, &u2, p2.clone()));
    assert_eq!((a.0, b.0), (200, 200));
    // Not complete yet.
    let (s, v) = post_json(
        &mock,
        "/engine/api/upload/complete-upload",
        &json!({"upload_id": id}),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    assert!(
        v["detail"][0]["msg"]
            .as_str()
            .unwrap()
            .contains("Missing parts: [1]")
    );
    assert_eq!(put(&mock, &url(1), p1.clone()).await.0, 200);
    let (s, done) = post_json(
        &mock,
        "/engine/api/upload/complete-upload",
        &json!({"upload_id": id}),
    )
    .await;
    assert_eq!(s, 200);
    let whole: Vec<u8> = [p1, p2, p3].concat();
    assert_eq!(done["size"], whole.len());
    assert_eq!(done["sha256"], sha(&whole).as_str());
}

#[tokio::test]
async fn chunked_upload_errors() {
    let mock = RostroMock::start().await;
    let (s, _) = post_json(
        &mock,
        "/engine/api/upload/signed-urls",
        &json!({"upload_id": "nope"}),
    )
    .await;
    assert_eq!(s, 422, "the operation declares 200 and 422");
    let (s, _) = post_json(&mock, "/engine/api/upload/complete-upload", &json!({})).await;
    assert_eq!(s, 422);
    let (_, start) = post_json(&mock, "/engine/api/upload/start-upload", &json!({})).await;
    let id = start["upload_id"].as_str().unwrap().to_string();
    let (_, urls) = post_json(
        &mock,
        "/engine/api/upload/signed-urls",
        &json!({"upload_id": id}),
    )
    .await;
    let url = urls["urls"][0]["url"].as_str().unwrap().to_string();
    assert_eq!(put(&mock, &url, vec![1, 2, 3]).await.0, 200);
    let (s, v) = post_json(
        &mock,
        "/engine/api/upload/complete-upload",
        &json!({"upload_id": id, "parts": [{"part_number": 1, "etag": "\"wrong\""}]}),
    )
    .await;
    assert_eq!(s, 422);
    assert!(v["detail"][0]["msg"].as_str().unwrap().contains("ETag"));
    let missing = format!("{}/_mock/upload/nope/1", mock.uri());
    assert_eq!(put(&mock, &missing, vec![1]).await.0, 404);
}

#[tokio::test]
#[ignore = "streams 1 GiB; run with `cargo test --release -- --ignored`"]
async fn one_gibibyte_chunked_upload_streams_in_constant_memory() {
    let mock = RostroMock::start().await;
    const PART: usize = 64 * 1024 * 1024;
    const PARTS: usize = 16;
    let (_, start) = post_json(
        &mock,
        "/engine/api/upload/start-upload",
        &json!({"size": PART * PARTS, "part_size": PART}),
    )
    .await;
    let id = start["upload_id"].as_str().unwrap().to_string();
    let (_, urls) = post_json(
        &mock,
        "/engine/api/upload/signed-urls",
        &json!({"upload_id": id}),
    )
    .await;
    let block = data(1024 * 1024, 7);
    let mut expected = Sha256::new();
    for u in urls["urls"].as_array().unwrap() {
        let block2 = block.clone();
        let stream = futures::stream::iter(0..PART / block.len())
            .map(move |_| Ok::<Vec<u8>, std::io::Error>(block2.clone()));
        for _ in 0..PART / block.len() {
            expected.update(&block);
        }
        let resp = client()
            .put(u["url"].as_str().unwrap())
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    let (_, done): (u16, Value) = post_json(
        &mock,
        "/engine/api/upload/complete-upload",
        &json!({"upload_id": id}),
    )
    .await;
    assert_eq!(done["size"], PART * PARTS);
    assert_eq!(done["sha256"], hex::encode(expected.finalize()).as_str());
}

#[tokio::test]
async fn a_part_whose_client_goes_away_mid_body_can_be_sent_again() {
    let mock = RostroMock::start().await;
    let file = data(300_000, 9);
    let (_, start) = post_json(
        &mock,
        "/engine/api/upload/start-upload",
        &json!({"filename": "big.bin", "size": file.len(), "part_size": 200_000}),
    )
    .await;
    let id = start["upload_id"].as_str().unwrap().to_string();
    let (_, urls) = post_json(
        &mock,
        "/engine/api/upload/signed-urls",
        &json!({"upload_id": id}),
    )
    .await;
    let urls: Vec<String> = urls["urls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["url"].as_str().unwrap().to_string())
        .collect();
    // The first attempt at part 1 dies half way: the body stream fails, so the client
    // closes the connection before the part is complete.
    let half = file[..100_000].to_vec();
    let broken = futures::stream::iter(vec![
        Ok::<_, std::io::Error>(bytes::Bytes::from(half)),
        Err(std::io::Error::other("client crashed")),
    ]);
    let attempt = client()
        .put(&urls[0])
        .header("content-length", "200000")
        .body(reqwest::Body::wrap_stream(broken))
        .send()
        .await;
    assert!(attempt.is_err(), "the broken body must fail the request");
    // Then the client sends every part properly and completes.
    let mut parts = Vec::new();
    for (i, url) in urls.iter().enumerate() {
        let chunk = file[i * 200_000..((i + 1) * 200_000).min(file.len())].to_vec();
        let (s, etag) = put(&mock, url, chunk).await;
        assert_eq!(s, 200);
        parts.push(json!({"part_number": i + 1, "etag": etag}));
    }
    let mut done = Value::Null;
    // The server may still be winding down the broken request; it must settle quickly.
    for _ in 0..50 {
        let (s, body) = post_json(
            &mock,
            "/engine/api/upload/complete-upload",
            &json!({"upload_id": id, "parts": parts}),
        )
        .await;
        if s == 200 {
            done = body;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(done["sha256"], sha(&file).as_str(), "{done}");
    assert_eq!(done["size"], file.len());
}
