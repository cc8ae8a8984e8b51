//! [`RoutstrCall`], one call to a node, and [`PayWith`], paying for any call with a token.

use std::fmt;
use std::future::IntoFuture;
use std::marker::PhantomData;
use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::header::{HeaderName, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::DEFAULT_PENDING_WAIT;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::request::{CallOptions, Operation, Request, RequestOptions};
use crate::retry::MAX_SERVER_WAIT;
use crate::routstr::amount::Msats;
use crate::routstr::meta::{HEADER_CASHU, RoutstrResponse};
use crate::routstr::token::CashuToken;
use crate::routstr::types::{
    ChildKeyRequest, ChildKeys, CreateBalanceRequest, CreatedBalance, InvoiceStatus, Refund,
};

/// Sets `X-Cashu: <token>` on `options` and turns retries off; a malformed token is
/// remembered and reported as [`Error::InvalidRequest`] at send time (never echoed).
fn apply_payment(options: &mut RequestOptions, token: &str) {
    let invalid = |options: &mut RequestOptions, reason: &str| {
        if options.invalid.is_none() {
            options.invalid = Some(format!("invalid X-Cashu token: {reason}"));
        }
    };
    match CashuToken::parse(token) {
        Ok(t) => match HeaderValue::from_str(t.expose()) {
            Ok(v) => {
                options.insert_header(HeaderName::from_static(HEADER_CASHU), v);
                // A retried paid request would spend the token twice or lose the change
                // the first attempt returned.
                options.set_max_retries(0);
            }
            Err(_) => invalid(options, "not a valid header value"),
        },
        Err(e) => invalid(options, e.reason()),
    }
}

/// `pay_with` for every call builder of the SDK (chat calls included): pays for this one
/// request with a Cashu token in the `X-Cashu` header.
///
/// The token is validated first: a malformed one makes the call fail with
/// [`Error::InvalidRequest`] before anything is sent. The header is marked sensitive (never
/// in `Debug` output or traces), and the call's retries are turned off (a retried paid
/// request could spend the token twice or lose the change of the first attempt; set
/// [`max_retries`](CallOptions::max_retries) afterwards to override). Read the change with
/// [`RoutstrMeta`](crate::routstr::RoutstrMeta) on success and
/// [`RoutstrErrorExt::change_token`](crate::routstr::RoutstrErrorExt::change_token) on failure.
///
/// ```no_run
/// use rostro_sdk::chat::{ChatCompletionRequest, Message};
/// use rostro_sdk::routstr::{PayWith, RoutstrClient, RoutstrMeta};
///
/// # async fn run(node: RoutstrClient, token: String) -> rostro_sdk::Result<()> {
/// let req = ChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("hi")]);
/// let resp = node.chat().request(req).pay_with(&token).send_with_response().await?;
/// let meta = RoutstrMeta::from_response(resp.meta());
/// println!("cost {:?}, change {:?}", meta.cost_msats, meta.change_token);
/// # Ok(())
/// # }
/// ```
pub trait PayWith: CallOptions {
    /// Pays for this request with `token` (`X-Cashu`).
    fn pay_with(mut self, token: impl AsRef<str>) -> Self {
        apply_payment(self.options_mut(), token.as_ref());
        self
    }
}

impl<T: CallOptions> PayWith for T {}

/// One call to a Routstr node: per-call options through [`CallOptions`], payment through
/// [`pay_with`](Self::pay_with), then [`send`](Self::send) (or `.await` it directly).
///
/// `B` is the request body (`()` for none), `T` the decoded answer.
#[must_use = "a call does nothing until `.send()` or `.await`"]
pub struct RoutstrCall<B, T> {
    pub(super) client: Client,
    pub(super) op: &'static Operation,
    pub(super) path_param: Option<(&'static str, String)>,
    pub(super) body: Option<B>,
    pub(super) options: RequestOptions,
    pub(super) invalid: Option<String>,
    pub(super) pending_retries: u32,
    pub(super) _out: PhantomData<fn() -> T>,
}

impl<B: Clone, T> Clone for RoutstrCall<B, T> {
    fn clone(&self) -> Self {
        RoutstrCall {
            client: self.client.clone(),
            op: self.op,
            path_param: self.path_param.clone(),
            body: self.body.clone(),
            options: self.options.clone(),
            invalid: self.invalid.clone(),
            pending_retries: self.pending_retries,
            _out: PhantomData,
        }
    }
}

impl<B: fmt::Debug, T> fmt::Debug for RoutstrCall<B, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoutstrCall")
            .field("operation", &self.op.id)
            .field("path", &self.op.path)
            .field("path_param", &self.path_param)
            .field("body", &self.body)
            .field("options", &self.options)
            .field("invalid", &self.invalid)
            .finish_non_exhaustive()
    }
}

impl<B, T> CallOptions for RoutstrCall<B, T> {
    fn options_mut(&mut self) -> &mut RequestOptions {
        &mut self.options
    }
}

impl<B, T> RoutstrCall<B, T> {
    pub(super) fn new(client: &Client, op: &'static Operation, body: Option<B>) -> Self {
        RoutstrCall {
            client: client.clone(),
            op,
            path_param: None,
            body,
            options: RequestOptions::default(),
            invalid: None,
            pending_retries: 0,
            _out: PhantomData,
        }
    }

    /// Pays for this request with a Cashu token in `X-Cashu` (see [`PayWith`]: validated
    /// before sending, redacted, not retried).
    pub fn pay_with(mut self, token: impl AsRef<str>) -> Self {
        apply_payment(&mut self.options, token.as_ref());
        self
    }

