//! Typed Rust client for the Rostro API: AI characters, chat, lore and media generation, and
//! its OpenAI-compatible ("mimic") inference API.
//!
//! # Quick start
//!
//! ```no_run
//! use rostro_sdk::{CallOptions, Client};
//! use rostro_sdk::types::{GenerationRequest, GenerationType};
//! use std::time::Duration;
//!
//! # async fn run() -> rostro_sdk::Result<()> {
//! // `ROSTRO_API_KEY` (and optionally `ROSTRO_BASE_URL`) from the environment.
//! let client = Client::from_env()?;
//!
//! // Every operation is `client.<group>().<method>(path params)`, then setters, then `send()`.
//! let gallery = client.gallery().list_for_project(172700).page(1).send().await?;
//! for item in gallery.nodes.unwrap_or_default() {
//!     println!("{:?} {:?}", item.uuid, item.primary_image_path);
//! }
//!
//! // Request bodies are typed; enums keep unknown values instead of failing.
//! let item = client
//!     .imagine()
//!     .create()
//!     .body(GenerationRequest {
//!         prompt: Some("a lighthouse at dusk".into()),
//!         generation_type: Some(GenerationType::TextToImage),
//!         ..Default::default()
//!     })
//!     .request_timeout(Duration::from_secs(30)) // per-call options on every builder
//!     .send()
//!     .await?;
//! println!("generation {:?}", item.generation_uuid);
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//!
//! - [`generated`]: code generated from `openapi/rostro.openapi.json` and
//!   `openapi/tuning.toml` by `cargo xtask generate` — one type per schema in [`types`], one
//!   resource group per module (the handle `client.<group>()` and one request builder per
//!   operation, whose doc names `METHOD /path` and the spec's operationId), and
//!   [`OperationId`], the exhaustive list of all 219 operations.
//! - The hand-written runtime beside it: [`Client`] and [`ClientBuilder`], [`request`],
//!   [`response`], [`error`]. Every call goes through one send path that joins the path to
//!   the API or mimic base URL, authenticates, retries (connection errors, timeouts, 408,
//!   409, 429, 5xx; honouring `Retry-After`), traces one `rostro.request` span, and decodes
//!   into a typed [`Response`] or a typed [`Error`].
//!
//! # Features
//!
//! - `engine` (default): the engine API groups (`/engine/api/...`).
//! - `cards` (default): [`cards`], character cards (V1/V2/V3 as PNG, JSON and CharX) and
//!   `client.characters().download_card(...)`; pulls in the `png` and `zip` crates.
//!
//! # Lower level
//!
//! Any request can be built and sent by hand through the same runtime:
//!
//! ```no_run
//! use rostro_sdk::request::{Base, HttpMethod, Operation, Request};
//! use rostro_sdk::{Client, Error};
//!
//! static LIST_MODELS: Operation = Operation {
//!     id: "list_models",
//!     method: HttpMethod::Get,
//!     path: "/v1/models",
//!     base: Base::Mimic,
//! };
//!
//! # async fn run() -> Result<(), Error> {
//! let client = Client::from_env()?;
//! let models = client.execute::<serde_json::Value>(Request::new(&LIST_MODELS)).await?;
//! println!("{} (request id {:?})", models.value(), models.meta().request_id);
//! # Ok(())
//! # }
//! ```

#[macro_use]
mod macros;
#[cfg(feature = "cards")]
pub mod cards;
pub mod chat;
mod client;
mod codec;
pub mod error;
pub mod generated;
pub mod media;
pub mod request;
pub mod response;
mod retry;
pub mod routstr;
mod transport;

pub use client::{
    ApiKey, AuthStyle, Client, ClientBuilder, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, DEFAULT_USER_AGENT, ENV_API_KEY, ENV_BASE_URL,
    ENV_MIMIC_BASE_URL,
};
pub use error::{ApiErrorBody, Error, Result};
pub use generated::OperationId;
pub use generated::types;
pub use request::{CallOptions, RequestOptions};
pub use response::{RateLimit, Response, ResponseMeta};
pub use retry::MAX_SERVER_WAIT;
