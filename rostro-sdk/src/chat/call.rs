//! The typed calls on [`ChatApi`], [`CompletionsApi`] and [`PromptApi`], all sent through
//! [`Client::execute`] / [`Client::execute_raw`].

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::completion::{Completion, CompletionRequest};
use super::request::ChatCompletionRequest;
use super::response::{ChatCompletion, ChatCompletionChunk};
use super::sse::{Assemble, SseChunk, SseCore};
use super::stream::{ChatStream, CompletionStream};
use crate::client::Client;
use crate::error::{ApiErrorBody, Error, Result, StreamErrorKind};
use crate::generated::chat::{CHAT_CREATE_FOR_MODEL_UNTYPED, CHAT_CREATE_UNTYPED, ChatApi};
use crate::generated::completions::{
    COMPLETIONS_CREATE_FOR_MODEL_UNTYPED, COMPLETIONS_CREATE_UNTYPED, CompletionsApi,
};
use crate::generated::prompt::{PROMPT_CREATE_UNTYPED, PromptApi};
use crate::request::{CallOptions, Operation, Request, RequestOptions};
use crate::response::{Response, ResponseMeta};

/// Longest non-SSE body read when a stream was expected.
const MAX_UNEXPECTED_BODY: usize = 64 * 1024;

/// Builds the request for `op`, rendering `{model}` when the route has it.
fn build_request(
    op: &'static Operation,
    model: Option<&str>,
    body: &impl Serialize,
    options: RequestOptions,
    stream: bool,
) -> Result<Request> {
    let mut req = Request::new(op);
    if let Some(model) = model {
        req.path_param("model", model);
    }
    req.json_body(body)?;
    if stream {
        req.header("accept", "text/event-stream");
    }
    req.options(options);
    Ok(req)
}

/// A body that decodes as an `{"error": ...}` object.
trait ErrorMarked {
    fn take_error(&mut self) -> Option<serde_json::Value>;
}

impl ErrorMarked for ChatCompletion {
    fn take_error(&mut self) -> Option<serde_json::Value> {
        self.error.take()
    }
}

impl ErrorMarked for Completion {
    fn take_error(&mut self) -> Option<serde_json::Value> {
        self.error.take()
    }
}

/// Sends a non-streaming call. A 2xx body that is an `{"error": ...}` object (some providers
/// answer that way) becomes [`Error::Api`].
async fn send_json<T: DeserializeOwned + ErrorMarked>(
    client: &Client,
    req: Request,
) -> Result<Response<T>> {
    let op = req.operation();
    let (mut value, meta) = client.execute::<T>(req).await?.into_parts();
    if let Some(error) = value.take_error() {
        let envelope = serde_json::json!({ "error": error });
        let body = ApiErrorBody::parse(envelope.to_string().as_bytes());
        return Err(Error::Api {
            operation: op.id,
            path: None,
            status: meta.status,
            body: Box::new(body),
            request_id: meta.request_id.clone(),
            retry_after: None,
            headers: Box::new(meta.headers),
        });
    }
    Ok(Response::new(value, meta))
}

/// Sends a streaming call and wraps the event stream. `idle_timeout` overrides the client's
/// default when set (`Some(None)`: none).
async fn open_stream<C: SseChunk, A: Assemble<C>>(
    client: &Client,
    req: Request,
    idle_timeout: Option<Option<Duration>>,
) -> Result<(SseCore<C, A>, ResponseMeta)> {
    let op = req.operation();
    let (mut resp, attempts) = client.execute_raw_counted(req).await?;
    let status = resp.status();
    let mut headers = std::mem::take(resp.headers_mut());
    crate::transport::mark_sensitive(&mut headers);
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let essence = content_type.as_deref().map(|ct| {
        ct.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    });
    // Errors from here on keep the response they came with (a Routstr change token).
    let meta = ResponseMeta::new(status, headers, attempts);
    match essence.as_deref() {
        Some("text/event-stream") => {}
        Some("application/json") => {
            return Err(unexpected_json(op.id, status, resp, client)
                .await
                .with_response(&meta));
        }
        // No content type at all: some servers omit it on SSE; the decoder judges the body.
        None => {}
        Some(_) => {
            return Err(not_event_stream(op.id, status, content_type, resp, client)
                .await
                .with_response(&meta));
        }
    }
    let idle = idle_timeout.unwrap_or(client.inner.stream_idle_timeout);
    let core = SseCore::new(
        op.id,
        client.clone(),
        Box::pin(resp.bytes_stream()),
        idle,
        client.inner.max_event_size,
    );
    Ok((core, meta))
}

/// The start of a body, at most [`MAX_UNEXPECTED_BODY`] bytes, read within the client's
/// timeout.
async fn read_start(resp: &mut reqwest::Response, client: &Client) -> Bytes {
    let deadline = crate::transport::deadline_after(client.inner.timeout);
    crate::transport::read_bounded(resp, MAX_UNEXPECTED_BODY, deadline).await
}

