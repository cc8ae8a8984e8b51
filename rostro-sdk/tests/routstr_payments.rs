//! X-Cashu payments, change tokens, streamed cost, typed errors and redaction, against the
//! Routstr mode of `rostro-mock`.

use futures::StreamExt;
use rostro_mock::RoutstrMock;
use rostro_sdk::chat::{ChatCompletionRequest, Message};
use rostro_sdk::routstr::{
    ChatCharge, Msats, PayWith, RoutstrClient, RoutstrErrorExt, RoutstrErrorKind, RoutstrMeta,
};
use rostro_sdk::{CallOptions, Error, RequestOptions};

fn node_client(node: &RoutstrMock) -> RoutstrClient {
    RoutstrClient::builder(node.uri())
        .max_retries(2)
        .initial_retry_delay(std::time::Duration::from_millis(10))
        .build()
        .unwrap()
}

fn hello(model: &str) -> ChatCompletionRequest {
    ChatCompletionRequest::new(model, vec![Message::user("hello")])
}

#[tokio::test]
async fn x_cashu_payment_returns_change_on_success() {
    let node = RoutstrMock::start().await;
    let rc = node_client(&node);
    let token = node.mint_token(25_000);

    let resp = rc
        .chat()
        .request(hello("gpt-4o-mini"))
        .pay_with(&token)
        .send_with_response()
        .await
        .unwrap();
    let sent = &node.requests_to("POST", "/v1/chat/completions")[0];
    assert_eq!(sent.header("x-cashu"), Some(token.as_str()));
    assert!(sent.header("authorization").is_none());

    let meta = RoutstrMeta::from_response(resp.meta());
    assert_eq!(meta.cost_msats, Some(Msats(20)));
    assert_eq!(meta.input_cost_msats, Some(Msats(4)));
    assert_eq!(meta.output_cost_msats, Some(Msats(16)));
    assert_eq!(meta.cost_usd.as_ref().unwrap().as_str(), "0.00002000");
    assert!(meta.request_id.is_some());
    let change = meta.change_token.clone().expect("change");
    assert_eq!(node.token_value(change.expose()), Some(24_980));
    assert!(!format!("{meta:?}").contains(change.expose()));

    let charge = ChatCharge::from_completion(&resp);
    assert_eq!(charge.total, Some(Msats(20)));
    assert_eq!(charge.change_token(), Some(&change));
    assert_eq!(charge.remaining_balance, None);

    // The change pays for the next request.
    let again = rc
        .chat()
        .request(hello("gpt-4o-mini"))
        .pay_with(change.expose())
        .send_with_response()
        .await
        .unwrap();
    let change2 = RoutstrMeta::from_response(again.meta())
        .change_token
        .unwrap();
    assert_eq!(node.token_value(change2.expose()), Some(24_960));

    // A spent token is a typed error.
    let err = rc
        .chat()
        .request(hello("gpt-4o-mini"))
        .pay_with(&token)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.routstr_kind(),
        Some(RoutstrErrorKind::TokenAlreadySpent)
    );
    assert!(err.routstr_kind().unwrap().is_token_problem());
}

#[tokio::test]
async fn upstream_502_still_returns_the_change_and_is_not_retried() {
    let node = RoutstrMock::start().await;
    // Retries are on for this client: a paid call must still go out exactly once.
    let rc = node_client(&node);
    let token = node.mint_token(21_000);
    let err = rc
        .chat()
        .request(hello("gpt-4o-mini"))
        .pay_with(&token)
        .extra_header("x-mock-routstr-error", "upstream_error")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
    assert_eq!(err.routstr_kind(), Some(RoutstrErrorKind::UpstreamError));
    assert_eq!(node.attempts("POST", "/v1/chat/completions"), 1);
    let refund = err.change_token().expect("the payment comes back");
    assert_eq!(node.token_value(refund.expose()), Some(21_000));
    assert_eq!(err.routstr_meta().change_token.as_ref(), Some(&refund));
    assert!(err.routstr_meta().request_id.is_some());

    // Neither token shows in the error's Display or Debug.
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(!text.contains(&token), "{text}");
        assert!(!text.contains(refund.expose()), "{text}");
    }

    // Same for a non-chat call paid with X-Cashu (GET: normally retried on 5xx).
    let token = node.mint_token(1_000);
    let err = rc
        .info()
        .pay_with(&token)
        .extra_header("x-mock-routstr-error", "upstream_error")
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502));
    assert_eq!(node.attempts("GET", "/v1/info"), 1);
}

#[tokio::test]
async fn minimum_balance_required_decodes_the_amount() {
    let node = RoutstrMock::start().await;
    let rc = node_client(&node);
    let small = node.mint_token(5_000);
    let err = rc
        .chat()
        .request(hello("gpt-4o-mini"))
        .pay_with(&small)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.routstr_kind(),
        Some(RoutstrErrorKind::MinimumBalanceRequired {
            amount_required: Some(Msats(20_000)),
            model: Some("gpt-4o-mini".into()),
        })
    );
    assert!(!node.is_spent(&small));
    assert!(err.change_token().is_none());
}

