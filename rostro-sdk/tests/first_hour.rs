//! What a new user of the SDK meets first, over real HTTP on 127.0.0.1: a connection error
//! that names the URL, an `Error` whose `Debug` reads like its `Display` (what
//! `fn main() -> rostro_sdk::Result<()>` prints), and a keyless client for public operations.

use rostro_mock::RostroMock;
use rostro_sdk::{Client, Error};

/// A port on 127.0.0.1 with nothing listening (bound, then released).
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn a_refused_connection_names_the_url_and_debug_reads_like_display() {
    let port = closed_port();
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .max_retries(0)
        .build()
        .unwrap();
    let err = client.search().list().send().await.unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:#?}");
    let text = err.to_string();
    assert_eq!(
        text,
        format!(
            "GET /search: could not connect to http://127.0.0.1:{port}/search: connection refused"
        ),
    );
    // `main() -> Result<()>` prints `Error: {err:?}`: the same sentence, not a struct dump.
    assert_eq!(format!("{err:?}"), text);
    // The structured form stays available.
    let full = format!("{err:#?}");
    assert!(
        full.starts_with("Connect {") && full.contains("url:"),
        "{full}"
    );
    match &err {
        Error::Connect { url, .. } => {
            assert_eq!(url.as_ref().map(|u| u.port()), Some(Some(port)));
        }
        other => panic!("{other:#?}"),
    }
}

#[tokio::test]
async fn the_url_in_a_connect_error_keeps_no_query() {
    let port = closed_port();
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .max_retries(0)
        .build()
        .unwrap();
    let err = client
        .search()
        .list()
        .search("secret-words")
        .send()
        .await
        .unwrap_err();
    let text = format!("{err} {err:?} {err:#?}");
    assert!(text.contains(&format!("127.0.0.1:{port}/search")), "{text}");
    assert!(
        !text.contains("hunter2") && !text.contains("secret-words"),
        "{text}"
    );
}

#[tokio::test]
async fn a_keyless_client_serves_public_operations_and_a_keyed_one_fails_typed() {
    let mock = RostroMock::start().await;
    let client = Client::builder()
        .base_url(mock.uri())
        .max_retries(0)
        .build()
        .unwrap();
    assert!(!client.has_api_key());
    let page = client.search().list().first(2).send().await.unwrap();
    assert!(page.nodes.is_some_and(|n| !n.is_empty()));
    // `POST /imagine/history` needs a key: the server's 401 comes back typed.
    let err = client.imagine().history().send().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401), "{err:#?}");
    assert!(matches!(err, Error::Api { .. }));
}
