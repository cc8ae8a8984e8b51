//! Assembling streamed chunks into a whole completion.

use serde_json::Value;

use super::completion::{Completion, CompletionChoice};
use super::response::{
    ChatCompletion, ChatCompletionChunk, ChatMessage, Choice, FinishReason, FunctionCall, Role,
    ToolCall, ToolCallDelta, Usage,
};

/// Assembles [`ChatCompletionChunk`]s into a [`ChatCompletion`]: content, refusal and
/// reasoning text concatenated per choice, tool-call fragments joined by their `index` (id and
/// name from the first fragment that has them, arguments concatenated), finish reasons and
/// the last usage seen.
///
/// A [`ChatStream`](super::ChatStream) runs one for you (see
/// [`ChatStream::collect_completion`](super::ChatStream::collect_completion)); use your own
/// when you get chunks from elsewhere.
///
/// ```
/// use rostro_sdk::chat::{ChatAccumulator, ChatCompletionChunk};
///
/// let mut acc = ChatAccumulator::new();
/// for data in [
///     r#"{"id":"c1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}"#,
///     r#"{"id":"c1","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}"#,
/// ] {
///     acc.push(&serde_json::from_str::<ChatCompletionChunk>(data).unwrap());
/// }
/// let completion = acc.finish();
/// assert_eq!(completion.content(), Some("Hello"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ChatAccumulator {
    header: Header,
    service_tier: Option<String>,
    choices: Vec<ChoiceState>,
    discard_text: bool,
}

/// What both accumulators keep of the stream as a whole: the first id, model, creation time
/// and fingerprint seen, the last usage, and the count of chunks.
#[derive(Debug, Clone, Default)]
struct Header {
    id: String,
    created: u64,
    model: String,
    system_fingerprint: Option<String>,
    usage: Option<Usage>,
    chunks: u64,
}

impl Header {
    /// Counts one chunk and keeps what it says of the stream.
    fn note(
        &mut self,
        id: &str,
        model: &str,
        created: u64,
        system_fingerprint: &Option<String>,
        usage: &Option<Usage>,
    ) {
        self.chunks += 1;
        if self.id.is_empty() && !id.is_empty() {
            self.id = id.to_owned();
        }
        if self.model.is_empty() && !model.is_empty() {
            self.model = model.to_owned();
        }
        if self.created == 0 {
            self.created = created;
        }
        if self.system_fingerprint.is_none() && system_fingerprint.is_some() {
            self.system_fingerprint.clone_from(system_fingerprint);
        }
        if let Some(usage) = usage {
            self.usage = Some(usage.clone());
        }
    }
}

#[derive(Debug, Clone, Default)]
struct ChoiceState {
    index: u32,
    role: Option<Role>,
    content: Option<String>,
    refusal: Option<String>,
    reasoning: Option<String>,
    /// `(index, call)`, in order of first appearance.
    tool_calls: Vec<(u32, ToolCall)>,
    function_call: Option<FunctionCall>,
    finish_reason: Option<FinishReason>,
    logprobs: Option<Value>,
}

fn append(slot: &mut Option<String>, piece: &str) {
    match slot {
        Some(s) => s.push_str(piece),
        None => *slot = Some(piece.to_owned()),
    }
}

/// Sets a name-like field from a fragment: the first non-empty value wins, a repeat of the
/// same value is ignored, anything else is appended (providers that stream names in pieces).
fn merge_name(slot: &mut String, piece: &str) {
    if slot != piece {
        slot.push_str(piece);
    }
}

