//! Shared setup for the runnable examples in `src/bin/`.
//!
//! Every example talks to `ROSTRO_BASE_URL` (with `ROSTRO_API_KEY`) when it is set, and
//! otherwise starts the reference mock server in-process, so `cargo run -p rostro-examples
//! --bin <name>` works with no key and no network.

use rostro_mock::RostroMock;
use rostro_sdk::Client;

/// A client for the real service when `ROSTRO_BASE_URL` is set, else for an in-process mock
/// (returned too, so it lives as long as the example).
pub async fn connect() -> anyhow::Result<(Client, Option<RostroMock>)> {
    if std::env::var_os(rostro_sdk::ENV_BASE_URL).is_some() {
        return Ok((Client::from_env()?, None));
    }
    let mock = RostroMock::start().await;
    // The SDK joins mimic paths (`/v1/chat/completions`) to the mimic base itself, so the
    // mock's root serves both (its `mimic_uri()` is the OpenAI-style `.../v1` base instead).
    let client = Client::builder()
        .api_key("demo-key")
        .base_url(mock.uri())
        .mimic_base_url(mock.uri())
        .build()?;
    Ok((client, Some(mock)))
}
