//! `rostro_sdk::routstr` against the Routstr mode of `rostro-mock` over real HTTP: node info,
//! models and pricing, the balance lifecycle, child keys, the wallet prefix and Lightning
//! invoices.

use std::time::Duration;

use rostro_mock::RoutstrMock;
use rostro_sdk::chat::{ChatCompletionRequest, Message};
use rostro_sdk::routstr::{
    BalancePrefix, ChatCharge, Credential, InvoicePurpose, InvoiceState, Msats, RoutstrClient,
    RoutstrErrorExt, RoutstrErrorKind, Sats,
};
use rostro_sdk::{CallOptions, Error};

fn node_client(node: &RoutstrMock) -> RoutstrClient {
    RoutstrClient::builder(node.uri())
        .max_retries(0)
        .build()
        .unwrap()
}

fn hello(model: &str) -> ChatCompletionRequest {
    ChatCompletionRequest::new(model, vec![Message::user("hello")])
}

#[tokio::test]
async fn info_models_and_providers() {
    let node = RoutstrMock::start().await;
    let rc = node_client(&node);

    let info = rc.info().await.unwrap();
    assert_eq!(info.mints, vec![node.mint_url()]);
    assert_eq!(info.version.as_deref(), Some("0.2.0-mock"));
    assert!(info.request_id().is_some(), "x-routstr-request-id");
    assert!(info.extra.contains_key("models"), "unknown fields kept");

    let models = rc.models().send().await.unwrap();
    let m = models.get("gpt-4o-mini").expect("listed");
    assert_eq!(m.context_length, Some(32_768));
    let sats = m.sats_pricing.as_ref().unwrap();
    assert_eq!(sats.prompt.as_ref().unwrap().as_str(), "0.002");
    assert_eq!(sats.completion.as_ref().unwrap().as_str(), "0.008");
    assert_eq!(sats.max_cost_msats(), Some(Msats(20_000)));
    assert_eq!(sats.max_prompt_cost_msats(), Some(Msats(10_000)));
    // What the node charges for 2 prompt + 2 completion tokens: 2*2 + 2*8 msat.
    assert_eq!(sats.estimate_msats(2, 2), Some(Msats(20)));
    let usd = m.pricing.as_ref().unwrap();
    assert!(usd.prompt.as_ref().unwrap().to_f64() > 0.0);
    assert!(!usd.max_cost.as_ref().unwrap().is_zero());
    let arch = m.architecture.as_ref().unwrap();
    assert_eq!(arch.input_modalities, ["text"]);
    assert!(
        m.per_request_limits
            .as_ref()
            .unwrap()
            .contains_key("prompt_tokens")
    );
    assert_eq!(
        m.top_provider.as_ref().unwrap().max_completion_tokens,
        Some(4096)
    );
    assert!(m.extra.contains_key("x_mock_note"), "unknown fields kept");

    // A node URL configured the OpenAI way, with `/v1`, works too.
    let v1 = RoutstrClient::public(format!("{}/v1/", node.uri())).unwrap();
    assert_eq!(v1.node_url(), node.uri());
    v1.info().await.unwrap();

    let providers = rc.providers().await.unwrap();
    assert_eq!(providers.providers.len(), 1);
    assert_eq!(
        providers.providers[0].endpoint_url.as_deref(),
        Some("http://sibling.rostro-mock.test")
    );
}