/// Concatenates the `content` / `refusal` arrays of OpenAI logprobs objects.
fn merge_logprobs(slot: &mut Option<Value>, new: &Value) {
    match (slot.as_mut(), new) {
        (_, Value::Null) => {}
        (Some(Value::Object(acc)), Value::Object(add)) => {
            for (key, value) in add {
                match (acc.get_mut(key), value) {
                    (Some(Value::Array(a)), Value::Array(b)) => a.extend(b.iter().cloned()),
                    _ => {
                        acc.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        _ => *slot = Some(new.clone()),
    }
}

impl ChatAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stops (or resumes) keeping text: content, refusal and reasoning text and tool-call
    /// arguments are no longer appended, so memory stays constant however long the stream.
    /// Ids, names, finish reasons and usage are still kept.
    pub fn set_discard_text(&mut self, on: bool) {
        self.discard_text = on;
    }

    /// Adds one chunk.
    pub fn push(&mut self, chunk: &ChatCompletionChunk) {
        let keep_text = !self.discard_text;
        self.header.note(
            &chunk.id,
            &chunk.model,
            chunk.created,
            &chunk.system_fingerprint,
            &chunk.usage,
        );
        if self.service_tier.is_none() && chunk.service_tier.is_some() {
            self.service_tier.clone_from(&chunk.service_tier);
        }
        for choice in &chunk.choices {
            let state = self.choice_mut(choice.index);
            let delta = &choice.delta;
            if let Some(role) = &delta.role {
                state.role = Some(role.clone());
            }
            if keep_text {
                if let Some(text) = &delta.content {
                    append(&mut state.content, text);
                }
                if let Some(text) = &delta.refusal {
                    append(&mut state.refusal, text);
                }
                if let Some(text) = &delta.reasoning {
                    append(&mut state.reasoning, text);
                }
            }
            for frag in &delta.tool_calls {
                push_tool_call(state, frag, keep_text);
            }
            if let Some(f) = &delta.function_call {
                let call = state
                    .function_call
                    .get_or_insert_with(FunctionCall::default);
                if let Some(name) = f.name.as_deref().filter(|n| !n.is_empty()) {
                    merge_name(&mut call.name, name);
                }
                if let Some(args) = f.arguments.as_deref().filter(|_| keep_text) {
                    call.arguments.push_str(args);
                }
            }
            if let Some(reason) = &choice.finish_reason {
                state.finish_reason = Some(reason.clone());
            }
            if let Some(lp) = &choice.logprobs {
                merge_logprobs(&mut state.logprobs, lp);
            }
        }
    }

    fn choice_mut(&mut self, index: u32) -> &mut ChoiceState {
        // Usually one choice; a linear search never allocates for hostile indexes.
        let pos = match self.choices.iter().position(|c| c.index == index) {
            Some(pos) => pos,
            None => {
                self.choices.push(ChoiceState {
                    index,
                    ..Default::default()
                });
                self.choices.len() - 1
            }
        };
        &mut self.choices[pos]
    }

    /// Number of chunks pushed.
    pub fn chunk_count(&self) -> u64 {
        self.header.chunks
    }

    /// Whether a choice arrived and every choice has a finish reason.
    pub(crate) fn all_finished(&self) -> bool {
        !self.choices.is_empty() && self.choices.iter().all(|c| c.finish_reason.is_some())
    }

    /// The last usage seen (the final chunk's, when `include_usage` was set).
    pub fn usage(&self) -> Option<&Usage> {
        self.header.usage.as_ref()
    }

    /// The content of choice `index` received so far.
    pub fn content(&self, index: u32) -> Option<&str> {
        self.choices
            .iter()
            .find(|c| c.index == index)?
            .content
            .as_deref()
    }

    /// The text received so far: the content of each choice (its refusal when it has no
    /// content), choices separated by a blank line, in index order.
    pub fn text(&self) -> String {
        let mut choices: Vec<&ChoiceState> = self.choices.iter().collect();
        choices.sort_by_key(|c| c.index);
        let mut out = String::new();
        for c in choices {
            let Some(text) = c.content.as_deref().or(c.refusal.as_deref()) else {
                continue;
            };
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            out.push_str(text);
        }
        out
    }

    /// The completion assembled so far (the accumulator is kept).
    pub fn snapshot(&self) -> ChatCompletion {
        self.clone().finish()
    }

    /// The assembled completion.
    pub fn finish(self) -> ChatCompletion {
        let mut choices: Vec<Choice> = self
            .choices
            .into_iter()
            .map(|c| {
                let mut tool_calls = c.tool_calls;
                tool_calls.sort_by_key(|(i, _)| *i);
                Choice {
                    index: c.index,
                    message: ChatMessage {
                        role: c.role.unwrap_or_default(),
                        content: c.content,
                        refusal: c.refusal,
                        reasoning: c.reasoning,
                        tool_calls: tool_calls.into_iter().map(|(_, t)| t).collect(),
                        function_call: c.function_call,
                        annotations: None,
                    },
                    finish_reason: c.finish_reason,
                    logprobs: c.logprobs,
                }
            })
            .collect();
        choices.sort_by_key(|c| c.index);
        ChatCompletion {
            id: self.header.id,
            object: "chat.completion".to_owned(),
            created: self.header.created,
            model: self.header.model,
            system_fingerprint: self.header.system_fingerprint,
            service_tier: self.service_tier,
            choices,
            usage: self.header.usage,
            error: None,
        }
    }
}

/// Adds one tool-call fragment to the call of its index (a new call for a new index).
fn push_tool_call(state: &mut ChoiceState, frag: &ToolCallDelta, keep_text: bool) {
    let pos = match state.tool_calls.iter().position(|(i, _)| *i == frag.index) {
        Some(pos) => pos,
        None => {
            state.tool_calls.push((frag.index, ToolCall::default()));
            state.tool_calls.len() - 1
        }
    };
    let call = &mut state.tool_calls[pos].1;
    if let Some(id) = frag.id.as_deref().filter(|id| !id.is_empty())
        && call.id.is_empty()
    {
        call.id.push_str(id);
    }
    if let Some(kind) = frag.kind.as_deref().filter(|k| !k.is_empty()) {
        kind.clone_into(&mut call.kind);
    }
    if let Some(f) = &frag.function {
        if let Some(name) = f.name.as_deref().filter(|n| !n.is_empty()) {
            merge_name(&mut call.function.name, name);
        }
        if let Some(args) = f.arguments.as_deref().filter(|_| keep_text) {
            call.function.arguments.push_str(args);
        }
    }
}

/// Assembles streamed [`Completion`] events into one [`Completion`]: text concatenated per
/// choice, finish reasons and the last usage seen.
#[derive(Debug, Clone, Default)]
pub struct CompletionAccumulator {
    header: Header,
    choices: Vec<CompletionChoice>,
    discard_text: bool,
}

impl CompletionAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stops (or resumes) keeping the text, so memory stays constant however long the
    /// stream; finish reasons and usage are still kept.
    pub fn set_discard_text(&mut self, on: bool) {
        self.discard_text = on;
    }

    /// Adds one streamed event.
    pub fn push(&mut self, chunk: &Completion) {
        self.header.note(
            &chunk.id,
            &chunk.model,
            chunk.created,
            &chunk.system_fingerprint,
            &chunk.usage,
        );
        for choice in &chunk.choices {
            let pos = match self.choices.iter().position(|c| c.index == choice.index) {
                Some(pos) => pos,
                None => {
                    self.choices.push(CompletionChoice {
                        index: choice.index,
                        ..Default::default()
                    });
                    self.choices.len() - 1
                }
            };
            let state = &mut self.choices[pos];
            if !self.discard_text {
                state.text.push_str(&choice.text);
            }
            if let Some(reason) = &choice.finish_reason {
                state.finish_reason = Some(reason.clone());
            }
            if let Some(lp) = &choice.logprobs {
                merge_logprobs(&mut state.logprobs, lp);
            }
        }
    }

    /// Number of events pushed.
    pub fn chunk_count(&self) -> u64 {
        self.header.chunks
    }

    /// Whether a choice arrived and every choice has a finish reason.
    pub(crate) fn all_finished(&self) -> bool {
        !self.choices.is_empty() && self.choices.iter().all(|c| c.finish_reason.is_some())
    }

    /// The last usage seen.
    pub fn usage(&self) -> Option<&Usage> {
        self.header.usage.as_ref()
    }

    /// The text received so far, choices separated by a blank line, in index order.
    pub fn text(&self) -> String {
        let mut choices: Vec<&CompletionChoice> = self.choices.iter().collect();
        choices.sort_by_key(|c| c.index);
        let texts: Vec<&str> = choices.iter().map(|c| c.text.as_str()).collect();
        texts.join("\n\n")
    }

    /// The completion assembled so far (the accumulator is kept).
    pub fn snapshot(&self) -> Completion {
        self.clone().finish()
    }

    /// The assembled completion.
    pub fn finish(self) -> Completion {
        let mut choices = self.choices;
        choices.sort_by_key(|c| c.index);
        Completion {
            id: self.header.id,
            object: "text_completion".to_owned(),
            created: self.header.created,
            model: self.header.model,
            system_fingerprint: self.header.system_fingerprint,
            choices,
            usage: self.header.usage,
            error: None,
        }
    }
}
