#![doc = include_str!("../README.md")]
//!
//! [`prelude`] holds the names above; the rest of this page maps the crate.
//!
//! # Layout
//!
//! Where each concern lives (`src/` of this crate):
//!
//! - Generated, never edited by hand: [`generated`] (`generated/`), written by
//!   `cargo xtask generate` from `openapi/rostro.openapi.json` and `openapi/tuning.toml`. One
//!   type per schema an operation uses in [`types`]; one resource group per module (the handle
//!   `client.<group>()` and one request builder per operation, whose doc names `METHOD /path`
//!   and the spec's operationId); [`OperationId`], the exhaustive list of all 219 operations;
//!   `generated/wiring.rs`, which hangs the tuning table's `pagination` and `upload`
//!   entries onto the builders; and `generated/setters.rs`, the setters a hand-written
//!   request type takes from a body schema (tuning `[setters]`: `GenerationSpec`'s from
//!   `GenerationRequest`). Schemas a hand-written type stands for (tuning `[hand_types]`) are
//!   referred to, not generated.
//! - Hand-written extensions on those handles:
//!   - [`chat`]: typed OpenAI-compatible chat and text completions on `client.chat()`,
//!     `client.completions()` and `client.prompt()`: requests, answers, SSE streams and their
//!     assembly.
//!   - [`media`]: imagine generations (submit, wait, download), uploads (streamed multipart,
//!     base64, chunked with resume) and pagination (`.stream()` on list builders).
//!   - [`routstr`]: Routstr nodes (OpenAI-compatible, paid with Cashu eCash): balance, top-up,
//!     refunds and change.
//! - The runtime every request goes through: [`Client`] (`client.rs`) and [`ClientBuilder`]
//!   (`client/builder.rs`); [`request`] (what a request is: operation, path and query, body,
//!   per-call options); `transport/`, the one send path ([`Client::execute`],
//!   [`Client::execute_raw`]) that joins the path to the API or mimic base URL and
//!   authenticates (`prepare.rs`), sends and retries (`send.rs`, `failure.rs`: connection
//!   errors, timeouts, 408, 409, 429, 5xx; honouring `Retry-After`; classifier and waits in
//!   `retry.rs`), traces one `rostro.request` span with secrets redacted (`trace.rs`,
//!   `redact.rs`), and reads error bodies with a size bound (`read.rs`); [`response`] (a
//!   typed [`Response`] and its metadata) and [`error`] (a typed [`Error`]).
//!
//! # Retries
//!
//! At most [`ClientBuilder::max_retries`] retries (default 2: three attempts), waiting what
//! the server asked for (`retry-after-ms`, `Retry-After`, on a 429 `X-RateLimit-Reset`; a
//! wait above [`MAX_SERVER_WAIT`] is returned as the error instead) or else an exponential,
//! jittered backoff.
//!
//! - A `429`, or a `503` with `Retry-After`, is a refusal before processing: retried for
//!   every method, chat POSTs included.
//! - Connection errors before anything was sent: retried for every method.
//! - Timeouts, broken connections, 408, 409 and other 5xx: retried for GET, PUT, DELETE and
//!   HEAD; for POST and PATCH only with an `Idempotency-Key` (per call, or one generated per
//!   request and kept across its attempts with [`ClientBuilder::idempotent_posts`]), since
//!   the server may have acted before failing.
//! - Streams are retried only until their response starts. After that, the gap between two
//!   reads is bounded by [`ClientBuilder::stream_idle_timeout`] (default 300 s).
//!
//! All requests of a client (its clones included) share one view of the server's rate
//! limit: `X-RateLimit-Limit`, `-Remaining` and `-Reset` on every response, and a 429's
//! wait. While the window is used up, new attempts wait for its reset, so a batch of
//! concurrent requests slows down to the limit instead of turning into a storm of 429s
//! ([`ClientBuilder::pacing`], default on; requests to signed upload or download URLs are
//! not paced). Retries also draw on a shared budget ([`ClientBuilder::retry_budget`], a
//! token bucket as in aws-sdk-rust, default 500 tokens): a retry after a failure costs 5
//! (a timeout 10), a success gives 1 back (5 after a retry), rejections are free; when it
//! runs dry failures are returned at once, so a failing server is not hammered.
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
mod pacing;
pub mod prelude;
pub mod request;
pub mod response;
mod retry;
pub mod routstr;
mod transport;

pub use client::{
    ApiKey, AuthStyle, Client, ClientBuilder, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_EVENT_SIZE, DEFAULT_MAX_RETRIES, DEFAULT_STREAM_IDLE_TIMEOUT, DEFAULT_TIMEOUT,
    DEFAULT_USER_AGENT, ENV_API_KEY, ENV_BASE_URL, ENV_MIMIC_BASE_URL,
};
pub use error::{ApiErrorBody, Error, Result, StreamErrorKind};
pub use generated::OperationId;
pub use generated::types;
pub use request::{CallOptions, RequestOptions};
pub use response::{RateLimit, Response, ResponseMeta};
pub use retry::MAX_SERVER_WAIT;

// The workspace README's Rust blocks are compiled (and this crate's README is its docs), so
// neither can drift from the code.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct WorkspaceReadme;
