//! Chat completion request types: [`ChatCompletionRequest`], [`Message`] and the tools,
//! response formats and options that go with them.

use std::collections::BTreeMap;

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::response::{ChatMessage, FunctionCall, Role, ToolCall};

/// The body of `POST /v1/chat/completions` (OpenAI's chat completion request).
///
/// Fields are public; the chainable setters below are shortcuts. Anything this type does not
/// name goes into [`extra`](Self::extra), which is flattened into the JSON body.
///
/// ```
/// use rostro_sdk::chat::{ChatCompletionRequest, Message};
///
/// let req = ChatCompletionRequest::new("mixtral", vec![
///     Message::system("You are terse."),
///     Message::user("Name a prime."),
/// ])
/// .temperature(0.2)
/// .max_completion_tokens(16)
/// .stop(["\n"])
/// .extra("top_k", 20);
/// let json = serde_json::to_value(&req).unwrap();
/// assert_eq!(json["messages"][1]["role"], "user");
/// assert_eq!(json["top_k"], 20);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletionRequest {
    /// Model id. Omitted from the body when empty (the per-model routes take it from the path).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub model: String,
    /// The conversation so far.
    #[serde(default)]
    pub messages: Vec<Message>,
    /// Sampling temperature (0 to 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling mass (0 to 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Number of choices to generate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// Stream the answer as server-sent events. Set for you by
    /// [`ChatApi::stream`](crate::generated::chat::ChatApi::stream) and cleared by
    /// [`ChatApi::create`](crate::generated::chat::ChatApi::create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Streaming options (only sent with streaming calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Up to 4 stop sequences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    /// Maximum tokens to generate (older name, still the one most providers read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Maximum tokens to generate, reasoning included (newer name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    /// Presence penalty (-2 to 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    /// Frequency penalty (-2 to 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    /// Token id (as a string) to bias (-100 to 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logit_bias: Option<BTreeMap<String, f64>>,
    /// Return log probabilities of the output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<bool>,
    /// Number of most likely tokens to return at each position (with `logprobs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_logprobs: Option<u32>,
    /// An end-user id for abuse monitoring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Tools the model may call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// Whether and which tool the model must call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Allow several tool calls in one answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// Legacy functions (superseded by `tools`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub functions: Option<Vec<FunctionDefinition>>,
    /// Legacy function choice (superseded by `tool_choice`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_call: Option<ToolChoice>,
    /// Output format: text, any JSON object, or JSON matching a schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// Seed for (best-effort) deterministic sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Web search settings for search-enabled models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_search_options: Option<WebSearchOptions>,
    /// Provider-specific fields (`top_k`, `min_p`, `repetition_penalty`, `reasoning`, ...),
    /// flattened into the body. A key that names a field above is sent twice; don't.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatCompletionRequest {
    /// A request for `model` with `messages` and nothing else set.
    pub fn new(model: impl Into<String>, messages: impl Into<Vec<Message>>) -> Self {
        ChatCompletionRequest {
            model: model.into(),
            messages: messages.into(),
            ..Default::default()
        }
    }

    /// Sets the model.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// Appends a message.
    pub fn message(mut self, message: impl Into<Message>) -> Self {
        self.messages.push(message.into());
        self
    }

    /// Sets `temperature`.
    pub fn temperature(mut self, v: f64) -> Self {
        self.temperature = Some(v);
        self
    }

    /// Sets `top_p`.
    pub fn top_p(mut self, v: f64) -> Self {
        self.top_p = Some(v);
        self
    }

    /// Sets `n`, the number of choices.
    pub fn n(mut self, v: u32) -> Self {
        self.n = Some(v);
        self
    }

    /// Asks for a final chunk with token usage (and, on Routstr nodes, the cost) when
    /// streaming: `stream_options.include_usage`.
    pub fn include_usage(mut self, on: bool) -> Self {
        self.stream_options
            .get_or_insert_with(StreamOptions::default)
            .include_usage = Some(on);
        self
    }

    /// Sets the stop sequence(s): a string or a list of strings.
    pub fn stop(mut self, stop: impl Into<Stop>) -> Self {
        self.stop = Some(stop.into());
        self
    }

    /// Sets `max_tokens`.
    pub fn max_tokens(mut self, v: u32) -> Self {
        self.max_tokens = Some(v);
        self
    }

    /// Sets `max_completion_tokens`.
    pub fn max_completion_tokens(mut self, v: u32) -> Self {
        self.max_completion_tokens = Some(v);
        self
    }

    /// Sets `presence_penalty`.
    pub fn presence_penalty(mut self, v: f64) -> Self {
        self.presence_penalty = Some(v);
        self
    }

    /// Sets `frequency_penalty`.
    pub fn frequency_penalty(mut self, v: f64) -> Self {
        self.frequency_penalty = Some(v);
        self
    }

    /// Biases one token id.
    pub fn logit_bias(mut self, token: impl ToString, bias: f64) -> Self {
        self.logit_bias
            .get_or_insert_with(BTreeMap::new)
            .insert(token.to_string(), bias);
        self
    }

    /// Sets `logprobs` and, when given, `top_logprobs`.
    pub fn logprobs(mut self, on: bool, top: Option<u32>) -> Self {
        self.logprobs = Some(on);
        self.top_logprobs = top;
        self
    }

    /// Sets the end-user id.
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// Sets the tools.
    pub fn tools(mut self, tools: impl Into<Vec<Tool>>) -> Self {
        self.tools = Some(tools.into());
        self
    }

    /// Adds one tool.
    pub fn tool(mut self, tool: Tool) -> Self {
        self.tools.get_or_insert_with(Vec::new).push(tool);
        self
    }

    /// Sets `tool_choice`.
    pub fn tool_choice(mut self, choice: ToolChoice) -> Self {
        self.tool_choice = Some(choice);
        self
    }

    /// Sets `parallel_tool_calls`.
    pub fn parallel_tool_calls(mut self, on: bool) -> Self {
        self.parallel_tool_calls = Some(on);
        self
    }

    /// Sets `response_format`.
    pub fn response_format(mut self, format: ResponseFormat) -> Self {
        self.response_format = Some(format);
        self
    }

    /// Sets `seed`.
    pub fn seed(mut self, seed: i64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Sets `web_search_options`.
    pub fn web_search_options(mut self, options: WebSearchOptions) -> Self {
        self.web_search_options = Some(options);
        self
    }

    /// Adds a provider-specific body field.
    pub fn extra(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(name.into(), value.into());
        self
    }
}

