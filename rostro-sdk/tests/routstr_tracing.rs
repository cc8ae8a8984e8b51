//! Traces of Routstr calls never contain a credential: not the Bearer key, not an X-Cashu
//! payment, not a change or refund token.
//!
//! One test in this binary on purpose (see `runtime_tracing.rs`): the subscriber is installed
//! before any callsite is hit and nothing else runs concurrently.

use std::sync::{Arc, Mutex};

use rostro_mock::RoutstrMock;
use rostro_sdk::CallOptions;
use rostro_sdk::chat::{ChatCompletionRequest, Message};
use rostro_sdk::routstr::{PayWith, RoutstrClient, RoutstrErrorExt, RoutstrMeta};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

#[tokio::test]
async fn no_credentials_in_traces() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_writer(capture.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let node = RoutstrMock::builder().refund_pending(1).start().await;
    let mut secrets = Vec::new();
    let public = RoutstrClient::public(node.uri()).unwrap();

    let token = node.mint_token(40_000);
    secrets.push(token.clone());
    let created = public.balance().create(&token).await.unwrap();
    secrets.push(created.api_key.expose().to_owned());
    let rc = public.with_credential(created.api_key.expose()).unwrap();

    let pay = node.mint_token(30_000);
    secrets.push(pay.clone());
    let req = ChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("hello")]);
    let resp = public
        .chat()
        .request(req.clone())
        .pay_with(&pay)
        .send_with_response()
        .await
        .unwrap();
    let change = RoutstrMeta::from_response(resp.meta())
        .change_token
        .unwrap();
    secrets.push(change.expose().to_owned());

    let pay2 = node.mint_token(30_000);
    secrets.push(pay2.clone());
    let err = public
        .chat()
        .request(req)
        .pay_with(&pay2)
        .extra_header("x-mock-routstr-error", "upstream_error")
        .send()
        .await
        .unwrap_err();
    secrets.push(err.change_token().unwrap().expose().to_owned());

    // Waits out one 425, then gets the refund token.
    let refund = rc.balance().refund().await.unwrap();
    secrets.push(refund.token.clone().unwrap().expose().to_owned());

    let logs = capture.text();
    assert!(logs.contains("rostro.request"), "{logs}");
    assert!(logs.contains("routstr_balance_refund"), "{logs}");
    assert!(logs.contains("refund pending"), "{logs}");
    for s in &secrets {
        // Any distinctive piece of a secret is enough to leak it.
        let piece = &s[s.len() - 24..];
        assert!(!logs.contains(piece), "secret in traces:\n{logs}");
    }
}
