//! The names most programs use, in one import:
//!
//! ```no_run
//! use rostro_sdk::prelude::*;
//!
//! # async fn run() -> Result<()> {
//! let client = Client::from_env()?;
//! let reply = client
//!     .chat()
//!     .create(ChatCompletionRequest::new("mobile", vec![Message::user("Hello!")]))
//!     .await?;
//! println!("{}", reply.content().unwrap_or_default());
//! # Ok(())
//! # }
//! ```
//!
//! It holds the client and its builder, the error and result types, the per-call options
//! trait (so `.request_timeout(...)` and friends resolve on every builder), the chat and media
//! request types a first program builds, and `futures`' `StreamExt` (`.next()` on streams
//! of chunks and pages). Everything else is one path away: the generated request and answer
//! types in [`types`](crate::types), the hand-written layers in [`chat`](crate::chat),
//! [`media`](crate::media) and [`routstr`](crate::routstr).

pub use crate::chat::{ChatCompletionRequest, Message};
pub use crate::media::GenerationSpec;
pub use crate::request::FilePart;
pub use crate::{CallOptions, Client, ClientBuilder, Error, Result};
pub use futures::StreamExt;
