//! Routing, auth, error bodies and request ids.

mod common;

use common::{KEY, client, fixture_mock, fixture_spec, get_json, status_json};
use rostro_mock::RostroMock;
use serde_json::json;

#[tokio::test]
async fn unknown_routes_get_user_error_404_with_request_id() {
    let mock = RostroMock::start().await;
    let resp = client()
        .get(format!("{}/definitely/not/here", mock.uri()))
        .send()
        .await
        .unwrap();
    let id = resp.headers().get("x-request-id").cloned();
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"error": "Not Found", "errorCode": 404, "code": 0})
    );
    let id = id.expect("x-request-id").to_str().unwrap().to_string();
    let recorded = mock.received_requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].request_id, id);
    assert_eq!(recorded[0].status, 404);
    assert_eq!(recorded[0].route, None);
}

#[tokio::test]
async fn wrong_method_on_known_path_is_405() {
    let mock = RostroMock::start().await;
    let resp = client()
        .delete(format!("{}/v1/models", mock.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["allow"], "GET");
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 405);
    assert_eq!(body["errorCode"], 405);
}

#[tokio::test]
async fn required_auth_gets_401_without_key_and_accepts_every_header_form() {
    let mock = RostroMock::start().await;
    let url = format!("{}/imagine/history", mock.uri());
    let c = client();
    let resp = c.post(&url).json(&json!({})).send().await.unwrap();
    assert!(resp.headers().contains_key("x-request-id"));
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 401);
    assert_eq!(body["errorCode"], 401);
    assert_eq!(body["code"], 0);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("Not authenticated")
    );

    let forms: Vec<Vec<(&str, String)>> = vec![
        vec![("authorization", format!("Bearer {KEY}"))],
        vec![("authorization", KEY.to_string())],
        vec![
            ("ch-api-key", KEY.to_string()),
            ("samwise", KEY.to_string()),
        ],
        vec![("ch-api-key", KEY.to_string())],
    ];
    for headers in forms {
        let mut req = c.post(&url).json(&json!({}));
        for (k, v) in &headers {
            req = req.header(*k, v);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 200, "{headers:?}");
    }
    let keys: Vec<_> = mock
        .received_requests()
        .iter()
        .map(|r| r.api_key.clone())
        .collect();
    assert_eq!(keys[0], None);
    assert!(keys[1..].iter().all(|k| k.as_deref() == Some(KEY)));
}

#[tokio::test]
async fn optional_auth_routes_work_without_key_but_reject_invalid_keys() {
    let mock = RostroMock::builder().valid_key("good").start().await;
    let c = client();
    let url = format!("{}/v1/models", mock.uri());
    assert_eq!(c.get(&url).send().await.unwrap().status(), 200);
    assert_eq!(
        c.get(&url)
            .bearer_auth("good")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        c.get(&url)
            .bearer_auth("bad")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let imagine = format!("{}/imagine", mock.uri());
    let resp = c
        .post(&imagine)
        .bearer_auth("bad")
        .json(&json!({"prompt": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(mock.generations().is_empty());
}

#[tokio::test]
async fn require_auth_everywhere_covers_optional_routes() {
    let mock = RostroMock::builder()
        .require_auth_everywhere(true)
        .start()
        .await;
    let c = client();
    let url = format!("{}/search", mock.uri());
    assert_eq!(c.get(&url).send().await.unwrap().status(), 401);
    assert_eq!(
        c.get(&url).bearer_auth(KEY).send().await.unwrap().status(),
        200
    );
}

#[tokio::test]
async fn fixture_document_drives_routes_examples_and_precedence() {
    let mock = fixture_mock().await;
    // Example served as-is.
    let (s, v) = get_json(&mock, "/widgets").await;
    assert_eq!(s, 200);
    assert_eq!(v["widgets"][0]["name"], "first");
    // Literal segment beats a parameter.
    let (_, v) = get_json(&mock, "/widgets/special").await;
    assert_eq!(v, json!({"special": true}));
    let (_, v) = get_json(&mock, "/items/v2/detail").await;
    assert_eq!(v["route"], "literal-first");
    let (_, v) = get_json(&mock, "/items/abc/detail").await;
    assert_eq!(v["route"], "param-first");
    // No example: synthesized from the schema, and it validates.
    let spec = fixture_spec();
    let op = spec.find("GET", "/widgets/{id}").unwrap();
    let (s, v) = get_json(&mock, "/widgets/7").await;
    assert_eq!(s, 200);
    assert_eq!(v["kind"], "round");
    assert_eq!(v["name"], "unnamed");
    spec.validate_response(op, 200, &v).unwrap();
    // A 201 operation answers 201; it requires auth.
    let resp = client()
        .post(format!("{}/widgets", mock.uri()))
        .json(&json!({"id": 1, "kind": "round"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let resp = client()
        .post(format!("{}/widgets", mock.uri()))
        .header("CH-API-KEY", KEY)
        .header("samwise", KEY)
        .json(&json!({"id": 1, "kind": "round"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    // The document's security wins over the built-in default: optional here.
    let resp = client()
        .post(format!("{}/imagine/check", mock.uri()))
        .json(&json!({"generation_uuid": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404, "stateful handler, optional auth");
    // Built-in routes exist even when the document lacks them.
    let (s, _) = get_json(&mock, "/v1/models").await;
    assert_eq!(s, 200);
    assert_eq!(mock.attempts("GET", "/widgets/{widget_id}"), 1);
    assert_eq!(mock.attempts("GET", "/widgets/7"), 1);
}

#[tokio::test]
async fn custom_wiremock_mounts_override_routes() {
    use wiremock::{Mock, ResponseTemplate, matchers};
    let mock = RostroMock::start().await;
    Mock::given(matchers::method("GET"))
        .and(matchers::path("/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [{"id": "custom"}]})))
        .with_priority(1)
        .mount(mock.server())
        .await;
    let (_, v) = get_json(&mock, "/v1/models").await;
    assert_eq!(v["data"][0]["id"], "custom");
}

#[tokio::test]
async fn head_requests_match_get_routes() {
    let mock = RostroMock::start().await;
    let resp = client()
        .head(format!("{}/media/avatar-1001.png", mock.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/png");
}

#[tokio::test]
async fn concurrent_requests_are_all_served_and_counted() {
    let mock = RostroMock::start().await;
    let c = client();
    let futures = (0..100).map(|i| {
        let c = c.clone();
        let url = format!("{}/search?first=5&page={}", mock.uri(), i % 7 + 1);
        async move { c.get(url).bearer_auth(KEY).send().await.unwrap().status() }
    });
    let statuses = futures::future::join_all(futures).await;
    assert!(statuses.iter().all(|s| *s == 200));
    assert_eq!(mock.attempts("GET", "/search"), 100);
    let ids: std::collections::BTreeSet<String> = mock
        .received_requests()
        .into_iter()
        .map(|r| r.request_id)
        .collect();
    assert_eq!(ids.len(), 100, "request ids are unique");
}

#[tokio::test]
async fn invalid_json_bodies_get_the_reference_422() {
    let mock = RostroMock::start().await;
    // An operation answered from its example, and a stateful one.
    for path in [
        "/api/personas",
        "/api/account/blacklist",
        "/imagine/history",
    ] {
        let resp = client()
            .post(format!("{}{path}", mock.uri()))
            .bearer_auth(KEY)
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
        let (s, v) = status_json(resp).await;
        assert_eq!(s, 422, "{path}: {v}");
        assert_eq!(v["detail"][0]["type"], "json_invalid", "{path}: {v}");
    }
}
