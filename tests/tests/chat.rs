//! Mimic endpoints: completions, SSE streaming, tool calls and stream scenarios.

mod common;

use std::time::Duration;

use common::{KEY, client, get_json, post_json, sse_data};
use futures::StreamExt;
use rostro_mock::{ChatScenario, RostroMock};
use serde_json::{Value, json};

fn chat_body(text: &str, stream: bool) -> Value {
    json!({"model": "mixtral", "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": text}
    ], "stream": stream})
}

async fn stream_text(
    mock: &RostroMock,
    path: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> (u16, String, String) {
    let mut req = client()
        .post(format!("{}{path}", mock.uri()))
        .bearer_auth(KEY)
        .json(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, resp.text().await.unwrap_or_default())
}

fn contents(events: &[String]) -> String {
    events
        .iter()
        .filter(|e| *e != "[DONE]")
        .filter_map(|e| serde_json::from_str::<Value>(e).ok())
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect()
}

#[tokio::test]
async fn non_streaming_chat_echoes_with_usage() {
    let mock = RostroMock::start().await;
    let (s, v) = post_json(
        &mock,
        "/v1/chat/completions",
        &chat_body("hello there world", false),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "mixtral");
    assert_eq!(v["choices"][0]["message"]["role"], "assistant");
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "echo: hello there world"
    );
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["usage"]["completion_tokens"], 4);
    assert_eq!(
        v["usage"]["total_tokens"].as_u64(),
        Some(v["usage"]["prompt_tokens"].as_u64().unwrap() + 4)
    );
    // The path model overrides the body's.
    let (_, v) = post_json(&mock, "/asha/v1/chat/completions", &chat_body("hi", false)).await;
    assert_eq!(v["model"], "asha");
    // /prompt speaks the same protocol.
    let (_, v) = post_json(&mock, "/prompt", &chat_body("hi", false)).await;
    assert_eq!(v["choices"][0]["message"]["content"], "echo: hi");
    // max_tokens truncates.
    let mut body = chat_body("a b c d e", false);
    body["max_tokens"] = json!(2);
    let (_, v) = post_json(&mock, "/v1/chat/completions", &body).await;
    assert_eq!(v["choices"][0]["message"]["content"], "echo: a");
    assert_eq!(v["choices"][0]["finish_reason"], "length");
    // Validation errors are FastAPI-shaped.
    let (s, v) = post_json(&mock, "/v1/chat/completions", &json!({"model": "x"})).await;
    assert_eq!(s, 422);
    assert_eq!(v["detail"][0]["loc"], json!(["body", "messages"]));
}

