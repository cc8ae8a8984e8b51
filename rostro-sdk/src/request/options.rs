//! Per-call options: [`RequestOptions`] and the [`CallOptions`] chaining API.

use std::fmt;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};

/// Per-call options: extra headers, query parameters and body fields, timeout, retries and
/// idempotency. Later settings win; see [`CallOptions`] for the chaining API.
#[derive(Default, Clone, Debug)]
pub struct RequestOptions {
    headers: HeaderMap,
    query: Vec<(String, String)>,
    body: Map<String, Value>,
    timeout: Option<Duration>,
    max_retries: Option<u32>,
    idempotency_key: Option<String>,
    idempotent_retries: Option<bool>,
    on_headers: Option<HeadersHook>,
    /// First invalid input, reported as `Error::InvalidRequest` at send time.
    pub(crate) invalid: Option<String>,
}

/// A function called with each response's status and headers as soon as they arrive,
/// before the body is read (see [`CallOptions::on_response_headers`]).
#[derive(Clone)]
pub struct HeadersHook(std::sync::Arc<dyn Fn(&crate::response::ResponseMeta) + Send + Sync>);

impl HeadersHook {
    /// Wraps `f`.
    pub fn new(f: impl Fn(&crate::response::ResponseMeta) + Send + Sync + 'static) -> Self {
        HeadersHook(std::sync::Arc::new(f))
    }

    /// Calls the function.
    pub fn call(&self, meta: &crate::response::ResponseMeta) {
        (self.0)(meta)
    }
}

impl fmt::Debug for HeadersHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HeadersHook")
    }
}

impl RequestOptions {
    /// Empty options (everything inherited from the client).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a header, replacing any value the client would send. An invalid name or value is
    /// remembered and reported as [`Error::InvalidRequest`](crate::Error::InvalidRequest) when the request is sent.
    pub fn set_header(&mut self, name: &str, value: &str) -> &mut Self {
        let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
            self.invalid_input(format!("invalid header name `{}`", name.escape_debug()));
            return self;
        };
        match HeaderValue::from_str(value) {
            Ok(value) => self.insert_header(name, value),
            Err(_) => {
                // Never echo the value: it may be a credential.
                self.invalid_input(format!("invalid value for header `{name}`"));
                self
            }
        }
    }

    /// Sets an already validated header. Credential-carrying headers are marked sensitive.
    pub fn insert_header(&mut self, name: HeaderName, mut value: HeaderValue) -> &mut Self {
        if is_sensitive_header(&name) {
            value.set_sensitive(true);
        }
        self.headers.insert(name, value);
        self
    }

    /// Appends a query parameter after the operation's own parameters.
    pub fn push_query(&mut self, name: &str, value: impl Into<String>) -> &mut Self {
        self.query.push((name.to_owned(), value.into()));
        self
    }

    /// Adds a field to the top-level JSON object body (or a text field to a multipart body).
    pub fn set_body_field(&mut self, name: &str, value: impl Into<Value>) -> &mut Self {
        self.body.insert(name.to_owned(), value.into());
        self
    }

    /// Per-attempt timeout (until the full response for [`Client::execute`], until the status
    /// and headers for [`Client::execute_raw`]).
    ///
    /// [`Client::execute`]: crate::Client::execute
    /// [`Client::execute_raw`]: crate::Client::execute_raw
    pub fn set_timeout(&mut self, timeout: Duration) -> &mut Self {
        self.timeout = Some(timeout);
        self
    }

    /// Maximum number of retries for this call (0 disables retries).
    pub fn set_max_retries(&mut self, n: u32) -> &mut Self {
        self.max_retries = Some(n);
        self
    }

    /// Sends `Idempotency-Key: <key>` on every attempt, which also makes POST/PATCH retryable.
    pub fn set_idempotency_key(&mut self, key: impl Into<String>) -> &mut Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Calls `hook` with every response's status and headers (any status, each attempt)
    /// as soon as they arrive, before the body is read: e.g. to store a Routstr change
    /// token before anything can go wrong with the body.
    pub fn set_on_headers(&mut self, hook: HeadersHook) -> &mut Self {
        self.on_headers = Some(hook);
        self
    }

    /// The hook set with [`set_on_headers`](Self::set_on_headers).
    pub fn on_headers(&self) -> Option<&HeadersHook> {
        self.on_headers.as_ref()
    }

    /// Overrides the client's [`idempotent_posts`](crate::ClientBuilder::idempotent_posts)
    /// setting for this call: when on, a POST/PATCH gets a generated `Idempotency-Key`
    /// (uuid v4, the same on every attempt) and is retried like a GET.
    pub fn set_idempotent_retries(&mut self, on: bool) -> &mut Self {
        self.idempotent_retries = Some(on);
        self
    }

    /// Merges `other` into `self`: headers and body fields are replaced by name, query
    /// parameters appended, scalar settings overridden when set in `other`.
    pub fn merge(&mut self, other: RequestOptions) {
        if self.is_empty() {
            *self = other;
            return;
        }
        let mut last: Option<HeaderName> = None;
        for (name, value) in other.headers {
            match name {
                Some(name) => {
                    self.headers.insert(name.clone(), value);
                    last = Some(name);
                }
                None => {
                    if let Some(name) = &last {
                        self.headers.append(name.clone(), value);
                    }
                }
            }
        }
        self.query.extend(other.query);
        self.body.extend(other.body);
        if other.timeout.is_some() {
            self.timeout = other.timeout;
        }
        if other.max_retries.is_some() {
            self.max_retries = other.max_retries;
        }
        if other.idempotency_key.is_some() {
            self.idempotency_key = other.idempotency_key;
        }
        if other.idempotent_retries.is_some() {
            self.idempotent_retries = other.idempotent_retries;
        }
        if other.on_headers.is_some() {
            self.on_headers = other.on_headers;
        }
        if self.invalid.is_none() {
            self.invalid = other.invalid;
        }
    }

    /// Whether nothing is set (everything inherited from the client).
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
            && self.query.is_empty()
            && self.body.is_empty()
            && self.timeout.is_none()
            && self.max_retries.is_none()
            && self.idempotency_key.is_none()
            && self.idempotent_retries.is_none()
            && self.on_headers.is_none()
            && self.invalid.is_none()
    }

    /// Extra headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Extra query parameters, in order.
    pub fn extra_query_params(&self) -> &[(String, String)] {
        &self.query
    }

    /// Extra body fields.
    pub fn extra_body_fields(&self) -> &Map<String, Value> {
        &self.body
    }

    /// Per-attempt timeout override.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Retry limit override.
    pub fn retry_limit(&self) -> Option<u32> {
        self.max_retries
    }

    /// Caller-supplied idempotency key.
    pub fn idempotency_key_value(&self) -> Option<&str> {
        self.idempotency_key.as_deref()
    }

    /// Per-call override of automatic idempotency keys (see
    /// [`set_idempotent_retries`](Self::set_idempotent_retries)).
    pub fn idempotent_retries_override(&self) -> Option<bool> {
        self.idempotent_retries
    }

    fn invalid_input(&mut self, message: String) {
        if self.invalid.is_none() {
            self.invalid = Some(message);
        }
    }
}

