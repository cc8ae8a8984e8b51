//! Typed Rust client for the Rostro API.
//!
//! This crate is being built up issue by issue; see the repository README.
//!
//! # Runtime
//!
//! Every call goes through one [`Client`]: it joins the operation path to the API or mimic
//! base URL, adds authentication, sends the request with retries (connection errors, timeouts,
//! 408, 409, 429, 5xx; honouring `Retry-After`), and decodes the JSON body into a typed
//! [`Response`] or a typed [`Error`].
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
mod client;
mod codec;
pub mod error;
pub mod generated;
pub mod request;
pub mod response;
mod retry;
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
