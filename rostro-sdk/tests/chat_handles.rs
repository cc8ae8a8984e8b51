//! The mimic completion handles (`chat`, `completions`, `prompt`) share one `create` and one
//! `stream` definition: each still reaches its own route, sends its own body and decodes its
//! own answer.

use rostro_sdk::Client;
use rostro_sdk::chat::{ChatCompletionRequest, CompletionRequest, Message};
use serde_json::json;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn chat_answer(text: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "c1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]
    }))
}

fn text_answer(text: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "t1", "object": "text_completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "text": text, "finish_reason": "stop"}]
    }))
}

async fn mount(
    server: &MockServer,
    route: &str,
    body: serde_json::Value,
    answer: ResponseTemplate,
) {
    Mock::given(method("POST"))
        .and(path(route))
        .and(body_partial_json(body))
        .respond_with(answer)
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn every_create_method_reaches_its_own_route() {
    let server = MockServer::start().await;
    mount(
        &server,
        "/v1/chat/completions",
        json!({"model": "m"}),
        chat_answer("chat"),
    )
    .await;
    mount(
        &server,
        "/other/v1/chat/completions",
        json!({"model": "m"}),
        chat_answer("chat for model"),
    )
    .await;
    mount(
        &server,
        "/v1/completions",
        json!({"prompt": "once"}),
        text_answer("text"),
    )
    .await;
    mount(
        &server,
        "/other/v1/completions",
        json!({"prompt": "once"}),
        text_answer("text for model"),
    )
    .await;
    mount(
        &server,
        "/prompt",
        json!({"model": "m"}),
        chat_answer("prompt"),
    )
    .await;

    let client = Client::builder()
        .api_key("sk-test")
        .base_url(server.uri())
        .mimic_base_url(server.uri())
        .max_retries(0)
        .build()
        .unwrap();
    let chat = || ChatCompletionRequest::new("m", vec![Message::user("hi")]);
    let text = || CompletionRequest::new("m", "once");

    let a = client.chat().create(chat()).await.unwrap();
    assert_eq!(a.content(), Some("chat"));
    let a = client
        .chat()
        .create_for_model("other", chat())
        .await
        .unwrap();
    assert_eq!(a.content(), Some("chat for model"));
    let a = client.completions().create(text()).await.unwrap();
    assert_eq!(a.text(), Some("text"));
    let a = client
        .completions()
        .create_for_model("other", text())
        .await
        .unwrap();
    assert_eq!(a.text(), Some("text for model"));
    let a = client.prompt().create(chat()).await.unwrap();
    assert_eq!(a.content(), Some("prompt"));
    // Each route was called exactly once (`expect(1)`), checked when the server drops.
}

fn sse(events: &[serde_json::Value]) -> ResponseTemplate {
    let mut body: String = events.iter().map(|e| format!("data: {e}\n\n")).collect();
    body.push_str("data: [DONE]\n\n");
    ResponseTemplate::new(200).set_body_raw(body, "text/event-stream")
}

fn chat_chunk(text: &str) -> ResponseTemplate {
    sse(&[json!({
        "id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": "stop"}]
    })])
}

fn text_chunk(text: &str) -> ResponseTemplate {
    sse(&[json!({
        "id": "t1", "object": "text_completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "text": text, "finish_reason": "stop"}]
    })])
}

#[tokio::test]
async fn every_stream_method_reaches_its_own_route() {
    let server = MockServer::start().await;
    let streamed = |extra: serde_json::Value| {
        let mut body = json!({"stream": true});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    for (route, body, answer) in [
        (
            "/v1/chat/completions",
            json!({"model": "m"}),
            chat_chunk("chat"),
        ),
        (
            "/other/v1/chat/completions",
            json!({"model": "m"}),
            chat_chunk("chat for model"),
        ),
        (
            "/v1/completions",
            json!({"prompt": "once"}),
            text_chunk("text"),
        ),
        (
            "/other/v1/completions",
            json!({"prompt": "once"}),
            text_chunk("text for model"),
        ),
        ("/prompt", json!({"model": "m"}), chat_chunk("prompt")),
    ] {
        mount(&server, route, streamed(body), answer).await;
    }
    let client = Client::builder()
        .api_key("sk-test")
        .mimic_base_url(server.uri())
        .max_retries(0)
        .build()
        .unwrap();
    let chat = || ChatCompletionRequest::new("m", vec![Message::user("hi")]);
    let text = || CompletionRequest::new("m", "once");

    let s = client.chat().stream(chat()).await.unwrap();
    assert_eq!(
        s.collect_completion().await.unwrap().content(),
        Some("chat")
    );
    let s = client
        .chat()
        .stream_for_model("other", chat())
        .await
        .unwrap();
    assert_eq!(
        s.collect_completion().await.unwrap().content(),
        Some("chat for model")
    );
    let s = client.completions().stream(text()).await.unwrap();
    assert_eq!(s.collect_completion().await.unwrap().text(), Some("text"));
    let s = client
        .completions()
        .stream_for_model("other", text())
        .await
        .unwrap();
    assert_eq!(
        s.collect_completion().await.unwrap().text(),
        Some("text for model")
    );
    let s = client.prompt().stream(chat()).await.unwrap();
    assert_eq!(
        s.collect_completion().await.unwrap().content(),
        Some("prompt")
    );
}
