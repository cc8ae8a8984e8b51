//! Fault injection: rate limits, error statuses, delays, dropped connections,
//! and per-route attempt counters.

mod common;

use std::time::Duration;

use common::{KEY, client, get_json, post_json, status_json};
use rostro_mock::{Fault, FaultRule, RostroMock};
use serde_json::json;

#[tokio::test]
async fn rate_limit_then_success_with_headers_and_counters() {
    let mock = RostroMock::start().await;
    mock.inject_fault(
        FaultRule::new(Fault::rate_limited(2))
            .times(2)
            .on("POST", "/v1/chat/completions"),
    );
    assert_eq!(mock.pending_faults(), 2);
    let body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    // Other routes are not affected.
    let (s, _) = get_json(&mock, "/v1/models").await;
    assert_eq!(s, 200);
    for _ in 0..2 {
        let resp = client()
            .post(format!("{}/v1/chat/completions", mock.uri()))
            .bearer_auth(KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        let h = resp.headers().clone();
        let (s, v) = status_json(resp).await;
        assert_eq!(s, 429);
        assert_eq!(h["retry-after"], "2");
        assert_eq!(h["x-ratelimit-remaining"], "0");
        assert!(
            h["x-ratelimit-limit"]
                .to_str()
                .unwrap()
                .parse::<u64>()
                .is_ok()
        );
        let reset: u64 = h["x-ratelimit-reset"].to_str().unwrap().parse().unwrap();
        assert!(reset > 1_700_000_000);
        assert!(h.contains_key("x-request-id"));
        assert_eq!(v["errorCode"], 429);
    }
    let (s, v) = post_json(&mock, "/v1/chat/completions", &body).await;
    assert_eq!(s, 200);
    assert_eq!(v["choices"][0]["message"]["content"], "echo: hi");
    assert_eq!(mock.attempts("POST", "/v1/chat/completions"), 3);
    assert_eq!(mock.attempts("GET", "/v1/models"), 1);
    assert_eq!(mock.attempts_by_route()["POST /v1/chat/completions"], 3);
    assert_eq!(mock.pending_faults(), 0);
    let faulted: Vec<_> = mock
        .requests_to("POST", "/v1/chat/completions")
        .iter()
        .map(|r| r.fault.clone())
        .collect();
    assert_eq!(faulted, [Some("429".into()), Some("429".into()), None]);
}

#[tokio::test]
async fn error_statuses_have_realistic_bodies() {
    let mock = RostroMock::start().await;
    for code in [500u16, 502, 503] {
        mock.inject_fault(FaultRule::new(Fault::Status(code)).on_path("/search"));
        let resp = client()
            .get(format!("{}/search", mock.uri()))
            .send()
            .await
            .unwrap();
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        let (s, v) = status_json(resp).await;
        assert_eq!(s, code);
        if code == 502 {
            assert!(ct.starts_with("text/html"));
            assert!(v.as_str().unwrap().contains("502 Bad Gateway"));
        } else {
            assert_eq!(ct, "application/json");
            assert_eq!(v["errorCode"], code);
        }
    }
    let (s, _) = get_json(&mock, "/search").await;
    assert_eq!(s, 200);
    assert_eq!(mock.attempts("GET", "/search"), 4);
}

#[tokio::test]
async fn faults_match_templates_and_literal_paths() {
    let mock = RostroMock::builder()
        .fault(FaultRule::new(Fault::Status(503)).on("GET", "/imagine/project/{uuid}"))
        .start()
        .await;
    let (s, _) = get_json(&mock, "/imagine/project/abc").await;
    assert_eq!(s, 503);
    let (s, _) = get_json(&mock, "/imagine/project/abc").await;
    assert_eq!(s, 422, "fault used up; the route answers normally");
    assert_eq!(mock.attempts("GET", "/imagine/project/{uuid}"), 2);
    assert_eq!(
        mock.attempts("GET", "/imagine/project/xyz"),
        2,
        "literal paths resolve to their template"
    );
    assert_eq!(
        mock.attempts("GET", "/imagine/project/{id}"),
        2,
        "parameter names do not matter"
    );
    assert_eq!(mock.requests_to("get", "/imagine/project/{id}").len(), 2);
    mock.inject_fault(
        FaultRule::new(Fault::Status(502)).on("GET", "/imagine/project/{other_name}"),
    );
    let (s, _) = get_json(&mock, "/imagine/project/q").await;
    assert_eq!(s, 502);
    mock.inject_fault(FaultRule::new(Fault::Status(500)).on("GET", "/imagine/project/abc"));
    let (s, _) = get_json(&mock, "/imagine/project/other").await;
    assert_eq!(s, 422);
    let (s, _) = get_json(&mock, "/imagine/project/abc").await;
    assert_eq!(s, 500);
}

#[tokio::test]
async fn delay_fault_and_latency() {
    let mock = RostroMock::builder()
        .latency(Duration::from_millis(5))
        .start()
        .await;
    mock.inject_fault(FaultRule::new(Fault::Delay(Duration::from_millis(50))));
    let (s, _) = get_json(&mock, "/v1/models").await;
    assert_eq!(s, 200);
    let r = mock.received_requests().pop().unwrap();
    assert_eq!(r.fault.as_deref(), Some("delay:50ms"));
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn dropped_connections() {
    let mock = RostroMock::start().await;
    mock.inject_fault(FaultRule::new(Fault::Drop));
    let err = client()
        .get(format!("{}/v1/models", mock.uri()))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_request() || err.is_connect(), "{err:?}");
    let r = mock.received_requests().pop().unwrap();
    assert_eq!((r.status, r.fault.as_deref()), (0, Some("drop")));

    mock.inject_fault(FaultRule::new(Fault::DropMidBody).on("GET", "/search"));
    let resp = client()
        .get(format!("{}/search?first=50", mock.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let declared = resp.content_length().unwrap();
    assert!(
        resp.bytes().await.is_err(),
        "body of {declared} bytes is cut short"
    );

    // Recovery: the next request is served.
    let (s, _) = get_json(&mock, "/search").await;
    assert_eq!(s, 200);
    assert_eq!(mock.attempts("GET", "/v1/models"), 1);
    assert_eq!(mock.attempts("GET", "/search"), 2);
}

#[tokio::test]
async fn clear_faults_removes_pending_rules() {
    let mock = RostroMock::start().await;
    mock.inject_fault(FaultRule::new(Fault::Status(500)).times(10));
    assert_eq!(mock.pending_faults(), 10);
    mock.clear_faults();
    let (s, _) = get_json(&mock, "/v1/models").await;
    assert_eq!(s, 200);
}
