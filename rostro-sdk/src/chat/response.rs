//! Chat completion response types: [`ChatCompletion`] (one answer) and
//! [`ChatCompletionChunk`] (one streamed event), with [`Usage`] including Routstr's cost.
//!
//! Decoding is lenient, because OpenAI-compatible providers differ: unknown fields are
//! ignored, unknown enum values are kept ([`FinishReason::Unknown`], [`Role::Unknown`]), and
//! missing or `null` fields take their default.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::de::{lenient_opt_f64, lenient_opt_u64, lenient_u32, lenient_u64, null_default};

crate::string_enum! {
    /// Who wrote a message. Unknown roles are kept as [`Role::Unknown`].
    #[derive(Default)]
    pub enum Role {
        /// `system`
        System = "system",
        /// `developer`
        Developer = "developer",
        /// `user`
        User = "user",
        /// `assistant` (the default)
        #[default]
        Assistant = "assistant",
        /// `tool`
        Tool = "tool",
        /// `function`
        Function = "function",
    }
}

crate::string_enum! {
    /// Why the model stopped. Values this SDK does not know (providers add their own, such as
    /// `eos` or `error`) are kept as [`FinishReason::Unknown`] and never fail decoding.
    pub enum FinishReason {
        /// `stop`: a natural stop or a stop sequence.
        Stop = "stop",
        /// `length`: the token limit was reached.
        Length = "length",
        /// `tool_calls`: the model called tools.
        ToolCalls = "tool_calls",
        /// `content_filter`: content was omitted by a filter.
        ContentFilter = "content_filter",
        /// `function_call`: the model called a (legacy) function.
        FunctionCall = "function_call",
    }
}

/// A chat completion: the answer of `POST /v1/chat/completions` without streaming, or the
/// assembly of a stream (see [`ChatStream::collect_completion`](super::ChatStream::collect_completion)).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatCompletion {
    /// Completion id.
    #[serde(default, deserialize_with = "null_default")]
    pub id: String,
    /// `chat.completion`.
    #[serde(default, deserialize_with = "null_default")]
    pub object: String,
    /// Creation time, Unix seconds.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub created: u64,
    /// The model that answered.
    #[serde(default, deserialize_with = "null_default")]
    pub model: String,
    /// Backend configuration fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// Service tier used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// The answers (one unless `n` was set).
    #[serde(default, deserialize_with = "null_default")]
    pub choices: Vec<Choice>,
    /// Token usage (and cost, on Routstr nodes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Set when the body was an `{"error": ...}` object (some providers answer errors with 200).
    #[serde(default, skip_serializing)]
    pub(crate) error: Option<Value>,
}

impl ChatCompletion {
    /// The content of the first choice, if any.
    pub fn content(&self) -> Option<&str> {
        self.choices.first()?.message.content.as_deref()
    }

    /// The finish reason of the first choice, if any.
    pub fn finish_reason(&self) -> Option<&FinishReason> {
        self.choices.first()?.finish_reason.as_ref()
    }

    /// The tool calls of the first choice (empty when there are none).
    pub fn tool_calls(&self) -> &[ToolCall] {
        self.choices
            .first()
            .map_or(&[], |c| c.message.tool_calls.as_slice())
    }
}

/// One answer of a [`ChatCompletion`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Choice {
    /// Position in `choices`.
    #[serde(default, deserialize_with = "lenient_u32")]
    pub index: u32,
    /// The answer.
    #[serde(default, deserialize_with = "null_default")]
    pub message: ChatMessage,
    /// Why the model stopped.
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
    /// Log probabilities, when requested (kept as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Value>,
}

/// A message written by the model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatMessage {
    /// Normally `assistant`.
    #[serde(default, deserialize_with = "null_default")]
    pub role: Role,
    /// The text, absent when the model only called tools.
    #[serde(default)]
    pub content: Option<String>,
    /// The refusal, when the model refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Reasoning text, for providers that send it (`reasoning` or `reasoning_content`).
    #[serde(
        default,
        alias = "reasoning_content",
        skip_serializing_if = "Option::is_none"
    )]
    pub reasoning: Option<String>,
    /// Tool calls (empty when there are none).
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tool_calls: Vec<ToolCall>,
    /// Legacy function call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_call: Option<FunctionCall>,
    /// Web search citations and other annotations (kept as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Value>,
}

/// A tool call made by the model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Call id, echoed in the [`Message::tool`](super::Message::tool) answering it.
    #[serde(default, deserialize_with = "null_default")]
    pub id: String,
    /// `function`.
    #[serde(rename = "type", default = "function_kind")]
    pub kind: String,
    /// The function and its arguments.
    #[serde(default, deserialize_with = "null_default")]
    pub function: FunctionCall,
}

fn function_kind() -> String {
    "function".to_owned()
}

impl ToolCall {
    /// A function call (for building conversation history by hand).
    pub fn function(
        id: impl Into<String>,
        name: impl Into<String>,
        arguments: impl Into<String>,
    ) -> Self {
        ToolCall {
            id: id.into(),
            kind: function_kind(),
            function: FunctionCall {
                name: name.into(),
                arguments: arguments.into(),
            },
        }
    }
}

/// A function name with its arguments, as JSON text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionCall {
    /// Function name.
    #[serde(default, deserialize_with = "null_default")]
    pub name: String,
    /// Arguments as a JSON text (parse it with `serde_json::from_str`; models can produce
    /// invalid JSON).
    #[serde(default, deserialize_with = "null_default")]
    pub arguments: String,
}

