//! The messages of a chat request and their content parts.

use serde::{Deserialize, Serialize};

use crate::chat::response::{ChatMessage, FunctionCall, Role, ToolCall};

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
            tool_calls: (!m.tool_calls.is_empty()).then_some(m.tool_calls),
            function_call: m.function_call,
            ..Default::default()
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
    /// An earlier spoken answer of the model, by id (audio models keep it server-side).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<AssistantAudio>,
}

/// A reference to an earlier audio answer of the model (`{"id": ...}`), so the history
/// need not carry the audio itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssistantAudio {
    /// The id the model gave the audio.
    pub id: String,
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