/// Streaming options: `stream_options` of the request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamOptions {
    /// Send a last chunk carrying token usage (with empty `choices`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_usage: Option<bool>,
    /// Provider-specific fields (e.g. vLLM's `continuous_usage_stats`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Stop sequences: one string or a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    /// A single stop sequence.
    One(String),
    /// Several stop sequences.
    Many(Vec<String>),
}

impl From<&str> for Stop {
    fn from(s: &str) -> Self {
        Stop::One(s.to_owned())
    }
}

impl From<String> for Stop {
    fn from(s: String) -> Self {
        Stop::One(s)
    }
}

impl From<Vec<String>> for Stop {
    fn from(v: Vec<String>) -> Self {
        Stop::Many(v)
    }
}

impl From<Vec<&str>> for Stop {
    fn from(v: Vec<&str>) -> Self {
        Stop::Many(v.into_iter().map(str::to_owned).collect())
    }
}

impl<const N: usize> From<[&str; N]> for Stop {
    fn from(v: [&str; N]) -> Self {
        Stop::Many(v.iter().map(|s| (*s).to_owned()).collect())
    }
}

/// One message of the conversation, tagged by its `role`.
///
/// ```
/// use rostro_sdk::chat::{ContentPart, Message};
///
/// let history = vec![
///     Message::system("You describe pictures."),
///     Message::user_parts(vec![
///         ContentPart::text("What is in this image?"),
///         ContentPart::image_url("https://example.com/cat.png"),
///     ]),
/// ];
/// assert_eq!(serde_json::to_value(&history[1]).unwrap()["content"][1]["type"], "image_url");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum Message {
    /// Instructions from the application (`role: system`).
    System(SystemMessage),
    /// Instructions for reasoning models, replacing `system` (`role: developer`).
    Developer(SystemMessage),
    /// The end user's message (`role: user`).
    User(UserMessage),
    /// An earlier answer of the model (`role: assistant`).
    Assistant(AssistantMessage),
    /// The result of a tool call (`role: tool`).
    Tool(ToolMessage),
    /// The result of a legacy function call (`role: function`).
    Function(FunctionMessage),
}

