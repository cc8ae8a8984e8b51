//! What several mock-backed test files share: a client for the mock with a short retry delay.

use std::time::Duration;

use rostro_mock::RostroMock;
use rostro_sdk::Client;

/// A client with a key, pointed at `mock`, retrying after 5 ms instead of the default wait.
pub fn client(mock: &RostroMock) -> Client {
    Client::builder()
        .api_key("test-key")
        .base_url(mock.uri())
        .initial_retry_delay(Duration::from_millis(5))
        .build()
        .unwrap()
}
