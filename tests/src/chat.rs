//! The OpenAI-compatible (mimic) endpoints: deterministic completions,
//! tool calls, and SSE streams generated lazily chunk by chunk.

use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use http::HeaderMap;
use hyper::body::Frame;
use serde_json::{Map, Value, json};

use crate::reply::Reply;
use crate::state::{Scenarios, Shared};
use crate::util::{mix64, unix_now};

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
struct ToolCall {
    id: String,
    name: String,
    arguments: String,
}

/// Everything needed to answer one completion request, streamed or not.
#[derive(Debug, Clone)]
pub(crate) struct ChatPlan {
    kind: ChatKind,
    id: String,
    created: u64,
    model: String,
    n: usize,
    words: Vec<String>,
    pieces: usize,
    tool_calls: Vec<ToolCall>,
    legacy_function: bool,
    finish_reason: &'static str,
    prompt_tokens: usize,
    include_usage: bool,
    /// Extra `usage` fields (Routstr cost); also forces a final usage chunk when streaming.
    usage_extra: Option<Map<String, Value>>,
}

fn text_of(content: &Value) -> String {
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

fn word_count(s: &str) -> usize {
    s.split_whitespace().count()
}

fn header_num(headers: &HeaderMap, name: &str) -> Result<Option<u64>, Reply> {
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

    let mut tool_calls = Vec::new();
    let mut legacy_function = false;
    let (text, prompt_tokens) = match kind {
        ChatKind::Chat => {
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
                let tool_text =
                    text_of(last.and_then(|m| m.get("content")).unwrap_or(&Value::Null));
                (format!("echo: {tool_text}"), prompt_tokens)
            } else {
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
                    let parallel =
                        body.get("parallel_tool_calls").and_then(Value::as_bool) == Some(true);
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
                                    shared.config.seed
                                        ^ shared.next_seq().wrapping_mul(0x9E37_79B9_7F4A_7C15)
                                )
                            ),
                            name: f
                                .get("name")
                                .and_then(Value::as_str)
                                .unwrap_or("tool")
                                .into(),
                            arguments: crate::structured::tool_arguments(f, &user_text),
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
                            arguments: crate::structured::tool_arguments(f, &user_text),
                        });
                    }
                }
                let text = body
                    .get("response_format")
                    .filter(|_| tool_calls.is_empty())
                    .and_then(|f| crate::structured::response_content(f, &user_text))
                    .unwrap_or_else(|| format!("echo: {user_text}"));
                (text, prompt_tokens)
            }
        }
        ChatKind::Completion => {
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
            (format!("echo: {prompt}"), tokens)
        }
    };

    let words: Vec<String> = text.split_whitespace().map(str::to_string).collect();
    let mut pieces = settings.chunks.unwrap_or(words.len());
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
    if !tool_calls.is_empty() {
        finish_reason = if legacy_function {
            "function_call"
        } else {
            "tool_calls"
        };
        pieces = 0;
    }
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

impl ChatPlan {
    fn piece(&self, i: usize) -> String {
        let word = if self.words.is_empty() {
            "echo:"
        } else {
            &self.words[i % self.words.len()]
        };
        if i == 0 {
            word.to_string()
        } else {
            format!(" {word}")
        }
    }

    fn content(&self) -> String {
        (0..self.pieces).map(|i| self.piece(i)).collect()
    }

    /// Prompt tokens counted for `usage`.
    pub(crate) fn prompt_tokens(&self) -> usize {
        self.prompt_tokens
    }

    /// Adds fields to `usage` (Routstr's `cost`, `cost_sats`, `remaining_balance_msats`)
    /// and makes streams end with a usage chunk before `[DONE]` even without
    /// `stream_options.include_usage`.
    /// Names another model in the reply (a router forwarding its catalog id).
    pub(crate) fn set_model(&mut self, model: String) {
        self.model = model;
    }

    pub(crate) fn set_usage_extra(&mut self, extra: Map<String, Value>) {
        self.usage_extra = Some(extra);
    }

    pub(crate) fn completion_tokens(&self) -> usize {
        let per_choice = if self.tool_calls.is_empty() {
            self.pieces
        } else {
            self.tool_calls
                .iter()
                .map(|t| t.arguments.len() / 4 + 1)
                .sum()
        };
        per_choice * self.n
    }

