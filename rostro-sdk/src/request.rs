//! Describing one logical API call: [`Operation`], [`Request`], bodies and per-call options.
//!
//! Generated code declares one `static` [`Operation`] per endpoint, fills a [`Request`] with path
//! parameters, query parameters and a body, and hands it to [`Client::execute`] (typed JSON) or
//! [`Client::execute_raw`] (streams and downloads). Callers tune a single call through
//! [`CallOptions`], which every generated request builder implements.
//!
//! ```no_run
//! use rostro_sdk::request::{Base, HttpMethod, Operation, Request, RequestOptions};
//! use rostro_sdk::CallOptions;
//!
//! static GET_PROJECT: Operation = Operation {
//!     id: "get_project",
//!     method: HttpMethod::Get,
//!     path: "/api/gallery/project/{project_id}",
//!     base: Base::Api,
//! };
//!
//! # async fn run(client: rostro_sdk::Client) -> rostro_sdk::Result<()> {
//! let mut req = Request::new(&GET_PROJECT);
//! req.path_param("project_id", 42);
//! req.query("full", "true");
//! req.options(RequestOptions::default().max_retries(5).extra_header("x-trace", "abc"));
//! let project = client.execute::<serde_json::Value>(req).await?;
//! println!("{} after {} attempt(s)", project.value(), project.meta().attempts);
//! # Ok(())
//! # }
//! ```
//!
//! [`Client::execute`]: crate::Client::execute
//! [`Client::execute_raw`]: crate::Client::execute_raw

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};

use crate::error::Error;

/// HTTP method of an [`Operation`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HttpMethod {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
    /// `HEAD`
    Head,
}

impl HttpMethod {
    /// The method name as sent on the wire (`"GET"`, `"POST"`, ...).
    pub const fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Head => "HEAD",
        }
    }

    /// Whether repeating the request is harmless by HTTP semantics (GET, PUT, DELETE, HEAD).
    ///
    /// Only such requests are retried after they may have reached the server, unless the call
    /// carries an `Idempotency-Key`.
    pub const fn is_idempotent(self) -> bool {
        matches!(
            self,
            HttpMethod::Get | HttpMethod::Put | HttpMethod::Delete | HttpMethod::Head
        )
    }

    pub(crate) fn to_reqwest(self) -> reqwest::Method {
        match self {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
            HttpMethod::Put => reqwest::Method::PUT,
            HttpMethod::Patch => reqwest::Method::PATCH,
            HttpMethod::Delete => reqwest::Method::DELETE,
            HttpMethod::Head => reqwest::Method::HEAD,
        }
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which configured base URL an operation's path is joined to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Base {
    /// The Rostro API base URL ([`ClientBuilder::base_url`](crate::ClientBuilder::base_url)).
    Api,
    /// The OpenAI-compatible "mimic" base URL
    /// ([`ClientBuilder::mimic_base_url`](crate::ClientBuilder::mimic_base_url)).
    Mimic,
}

/// Static description of one API endpoint, as declared by generated code.
///
/// All fields are public and `const`-constructible so operations can live in `static`s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Operation {
    /// The spec's `operationId`; names the call in errors and traces.
    pub id: &'static str,
    /// HTTP method.
    pub method: HttpMethod,
    /// Path template such as `/api/gallery/project/{project_id}`.
    pub path: &'static str,
    /// Which base URL the path is joined to.
    pub base: Base,
}

/// Where an operation parameter goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParamLocation {
    /// A `{name}` segment of the path template.
    Path,
    /// A query-string parameter.
    Query,
}

/// One parameter of an operation as the spec declares it (see
/// [`OperationId::parameters`](crate::OperationId::parameters)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ParamSpec {
    /// The name on the wire.
    pub name: &'static str,
    /// Path or query.
    pub location: ParamLocation,
    /// Whether the spec requires it (path parameters always are).
    pub required: bool,
}

/// One field of a `multipart/form-data` body.
#[derive(Clone, Debug)]
pub enum Part {
    /// A plain text field.
    Text(String),
    /// A file field.
    File(FilePart),
}

impl Part {
    /// A text field.
    pub fn text(value: impl Into<String>) -> Self {
        Part::Text(value.into())
    }
}

impl From<FilePart> for Part {
    fn from(file: FilePart) -> Self {
        Part::File(file)
    }
}

