//! Uploads against the mock: multipart (path, reader), the gallery's base64 JSON, chunked
//! uploads in parallel parts and their resumption.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rostro_mock::{Fault, FaultRule, RostroMock, UploadKind};
use rostro_sdk::media::{MediaError, UploadState};
use rostro_sdk::request::FilePart;
use rostro_sdk::{Client, Error};
use sha2::{Digest, Sha256};

const PART_ROUTE: &str = "/_mock/upload/{upload_id}/{part_number}";

use common::client;

/// A file of `len` pseudo-random bytes; returns its path and hex SHA-256.
fn test_file(dir: &std::path::Path, name: &str, len: usize) -> (std::path::PathBuf, String) {
    let mut x: u32 = 0x1234_5678 ^ len as u32;
    let data: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, &data).unwrap();
    (path, hex::encode(Sha256::digest(&data)))
}

#[tokio::test]
async fn multipart_upload_from_a_path_streams_the_file() {
    let mock = RostroMock::start().await;
    let client = client(&mock);
    let dir = tempfile::tempdir().unwrap();
    let (path, sha) = test_file(dir.path(), "clip.mp4", 3 * 1024 * 1024 + 17);

    let last = Arc::new(AtomicU64::new(0));
    let last2 = last.clone();
    let item = client
        .upload(client.media().upload_video().text("name", "intro"))
        .file("file", FilePart::from_path(&path))
        .on_progress(move |p| {
            assert_eq!(p.total, Some(3 * 1024 * 1024 + 17));
            last2.store(p.bytes, Ordering::Relaxed);
        })
        .send()
        .await
        .unwrap();
    let record = mock.upload(item.uuid.as_deref().unwrap()).unwrap();
    assert_eq!(record.kind, UploadKind::Multipart);
    assert_eq!(record.size, 3 * 1024 * 1024 + 17);
    assert_eq!(record.sha256, sha);
    assert_eq!(record.filename.as_deref(), Some("clip.mp4"));
    assert_eq!(record.content_type.as_deref(), Some("video/mp4"));
    assert!(record.fields.contains(&("name".into(), "intro".into())));
    assert_eq!(last.load(Ordering::Relaxed), record.size);

    // The body went with a Content-Length, not chunked.
    let req = &mock.requests_to("POST", "/api/media/video/upload")[0];
    let len: u64 = req.header("content-length").unwrap().parse().unwrap();
    assert_eq!(len, req.body_len);
    assert!(req.header("transfer-encoding").is_none());
}

#[tokio::test]
async fn multipart_upload_from_a_reader_and_a_builder_file_part() {
    let mock = RostroMock::start().await;
    let client = client(&mock);
    let dir = tempfile::tempdir().unwrap();
    let (path, sha) = test_file(dir.path(), "notes.txt", 200_000);

    // A reader of known length (not retried, read once).
    let file = tokio::fs::File::open(&path).await.unwrap();
    let answer = client
        .upload(client.lore().add_item())
        .file(
            "file",
            FilePart::from_reader(file, 200_000).file_name("notes.txt"),
        )
        .send()
        .await
        .unwrap();
    let record = mock.upload(answer.uuid.as_deref().unwrap()).unwrap();
    assert_eq!(
        (record.size, record.sha256.as_str()),
        (200_000, sha.as_str())
    );

    // A FilePart set on the generated builder is streamed the same way.
    let answer = client
        .upload(
            client
                .audio()
                .transcribe()
                .sample(FilePart::from_path(&path)),
        )
        .send()
        .await
        .unwrap();
    assert!(answer.reference_text.unwrap().contains("200000 bytes"));
    let record = mock.uploads().pop().unwrap();
    assert_eq!(record.field.as_deref(), Some("sample"));
    assert_eq!(record.sha256, sha);

    // A reader shorter than announced fails the upload instead of sending a short body.
    let short =
        FilePart::from_reader(std::io::Cursor::new(vec![0u8; 10]), 100).file_name("short.bin");
    let err = client
        .upload(client.lore().add_item())
        .file("file", short)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
}

