//! The chat request and response types on their own: JSON shapes sent, lenient decoding.

use rostro_sdk::chat::{
    ChatAccumulator, ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, ContentPart,
    FinishReason, Message, Prompt, ResponseFormat, Role, Stop, Tool, ToolCall, ToolChoice,
    UserLocation, WebSearchOptions,
};
use serde_json::{Value, json};

fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap()
}

#[test]
fn messages_are_tagged_by_role() {
    let messages = vec![
        Message::system("sys").with_name("rules"),
        Message::developer("dev"),
        Message::user("hi"),
        Message::user_parts(vec![
            ContentPart::text("look"),
            ContentPart::image_url("data:image/png;base64,AAAA"),
            ContentPart::input_audio("UklGRg==", "wav"),
            ContentPart::file_data("a.pdf", "data:application/pdf;base64,JVBE"),
        ]),
        Message::assistant("hello"),
        Message::assistant_tool_calls(vec![ToolCall::function("call_1", "f", "{}")]),
        Message::tool("call_1", "{\"ok\":true}"),
        Message::function("f", "42"),
    ];
    let json = to_json(&messages);
    assert_eq!(
        json,
        json!([
            {"role": "system", "content": "sys", "name": "rules"},
            {"role": "developer", "content": "dev"},
            {"role": "user", "content": "hi"},
            {"role": "user", "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
                {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBE", "filename": "a.pdf"}}
            ]},
            {"role": "assistant", "content": "hello"},
            {"role": "assistant", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ]},
            {"role": "tool", "content": "{\"ok\":true}", "tool_call_id": "call_1"},
            {"role": "function", "name": "f", "content": "42"}
        ])
    );
    let back: Vec<Message> = serde_json::from_value(json).unwrap();
    assert_eq!(back, messages);
    let roles: Vec<Role> = back.iter().map(Message::role).collect();
    assert_eq!(roles[1], Role::Developer);
    assert_eq!(back[3].text().as_deref(), Some("look"));
}

