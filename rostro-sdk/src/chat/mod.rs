//! Typed, streaming OpenAI-compatible chat: the mimic API (`/v1/chat/completions`,
//! `/{model}/v1/chat/completions`), legacy completions (`/v1/completions`), `/prompt`, and
//! Routstr nodes, which speak the same protocol.
//!
//! - Requests: [`ChatCompletionRequest`] with [`Message`]s (a role-tagged enum), [`Tool`]s,
//!   [`ToolChoice`], [`ResponseFormat`] and an `extra` map for provider-specific fields;
//!   [`CompletionRequest`] for text completions.
//! - Calls: [`ChatApi::create`] / [`ChatApi::stream`] (and `*_for_model`), the same on
//!   [`CompletionsApi`] and [`PromptApi`]; [`ChatApi::request`] prepares a call with per-call
//!   options ([`CallOptions`](crate::CallOptions): timeout, retries, headers).
//! - Answers: [`ChatCompletion`], and for streams [`ChatStream`], a
//!   [`Stream`](futures::Stream) of [`ChatCompletionChunk`]s that also assembles them
//!   ([`ChatStream::collect_completion`]) and keeps the final [`Usage`] (with Routstr's cost).
//!
//! Decoding is lenient: unknown fields are ignored, unknown enum values are kept
//! ([`FinishReason::Unknown`]), `null`s and missing fields take defaults.
//!
//! ```no_run
//! use futures::StreamExt;
//! use rostro_sdk::Client;
//! use rostro_sdk::chat::{ChatCompletionRequest, Message};
//!
//! # async fn run() -> rostro_sdk::Result<()> {
//! let client = Client::from_env()?;
//! let req = ChatCompletionRequest::new("mixtral", vec![
//!     Message::system("You are a pirate."),
//!     Message::user("Say hello."),
//! ])
//! .include_usage(true);
//!
//! // One answer.
//! let completion = client.chat().create(req.clone()).await?;
//! println!("{}", completion.content().unwrap_or_default());
//!
//! // Streamed, chunk by chunk.
//! let mut stream = client.chat().stream(req).await?;
//! while let Some(chunk) = stream.next().await {
//!     print!("{}", chunk?.content().unwrap_or_default());
//! }
//! println!("\n{:?} (request id {:?})", stream.usage(), stream.request_id());
//! # Ok(())
//! # }
//! ```
//!
//! Errors while streaming come as one [`Error::Stream`](crate::Error::Stream) item: an
//! `{"error": ...}` event (decoded into `body`), a broken connection, an idle timeout, an
//! event over the size cap, or an end without `data: [DONE]` before every choice had a finish
//! reason; `partial` carries the text received so far and `kind`
//! ([`StreamErrorKind`](crate::StreamErrorKind)) the cause. [`ChatStream::end`] says how a
//! stream ended. Retries happen only before the response starts.
//!
//! [`ChatApi`]: crate::generated::chat::ChatApi
//! [`ChatApi::create`]: crate::generated::chat::ChatApi::create
//! [`ChatApi::stream`]: crate::generated::chat::ChatApi::stream
//! [`ChatApi::request`]: crate::generated::chat::ChatApi::request
//! [`CompletionsApi`]: crate::generated::completions::CompletionsApi
//! [`PromptApi`]: crate::generated::prompt::PromptApi

mod accumulate;
mod api;
mod call;
mod completion;
mod de;
mod request;
mod response;
mod setters;
mod sse;
mod stream;

pub use accumulate::{ChatAccumulator, CompletionAccumulator};
pub use call::{ChatCall, CompletionCall};
pub use completion::{Completion, CompletionChoice, CompletionRequest, Prompt};
pub use request::{
    ApproximateLocation, AssistantAudio, AssistantMessage, ChatCompletionRequest, ContentPart,
    FileInput, FunctionDefinition, FunctionMessage, ImageUrl, InputAudio, JsonSchemaFormat,
    Message, MessageContent, ResponseFormat, Stop, StreamOptions, StructuralTag, SystemMessage,
    Tool, ToolChoice, ToolMessage, UserLocation, UserMessage, WebSearchOptions,
};
pub use response::{
    ChatCompletion, ChatCompletionChunk, ChatMessage, Choice, ChunkChoice, CompletionTokensDetails,
    Cost, CostBreakdown, Delta, FinishReason, FunctionCall, FunctionCallDelta, PromptTokensDetails,
    Role, ToolCall, ToolCallDelta, Usage,
};
pub use sse::{SseDecoder, SseEvent, StreamEnd};
pub use stream::{ChatStream, CompletionStream};
