//! What a chat or completion request asks for, planned before the first byte.

use super::*;

/// Which API shape a request uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChatKind {
    /// `/v1/chat/completions`, `/{model}/v1/chat/completions`, `/prompt`.
    Chat,
    /// `/v1/completions`, `/{model}/v1/completions`.
    Completion,
}

/// Default per-chunk delay of the `slow` scenario when none is configured.
pub(crate) const SLOW_DEFAULT: Duration = Duration::from_millis(20);

#[derive(Debug, Clone)]
pub(super) struct ToolCall {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) arguments: String,
}

/// Everything needed to answer one completion request, streamed or not.
#[derive(Debug, Clone)]
pub(crate) struct ChatPlan {
    pub(super) kind: ChatKind,
    pub(super) id: String,
    pub(super) created: u64,
    pub(super) model: String,
    pub(super) n: usize,
    pub(super) words: Vec<String>,
    pub(super) pieces: usize,
    pub(super) tool_calls: Vec<ToolCall>,
    pub(super) legacy_function: bool,
    pub(super) finish_reason: &'static str,
    pub(super) prompt_tokens: usize,
    pub(super) include_usage: bool,
    /// Extra `usage` fields (Routstr cost); also forces a final usage chunk when streaming.
    pub(super) usage_extra: Option<Map<String, Value>>,
}

pub(super) fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| match p {
                Value::String(s) => Some(s.clone()),
                Value::Object(o) => o.get("text").and_then(Value::as_str).map(str::to_string),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(" "),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

pub(super) fn word_count(s: &str) -> usize {
    s.split_whitespace().count()
}

pub(super) fn header_num(headers: &HeaderMap, name: &str) -> Result<Option<u64>, Reply> {
    match headers.get(name).and_then(|v| v.to_str().ok()) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| Reply::user_error(400, &format!("Header `{name}` must be a number."))),
    }
}

/// Scenario flags and chunk settings for one request (mock defaults
/// overridden by `x-mock-*` headers).
pub(crate) struct StreamSettings {
    pub(crate) scenarios: Scenarios,
    pub(crate) chunks: Option<usize>,
    pub(crate) delay: Duration,
}

pub(crate) fn stream_settings(
    shared: &Shared,
    headers: &HeaderMap,
) -> Result<StreamSettings, Reply> {
    let scenarios = match headers.get("x-mock-scenario").and_then(|v| v.to_str().ok()) {
        Some(v) => Scenarios::parse(v).map_err(|e| Reply::user_error(400, &e))?,
        None => shared.config.scenarios,
    };
    let chunks = header_num(headers, "x-mock-chunks")?
        .map(|n| n as usize)
        .or(shared.config.chunk_count);
    let mut delay = header_num(headers, "x-mock-chunk-delay-ms")?
        .map(Duration::from_millis)
        .unwrap_or(shared.config.chunk_delay);
    if scenarios.slow && delay.is_zero() {
        delay = SLOW_DEFAULT;
    }
    Ok(StreamSettings {
        scenarios,
        chunks,
        delay,
    })
}

/// Validates a request and decides the answer.
pub(crate) fn plan(
    shared: &Shared,
    kind: ChatKind,
    body: &Value,
    path_model: Option<&str>,
    settings: &StreamSettings,
) -> Result<ChatPlan, Reply> {
    if !body.is_object() {
        return Err(Reply::validation(
            &["body"],
            "Input should be a valid dictionary or object",
            "model_attributes_type",
        ));
    }
    let model = plan_model(shared, body, path_model)?;
    let n = body
        .get("n")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .clamp(1, 8) as usize;
    let include_usage = body.get("stream").and_then(Value::as_bool) == Some(true)
        && body
            .get("stream_options")
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            .unwrap_or(false);

    let ChatAnswer {
        text,
        prompt_tokens,
        tool_calls,
        legacy_function,
    } = match kind {
        ChatKind::Chat => chat_answer(shared, body)?,
        ChatKind::Completion => completion_answer(body)?,
    };

    let words: Vec<String> = text.split_whitespace().map(str::to_string).collect();
    let (pieces, finish_reason) = pieces_and_finish(
        body,
        settings.chunks.unwrap_or(words.len()),
        !tool_calls.is_empty(),
        legacy_function,
    );
    let seq = shared.next_seq();
    let prefix = match kind {
        ChatKind::Chat => "chatcmpl",
        ChatKind::Completion => "cmpl",
    };
    Ok(ChatPlan {
        kind,
        id: format!(
            "{prefix}-mock{:012x}",
            mix64(shared.config.seed ^ seq) & 0xFFFF_FFFF_FFFF
        ),
        created: unix_now(),
        model,
        n,
        words,
        pieces,
        tool_calls,
        legacy_function,
        finish_reason,
        prompt_tokens,
        include_usage,
        usage_extra: None,
    })
}

