//! Generation jobs: /imagine + /imagine/check, per-type endpoints + /check,
//! media bytes, failures, history and deletion.

mod common;

use common::{KEY, client, get_json, post_json, status_json};
use rostro_mock::{MediaKind, RostroMock};
use serde_json::{Value, json};

async fn fetch_media(url: &str) -> (u16, String, Option<u64>, Vec<u8>) {
    let resp = client().get(url).send().await.unwrap();
    let status = resp.status().as_u16();
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    let len = resp.content_length();
    (status, ct, len, resp.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn imagine_is_pending_until_enough_checks_then_serves_real_media() {
    let mock = RostroMock::start().await;
    let (s, item) = post_json(
        &mock,
        "/imagine?return_immediate=true",
        &json!({"prompt": "a red fox", "generation_type": "text_to_image", "width": 512, "height": 768}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(item["is_done"], false);
    assert_eq!(item["is_failed"], false);
    assert!(item["primary_media_url"].is_null());
    let uuid = item["generation_uuid"].as_str().unwrap().to_string();
    let check = json!({"generation_uuid": uuid});
    let (_, first) = post_json(&mock, "/imagine/check", &check).await;
    assert_eq!(first["is_done"], false);
    let (_, second) = post_json(&mock, "/imagine/check", &check).await;
    assert_eq!(second["is_done"], true);
    assert_eq!(second["info"]["width"], 512);
    let url = second["primary_media_url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("{}/media/", mock.uri())), "{url}");
    assert!(url.ends_with(".png"));
    let (status, ct, len, bytes) = fetch_media(&url).await;
    assert_eq!(status, 200);
    assert_eq!(ct, "image/png");
    assert_eq!(len, Some(bytes.len() as u64));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&bytes[12..16], b"IHDR");
    assert_eq!(mock.generation(&uuid).unwrap().checks, 2);
    // Another check keeps it done.
    let (_, third) = post_json(&mock, "/imagine/check", &check).await;
    assert_eq!(third["is_done"], true);
}

#[tokio::test]
async fn generation_type_decides_the_media_kind() {
    let mock = RostroMock::builder().imagine_checks(1).start().await;
    let cases = [
        ("text_to_speech", "audio/wav", &b"RIFF"[..]),
        ("text_to_music", "audio/wav", &b"RIFF"[..]),
        ("text_to_video", "video/mp4", &b"\x00\x00\x00\x20ftyp"[..]),
        ("image_to_3d", "model/gltf-binary", &b"glTF"[..]),
    ];
    for (t, ct, magic) in cases {
        let (_, item) = post_json(
            &mock,
            "/imagine",
            &json!({"prompt": "x", "generation_type": t}),
        )
        .await;
        let (_, done) = post_json(
            &mock,
            "/imagine/check",
            &json!({"generation_uuid": item["generation_uuid"]}),
        )
        .await;
        let url = done["primary_media_url"].as_str().unwrap();
        let (status, got_ct, len, bytes) = fetch_media(url).await;
        assert_eq!((status, got_ct.as_str()), (200, ct), "{t}");
        assert_eq!(len, Some(bytes.len() as u64));
        assert!(bytes.starts_with(magic), "{t}");
        let kind = mock
            .generation(item["generation_uuid"].as_str().unwrap())
            .unwrap()
            .kind;
        assert_eq!(kind, MediaKind::for_generation_type(t));
    }
    // GLB declares its own length.
    let gens = mock.generations();
    let glb = gens.iter().find(|g| g.kind == MediaKind::Model3d).unwrap();
    let bytes = MediaKind::Model3d.render(0);
    assert_eq!(
        u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize,
        bytes.len()
    );
    assert!(glb.is_done());
}

#[tokio::test]
async fn instant_jobs_finish_inline_unless_return_immediate() {
    let mock = RostroMock::builder().imagine_checks(0).start().await;
    let (_, done) = post_json(&mock, "/imagine", &json!({"prompt": "quick"})).await;
    assert_eq!(done["is_done"], true);
    assert!(done["primary_media_url"].is_string());
    let (_, pending) = post_json(
        &mock,
        "/imagine?return_immediate=true",
        &json!({"prompt": "quick"}),
    )
    .await;
    assert_eq!(pending["is_done"], false);
    let (s, _) = post_json(&mock, "/imagine?return_immediate=maybe", &json!({})).await;
    assert_eq!(s, 422);
}

#[tokio::test]
async fn failures_end_with_is_failed_and_a_reason() {
    let mock = RostroMock::builder().imagine_checks(1).start().await;
    let (_, item) = post_json(
        &mock,
        "/imagine",
        &json!({"prompt": "please fail explicit_text"}),
    )
    .await;
    let (_, done) = post_json(
        &mock,
        "/imagine/check",
        &json!({"generation_uuid": item["generation_uuid"]}),
    )
    .await;
    assert_eq!(done["is_done"], false);
    assert_eq!(done["is_failed"], true);
    assert_eq!(done["error"]["reason"], "explicit_text");
    assert!(done["primary_media_url"].is_null());

    let failing = RostroMock::builder()
        .imagine_checks(1)
        .fail_generations("out_of_credits")
        .start()
        .await;
    let (_, item) = post_json(&failing, "/imagine", &json!({"prompt": "fine"})).await;
    let (_, done) = post_json(
        &failing,
        "/imagine/check",
        &json!({"generation_uuid": item["generation_uuid"]}),
    )
    .await;
    assert_eq!(done["error"]["reason"], "out_of_credits");

    // Per-request header.
    let resp = client()
        .post(format!("{}/imagine", mock.uri()))
        .bearer_auth(KEY)
        .header("x-mock-fail", "malformed_image")
        .header("x-mock-checks", "0")
        .json(&json!({"prompt": "ok"}))
        .send()
        .await
        .unwrap();
    let (_, v) = status_json(resp).await;
    assert_eq!(v["is_failed"], true);
    assert_eq!(v["error"]["reason"], "malformed_image");
}

#[tokio::test]
async fn per_type_endpoints_return_timed_responses_polled_with_check() {
    let mock = RostroMock::start().await;
    let endpoints = [
        ("/images/text2img", "image/png"),
        ("/images/img2img", "image/png"),
        ("/images/upscale", "image/png"),
        ("/images/animate", "video/mp4"),
        ("/tts", "audio/wav"),
        ("/music", "audio/wav"),
        ("/video", "video/mp4"),
        ("/foley", "audio/wav"),
        ("/model3d", "model/gltf-binary"),
    ];
    for (path, ct) in endpoints {
        let (s, timed) = post_json(
            &mock,
            path,
            &json!({"prompt": "thing", "transcript": "hello"}),
        )
        .await;
        assert_eq!(s, 200, "{path}");
        // Key order depends on serde_json's `preserve_order`, which the mock does not set.
        let mut keys: Vec<&String> = timed.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["cost", "generation_uuid"], "{path}");
        let body = json!({"generation_uuid": timed["generation_uuid"], "cost": timed["cost"], "request_type": "x"});
        let (_, pending) = post_json(&mock, "/check", &body).await;
        assert_eq!(pending["is_done"], false, "{path}");
        assert!(pending.get("primary_image_path").is_none());
        let (_, done) = post_json(&mock, "/check", &body).await;
        assert_eq!(done["is_done"], true, "{path}");
        let url = done["primary_image_path"].as_str().unwrap();
        let (status, got, _, _) = fetch_media(url).await;
        assert_eq!((status, got.as_str()), (200, ct), "{path}");
    }
}

#[tokio::test]
async fn unknown_uuids_are_404_user_errors() {
    let mock = RostroMock::start().await;
    for path in ["/imagine/check", "/check"] {
        let (s, v) = post_json(&mock, path, &json!({"generation_uuid": "nope"})).await;
        assert_eq!(s, 404, "{path}");
        assert_eq!(v["errorCode"], 404);
        assert_eq!(v["code"], 0);
        assert!(v["error"].is_string());
    }
    // Declared statuses only: GET /imagine/project/{uuid} documents 200 and 422.
    let (s, v) = get_json(&mock, "/imagine/project/nope").await;
    assert_eq!(s, 422);
    assert_eq!(v["detail"][0]["loc"], json!(["path", "uuid"]));
    let (s, _) = get_json(&mock, "/media/nope.png").await;
    assert_eq!(s, 404);
    // Media of a job that is not done yet is not there either.
    let (_, item) = post_json(&mock, "/imagine", &json!({"prompt": "later"})).await;
    let (s, _) = get_json(
        &mock,
        &format!("/media/{}.png", item["uuid"].as_str().unwrap()),
    )
    .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn history_pages_generated_and_uploaded_items_and_delete_removes() {
    let mock = RostroMock::builder().imagine_checks(0).start().await;
    let mut generated = Vec::new();
    for i in 0..5 {
        let (_, v) = post_json(&mock, "/imagine", &json!({"prompt": format!("p{i}")})).await;
        generated.push(v["uuid"].as_str().unwrap().to_string());
    }
    let (_, up) = post_json(
        &mock,
        "/api/gallery/upload",
        &json!({"project_id": 3, "image": "aGVsbG8="}),
    )
    .await;
    let uploaded = up["uuid"].as_str().unwrap().to_string();

    let mut seen: Vec<String> = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let (s, page) = post_json(
            &mock,
            "/imagine/history",
            &json!({"first": 2, "cursor": cursor}),
        )
        .await;
        assert_eq!(s, 200);
        for it in page["items"].as_array().unwrap() {
            seen.push(it["uuid"].as_str().unwrap().to_string());
        }
        if page["cursor"].is_null() {
            break;
        }
        cursor = page["cursor"].clone();
    }
    assert_eq!(seen.len(), 6);
    assert_eq!(seen[0], uploaded, "newest first");
    assert_eq!(seen[5], generated[0]);

    let (_, only) = post_json(
        &mock,
        "/imagine/history",
        &json!({"generated_only": true, "first": 50}),
    )
    .await;
    assert_eq!(only["items"].as_array().unwrap().len(), 5);
    let (_, proj) = get_json(&mock, &format!("/imagine/project/{}", generated[1])).await;
    assert_eq!(proj["is_done"], true);

    let (_, del) = post_json(
        &mock,
        "/imagine/history/delete",
        &json!({"uuids": [generated[0], uploaded, "missing"]}),
    )
    .await;
    assert_eq!(del["successes"], json!([generated[0], uploaded]));
    assert_eq!(del["failures"], json!(["missing"]));
    let (_, after) = post_json(&mock, "/imagine/history", &json!({"first": 50})).await;
    assert_eq!(after["items"].as_array().unwrap().len(), 4);
    let (s, _) = get_json(&mock, &format!("/imagine/project/{}", generated[0])).await;
    assert_eq!(s, 422);
}
