//! Rate-limit pacing and the retry budget, against the mock over real HTTP: a batch of
//! concurrent requests through one client (and its clones) against a rate-limited mock.
//! Counts 429s and attempts, never wall time.

use std::time::Duration;

use futures::StreamExt;
use rostro_mock::{Fault, FaultRule, RateLimit, RostroMock};
use rostro_sdk::Client;

const KEY: &str = "sk-test-0123456789abcdef";
/// 10 requests per 250 ms window.
const LIMIT: u64 = 10;
const CONCURRENCY: usize = 16;
const REQUESTS: usize = 50;

async fn limited_mock() -> RostroMock {
    RostroMock::builder()
        .rate_limit(RateLimit::new(LIMIT, Duration::from_millis(250)).unwrap())
        .start()
        .await
}

fn client(mock: &RostroMock, pacing: bool) -> Client {
    Client::builder()
        .api_key(KEY)
        .base_url(mock.uri())
        .pacing(pacing)
        .initial_retry_delay(Duration::from_millis(1))
        .max_retry_delay(Duration::from_millis(5))
        .build()
        .unwrap()
}

/// Sends [`REQUESTS`] GETs at [`CONCURRENCY`], each task on its own clone of `client`;
/// returns (succeeded, 429s the mock sent).
async fn batch(mock: &RostroMock, client: &Client) -> (usize, usize) {
    let ok = futures::stream::iter(0..REQUESTS)
        .map(|_| {
            let client = client.clone();
            async move { client.models().list().send().await.is_ok() }
        })
        .buffer_unordered(CONCURRENCY)
        .filter(|ok| std::future::ready(*ok))
        .count()
        .await;
    let limited = mock
        .received_requests()
        .iter()
        .filter(|r| r.status == 429)
        .count();
    eprintln!("{ok}/{REQUESTS} delivered, {limited} 429s");
    (ok, limited)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paced_batch_slows_down_instead_of_failing() {
    let mock = limited_mock().await;
    let (ok, limited) = batch(&mock, &client(&mock, true)).await;
    assert_eq!(ok, REQUESTS, "every request is delivered");
    // Only the first wave, sent before any response said what the limit is, overshoots
    // (CONCURRENCY - LIMIT); a little slack for attempts overtaking each other on the way.
    assert!(limited <= CONCURRENCY, "{limited} 429s for a paced batch");
    // Every response carried the headers the pacing reads.
    for r in mock.received_requests() {
        assert!(r.status == 200 || r.status == 429, "{}", r.status);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_pacing_the_same_batch_storms() {
    let paced_mock = limited_mock().await;
    let (_, paced) = batch(&paced_mock, &client(&paced_mock, true)).await;
    let mock = limited_mock().await;
    let (ok, limited) = batch(&mock, &client(&mock, false)).await;
    // Each request backs off alone: many more refusals, and files a patient client would
    // have delivered fail after their retries.
    assert!(
        limited > 2 * paced.max(1),
        "{limited} 429s without pacing vs {paced} with"
    );
    assert!(ok <= REQUESTS);
}

#[tokio::test]
async fn the_retry_budget_stops_retrying_a_failing_server() {
    let mock = RostroMock::start().await;
    mock.inject_fault(
        FaultRule::new(Fault::Status(500))
            .times(100)
            .on("GET", "/v1/models"),
    );
    let client = Client::builder()
        .api_key(KEY)
        .base_url(mock.uri())
        .retry_budget(Some(10))
        .initial_retry_delay(Duration::from_millis(1))
        .build()
        .unwrap();
    // The first request spends the budget on its two retries; the next are not retried.
    for _ in 0..3 {
        assert!(client.models().list().send().await.is_err());
    }
    assert_eq!(mock.attempts("GET", "/v1/models"), 3 + 1 + 1);

    // Without a budget, every request makes all its attempts.
    mock.clear_received();
    let unbudgeted = Client::builder()
        .api_key(KEY)
        .base_url(mock.uri())
        .retry_budget(None)
        .initial_retry_delay(Duration::from_millis(1))
        .build()
        .unwrap();
    for _ in 0..3 {
        assert!(unbudgeted.models().list().send().await.is_err());
    }
    assert_eq!(mock.attempts("GET", "/v1/models"), 9);
}

#[tokio::test]
async fn rejections_are_retried_with_an_empty_budget() {
    let mock = RostroMock::start().await;
    mock.inject_fault(FaultRule::new(Fault::rate_limited(0)).on("GET", "/v1/models"));
    let client = Client::builder()
        .api_key(KEY)
        .base_url(mock.uri())
        .retry_budget(Some(0))
        .build()
        .unwrap();
    let models = client.models().list().send_with_response().await.unwrap();
    assert_eq!(models.meta().attempts, 2);
}

#[tokio::test]
async fn successes_refill_the_budget() {
    let mock = RostroMock::start().await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(mock.uri())
        .retry_budget(Some(5))
        .initial_retry_delay(Duration::from_millis(1))
        .build()
        .unwrap();
    // One retry spends all 5 tokens (and fails, so nothing comes back).
    mock.inject_fault(
        FaultRule::new(Fault::Status(500))
            .times(2)
            .on("GET", "/v1/models"),
    );
    assert!(client.models().list().send().await.is_err());
    assert_eq!(mock.attempts("GET", "/v1/models"), 2);
    mock.inject_fault(FaultRule::new(Fault::Status(500)).on("GET", "/v1/models"));
    assert!(client.models().list().send().await.is_err(), "budget spent");
    assert_eq!(mock.attempts("GET", "/v1/models"), 3);
    // Five first-attempt successes give the 5 tokens back.
    for _ in 0..5 {
        client.models().list().send().await.unwrap();
    }
    mock.inject_fault(FaultRule::new(Fault::Status(500)).on("GET", "/v1/models"));
    let again = client.models().list().send_with_response().await.unwrap();
    assert_eq!(again.meta().attempts, 2, "refilled: retried again");
}