/// Where the bytes of a [`FilePart`] come from.
#[derive(Clone)]
#[non_exhaustive]
pub enum FileSource {
    /// A file on disk, re-opened and streamed on every attempt (never read whole into memory).
    Path(PathBuf),
    /// Bytes in memory (cheaply cloned on every attempt).
    Bytes(Bytes),
}

impl fmt::Debug for FileSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileSource::Path(p) => f.debug_tuple("Path").field(p).finish(),
            FileSource::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
        }
    }
}

/// A file uploaded as one field of a multipart body.
///
/// ```
/// use rostro_sdk::request::FilePart;
/// let avatar = FilePart::from_path("avatar.png"); // file name and content type inferred
/// let inline = FilePart::from_bytes("notes.txt", &b"hello"[..]).content_type("text/plain");
/// # let _ = (avatar, inline);
/// ```
#[derive(Clone, Debug)]
pub struct FilePart {
    source: FileSource,
    file_name: Option<String>,
    content_type: Option<String>,
}

impl FilePart {
    /// A file on disk. Its name defaults to the path's last component and its content type is
    /// guessed from the extension. The file is opened (and its length taken) when the request is
    /// sent, and again on every retry.
    pub fn from_path(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        FilePart {
            source: FileSource::Path(path),
            file_name,
            content_type: None,
        }
    }

    /// In-memory bytes sent under `file_name`.
    pub fn from_bytes(file_name: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        FilePart {
            source: FileSource::Bytes(bytes.into()),
            file_name: Some(file_name.into()),
            content_type: None,
        }
    }

    /// Overrides the file name sent in `Content-Disposition`.
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = Some(name.into());
        self
    }

    /// Overrides the part's `Content-Type` (otherwise guessed from the file name, falling back to
    /// `application/octet-stream`).
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// Where the bytes come from.
    pub fn source(&self) -> &FileSource {
        &self.source
    }

    /// The file name that will be sent, if any.
    pub fn name(&self) -> Option<&str> {
        self.file_name.as_deref()
    }

    /// The content type that will be sent.
    pub fn mime(&self) -> &str {
        match &self.content_type {
            Some(ct) => ct,
            None => guess_mime(self.file_name.as_deref().unwrap_or("")),
        }
    }

    /// Builds the reqwest part for one attempt, re-opening a path source.
    pub(crate) async fn to_reqwest(&self) -> Result<reqwest::multipart::Part, FilePartError> {
        let part = match &self.source {
            FileSource::Path(path) => {
                let file = tokio::fs::File::open(path)
                    .await
                    .map_err(FilePartError::Io)?;
                let len = file.metadata().await.map_err(FilePartError::Io)?.len();
                reqwest::multipart::Part::stream_with_length(file, len)
            }
            FileSource::Bytes(bytes) => {
                reqwest::multipart::Part::stream_with_length(bytes.clone(), bytes.len() as u64)
            }
        };
        let part = match &self.file_name {
            Some(name) => part.file_name(escape_disposition(name).into_owned()),
            None => part,
        };
        part.mime_str(self.mime())
            .map_err(|_| FilePartError::InvalidMime)
    }

    pub(crate) fn path(&self) -> Option<&Path> {
        match &self.source {
            FileSource::Path(p) => Some(p),
            FileSource::Bytes(_) => None,
        }
    }
}

/// Why a file part could not be built for an attempt.
pub(crate) enum FilePartError {
    Io(std::io::Error),
    InvalidMime,
}

/// Escapes `"`, CR and LF in a `Content-Disposition` parameter the way browsers do.
pub(crate) fn escape_disposition(s: &str) -> Cow<'_, str> {
    if !s.contains(['"', '\r', '\n']) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.replace('"', "%22")
            .replace('\r', "%0D")
            .replace('\n', "%0A"),
    )
}

fn guess_mime(name: &str) -> &'static str {
    let ext = match name.rsplit_once('.') {
        Some((_, ext)) => ext,
        None => return "application/octet-stream",
    };
    let lower = ext.to_ascii_lowercase();
    match lower.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "ogg" => "audio/ogg",
        "flac" => "audio/flac",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "json" => "application/json",
        "txt" => "text/plain",
        "md" => "text/markdown",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

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
    /// remembered and reported as [`Error::InvalidRequest`] when the request is sent.
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
/// [`Error::InvalidRequest`] when the call is sent, before anything goes on the wire.
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