#[tokio::test]
async fn balance_lifecycle_create_chat_topup_refund() {
    let node = RoutstrMock::builder().refund_pending(1).start().await;
    let public = node_client(&node);
    let token = node.mint_token(50_000);

    let created = public
        .balance()
        .create(&token)
        .balance_limit_reset("daily")
        .send()
        .await
        .unwrap();
    assert_eq!(created.balance, Msats(50_000));
    assert!(created.api_key.expose().starts_with("sk-"));
    assert!(node.is_spent(&token));

    let rc = public.with_credential(created.api_key.expose()).unwrap();
    assert!(matches!(rc.credential(), Some(Credential::ApiKey(_))));

    // Chat through the SDK's chat layer, bound to the node.
    let resp = rc
        .chat()
        .request(hello("gpt-4o-mini"))
        .send_with_response()
        .await
        .unwrap();
    assert_eq!(resp.value().content(), Some("echo: hello"));
    let charge = ChatCharge::from_completion(&resp);
    assert_eq!(charge.total, Some(Msats(20)));
    assert_eq!(charge.input, Some(Msats(4)));
    assert_eq!(charge.output, Some(Msats(16)));
    assert_eq!(charge.base, Some(Msats(0)));
    assert_eq!(charge.remaining_balance, Some(Msats(49_980)));
    assert!(
        charge.change_token().is_none(),
        "no change on the Bearer path"
    );
    assert!(charge.meta.request_id.is_some());

    let info = rc.balance().info().await.unwrap();
    assert_eq!(info.balance, Msats(49_980));
    assert_eq!(info.available(), Msats(49_980));
    assert_eq!(info.total_spent, Msats(20));
    assert_eq!(info.total_requests, 1);
    assert_eq!(info.balance_limit_reset.as_deref(), Some("daily"));
    assert!(!info.is_child);
    assert_eq!(
        info.api_key.as_ref().map(|k| k.expose()),
        Some(created.api_key.expose())
    );

    let top = rc.balance().topup(node.mint_token(10_000)).await.unwrap();
    assert_eq!(top.msats, Msats(10_000));
    assert_eq!(node.balance(created.api_key.expose()), Some(59_980));

    let history = rc.balance().history().await.unwrap();
    let sources: Vec<_> = history
        .transactions
        .iter()
        .map(|t| t.source.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(sources, ["topup", "create"]);
    assert_eq!(history.transactions[0].amount_msats(), Some(Msats(10_000)));

    // The first refund answer is 425 with Retry-After: 1; the call waits and asks again.
    let started = std::time::Instant::now();
    let refund = rc.balance().refund().send().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(node.attempts("POST", "/v1/balance/refund"), 2);
    assert_eq!(refund.amount(), Some(Msats(59_980)));
    let refund_token = refund.token.clone().unwrap();
    assert_eq!(node.token_value(refund_token.expose()), Some(59_980));
    assert!(!format!("{:?}", refund.value()).contains(refund_token.expose()));

    // The key is gone.
    let err = rc.balance().info().await.unwrap_err();
    assert_eq!(err.routstr_kind(), Some(RoutstrErrorKind::InvalidApiKey));
    assert!(err.routstr_meta().request_id.is_some());
}

#[tokio::test]
async fn refund_pending_error_without_waiting() {
    let node = RoutstrMock::builder().refund_pending(3).start().await;
    let rc = node_client(&node)
        .with_credential(node.create_key(5_000))
        .unwrap();
    let err = rc.balance().refund().pending_retries(0).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(425));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(err.routstr_kind(), Some(RoutstrErrorKind::RefundPending));
    assert_eq!(node.attempts("POST", "/v1/balance/refund"), 1);
}

#[tokio::test]
async fn refund_with_the_original_token_and_sats_unit() {
    let node = RoutstrMock::builder().refund_in_sats(true).start().await;
    let token = node.mint_token(7_000);
    // Using the token as the Bearer credential makes it a key on the node.
    let as_key = RoutstrClient::builder(node.uri())
        .credential(&token)
        .build()
        .unwrap();
    assert!(as_key.credential().unwrap().is_token());
    let info = as_key.balance().info().await.unwrap();
    assert_eq!(info.balance, Msats(7_000));

    // Refund authenticated by the original token in X-Cashu, from a client without key.
    let refund = node_client(&node)
        .balance()
        .refund()
        .with_token(&token)
        .await
        .unwrap();
    assert_eq!(refund.sats, Some(Sats(7)));
    assert_eq!(refund.amount(), Some(Msats(7_000)));
    let sent = node.requests_to("POST", "/v1/balance/refund");
    assert_eq!(sent[0].header("x-cashu"), Some(token.as_str()));
    assert!(sent[0].header("authorization").is_none());
}

#[tokio::test]
async fn wallet_prefix_is_selectable() {
    let node = RoutstrMock::start().await;
    let key = node.create_key(30_000);
    let rc = RoutstrClient::builder(node.uri())
        .credential(&key)
        .wallet_prefix()
        .build()
        .unwrap();
    assert_eq!(rc.balance_prefix(), BalancePrefix::Wallet);
    let info = rc.balance().info().await.unwrap();
    assert_eq!(info.balance, Msats(30_000));
    rc.balance().history().await.unwrap();
    let paths: Vec<String> = node
        .received_requests()
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(paths, ["/v1/wallet/info", "/v1/wallet/history"]);

    let default = node_client(&node).with_credential(&key).unwrap();
    assert_eq!(default.balance_prefix(), BalancePrefix::Balance);
    default.balance().info().await.unwrap();
    assert_eq!(
        node.received_requests().last().unwrap().path,
        "/v1/balance/info"
    );
}