impl FunctionCall {
    /// Parses the arguments.
    pub fn parse_arguments<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_str(&self.arguments)
    }
}

/// One event of a streamed chat completion.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatCompletionChunk {
    /// Completion id (the same in every chunk).
    #[serde(default, deserialize_with = "null_default")]
    pub id: String,
    /// `chat.completion.chunk`.
    #[serde(default, deserialize_with = "null_default")]
    pub object: String,
    /// Creation time, Unix seconds.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub created: u64,
    /// The model answering.
    #[serde(default, deserialize_with = "null_default")]
    pub model: String,
    /// Backend configuration fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// Service tier used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// Deltas, one per choice that advanced (empty in a final usage chunk).
    #[serde(default, deserialize_with = "null_default")]
    pub choices: Vec<ChunkChoice>,
    /// Token usage, in the final chunk when `stream_options.include_usage` was set (and on
    /// Routstr nodes the cost).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Set when the event was an `{"error": ...}` object.
    #[serde(default, skip_serializing)]
    pub(crate) error: Option<Value>,
}

impl ChatCompletionChunk {
    /// The content delta of the first choice, if any.
    pub fn content(&self) -> Option<&str> {
        self.choices.first()?.delta.content.as_deref()
    }

    /// The finish reason of the first choice, if this chunk carries it.
    pub fn finish_reason(&self) -> Option<&FinishReason> {
        self.choices.first()?.finish_reason.as_ref()
    }
}

/// One choice's part of a [`ChatCompletionChunk`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChunkChoice {
    /// Which choice this delta belongs to.
    #[serde(default, deserialize_with = "lenient_u32")]
    pub index: u32,
    /// What is new.
    #[serde(default, deserialize_with = "null_default")]
    pub delta: Delta,
    /// Set in the choice's last chunk.
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
    /// Log probabilities, when requested (kept as sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Value>,
}

/// What a chunk adds to a choice's message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Delta {
    /// Set in the first chunk of a choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// More text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// More refusal text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// More reasoning text (`reasoning` or `reasoning_content`).
    #[serde(
        default,
        alias = "reasoning_content",
        skip_serializing_if = "Option::is_none"
    )]
    pub reasoning: Option<String>,
    /// Tool call fragments, identified by their `index`.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tool_calls: Vec<ToolCallDelta>,
    /// Legacy function call fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_call: Option<FunctionCallDelta>,
}

/// A fragment of a tool call: the first carries `id` and the function name, later ones more
/// argument text. Fragments of one call share its `index`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ToolCallDelta {
    /// Which tool call of the choice this fragment belongs to.
    #[serde(default, deserialize_with = "lenient_u32")]
    pub index: u32,
    /// The call id (first fragment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `function` (first fragment).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name and/or argument text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionCallDelta>,
}

/// A fragment of a function call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionCallDelta {
    /// The function name (first fragment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// More argument text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
}

/// Token usage, plus what Routstr nodes add: `cost`, `cost_sats`, `remaining_balance_msats`.
/// Any other field is kept in [`extra`](Self::extra).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Usage {
    /// Tokens in the prompt.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub prompt_tokens: u64,
    /// Tokens generated.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub completion_tokens: u64,
    /// Sum of the two.
    #[serde(default, deserialize_with = "lenient_u64")]
    pub total_tokens: u64,
    /// Breakdown of the prompt tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    /// Breakdown of the completion tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
    /// The cost: a breakdown in msats (Routstr) or a plain amount (OpenRouter credits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
    /// The cost in sats (Routstr).
    #[serde(
        default,
        deserialize_with = "lenient_opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub cost_sats: Option<f64>,
    /// The balance left after this request, in msats (Routstr).
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub remaining_balance_msats: Option<u64>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Usage {
    /// The total cost in msats: `cost.total_msats`, else `cost_sats × 1000`.
    pub fn cost_msats(&self) -> Option<u64> {
        if let Some(Cost::Breakdown(b)) = &self.cost
            && let Some(total) = b.total_msats
        {
            return Some(total);
        }
        self.cost_sats
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| (s * 1000.0).round() as u64)
    }
}

/// Prompt token breakdown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PromptTokensDetails {
    /// Tokens served from the prompt cache.
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub cached_tokens: Option<u64>,
    /// Audio input tokens.
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub audio_tokens: Option<u64>,
}

/// Completion token breakdown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompletionTokensDetails {
    /// Reasoning tokens.
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub reasoning_tokens: Option<u64>,
    /// Audio output tokens.
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub audio_tokens: Option<u64>,
    /// Predicted tokens that appeared in the output.
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub accepted_prediction_tokens: Option<u64>,
    /// Predicted tokens that did not.
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub rejected_prediction_tokens: Option<u64>,
}

/// `usage.cost`: Routstr's breakdown object, or a plain number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Cost {
    /// A plain amount (e.g. OpenRouter's credits).
    Amount(f64),
    /// Routstr's breakdown in msats.
    Breakdown(CostBreakdown),
}

/// Routstr's `usage.cost` object.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CostBreakdown {
    /// Fixed per-request part, msats.
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub base_msats: Option<u64>,
    /// Prompt part, msats.
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub input_msats: Option<u64>,
    /// Completion part, msats.
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub output_msats: Option<u64>,
    /// Total, msats.
    #[serde(
        default,
        deserialize_with = "lenient_opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_msats: Option<u64>,
    /// Total in USD, when sent.
    #[serde(
        default,
        deserialize_with = "lenient_opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub total_usd: Option<f64>,
    /// Fields not named above, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
