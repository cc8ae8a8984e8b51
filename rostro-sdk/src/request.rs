//! Describing one logical API call: [`Operation`], [`Request`], bodies and per-call options.
//!
//! Generated code declares one `static` [`Operation`] per endpoint, fills a [`Request`] with path
//! parameters, query parameters and a body, and hands it to [`Client::execute`] (typed JSON) or
//! [`Client::execute_raw`] (streams and downloads). Callers tune a single call through
//! [`CallOptions`], which every generated request builder implements.
//!
//! Files travel as a [`FilePart`]: the one type for "a file to upload" that every upload of the
//! SDK takes (multipart forms, the gallery's base64 JSON, chunked uploads, image inputs).
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

use bytes::Bytes;
use reqwest::header::HeaderValue;

use crate::error::Error;

mod file;
mod options;

pub(crate) use file::{BoxReader, FilePartError, FileSource, escape_disposition};
pub use file::{FilePart, Part};
pub(crate) use options::is_sensitive_header;
pub use options::{CallOptions, HeadersHook, RequestOptions};

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

    /// Sets a `multipart/form-data` body; fields are sent in order. A form with a file read
    /// from a reader is not retried (the reader can be read only once), unless options merged
    /// later ask for retries.
    pub fn multipart(&mut self, parts: Vec<(String, Part)>) {
        if parts
            .iter()
            .any(|(_, part)| matches!(part, Part::File(file) if file.is_one_shot()))
        {
            self.options.set_max_retries(0);
        }
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
mod tests;
