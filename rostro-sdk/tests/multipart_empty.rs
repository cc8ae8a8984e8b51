//! A multipart operation called without any field sends a well-formed (empty) form, which a
//! real multipart parser (the mock's) accepts.

use rostro_mock::RostroMock;
use rostro_sdk::Client;

#[tokio::test]
async fn a_form_without_fields_is_still_a_multipart_body() {
    let mock = RostroMock::start().await;
    let client = Client::builder()
        .api_key("test-key")
        .base_url(mock.uri())
        .max_retries(0)
        .build()
        .unwrap();
    client
        .voices()
        .clone_voice()
        .send()
        .await
        .expect("the mock parses the empty form");
    let sent = mock.requests_to("POST", "/voice_clone");
    assert_eq!(sent.len(), 1);
    let ct = sent[0]
        .header("content-type")
        .unwrap_or_default()
        .to_string();
    assert!(ct.starts_with("multipart/form-data; boundary="), "{ct}");
    let boundary = ct.split_once("boundary=").unwrap().1;
    assert!(sent[0].body_len > 0, "not a zero-length body");
    assert_eq!(sent[0].status, 200);
    assert!(boundary.len() >= 8);
}
