//! Typed Routstr errors: [`RoutstrErrorKind`] decoded from every envelope a node sends, and
//! [`RoutstrErrorExt`] to read it (and the change token) from an [`Error`].

use std::fmt;

use reqwest::StatusCode;
use serde_json::Value;

use super::amount::Msats;
use super::meta::RoutstrMeta;
use super::token::CashuToken;
use crate::error::{ApiErrorBody, Error, ErrorCode};

/// What went wrong on a Routstr node, decoded from the error body (any of its envelopes:
/// `{error: {message, type, code}}`, `{detail: {error: {...}}, error: {...}}`,
/// `{detail: "..."}`, `{detail: {reason, amount_required_msat, model, type}}`; `code` a
/// string or an integer) and the status.
///
/// The body's `type` and `code` are matched first (either may carry the specific name, e.g.
/// `type: insufficient_balance, code: payment_required` or
/// `type: invalid_request_error, code: invalid_api_key`), then the message text, then the
/// status (402 insufficient balance, 401 invalid key, 425 refund pending, 409 conflict,
/// 502 upstream).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RoutstrErrorKind {
    /// 402: the key's balance does not cover the request.
    InsufficientBalance,
    /// 402: the balance (or the X-Cashu payment) is below what the model may cost at most.
    MinimumBalanceRequired {
        /// `amount_required_msat`, when sent.
        amount_required: Option<Msats>,
        /// The model the minimum applies to, when sent.
        model: Option<String>,
    },
    /// 402: a child key reached its `balance_limit`.
    BalanceLimitExceeded,
    /// 401: no key was sent.
    MissingApiKey,
    /// 401: the key is unknown (or was refunded).
    InvalidApiKey,
    /// 403: the key is past its validity date.
    KeyExpired,
    /// 400: the Cashu token was already redeemed.
    TokenAlreadySpent,
    /// 400: the Cashu token cannot be decoded or is not accepted.
    InvalidToken,
    /// 422: the mint rejected the token.
    MintError,
    /// 503: the node could not reach the mint.
    MintUnreachable,
    /// 502 (or an upstream error code): the provider behind the node failed. With X-Cashu
    /// payments the node refunds in the `X-Cashu` response header.
    UpstreamError,
    /// The model does not exist on this node.
    InvalidModel,
    /// 425: a refund for this key is in progress; retry after `Retry-After`.
    RefundPending,
    /// 409: the balance changed concurrently; the request can be retried.
    BalanceConflict,
    /// Anything else: the body's code or type (or the status reason, `snake_case`).
    Other(String),
}

impl RoutstrErrorKind {
    /// The `snake_case` name (`insufficient_balance`, ...; for [`Other`](Self::Other) its
    /// text).
    pub fn as_str(&self) -> &str {
        match self {
            RoutstrErrorKind::InsufficientBalance => "insufficient_balance",
            RoutstrErrorKind::MinimumBalanceRequired { .. } => "minimum_balance_required",
            RoutstrErrorKind::BalanceLimitExceeded => "balance_limit_exceeded",
            RoutstrErrorKind::MissingApiKey => "missing_api_key",
            RoutstrErrorKind::InvalidApiKey => "invalid_api_key",
            RoutstrErrorKind::KeyExpired => "key_expired",
            RoutstrErrorKind::TokenAlreadySpent => "token_already_spent",
            RoutstrErrorKind::InvalidToken => "invalid_token",
            RoutstrErrorKind::MintError => "mint_error",
            RoutstrErrorKind::MintUnreachable => "mint_unreachable",
            RoutstrErrorKind::UpstreamError => "upstream_error",
            RoutstrErrorKind::InvalidModel => "invalid_model",
            RoutstrErrorKind::RefundPending => "refund_pending",
            RoutstrErrorKind::BalanceConflict => "balance_conflict",
            RoutstrErrorKind::Other(s) => s,
        }
    }