    fn usage(&self) -> Value {
        let completion = self.completion_tokens();
        let mut usage = json!({
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
        });
        if let (Some(extra), Some(map)) = (&self.usage_extra, usage.as_object_mut()) {
            map.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        usage
    }

    fn tool_calls_json(&self) -> Value {
        Value::Array(
            self.tool_calls
                .iter()
                .map(|t| json!({"id": t.id, "type": "function", "function": {"name": t.name, "arguments": t.arguments}}))
                .collect(),
        )
    }

    /// The non-streaming response body.
    pub(crate) fn response_json(&self) -> Value {
        match self.kind {
            ChatKind::Chat => {
                let choices: Vec<Value> = (0..self.n)
                    .map(|i| {
                        let mut message = json!({"role": "assistant", "content": null, "refusal": null});
                        if self.tool_calls.is_empty() {
                            message["content"] = json!(self.content());
                        } else if self.legacy_function {
                            let t = &self.tool_calls[0];
                            message["function_call"] =
                                json!({"name": t.name, "arguments": t.arguments});
                        } else {
                            message["tool_calls"] = self.tool_calls_json();
                        }
                        json!({"index": i, "message": message, "logprobs": null, "finish_reason": self.finish_reason})
                    })
                    .collect();
                json!({
                    "id": self.id,
                    "object": "chat.completion",
                    "created": self.created,
                    "model": self.model,
                    "system_fingerprint": "fp_rostro_mock",
                    "service_tier": "default",
                    "choices": choices,
                    "usage": self.usage(),
                })
            }
            ChatKind::Completion => {
                let choices: Vec<Value> = (0..self.n)
                    .map(|i| json!({"text": self.content(), "index": i, "logprobs": null, "finish_reason": self.finish_reason}))
                    .collect();
                json!({
                    "id": self.id,
                    "object": "text_completion",
                    "created": self.created,
                    "model": self.model,
                    "system_fingerprint": "fp_rostro_mock",
                    "choices": choices,
                    "usage": self.usage(),
                })
            }
        }
    }

    fn envelope(&self, choices: Value) -> String {
        let object = match self.kind {
            ChatKind::Chat => "chat.completion.chunk",
            ChatKind::Completion => "text_completion",
        };
        let mut v = json!({
            "id": self.id,
            "object": object,
            "created": self.created,
            "model": self.model,
            "system_fingerprint": "fp_rostro_mock",
            "choices": choices,
        });
        if self.include_usage {
            v["usage"] = Value::Null;
        }
        v.to_string()
    }

    fn delta_chunk(&self, choice: usize, delta: Value, finish: Option<&str>) -> String {
        match self.kind {
            ChatKind::Chat => self.envelope(json!([{"index": choice, "delta": delta, "logprobs": null, "finish_reason": finish}])),
            ChatKind::Completion => {
                let text = delta.get("content").cloned().unwrap_or(json!(""));
                self.envelope(json!([{"text": text, "index": choice, "logprobs": null, "finish_reason": finish}]))
            }
        }
    }

    fn content_event(&self, j: usize) -> String {
        let choice = j % self.n;
        let p = j / self.n;
        let delta = if p == 0 && self.kind == ChatKind::Chat {
            json!({"role": "assistant", "content": self.piece(p)})
        } else {
            json!({"content": self.piece(p)})
        };
        self.delta_chunk(choice, delta, None)
    }

    fn prefix_events(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in 0..self.n {
            for (k, t) in self.tool_calls.iter().enumerate() {
                let head = if self.legacy_function {
                    json!({"role": "assistant", "content": null, "function_call": {"name": t.name, "arguments": ""}})
                } else {
                    let mut d = json!({"tool_calls": [{"index": k, "id": t.id, "type": "function", "function": {"name": t.name, "arguments": ""}}]});
                    if k == 0 {
                        d["role"] = json!("assistant");
                        d["content"] = Value::Null;
                    }
                    d
                };
                out.push(self.delta_chunk(c, head, None));
                let chars: Vec<char> = t.arguments.chars().collect();
                for frag in chars.chunks(8) {
                    let frag: String = frag.iter().collect();
                    let delta = if self.legacy_function {
                        json!({"function_call": {"arguments": frag}})
                    } else {
                        json!({"tool_calls": [{"index": k, "function": {"arguments": frag}}]})
                    };
                    out.push(self.delta_chunk(c, delta, None));
                }
            }
        }
        out
    }

    fn suffix_events(&self) -> Vec<String> {
        let mut out: Vec<String> = (0..self.n)
            .map(|c| self.delta_chunk(c, json!({}), Some(self.finish_reason)))
            .collect();
        if self.include_usage || self.usage_extra.is_some() {
            let object = match self.kind {
                ChatKind::Chat => "chat.completion.chunk",
                ChatKind::Completion => "text_completion",
            };
            out.push(
                json!({
                    "id": self.id,
                    "object": object,
                    "created": self.created,
                    "model": self.model,
                    "system_fingerprint": "fp_rostro_mock",
                    "choices": [],
                    "usage": self.usage(),
                })
                .to_string(),
            );
        }
        out
    }
}

enum Event {
    Data(String),
    Done,
    Error,
    Drop,
}

/// Lazily produces the events of one SSE stream.
struct EventGen {
    plan: ChatPlan,
    /// Pre-rendered start of every content chunk, up to the choice index.
    head: String,
    /// Pre-escaped JSON strings of `" word"` for every word.
    escaped: Vec<String>,
    prefix: Vec<String>,
    content: usize,
    suffix: Vec<String>,
    cut: Option<usize>,
    idx: usize,
    finished: bool,
    scenarios: Scenarios,
}

impl EventGen {
    fn new(plan: ChatPlan, scenarios: Scenarios) -> EventGen {
        let prefix = plan.prefix_events();
        let content = plan.pieces * plan.n;
        let suffix = plan.suffix_events();
        let total = prefix.len() + content + suffix.len();
        let cut = (scenarios.error_mid_stream || scenarios.drop).then(|| {
            if content > 0 {
                prefix.len() + content / 2
            } else {
                total / 2
            }
        });
        let object = match plan.kind {
            ChatKind::Chat => "chat.completion.chunk",
            ChatKind::Completion => "text_completion",
        };
        let head = format!(
            "{{\"id\":{},\"object\":\"{object}\",\"created\":{},\"model\":{},\"system_fingerprint\":\"fp_rostro_mock\",\"choices\":[{{\"index\":",
            json!(plan.id),
            plan.created,
            json!(plan.model)
        );
        let escaped = plan
            .words
            .iter()
            .map(|w| json!(format!(" {w}")).to_string())
            .collect();
        EventGen {
            head,
            escaped,
            plan,
            prefix,
            content,
            suffix,
            cut,
            idx: 0,
            finished: false,
            scenarios,
        }
    }

