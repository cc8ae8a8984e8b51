//! `/prompt`'s generated builder takes the chat module's own types (one type per concept):
//! the messages, tools, tool choice, stop and response format it sends are the same JSON the
//! chat API sends for them.

use rostro_sdk::Client;
use rostro_sdk::chat::{
    AssistantAudio, AssistantMessage, ContentPart, Message, ResponseFormat, Stop, StructuralTag,
    Tool, ToolChoice,
};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn the_prompt_builder_sends_the_chat_types() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/prompt"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder()
        .api_key("sk-test")
        .base_url(server.uri())
        .mimic_base_url(server.uri())
        .max_retries(0)
        .build()
        .unwrap();

    let spoken = Message::Assistant(AssistantMessage {
        audio: Some(AssistantAudio {
            id: "audio_1".into(),
        }),
        ..Default::default()
    });
    client
        .prompt()
        .create_untyped()
        .model("mars")
        .messages(vec![
            Message::developer("Be brief."),
            Message::user_parts(vec![
                ContentPart::text("What is this?"),
                ContentPart::image_url("https://example.com/a.png"),
            ]),
            spoken,
            Message::tool("call_1", "{}"),
        ])
        .tools(vec![Tool::function(
            "f",
            "does f",
            json!({"type": "object"}),
        )])
        .tool_choice(ToolChoice::function("f"))
        .stop(Stop::from(vec!["\n", "END"]))
        .response_format(ResponseFormat::StructuralTag {
            structures: vec![StructuralTag {
                begin: "<f>".into(),
                schema: Some(json!({"type": "object"})),
                end: "</f>".into(),
            }],
            triggers: vec!["<f".into()],
        })
        .send()
        .await
        .unwrap();

    let sent = server.received_requests().await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(
        body["messages"],
        json!([
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
            ]},
            {"role": "assistant", "audio": {"id": "audio_1"}},
            {"role": "tool", "content": "{}", "tool_call_id": "call_1"}
        ])
    );
    assert_eq!(
        body["tools"],
        json!([{"type": "function", "function": {
            "name": "f", "description": "does f", "parameters": {"type": "object"}
        }}])
    );
    assert_eq!(
        body["tool_choice"],
        json!({"type": "function", "function": {"name": "f"}})
    );
    assert_eq!(body["stop"], json!(["\n", "END"]));
    assert_eq!(
        body["response_format"],
        json!({
            "type": "structural_tag",
            "structures": [{"begin": "<f>", "schema": {"type": "object"}, "end": "</f>"}],
            "triggers": ["<f"]
        })
    );
}

#[test]
fn the_spec_examples_of_the_folded_schemas_decode_into_the_chat_types() {
    // The reference's own samples of `ChatCompletionAssistantMessageParam` (with `audio`) and
    // `StructuralTagResponseFormat`: nothing the API accepts is lost in the hand-written types.
    let assistant: Message = serde_json::from_value(json!({
        "role": "assistant", "audio": {"id": "string"}, "content": "string",
        "function_call": {"arguments": "string", "name": "string"}, "name": "string",
        "refusal": "string",
        "tool_calls": [{"id": "string", "function": {"arguments": "string", "name": "string"}, "type": "function"}]
    }))
    .unwrap();
    let Message::Assistant(m) = &assistant else {
        panic!("not an assistant message: {assistant:?}");
    };
    assert_eq!(m.audio.as_ref().map(|a| a.id.as_str()), Some("string"));
    assert_eq!(m.tool_calls.as_ref().map(Vec::len), Some(1));
    assert_eq!(
        m.function_call.as_ref().map(|f| f.name.as_str()),
        Some("string")
    );

    let format: ResponseFormat = serde_json::from_value(json!({
        "type": "structural_tag",
        "structures": [{"begin": "string", "schema": {}, "end": "string"}],
        "triggers": ["string"]
    }))
    .unwrap();
    let ResponseFormat::StructuralTag {
        structures,
        triggers,
    } = format
    else {
        panic!("not a structural tag: {format:?}");
    };
    assert_eq!((structures.len(), triggers.len()), (1, 1));
    assert_eq!(structures[0].schema, Some(json!({})));

    // vLLM's tool (`type` defaults to `function`) and named tool choice shapes.
    let tool: Tool = serde_json::from_value(json!({"function": {"name": "f"}})).unwrap();
    assert_eq!(
        (tool.kind.as_str(), tool.function.name.as_str()),
        ("function", "f")
    );
    let choice: ToolChoice =
        serde_json::from_value(json!({"function": {"name": "f"}, "type": "function"})).unwrap();
    assert_eq!(choice, ToolChoice::function("f"));
}