/// Chainable per-call options, implemented by every generated request builder (which only
/// provides [`options_mut`](CallOptions::options_mut)) and by [`RequestOptions`] itself.
///
/// None of these methods panic: an invalid header name or value is remembered and returned as
/// [`Error::InvalidRequest`](crate::Error::InvalidRequest) when the call is sent, before anything goes on the wire.
pub trait CallOptions: Sized {
    /// The options this builder will send with.
    fn options_mut(&mut self) -> &mut RequestOptions;

    /// Adds (or replaces) a request header.
    fn extra_header(mut self, name: &str, value: &str) -> Self {
        self.options_mut().set_header(name, value);
        self
    }

    /// Appends a query parameter.
    fn extra_query(mut self, name: &str, value: impl Into<String>) -> Self {
        self.options_mut().push_query(name, value);
        self
    }

    /// Adds a field to the top-level JSON object body.
    fn extra_body_field(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.options_mut().set_body_field(name, value);
        self
    }

    /// Overrides the per-attempt timeout.
    fn request_timeout(mut self, d: Duration) -> Self {
        self.options_mut().set_timeout(d);
        self
    }

    /// Overrides the maximum number of retries (0 disables retries).
    fn max_retries(mut self, n: u32) -> Self {
        self.options_mut().set_max_retries(n);
        self
    }

    /// Sends this `Idempotency-Key` on every attempt, making POST/PATCH safe to retry.
    fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.options_mut().set_idempotency_key(key);
        self
    }

    /// Turns generated idempotency keys (and thus POST/PATCH retries) on or off for this call.
    fn idempotent_retries(mut self, on: bool) -> Self {
        self.options_mut().set_idempotent_retries(on);
        self
    }

    /// Calls `f` with each response's status and headers as soon as they arrive (any
    /// status, every attempt), before the body is read; see
    /// [`RequestOptions::set_on_headers`].
    fn on_response_headers(
        mut self,
        f: impl Fn(&crate::response::ResponseMeta) + Send + Sync + 'static,
    ) -> Self {
        self.options_mut().set_on_headers(HeadersHook::new(f));
        self
    }

    /// Merges a prepared [`RequestOptions`] into this call's options.
    fn with_options(mut self, opts: RequestOptions) -> Self {
        self.options_mut().merge(opts);
        self
    }
}

impl CallOptions for RequestOptions {
    fn options_mut(&mut self) -> &mut RequestOptions {
        self
    }
}

/// Headers whose values are credentials: marked sensitive so they never show in `Debug` output.
pub(crate) fn is_sensitive_header(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "authorization"
            | "proxy-authorization"
            | "cookie"
            | "ch-api-key"
            | "samwise"
            | "x-api-key"
            | "api-key"
            | "x-cashu"
    )
}