#[tokio::test]
async fn streamed_chat_summary_with_cost() {
    let node = RoutstrMock::start().await;
    let key = node.create_key(50_000);
    let rc = node_client(&node).with_credential(&key).unwrap();

    let mut stream = rc
        .chat()
        .stream(ChatCompletionRequest::new(
            "gpt-4o-mini",
            vec![Message::user("hello there")],
        ))
        .await
        .unwrap();
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        text.push_str(chunk.unwrap().content().unwrap_or_default());
    }
    assert_eq!(text, "echo: hello there");
    // 3 prompt tokens * 2 + 3 completion tokens * 8, from the final usage chunk (sent
    // without `include_usage`).
    assert_eq!(stream.cost_msats(), Some(30));
    let charge = ChatCharge::from_stream(&stream);
    assert_eq!(charge.total, Some(Msats(30)));
    assert_eq!(charge.output, Some(Msats(24)));
    assert_eq!(charge.remaining_balance, Some(Msats(49_970)));
    assert_eq!(node.balance(&key), Some(49_970));

    // collect_completion keeps the usage too.
    let completion = rc
        .chat()
        .stream(hello("gpt-4o-mini"))
        .await
        .unwrap()
        .collect_completion()
        .await
        .unwrap();
    let usage = completion.usage.unwrap();
    assert_eq!(usage.cost_msats(), Some(20));
    assert_eq!(usage.remaining_balance_msats, Some(49_950));

    // Paid with X-Cashu: the node buffers, cost and change come in the headers.
    let token = node.mint_token(30_000);
    let stream = node_client(&node)
        .chat()
        .request(hello("gpt-4o-mini"))
        .pay_with(&token)
        .stream()
        .await
        .unwrap();
    let change = RoutstrMeta::from_headers(stream.headers()).change_token;
    let completion = stream.collect_completion().await.unwrap();
    assert_eq!(completion.content(), Some("echo: hello"));
    assert_eq!(node.token_value(change.unwrap().expose()), Some(29_980));
}

#[tokio::test]
async fn every_envelope_maps_to_its_kind() {
    let node = RoutstrMock::start().await;
    let rc = node_client(&node)
        .with_credential(node.create_key(100_000))
        .unwrap();
    let cases = [
        (
            "insufficient_balance",
            RoutstrErrorKind::InsufficientBalance,
        ),
        (
            "minimum_balance_required",
            RoutstrErrorKind::MinimumBalanceRequired {
                amount_required: Some(Msats(20_000)),
                model: Some("gpt-4o-mini".into()),
            },
        ),
        (
            "balance_limit_exceeded",
            RoutstrErrorKind::BalanceLimitExceeded,
        ),
        ("missing_api_key", RoutstrErrorKind::MissingApiKey),
        ("invalid_api_key", RoutstrErrorKind::InvalidApiKey),
        ("key_expired", RoutstrErrorKind::KeyExpired),
        ("token_already_spent", RoutstrErrorKind::TokenAlreadySpent),
        ("invalid_token", RoutstrErrorKind::InvalidToken),
        ("mint_error", RoutstrErrorKind::MintError),
        ("mint_unreachable", RoutstrErrorKind::MintUnreachable),
        ("upstream_error", RoutstrErrorKind::UpstreamError),
        ("invalid_model", RoutstrErrorKind::InvalidModel),
        ("refund_pending", RoutstrErrorKind::RefundPending),
        ("conflict", RoutstrErrorKind::BalanceConflict),
    ];
    for envelope in [None, Some("openai"), Some("detail_error"), Some("detail")] {
        for (name, kind) in &cases {
            let mut opts = RequestOptions::new().extra_header("x-mock-routstr-error", name);
            if let Some(e) = envelope {
                opts = opts.extra_header("x-mock-routstr-envelope", e);
            }
            let err = rc
                .balance()
                .info()
                .with_options(opts)
                .max_retries(0)
                .await
                .unwrap_err();
            let got = err.routstr_kind().unwrap();
            // Only its own envelope carries the required amount.
            let want = match (kind, envelope) {
                (RoutstrErrorKind::MinimumBalanceRequired { .. }, Some(_)) => {
                    RoutstrErrorKind::MinimumBalanceRequired {
                        amount_required: None,
                        model: None,
                    }
                }
                _ => kind.clone(),
            };
            assert_eq!(got, want, "{name} in {envelope:?}: {err}");
            assert_eq!(got.as_str(), want.as_str());
        }
    }

    // Integer and string codes; the typed kind never hides the underlying error.
    let err = rc
        .balance()
        .info()
        .extra_header("x-mock-routstr-error", "mint_error")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api { .. }));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(422));
    assert_eq!(err.api_body().unwrap().code().unwrap().to_string(), "422");
    assert!(err.request_id().is_some());

    // Errors without a node answer have no kind.
    let err = RoutstrClient::public("http://127.0.0.1:9")
        .unwrap()
        .info()
        .max_retries(0)
        .await
        .unwrap_err();
    assert_eq!(err.routstr_kind(), None);
    assert!(err.routstr_meta().is_empty());
}