    /// The operation this call sends (`METHOD` and path template).
    pub fn operation(&self) -> &'static Operation {
        self.op
    }
}

impl<B: Serialize, T: DeserializeOwned> RoutstrCall<B, T> {
    fn request(&self) -> Result<Request> {
        if let Some(message) = &self.invalid {
            return Err(Error::InvalidRequest {
                operation: self.op.id,
                message: message.clone(),
            });
        }
        let mut req = Request::new(self.op);
        if let Some((name, value)) = &self.path_param {
            req.path_param(name, value);
        }
        if let Some(body) = &self.body {
            req.json_body(body)?;
        }
        req.options(self.options.clone());
        Ok(req)
    }

    /// Sends the call and decodes the answer with the node's [`RoutstrMeta`](crate::routstr::RoutstrMeta).
    pub async fn send(self) -> Result<RoutstrResponse<T>> {
        let mut pending_left = self.pending_retries;
        loop {
            let req = self.request()?;
            match self.client.execute::<Value>(req).await {
                Ok(resp) => {
                    let (value, meta) = resp.into_parts();
                    let value =
                        decode::<T>(self.op.id, value).map_err(|e| e.with_response(&meta))?;
                    return Ok(RoutstrResponse::new(value, meta));
                }
                Err(err) if pending_left > 0 && err.status().map(|s| s.as_u16()) == Some(425) => {
                    let wait = err.retry_after().unwrap_or(DEFAULT_PENDING_WAIT);
                    if wait > MAX_SERVER_WAIT {
                        return Err(err);
                    }
                    tracing::debug!(
                        operation = self.op.id,
                        wait_ms = wait.as_millis() as u64,
                        "routstr: refund pending, asking again"
                    );
                    tokio::time::sleep(wait).await;
                    pending_left -= 1;
                }
                Err(err) => return Err(err),
            }
        }
    }
}

/// Decodes a node's JSON answer. Unlike the runtime's decoder the error carries no body
/// snippet: Routstr answers can contain tokens and keys.
fn decode<T: DeserializeOwned>(operation: &'static str, value: Value) -> Result<T> {
    serde_path_to_error::deserialize(value).map_err(|e| Error::Decode {
        operation,
        path: e.path().to_string(),
        message: e.inner().to_string(),
        snippet: String::new(),
        response: None,
    })
}

impl<B, T> IntoFuture for RoutstrCall<B, T>
where
    B: Serialize + Send + Sync + 'static,
    T: DeserializeOwned + Send + 'static,
{
    type Output = Result<RoutstrResponse<T>>;
    type IntoFuture = BoxFuture<'static, Result<RoutstrResponse<T>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl RoutstrCall<CreateBalanceRequest, CreatedBalance> {
    /// Spending limit of the new key.
    pub fn balance_limit(mut self, limit: Msats) -> Self {
        if let Some(b) = &mut self.body {
            b.balance_limit = Some(limit);
        }
        self
    }

    /// When the spending limit resets (`daily`, `weekly`, `monthly`, ...).
    pub fn balance_limit_reset(mut self, reset: impl Into<String>) -> Self {
        if let Some(b) = &mut self.body {
            b.balance_limit_reset = Some(reset.into());
        }
        self
    }

    /// Unix seconds after which the key stops working.
    pub fn validity_date(mut self, unix_secs: i64) -> Self {
        if let Some(b) = &mut self.body {
            b.validity_date = Some(unix_secs);
        }
        self
    }
}

impl RoutstrCall<ChildKeyRequest, ChildKeys> {
    /// Spending limit of each child key.
    pub fn balance_limit(mut self, limit: Msats) -> Self {
        if let Some(b) = &mut self.body {
            b.balance_limit = Some(limit);
        }
        self
    }
}

impl RoutstrCall<(), Refund> {
    /// Authenticates the refund with the original token in `X-Cashu` (the key the node made
    /// from it) instead of the client's credential. Validated like
    /// [`pay_with`](Self::pay_with).
    pub fn with_token(self, token: impl AsRef<str>) -> Self {
        self.pay_with(token)
    }

    /// How often to ask again while the node answers `425 Too Early` (default
    /// [`DEFAULT_REFUND_PENDING_RETRIES`](super::DEFAULT_REFUND_PENDING_RETRIES); 0 returns the 425 error at once). Each wait is
    /// the node's `Retry-After` (1 s when absent); a wait above
    /// [`MAX_SERVER_WAIT`](crate::MAX_SERVER_WAIT) returns the error instead.
    pub fn pending_retries(mut self, n: u32) -> Self {
        self.pending_retries = n;
        self
    }
}

impl RoutstrCall<(), InvoiceStatus> {
    /// Polls the status every `interval` until the invoice is paid, expired or cancelled
    /// and returns that status (check [`InvoiceStatus::is_paid`]). Fails with
    /// [`Error::Timeout`] when it is still pending after `timeout`, or with the first
    /// failed status call.
    pub async fn wait_paid(
        self,
        interval: Duration,
        timeout: Duration,
    ) -> Result<RoutstrResponse<InvoiceStatus>> {
        let deadline = crate::transport::deadline_after(timeout);
        loop {
            let resp = self.clone().send().await?;
            if resp.status.is_final() {
                return Ok(resp);
            }
            if crate::transport::deadline_after(interval) > deadline {
                return Err(Error::Timeout {
                    operation: self.op.id,
                    timeout,
                    response: None,
                });
            }
            tokio::time::sleep(interval).await;
        }
    }
}
