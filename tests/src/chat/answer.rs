//! A plan's non-streaming answer and its chunks.

use super::*;

impl ChatPlan {
    pub(super) fn piece(&self, i: usize) -> String {
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

    pub(super) fn content(&self) -> String {
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

    pub(super) fn usage(&self) -> Value {
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

    pub(super) fn tool_calls_json(&self) -> Value {
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

    pub(super) fn envelope(&self, choices: Value) -> String {
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

    pub(super) fn delta_chunk(&self, choice: usize, delta: Value, finish: Option<&str>) -> String {
        match self.kind {
            ChatKind::Chat => self.envelope(json!([{"index": choice, "delta": delta, "logprobs": null, "finish_reason": finish}])),
            ChatKind::Completion => {
                let text = delta.get("content").cloned().unwrap_or(json!(""));
                self.envelope(json!([{"text": text, "index": choice, "logprobs": null, "finish_reason": finish}]))
            }
        }
    }

    pub(super) fn content_event(&self, j: usize) -> String {
        let choice = j % self.n;
        let p = j / self.n;
        let delta = if p == 0 && self.kind == ChatKind::Chat {
            json!({"role": "assistant", "content": self.piece(p)})
        } else {
            json!({"content": self.piece(p)})
        };
        self.delta_chunk(choice, delta, None)
    }

    pub(super) fn prefix_events(&self) -> Vec<String> {
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

    pub(super) fn suffix_events(&self) -> Vec<String> {
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