#[tokio::test]
async fn child_keys_and_their_limits() {
    let node = RoutstrMock::start().await;
    let parent_key = node.create_key(100_000);
    let rc = node_client(&node).with_credential(&parent_key).unwrap();

    for bad in [0, 51] {
        let err = rc.balance().child_keys(bad).await.unwrap_err();
        assert!(matches!(err, Error::InvalidRequest { .. }), "{err}");
        assert!(err.to_string().contains("between 1 and 50"));
    }
    assert!(
        node.received_requests().is_empty(),
        "rejected before sending"
    );

    let children = rc
        .balance()
        .child_keys(2)
        .balance_limit(Msats(30))
        .await
        .unwrap();
    assert_eq!(children.count, 2);
    assert_eq!(children.api_keys.len(), 2);
    assert_eq!(children.cost_msats, Some(Msats(200)));
    assert!(!format!("{:?}", children.value()).contains(children.api_keys[0].expose()));

    let child = rc.with_credential(children.api_keys[0].expose()).unwrap();
    let info = child.balance().info().await.unwrap();
    assert!(info.is_child);
    assert_eq!(info.balance, Msats(99_800));
    assert_eq!(info.balance_limit, Some(Msats(30)));

    child.chat().create(hello("gpt-4o-mini")).await.unwrap();
    let err = child.chat().create(hello("gpt-4o-mini")).await.unwrap_err();
    assert_eq!(
        err.routstr_kind(),
        Some(RoutstrErrorKind::BalanceLimitExceeded)
    );
    assert!(err.routstr_kind().unwrap().needs_funds());
}

#[tokio::test]
async fn lightning_invoice_paid_after_checks() {
    let node = RoutstrMock::builder().invoice_checks(3).start().await;
    let rc = node_client(&node);
    let invoice = rc
        .lightning()
        .create_invoice(Sats(21), InvoicePurpose::Create)
        .await
        .unwrap();
    assert!(invoice.bolt11.starts_with("lnbcrt"));
    assert_eq!(invoice.amount_sats, Sats(21));

    let paid = rc
        .lightning()
        .invoice_status(&invoice.invoice_id)
        .wait_paid(Duration::from_millis(20), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(paid.status, InvoiceState::Paid);
    assert!(paid.is_paid());
    assert!(paid.paid_at.is_some());
    let key = paid.api_key.clone().expect("a key for a create invoice");
    assert_eq!(
        node.attempts("GET", "/lightning/invoice/{invoice_id}/status"),
        3
    );
    assert_eq!(node.balance(key.expose()), Some(21_000));

    // Top up that key by invoice: the key goes in the body too.
    let rc = rc.with_credential(key.expose()).unwrap();
    let topup = rc
        .lightning()
        .create_invoice(Sats(4), InvoicePurpose::Topup)
        .await
        .unwrap();
    let body = node.requests_to("POST", "/lightning/invoice")[1]
        .body_json()
        .unwrap();
    assert_eq!(body["purpose"], "topup");
    assert_eq!(body["api_key"], key.expose());
    rc.lightning()
        .invoice_status(&topup.invoice_id)
        .wait_paid(Duration::from_millis(10), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(node.balance(key.expose()), Some(25_000));

    // An invoice that expires ends the wait with its final state.
    let expiring = rc
        .lightning()
        .create_invoice(Sats(1), InvoicePurpose::Create)
        .extra_header("x-mock-routstr-invoice", "expire")
        .await
        .unwrap();
    let done = rc
        .lightning()
        .invoice_status(&expiring.invoice_id)
        .wait_paid(Duration::from_millis(10), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(done.status, InvoiceState::Expired);
    assert!(!done.is_paid());

    // Still pending at the deadline: a timeout.
    let slow = RoutstrMock::builder().invoice_checks(1000).start().await;
    let rc = node_client(&slow);
    let inv = rc
        .lightning()
        .create_invoice(Sats(1), InvoicePurpose::Create)
        .await
        .unwrap();
    let err = rc
        .lightning()
        .invoice_status(&inv.invoice_id)
        .wait_paid(Duration::from_millis(20), Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");

    let err = rc
        .lightning()
        .create_invoice(Sats(0), InvoicePurpose::Create)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }));
}