/// Opens a streamed body for one attempt: the body and its length when known (sent as
/// `Content-Length`). Called again on every retry.
pub(crate) type OpenBody = std::sync::Arc<
    dyn Fn() -> futures::future::BoxFuture<'static, std::io::Result<(reqwest::Body, Option<u64>)>>
        + Send
        + Sync,
>;

/// The body of a [`Request`].
#[derive(Clone, Default)]
pub(crate) enum Body {
    #[default]
    Empty,
    Json(Bytes),
    Raw(HeaderValue, Bytes),
    Multipart(Vec<(String, Part)>),
    /// Produced chunk by chunk per attempt (large uploads; see `crate::media`).
    Stream(HeaderValue, OpenBody),
}

/// One logical API call, built by generated code and sent with
/// [`Client::execute`](crate::Client::execute) or [`Client::execute_raw`](crate::Client::execute_raw).
pub struct Request {
    pub(crate) op: &'static Operation,
    pub(crate) path: Cow<'static, str>,
    /// Already encoded query string, without the leading `?`.
    pub(crate) query: String,
    pub(crate) body: Body,
    pub(crate) options: RequestOptions,
    /// First invalid input, reported as `Error::InvalidRequest` at send time.
    pub(crate) invalid: Option<String>,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let body = match &self.body {
            Body::Empty => "empty".to_owned(),
            Body::Json(b) => format!("json ({} bytes)", b.len()),
            Body::Raw(_, b) => format!("raw ({} bytes)", b.len()),
            Body::Multipart(p) => format!("multipart ({} parts)", p.len()),
            Body::Stream(..) => "stream".to_owned(),
        };
        f.debug_struct("Request")
            .field("operation", &self.op.id)
            .field("method", &self.op.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("body", &body)
            .field("options", &self.options)
            .finish()
    }
}

impl Request {
    /// A request for `op` with no parameters, body or options yet.
    pub fn new(op: &'static Operation) -> Self {
        Request {
            op,
            path: Cow::Borrowed(op.path),
            query: String::new(),
            body: Body::Empty,
            options: RequestOptions::default(),
            invalid: None,
        }
    }

    /// The operation this request calls.
    pub fn operation(&self) -> &'static Operation {
        self.op
    }

    /// The path rendered so far (placeholders not yet substituted stay as `{name}`).
    pub fn rendered_path(&self) -> &str {
        &self.path
    }

    /// The encoded query string built so far (without `?`, without option extras).
    pub fn query_string(&self) -> &str {
        &self.query
    }

    /// The options merged into this request so far.
    pub fn request_options(&self) -> &RequestOptions {
        &self.options
    }

    /// Substitutes `{name}` in the path template with `value`, percent-encoded as one path
    /// segment (everything except `A-Z a-z 0-9 - . _ ~` is encoded, including `/`).
    ///
    /// An unknown name, an empty value, `.` or `..` are reported as
    /// [`Error::InvalidRequest`] at send time.
    pub fn path_param(&mut self, name: &str, value: impl fmt::Display) {
        let Some((start, end)) = find_placeholder(&self.path, name) else {
            self.invalid_input(format!(
                "path `{}` has no parameter `{}`",
                self.op.path,
                name.escape_debug()
            ));
            return;
        };
        let mut out = String::with_capacity(self.path.len() + 16);
        out.push_str(&self.path[..start]);
        let seg_start = out.len();
        // Writing into a String through our encoder cannot fail unless `value`'s Display does.
        let written = fmt::write(&mut SegmentEncoder(&mut out), format_args!("{value}"));
        let segment = &out[seg_start..];
        if written.is_err() || segment.is_empty() || segment == "." || segment == ".." {
            self.invalid_input(format!(
                "path parameter `{name}` must be a non-empty segment other than `.` and `..`"
            ));
            return;
        }
        out.push_str(&self.path[end..]);
        self.path = Cow::Owned(out);
    }

    /// Appends `name=value` (form-urlencoded) to the query string, in call order. Repeat the
    /// name for array parameters.
    pub fn query(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        if !self.query.is_empty() {
            self.query.push('&');
        }
        self.query
            .extend(url::form_urlencoded::byte_serialize(name.as_bytes()));
        self.query.push('=');
        self.query
            .extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
    }

    /// Serializes `body` as the JSON body, once, now. Retries resend the same bytes.
    pub fn json_body<T: serde::Serialize + ?Sized>(&mut self, body: &T) -> crate::Result<()> {
        match serde_json::to_vec(body) {
            Ok(bytes) => {
                self.body = Body::Json(Bytes::from(bytes));
                Ok(())
            }
            Err(e) => Err(Error::InvalidRequest {
                operation: self.op.id,
                message: format!("could not serialize the request body: {e}"),
            }),
        }
    }

    /// Sets a `multipart/form-data` body; fields are sent in order.
    pub fn multipart(&mut self, parts: Vec<(String, Part)>) {
        self.body = Body::Multipart(parts);
    }

    /// Sets a raw body with its content type.
    pub fn raw_body(&mut self, content_type: &str, bytes: Bytes) {
        match HeaderValue::from_str(content_type) {
            Ok(ct) => self.body = Body::Raw(ct, bytes),
            Err(_) => self.invalid_input(format!(
                "invalid content type `{}`",
                content_type.escape_debug()
            )),
        }
    }

    /// Sets a body streamed per attempt by `open` (see [`OpenBody`]).
    pub(crate) fn stream_body(&mut self, content_type: &str, open: OpenBody) {
        match HeaderValue::from_str(content_type) {
            Ok(ct) => self.body = Body::Stream(ct, open),
            Err(_) => self.invalid_input(format!(
                "invalid content type `{}`",
                content_type.escape_debug()
            )),
        }
    }

    /// Sets a header on this request (same rules as [`RequestOptions::set_header`]).
    pub fn header(&mut self, name: &str, value: &str) {
        self.options.set_header(name, value);
    }

    /// Merges per-call options (see [`RequestOptions::merge`]).
    pub fn options(&mut self, opts: RequestOptions) {
        self.options.merge(opts);
    }

    fn invalid_input(&mut self, message: String) {
        if self.invalid.is_none() {
            self.invalid = Some(message);
        }
    }
}