#[tokio::test]
async fn streaming_chat_sends_word_chunks_usage_and_done() {
    let mock = RostroMock::start().await;
    let mut body = chat_body("one two three", true);
    body["stream_options"] = json!({"include_usage": true});
    let (s, ct, text) = stream_text(&mock, "/v1/chat/completions", &body, &[]).await;
    assert_eq!(s, 200);
    assert!(ct.starts_with("text/event-stream"), "{ct}");
    assert!(text.ends_with("data: [DONE]\n\n"));
    let events = sse_data(&text);
    assert_eq!(events.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(chunks[0]["object"], "chat.completion.chunk");
    assert_eq!(contents(&events), "echo: one two three");
    // 4 content chunks, 1 finish chunk, 1 usage chunk.
    assert_eq!(chunks.len(), 6);
    assert_eq!(chunks[4]["choices"][0]["finish_reason"], "stop");
    assert_eq!(chunks[5]["choices"], json!([]));
    assert_eq!(chunks[5]["usage"]["completion_tokens"], 4);
    assert!(chunks[0]["usage"].is_null());
}

#[tokio::test]
async fn text_completions_stream_and_not() {
    let mock = RostroMock::start().await;
    let (_, v) = post_json(
        &mock,
        "/v1/completions",
        &json!({"model": "m", "prompt": "say it"}),
    )
    .await;
    assert_eq!(v["object"], "text_completion");
    assert_eq!(v["choices"][0]["text"], "echo: say it");
    let (_, _, text) = stream_text(
        &mock,
        "/m/v1/completions",
        &json!({"prompt": "x y", "stream": true}),
        &[],
    )
    .await;
    let events = sse_data(&text);
    let joined: String = events
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(e).ok())
        .filter_map(|v| v["choices"][0]["text"].as_str().map(str::to_string))
        .collect();
    assert_eq!(joined, "echo: x y");
    let (_, models) = get_json(&mock, "/v1/models").await;
    assert!(
        models["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "asha")
    );
    let (_, one) = get_json(&mock, "/soji/v1/models").await;
    assert_eq!(one["data"].as_array().unwrap().len(), 1);
    assert_eq!(one["data"][0]["id"], "soji");
}

#[tokio::test]
async fn tool_calls_stream_arguments_in_fragments() {
    let mock = RostroMock::start().await;
    let mut body = chat_body("Paris", true);
    body["tools"] = json!([
        {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}}}},
        {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}}}}
    ]);
    body["parallel_tool_calls"] = json!(true);
    let (_, _, text) = stream_text(&mock, "/v1/chat/completions", &body, &[]).await;
    let events = sse_data(&text);
    let mut names = vec![String::new(); 2];
    let mut args = vec![String::new(); 2];
    let mut fragments = 0;
    let mut finish = None;
    for e in events.iter().filter(|e| *e != "[DONE]") {
        let v: Value = serde_json::from_str(e).unwrap();
        let choice = &v["choices"][0];
        if let Some(calls) = choice["delta"]["tool_calls"].as_array() {
            for call in calls {
                let i = call["index"].as_u64().unwrap() as usize;
                if let Some(n) = call["function"]["name"].as_str() {
                    names[i].push_str(n);
                }
                if let Some(a) = call["function"]["arguments"].as_str() {
                    args[i].push_str(a);
                    fragments += 1;
                }
            }
        }
        if let Some(f) = choice["finish_reason"].as_str() {
            finish = Some(f.to_string());
        }
    }
    assert_eq!(names, ["get_weather", "get_time"]);
    assert!(fragments > 4, "arguments arrive in several fragments");
    let a0: Value = serde_json::from_str(&args[0]).unwrap();
    assert_eq!(a0, json!({"city": "Paris", "days": 1}));
    let a1: Value = serde_json::from_str(&args[1]).unwrap();
    assert_eq!(a1, json!({"zone": "Paris"}));
    assert_eq!(finish.as_deref(), Some("tool_calls"));

    // Non-streaming: one call unless parallel; a tool result ends the loop.
    let mut body = chat_body("Rome", false);
    body["tools"] = json!([{"type": "function", "function": {"name": "lookup"}}]);
    let (_, v) = post_json(&mock, "/v1/chat/completions", &body).await;
    let calls = v["choices"][0]["message"]["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1);
    // A tool without parameters is called with `{}` (nothing invented).
    assert_eq!(calls[0]["function"]["arguments"], "{}");
    assert!(v["choices"][0]["message"]["content"].is_null());
    let call_id = calls[0]["id"].as_str().unwrap();
    body["messages"]
        .as_array_mut()
        .unwrap()
        .push(json!({"role": "assistant", "tool_calls": calls}));
    body["messages"]
        .as_array_mut()
        .unwrap()
        .push(json!({"role": "tool", "tool_call_id": call_id, "content": "sunny"}));
    let (_, v) = post_json(&mock, "/v1/chat/completions", &body).await;
    assert_eq!(v["choices"][0]["message"]["content"], "echo: sunny");
}

