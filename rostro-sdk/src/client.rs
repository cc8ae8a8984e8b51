//! The [`Client`] and its [`ClientBuilder`].
//!
//! A `Client` is cheap to clone (one `Arc` inside) and all clones share one connection pool.
//!
//! ```no_run
//! use std::time::Duration;
//! use rostro_sdk::{AuthStyle, Client};
//!
//! # fn run() -> rostro_sdk::Result<()> {
//! // `ROSTRO_API_KEY`, `ROSTRO_BASE_URL`, `ROSTRO_MIMIC_BASE_URL`:
//! let client = Client::from_env()?;
//!
//! let custom = Client::builder()
//!     .api_key("ch-...")
//!     .auth_style(AuthStyle::ChubHeaders)
//!     .mimic_base_url("https://mercury.example/chub/mymodel")
//!     .timeout(Duration::from_secs(120))
//!     .max_retries(4)
//!     .idempotent_posts(true)
//!     .build()?;
//! # let _ = (client, custom);
//! # Ok(())
//! # }
//! ```

mod builder;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;

use crate::error::Result;
use crate::pacing::Pacer;
use crate::retry::Backoff;

pub use builder::ClientBuilder;

/// Default API base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.rostro.dev";
/// Default connect timeout (10 s).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default per-attempt request timeout (600 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// Default idle timeout of a stream (300 s): the longest gap between two reads of a
/// streamed body (keep-alive comments count) before the stream fails. Generous because a model
/// may think for minutes before its first token; servers that do send keep-alives.
pub const DEFAULT_STREAM_IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// Default cap on the size of one server-sent event (16 MiB, its data lines together).
pub const DEFAULT_MAX_EVENT_SIZE: usize = 16 << 20;
/// Default maximum number of retries (2, so at most 3 attempts).
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// Default `User-Agent`: `rostro-sdk/<version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("rostro-sdk/", env!("CARGO_PKG_VERSION"));

/// Environment variable holding the API key.
pub const ENV_API_KEY: &str = "ROSTRO_API_KEY";
/// Environment variable overriding the API base URL.
pub const ENV_BASE_URL: &str = "ROSTRO_BASE_URL";
/// Environment variable overriding the mimic base URL.
pub const ENV_MIMIC_BASE_URL: &str = "ROSTRO_MIMIC_BASE_URL";

/// An API key. `Debug` and `Display` print `***`; only [`expose`](ApiKey::expose) reveals it.
///
/// ```
/// let key = rostro_sdk::ApiKey::new("ch-secret");
/// assert_eq!(format!("{key} {key:?}"), "*** ***");
/// assert_eq!(key.expose(), "ch-secret");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(Box<str>);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into().into_boxed_str())
    }

    /// The key itself. Keep it out of logs.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for ApiKey {
    fn from(key: String) -> Self {
        ApiKey::new(key)
    }
}

impl From<&str> for ApiKey {
    fn from(key: &str) -> Self {
        ApiKey::new(key)
    }
}

/// How the API key is sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthStyle {
    /// `Authorization: Bearer <key>` (Rostro API, mimic API, Routstr).
    #[default]
    Bearer,
    /// `CH-API-KEY: <key>` and `samwise: <key>`, as the Chub web clients send it.
    ChubHeaders,
    /// Never send the key.
    None,
}

/// A Rostro API client. Cheap to clone; clones share configuration and connection pool.
///
/// See [`Client::execute`] and [`Client::execute_raw`] for sending requests.
///
/// ```no_run
/// use rostro_sdk::prelude::*;
///
/// # async fn run() -> Result<()> {
/// let client = Client::new("ch-your-key")?;
/// // Each group of operations is a handle: client.<group>().<method>(...).send().
/// let page = client.search().list().search("dragon").first(3).send().await?;
/// println!("{} result(s)", page.nodes.map_or(0, |n| n.len()));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientInner>,
}

