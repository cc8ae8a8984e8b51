//! Error handling: what each [`Error`] variant means, and how retries and timeouts are
//! configured per client and per call. Against the in-process mock it provokes each failure
//! (rate limit, slow server, broken stream); against a real server it shows those it can.
//!
//! ```sh
//! cargo run -p rostro-examples --bin error_handling
//! ```

use std::time::Duration;

use rostro_mock::{Fault, FaultRule};
use rostro_sdk::chat::{ChatCompletionRequest, Message};
use rostro_sdk::{CallOptions, Client, Error};

/// One line about an error: its variant, and whether retrying later could help.
fn describe(err: &Error) -> String {
    let kind = match err {
        Error::Api { status, .. } => format!("Api (HTTP {status})"),
        Error::Timeout { timeout, .. } => format!("Timeout (after {timeout:?})"),
        Error::Connect { .. } => "Connect (nothing reached the server)".to_owned(),
        Error::Transport { .. } => "Transport (connection broke)".to_owned(),
        Error::Stream { partial, .. } => format!("Stream ({} chars kept)", partial.len()),
        Error::Decode { path, .. } => format!("Decode (at {path})"),
        Error::InvalidRequest { .. } => "InvalidRequest (nothing was sent)".to_owned(),
        Error::Config { .. } => "Config".to_owned(),
        _ => "other".to_owned(),
    };
    format!("{kind}; retryable: {}; {err}", err.is_retryable())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (client, mock) = rostro_examples::connect().await?;
    let req = ChatCompletionRequest::new("mixtral", vec![Message::user("hello")]);

    // Client-wide policy: at most 3 retries (connection errors, timeouts, 408/409/429/5xx,
    // honouring Retry-After), 30 s per attempt, exponential backoff from 200 ms.
    let api_key = std::env::var(rostro_sdk::ENV_API_KEY).unwrap_or_else(|_| "demo-key".into());
    let patient = Client::builder()
        .api_key(api_key)
        .base_url(client.base_url())
        .mimic_base_url(client.mimic_base_url())
        .max_retries(3)
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(5))
        .initial_retry_delay(Duration::from_millis(200))
        .build()?;

    // Nothing listens on this loopback port: a connection error, never retried into success.
    let offline = Client::builder()
        .mimic_base_url("http://127.0.0.1:1")
        .max_retries(0)
        .build()?;
    let err = offline.chat().create(req.clone()).await.unwrap_err();
    println!("unreachable server   -> {}", describe(&err));

    // Invalid input is reported before anything is sent.
    let err = client
        .chat()
        .request(req.clone())
        .extra_header("bad header", "x")
        .send()
        .await
        .unwrap_err();
    println!("invalid header       -> {}", describe(&err));

    let Some(mock) = mock else {
        println!("(set no ROSTRO_BASE_URL to also see rate limits, timeouts and broken streams)");
        return Ok(());
    };
    let chat = "/v1/chat/completions";

    // A 429 is a refusal before processing: retried for every method, POST chat included,
    // after the wait the server asked for.
    mock.inject_fault(FaultRule::new(Fault::rate_limited(1)).on("POST", chat));
    let answer = patient
        .chat()
        .request(req.clone())
        .send_with_response()
        .await?;
    println!(
        "rate limited, retried -> ok: {:?} after {} attempts",
        answer.content().unwrap_or_default(),
        answer.meta().attempts
    );

    // A 500 on a POST is not retried by default (the request may have been processed)...
    mock.inject_fault(FaultRule::new(Fault::Status(500)).on("POST", chat));
    let err = patient.chat().create(req.clone()).await.unwrap_err();
    println!("server error         -> {}", describe(&err));

    // ...unless the call is made idempotent: one key across the attempts, then retried.
    mock.inject_fault(FaultRule::new(Fault::Status(500)).on("POST", chat));
    let answer = patient
        .chat()
        .request(req.clone())
        .idempotent_retries(true)
        .send_with_response()
        .await?;
    println!(
        "server error, retried -> ok: {:?} after {} attempts",
        answer.content().unwrap_or_default(),
        answer.meta().attempts
    );

    // Per-call timeout (it covers the wait for the response to start).
    mock.inject_fault(FaultRule::new(Fault::Delay(Duration::from_secs(2))).on("POST", chat));
    let err = patient
        .chat()
        .request(req.clone())
        .request_timeout(Duration::from_millis(300))
        .max_retries(0)
        .send()
        .await
        .unwrap_err();
    println!("slow server          -> {}", describe(&err));

    // A stream that breaks after it started: never retried; the text received is kept. An
    // idle timeout also ends a stream that goes silent.
    let err = client
        .chat()
        .request(req)
        .idle_timeout(Duration::from_secs(10))
        .extra_header("x-mock-scenario", "error-mid-stream")
        .extra_header("x-mock-chunks", "8")
        .stream()
        .await?
        .collect_completion()
        .await
        .unwrap_err();
    println!("error mid-stream     -> {}", describe(&err));
    if let Error::Stream { partial, .. } = &err {
        println!("                        partial text: {partial:?}");
    }
    Ok(())
}