#[tokio::test]
async fn scenario_header_keepalive_error_no_done() {
    let mock = RostroMock::start().await;
    let body = chat_body("a b c d e f g h", true);
    let (_, _, text) = stream_text(
        &mock,
        "/v1/chat/completions",
        &body,
        &[("x-mock-scenario", "keepalive")],
    )
    .await;
    assert!(text.starts_with(": keep-alive\n\n"));
    assert!(text.matches(": keep-alive").count() >= 9);
    assert_eq!(contents(&sse_data(&text)), "echo: a b c d e f g h");

    let (_, _, text) = stream_text(
        &mock,
        "/v1/chat/completions",
        &body,
        &[("x-mock-scenario", "error-mid-stream")],
    )
    .await;
    let events = sse_data(&text);
    let last: Value = serde_json::from_str(events.last().unwrap()).unwrap();
    assert_eq!(last["error"]["type"], "server_error");
    assert!(!text.contains("[DONE]"));
    assert_eq!(contents(&events), "echo: a b c");

    let (_, _, text) = stream_text(
        &mock,
        "/v1/chat/completions",
        &body,
        &[("x-mock-scenario", "no-done")],
    )
    .await;
    assert!(!text.contains("[DONE]"));
    assert_eq!(contents(&sse_data(&text)), "echo: a b c d e f g h");

    let (s, _, _) = stream_text(
        &mock,
        "/v1/chat/completions",
        &body,
        &[("x-mock-scenario", "bogus")],
    )
    .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn drop_scenario_cuts_the_connection_mid_stream() {
    let mock = RostroMock::builder()
        .chat_scenario(ChatScenario::DropMidStream)
        .start()
        .await;
    let resp = client()
        .post(format!("{}/v1/chat/completions", mock.uri()))
        .json(&chat_body("a b c d e f", true))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut stream = resp.bytes_stream();
    let mut got = Vec::new();
    let mut error = false;
    while let Some(item) = stream.next().await {
        match item {
            Ok(b) => got.extend_from_slice(&b),
            Err(_) => {
                error = true;
                break;
            }
        }
    }
    assert!(error, "the body must end with an error");
    let text = String::from_utf8(got).unwrap();
    assert!(text.contains("echo:"));
    assert!(!text.contains("[DONE]"));
}

#[tokio::test]
async fn slow_scenario_delivers_chunks_incrementally() {
    let mock = RostroMock::builder()
        .chat_scenario(ChatScenario::Slow)
        .chunk_delay(Duration::from_millis(10))
        .start()
        .await;
    let resp = client()
        .post(format!("{}/v1/chat/completions", mock.uri()))
        .json(&chat_body("a b c d e f", true))
        .send()
        .await
        .unwrap();
    let mut stream = resp.bytes_stream();
    let mut frames = 0;
    let mut all = Vec::new();
    while let Some(item) = stream.next().await {
        all.extend_from_slice(&item.unwrap());
        frames += 1;
    }
    assert!(frames >= 2, "events arrive over time, got {frames} reads");
    assert_eq!(
        contents(&sse_data(&String::from_utf8(all).unwrap())),
        "echo: a b c d e f"
    );
}

#[tokio::test]
async fn hundred_thousand_chunks_stream_quickly() {
    let mock = RostroMock::start().await;
    let resp = client()
        .post(format!("{}/v1/chat/completions", mock.uri()))
        .header("x-mock-chunks", "100000")
        .json(&chat_body("bench mark", true))
        .send()
        .await
        .unwrap();
    let mut stream = resp.bytes_stream();
    let mut newlines = 0usize;
    let mut tail: Vec<u8> = Vec::new();
    while let Some(item) = stream.next().await {
        let bytes = item.unwrap();
        newlines += bytes.iter().filter(|&&b| b == b'\n').count();
        tail.extend_from_slice(&bytes[bytes.len().saturating_sub(64)..]);
        if tail.len() > 128 {
            tail.drain(..tail.len() - 64);
        }
    }
    let done = tail.ends_with(b"data: [DONE]\n\n");
    assert!(done);
    // Every event is one line plus a blank line: 100k content chunks + finish + [DONE].
    assert_eq!(newlines / 2, 100_002);
}

#[tokio::test]
async fn parallel_tool_call_ids_are_unique_across_calls_and_requests() {
    let mock = RostroMock::start().await;
    let mut body = chat_body("weather in Paris", false);
    body["parallel_tool_calls"] = json!(true);
    body["tools"] = json!([
        {"type": "function", "function": {"name": "a", "parameters": {"type": "object", "properties": {"x": {"type": "string"}}}}},
        {"type": "function", "function": {"name": "b"}},
        {"type": "function", "function": {"name": "c", "parameters": {"type": "object", "properties": {}}}},
    ]);
    let mut ids = Vec::new();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let uri = mock.uri();
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            let v: Value = client()
                .post(format!("{uri}/v1/chat/completions"))
                .bearer_auth(KEY)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v
        }));
    }
    for t in tasks {
        let v = t.await.unwrap();
        let calls = v["choices"][0]["message"]["tool_calls"].as_array().unwrap();
        assert_eq!(calls.len(), 3);
        // No-parameter tools (missing or empty `properties`) get `{}`.
        assert_eq!(calls[1]["function"]["arguments"], "{}");
        assert_eq!(calls[2]["function"]["arguments"], "{}");
        let a: Value =
            serde_json::from_str(calls[0]["function"]["arguments"].as_str().unwrap()).unwrap();
        assert_eq!(a, json!({"x": "weather in Paris"}));
        ids.extend(calls.iter().map(|c| c["id"].as_str().unwrap().to_string()));
    }
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "every tool call has its own id");
}