pub(crate) struct ClientInner {
    pub(crate) http: reqwest::Client,
    pub(crate) api_base: Box<str>,
    pub(crate) mimic_base: Box<str>,
    /// `api_base` parsed once: a request copies it and sets only its path and query.
    pub(crate) api_url: reqwest::Url,
    /// `mimic_base` parsed once.
    pub(crate) mimic_url: reqwest::Url,
    /// User-Agent, Accept, auth and user default headers, applied to every request.
    pub(crate) default_headers: HeaderMap,
    pub(crate) api_key: Option<ApiKey>,
    pub(crate) auth_style: AuthStyle,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_retries: u32,
    pub(crate) backoff: Backoff,
    pub(crate) idempotent_posts: bool,
    pub(crate) stream_idle_timeout: Option<Duration>,
    pub(crate) max_event_size: usize,
    /// The rate-limit view and retry budget shared by every request of this client.
    pub(crate) pacer: Pacer,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &*self.inner;
        f.debug_struct("Client")
            .field("base_url", &i.api_base)
            .field("mimic_base_url", &i.mimic_base)
            .field("api_key", &i.api_key)
            .field("auth_style", &i.auth_style)
            .field("timeout", &i.timeout)
            .field("connect_timeout", &i.connect_timeout)
            .field("max_retries", &i.max_retries)
            .field("idempotent_posts", &i.idempotent_posts)
            .field("stream_idle_timeout", &i.stream_idle_timeout)
            .field("max_event_size", &i.max_event_size)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client with default settings sending `Authorization: Bearer <api_key>`.
    ///
    /// Fails with [`Error::Config`](crate::Error::Config) if the key cannot be sent in an
    /// HTTP header.
    pub fn new(api_key: impl Into<String>) -> Result<Self> {
        Self::builder().api_key(api_key).build()
    }

    /// A client configured from `ROSTRO_API_KEY`, `ROSTRO_BASE_URL` and
    /// `ROSTRO_MIMIC_BASE_URL`, each optional. Without a key the client is keyless: public
    /// operations (search, character pages, models) work, and one that needs a key fails
    /// with the server's `401` as an [`Error::Api`](crate::Error::Api) (see
    /// [`Client::has_api_key`] to check first). A variable that is set but invalid (a key
    /// with a newline, a base URL that is not `http(s)://`) is an
    /// [`Error::Config`](crate::Error::Config).
    ///
    /// ```no_run
    /// # async fn run() -> rostro_sdk::Result<()> {
    /// let client = rostro_sdk::Client::from_env()?;
    /// if !client.has_api_key() {
    ///     eprintln!("no ROSTRO_API_KEY: only public operations will work");
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_env() -> Result<Self> {
        ClientBuilder::from_env().build()
    }

    /// A builder with default settings and no API key.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The API base URL (no trailing `/`).
    pub fn base_url(&self) -> &str {
        &self.inner.api_base
    }

    /// The mimic (OpenAI-compatible) base URL (no trailing `/`).
    pub fn mimic_base_url(&self) -> &str {
        &self.inner.mimic_base
    }

    /// Whether an API key is configured.
    pub fn has_api_key(&self) -> bool {
        self.inner.api_key.is_some()
    }

    /// How the API key is sent.
    pub fn auth_style(&self) -> AuthStyle {
        self.inner.auth_style
    }

    /// Default per-attempt timeout.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// Default maximum number of retries.
    pub fn max_retries(&self) -> u32 {
        self.inner.max_retries
    }

    /// Default idle timeout of streams (`None`: a stream may wait forever between events).
    pub fn stream_idle_timeout(&self) -> Option<Duration> {
        self.inner.stream_idle_timeout
    }

    /// Largest server-sent event accepted, in bytes.
    pub fn max_event_size(&self) -> usize {
        self.inner.max_event_size
    }

    /// The underlying `reqwest` client (shared connection pool).
    pub fn http_client(&self) -> &reqwest::Client {
        &self.inner.http
    }
}