impl CallOptions for Request {
    fn options_mut(&mut self) -> &mut RequestOptions {
        &mut self.options
    }
}

/// Finds `{name}` in `path`, returning the byte range of the whole placeholder.
fn find_placeholder(path: &str, name: &str) -> Option<(usize, usize)> {
    let bytes = path.as_bytes();
    let mut from = 0;
    while let Some(off) = path[from..].find('{') {
        let start = from + off;
        let inner = start + 1;
        let end = inner + name.len();
        if path.get(inner..end) == Some(name) && bytes.get(end) == Some(&b'}') {
            return Some((start, end + 1));
        }
        from = inner;
    }
    None
}

/// A `fmt::Write` adapter percent-encoding everything outside RFC 3986 "unreserved".
struct SegmentEncoder<'a>(&'a mut String);

impl fmt::Write for SegmentEncoder<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        for &b in s.as_bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                self.0.push(b as char);
            } else {
                self.0.push('%');
                self.0.push(HEX[(b >> 4) as usize] as char);
                self.0.push(HEX[(b & 15) as usize] as char);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static OP: Operation = Operation {
        id: "op",
        method: HttpMethod::Get,
        path: "/a/{id}/b/{idx}",
        base: Base::Api,
    };

    #[test]
    fn path_params_are_encoded_as_one_segment() {
        let mut r = Request::new(&OP);
        r.path_param("id", "a b/c?d#é");
        r.path_param("idx", 7);
        assert_eq!(r.rendered_path(), "/a/a%20b%2Fc%3Fd%23%C3%A9/b/7");
        assert!(r.invalid.is_none());
    }

    #[test]
    fn bad_path_params_are_remembered() {
        let mut r = Request::new(&OP);
        r.path_param("nope", 1);
        assert!(r.invalid.is_some());
        let mut r = Request::new(&OP);
        r.path_param("id", "..");
        assert!(r.invalid.is_some());
        let mut r = Request::new(&OP);
        r.path_param("id", "");
        assert!(r.invalid.is_some());
    }

    #[test]
    fn query_is_form_encoded_in_order() {
        let mut r = Request::new(&OP);
        r.query("t", "a b&c");
        r.query("t", "x");
        assert_eq!(r.query_string(), "t=a+b%26c&t=x");
    }

    #[test]
    fn invalid_header_value_is_deferred_without_echo() {
        let opts = RequestOptions::default().extra_header("x-key", "sec\nret");
        let msg = opts.invalid.clone().unwrap();
        assert!(!msg.contains("sec"));
        assert!(msg.contains("x-key"));
    }

    #[test]
    fn disposition_escaping() {
        assert_eq!(escape_disposition("a\"b\r\n"), "a%22b%0D%0A");
        assert_eq!(guess_mime("x.PNG"), "image/png");
    }
}
