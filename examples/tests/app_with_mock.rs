//! How an application outside this workspace tests its own code against `rostro-mock`.
//!
//! In the application's `Cargo.toml`:
//!
//! ```toml
//! [dependencies]
//! rostro-sdk = "0.1"
//!
//! [dev-dependencies]
//! rostro-mock = "0.1"
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! ```
//!
//! Then, in `tests/`, start a mock per test and give the code under test a client for it:
//! the mock listens on 127.0.0.1 (a free port), answers every operation of the API, accepts
//! any key, and records what it received. Nothing leaves the machine.

use rostro_mock::{Fault, FaultRule, RostroMock};
use rostro_sdk::prelude::*;

/// The application's code under test: the names of the first `n` characters matching a word.
async fn character_names(client: &Client, word: &str, n: i64) -> Result<Vec<String>> {
    let page = client.search().list().search(word).first(n).send().await?;
    Ok(page
        .nodes
        .unwrap_or_default()
        .into_iter()
        .filter_map(|hit| hit.name)
        .collect())
}

/// A client for the mock: its one base URL serves the API and the mimic (chat) routes.
fn client_for(mock: &RostroMock) -> Client {
    Client::builder()
        .base_url(mock.uri())
        .mimic_base_url(mock.uri())
        .api_key("any-key-works")
        .build()
        .expect("a valid configuration")
}

#[tokio::test]
async fn the_application_finds_characters() {
    let mock = RostroMock::start().await;
    let names = character_names(&client_for(&mock), "dragon", 3)
        .await
        .unwrap();
    assert!(!names.is_empty() && names.len() <= 3, "{names:?}");
    // The mock recorded the request the application made.
    let sent = mock.requests_to("GET", "/search");
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0]
            .query
            .as_deref()
            .unwrap_or("")
            .contains("search=dragon")
    );
}

#[tokio::test]
async fn the_application_survives_a_rate_limit() {
    let mock = RostroMock::start().await;
    // The first search is refused with 429 (Retry-After: 0); the SDK waits and retries.
    mock.inject_fault(FaultRule::new(Fault::rate_limited(0)).on("GET", "/search"));
    let names = character_names(&client_for(&mock), "dragon", 2)
        .await
        .unwrap();
    assert!(!names.is_empty());
    assert_eq!(mock.attempts("GET", "/search"), 2);
}

#[tokio::test]
async fn the_application_sees_typed_errors() {
    let mock = RostroMock::start().await;
    mock.inject_fault(
        FaultRule::new(Fault::Status(500))
            .times(3)
            .on("GET", "/search"),
    );
    let client = Client::builder()
        .base_url(mock.uri())
        .max_retries(0)
        .build()
        .unwrap();
    let err = character_names(&client, "dragon", 2).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500), "{err:#?}");
    assert!(err.to_string().starts_with("GET /search: 500"), "{err}");
}