#[test]
fn tool_choice_and_response_format_shapes() {
    assert_eq!(to_json(&ToolChoice::None), json!("none"));
    assert_eq!(to_json(&ToolChoice::Auto), json!("auto"));
    assert_eq!(to_json(&ToolChoice::Required), json!("required"));
    assert_eq!(
        to_json(&ToolChoice::function("f")),
        json!({"type": "function", "function": {"name": "f"}})
    );
    for v in [
        json!("auto"),
        json!({"type": "function", "function": {"name": "f"}}),
        json!({"name": "f"}),
    ] {
        let c: ToolChoice = serde_json::from_value(v).unwrap();
        assert!(matches!(c, ToolChoice::Auto | ToolChoice::Function(_)));
    }
    assert_eq!(
        serde_json::from_value::<ToolChoice>(json!("any")).unwrap(),
        ToolChoice::Other("any".into())
    );
    assert_eq!(to_json(&ResponseFormat::Text), json!({"type": "text"}));
    assert_eq!(
        to_json(&ResponseFormat::json_schema("a", json!({"type": "object"}))),
        json!({"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}, "strict": true}})
    );
    let tool = Tool::function("f", "does f", json!({"type": "object"})).strict(true);
    assert_eq!(
        to_json(&tool),
        json!({"type": "function", "function": {"name": "f", "description": "does f", "parameters": {"type": "object"}, "strict": true}})
    );
}

#[test]
fn request_options_serialize_only_when_set() {
    let bare = ChatCompletionRequest::new("m", vec![Message::user("x")]);
    assert_eq!(
        to_json(&bare),
        json!({"model": "m", "messages": [{"role": "user", "content": "x"}]})
    );
    let full = bare
        .clone()
        .top_p(0.9)
        .n(2)
        .stop(["a", "b"])
        .max_tokens(5)
        .max_completion_tokens(6)
        .presence_penalty(0.1)
        .frequency_penalty(0.2)
        .logprobs(true, Some(3))
        .user("u1")
        .tool(Tool::function("f", "d", json!({})))
        .tool_choice(ToolChoice::Required)
        .parallel_tool_calls(false)
        .web_search_options(WebSearchOptions {
            search_context_size: Some("low".into()),
            user_location: Some(UserLocation::approximate(Default::default())),
        });
    let j = to_json(&full);
    assert_eq!(j["stop"], json!(["a", "b"]));
    assert_eq!(j["tool_choice"], "required");
    assert_eq!(j["top_logprobs"], 3);
    assert_eq!(
        j["web_search_options"],
        json!({"search_context_size": "low", "user_location": {"type": "approximate", "approximate": {}}})
    );
    let back: ChatCompletionRequest = serde_json::from_value(j).unwrap();
    assert_eq!(back, full);
    assert_eq!(Stop::from("x"), Stop::One("x".into()));
    assert_eq!(Prompt::from(vec![1u32, 2]), Prompt::Tokens(vec![1, 2]));
}

#[test]
fn responses_decode_leniently() {
    let c: ChatCompletion = serde_json::from_value(json!({
        "choices": [{"message": {"content": "x", "role": "critic"}, "finish_reason": "max_output_tokens"}],
        "usage": {"prompt_tokens": 1.0, "completion_tokens": "2", "total_tokens": null},
        "whatever": {"nested": [1, 2]}
    }))
    .unwrap();
    assert_eq!(c.content(), Some("x"));
    assert_eq!(c.choices[0].message.role, Role::Unknown("critic".into()));
    assert_eq!(
        c.finish_reason(),
        Some(&FinishReason::Unknown("max_output_tokens".into()))
    );
    let usage = c.usage.unwrap();
    assert_eq!(
        (
            usage.prompt_tokens,
            usage.completion_tokens,
            usage.total_tokens
        ),
        (1, 2, 0)
    );
    assert_eq!(
        to_json(&FinishReason::Unknown("eos".into())),
        json!("eos"),
        "unknown values re-encode unchanged"
    );
    let empty: ChatCompletion = serde_json::from_str("{}").unwrap();
    assert!(empty.choices.is_empty() && empty.content().is_none());
}

#[test]
fn accumulator_joins_tool_calls_by_index() {
    let chunks = [
        json!({"id": "c", "model": "m", "created": 5, "choices": [{"index": 0, "delta": {"role": "assistant", "tool_calls": [
            {"index": 1, "id": "call_b", "type": "function", "function": {"name": "second", "arguments": ""}},
            {"index": 0, "id": "call_a", "type": "function", "function": {"name": "first", "arguments": "{\"a\""}}
        ]}}]}),
        json!({"choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": 1, "function": {"arguments": "{}"}},
            {"index": 0, "function": {"arguments": ":1}"}}
        ]}}]}),
        json!({"choices": [{"index": 1, "delta": {"content": "other choice"}, "finish_reason": "stop"}]}),
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
        json!({"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}}),
    ];
    let mut acc = ChatAccumulator::new();
    for c in &chunks {
        acc.push(&serde_json::from_value::<ChatCompletionChunk>(c.clone()).unwrap());
    }
    assert_eq!(acc.chunk_count(), 5);
    assert_eq!(acc.text(), "other choice");
    let done = acc.finish();
    assert_eq!(
        (done.id.as_str(), done.model.as_str(), done.created),
        ("c", "m", 5)
    );
    assert_eq!(done.choices.len(), 2);
    let calls = done.tool_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        (calls[0].id.as_str(), calls[0].function.name.as_str()),
        ("call_a", "first")
    );
    assert_eq!(calls[0].function.arguments, "{\"a\":1}");
    assert_eq!(
        (calls[1].id.as_str(), calls[1].function.arguments.as_str()),
        ("call_b", "{}")
    );
    assert_eq!(done.finish_reason(), Some(&FinishReason::ToolCalls));
    assert_eq!(
        done.choices[1].message.content.as_deref(),
        Some("other choice")
    );
    assert_eq!(done.usage.unwrap().total_tokens, 3);
}

#[test]
fn streams_calls_and_futures_are_send() {
    use rostro_sdk::Client;
    use rostro_sdk::chat::{ChatCall, ChatStream, CompletionRequest, CompletionStream};

    fn send_sync<T: Send + Sync + Unpin + 'static>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<ChatStream>();
    send_sync::<CompletionStream>();
    send_sync::<ChatCall>();

    let client = Client::builder().build().unwrap();
    let req = ChatCompletionRequest::new("m", vec![Message::user("x")]);
    let chat = client.chat();
    send(&chat.stream(req.clone()));
    send(&chat.create(req.clone()));
    send(&chat.request(req.clone()).stream());
    let completions = client.completions();
    send(&completions.stream(CompletionRequest::new("m", "x")));
    let prompt = client.prompt();
    send(&prompt.stream(req));
}
