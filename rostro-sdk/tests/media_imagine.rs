//! Imagine against the mock: generate, wait, download; per-type endpoints; failures; resume;
//! validation before sending; interrupted downloads.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rostro_mock::{Fault, FaultRule, RostroMock};
use rostro_sdk::media::{
    GenerationSpec, GenerationState, ImageInput, MediaError, PollEndpoint, WaitProgress,
};
use rostro_sdk::types::{MusicGenType, RejectionReason};
use rostro_sdk::{CallOptions, Client, Error};
use serde_json::json;
use sha2::{Digest, Sha256};

const FAST: Duration = Duration::from_millis(10);

use common::client;

fn sha256_file(path: &std::path::Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

fn media_error(err: &Error) -> &MediaError {
    match err {
        Error::Media { source, .. } => source,
        other => panic!("expected a media error, got {other:?}"),
    }
}

#[tokio::test]
async fn generate_wait_and_download_an_image() {
    let mock = RostroMock::builder().imagine_checks(2).start().await;
    let client = client(&mock);
    let dir = tempfile::tempdir().unwrap();

    let generation = client
        .imagine()
        .generate(GenerationSpec::text_to_image("a lighthouse at dusk").aspect_ratio("16:9"))
        .await
        .unwrap();
    assert_eq!(generation.endpoint(), PollEndpoint::Imagine);
    assert_eq!(
        generation.last_status().unwrap().state,
        GenerationState::Pending
    );
    let seen: Arc<Mutex<Vec<WaitProgress>>> = Arc::default();
    let seen2 = seen.clone();
    let done = generation
        .poll_interval(FAST, FAST * 4)
        .on_progress(move |p| seen2.lock().unwrap().push(p.clone()))
        .wait()
        .await
        .unwrap();

    // Two checks: pending, then done.
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].attempt, 1);
    assert_eq!(seen[1].state, GenerationState::Done);
    assert_eq!(mock.requests_to("POST", "/imagine/check").len(), 2);
    // The request said what the spec said.
    let sent = mock.requests_to("POST", "/imagine")[0].body_json().unwrap();
    assert_eq!(sent["generation_type"], "text_to_image");
    assert_eq!(sent["aspect_ratio"], "w16h9");
    assert!(
        mock.requests_to("POST", "/imagine")[0]
            .query
            .as_deref()
            .unwrap()
            .contains("return_immediate=true")
    );

    let progress: Arc<Mutex<Vec<u64>>> = Arc::default();
    let progress2 = progress.clone();
    let files = done
        .download(dir.path())
        .on_progress(move |p| progress2.lock().unwrap().push(p.bytes))
        .await
        .unwrap();
    let file = &files.primary;
    assert!(files.secondary.is_empty());
    let bytes = std::fs::read(&file.path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(file.size, bytes.len() as u64);
    assert_eq!(file.sha256, sha256_file(&file.path));
    assert_eq!(file.content_type.as_deref(), Some("image/png"));
    assert_eq!(file.path.parent().unwrap(), dir.path());
    assert_eq!(*progress.lock().unwrap().last().unwrap(), file.size);
    // Only the final file is left in the directory.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[tokio::test]
async fn a_per_type_endpoint_is_polled_with_check_and_secondary_media_are_downloaded() {
    let mock = RostroMock::builder().imagine_checks(1).start().await;
    let client = client(&mock);
    let dir = tempfile::tempdir().unwrap();

    let generation = client
        .imagine()
        .generate_with(
            client
                .models3d()
                .create()
                .body(json!({"prompt": "a chair"})),
        )
        .await
        .unwrap();
    assert_eq!(generation.endpoint(), PollEndpoint::Check);
    let done = generation.poll_interval(FAST, FAST).wait().await.unwrap();
    assert_eq!(mock.requests_to("POST", "/check").len(), 1);
    assert!(mock.requests_to("POST", "/imagine/check").is_empty());
    assert!(done.primary_url().unwrap().ends_with(".glb"));
    let files = done.download(dir.path()).await.unwrap();
    assert_eq!(&std::fs::read(&files.primary.path).unwrap()[..4], b"glTF");

    // Through /imagine the item also lists secondary media. A file path: the primary goes
    // there, the texture beside it.
    let done = client
        .imagine()
        .generate(GenerationSpec::text_to_3d("a chair"))
        .await
        .unwrap()
        .poll_interval(FAST, FAST)
        .wait()
        .await
        .unwrap();
    let target = dir.path().join("chair.glb");
    let files = done.download(&target).await.unwrap();
    assert_eq!(files.primary.path, target);
    assert_eq!(&std::fs::read(&target).unwrap()[..4], b"glTF");
    assert_eq!(files.secondary.len(), 1);
    let texture = &files.secondary[0];
    assert_eq!(texture.label, "texture");
    assert_eq!(texture.path, dir.path().join("chair-texture.png"));
    assert_eq!(texture.sha256, sha256_file(&texture.path));
}

#[tokio::test]
async fn an_image_endpoint_via_check() {
    let mock = RostroMock::builder().imagine_checks(2).start().await;
    let client = client(&mock);
    let done = client
        .imagine()
        .generate_with(client.images().text_to_image().prompt("a fox"))
        .await
        .unwrap()
        .poll_interval(FAST, FAST)
        .wait()
        .await
        .unwrap();
    assert_eq!(mock.requests_to("POST", "/check").len(), 2);
    assert!(done.primary_url().unwrap().ends_with(".png"));
    assert_eq!(done.item().is_done, Some(true));
}

#[tokio::test]
async fn a_failed_generation_is_a_typed_error_with_its_reason() {
    let mock = RostroMock::builder()
        .imagine_checks(1)
        .fail_generations("explicit_text")
        .start()
        .await;
    let client = client(&mock);
    let generation = client
        .imagine()
        .generate(GenerationSpec::text_to_image("something"))
        .await
        .unwrap();
    let uuid = generation.generation_uuid().to_owned();
    let err = generation
        .poll_interval(FAST, FAST)
        .wait()
        .await
        .unwrap_err();
    assert_eq!(err.operation(), Some("check"));
    match media_error(&err) {
        MediaError::GenerationFailed {
            generation_uuid,
            reason,
            ..
        } => {
            assert_eq!(generation_uuid, &uuid);
            assert_eq!(reason, &Some(RejectionReason::ExplicitText));
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("explicit_text"), "{err}");

    // The same through /check, with the per-request header.
    let err = client
        .imagine()
        .generate_with(
            client
                .images()
                .text_to_image()
                .prompt("x")
                .extra_header("x-mock-fail", "out_of_credits"),
        )
        .await
        .unwrap()
        .poll_interval(FAST, FAST)
        .wait()
        .await
        .unwrap_err();
    assert!(matches!(
        media_error(&err),
        MediaError::GenerationFailed {
            reason: Some(RejectionReason::OutOfCredits),
            ..
        }
    ));
}

#[tokio::test]
async fn a_generation_is_resumed_from_its_uuid() {
    let mock = RostroMock::builder().imagine_checks(3).start().await;
    let client = client(&mock);
    let uuid = {
        let generation = client
            .imagine()
            .generate(
                GenerationSpec::text_to_speech("Hello there.").extra_header("x-mock-checks", "3"),
            )
            .await
            .unwrap();
        // One check, then the waiter goes away (dropped future: polling stops).
        let wait = generation.poll_interval(FAST, FAST).wait();
        let _ = tokio::time::timeout(Duration::from_millis(15), wait).await;
        generation_uuid(&mock)
    };
    // The handle is gone: only the uuid is left. A check that was on the wire when the future
    // was dropped may still reach the server; let it land before counting.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let checks_before = mock.requests_to("POST", "/imagine/check").len();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        mock.requests_to("POST", "/imagine/check").len(),
        checks_before,
        "no polling after the future was dropped"
    );

    let resumed = client.imagine().resume(&uuid);
    assert!(resumed.last_status().is_none());
    let done = resumed.poll_interval(FAST, FAST).wait().await.unwrap();
    assert_eq!(done.generation_uuid(), uuid);
    assert!(done.primary_url().unwrap().ends_with(".wav"));
    let dir = tempfile::tempdir().unwrap();
    let files = done.download(dir.path().join("out/")).await.unwrap();
    assert_eq!(files.primary.path.parent().unwrap(), dir.path().join("out"));
    assert_eq!(&std::fs::read(&files.primary.path).unwrap()[..4], b"RIFF");
}

fn generation_uuid(mock: &RostroMock) -> String {
    mock.generations().last().unwrap().generation_uuid.clone()
}

#[tokio::test]
async fn waiting_times_out_with_the_uuid() {
    let mock = RostroMock::builder().imagine_checks(1000).start().await;
    let client = client(&mock);
    let err = client
        .imagine()
        .generate(GenerationSpec::text_to_image("slow"))
        .await
        .unwrap()
        .poll_interval(FAST, FAST)
        .timeout(Duration::from_millis(80))
        .wait()
        .await
        .unwrap_err();
    match media_error(&err) {
        MediaError::WaitTimedOut {
            generation_uuid,
            checks,
            ..
        } => {
            assert_eq!(generation_uuid, &self::generation_uuid(&mock));
            assert!(*checks >= 1);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn invalid_requests_fail_before_anything_is_sent() {
    let mock = RostroMock::start().await;
    let client = client(&mock);
    let cases = [
        (
            GenerationSpec::text_to_music("a shanty").music_type(MusicGenType::Vocals),
            "lyrics",
        ),
        (GenerationSpec::text_to_music("a shanty"), "lyrics"),
        (
            GenerationSpec::image_to_video().prompt("move"),
            "init_image",
        ),
        (GenerationSpec::image_to_3d(), "init_image"),
        (GenerationSpec::text_to_image(""), "prompt"),
        (GenerationSpec::text_to_speech(" "), "transcript"),
        (
            GenerationSpec::text_to_image("x").aspect_ratio("5:7"),
            "aspect_ratio",
        ),
    ];
    for (spec, field) in cases {
        let err = client.imagine().generate(spec).await.unwrap_err();
        match &err {
            Error::InvalidRequest {
                operation, message, ..
            } => {
                assert_eq!(*operation, "imagine");
                assert!(message.contains(&format!("`{field}`")), "{message}");
            }
            other => panic!("expected InvalidRequest for {field}, got {other:?}"),
        }
    }
    assert!(mock.received_requests().is_empty());
}

#[tokio::test]
async fn local_init_images_are_sent_as_data_urls() {
    let mock = RostroMock::builder().imagine_checks(0).start().await;
    let client = client(&mock);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("still.png");
    let png: Vec<u8> = b"\x89PNG\r\n\x1a\n"
        .iter()
        .copied()
        .chain((0..5000u32).map(|i| i as u8))
        .collect();
    std::fs::write(&path, &png).unwrap();

    let done = client
        .imagine()
        .generate(
            GenerationSpec::image_to_video()
                .init_image(ImageInput::path(&path))
                .end_image("https://example.com/end.png")
                .duration(2),
        )
        .await
        .unwrap()
        .poll_interval(FAST, FAST)
        .wait()
        .await
        .unwrap();
    assert!(done.primary_url().unwrap().ends_with(".mp4"));
    let sent = mock.requests_to("POST", "/imagine")[0].body_json().unwrap();
    use base64::Engine;
    let expected = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&png)
    );
    assert_eq!(sent["init_image"], expected);
    assert_eq!(sent["end_image"], "https://example.com/end.png");
    assert_eq!(sent["generation_type"], "image_to_video");
    assert_eq!(mock.generations()[0].generation_type, "image_to_video");
}

#[tokio::test]
async fn an_interrupted_download_leaves_no_file_under_the_final_name() {
    let mock = RostroMock::builder().imagine_checks(0).start().await;
    let client = client(&mock);
    let done = client
        .imagine()
        .generate(GenerationSpec::text_to_image("a cat"))
        .await
        .unwrap()
        .poll_interval(FAST, FAST)
        .wait()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("cat.png");

    mock.inject_fault(
        FaultRule::new(Fault::DropMidBody)
            .times(10)
            .on("GET", "/media/{file}"),
    );
    let err = done.download(&target).max_retries(1).await.unwrap_err();
    assert!(
        matches!(err, Error::Transport { .. } | Error::Media { .. }),
        "{err:?}"
    );
    assert_eq!(
        mock.requests_to("GET", "/media/{file}").len(),
        2,
        "one retry"
    );
    assert!(!target.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no temporary file left behind"
    );

    // Once the connection behaves, the same download completes.
    mock.clear_faults();
    let files = done.download(&target).await.unwrap();
    assert_eq!(&std::fs::read(&target).unwrap()[..4], b"\x89PNG");
    assert_eq!(files.primary.sha256, sha256_file(&target));
}

#[tokio::test]
async fn waiting_with_a_huge_timeout_does_not_panic() {
    // `start + Duration::MAX` used to overflow `Instant`.
    let mock = RostroMock::builder().imagine_checks(2).start().await;
    let client = client(&mock);
    let generation = client
        .imagine()
        .generate_with(
            client
                .models3d()
                .create()
                .body(json!({"prompt": "a chair"})),
        )
        .await
        .unwrap();
    let done = generation
        .poll_interval(FAST, Duration::MAX)
        .timeout(Duration::MAX)
        .wait()
        .await
        .unwrap();
    assert!(done.primary_url().is_some());
}

#[tokio::test]
async fn a_download_goes_through_the_send_path_and_its_retries() {
    let mock = RostroMock::builder().imagine_checks(0).start().await;
    let client = client(&mock);
    let done = a_cat(&client).await;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("cat.png");

    // A 503 before the headers is retried by the client's send path, which numbers its
    // retries (the download's own loop did not).
    mock.inject_fault(
        FaultRule::new(Fault::Status(503))
            .times(1)
            .on("GET", "/media/{file}"),
    );
    let files = done.download(&target).await.unwrap();
    assert_eq!(files.primary.sha256, sha256_file(&target));
    let seen = mock.requests_to("GET", "/media/{file}");
    assert_eq!(seen.len(), 2, "one retry");
    assert_eq!(seen[0].header("x-rostro-retry-count"), None);
    assert_eq!(seen[1].header("x-rostro-retry-count"), Some("1"));

    // A status that is not retryable is final: one request, a typed API error.
    mock.inject_fault(
        FaultRule::new(Fault::Status(404))
            .times(1)
            .on("GET", "/media/{file}"),
    );
    let err = done.download(&target).overwrite(true).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404), "{err:?}");
    assert_eq!(mock.requests_to("GET", "/media/{file}").len(), 3);
}