#[tokio::test]
async fn natural_errors_are_typed() {
    let node = RoutstrMock::start().await;
    let public = node_client(&node);
    let err = public.balance().info().await.unwrap_err();
    assert_eq!(err.routstr_kind(), Some(RoutstrErrorKind::MissingApiKey));

    let err = public
        .with_credential("sk-0000000000000000000000000000")
        .unwrap()
        .balance()
        .info()
        .await
        .unwrap_err();
    assert_eq!(err.routstr_kind(), Some(RoutstrErrorKind::InvalidApiKey));

    let key = node.create_key(1_000);
    let rc = public.with_credential(&key).unwrap();
    let err = rc.chat().create(hello("gpt-4o-mini")).await.unwrap_err();
    assert_eq!(
        err.routstr_kind(),
        Some(RoutstrErrorKind::InsufficientBalance)
    );
    let err = rc.chat().create(hello("no-such-model")).await.unwrap_err();
    assert_eq!(err.routstr_kind(), Some(RoutstrErrorKind::InvalidModel));

    for (mint, kind) in [
        ("http://unreachable.mint", RoutstrErrorKind::MintUnreachable),
        ("http://error.mint", RoutstrErrorKind::MintError),
    ] {
        let t = node.mint_token_at(mint, 1_000);
        let err = public
            .balance()
            .create(&t)
            .max_retries(0)
            .await
            .unwrap_err();
        assert_eq!(err.routstr_kind(), Some(kind));
    }

    node.set_validity(&key, Some(1));
    let err = rc.balance().info().await.unwrap_err();
    assert_eq!(err.routstr_kind(), Some(RoutstrErrorKind::KeyExpired));
}

#[tokio::test]
async fn malformed_tokens_are_rejected_without_a_request() {
    let node = RoutstrMock::start().await;
    let rc = node_client(&node)
        .with_credential(node.create_key(50_000))
        .unwrap();
    let bad = [
        "",
        "cashuA",
        "cashuAnot-a-token!",
        "cashuAW3sibWludCI6Imh0dHA6Ly9taW50In1dfQ",
        "sk-0123456789abcdef",
        "hello world token",
    ];
    for b in bad {
        let err = rc
            .chat()
            .request(hello("gpt-4o-mini"))
            .pay_with(b)
            .send()
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidRequest { .. }), "{b:?}: {err}");
        assert!(err.to_string().contains("X-Cashu"));
        let err = rc.info().pay_with(b).await.unwrap_err();
        assert!(matches!(err, Error::InvalidRequest { .. }));
        let err = rc.balance().create(b).await.unwrap_err();
        assert!(matches!(err, Error::InvalidRequest { .. }));
        let err = rc.balance().topup(b).await.unwrap_err();
        assert!(matches!(err, Error::InvalidRequest { .. }));
        let err = rc.balance().refund().with_token(b).await.unwrap_err();
        assert!(matches!(err, Error::InvalidRequest { .. }));
        if !b.is_empty() {
            assert!(!err.to_string().contains(b), "never echoed");
        }
    }
    // The same trait on bare request options.
    let err = rc
        .info()
        .with_options(RequestOptions::new().pay_with("nope"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }));
    assert!(node.received_requests().is_empty());

    // Malformed credentials fail at build time.
    for b in [
        "",
        "hunter2",
        "sk-short",
        "cashuA!!!!!!!!!!!!!!!!!!!!",
        "Bearer sk-0123456789",
    ] {
        let err = RoutstrClient::new(node.uri(), b).unwrap_err();
        assert!(matches!(err, Error::Config { .. }), "{b:?}");
        if b.len() > 3 {
            assert!(!err.to_string().contains(b));
        }
        assert!(rc.with_credential(b).is_err());
    }
}

#[tokio::test]
async fn debug_output_never_shows_credentials() {
    let node = RoutstrMock::start().await;
    let token = node.mint_token(30_000);
    let rc = RoutstrClient::new(node.uri(), &token).unwrap();
    let key = node.create_key(10_000);
    let keyed = rc.with_credential(&key).unwrap();
    let builder = RoutstrClient::builder(node.uri()).credential(&key);
    let call = keyed.balance().topup(&token).pay_with(&token);
    let create = rc.balance().create(&token);
    let chat = keyed.chat().request(hello("gpt-4o-mini")).pay_with(&token);
    let texts = [
        format!("{rc:?}"),
        format!("{keyed:?}"),
        format!("{builder:?}"),
        format!("{call:?}"),
        format!("{create:?}"),
        format!("{chat:?}"),
        format!("{:?}", keyed.credential()),
        format!("{:?}", keyed.client()),
    ];
    let payload = &token["cashuA".len()..];
    for t in &texts {
        assert!(!t.contains(payload), "{t}");
        assert!(!t.contains(&key[3..]), "{t}");
    }

    let created = rc.balance().create(node.mint_token(9_000)).await.unwrap();
    let text = format!("{created:?}");
    assert!(!text.contains(created.api_key.expose()), "{text}");
    // Serializing hands the key to its owner.
    let json = serde_json::to_value(created.value()).unwrap();
    assert_eq!(json["api_key"], created.api_key.expose());
}
