//! The typed chat layer against the reference mock (`rostro-mock`) over real HTTP: create,
//! stream, accumulation, tool calls, stream scenarios, per-model routes, completions and
//! `/prompt`.

use std::time::Duration;

use futures::StreamExt;
use rostro_mock::{ChatScenario, RostroMock};
use rostro_sdk::chat::{
    ChatCompletion, ChatCompletionRequest, CompletionRequest, FinishReason, Message, Role,
    StreamEnd, Tool, ToolChoice,
};
use rostro_sdk::{ApiErrorBody, CallOptions, Client, Error};
use serde_json::{Value, json};

/// A client for the mock. The mock serves the mimic routes at its root (`/v1/...`,
/// `/{model}/v1/...`); `mock.mimic_uri()` is the `.../v1` base for clients that append
/// `/chat/completions` themselves, which this SDK does not.
fn client(mock: &RostroMock) -> Client {
    Client::builder()
        .api_key("test-key")
        .base_url(mock.uri())
        .mimic_base_url(mock.uri())
        .max_retries(0)
        .build()
        .unwrap()
}

fn hello() -> ChatCompletionRequest {
    ChatCompletionRequest::new(
        "mixtral",
        vec![
            Message::system("You echo."),
            Message::user("hello streaming world"),
        ],
    )
}

const ECHO: &str = "echo: hello streaming world";

fn weather_tool() -> Tool {
    Tool::function(
        "get_weather",
        "Current weather for a city",
        json!({
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer"}
            },
            "required": ["city"]
        }),
    )
}

fn time_tool() -> Tool {
    Tool::function(
        "get_time",
        "Current time in a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}}),
    )
}

#[tokio::test]
async fn create_returns_the_echo_with_usage() {
    let mock = RostroMock::start().await;
    let completion = client(&mock).chat().create(hello()).await.unwrap();
    assert_eq!(completion.content(), Some(ECHO));
    assert_eq!(completion.finish_reason(), Some(&FinishReason::Stop));
    assert_eq!(completion.object, "chat.completion");
    assert_eq!(completion.model, "mixtral");
    assert_eq!(completion.choices[0].message.role, Role::Assistant);
    let usage = completion.usage.as_ref().unwrap();
    assert_eq!(usage.completion_tokens, 4);
    assert_eq!(usage.total_tokens, usage.prompt_tokens + 4);

    let sent = &mock.requests_to("POST", "/v1/chat/completions")[0];
    let body = sent.body_json().unwrap();
    assert_eq!(body["model"], "mixtral");
    assert_eq!(
        body["messages"][1],
        json!({"role": "user", "content": "hello streaming world"})
    );
    assert!(
        body.get("stream").is_none(),
        "create() does not stream: {body}"
    );
}

#[tokio::test]
async fn stream_yields_the_echo_word_by_word() {
    let mock = RostroMock::start().await;
    let mut stream = client(&mock).chat().stream(hello()).await.unwrap();
    assert!(stream.request_id().is_some(), "the mock sends x-request-id");
    let mut text = String::new();
    let mut chunks = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        assert_eq!(chunk.object, "chat.completion.chunk");
        text.push_str(chunk.content().unwrap_or_default());
        chunks += 1;
    }
    assert_eq!(text, ECHO);
    assert_eq!(chunks, 5, "4 words and a finish chunk");
    assert!(stream.is_done());
    assert!(stream.usage().is_none(), "no usage unless asked");
    let sent = mock.requests_to("POST", "/v1/chat/completions");
    let body = sent[0].body_json().unwrap();
    assert_eq!(body["stream"], true);
    assert!(body.get("stream_options").is_none());
    assert_eq!(sent[0].header("accept"), Some("text/event-stream"));
}