    fn next_event(&mut self) -> Option<Event> {
        if self.finished {
            return None;
        }
        if self.cut == Some(self.idx) {
            self.finished = true;
            return Some(if self.scenarios.drop {
                Event::Drop
            } else {
                Event::Error
            });
        }
        let i = self.idx;
        self.idx += 1;
        let p = self.prefix.len();
        if i < p {
            Some(Event::Data(self.prefix[i].clone()))
        } else if i < p + self.content {
            Some(Event::Data(self.content_event(i - p)))
        } else if i < p + self.content + self.suffix.len() {
            Some(Event::Data(self.suffix[i - p - self.content].clone()))
        } else {
            self.finished = true;
            (!self.scenarios.no_done).then_some(Event::Done)
        }
    }
}

impl EventGen {
    /// Content chunk `j`; all but the first piece use the pre-rendered parts.
    fn content_event(&self, j: usize) -> String {
        let p = j / self.plan.n;
        if p == 0 || self.escaped.is_empty() {
            return self.plan.content_event(j);
        }
        let choice = j % self.plan.n;
        let piece = &self.escaped[p % self.escaped.len()];
        let usage = if self.plan.include_usage {
            ",\"usage\":null"
        } else {
            ""
        };
        match self.plan.kind {
            ChatKind::Chat => format!(
                "{}{choice},\"delta\":{{\"content\":{piece}}},\"logprobs\":null,\"finish_reason\":null}}]{usage}}}",
                self.head
            ),
            ChatKind::Completion => format!(
                "{}{choice},\"text\":{piece},\"logprobs\":null,\"finish_reason\":null}}]{usage}}}",
                self.head
            ),
        }
    }
}

fn write_event(buf: &mut Vec<u8>, ev: &Event, keepalive: bool) {
    if keepalive {
        buf.extend_from_slice(b": keep-alive\n\n");
    }
    match ev {
        Event::Data(s) => {
            buf.extend_from_slice(b"data: ");
            buf.extend_from_slice(s.as_bytes());
            buf.extend_from_slice(b"\n\n");
        }
        Event::Done => buf.extend_from_slice(b"data: [DONE]\n\n"),
        Event::Error => buf.extend_from_slice(
            br#"data: {"error":{"message":"The model backend failed mid-stream (mock).","type":"server_error","code":500}}

"#,
        ),
        Event::Drop => {}
    }
}

/// The SSE body: events are generated one at a time (or in batches when there
/// is no delay), so even 100k-chunk streams use constant memory.
pub(crate) fn sse_stream(
    plan: ChatPlan,
    scenarios: Scenarios,
    delay: Duration,
) -> impl Stream<Item = Result<Frame<Bytes>, std::io::Error>> + Send + 'static {
    struct St {
        events: EventGen,
        pending_drop: bool,
        ended: bool,
    }
    let st = St {
        events: EventGen::new(plan, scenarios),
        pending_drop: false,
        ended: false,
    };
    futures::stream::unfold(st, move |mut st| async move {
        if st.ended {
            return None;
        }
        if st.pending_drop {
            st.ended = true;
            // Let the server flush what was sent before the connection dies.
            tokio::time::sleep(Duration::from_millis(15)).await;
            let err = std::io::Error::other("rostro-mock: connection dropped mid-stream");
            return Some((Err(err), st));
        }
        let mut buf = Vec::new();
        let batch = if delay.is_zero() { 256 } else { 1 };
        for _ in 0..batch {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            match st.events.next_event() {
                None => break,
                Some(Event::Drop) => {
                    if scenarios.keepalive {
                        buf.extend_from_slice(b": keep-alive\n\n");
                    }
                    st.pending_drop = true;
                    break;
                }
                Some(ev) => write_event(&mut buf, &ev, scenarios.keepalive),
            }
            if buf.len() > 64 * 1024 {
                break;
            }
        }
        if buf.is_empty() {
            if st.pending_drop {
                st.ended = true;
                let err = std::io::Error::other("rostro-mock: connection dropped mid-stream");
                return Some((Err(err), st));
            }
            None
        } else {
            Some((Ok(Frame::data(Bytes::from(buf))), st))
        }
    })
}