/// A 2xx answer to a streaming call that is neither an event stream nor JSON (an HTML
/// login page from a proxy, plain text, ...): says what arrived, never parsed as events.
async fn not_event_stream(
    operation: &'static str,
    status: StatusCode,
    content_type: Option<String>,
    mut resp: reqwest::Response,
    client: &Client,
) -> Error {
    let body = read_start(&mut resp, client).await;
    let secret = client.inner.api_key.as_ref().map(|k| k.expose());
    let body = crate::transport::scrub(&body, secret);
    let shown = content_type.as_deref().unwrap_or("no content type");
    let message = if body.trim_ascii().is_empty() {
        format!(
            "expected an event stream, got {shown} with an empty body (status {})",
            status.as_u16()
        )
    } else {
        format!(
            "expected an event stream, got {shown} (status {}): {}",
            status.as_u16(),
            crate::error::snippet(&body)
        )
    };
    Error::Stream {
        operation,
        message,
        body: None,
        partial: String::new(),
        kind: StreamErrorKind::NotEventStream { content_type },
        response: None,
    }
}

/// The server answered a streaming call with JSON (an error object, or a whole completion
/// from a server that ignores `stream`).
async fn unexpected_json(
    operation: &'static str,
    status: StatusCode,
    mut resp: reqwest::Response,
    client: &Client,
) -> Error {
    let body = read_start(&mut resp, client).await;
    let parsed = ApiErrorBody::parse(&body);
    let is_error = !matches!(parsed, ApiErrorBody::Text(_));
    Error::Stream {
        operation,
        message: format!(
            "expected an event stream, got a json body (status {})",
            status.as_u16()
        ),
        body: is_error.then(|| Box::new(parsed)),
        partial: String::new(),
        kind: if is_error {
            StreamErrorKind::ErrorEvent
        } else {
            StreamErrorKind::NotEventStream {
                content_type: Some("application/json".to_owned()),
            }
        },
        response: None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChatEndpoint {
    /// `/v1/chat/completions` or `/{model}/v1/chat/completions`.
    Chat,
    /// `/prompt`.
    Prompt,
}

/// One chat call being prepared: per-call options through [`CallOptions`], the per-model
/// route through [`for_model`](Self::for_model), then [`send`](Self::send) or
/// [`stream`](Self::stream). From [`ChatApi::request`] or [`PromptApi::request`].
///
/// ```no_run
/// use std::time::Duration;
/// use rostro_sdk::CallOptions;
/// use rostro_sdk::chat::{ChatCompletionRequest, Message};
///
/// # async fn run(client: rostro_sdk::Client) -> rostro_sdk::Result<()> {
/// let req = ChatCompletionRequest::new("mixtral", vec![Message::user("hi")]);
/// let stream = client
///     .chat()
///     .request(req)
///     .request_timeout(Duration::from_secs(20)) // until the response starts
///     .max_retries(0)
///     .extra_header("x-trace", "abc")
///     .stream()
///     .await?;
/// # drop(stream);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a call does nothing until `.send()` or `.stream()`"]
pub struct ChatCall {
    client: Client,
    endpoint: ChatEndpoint,
    model: Option<String>,
    body: ChatCompletionRequest,
    options: RequestOptions,
    /// Overrides the client's stream idle timeout (`Some(None)`: none).
    idle_timeout: Option<Option<Duration>>,
}

impl ChatCall {
    /// Sends to the per-model route `/{model}/v1/chat/completions` (the server uses the model
    /// from the path). `/prompt` has no such route: there the model is set in the body.
    pub fn for_model(mut self, model: impl fmt::Display) -> Self {
        match self.endpoint {
            ChatEndpoint::Chat => self.model = Some(model.to_string()),
            ChatEndpoint::Prompt => self.body.model = model.to_string(),
        }
        self
    }

    /// Fails a stream with [`Error::Stream`] of kind
    /// [`Idle`](crate::StreamErrorKind::Idle) (keeping the text received) when nothing
    /// arrives for `d`, keep-alive comments included; `None` waits forever. Default: the
    /// client's [`stream_idle_timeout`](crate::ClientBuilder::stream_idle_timeout) (300 s).
    pub fn idle_timeout(mut self, d: impl Into<Option<Duration>>) -> Self {
        self.idle_timeout = Some(d.into());
        self
    }

    fn into_request(self, stream: bool) -> Result<(Client, Request)> {
        let mut body = self.body;
        body.set_streaming(stream);
        let op = match (self.endpoint, &self.model) {
            (ChatEndpoint::Chat, None) => &CHAT_CREATE_UNTYPED,
            (ChatEndpoint::Chat, Some(_)) => &CHAT_CREATE_FOR_MODEL_UNTYPED,
            (ChatEndpoint::Prompt, _) => &PROMPT_CREATE_UNTYPED,
        };
        let req = build_request(op, self.model.as_deref(), &body, self.options, stream)?;
        Ok((self.client, req))
    }

    /// Sends the request without streaming and decodes the completion.
    pub async fn send(self) -> Result<ChatCompletion> {
        Ok(self.send_with_response().await?.into_inner())
    }

    /// Like [`send`](Self::send), also returning the response metadata (headers, request id,
    /// rate limits, attempts).
    pub async fn send_with_response(self) -> Result<Response<ChatCompletion>> {
        let (client, req) = self.into_request(false)?;
        send_json(&client, req).await
    }

    /// Sends the request with `"stream": true` and returns the stream of chunks as soon as
    /// the response headers arrived.
    pub async fn stream(self) -> Result<ChatStream> {
        let idle = self.idle_timeout;
        let (client, req) = self.into_request(true)?;
        let (core, meta) = open_stream::<ChatCompletionChunk, _>(&client, req, idle).await?;
        Ok(ChatStream::new(core, meta))
    }
}

impl CallOptions for ChatCall {
    fn options_mut(&mut self) -> &mut RequestOptions {
        &mut self.options
    }
}

/// One text completion call being prepared; see [`ChatCall`]. From
/// [`CompletionsApi::request`].
#[derive(Debug, Clone)]
#[must_use = "a call does nothing until `.send()` or `.stream()`"]
pub struct CompletionCall {
    client: Client,
    model: Option<String>,
    body: CompletionRequest,
    options: RequestOptions,
    /// Overrides the client's stream idle timeout (`Some(None)`: none).
    idle_timeout: Option<Option<Duration>>,
}

impl CompletionCall {
    /// Sends to the per-model route `/{model}/v1/completions`.
    pub fn for_model(mut self, model: impl fmt::Display) -> Self {
        self.model = Some(model.to_string());
        self
    }

    /// Fails a stream with [`Error::Stream`] of kind
    /// [`Idle`](crate::StreamErrorKind::Idle) (keeping the text received) when nothing
    /// arrives for `d`, keep-alive comments included; `None` waits forever. Default: the
    /// client's [`stream_idle_timeout`](crate::ClientBuilder::stream_idle_timeout) (300 s).
    pub fn idle_timeout(mut self, d: impl Into<Option<Duration>>) -> Self {
        self.idle_timeout = Some(d.into());
        self
    }

    fn into_request(self, stream: bool) -> Result<(Client, Request)> {
        let mut body = self.body;
        body.set_streaming(stream);
        let op = match &self.model {
            None => &COMPLETIONS_CREATE_UNTYPED,
            Some(_) => &COMPLETIONS_CREATE_FOR_MODEL_UNTYPED,
        };
        let req = build_request(op, self.model.as_deref(), &body, self.options, stream)?;
        Ok((self.client, req))
    }

    /// Sends the request without streaming and decodes the completion.
    pub async fn send(self) -> Result<Completion> {
        Ok(self.send_with_response().await?.into_inner())
    }

    /// Like [`send`](Self::send), also returning the response metadata.
    pub async fn send_with_response(self) -> Result<Response<Completion>> {
        let (client, req) = self.into_request(false)?;
        send_json(&client, req).await
    }

    /// Sends the request with `"stream": true` and returns the stream of events.
    pub async fn stream(self) -> Result<CompletionStream> {
        let idle = self.idle_timeout;
        let (client, req) = self.into_request(true)?;
        let (core, meta) = open_stream::<Completion, _>(&client, req, idle).await?;
        Ok(CompletionStream::new(core, meta))
    }
}

impl CallOptions for CompletionCall {
    fn options_mut(&mut self) -> &mut RequestOptions {
        &mut self.options
    }
}

impl ChatApi {
    /// Prepares a chat call with per-call options; see [`ChatCall`].
    pub fn request(&self, req: ChatCompletionRequest) -> ChatCall {
        ChatCall {
            client: self.client.clone(),
            endpoint: ChatEndpoint::Chat,
            model: None,
            body: req,
            options: RequestOptions::default(),
            idle_timeout: None,
        }
    }
}

impl CompletionsApi {
    /// Prepares a text completion call with per-call options; see [`CompletionCall`].
    pub fn request(&self, req: CompletionRequest) -> CompletionCall {
        CompletionCall {
            client: self.client.clone(),
            model: None,
            body: req,
            options: RequestOptions::default(),
            idle_timeout: None,
        }
    }
}

impl PromptApi {
    /// Prepares a `/prompt` call with per-call options; see [`ChatCall`]. `/prompt` takes the
    /// chat request plus fields of its own (`prompt`, `template`, `parameters`, ...), which go
    /// in [`ChatCompletionRequest::extra`].
    pub fn request(&self, req: ChatCompletionRequest) -> ChatCall {
        ChatCall {
            client: self.client.clone(),
            endpoint: ChatEndpoint::Prompt,
            model: None,
            body: req,
            options: RequestOptions::default(),
            idle_timeout: None,
        }
    }
}
