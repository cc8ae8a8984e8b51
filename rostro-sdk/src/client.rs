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

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};

use crate::error::{Error, Result};
use crate::pacing::{DEFAULT_RETRY_BUDGET, Pacer};
use crate::request::is_sensitive_header;
use crate::retry::{Backoff, DEFAULT_INITIAL_DELAY, DEFAULT_MAX_DELAY};

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
    /// Fails with [`Error::Config`] if the key cannot be sent in an HTTP header.
    pub fn new(api_key: impl Into<String>) -> Result<Self> {
        Self::builder().api_key(api_key).build()
    }

    /// A client configured from `ROSTRO_API_KEY`, `ROSTRO_BASE_URL` and
    /// `ROSTRO_MIMIC_BASE_URL`, each optional. Without a key the client is keyless: public
    /// operations (search, character pages, models) work, and one that needs a key fails
    /// with the server's `401` as an [`Error::Api`] (see [`Client::has_api_key`] to check
    /// first). A variable that is set but invalid (a key with a newline, a base URL that is
    /// not `http(s)://`) is an [`Error::Config`].
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

/// Configures a [`Client`]. Invalid values are reported by [`build`](ClientBuilder::build).
///
/// ```no_run
/// use std::time::Duration;
/// use rostro_sdk::{AuthStyle, Client};
///
/// # fn run() -> rostro_sdk::Result<()> {
/// let client = Client::builder()
///     .base_url("http://127.0.0.1:8080") // e.g. a rostro-mock in a test
///     .api_key("test-key")
///     .auth_style(AuthStyle::Bearer)
///     .timeout(Duration::from_secs(30))
///     .max_retries(0)
///     .build()?;
/// # let _ = client;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ClientBuilder {
    api_key: Option<ApiKey>,
    base_url: Option<String>,
    mimic_base_url: Option<String>,
    auth_style: AuthStyle,
    user_agent: Option<String>,
    default_headers: Vec<(String, String)>,
    connect_timeout: Duration,
    timeout: Duration,
    max_retries: u32,
    http_client: Option<reqwest::Client>,
    idempotent_posts: bool,
    initial_retry_delay: Duration,
    max_retry_delay: Duration,
    stream_idle_timeout: Option<Duration>,
    max_event_size: usize,
    pacing: bool,
    retry_budget: Option<u32>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            api_key: None,
            base_url: None,
            mimic_base_url: None,
            auth_style: AuthStyle::Bearer,
            user_agent: None,
            default_headers: Vec::new(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            max_retries: DEFAULT_MAX_RETRIES,
            http_client: None,
            idempotent_posts: false,
            initial_retry_delay: DEFAULT_INITIAL_DELAY,
            max_retry_delay: DEFAULT_MAX_DELAY,
            stream_idle_timeout: Some(DEFAULT_STREAM_IDLE_TIMEOUT),
            max_event_size: DEFAULT_MAX_EVENT_SIZE,
            pacing: true,
            retry_budget: Some(DEFAULT_RETRY_BUDGET),
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.default_headers.iter().map(|(n, _)| &**n).collect();
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key)
            .field("base_url", &self.base_url)
            .field("mimic_base_url", &self.mimic_base_url)
            .field("auth_style", &self.auth_style)
            .field("user_agent", &self.user_agent)
            .field("default_headers", &header_names)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("custom_http_client", &self.http_client.is_some())
            .field("idempotent_posts", &self.idempotent_posts)
            .field("stream_idle_timeout", &self.stream_idle_timeout)
            .field("max_event_size", &self.max_event_size)
            .field("pacing", &self.pacing)
            .field("retry_budget", &self.retry_budget)
            .finish_non_exhaustive()
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl ClientBuilder {
    /// A builder with defaults, taking the API key and base URLs from the environment
    /// variables that are set (`ROSTRO_API_KEY`, `ROSTRO_BASE_URL`, `ROSTRO_MIMIC_BASE_URL`).
    pub fn from_env() -> Self {
        ClientBuilder {
            api_key: env_var(ENV_API_KEY).map(|k| ApiKey::new(k.trim())),
            base_url: env_var(ENV_BASE_URL),
            mimic_base_url: env_var(ENV_MIMIC_BASE_URL),
            ..ClientBuilder::default()
        }
    }

    /// The API key (optional: public endpoints work without one).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(ApiKey::new(key));
        self
    }

    /// The API base URL, default `https://api.rostro.dev`. Request URLs are this URL without
    /// its trailing `/` followed by the operation path, so a base with a path prefix works.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The OpenAI-compatible "mimic" base URL (e.g. `https://host/chub/mymodel`); defaults to
    /// the API base URL.
    pub fn mimic_base_url(mut self, url: impl Into<String>) -> Self {
        self.mimic_base_url = Some(url.into());
        self
    }

    /// How the key is sent, default [`AuthStyle::Bearer`].
    pub fn auth_style(mut self, style: AuthStyle) -> Self {
        self.auth_style = style;
        self
    }

    /// Overrides the `User-Agent` (default `rostro-sdk/<version>`).
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = Some(ua.into());
        self
    }

    /// Adds a header sent with every request (overriding built-in ones of the same name).
    pub fn default_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.default_headers.push((name.into(), value.into()));
        self
    }

    /// TCP/TLS connect timeout, default 10 s. Ignored with [`http_client`](Self::http_client).
    /// Like every duration the client takes, any value works: a huge one (even
    /// `Duration::MAX`) means "practically never".
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Per-attempt request timeout, default 600 s. For a stream it covers the wait for the
    /// response headers; the gaps between events are bounded by
    /// [`stream_idle_timeout`](Self::stream_idle_timeout).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// Maximum number of retries, default 2 (0 disables retries). Which failures are retried
    /// is described in the [crate docs](crate#retries): 429 and 503-with-`Retry-After` for
    /// every method, other transient failures of POST/PATCH only with an idempotency key.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// Sends requests through this `reqwest::Client` (its own timeouts, proxy and redirect
    /// settings apply; [`connect_timeout`](Self::connect_timeout) is ignored).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Gives every POST/PATCH a generated `Idempotency-Key` (uuid v4, the same on every
    /// attempt) so they are retried like GETs (on 5xx, resets and timeouts too, not only on
    /// 429 and 503 with `Retry-After`). Off by default; per call see
    /// [`CallOptions::idempotent_retries`](crate::CallOptions::idempotent_retries).
    pub fn idempotent_posts(mut self, on: bool) -> Self {
        self.idempotent_posts = on;
        self
    }

    /// First backoff delay, default 500 ms (doubling per retry). Mostly useful in tests.
    pub fn initial_retry_delay(mut self, d: Duration) -> Self {
        self.initial_retry_delay = d;
        self
    }

    /// Backoff cap, default 8 s. Server-requested waits (`Retry-After`) are not capped by this.
    pub fn max_retry_delay(mut self, d: Duration) -> Self {
        self.max_retry_delay = d;
        self
    }

    /// How long a stream may receive nothing (keep-alive comments count as something) before
    /// it fails with [`Error::Stream`] of kind
    /// [`Idle`](crate::StreamErrorKind::Idle), keeping the text received. Default
    /// [`DEFAULT_STREAM_IDLE_TIMEOUT`] (300 s); `None` turns it off (a stalled server then
    /// hangs the stream). Per call see [`ChatCall::idle_timeout`](crate::chat::ChatCall::idle_timeout).
    pub fn stream_idle_timeout(mut self, d: impl Into<Option<Duration>>) -> Self {
        self.stream_idle_timeout = d.into();
        self
    }

    /// Largest server-sent event a stream accepts, in bytes (its data lines together),
    /// default [`DEFAULT_MAX_EVENT_SIZE`] (16 MiB). A larger event ends the stream with
    /// [`Error::Stream`] of kind [`EventTooLarge`](crate::StreamErrorKind::EventTooLarge),
    /// keeping the text received before it. `0` is refused by [`build`](Self::build).
    pub fn max_event_size(mut self, bytes: usize) -> Self {
        self.max_event_size = bytes;
        self
    }

    /// Paces requests by the server's rate limit, default on: all requests of the client (and
    /// of its clones) share what `X-RateLimit-Limit`, `-Remaining`, `-Reset` and a 429's
    /// `Retry-After` said, and a new attempt waits while the window is used up, so a batch
    /// slows down instead of failing. See the [crate docs](crate#retries).
    pub fn pacing(mut self, on: bool) -> Self {
        self.pacing = on;
        self
    }

    /// Size of the retry budget shared by all requests of the client, in tokens, default
    /// 500; `None` lets every request retry up to [`max_retries`](Self::max_retries)
    /// whatever the others saw. A retry after a failure costs 5 tokens (10 after a timeout),
    /// a success gives 1 back (5 after a retry); rejections (429, 503 with `Retry-After`)
    /// cost nothing. With too few tokens left a failure is returned instead of retried, so
    /// a failing server is not hammered by every request at once.
    pub fn retry_budget(mut self, tokens: Option<u32>) -> Self {
        self.retry_budget = tokens;
        self
    }

    /// Validates the configuration and builds the client.
    pub fn build(self) -> Result<Client> {
        if self.max_event_size == 0 {
            return Err(Error::config("max_event_size must be at least 1 byte"));
        }
        let api_base = normalize_base(self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL))?;
        let mimic_base = match self.mimic_base_url.as_deref() {
            Some(url) => normalize_base(url)?,
            None => api_base.clone(),
        };

        let headers = self.default_header_map()?;

        let http = match self.http_client {
            Some(http) => http,
            None => reqwest::Client::builder()
                .connect_timeout(self.connect_timeout)
                .redirect(redirect_policy())
                .build()
                .map_err(|e| Error::config(format!("could not build the http client: {e}")))?,
        };

        Ok(Client {
            inner: Arc::new(ClientInner {
                http,
                api_base,
                mimic_base,
                default_headers: headers,
                api_key: self.api_key,
                auth_style: self.auth_style,
                timeout: self.timeout,
                connect_timeout: self.connect_timeout,
                max_retries: self.max_retries,
                backoff: Backoff {
                    initial: self.initial_retry_delay,
                    max: self.max_retry_delay.max(self.initial_retry_delay),
                },
                idempotent_posts: self.idempotent_posts,
                stream_idle_timeout: self.stream_idle_timeout,
                max_event_size: self.max_event_size,
                pacer: Pacer::new(self.pacing, self.retry_budget),
            }),
        })
    }

    /// The headers sent with every API request: user agent, `Accept`, the API key in the
    /// configured style, then the configured default headers.
    fn default_header_map(&self) -> Result<HeaderMap> {
        let mut headers = HeaderMap::new();
        let ua = match &self.user_agent {
            Some(ua) => HeaderValue::from_str(ua)
                .map_err(|_| Error::config("the user agent is not a valid header value"))?,
            None => HeaderValue::from_static(DEFAULT_USER_AGENT),
        };
        headers.insert(header::USER_AGENT, ua);
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));

        if let Some(key) = &self.api_key {
            let invalid =
                || Error::config("the api key contains characters not allowed in an http header");
            match self.auth_style {
                AuthStyle::Bearer => {
                    let mut v = HeaderValue::try_from(format!("Bearer {}", key.expose()))
                        .map_err(|_| invalid())?;
                    v.set_sensitive(true);
                    headers.insert(header::AUTHORIZATION, v);
                }
                AuthStyle::ChubHeaders => {
                    let mut v = HeaderValue::from_str(key.expose()).map_err(|_| invalid())?;
                    v.set_sensitive(true);
                    headers.insert(HeaderName::from_static("ch-api-key"), v.clone());
                    headers.insert(HeaderName::from_static("samwise"), v);
                }
                AuthStyle::None => {}
            }
        }

        for (name, value) in &self.default_headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                Error::config(format!("invalid header name `{}`", name.escape_debug()))
            })?;
            let mut value = HeaderValue::from_str(value)
                .map_err(|_| Error::config(format!("invalid value for header `{name}`")))?;
            if is_sensitive_header(&name) {
                value.set_sensitive(true);
            }
            headers.insert(name, value);
        }
        Ok(headers)
    }
}