#[tokio::test]
async fn gallery_upload_streams_base64_json() {
    let mock = RostroMock::start().await;
    let client = client(&mock);
    let dir = tempfile::tempdir().unwrap();
    let (path, sha) = test_file(dir.path(), "cover.png", 1_000_003);

    let progress: Arc<Mutex<Vec<u64>>> = Arc::default();
    let progress2 = progress.clone();
    let item = client
        .gallery()
        .upload_file(172700, FilePart::from_path(&path))
        .caption("The \"cover\"")
        .on_progress(move |p| progress2.lock().unwrap().push(p.bytes))
        .send()
        .await
        .unwrap();
    let record = mock.upload(item.uuid.as_deref().unwrap()).unwrap();
    assert_eq!(record.kind, UploadKind::Base64Json);
    assert_eq!(record.size, 1_000_003);
    assert_eq!(record.sha256, sha);
    assert_eq!(record.project_id, Some(172700));
    assert_eq!(record.content_type.as_deref(), Some("image/png"));
    assert!(
        record
            .fields
            .contains(&("caption".into(), "The \"cover\"".into()))
    );
    let progress = progress.lock().unwrap().clone();
    assert_eq!(*progress.last().unwrap(), 1_000_003);
    assert!(progress.len() > 2, "progress in several steps");
    // Exact Content-Length: 4/3 of the file plus the JSON around it.
    let req = &mock.requests_to("POST", "/api/gallery/upload")[0];
    assert_eq!(
        req.header("content-length")
            .unwrap()
            .parse::<u64>()
            .unwrap(),
        req.body_len
    );

    // A URL is passed through.
    let item = client
        .gallery()
        .upload_url(172700, "https://example.com/pic.png")
        .send()
        .await
        .unwrap();
    assert_eq!(
        item.primary_image_path.as_deref(),
        Some("https://example.com/pic.png")
    );

    // Bytes, listed back through the gallery.
    client
        .gallery()
        .upload_file(
            172700,
            FilePart::from_bytes("tiny.png", &b"\x89PNG\r\n\x1a\n"[..]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(mock.uploads().len(), 3);
}

#[tokio::test]
async fn chunked_upload_sends_parallel_parts() {
    let mock = RostroMock::start().await;
    let client = client(&mock);
    let dir = tempfile::tempdir().unwrap();
    let len = 5 * 1024 * 1024 + 123;
    let (path, sha) = test_file(dir.path(), "scene.glb", len);

    let last = Arc::new(AtomicU64::new(0));
    let last2 = last.clone();
    let result = client
        .engine_upload()
        .upload_file(&path)
        .part_size(1024 * 1024)
        .concurrency(3)
        .on_progress(move |p| {
            last2.fetch_max(p.bytes, Ordering::Relaxed);
        })
        .send()
        .await
        .unwrap();
    assert_eq!(result.parts, 6);
    assert_eq!(result.parts_sent, 6);
    assert_eq!(result.size, len as u64);
    assert_eq!(result.sha256, sha);
    assert_eq!(last.load(Ordering::Relaxed), len as u64);
    let record = mock.upload(result.uuid.as_deref().unwrap()).unwrap();
    assert_eq!(record.kind, UploadKind::Chunked);
    assert_eq!(record.sha256, sha);
    assert_eq!(record.size, len as u64);
    assert_eq!(record.parts.len(), 6);
    assert_eq!(record.filename.as_deref(), Some("scene.glb"));
    assert_eq!(mock.attempts("PUT", PART_ROUTE), 6);
    // The parts carried no credentials (signed URLs).
    for req in mock.requests_to("PUT", PART_ROUTE) {
        assert!(req.api_key.is_none());
    }
}

#[tokio::test]
async fn a_failed_part_is_retried_on_its_own() {
    let mock = RostroMock::start().await;
    let client = client(&mock);
    let dir = tempfile::tempdir().unwrap();
    let (path, sha) = test_file(dir.path(), "big.bin", 3 * 1024 * 1024);
    mock.inject_fault(FaultRule::new(Fault::Status(503)).on("PUT", PART_ROUTE));
    let result = client
        .engine_upload()
        .upload_file(&path)
        .part_size(1024 * 1024)
        .send()
        .await
        .unwrap();
    assert_eq!(result.sha256, sha);
    assert_eq!(mock.attempts("PUT", PART_ROUTE), 4);
}

#[tokio::test]
async fn a_resumed_chunked_upload_sends_only_the_missing_parts() {
    let mock = Arc::new(RostroMock::start().await);
    let client = client(&mock);
    let dir = tempfile::tempdir().unwrap();
    let part = 1024 * 1024;
    let (path, sha) = test_file(dir.path(), "video.mp4", 6 * part + 99);
    let state_file = dir.path().join("video.upload.json");

    // Parts go one at a time and part 3 fails: the upload stops after two parts. (The fault
    // is set up from the first progress report, once the upload id is in the state file.)
    let armed = Arc::new(AtomicBool::new(false));
    let (mock2, armed2, state_file2) = (mock.clone(), armed.clone(), state_file.clone());
    let err = client
        .engine_upload()
        .upload_file(&path)
        .part_size(part as u64)
        .concurrency(1)
        .part_retries(0)
        .state_file(&state_file)
        .on_progress(move |_| {
            if !armed2.swap(true, Ordering::SeqCst) {
                let state: UploadState =
                    serde_json::from_slice(&std::fs::read(&state_file2).unwrap()).unwrap();
                let part3 = format!("/_mock/upload/{}/3", state.upload_id);
                mock2.inject_fault(
                    FaultRule::new(Fault::Status(500))
                        .times(100)
                        .on("PUT", &part3),
                );
            }
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500), "{err:?}");
    assert_eq!(mock.attempts("PUT", PART_ROUTE), 3);

    let state = UploadState::load(&state_file).await.unwrap();
    assert_eq!(state.part_count, 7);
    assert_eq!(state.missing_parts(), vec![3, 4, 5, 6, 7]);

    mock.clear_faults();
    let result = client
        .engine_upload()
        .resume(state)
        .concurrency(3)
        .state_file(&state_file)
        .send()
        .await
        .unwrap();
    assert_eq!(result.parts_sent, 5);
    assert_eq!(
        mock.attempts("PUT", PART_ROUTE),
        3 + 5,
        "only the missing parts"
    );
    assert_eq!(result.sha256, sha);
    assert_eq!(
        mock.upload(result.uuid.as_deref().unwrap()).unwrap().sha256,
        sha
    );
    assert!(!state_file.exists(), "the state file is removed when done");
}

#[tokio::test]
async fn resuming_a_changed_file_is_refused() {
    let mock = RostroMock::start().await;
    let client = client(&mock);
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = test_file(dir.path(), "a.bin", 3000);
    let state = UploadState::load_from_json_for_test(&path, 2000);
    let err = client
        .engine_upload()
        .resume(state)
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Media { source, .. } if matches!(**source, MediaError::ResumeMismatch { .. })),
        "{err:?}"
    );
}

