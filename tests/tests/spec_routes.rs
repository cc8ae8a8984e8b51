//! Every operation of the document answers (not 404) with a body that
//! validates against its declared response schema.

mod common;

use std::collections::BTreeMap;

use common::{KEY, client, fixture_spec, post_json};
use rostro_mock::{Operation, RostroMock, Spec};
use serde_json::{Value, json};

fn sample_param(op: &Operation, name: &str, fixtures: &BTreeMap<&str, String>) -> String {
    if let Some(v) = fixtures.get(name) {
        return v.clone();
    }
    let schema = op
        .parameters
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.schema.clone())
        .unwrap_or(Value::Null);
    match schema.get("type").and_then(Value::as_str) {
        Some("integer") | Some("number") => "1".into(),
        Some("boolean") => "true".into(),
        _ => "mock".into(),
    }
}

fn concrete_path(op: &Operation, fixtures: &BTreeMap<&str, String>) -> String {
    op.path
        .split('/')
        .map(|seg| {
            if seg.starts_with('{') && seg.ends_with('}') {
                sample_param(op, &seg[1..seg.len() - 1], fixtures)
            } else {
                seg.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn fixtures(mock: &RostroMock) -> BTreeMap<&'static str, String> {
    let (_, gen_) = post_json(mock, "/imagine", &json!({"prompt": "fixture"})).await;
    let (_, up) = post_json(
        mock,
        "/api/gallery/upload",
        &json!({"project_id": 1, "image": "aGVsbG8="}),
    )
    .await;
    let (_, start) = post_json(
        mock,
        "/engine/api/upload/start-upload",
        &json!({"filename": "f.bin"}),
    )
    .await;
    let upload_id = start["upload_id"].as_str().unwrap().to_string();
    let part = client()
        .put(format!("{}/_mock/upload/{upload_id}/1", mock.uri()))
        .body(vec![7u8; 100])
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 200);
    let (_, persona) = post_json(mock, "/api/personas", &json!({"name": "fixture"})).await;
    let lore = client()
        .post(format!("{}/lore/item", mock.uri()))
        .bearer_auth(KEY)
        .multipart(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(b"lore".to_vec()).file_name("lore.txt"),
        ))
        .send()
        .await
        .unwrap();
    let lore: Value = lore.json().await.unwrap();
    let mut m = BTreeMap::new();
    m.insert("persona_id", persona["id"].to_string());
    m.insert("lore_uuid", lore["uuid"].as_str().unwrap().to_string());
    m.insert(
        "generation_uuid",
        gen_["generation_uuid"].as_str().unwrap().to_string(),
    );
    m.insert("uuid", up["uuid"].as_str().unwrap().to_string());
    m.insert(
        "upload_id",
        start["upload_id"].as_str().unwrap().to_string(),
    );
    m.insert("model", "mobile".into());
    // A real catalog entry, for the routes that look projects up.
    let entry = &mock.catalog().entries()[0];
    let (creator, slug) = entry.full_path.split_once('/').expect("creator/slug");
    m.insert("project_id", entry.id.to_string());
    m.insert("space", "characters".into());
    m.insert("namespace", "characters".into());
    m.insert("creator_name", creator.to_string());
    m.insert("project_name", slug.to_string());
    m.insert("username", creator.to_string());
    m.insert("pathname", slug.to_string());
    let (_, chat) = post_json(mock, "/api/core/chats", &json!({"name": "fixture"})).await;
    m.insert("chat_id", chat["id"].to_string());
    m
}

/// Hits every operation and checks status and body; returns (op, status) rows.
async fn exercise(mock: &RostroMock, spec: &Spec) -> Vec<(String, u16)> {
    let c = client();
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for op in spec.operations() {
        // Fresh fixtures per operation: some operations delete what they get.
        let mut fx = fixtures(mock).await;
        if op.path.contains("/lorebook/{project_id}") {
            let book = mock.catalog().lorebooks().next().expect("a lorebook").id;
            fx.insert("project_id", book.to_string());
        }
        if op.path.starts_with("/lore/") {
            let lore = fx["lore_uuid"].clone();
            fx.insert("uuid", lore);
        }
        let mut url = format!("{}{}", mock.uri(), concrete_path(op, &fx));
        let query: Vec<String> = op
            .parameters
            .iter()
            .filter(|p| p.location == "query" && p.required)
            .map(|p| format!("{}={}", p.name, sample_param(op, &p.name, &fx)))
            .collect();
        if !query.is_empty() {
            url = format!("{url}?{}", query.join("&"));
        }
        let method = reqwest::Method::from_bytes(op.method.as_bytes()).unwrap();
        let mut req = c.request(method, &url).bearer_auth(KEY);
        match op.request_body.first() {
            Some((ct, _)) if ct.starts_with("multipart/") => {
                let part = reqwest::multipart::Part::bytes(b"RIFF0000WAVEfmt ".to_vec())
                    .file_name("sample.wav")
                    .mime_str("audio/wav")
                    .unwrap();
                let form = reqwest::multipart::Form::new()
                    .part("file", part)
                    .text("name", "mock");
                req = req.multipart(form);
            }
            Some((ct, schema)) if ct.contains("json") => {
                let mut body = rostro_mock::schema::synthesize(schema, spec.document());
                if let Some(obj) = body.as_object_mut() {
                    for key in ["generation_uuid", "upload_id"] {
                        if obj.contains_key(key)
                            || op.path.contains("check")
                            || op.path.contains("upload")
                        {
                            obj.insert(key.into(), json!(fx[key]));
                        }
                    }
                    // Example placeholders that are not valid values here.
                    obj.remove("cursor");
                    if op.path == "/api/gallery/upload" {
                        obj.insert("image".into(), json!("aGVsbG8="));
                    }
                }
                req = req.json(&body);
            }
            Some((ct, _)) if ct.contains("form-urlencoded") => {
                req = req.header("content-type", ct.as_str()).body("");
            }
            _ => {}
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        rows.push((op.key(), status));
        if status == 404 || status == 405 || status >= 500 {
            failures.push(format!("{}: status {status}: {text}", op.key()));
            continue;
        }
        if op.method == "HEAD" {
            continue;
        }
        let body: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{}: body is not JSON ({e}): {text:.200}", op.key()));
                continue;
            }
        };
        if let Err(errors) = spec.validate_response(op, status, &body) {
            failures.push(format!("{}: {status}: {errors:?}", op.key()));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    rows
}

#[tokio::test]
async fn every_route_of_the_embedded_document_answers_and_validates() {
    let spec = Spec::embedded();
    if spec.is_empty() {
        println!(
            "SKIPPED: openapi/rostro.openapi.json declares no paths yet (placeholder); \
             this test runs once the importer's document lands."
        );
        return;
    }
    let mock = RostroMock::builder().imagine_checks(1).start().await;
    let rows = exercise(&mock, spec).await;
    let non_2xx: Vec<_> = rows
        .iter()
        .filter(|(_, s)| !(200..300).contains(s))
        .collect();
    println!(
        "{} operations answered; non-2xx (validated against their declared schemas): {non_2xx:?}",
        rows.len()
    );
    assert_eq!(rows.len(), spec.operations().len());
}

#[tokio::test]
async fn every_route_of_the_fixture_document_answers_and_validates() {
    let spec = fixture_spec();
    let mock = RostroMock::builder().spec(spec.clone()).start().await;
    let rows = exercise(&mock, &spec).await;
    assert_eq!(rows.len(), spec.operations().len());
    assert!(rows.iter().all(|(_, s)| (200..300).contains(s)), "{rows:?}");
}
