//! `FilePart`, the one file type of every upload, against the mock: a reader sent by a
//! generated builder (once, never replayed), the chunked upload refusing what is not a file on
//! disk, and a part given to a generation as an image input.

mod common;

use std::path::Path;

use base64::Engine as _;
use rostro_mock::{Fault, FaultRule, RostroMock};
use rostro_sdk::media::GenerationSpec;
use rostro_sdk::request::FilePart;
use rostro_sdk::{CallOptions, Error};
use sha2::{Digest, Sha256};

use common::client;

fn reader_of(data: &[u8]) -> FilePart {
    FilePart::from_reader(std::io::Cursor::new(data.to_vec()), data.len() as u64)
        .file_name("clip.wav")
}

#[tokio::test]
async fn a_reader_part_on_a_generated_builder_is_streamed_once() {
    let mock = RostroMock::start().await;
    let client = client(&mock);
    let data: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();

    let answer = client
        .audio()
        .transcribe()
        .sample(reader_of(&data))
        .send()
        .await
        .unwrap();
    assert!(
        answer
            .reference_text
            .as_deref()
            .unwrap()
            .contains("clip.wav (70000 bytes)"),
        "{answer:?}"
    );
    let record = mock.uploads().pop().unwrap();
    assert_eq!(record.field.as_deref(), Some("sample"));
    assert_eq!(record.filename.as_deref(), Some("clip.wav"));
    assert_eq!(record.content_type.as_deref(), Some("audio/wav"));
    assert_eq!(record.sha256, hex::encode(Sha256::digest(&data)));

    // A reader is read once, so a failed attempt is not retried by default (though the
    // idempotency key would allow it)...
    mock.inject_fault(FaultRule::new(Fault::Status(503)).on("POST", "/stt"));
    let err = client
        .audio()
        .transcribe()
        .sample(reader_of(&data))
        .idempotency_key("stt-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503), "{err:?}");
    assert_eq!(mock.attempts("POST", "/stt"), 2);

    // ...and a retry asked for fails before sending anything else.
    mock.inject_fault(FaultRule::new(Fault::Status(503)).on("POST", "/stt"));
    let err = client
        .audio()
        .transcribe()
        .sample(reader_of(&data))
        .idempotency_key("stt-2")
        .max_retries(2)
        .send()
        .await
        .unwrap_err();
    match &err {
        Error::Io { source, .. } => assert!(source.to_string().contains("consumed"), "{err}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(mock.attempts("POST", "/stt"), 3);
}

#[tokio::test]
async fn a_chunked_upload_needs_a_file_on_disk() {
    let mock = RostroMock::start().await;
    let client = client(&mock);
    for file in [
        FilePart::from_bytes("scene.glb", vec![7u8; 4096]),
        FilePart::from_reader(tokio::io::empty(), 0),
    ] {
        let err = client
            .engine_upload()
            .upload_file(file)
            .send()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidRequest { message, .. } if message.contains("from_path")),
            "{err:?}"
        );
    }
    assert!(mock.received_requests().is_empty());
}

#[tokio::test]
async fn a_file_part_is_an_image_input_with_its_content_type() {
    let mock = RostroMock::builder().imagine_checks(0).start().await;
    let client = client(&mock);
    let image = b"RIFF\0\0\0\0WEBPVP8 tiny".to_vec();
    let generation =
        client
            .imagine()
            .generate(GenerationSpec::image_to_image("brighter").init_image(
                FilePart::from_bytes("still", image.clone()).content_type("image/webp"),
            ))
            .await
            .unwrap();
    assert!(!generation.generation_uuid().is_empty());
    let sent = mock.requests_to("POST", "/imagine")[0].body_json().unwrap();
    let expected = format!(
        "data:image/webp;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&image)
    );
    assert_eq!(sent["init_image"], expected);
}

#[test]
fn only_a_path_part_has_a_path() {
    let path = Path::new("dir/cover.png");
    let from_path = FilePart::from(path);
    assert_eq!(from_path.path(), Some(path));
    assert_eq!(
        (from_path.name(), from_path.mime()),
        (Some("cover.png"), "image/png")
    );
    assert_eq!(FilePart::from_bytes("cover.png", &b"x"[..]).path(), None);
    assert_eq!(FilePart::from_reader(tokio::io::empty(), 0).path(), None);
}