    /// Whether more money (a top-up, a bigger X-Cashu token) would fix it.
    pub fn needs_funds(&self) -> bool {
        matches!(
            self,
            RoutstrErrorKind::InsufficientBalance
                | RoutstrErrorKind::MinimumBalanceRequired { .. }
                | RoutstrErrorKind::BalanceLimitExceeded
        )
    }

    /// Whether the Cashu token or its mint is the problem.
    pub fn is_token_problem(&self) -> bool {
        matches!(
            self,
            RoutstrErrorKind::TokenAlreadySpent
                | RoutstrErrorKind::InvalidToken
                | RoutstrErrorKind::MintError
                | RoutstrErrorKind::MintUnreachable
        )
    }

    /// Decodes the kind of an error body received with `status` (`None` for an error event
    /// inside a stream).
    pub fn classify(status: Option<StatusCode>, body: &ApiErrorBody) -> RoutstrErrorKind {
        let mut names: Vec<&str> = Vec::new();
        let mut message: Option<&str> = None;
        fn code_str(c: &Option<ErrorCode>) -> Option<&str> {
            match c {
                Some(ErrorCode::Str(s)) => Some(s),
                _ => None,
            }
        }
        let mut min_balance: (Option<Msats>, Option<String>) = (None, None);
        match body {
            ApiErrorBody::OpenAi(e) => {
                names.extend(e.kind.as_deref());
                names.extend(code_str(&e.code));
                message = e.message.as_deref();
            }
            ApiErrorBody::Api(e) => {
                names.extend(e.kind.as_deref());
                names.extend(code_str(&e.code));
                message = e.message.as_deref().or(e.error.as_deref());
            }
            ApiErrorBody::User(e) => {
                names.extend(code_str(&e.code));
                message = e.error.as_deref();
            }
            ApiErrorBody::Rejection(r) => {
                names.extend(r.kind.as_deref());
                message = r.reason.as_deref();
                min_balance.0 = r.extra.get("amount_required_msat").and_then(amount);
                min_balance.1 = r
                    .extra
                    .get("model")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
            ApiErrorBody::Detail(d) | ApiErrorBody::Text(d) => message = Some(d),
            _ => {}
        }
        let with_min = |kind: RoutstrErrorKind| match kind {
            RoutstrErrorKind::MinimumBalanceRequired { .. } => {
                RoutstrErrorKind::MinimumBalanceRequired {
                    amount_required: min_balance.0,
                    model: min_balance.1.clone(),
                }
            }
            other => other,
        };
        if let Some(kind) = names.iter().find_map(|n| from_name(n)) {
            return with_min(kind);
        }
        if let Some(kind) = message.and_then(|m| from_message(m, status)) {
            return with_min(kind);
        }
        if let Some(kind) = status.and_then(from_status) {
            return kind;
        }
        let other = names
            .first()
            .map(|n| n.to_ascii_lowercase())
            .or_else(|| {
                status.and_then(|s| s.canonical_reason()).map(|r| {
                    r.chars()
                        .map(|c| {
                            if c.is_ascii_alphanumeric() {
                                c.to_ascii_lowercase()
                            } else {
                                '_'
                            }
                        })
                        .collect()
                })
            })
            .unwrap_or_else(|| "unknown".to_owned());
        RoutstrErrorKind::Other(other)
    }
}

impl fmt::Display for RoutstrErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())?;
        if let RoutstrErrorKind::MinimumBalanceRequired {
            amount_required: Some(a),
            ..
        } = self
        {
            write!(f, " ({a})")?;
        }
        Ok(())
    }
}

fn amount(v: &Value) -> Option<Msats> {
    serde_json::from_value(v.clone()).ok()
}