/// The model a request names (the path's, else the body's, else the first configured one);
/// an unknown one is refused when the mock is strict about models.
fn plan_model(shared: &Shared, body: &Value, path_model: Option<&str>) -> Result<String, Reply> {
    let model = path_model
        .map(str::to_string)
        .or_else(|| {
            body.get("model")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| shared.config.models.first().cloned().unwrap_or_default());
    if shared.config.strict_models && !shared.config.models.contains(&model) {
        return Err(Reply::user_error(
            404,
            &format!("The model `{model}` does not exist or is not available on this endpoint."),
        ));
    }
    Ok(model)
}

/// How many pieces the answer is cut into and why it finishes: all of them (`stop`), as many
/// as `max_tokens` allows (`length`), or none when the answer is a tool call.
fn pieces_and_finish(
    body: &Value,
    mut pieces: usize,
    has_tool_calls: bool,
    legacy_function: bool,
) -> (usize, &'static str) {
    let max_tokens = body
        .get("max_completion_tokens")
        .or_else(|| body.get("max_tokens"))
        .and_then(Value::as_u64)
        .filter(|m| *m > 0);
    let mut finish_reason = "stop";
    if let Some(m) = max_tokens
        && (m as usize) < pieces
    {
        pieces = m as usize;
        finish_reason = "length";
    }
    if has_tool_calls {
        finish_reason = if legacy_function {
            "function_call"
        } else {
            "tool_calls"
        };
        pieces = 0;
    }
    (pieces, finish_reason)
}

/// What a request is answered with, before it is cut into pieces.
struct ChatAnswer {
    text: String,
    prompt_tokens: usize,
    tool_calls: Vec<ToolCall>,
    legacy_function: bool,
}

/// A chat request's answer: a tool result echoed, tool calls, structured output or the
/// echo of the last user message.
fn chat_answer(shared: &Shared, body: &Value) -> Result<ChatAnswer, Reply> {
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return Err(Reply::validation(
            &["body", "messages"],
            "Field required",
            "missing",
        ));
    };
    let prompt_tokens: usize = messages
        .iter()
        .map(|m| word_count(&text_of(m.get("content").unwrap_or(&Value::Null))) + 1)
        .sum();
    let last = messages.last();
    let last_role = last.and_then(|m| m.get("role")).and_then(Value::as_str);
    let user_text = messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .map(|m| text_of(m.get("content").unwrap_or(&Value::Null)))
        .unwrap_or_default();
    if matches!(last_role, Some("tool") | Some("function")) {
        let tool_text = text_of(last.and_then(|m| m.get("content")).unwrap_or(&Value::Null));
        return Ok(ChatAnswer {
            text: format!("echo: {tool_text}"),
            prompt_tokens,
            tool_calls: Vec::new(),
            legacy_function: false,
        });
    }
    let (tool_calls, legacy_function) = tool_calls_for(shared, body, &user_text)?;
    let text = body
        .get("response_format")
        .filter(|_| tool_calls.is_empty())
        .and_then(|f| crate::structured::response_content(f, &user_text))
        .unwrap_or_else(|| format!("echo: {user_text}"));
    Ok(ChatAnswer {
        text,
        prompt_tokens,
        tool_calls,
        legacy_function,
    })
}

/// The tool calls a chat request asks for (`tools` + `tool_choice`, or the legacy
/// `functions`), and whether they are legacy function calls.
fn tool_calls_for(
    shared: &Shared,
    body: &Value,
    user_text: &str,
) -> Result<(Vec<ToolCall>, bool), Reply> {
    let mut tool_calls = Vec::new();
    let mut legacy_function = false;
    let tools: Vec<&Value> = body
        .get("tools")
        .and_then(Value::as_array)
        .map(|t| t.iter().collect())
        .unwrap_or_default();
    let choice = body.get("tool_choice");
    let tools_off = choice.and_then(Value::as_str) == Some("none");
    if !tools.is_empty() && !tools_off {
        let named = choice
            .and_then(|c| c.get("function"))
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str);
        let parallel = body.get("parallel_tool_calls").and_then(Value::as_bool) == Some(true);
        let selected: Vec<&Value> = match named {
            Some(name) => tools
                .iter()
                .copied()
                .filter(|t| {
                    t.get("function")
                        .and_then(|f| f.get("name"))
                        .and_then(Value::as_str)
                        == Some(name)
                })
                .collect(),
            None if parallel => tools.clone(),
            None => tools.iter().copied().take(1).collect(),
        };
        if selected.is_empty() {
            return Err(Reply::user_error(
                400,
                "tool_choice names a function that is not in `tools`.",
            ));
        }
        for t in &selected {
            let f = t.get("function").unwrap_or(&Value::Null);
            tool_calls.push(ToolCall {
                // mix64 is a bijection and the sequence never repeats,
                // so ids are unique across calls, replies and parallel requests.
                id: format!(
                    "call_{:016x}",
                    mix64(
                        shared.config.seed ^ shared.next_seq().wrapping_mul(0x9E37_79B9_7F4A_7C15)
                    )
                ),
                name: f
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("tool")
                    .into(),
                arguments: crate::structured::tool_arguments(f, user_text),
            });
        }
    } else if let Some(functions) = body.get("functions").and_then(Value::as_array) {
        let off = body.get("function_call").and_then(Value::as_str) == Some("none");
        if let (Some(f), false) = (functions.first(), off) {
            legacy_function = true;
            tool_calls.push(ToolCall {
                id: String::new(),
                name: f
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("function")
                    .into(),
                arguments: crate::structured::tool_arguments(f, user_text),
            });
        }
    }
    Ok((tool_calls, legacy_function))
}

/// A text completion's answer: the echo of the prompt.
fn completion_answer(body: &Value) -> Result<ChatAnswer, Reply> {
    let prompt = match body.get("prompt") {
        None | Some(Value::Null) => {
            return Err(Reply::validation(
                &["body", "prompt"],
                "Field required",
                "missing",
            ));
        }
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
            .collect::<Vec<_>>()
            .join(" "),
        Some(p) => text_of(p),
    };
    let tokens = word_count(&prompt).max(1);
    Ok(ChatAnswer {
        text: format!("echo: {prompt}"),
        prompt_tokens: tokens,
        tool_calls: Vec::new(),
        legacy_function: false,
    })
}
