//! Routstr mode: balances, X-Cashu payments, error envelopes, invoices.

mod common;

use common::{client, sse_data, status_json};
use rostro_mock::routstr::{mint_token, token_value_msats};
use rostro_mock::{Fault, FaultRule, RostroMock, RoutstrMock};
use serde_json::{Value, json};

fn chat_body(model: &str, text: &str, stream: bool) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": text}], "stream": stream})
}

async fn call(
    node: &RoutstrMock,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = client().request(method.parse().unwrap(), format!("{}{path}", node.uri()));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send().await.unwrap();
    let headers = resp.headers().clone();
    let (status, v) = status_json(resp).await;
    (status, headers, v)
}

fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

#[tokio::test]
async fn node_info_models_providers() {
    let node = RoutstrMock::start().await;
    let (s, h, info) = call(&node, "GET", "/v1/info", &[], None).await;
    assert_eq!(s, 200);
    assert!(h.contains_key("x-routstr-request-id"));
    assert!(!h.contains_key("x-request-id"));
    assert_eq!(info["mints"][0], node.mint_url());

    let (s, _, models) = call(&node, "GET", "/v1/models", &[], None).await;
    assert_eq!(s, 200);
    let m = &models["data"][0];
    assert_eq!(m["id"], "gpt-4o-mini");
    assert_eq!(m["sats_pricing"]["prompt"], 0.002);
    assert_eq!(m["sats_pricing"]["max_cost"], 20.0);
    assert!(m["pricing"]["prompt"].as_f64().unwrap() > 0.0);
    assert!(m["x_mock_note"].is_string());

    let (s, _, p) = call(&node, "GET", "/v1/providers", &[], None).await;
    assert_eq!(s, 200);
    assert_eq!(p["providers"].as_array().unwrap().len(), 1);

    let (s, h, v) = call(&node, "GET", "/v1/nope", &[], None).await;
    assert_eq!((s, v), (404, json!({"detail": "Not Found"})));
    assert!(h.contains_key("x-routstr-request-id"));
    let (s, _, _) = call(&node, "DELETE", "/v1/balance/info", &[], None).await;
    assert_eq!(s, 405);
}