/// A known error name (a body's `type` or `code`), with aliases.
fn from_name(name: &str) -> Option<RoutstrErrorKind> {
    use RoutstrErrorKind as K;
    let n = name.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    Some(match n.as_str() {
        "insufficient_balance" | "insufficient_funds" => K::InsufficientBalance,
        "minimum_balance_required" | "minimum_balance" => K::MinimumBalanceRequired {
            amount_required: None,
            model: None,
        },
        "balance_limit_exceeded" | "balance_limit_reached" => K::BalanceLimitExceeded,
        "missing_api_key" | "missing_key" | "no_api_key" => K::MissingApiKey,
        "invalid_api_key" | "invalid_key" => K::InvalidApiKey,
        "key_expired" | "api_key_expired" | "expired_key" => K::KeyExpired,
        "token_already_spent" | "token_spent" | "already_spent" => K::TokenAlreadySpent,
        "invalid_token" | "invalid_cashu_token" | "token_invalid" => K::InvalidToken,
        "mint_error" => K::MintError,
        "mint_unreachable" | "mint_unavailable" => K::MintUnreachable,
        "upstream_error" | "upstream_failure" => K::UpstreamError,
        "invalid_model" | "model_not_found" | "model_not_available" | "unknown_model" => {
            K::InvalidModel
        }
        "refund_pending" | "refund_in_progress" => K::RefundPending,
        "balance_conflict" | "concurrent_balance_change" | "concurrent_modification" => {
            K::BalanceConflict
        }
        _ => return None,
    })
}

/// Recognises the messages nodes send without a code (`{"detail": "Token already spent"}`).
fn from_message(message: &str, status: Option<StatusCode>) -> Option<RoutstrErrorKind> {
    use RoutstrErrorKind as K;
    let m = message.to_ascii_lowercase();
    let has = |s: &str| m.contains(s);
    let status = status.map(|s| s.as_u16());
    Some(if has("already spent") || has("already been spent") {
        K::TokenAlreadySpent
    } else if has("minimum balance") {
        K::MinimumBalanceRequired {
            amount_required: None,
            model: None,
        }
    } else if has("balance limit") {
        K::BalanceLimitExceeded
    } else if has("insufficient balance") || has("insufficient funds") {
        K::InsufficientBalance
    } else if has("mint") && (has("unreachable") || has("connect") || has("unavailable")) {
        K::MintUnreachable
    } else if has("expired") && (status == Some(403) || has("key")) {
        K::KeyExpired
    } else if (has("api key") || has("authorization"))
        && (has("missing") || has("no api key") || has("not provided"))
    {
        K::MissingApiKey
    } else if has("invalid api key") || has("invalid key") {
        K::InvalidApiKey
    } else if has("invalid token") || has("invalid cashu") || has("decode token") {
        K::InvalidToken
    } else if has("mint") && status == Some(422) {
        K::MintError
    } else if has("upstream") {
        K::UpstreamError
    } else if has("model")
        && (has("not found") || has("invalid") || has("not available") || has("unknown"))
    {
        K::InvalidModel
    } else {
        return None;
    })
}

fn from_status(status: StatusCode) -> Option<RoutstrErrorKind> {
    use RoutstrErrorKind as K;
    Some(match status.as_u16() {
        402 => K::InsufficientBalance,
        401 => K::InvalidApiKey,
        425 => K::RefundPending,
        409 => K::BalanceConflict,
        502 => K::UpstreamError,
        _ => return None,
    })
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::Error {}
}

/// Routstr views of an [`Error`], keeping the error itself intact.
///
/// ```no_run
/// use rostro_sdk::routstr::{RoutstrClient, RoutstrErrorExt, RoutstrErrorKind};
///
/// # async fn run(node: RoutstrClient) {
/// match node.balance().info().send().await {
///     Ok(info) => println!("{} available", info.available()),
///     Err(err) => {
///         if let Some(change) = err.change_token() {
///             println!("keep your change: {} chars", change.expose().len());
///         }
///         match err.routstr_kind() {
///             Some(RoutstrErrorKind::InvalidApiKey) => println!("unknown key"),
///             Some(kind) => println!("{kind}: {err}"),
///             None => println!("{err}"),
///         }
///     }
/// }
/// # }
/// ```
pub trait RoutstrErrorExt: sealed::Sealed {
    /// The typed kind of an [`Error::Api`] (or of an [`Error::Stream`] error event); `None`
    /// for errors without a node answer (timeouts, connection errors, invalid requests).
    fn routstr_kind(&self) -> Option<RoutstrErrorKind>;