/// The parts of a completion that a stream and a plain call must agree on.
fn essence(c: &ChatCompletion) -> Value {
    json!({
        "model": c.model,
        "choices": c.choices.iter().map(|ch| json!({
            "index": ch.index,
            "role": ch.message.role.as_str(),
            "content": ch.message.content,
            "refusal": ch.message.refusal,
            "finish_reason": ch.finish_reason.as_ref().map(FinishReason::as_str),
            "tool_calls": ch.message.tool_calls.iter().map(|t| json!({
                "type": t.kind,
                "name": t.function.name,
                "arguments": serde_json::from_str::<Value>(&t.function.arguments).unwrap(),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "usage": c.usage,
    })
}

#[tokio::test]
async fn collected_stream_equals_the_plain_completion() {
    let mock = RostroMock::start().await;
    let client = client(&mock);
    for req in [
        hello().include_usage(true),
        hello().include_usage(true).n(3),
        hello().include_usage(true).max_tokens(2),
    ] {
        let plain = client.chat().create(req.clone()).await.unwrap();
        let mut stream = client.chat().stream(req).await.unwrap();
        // Read a couple of chunks first: collecting still assembles everything.
        stream.next().await.unwrap().unwrap();
        let collected = stream.collect_completion().await.unwrap();
        assert_eq!(essence(&collected), essence(&plain));
        assert!(collected.usage.is_some());
        assert!(!collected.id.is_empty());
    }
    let sent = mock.requests_to("POST", "/v1/chat/completions");
    let streamed = sent
        .iter()
        .find(|r| r.body_json().unwrap()["stream"] == true);
    assert_eq!(
        streamed.unwrap().body_json().unwrap()["stream_options"],
        json!({"include_usage": true})
    );
    let plain = sent
        .iter()
        .find(|r| r.body_json().unwrap().get("stream").is_none());
    assert!(
        plain
            .unwrap()
            .body_json()
            .unwrap()
            .get("stream_options")
            .is_none(),
        "stream_options are only sent with streaming calls"
    );
}

#[tokio::test]
async fn usage_is_kept_after_the_stream_ends() {
    let mock = RostroMock::start().await;
    let mut stream = client(&mock)
        .chat()
        .stream(hello().include_usage(true))
        .await
        .unwrap();
    while let Some(chunk) = stream.next().await {
        chunk.unwrap();
    }
    let usage = stream.usage().expect("final usage chunk");
    assert_eq!(usage.completion_tokens, 4);
    assert_eq!(stream.completion().content(), Some(ECHO));
    assert_eq!(stream.text(), ECHO);
}

#[tokio::test]
async fn discard_text_keeps_usage_but_not_text() {
    let mock = RostroMock::start().await;
    let mut stream = client(&mock)
        .chat()
        .stream(hello().include_usage(true))
        .await
        .unwrap()
        .discard_text();
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        text.push_str(chunk.unwrap().content().unwrap_or_default());
    }
    assert_eq!(text, ECHO, "every chunk still reaches the caller");
    assert_eq!(stream.text(), "");
    assert_eq!(stream.usage().map(|u| u.completion_tokens), Some(4));
    let completion = stream.completion();
    assert_eq!(completion.content(), None);
    assert_eq!(completion.finish_reason(), Some(&FinishReason::Stop));
}

#[tokio::test]
async fn tool_call_fragments_are_assembled_by_index() {
    let mock = RostroMock::start().await;
    let client = client(&mock);
    let req = ChatCompletionRequest::new("mixtral", vec![Message::user("Paris")])
        .tools(vec![weather_tool(), time_tool()])
        .parallel_tool_calls(true)
        .tool_choice(ToolChoice::Auto)
        .include_usage(true);

    let plain = client.chat().create(req.clone()).await.unwrap();
    let mut stream = client.chat().stream(req).await.unwrap();
    let mut fragments = 0;
    while let Some(chunk) = stream.next().await {
        fragments += chunk
            .unwrap()
            .choices
            .iter()
            .map(|c| c.delta.tool_calls.len())
            .sum::<usize>();
    }
    let collected = stream.collect_completion().await.unwrap();
    assert!(fragments > 4, "arguments arrive in fragments ({fragments})");
    assert_eq!(essence(&collected), essence(&plain));

    let calls = collected.tool_calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].function.name, "get_weather");
    assert_eq!(calls[1].function.name, "get_time");
    // (The mock can give parallel calls the same id, so only their shape is checked.)
    assert!(
        calls
            .iter()
            .all(|c| c.id.starts_with("call_") && c.kind == "function")
    );
    let args: Value = calls[0].function.parse_arguments().unwrap();
    assert_eq!(args, json!({"city": "Paris", "unit": "celsius", "days": 1}));
    assert_eq!(collected.finish_reason(), Some(&FinishReason::ToolCalls));
    assert_eq!(collected.content(), None);

    // The answer goes back into the conversation as an assistant message.
    let history = Message::from(collected.choices[0].message.clone());
    let json = serde_json::to_value(&history).unwrap();
    assert_eq!(json["role"], "assistant");
    assert_eq!(json["tool_calls"][1]["function"]["name"], "get_time");
}

#[tokio::test]
async fn named_tool_choice_and_tool_results() {
    let mock = RostroMock::start().await;
    let client = client(&mock);
    let req = ChatCompletionRequest::new("mixtral", vec![Message::user("Oslo")])
        .tools(vec![weather_tool(), time_tool()])
        .tool_choice(ToolChoice::function("get_time"));
    let first = client.chat().stream(req.clone()).await.unwrap();
    let first = first.collect_completion().await.unwrap();
    let call = first.tool_calls()[0].clone();
    assert_eq!(call.function.name, "get_time");

    let follow_up = req
        .message(Message::from(first.choices[0].message.clone()))
        .message(Message::tool(call.id.clone(), "12:00"));
    let answer = client.chat().create(follow_up).await.unwrap();
    assert_eq!(answer.content(), Some("echo: 12:00"));
    let sent = mock.requests_to("POST", "/v1/chat/completions");
    let body = sent.last().unwrap().body_json().unwrap();
    assert_eq!(
        body["tool_choice"],
        json!({"type": "function", "function": {"name": "get_time"}})
    );
    assert_eq!(
        body["messages"][2],
        json!({"role": "tool", "content": "12:00", "tool_call_id": call.id})
    );
}

#[tokio::test]
async fn keep_alive_comments_are_skipped() {
    let mock = RostroMock::start().await;
    let stream = client(&mock)
        .chat()
        .request(hello())
        .extra_header("x-mock-scenario", "keepalive")
        .stream()
        .await
        .unwrap();
    let chunks: Vec<_> = stream.collect().await;
    assert_eq!(chunks.len(), 5);
    let text: String = chunks
        .iter()
        .map(|c| c.as_ref().unwrap().content().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(text, ECHO);
}

#[tokio::test]
async fn an_error_mid_stream_is_a_stream_error_with_the_api_error() {
    let mock = RostroMock::builder()
        .chat_scenario(ChatScenario::ErrorMidStream)
        .chunk_count(10)
        .start()
        .await;
    let mut stream = client(&mock).chat().stream(hello()).await.unwrap();
    let mut received = String::new();
    let err = loop {
        match stream.next().await.expect("an error before the end") {
            Ok(chunk) => received.push_str(chunk.content().unwrap_or_default()),
            Err(e) => break e,
        }
    };
    assert!(stream.next().await.is_none(), "nothing after the error");
    match &err {
        Error::Stream {
            body: Some(body),
            partial,
            ..
        } => {
            let ApiErrorBody::OpenAi(e) = &**body else {
                panic!("{body:?}")
            };
            assert_eq!(
                e.message.as_deref(),
                Some("The model backend failed mid-stream (mock).")
            );
            assert_eq!(e.kind.as_deref(), Some("server_error"));
            assert_eq!(partial, &received);
            // 10 pieces cycling through the echo's words; the error comes after half of them.
            assert_eq!(partial, "echo: hello streaming world echo:");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("failed mid-stream"), "{err}");
    assert_eq!(
        err.api_body().and_then(ApiErrorBody::kind),
        Some("server_error")
    );

    // collect_completion reports the same error.
    let stream = client(&mock).chat().stream(hello()).await.unwrap();
    assert!(matches!(
        stream.collect_completion().await,
        Err(Error::Stream { body: Some(_), .. })
    ));
}

#[tokio::test]
async fn a_stream_without_done_after_the_finish_reason_is_complete() {
    // The mock's `no-done` scenario ends the body after the chunk carrying `finish_reason`,
    // as some providers do: complete, like OpenAI's own clients take it.
    let mock = RostroMock::start().await;
    let mut stream = client(&mock)
        .chat()
        .request(hello())
        .extra_header("x-mock-scenario", "no-done")
        .stream()
        .await
        .unwrap();
    while let Some(chunk) = stream.next().await {
        chunk.unwrap();
    }
    assert_eq!(stream.end(), Some(StreamEnd::Finished));
    assert!(!stream.is_done());
    assert_eq!(stream.text(), ECHO, "everything received is kept");
}

#[tokio::test]
async fn a_dropped_connection_keeps_the_partial_text() {
    let mock = RostroMock::start().await;
    let mut stream = client(&mock)
        .chat()
        .request(hello())
        .extra_header("x-mock-scenario", "drop")
        .extra_header("x-mock-chunks", "20")
        .stream()
        .await
        .unwrap();
    let mut received = String::new();
    let err = loop {
        match stream.next().await.expect("an error before the end") {
            Ok(chunk) => received.push_str(chunk.content().unwrap_or_default()),
            Err(e) => break e,
        }
    };
    match err {
        Error::Stream { partial, body, .. } => {
            assert!(body.is_none());
            assert_eq!(partial, received);
            assert!(!partial.is_empty());
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn dropping_a_slow_stream_returns_promptly() {
    let mock = RostroMock::start().await;
    let client = client(&mock);
    let mut stream = client
        .chat()
        .request(hello())
        .extra_header("x-mock-scenario", "slow")
        .extra_header("x-mock-chunks", "100000")
        .extra_header("x-mock-chunk-delay-ms", "20")
        .stream()
        .await
        .unwrap();
    for _ in 0..2 {
        stream.next().await.unwrap().unwrap();
    }
    drop(stream);
    // 100k chunks at 20 ms would take over half an hour: finishing at all shows the drop
    // did not wait for the rest. The client still works afterwards.
    let completion = client.chat().create(hello()).await.unwrap();
    assert_eq!(completion.content(), Some(ECHO));
}

#[tokio::test]
async fn per_model_routes() {
    let mock = RostroMock::start().await;
    let client = client(&mock);
    let plain = client
        .chat()
        .create_for_model("asha", hello().model(""))
        .await
        .unwrap();
    assert_eq!(plain.model, "asha");
    let streamed = client
        .chat()
        .stream_for_model("soji", hello())
        .await
        .unwrap()
        .collect_completion()
        .await
        .unwrap();
    assert_eq!(streamed.model, "soji");
    assert_eq!(streamed.content(), Some(ECHO));
    let sent = mock.requests_to("POST", "/{model}/v1/chat/completions");
    let paths: Vec<&str> = sent.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        ["/asha/v1/chat/completions", "/soji/v1/chat/completions"]
    );
    assert!(
        sent[0].body_json().unwrap().get("model").is_none(),
        "empty model is omitted"
    );
}

#[tokio::test]
async fn text_completions_create_and_stream() {
    let mock = RostroMock::start().await;
    let client = client(&mock);
    let req = CompletionRequest::new("mythomax", "once upon a time").include_usage(true);
    let plain = client.completions().create(req.clone()).await.unwrap();
    assert_eq!(plain.text(), Some("echo: once upon a time"));
    assert_eq!(plain.object, "text_completion");

    let mut stream = client.completions().stream(req.clone()).await.unwrap();
    let mut text = String::new();
    while let Some(event) = stream.next().await {
        text.push_str(event.unwrap().text().unwrap_or_default());
    }
    assert_eq!(text, "echo: once upon a time");
    assert!(stream.is_done());

    let collected = client
        .completions()
        .stream_for_model("asha", req)
        .await
        .unwrap()
        .collect_completion()
        .await
        .unwrap();
    assert_eq!(collected.text(), plain.text());
    assert_eq!(collected.finish_reason(), Some(&FinishReason::Stop));
    assert_eq!(collected.usage, plain.usage);
    assert_eq!(collected.model, "asha");
    assert_eq!(mock.requests_to("POST", "/{model}/v1/completions").len(), 1);
}

#[tokio::test]
async fn prompt_create_and_stream() {
    let mock = RostroMock::start().await;
    let client = client(&mock);
    let req = hello().extra("template", "Tell me about {{user}}.");
    let plain = client.prompt().create(req.clone()).await.unwrap();
    assert_eq!(plain.content(), Some(ECHO));
    let streamed = client
        .prompt()
        .stream(req)
        .await
        .unwrap()
        .collect_completion()
        .await
        .unwrap();
    assert_eq!(streamed.content(), Some(ECHO));
    let sent = mock.requests_to("POST", "/prompt");
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[1].body_json().unwrap()["template"],
        "Tell me about {{user}}."
    );
}

#[tokio::test]
async fn per_call_options_reach_the_wire() {
    let mock = RostroMock::start().await;
    let stream = client(&mock)
        .chat()
        .request(hello())
        .extra_header("x-mock-chunks", "7")
        .extra_body_field("top_k", 5)
        .request_timeout(Duration::from_secs(30))
        .stream()
        .await
        .unwrap();
    let completion = stream.collect_completion().await.unwrap();
    let words = completion.content().unwrap().split_whitespace().count();
    assert_eq!(words, 7);
    let sent = &mock.requests_to("POST", "/v1/chat/completions")[0];
    assert_eq!(sent.body_json().unwrap()["top_k"], 5);
}

#[tokio::test]
async fn an_api_error_before_the_stream_starts_is_an_api_error() {
    let mock = RostroMock::builder().strict_models(true).start().await;
    let err = client(&mock)
        .chat()
        .stream(hello().model("no-such-model"))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404), "{err:?}");
    assert!(matches!(err, Error::Api { .. }));
}

#[tokio::test]
async fn a_stream_reports_the_attempts_it_took_to_open() {
    use rostro_mock::{Fault, FaultRule};

    let mock = RostroMock::start().await;
    mock.inject_fault(
        FaultRule::new(Fault::Status(503))
            .times(1)
            .on("POST", "/v1/chat/completions"),
    );
    let client = Client::builder()
        .api_key("test-key")
        .base_url(mock.uri())
        .mimic_base_url(mock.uri())
        .max_retries(2)
        .initial_retry_delay(std::time::Duration::from_millis(1))
        .build()
        .unwrap();
    // A POST is retried only with an idempotency key.
    let mut stream = client
        .chat()
        .request(hello())
        .idempotency_key("stream-retry-1")
        .stream()
        .await
        .unwrap();
    assert_eq!(stream.meta().attempts, 2);
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        text.push_str(chunk.unwrap().content().unwrap_or_default());
    }
    assert_eq!(text, ECHO);
    assert_eq!(mock.attempts("POST", "/v1/chat/completions"), 2);
}