trait StateForTest {
    fn load_from_json_for_test(path: &std::path::Path, size: u64) -> UploadState;
}

impl StateForTest for UploadState {
    fn load_from_json_for_test(path: &std::path::Path, size: u64) -> UploadState {
        serde_json::from_value(serde_json::json!({
            "version": 1,
            "upload_id": "u1",
            "key": null,
            "file": path,
            "file_size": size,
            "modified_ms": null,
            "file_name": "a.bin",
            "content_type": null,
            "part_size": 1000,
            "part_count": 2,
            "completed": {"1": "etag"}
        }))
        .unwrap()
    }
}

#[tokio::test]
async fn a_paused_upload_stops_between_parts_and_resumes() {
    use rostro_sdk::media::PauseSignal;
    let mock = RostroMock::start().await;
    let client = client(&mock);
    let dir = tempfile::tempdir().unwrap();
    let (path, sha) = test_file(dir.path(), "pause.bin", 4 * 1024 * 1024);
    let state_file = dir.path().join("pause.json");
    let pause = PauseSignal::new();
    let pause2 = pause.clone();
    let err = client
        .engine_upload()
        .upload_file(&path)
        .part_size(1024 * 1024)
        .concurrency(1)
        .state_file(&state_file)
        .pause_signal(pause)
        .on_progress(move |p| {
            if p.bytes > 0 {
                pause2.pause();
            }
        })
        .send()
        .await
        .unwrap_err();
    match &err {
        Error::Media { source, .. } => assert!(
            matches!(
                **source,
                MediaError::Paused {
                    parts_done: 1,
                    part_count: 4,
                    ..
                }
            ),
            "{source:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        mock.attempts("PUT", PART_ROUTE),
        1,
        "the part in flight finished"
    );
    let state = UploadState::load(&state_file).await.unwrap();
    let done = client.engine_upload().resume(state).send().await.unwrap();
    assert_eq!((done.parts_sent, done.sha256.as_str()), (3, sha.as_str()));
    assert_eq!(mock.attempts("PUT", PART_ROUTE), 4);
}

#[tokio::test]
async fn a_part_503_is_retried_through_the_send_path() {
    let mock = RostroMock::start().await;
    let client = client(&mock);
    let dir = tempfile::tempdir().unwrap();
    let (path, sha) = test_file(dir.path(), "retry.bin", 2 * 1024 * 1024);
    mock.inject_fault(FaultRule::new(Fault::Status(503)).on("PUT", PART_ROUTE));
    let result = client
        .engine_upload()
        .upload_file(&path)
        .part_size(1024 * 1024)
        .concurrency(1)
        .send()
        .await
        .unwrap();
    assert_eq!(result.sha256, sha);
    let puts = mock.requests_to("PUT", PART_ROUTE);
    assert_eq!(puts.len(), 3, "two parts, one of them twice");
    let failed = puts.iter().find(|r| r.status == 503).expect("the 503");
    let retried: Vec<_> = puts
        .iter()
        .filter(|r| r.path == failed.path && r.status == 200)
        .collect();
    assert_eq!(retried.len(), 1, "the failed part was sent again");
    // The send path numbers its retries; a loop of its own would not.
    assert_eq!(
        retried[0]
            .headers
            .get("x-rostro-retry-count")
            .map(|v| v.to_str().unwrap()),
        Some("1")
    );
    assert!(failed.headers.get("x-rostro-retry-count").is_none());
    assert_eq!(retried[0].body_len, 1024 * 1024, "the whole part again");
    for req in &puts {
        assert!(req.api_key.is_none(), "signed URLs carry no API key");
    }
}

/// A storage endpoint on 127.0.0.1 that answers every `PUT` with a 500 and a 64 MiB body;
/// returns its URL and a receiver of how many body bytes each answer got out before the
/// client hung up.
async fn flooding_storage() -> (String, tokio::sync::mpsc::UnboundedReceiver<u64>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/part", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                // Read the request head and its body (Content-Length) before answering.
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                let head_end = loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break at + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                let mut got = buf.len() - head_end;
                while got < len {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    got += n;
                }
                const TOTAL: usize = 64 * 1024 * 1024;
                let head = format!(
                    "HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ncontent-length: {TOTAL}\r\n\r\n"
                );
                if sock.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let block = vec![b'x'; 64 * 1024];
                let mut sent = 0u64;
                while (sent as usize) < TOTAL {
                    if sock.write_all(&block).await.is_err() {
                        break;
                    }
                    sent += block.len() as u64;
                }
                let _ = tx.send(sent);
            });
        }
    });
    (url, rx)
}

#[tokio::test]
async fn a_huge_error_body_on_a_failed_part_is_read_only_up_to_the_bound() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let (part_url, mut sent) = flooding_storage().await;
    let api = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/engine/api/upload/start-upload"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "upload_id": "u1", "part_size": 1024
        })))
        .mount(&api)
        .await;
    Mock::given(method("POST"))
        .and(path("/engine/api/upload/signed-urls"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"urls": [{"part_number": 1, "url": part_url}]})),
        )
        .mount(&api)
        .await;
    let client = Client::builder()
        .api_key("test-key")
        .base_url(api.uri())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (file, _) = test_file(dir.path(), "one.bin", 1000);
    let err = client
        .engine_upload()
        .upload_file(&file)
        .part_retries(0)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500), "{err:?}");
    let sent = sent.recv().await.expect("the storage answered");
    // The client stops reading at its error-body bound (256 KiB) and drops the connection;
    // what got out beyond that sits in socket buffers, far below the 64 MiB offered.
    assert!(sent < 32 * 1024 * 1024, "the client read {sent} bytes");
}