#[tokio::test]
async fn retries_before_and_after_the_headers_share_one_budget() {
    let mock = RostroMock::builder().imagine_checks(0).start().await;
    let client = client(&mock);
    let done = a_cat(&client).await;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("cat.png");

    // One retry in all: the send path spends it on the 503, so the body cut short after
    // the next headers is final (two retry loops with a count each made three requests).
    let a_503_then_a_cut_body = || {
        for fault in [Fault::Status(503), Fault::DropMidBody] {
            mock.inject_fault(FaultRule::new(fault).on("GET", "/media/{file}"));
        }
    };
    a_503_then_a_cut_body();
    let err = done.download(&target).max_retries(1).await.unwrap_err();
    assert!(
        matches!(err, Error::Transport { .. } | Error::Media { .. }),
        "{err:?}"
    );
    assert_eq!(mock.requests_to("GET", "/media/{file}").len(), 2);
    assert!(!target.exists());

    // With two, the body is fetched again after the cut: three requests, the file whole.
    mock.clear_received();
    a_503_then_a_cut_body();
    let files = done.download(&target).max_retries(2).await.unwrap();
    assert_eq!(files.primary.sha256, sha256_file(&target));
    assert_eq!(mock.requests_to("GET", "/media/{file}").len(), 3);
}

/// A finished text-to-image generation.
async fn a_cat(client: &Client) -> rostro_sdk::media::CompletedGeneration {
    client
        .imagine()
        .generate(GenerationSpec::text_to_image("a cat"))
        .await
        .unwrap()
        .poll_interval(FAST, FAST)
        .wait()
        .await
        .unwrap()
}