#[tokio::test]
async fn balance_lifecycle() {
    let node = RoutstrMock::start().await;
    let token = node.mint_token(50_000);
    assert_eq!(token_value_msats(&token), Some(50_000));
    let (s, _, created) = call(
        &node,
        "POST",
        "/v1/balance/create",
        &[],
        Some(&json!({"initial_balance_token": token})),
    )
    .await;
    assert_eq!(s, 200, "{created}");
    let key = created["api_key"].as_str().unwrap().to_string();
    assert!(key.starts_with("sk-"));
    assert_eq!(created["balance"], 50_000);
    assert!(node.is_spent(&token));

    // The same token again.
    let (s, _, v) = call(
        &node,
        "POST",
        "/v1/balance/create",
        &[],
        Some(&json!({"initial_balance_token": token})),
    )
    .await;
    assert_eq!((s, v), (400, json!({"detail": "Token already spent"})));

    // Chat: 2 prompt tokens ("hello" + role), 2 completion tokens ("echo: hello").
    let auth = bearer(&key);
    let (s, _, v) = call(
        &node,
        "POST",
        "/v1/chat/completions",
        &[("authorization", &auth)],
        Some(&chat_body("gpt-4o-mini", "hello", false)),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let usage = &v["usage"];
    assert_eq!(usage["prompt_tokens"], 2);
    assert_eq!(usage["completion_tokens"], 2);
    assert_eq!(usage["cost"]["total_msats"], 2 * 2 + 2 * 8);
    assert_eq!(usage["remaining_balance_msats"], 50_000 - 20);
    assert_eq!(node.balance(&key), Some(49_980));

    // Streaming: a final usage chunk with the cost before [DONE].
    let resp = client()
        .post(format!("{}/v1/chat/completions", node.uri()))
        .header("authorization", &auth)
        .json(&chat_body("gpt-4o-mini", "hello", true))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let events = sse_data(&resp.text().await.unwrap());
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let last: Value = serde_json::from_str(&events[events.len() - 2]).unwrap();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["cost"]["total_msats"], 20);
    assert_eq!(last["usage"]["remaining_balance_msats"], 49_960);

    let (s, _, info) = call(
        &node,
        "GET",
        "/v1/balance/info",
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(info["balance"], 49_960);
    assert_eq!(info["total_requests"], 2);
    assert_eq!(info["total_spent"], 40);

    let top = node.mint_token(10_000);
    let (s, _, v) = call(
        &node,
        "POST",
        "/v1/balance/topup",
        &[("authorization", &auth)],
        Some(&json!({"cashu_token": top})),
    )
    .await;
    assert_eq!((s, v), (200, json!({"msats": 10_000})));

    let (s, _, hist) = call(
        &node,
        "GET",
        "/v1/wallet/history",
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(s, 200);
    let txs = hist["transactions"].as_array().unwrap();
    assert_eq!(txs.len(), 2);
    assert_eq!(txs[0]["source"], "topup");

    let (s, _, refund) = call(
        &node,
        "POST",
        "/v1/balance/refund",
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(refund["msats"], 59_960);
    assert_eq!(
        token_value_msats(refund["token"].as_str().unwrap()),
        Some(59_960)
    );
    assert_eq!(node.balance(&key), None, "the key is gone");
    // Asking again returns the same refund.
    let (s, _, again) = call(
        &node,
        "POST",
        "/v1/balance/refund",
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!((s, &again), (200, &refund));
    let (s, _, v) = call(
        &node,
        "GET",
        "/v1/balance/info",
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(s, 401);
    assert_eq!(v["error"]["code"], "invalid_api_key");
}

#[tokio::test]
async fn cashu_bearer_becomes_a_key() {
    let node = RoutstrMock::start().await;
    let token = node.mint_token(30_000);
    let auth = bearer(&token);
    for _ in 0..2 {
        let (s, _, info) = call(
            &node,
            "GET",
            "/v1/balance/info",
            &[("authorization", &auth)],
            None,
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(info["balance"], 30_000, "redeemed once");
    }
    // Refund with X-Cashu: the original token.
    let (s, _, refund) = call(
        &node,
        "POST",
        "/v1/wallet/refund",
        &[("x-cashu", &token)],
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(refund["msats"], 30_000);
}

#[tokio::test]
async fn x_cashu_payment_returns_change_and_cost_headers() {
    let node = RoutstrMock::start().await;
    let token = node.mint_token(25_000);
    let (s, h, v) = call(
        &node,
        "POST",
        "/v1/chat/completions",
        &[("x-cashu", &token)],
        Some(&chat_body("gpt-4o-mini", "hello", false)),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let hv = |n: &str| h.get(n).unwrap().to_str().unwrap().to_string();
    assert_eq!(hv("x-routstr-cost-msats"), "20");
    assert_eq!(hv("x-routstr-input-cost-msats"), "4");
    assert_eq!(hv("x-routstr-output-cost-msats"), "16");
    assert!(hv("x-routstr-cost-usd").parse::<f64>().is_ok());
    assert_eq!(token_value_msats(&hv("x-cashu")), Some(24_980));
    assert!(v["usage"].get("remaining_balance_msats").is_none());
    assert!(node.is_spent(&token));

    // Streaming with X-Cashu: buffered, headers up front, usage chunk at the end.
    let token = node.mint_token(25_000);
    let resp = client()
        .post(format!("{}/v1/chat/completions", node.uri()))
        .header("x-cashu", &token)
        .json(&chat_body("gpt-4o-mini", "hello there", true))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let change = resp.headers()["x-cashu"].to_str().unwrap().to_string();
    let cost: u64 = resp.headers()["x-routstr-cost-msats"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(token_value_msats(&change), Some(25_000 - cost));
    let events = sse_data(&resp.text().await.unwrap());
    let last: Value = serde_json::from_str(&events[events.len() - 2]).unwrap();
    assert_eq!(last["usage"]["cost"]["total_msats"], cost);

    // Too small for the model's maximum cost: nothing is spent.
    let small = node.mint_token(5_000);
    let (s, _, v) = call(
        &node,
        "POST",
        "/v1/chat/completions",
        &[("x-cashu", &small)],
        Some(&chat_body("gpt-4o-mini", "hi", false)),
    )
    .await;
    assert_eq!(s, 402);
    assert_eq!(v["detail"]["type"], "minimum_balance_required");
    assert_eq!(v["detail"]["amount_required_msat"], 20_000);
    assert_eq!(v["detail"]["model"], "gpt-4o-mini");
    assert!(!node.is_spent(&small));
}

#[tokio::test]
async fn upstream_error_refunds_the_payment() {
    let node = RoutstrMock::start().await;
    let token = node.mint_token(21_000);
    let (s, h, v) = call(
        &node,
        "POST",
        "/v1/chat/completions",
        &[
            ("x-cashu", &token),
            ("x-mock-routstr-error", "upstream_error"),
        ],
        Some(&chat_body("gpt-4o-mini", "hi", false)),
    )
    .await;
    assert_eq!(s, 502);
    assert_eq!(v["error"]["code"], 502);
    assert_eq!(v["error"]["type"], "upstream_error");
    assert!(v["request_id"].is_string());
    let refund = h["x-cashu"].to_str().unwrap();
    assert_eq!(token_value_msats(refund), Some(21_000));
    assert!(node.is_spent(&token));

    // With a key nothing is charged.
    let key = node.create_key(30_000);
    let auth = bearer(&key);
    let (s, h, _) = call(
        &node,
        "POST",
        "/v1/chat/completions",
        &[
            ("authorization", &auth),
            ("x-mock-routstr-error", "upstream_error"),
        ],
        Some(&chat_body("gpt-4o-mini", "hi", false)),
    )
    .await;
    assert_eq!(s, 502);
    assert!(!h.contains_key("x-cashu"));
    assert_eq!(node.balance(&key), Some(30_000));
}

#[tokio::test]
async fn error_envelopes_on_demand() {
    let node = RoutstrMock::start().await;
    let cases: [(&str, u16); 14] = [
        ("insufficient_balance", 402),
        ("minimum_balance_required", 402),
        ("balance_limit_exceeded", 402),
        ("missing_api_key", 401),
        ("invalid_api_key", 401),
        ("key_expired", 403),
        ("token_already_spent", 400),
        ("invalid_token", 400),
        ("mint_error", 422),
        ("mint_unreachable", 503),
        ("upstream_error", 502),
        ("invalid_model", 400),
        ("refund_pending", 425),
        ("conflict", 409),
    ];
    for (kind, status) in cases {
        let (s, h, v) = call(
            &node,
            "GET",
            "/v1/info",
            &[("x-mock-routstr-error", kind)],
            None,
        )
        .await;
        assert_eq!(s, status, "{kind}: {v}");
        match kind {
            "insufficient_balance" | "balance_limit_exceeded" => {
                assert_eq!(v["detail"]["error"]["type"], kind);
                assert_eq!(v["error"]["type"], kind);
                assert!(v["request_id"].is_string());
            }
            "minimum_balance_required" => {
                assert_eq!(v["detail"]["type"], kind);
                assert!(v["detail"]["amount_required_msat"].is_u64());
            }
            "token_already_spent" | "refund_pending" | "conflict" => {
                assert!(v["detail"].is_string(), "{kind}");
            }
            "mint_error" | "upstream_error" => assert!(v["error"]["code"].is_u64()),
            _ => assert_eq!(v["error"]["code"], kind),
        }
        if kind == "refund_pending" {
            assert_eq!(h["retry-after"], "1");
        }
    }
    // Another envelope on request.
    let (s, _, v) = call(
        &node,
        "GET",
        "/v1/info",
        &[
            ("x-mock-routstr-error", "key_expired"),
            ("x-mock-routstr-envelope", "detail"),
        ],
        None,
    )
    .await;
    assert_eq!((s, v), (403, json!({"detail": "API key expired."})));
    let (s, _, _) = call(
        &node,
        "GET",
        "/v1/info",
        &[("x-mock-routstr-error", "nonsense")],
        None,
    )
    .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn natural_errors() {
    let node = RoutstrMock::start().await;
    // No credential.
    let (s, _, v) = call(&node, "GET", "/v1/balance/info", &[], None).await;
    assert_eq!((s, &v["error"]["code"]), (401, &json!("missing_api_key")));
    // Bad tokens.
    let garbage = "cashuAeyJub3QiOiJhIHRva2VuIn0";
    let (s, _, v) = call(
        &node,
        "POST",
        "/v1/balance/create",
        &[],
        Some(&json!({"initial_balance_token": garbage})),
    )
    .await;
    assert_eq!((s, &v["error"]["code"]), (400, &json!("invalid_token")));
    for (mint, status) in [("http://unreachable.mint", 503), ("http://error.mint", 422)] {
        let t = node.mint_token_at(mint, 1000);
        let (s, _, _) = call(
            &node,
            "POST",
            "/v1/balance/create",
            &[],
            Some(&json!({"initial_balance_token": t})),
        )
        .await;
        assert_eq!(s, status, "{mint}");
    }
    // The cashuB prefix is accepted too.
    let sat_token = mint_token(&node.mint_url(), 7, "s1").replace("cashuA", "cashuB");
    assert_eq!(token_value_msats(&sat_token), Some(7));

    // Balance below the model's max cost, expired key, unknown model.
    let key = node.create_key(1_000);
    let auth = bearer(&key);
    let (s, _, v) = call(
        &node,
        "POST",
        "/v1/chat/completions",
        &[("authorization", &auth)],
        Some(&chat_body("gpt-4o-mini", "hi", false)),
    )
    .await;
    assert_eq!(s, 402);
    assert_eq!(v["error"]["type"], "insufficient_balance");
    let (s, _, v) = call(
        &node,
        "POST",
        "/v1/chat/completions",
        &[("authorization", &auth)],
        Some(&chat_body("no-such-model", "hi", false)),
    )
    .await;
    assert_eq!((s, &v["error"]["code"]), (400, &json!("invalid_model")));
    assert!(node.set_validity(&key, Some(1)));
    let (s, _, v) = call(
        &node,
        "GET",
        "/v1/balance/info",
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!((s, &v["error"]["code"]), (403, &json!("key_expired")));
}

#[tokio::test]
async fn refund_pending_then_done() {
    let node = RoutstrMock::builder().refund_pending(1).start().await;
    let key = node.create_key(4_000);
    let auth = bearer(&key);
    let (s, h, v) = call(
        &node,
        "POST",
        "/v1/balance/refund",
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(s, 425, "{v}");
    assert_eq!(h["retry-after"], "1");
    let (s, _, v) = call(
        &node,
        "POST",
        "/v1/balance/refund",
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["msats"], 4_000);

    let node = RoutstrMock::builder().refund_in_sats(true).start().await;
    let key = node.create_key(4_000);
    let (_, _, v) = call(
        &node,
        "POST",
        "/v1/wallet/refund",
        &[("authorization", &bearer(&key))],
        None,
    )
    .await;
    assert_eq!(v["sats"], 4);
}

#[tokio::test]
async fn child_keys_share_the_parent_balance() {
    let node = RoutstrMock::start().await;
    let parent = node.create_key(100_000);
    let auth = bearer(&parent);
    let (s, _, v) = call(
        &node,
        "POST",
        "/v1/balance/child-key",
        &[("authorization", &auth)],
        Some(&json!({"count": 2, "balance_limit": 25_000})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["count"], 2);
    assert_eq!(v["cost_msats"], 200);
    let child = v["api_keys"][0].as_str().unwrap().to_string();
    assert_eq!(node.balance(&parent), Some(99_800));
    assert_eq!(node.balance(&child), Some(99_800));

    let child_auth = bearer(&child);
    let (s, _, _) = call(
        &node,
        "POST",
        "/v1/chat/completions",
        &[("authorization", &child_auth)],
        Some(&chat_body("gpt-4o-mini", "hello", false)),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(node.balance(&parent), Some(99_780));
    assert_eq!(node.key(&child).unwrap().total_spent_msats, 20);

    // A limit of 30 msat: the second request would exceed it.
    let (_, _, v) = call(
        &node,
        "POST",
        "/v1/balance/child-key",
        &[("authorization", &auth)],
        Some(&json!({"count": 1, "balance_limit": 30})),
    )
    .await;
    let limited = bearer(v["api_keys"][0].as_str().unwrap());
    let body = chat_body("gpt-4o-mini", "hello", false);
    let (s, _, _) = call(
        &node,
        "POST",
        "/v1/chat/completions",
        &[("authorization", &limited)],
        Some(&body),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _, v) = call(
        &node,
        "POST",
        "/v1/chat/completions",
        &[("authorization", &limited)],
        Some(&body),
    )
    .await;
    assert_eq!(s, 402);
    assert_eq!(v["error"]["type"], "balance_limit_exceeded");

    let (s, _, _) = call(
        &node,
        "POST",
        "/v1/balance/child-key",
        &[("authorization", &auth)],
        Some(&json!({"count": 51})),
    )
    .await;
    assert_eq!(s, 422);
}

#[tokio::test]
async fn lightning_invoices_are_paid_after_checks() {
    let node = RoutstrMock::builder().invoice_checks(3).start().await;
    let (s, _, inv) = call(
        &node,
        "POST",
        "/lightning/invoice",
        &[],
        Some(&json!({"amount_sats": 21, "purpose": "create"})),
    )
    .await;
    assert_eq!(s, 200, "{inv}");
    assert!(inv["bolt11"].as_str().unwrap().starts_with("lnbcrt"));
    let path = format!(
        "/lightning/invoice/{}/status",
        inv["invoice_id"].as_str().unwrap()
    );
    let mut statuses = Vec::new();
    let mut last = Value::Null;
    for _ in 0..4 {
        let (s, _, v) = call(&node, "GET", &path, &[], None).await;
        assert_eq!(s, 200);
        statuses.push(v["status"].as_str().unwrap().to_string());
        last = v;
    }
    assert_eq!(statuses, ["pending", "pending", "paid", "paid"]);
    let key = last["api_key"].as_str().unwrap();
    assert_eq!(node.balance(key), Some(21_000));

    // Top-up through an invoice, and an expiring one.
    let (_, _, inv) = call(
        &node,
        "POST",
        "/v1/balance/lightning/invoice",
        &[("authorization", &bearer(key))],
        Some(&json!({"amount_sats": 5, "purpose": "topup"})),
    )
    .await;
    let path = format!(
        "/lightning/invoice/{}/status",
        inv["invoice_id"].as_str().unwrap()
    );
    for _ in 0..3 {
        call(&node, "GET", &path, &[], None).await;
    }
    assert_eq!(node.balance(key), Some(26_000));
    let (_, _, inv) = call(
        &node,
        "POST",
        "/lightning/invoice",
        &[("x-mock-routstr-invoice", "expire")],
        Some(&json!({"amount_sats": 5, "purpose": "create"})),
    )
    .await;
    let path = format!(
        "/lightning/invoice/{}/status",
        inv["invoice_id"].as_str().unwrap()
    );
    let (_, _, v) = call(&node, "GET", &path, &[], None).await;
    assert_eq!(v["status"], "expired");
    let (s, _, _) = call(&node, "GET", "/lightning/invoice/nope/status", &[], None).await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn faults_attempts_and_control_api() {
    let node = RoutstrMock::builder()
        .fault(FaultRule::new(Fault::Status(503)).on("GET", "/v1/balance/info"))
        .start()
        .await;
    let key = node.create_key(1000);
    let (s, h, _) = call(
        &node,
        "GET",
        "/v1/balance/info",
        &[("authorization", &bearer(&key))],
        None,
    )
    .await;
    assert_eq!(s, 503);
    assert!(h.contains_key("x-routstr-request-id"));
    let (s, _, _) = call(
        &node,
        "GET",
        "/v1/balance/info",
        &[("authorization", &bearer(&key))],
        None,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(node.attempts("GET", "/v1/balance/info"), 2);
    let status = client()
        .get(format!("{}/lightning/invoice/abc/status", node.uri()))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 404);
    assert_eq!(
        node.attempts("GET", "/lightning/invoice/{invoice_id}/status"),
        1
    );

    let (s, v) = status_json(
        client()
            .post(format!("{}/_mock/routstr/tokens", node.uri()))
            .json(&json!({"msats": 1234}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(token_value_msats(v["token"].as_str().unwrap()), Some(1234));
    let (_, v) = status_json(
        client()
            .post(format!("{}/_mock/routstr/keys", node.uri()))
            .json(&json!({"msats": 99}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let k = v["api_key"].as_str().unwrap();
    assert_eq!(node.balance(k), Some(99));
    let (_, v) = status_json(
        client()
            .get(format!("{}/_mock/routstr/keys", node.uri()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["keys"].as_array().unwrap().len(), 2);

    // The Rostro mock has no Routstr control API.
    let plain = RostroMock::start().await;
    let s = client()
        .get(format!("{}/_mock/routstr/keys", plain.uri()))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(s, 404);
}

#[tokio::test]
async fn legacy_completions_are_served_and_paid_for() {
    let node = RoutstrMock::start().await;
    let key = node.create_key(100_000);
    let body = json!({"model": "gpt-4o-mini", "prompt": "say hi", "max_tokens": 5});
    let (s, _, v) = call(
        &node,
        "POST",
        "/v1/completions",
        &[("authorization", &bearer(&key))],
        Some(&body),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["object"], "text_completion");
    assert!(
        v["choices"][0]["text"]
            .as_str()
            .unwrap()
            .starts_with("echo:")
    );
    assert!(v["usage"]["cost"].is_object(), "{v}");
    assert!(
        node.balance(&key).unwrap() < 100_000,
        "the request is charged"
    );
}
