//! The model list (`client.models().list()`, `GET /v1/models`) decodes field by field without
//! serde's `flatten` buffering: checked over real HTTP against a wiremock server answering
//! with bodies shaped to probe it.

use rostro_sdk::{Client, Error};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn answering(body: &str) -> (MockServer, Client) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/models"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body.to_owned(), "application/json"))
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(server.uri())
        .max_retries(0)
        .build()
        .unwrap();
    (server, client)
}

#[tokio::test]
async fn unknown_fields_are_kept_at_every_level_and_missing_ones_take_defaults() {
    let body = json!({
        "object": "list",
        "data": [
            {"id": "mixtral", "object": "model", "created": 1732250000, "owned_by": "rostro",
             "architecture": {"modality": "text->text", "input_modalities": ["text"], "quirk": 1},
             "sats_pricing": {"prompt": "0.002", "max_cost": 40, "per_pixel": 0.5},
             "top_provider": {"context_length": 8192, "region": "eu"}},
            {"name": "no id", "enabled": false}
        ],
        "next": null
    });
    let (_server, client) = answering(&body.to_string()).await;
    let list = client.models().list().send().await.unwrap();

    assert_eq!(list.extra.get("object"), Some(&json!("list")));
    assert_eq!(list.extra.get("next"), Some(&json!(null)));
    assert_eq!(list.data.len(), 2);
    let m = &list.data[0];
    assert_eq!((m.id.as_str(), m.created), ("mixtral", Some(1_732_250_000)));
    assert_eq!(m.owned_by.as_deref(), Some("rostro"));
    assert_eq!(m.extra.get("object"), Some(&json!("model")));
    let arch = m.architecture.as_ref().unwrap();
    assert_eq!(arch.input_modalities, ["text"]);
    assert_eq!(arch.extra.get("quirk"), Some(&json!(1)));
    let sats = m.sats_pricing.as_ref().unwrap();
    assert_eq!(sats.prompt.as_ref().unwrap().as_str(), "0.002");
    assert_eq!(sats.extra.get("per_pixel"), Some(&json!(0.5)));
    let top = m.top_provider.as_ref().unwrap();
    assert_eq!(top.context_length, Some(8192));
    assert_eq!(top.extra.get("region"), Some(&json!("eu")));
    // The second model: absent fields are the defaults, nothing invented.
    let bare = &list.data[1];
    assert_eq!(bare.id, "");
    assert_eq!(bare.name.as_deref(), Some("no id"));
    assert_eq!(bare.enabled, Some(false));
    assert!(bare.architecture.is_none() && bare.extra.is_empty());
}

#[tokio::test]
async fn escaped_keys_are_read_as_their_text() {
    // `"i\u0064"` is `"id"`, `"ob\u006aect"` an unknown `"object"`: keys that cannot be
    // borrowed from the body still land where their text says.
    let (_server, client) =
        answering(r#"{"data":[{"i\u0064":"asha","ob\u006aect":"model"}]}"#).await;
    let list = client.models().list().send().await.unwrap();
    assert_eq!(list.data[0].id, "asha");
    assert_eq!(list.data[0].extra.get("object"), Some(&json!("model")));
}

#[tokio::test]
async fn a_repeated_field_or_a_wrong_type_is_a_decode_error_with_its_path() {
    let (_server, client) = answering(r#"{"data":[{"id":"a","id":"b"}]}"#).await;
    match client.models().list().send().await.unwrap_err() {
        Error::Decode { path, message, .. } => {
            assert_eq!(path, "data[0]");
            assert!(message.contains("duplicate field `id`"), "{message}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }

    let (_server, client) = answering(r#"{"data":[{"id":"a","created":"soon"}]}"#).await;
    match client.models().list().send().await.unwrap_err() {
        Error::Decode { path, message, .. } => {
            assert_eq!(path, "data[0].created");
            assert!(message.contains("invalid type"), "{message}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }

    let (_server, client) = answering(r#"{"data":{"id":"a"}}"#).await;
    match client.models().list().send().await.unwrap_err() {
        Error::Decode { path, .. } => assert_eq!(path, "data"),
        other => panic!("expected a decode error, got {other:?}"),
    }
}