impl Message {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Message::System(SystemMessage {
            content: MessageContent::Text(content.into()),
            name: None,
        })
    }

    /// A developer message.
    pub fn developer(content: impl Into<String>) -> Self {
        Message::Developer(SystemMessage {
            content: MessageContent::Text(content.into()),
            name: None,
        })
    }

    /// A user message with text content.
    pub fn user(content: impl Into<String>) -> Self {
        Message::User(UserMessage {
            content: MessageContent::Text(content.into()),
            name: None,
        })
    }

    /// A user message made of parts: text, images, audio, files.
    pub fn user_parts(parts: impl Into<Vec<ContentPart>>) -> Self {
        Message::User(UserMessage {
            content: MessageContent::Parts(parts.into()),
            name: None,
        })
    }

    /// An assistant message with text content.
    pub fn assistant(content: impl Into<String>) -> Self {
        Message::Assistant(AssistantMessage {
            content: Some(MessageContent::Text(content.into())),
            ..Default::default()
        })
    }

    /// An assistant message that called tools (as answered by the model).
    pub fn assistant_tool_calls(tool_calls: impl Into<Vec<ToolCall>>) -> Self {
        Message::Assistant(AssistantMessage {
            tool_calls: Some(tool_calls.into()),
            ..Default::default()
        })
    }

    /// The result of the tool call `tool_call_id`.
    pub fn tool(tool_call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Message::Tool(ToolMessage {
            content: MessageContent::Text(content.into()),
            tool_call_id: tool_call_id.into(),
        })
    }

    /// The result of the legacy function call `name`.
    pub fn function(name: impl Into<String>, content: impl Into<String>) -> Self {
        Message::Function(FunctionMessage {
            name: name.into(),
            content: Some(content.into()),
        })
    }

    /// Sets the participant `name` (system, developer, user and assistant messages).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        let name = Some(name.into());
        match &mut self {
            Message::System(m) | Message::Developer(m) => m.name = name,
            Message::User(m) => m.name = name,
            Message::Assistant(m) => m.name = name,
            Message::Tool(_) | Message::Function(_) => {}
        }
        self
    }

    /// The message's role.
    pub fn role(&self) -> Role {
        match self {
            Message::System(_) => Role::System,
            Message::Developer(_) => Role::Developer,
            Message::User(_) => Role::User,
            Message::Assistant(_) => Role::Assistant,
            Message::Tool(_) => Role::Tool,
            Message::Function(_) => Role::Function,
        }
    }

    /// The text content (parts joined by newlines), if any.
    pub fn text(&self) -> Option<String> {
        match self {
            Message::System(m) | Message::Developer(m) => Some(m.content.text()),
            Message::User(m) => Some(m.content.text()),
            Message::Assistant(m) => m.content.as_ref().map(MessageContent::text),
            Message::Tool(m) => Some(m.content.text()),
            Message::Function(m) => m.content.clone(),
        }
    }
}

/// An answer of the model becomes the assistant message to send back in the next request
/// (content, refusal, tool calls and legacy function call are kept).
impl From<ChatMessage> for Message {
    fn from(m: ChatMessage) -> Self {
        Message::Assistant(AssistantMessage {
            content: m.content.map(MessageContent::Text),
            refusal: m.refusal,
            name: None,
            tool_calls: (!m.tool_calls.is_empty()).then_some(m.tool_calls),
            function_call: m.function_call,
        })
    }
}

/// Message content: plain text or a list of parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MessageContent {
    /// Plain text.
    Text(String),
    /// Text, image, audio, file or refusal parts.
    Parts(Vec<ContentPart>),
}

