//! The generated builders' contract, over real HTTP against wiremock: required inputs are
//! enforced before sending, per-call options reach the wire, path parameters are encoded,
//! response metadata is exposed, and every call goes through the one retrying runtime.

use rostro_sdk::request::FilePart;
use rostro_sdk::types::{GenerationRequest, GenerationType, RunningGenerationCheck};
use rostro_sdk::{CallOptions, Client, Error, OperationId};
use serde_json::json;
use std::time::Duration;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn setup() -> (MockServer, Client) {
    let server = MockServer::start().await;
    let client = Client::builder()
        .api_key("sk-builder-test")
        .base_url(server.uri())
        .mimic_base_url(server.uri())
        .initial_retry_delay(Duration::from_millis(1))
        .max_retry_delay(Duration::from_millis(5))
        .build()
        .expect("client");
    (server, client)
}

#[tokio::test]
async fn a_missing_required_input_fails_before_any_request() {
    let (server, client) = setup().await;
    // `POST /stt` requires the `sample` file.
    let err = client
        .audio()
        .transcribe()
        .send()
        .await
        .expect_err("sample is required");
    match &err {
        Error::InvalidRequest {
            operation, message, ..
        } => {
            assert_eq!(*operation, "speech_to_text_stt_post");
            assert!(message.contains("sample"), "{message}");
        }
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
    assert!(err.to_string().contains("sample"), "{err}");
    // A required JSON body (`DELETE /engine/api/assets` takes a list of ids).
    let err = client
        .engine_assets()
        .delete_many()
        .send()
        .await
        .expect_err("the body is required");
    assert!(err.to_string().contains("body"), "{err}");
    let received = server.received_requests().await.expect("recording on");
    assert!(received.is_empty(), "nothing may be sent: {received:?}");
}

#[tokio::test]
async fn a_multipart_form_streams_its_file_part() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/stt"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "text": "hello there" })))
        .expect(1)
        .mount(&server)
        .await;
    let dir = std::env::temp_dir().join(format!("rostro-sdk-stt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("voice.wav");
    std::fs::write(&file, b"RIFF....WAVEfmt sample-bytes").expect("write sample");
    client
        .audio()
        .transcribe()
        .sample(FilePart::from_path(&file))
        .send()
        .await
        .expect("transcribe succeeds");
    let received = server.received_requests().await.expect("recording on");
    let body = String::from_utf8_lossy(&received[0].body);
    let ct = received[0]
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(ct.starts_with("multipart/form-data; boundary="), "{ct}");
    assert!(
        body.contains("name=\"sample\"; filename=\"voice.wav\""),
        "{body}"
    );
    assert!(body.contains("RIFF....WAVEfmt sample-bytes"), "{body}");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn body_fields_set_one_by_one_arrive_as_the_typed_json_body() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/imagine/check"))
        .and(body_json(json!({ "generation_uuid": "gen-123" })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "generation_uuid": "gen-123", "is_done": true, "is_failed": false,
            "primary_media_url": "https://cdn.example/x.png", "brand_new_field": [1, 2]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let item = client
        .imagine()
        .check()
        .generation_uuid("gen-123")
        .send()
        .await
        .expect("check succeeds");
    assert_eq!(item.generation_uuid.as_deref(), Some("gen-123"));
    assert_eq!(item.is_done, Some(true));
    assert_eq!(
        item.primary_media_url.as_deref(),
        Some("https://cdn.example/x.png")
    );
}

#[tokio::test]
async fn a_whole_body_and_query_parameters_and_enums_serialize_as_the_api_spells_them() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/imagine"))
        .and(query_param("return_immediate", "true"))
        .and(body_json(json!({ "prompt": "a lighthouse at dusk", "generation_type": "text_to_image", "aspect_ratio": "w16h9" })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "generation_uuid": "g-1", "is_done": false })))
        .expect(1)
        .mount(&server)
        .await;
    let body = GenerationRequest {
        prompt: Some("a lighthouse at dusk".into()),
        generation_type: Some(GenerationType::TextToImage),
        aspect_ratio: Some("w16h9".into()),
        ..Default::default()
    };
    let item = client
        .imagine()
        .create()
        .return_immediate(true)
        .body(body)
        .send()
        .await
        .expect("imagine succeeds");
    assert_eq!(item.generation_uuid.as_deref(), Some("g-1"));
}

#[tokio::test]
async fn unknown_enum_values_decode_and_reencode_unchanged() {
    let t: GenerationType = serde_json::from_value(json!("text_to_hologram")).expect("decodes");
    assert_eq!(t, GenerationType::Unknown("text_to_hologram".into()));
    assert!(!t.is_known());
    assert_eq!(
        serde_json::to_value(&t).expect("encodes"),
        json!("text_to_hologram")
    );
    assert_eq!(
        GenerationType::from("text_to_video"),
        GenerationType::TextToVideo
    );
    assert!(GenerationType::KNOWN.contains(&"image_to_3d"));
}

#[tokio::test]
async fn path_parameters_are_encoded_as_one_segment() {
    let (server, client) = setup().await;
    Mock::given(method("DELETE"))
        .and(path("/api/gallery/a%2Fb%20c"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "success": true })))
        .expect(1)
        .mount(&server)
        .await;
    client
        .gallery()
        .delete("a/b c")
        .send()
        .await
        .expect("delete succeeds");
}