/// Follows up to 10 same-origin redirects. A cross-origin redirect is not followed (the 3xx is
/// returned as an error with its `Location` header) because `CH-API-KEY`, `samwise` and other
/// credential headers would otherwise be forwarded to the other host.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .last()
            .is_some_and(|prev| prev.origin() == attempt.url().origin());
        if attempt.previous().len() > 10 {
            attempt.error("too many redirects")
        } else if same_origin {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// Validates an http(s) base URL and returns it without a trailing `/`.
fn normalize_base(raw: &str) -> Result<Box<str>> {
    let raw = raw.trim();
    let url = reqwest::Url::parse(raw)
        .map_err(|e| Error::config(format!("invalid base url `{raw}`: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
        return Err(Error::config(format!(
            "invalid base url `{raw}`: expected an http or https url"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(format!(
            "invalid base url `{raw}`: a base url cannot have a query or fragment"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config(
            "invalid base url: credentials in the url are not supported, use an api key",
        ));
    }
    Ok(url.as_str().trim_end_matches('/').into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalized() {
        assert_eq!(
            &*normalize_base("https://host/chub/mymodel/").unwrap(),
            "https://host/chub/mymodel"
        );
        assert_eq!(
            &*normalize_base("https://api.rostro.dev").unwrap(),
            "https://api.rostro.dev"
        );
        assert!(normalize_base("not a url").is_err());
        assert!(normalize_base("ftp://x").is_err());
        assert!(normalize_base("https://x/?a=1").is_err());
    }

    #[test]
    fn debug_hides_key() {
        let b = Client::builder().api_key("sk-secret-123");
        assert!(!format!("{b:?}").contains("secret"));
        let c = b.build().unwrap();
        assert!(!format!("{c:?}").contains("secret"));
        assert!(format!("{c:?}").contains("***"));
    }
}