    /// Cost, change and request id from the headers of the response the error came with
    /// (any error after the headers arrived; empty without a response); the request id falls
    /// back to the body's `request_id`.
    fn routstr_meta(&self) -> RoutstrMeta;

    /// The `X-Cashu` token of the response the error came with: the node's refund of an
    /// X-Cashu payment (e.g. on a 502 from the upstream), or its change when the body could
    /// not be read or decoded, or the stream failed ([`Error::headers`]). Never dropped.
    fn change_token(&self) -> Option<CashuToken>;
}

impl RoutstrErrorExt for Error {
    fn routstr_kind(&self) -> Option<RoutstrErrorKind> {
        let body = self.api_body()?;
        Some(RoutstrErrorKind::classify(self.status(), body))
    }

    fn routstr_meta(&self) -> RoutstrMeta {
        let mut meta = self
            .headers()
            .map(RoutstrMeta::from_headers)
            .unwrap_or_default();
        if meta.request_id.is_none() {
            meta.request_id = self.request_id().map(str::to_owned);
        }
        meta
    }

    fn change_token(&self) -> Option<CashuToken> {
        self.headers()
            .and_then(|h| h.get(super::meta::HEADER_CASHU))
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(CashuToken::received)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(status: u16, body: &str) -> RoutstrErrorKind {
        RoutstrErrorKind::classify(
            Some(StatusCode::from_u16(status).unwrap()),
            &ApiErrorBody::parse(body.as_bytes()),
        )
    }

    #[test]
    fn envelopes() {
        use RoutstrErrorKind as K;
        assert_eq!(
            kind(
                401,
                r#"{"error":{"message":"Invalid API key","type":"invalid_request_error","code":"invalid_api_key"},"request_id":"r"}"#
            ),
            K::InvalidApiKey
        );
        assert_eq!(
            kind(
                402,
                r#"{"detail":{"error":{"message":"Insufficient balance","type":"insufficient_balance","code":"payment_required"}},"error":{"message":"Insufficient balance","type":"insufficient_balance","code":"payment_required"},"request_id":"r"}"#
            ),
            K::InsufficientBalance
        );
        assert_eq!(
            kind(400, r#"{"detail":"Token already spent"}"#),
            K::TokenAlreadySpent
        );
        assert_eq!(
            kind(
                402,
                r#"{"detail":{"reason":"Balance below the model's maximum cost","amount_required_msat":12000,"model":"gpt-x","type":"minimum_balance_required"}}"#
            ),
            K::MinimumBalanceRequired {
                amount_required: Some(Msats(12000)),
                model: Some("gpt-x".into())
            }
        );
        assert_eq!(
            kind(
                502,
                r#"{"error":{"message":"boom","type":"upstream_error","code":502}}"#
            ),
            K::UpstreamError
        );
        assert_eq!(
            kind(
                422,
                r#"{"error":{"message":"m","type":"mint_error","code":422}}"#
            ),
            K::MintError
        );
        assert_eq!(
            kind(503, r#"{"detail":"Mint unreachable: connection refused"}"#),
            K::MintUnreachable
        );
        assert_eq!(kind(403, r#"{"detail":"API key expired"}"#), K::KeyExpired);
        assert_eq!(
            kind(401, r#"{"detail":"API key missing"}"#),
            K::MissingApiKey
        );
        assert_eq!(
            kind(402, "<html><title>402</title></html>"),
            K::InsufficientBalance
        );
        assert_eq!(
            kind(425, r#"{"detail":"Refund in progress"}"#),
            K::RefundPending
        );
        assert_eq!(kind(409, r#"{"detail":"try again"}"#), K::BalanceConflict);
        assert_eq!(
            kind(418, r#"{"error":{"message":"x","type":"teapot_error"}}"#),
            K::Other("teapot_error".into())
        );
        assert_eq!(kind(500, "oops"), K::Other("internal_server_error".into()));
        assert_eq!(
            kind(
                400,
                r#"{"error":{"message":"Model 'x' not found","type":"invalid_request_error"}}"#
            ),
            K::InvalidModel
        );
    }
}