#[tokio::test]
async fn per_call_options_reach_the_wire_and_metadata_comes_back() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/api/gallery/project/172700"))
        .and(query_param("page", "2"))
        .and(query_param("trace", "on"))
        .and(header("x-custom", "yes"))
        .and(header("authorization", "Bearer sk-builder-test"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-request-id", "req-77")
                .insert_header("x-ratelimit-remaining", "41")
                .set_body_json(json!({ "count": 1, "page": 2, "nodes": [{ "uuid": "img-1", "primary_image_path": "/img.png" }] })),
        )
        .expect(1)
        .mount(&server)
        .await;
    let response = client
        .gallery()
        .list_for_project(172700)
        .page(2)
        .extra_query("trace", "on")
        .extra_header("x-custom", "yes")
        .request_timeout(Duration::from_secs(5))
        .send_with_response()
        .await
        .expect("list succeeds");
    assert_eq!(response.meta().request_id.as_deref(), Some("req-77"));
    assert_eq!(
        response
            .meta()
            .rate_limit
            .as_ref()
            .and_then(|r| r.remaining),
        Some(41)
    );
    let gallery = response.into_inner();
    let nodes = gallery.nodes.expect("nodes");
    assert_eq!(nodes[0].uuid.as_deref(), Some("img-1"));
    assert_eq!(nodes[0].primary_image_path.as_deref(), Some("/img.png"));
}

#[tokio::test]
async fn generated_calls_retry_through_the_runtime() {
    let (server, client) = setup().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "data": [{ "id": "asha", "object": "model" }] })),
        )
        .mount(&server)
        .await;
    let response = client
        .models()
        .list()
        .send_with_response()
        .await
        .expect("second attempt succeeds");
    assert_eq!(response.meta().attempts, 2);
    let models = response.into_inner();
    assert_eq!(models.data[0].id, "asha");
}

#[tokio::test]
async fn api_errors_from_generated_calls_are_typed() {
    let (server, client) = setup().await;
    Mock::given(method("POST"))
        .and(path("/imagine/check"))
        .respond_with(
            ResponseTemplate::new(404).set_body_json(
                json!({ "error": "no such generation", "errorCode": 404, "code": 0 }),
            ),
        )
        .mount(&server)
        .await;
    let err = client
        .imagine()
        .check()
        .body(RunningGenerationCheck {
            generation_uuid: Some("missing".into()),
            ..Default::default()
        })
        .send()
        .await
        .expect_err("404");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(err.operation(), Some("check"));
    assert!(err.to_string().contains("no such generation"), "{err}");
}

#[test]
fn the_operation_table_lists_every_operation_once() {
    assert_eq!(
        OperationId::ALL.len(),
        219,
        "default features include the engine API"
    );
    let mut ids: Vec<&str> = OperationId::ALL.iter().map(|o| o.operation().id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 219);
    assert_eq!(
        OperationId::from_spec_id("check").map(|o| o.group_and_method()),
        Some(("imagine", "check"))
    );
    let op = OperationId::GalleryListForProject.operation();
    assert_eq!(op.path, "/api/gallery/project/{project_id}");
}