impl MessageContent {
    /// The text: the string itself, or the text (and refusal) parts joined by newlines.
    pub fn text(&self) -> String {
        match self {
            MessageContent::Text(t) => t.clone(),
            MessageContent::Parts(parts) => parts
                .iter()
                .filter_map(|p| match p {
                    ContentPart::Text { text } => Some(text.as_str()),
                    ContentPart::Refusal { refusal } => Some(refusal.as_str()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

impl From<String> for MessageContent {
    fn from(s: String) -> Self {
        MessageContent::Text(s)
    }
}

impl From<&str> for MessageContent {
    fn from(s: &str) -> Self {
        MessageContent::Text(s.to_owned())
    }
}

impl From<Vec<ContentPart>> for MessageContent {
    fn from(parts: Vec<ContentPart>) -> Self {
        MessageContent::Parts(parts)
    }
}

/// One part of a multi-part message, tagged by its `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    /// `{"type": "text", "text": ...}`
    Text {
        /// The text.
        text: String,
    },
    /// `{"type": "image_url", "image_url": {"url", "detail"}}`
    ImageUrl {
        /// The image.
        image_url: ImageUrl,
    },
    /// `{"type": "input_audio", "input_audio": {"data", "format"}}`
    InputAudio {
        /// The audio.
        input_audio: InputAudio,
    },
    /// `{"type": "file", "file": {"file_data" | "file_id", "filename"}}`
    File {
        /// The file.
        file: FileInput,
    },
    /// `{"type": "refusal", "refusal": ...}` (assistant messages only).
    Refusal {
        /// The refusal text.
        refusal: String,
    },
}

impl ContentPart {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        ContentPart::Text { text: text.into() }
    }

    /// An image by URL (`https://...` or a `data:image/...;base64,...` URL).
    pub fn image_url(url: impl Into<String>) -> Self {
        ContentPart::ImageUrl {
            image_url: ImageUrl {
                url: url.into(),
                detail: None,
            },
        }
    }

    /// Base64-encoded audio in `format` (`wav`, `mp3`).
    pub fn input_audio(data_base64: impl Into<String>, format: impl Into<String>) -> Self {
        ContentPart::InputAudio {
            input_audio: InputAudio {
                data: data_base64.into(),
                format: format.into(),
            },
        }
    }

    /// A file sent inline (`data:` URL or base64) under `filename`.
    pub fn file_data(filename: impl Into<String>, file_data: impl Into<String>) -> Self {
        ContentPart::File {
            file: FileInput {
                file_data: Some(file_data.into()),
                file_id: None,
                filename: Some(filename.into()),
            },
        }
    }

    /// A file uploaded earlier, by id.
    pub fn file_id(file_id: impl Into<String>) -> Self {
        ContentPart::File {
            file: FileInput {
                file_data: None,
                file_id: Some(file_id.into()),
                filename: None,
            },
        }
    }
}

/// An image reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageUrl {
    /// `https://...` or `data:image/png;base64,...`.
    pub url: String,
    /// `auto`, `low` or `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Inline audio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputAudio {
    /// Base64-encoded audio.
    pub data: String,
    /// `wav` or `mp3`.
    pub format: String,
}

/// A file input.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FileInput {
    /// Inline file data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_data: Option<String>,
    /// Id of an uploaded file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_id: Option<String>,
    /// File name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

/// A system or developer message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemMessage {
    /// The instructions.
    pub content: MessageContent,
    /// Optional participant name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A user message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserMessage {
    /// Text or parts (text, image_url, input_audio, file).
    pub content: MessageContent,
    /// Optional participant name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// An assistant message sent back as conversation history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AssistantMessage {
    /// Text or parts (text, refusal); absent when the model only called tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<MessageContent>,
    /// The model's refusal, if it refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    /// Optional participant name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Tool calls the model made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCall>>,
    /// Legacy function call the model made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_call: Option<FunctionCall>,
}

/// The result of a tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolMessage {
    /// The result (usually JSON text).
    pub content: MessageContent,
    /// The `id` of the tool call this answers.
    pub tool_call_id: String,
}

/// The result of a legacy function call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionMessage {
    /// The function's name.
    pub name: String,
    /// The result.
    pub content: Option<String>,
}

/// A tool the model may call. Only function tools exist today.
///
/// ```
/// use rostro_sdk::chat::Tool;
/// use serde_json::json;
///
/// let weather = Tool::function(
///     "get_weather",
///     "Current weather for a city",
///     json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
/// );
/// assert_eq!(serde_json::to_value(&weather).unwrap()["type"], "function");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// Tool type, `function`.
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    /// The function.
    pub function: FunctionDefinition,
}

fn function_type() -> String {
    "function".to_owned()
}

