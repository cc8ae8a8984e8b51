//! `Download::stream` over real HTTP: the mock's media, and a 127.0.0.1 server scripted per
//! connection for failures the mock cannot make (a body that breaks before its first byte,
//! a body that never comes).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use rostro_mock::{Fault, FaultRule, RostroMock};
use rostro_sdk::media::{Download, GenerationSpec, MediaError, MediaStream};
use rostro_sdk::{Client, Error};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn client(base: &str) -> Client {
    Client::builder()
        .api_key("test-key")
        .base_url(base)
        .initial_retry_delay(Duration::from_millis(5))
        .build()
        .unwrap()
}

/// Every chunk, or the first error with the bytes read before it.
async fn collect(mut media: MediaStream) -> (Vec<u8>, Option<Error>) {
    let mut bytes = Vec::new();
    while let Some(chunk) = media.next().await {
        match chunk {
            Ok(c) => bytes.extend_from_slice(&c),
            Err(e) => {
                assert!(media.next().await.is_none(), "nothing follows an error");
                return (bytes, Some(e));
            }
        }
    }
    (bytes, None)
}

#[tokio::test]
async fn the_stream_has_the_bytes_a_saved_download_has() {
    let mock = RostroMock::builder().imagine_checks(0).start().await;
    let client = client(&mock.uri());
    let done = client
        .imagine()
        .generate(GenerationSpec::text_to_image("a cat"))
        .await
        .unwrap()
        .wait()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let saved = done.download(dir.path().join("cat.png")).await.unwrap();

    // A 503 first: retried by the send path, which numbers its retries.
    mock.clear_received();
    mock.inject_fault(
        FaultRule::new(Fault::Status(503))
            .times(1)
            .on("GET", "/media/{file}"),
    );
    let media = done.download("-").stream().await.unwrap();
    assert_eq!(media.content_type(), Some("image/png"));
    assert_eq!(media.content_length(), Some(saved.primary.size));
    assert_eq!(media.url(), saved.primary.url);
    let (bytes, error) = collect(media).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(bytes, std::fs::read(&saved.primary.path).unwrap());
    let seen = mock.requests_to("GET", "/media/{file}");
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].header("x-rostro-retry-count"), Some("1"));

    // A status that is not retryable fails the open, typed, after one request.
    mock.inject_fault(
        FaultRule::new(Fault::Status(404))
            .times(1)
            .on("GET", "/media/{file}"),
    );
    let err = done.download("-").stream().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404), "{err:?}");
    assert_eq!(mock.requests_to("GET", "/media/{file}").len(), 3);

    // Cut after bytes were handed out: the error ends the stream, nothing is fetched again.
    mock.inject_fault(
        FaultRule::new(Fault::DropMidBody)
            .times(1)
            .on("GET", "/media/{file}"),
    );
    let (bytes, error) = collect(done.download("-").stream().await.unwrap()).await;
    assert!(!bytes.is_empty() && (bytes.len() as u64) < saved.primary.size);
    assert!(matches!(error, Some(Error::Transport { .. })), "{error:?}");
    assert_eq!(mock.requests_to("GET", "/media/{file}").len(), 4);
}

/// A server that answers its n-th connection with `script[n]` (the last one again after
/// the end), then keeps the connection open for `hold`; it counts connections.
async fn scripted(script: Vec<&'static [u8]>, hold: Duration) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            let answer = script[n.min(script.len() - 1)];
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => head.extend_from_slice(&buf[..k]),
                    }
                }
                let _ = sock.write_all(answer).await;
                tokio::time::sleep(hold).await;
            });
        }
    });
    (base, count)
}

const HEADERS_ONLY: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: 8\r\nconnection: close\r\n\r\n";
const WHOLE: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: 8\r\nconnection: close\r\n\r\n\x89PNG\r\n\x1a\n";
const SHORT: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: 8\r\nconnection: close\r\n\r\n\x89PN";

#[tokio::test]
async fn a_body_that_breaks_before_its_first_byte_is_fetched_again() {
    let (base, connections) = scripted(vec![HEADERS_ONLY, WHOLE], Duration::ZERO).await;
    let client = client(&base);
    let media = Download::url(&client, format!("{base}/m/a.png?sig=SECRET"), "-")
        .stream()
        .await
        .unwrap();
    // The URL shown (in messages) leaves the signature out.
    assert_eq!(media.url(), format!("{base}/m/a.png"));
    let (bytes, error) = collect(media).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(bytes, b"\x89PNG\r\n\x1a\n");
    assert_eq!(connections.load(Ordering::SeqCst), 2);

    // Without retries the broken body is the error.
    let (base, connections) = scripted(vec![HEADERS_ONLY], Duration::ZERO).await;
    let media = Download::url(&client, format!("{base}/a.png"), "-")
        .max_retries(0)
        .stream()
        .await
        .unwrap();
    let (bytes, error) = collect(media).await;
    assert!(bytes.is_empty());
    assert!(matches!(error, Some(Error::Transport { .. })), "{error:?}");
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_stalled_body_is_a_timeout_and_a_short_one_a_size_mismatch() {
    let (base, _) = scripted(vec![HEADERS_ONLY], Duration::from_secs(30)).await;
    let client = Client::builder()
        .base_url(&base)
        .timeout(Duration::from_millis(200))
        .max_retries(0)
        .build()
        .unwrap();
    let media = Download::url(&client, format!("{base}/a.png"), "-")
        .stream()
        .await
        .unwrap();
    let (bytes, error) = collect(media).await;
    assert!(bytes.is_empty());
    match error {
        Some(Error::Timeout { timeout, .. }) => assert_eq!(timeout, Duration::from_millis(200)),
        other => panic!("expected a timeout, got {other:?}"),
    }

    // Three of eight bytes, then the server closes: the bytes are handed out, then the error.
    let (base, _) = scripted(vec![SHORT], Duration::ZERO).await;
    let media = Download::url(&client, format!("{base}/a.png"), "-")
        .stream()
        .await
        .unwrap();
    let (bytes, error) = collect(media).await;
    assert_eq!(bytes, b"\x89PN");
    let error = error.expect("a short body is an error");
    assert!(
        matches!(&error, Error::Transport { .. })
            || matches!(&error, Error::Media { source, .. } if matches!(**source, MediaError::SizeMismatch { .. })),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_bad_url_and_a_refused_connection_are_typed_errors() {
    // A port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let client = client(&base);
    let err = Download::url(&client, "ftp://cdn.example/a.png", "-")
        .stream()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
    // A connect error names the URL without its query.
    let err = Download::url(&client, "/media/a.png?sig=SECRET", "-")
        .max_retries(0)
        .stream()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(&format!("{base}/media/a.png")), "{text}");
    assert!(!text.contains("SECRET"), "{text}");
}
