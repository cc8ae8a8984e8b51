//! [`ClientBuilder`]: validating the configuration and building the [`Client`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};

use super::{
    ApiKey, AuthStyle, Client, ClientInner, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_EVENT_SIZE, DEFAULT_MAX_RETRIES, DEFAULT_STREAM_IDLE_TIMEOUT, DEFAULT_TIMEOUT,
    DEFAULT_USER_AGENT, ENV_API_KEY, ENV_BASE_URL, ENV_MIMIC_BASE_URL,
};
use crate::error::{Error, Result};
use crate::pacing::{DEFAULT_RETRY_BUDGET, Pacer};
use crate::request::is_sensitive_header;
use crate::retry::{Backoff, DEFAULT_INITIAL_DELAY, DEFAULT_MAX_DELAY};

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
        let (api_base, api_url) =
            normalize_base(self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL))?;
        let (mimic_base, mimic_url) = match self.mimic_base_url.as_deref() {
            Some(url) => normalize_base(url)?,
            None => (api_base.clone(), api_url.clone()),
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
                api_url,
                mimic_url,
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

/// Validates an http(s) base URL and returns it without a trailing `/`, and parsed (requests
/// then set only their path and query on a copy instead of parsing the whole URL again).
fn normalize_base(raw: &str) -> Result<(Box<str>, reqwest::Url)> {
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
    let trimmed: Box<str> = url.as_str().trim_end_matches('/').into();
    let parsed = reqwest::Url::parse(&trimmed)
        .map_err(|e| Error::config(format!("invalid base url `{raw}`: {e}")))?;
    Ok((trimmed, parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalized() {
        assert_eq!(
            &*normalize_base("https://host/chub/mymodel/").unwrap().0,
            "https://host/chub/mymodel"
        );
        assert_eq!(
            &*normalize_base("https://api.rostro.dev").unwrap().0,
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