impl Tool {
    /// A function tool with a JSON Schema for its arguments.
    pub fn function(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: Value,
    ) -> Self {
        Tool {
            kind: function_type(),
            function: FunctionDefinition {
                name: name.into(),
                description: Some(description.into()),
                parameters: Some(parameters),
                strict: None,
            },
        }
    }

    /// Sets `strict` (arguments must follow the schema exactly).
    pub fn strict(mut self, on: bool) -> Self {
        self.function.strict = Some(on);
        self
    }
}

/// A function the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionDefinition {
    /// Function name (`a-z A-Z 0-9 _ -`, at most 64 characters).
    pub name: String,
    /// What the function does, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Require the arguments to follow the schema exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// `tool_choice` (and the legacy `function_call`): `"none"`, `"auto"`, `"required"` or a
/// named function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoice {
    /// Never call a tool.
    None,
    /// Let the model decide.
    Auto,
    /// Call at least one tool.
    Required,
    /// Call this function: `{"type": "function", "function": {"name": ...}}` (for the legacy
    /// `function_call`, `{"name": ...}`; both shapes are read).
    Function(String),
    /// A mode this SDK does not know, sent as the string.
    Other(String),
}

impl ToolChoice {
    /// Call the function `name`.
    pub fn function(name: impl Into<String>) -> Self {
        ToolChoice::Function(name.into())
    }
}

impl Serialize for ToolChoice {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ToolChoice::None => s.serialize_str("none"),
            ToolChoice::Auto => s.serialize_str("auto"),
            ToolChoice::Required => s.serialize_str("required"),
            ToolChoice::Other(mode) => s.serialize_str(mode),
            ToolChoice::Function(name) => {
                struct Name<'a>(&'a str);
                impl Serialize for Name<'_> {
                    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                        let mut m = s.serialize_map(Some(1))?;
                        m.serialize_entry("name", self.0)?;
                        m.end()
                    }
                }
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("type", "function")?;
                m.serialize_entry("function", &Name(name))?;
                m.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for ToolChoice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::String(s) => match s.as_str() {
                "none" => ToolChoice::None,
                "auto" => ToolChoice::Auto,
                "required" => ToolChoice::Required,
                _ => ToolChoice::Other(s),
            },
            Value::Object(o) => {
                let name = o
                    .get("function")
                    .and_then(|f| f.get("name"))
                    .or_else(|| o.get("name"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| de::Error::custom("a named tool choice needs a name"))?;
                ToolChoice::Function(name.to_owned())
            }
            _ => return Err(de::Error::custom("expected a string or an object")),
        })
    }
}

/// `response_format`.
///
/// ```
/// use rostro_sdk::chat::ResponseFormat;
/// use serde_json::json;
///
/// let format = ResponseFormat::json_schema("answer", json!({"type": "object"}));
/// assert_eq!(serde_json::to_value(&format).unwrap()["type"], "json_schema");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Plain text (the default).
    Text,
    /// Any valid JSON object.
    JsonObject,
    /// JSON matching a schema.
    JsonSchema {
        /// The schema.
        json_schema: JsonSchemaFormat,
    },
}

impl ResponseFormat {
    /// JSON matching `schema`, strictly.
    pub fn json_schema(name: impl Into<String>, schema: Value) -> Self {
        ResponseFormat::JsonSchema {
            json_schema: JsonSchemaFormat {
                name: name.into(),
                description: None,
                schema: Some(schema),
                strict: Some(true),
            },
        }
    }
}

/// The schema of a `json_schema` response format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonSchemaFormat {
    /// Name of the format.
    pub name: String,
    /// What the format is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
    /// Enforce the schema exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// `web_search_options` for search-enabled models.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WebSearchOptions {
    /// `low`, `medium` or `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_context_size: Option<String>,
    /// Approximate location of the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_location: Option<UserLocation>,
}

/// The user's approximate location for web search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserLocation {
    /// Location type, `approximate`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The location.
    pub approximate: ApproximateLocation,
}

impl UserLocation {
    /// An approximate location.
    pub fn approximate(location: ApproximateLocation) -> Self {
        UserLocation {
            kind: "approximate".to_owned(),
            approximate: location,
        }
    }
}

/// City, region, country (ISO 3166-1 alpha-2) and IANA time zone.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApproximateLocation {
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Two-letter country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Region or state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// IANA time zone, e.g. `Europe/Paris`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}