#[tokio::test]
async fn tool_arguments_validate_against_the_parameter_schema() {
    let mock = RostroMock::start().await;
    let mut body = chat_body("plan", false);
    body["tools"] = json!([{"type": "function", "function": {"name": "plan", "parameters": {
        "type": "object",
        "properties": {
            "steps": {"type": "array", "items": {"$ref": "#/$defs/Step"}, "minItems": 2},
            "priority": {"type": "string", "enum": ["low", "high"]},
            "count": {"type": "integer", "minimum": 3},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}]}
        },
        "required": ["steps", "priority", "count", "note"],
        "additionalProperties": false,
        "$defs": {"Step": {"type": "object", "properties": {"done": {"type": "boolean"}}, "required": ["done"]}}
    }}}]);
    let (s, v) = post_json(&mock, "/v1/chat/completions", &body).await;
    assert_eq!(s, 200);
    let args: Value = serde_json::from_str(
        v["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        args,
        json!({"steps": [{"done": true}, {"done": true}], "priority": "low", "count": 3, "note": "plan"})
    );
}

#[tokio::test]
async fn response_format_returns_json_valid_for_the_schema() {
    let mock = RostroMock::start().await;
    let mut body = chat_body("a cat", false);
    body["response_format"] = json!({"type": "json_object"});
    let (_, v) = post_json(&mock, "/v1/chat/completions", &body).await;
    let content: Value =
        serde_json::from_str(v["choices"][0]["message"]["content"].as_str().unwrap()).unwrap();
    assert!(content.is_object(), "{content}");

    body["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "Pet", "strict": true, "schema": {
        "type": "object",
        "properties": {"name": {"type": "string"}, "legs": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}},
        "required": ["name", "legs", "tags"],
        "additionalProperties": false
    }}});
    for stream in [false, true] {
        body["stream"] = json!(stream);
        let text = if stream {
            let (s, _, raw) = stream_text(&mock, "/v1/chat/completions", &body, &[]).await;
            assert_eq!(s, 200);
            contents(&sse_data(&raw))
        } else {
            let (_, v) = post_json(&mock, "/v1/chat/completions", &body).await;
            v["choices"][0]["message"]["content"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let pet: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            pet,
            json!({"name": "a cat", "legs": 1, "tags": ["a cat"]}),
            "stream={stream}"
        );
    }
}
