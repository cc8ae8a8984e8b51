//! Routstr's error envelopes, on demand (`x-mock-routstr-error`) and for real failures.

use super::*;

/// How an error body is wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Envelope {
    OpenAi,
    DetailError,
    Detail,
    MinBalance,
}

/// A Routstr error, ready to be rendered.
pub(super) struct Fail {
    pub(super) kind: &'static str,
    pub(super) status: u16,
    pub(super) message: String,
    pub(super) envelope: Envelope,
    pub(super) err_type: &'static str,
    pub(super) code: Value,
    pub(super) amount_required: Option<u64>,
    pub(super) model: Option<String>,
    pub(super) headers: Vec<(String, String)>,
}

impl Fail {
    pub(super) fn new(kind: &str, message: impl Into<String>) -> Box<Fail> {
        let (kind, status, envelope, err_type, code): (
            &'static str,
            u16,
            Envelope,
            &'static str,
            Value,
        ) = match kind {
            "insufficient_balance" => (
                "insufficient_balance",
                402,
                Envelope::DetailError,
                "insufficient_balance",
                json!("payment_required"),
            ),
            "balance_limit_exceeded" => (
                "balance_limit_exceeded",
                402,
                Envelope::DetailError,
                "balance_limit_exceeded",
                json!("payment_required"),
            ),
            "minimum_balance_required" => (
                "minimum_balance_required",
                402,
                Envelope::MinBalance,
                "minimum_balance_required",
                json!("payment_required"),
            ),
            "missing_api_key" => (
                "missing_api_key",
                401,
                Envelope::OpenAi,
                "invalid_request_error",
                json!("missing_api_key"),
            ),
            "invalid_api_key" => (
                "invalid_api_key",
                401,
                Envelope::OpenAi,
                "invalid_request_error",
                json!("invalid_api_key"),
            ),
            "key_expired" => (
                "key_expired",
                403,
                Envelope::OpenAi,
                "invalid_request_error",
                json!("key_expired"),
            ),
            "token_already_spent" => (
                "token_already_spent",
                400,
                Envelope::Detail,
                "invalid_request_error",
                json!("token_already_spent"),
            ),
            "invalid_token" => (
                "invalid_token",
                400,
                Envelope::OpenAi,
                "invalid_request_error",
                json!("invalid_token"),
            ),
            "invalid_model" => (
                "invalid_model",
                400,
                Envelope::OpenAi,
                "invalid_request_error",
                json!("invalid_model"),
            ),
            "mint_error" => (
                "mint_error",
                422,
                Envelope::OpenAi,
                "mint_error",
                json!(422),
            ),
            "mint_unreachable" => (
                "mint_unreachable",
                503,
                Envelope::OpenAi,
                "service_unavailable",
                json!("mint_unreachable"),
            ),
            "upstream_error" => (
                "upstream_error",
                502,
                Envelope::OpenAi,
                "upstream_error",
                json!(502),
            ),
            "refund_pending" => (
                "refund_pending",
                425,
                Envelope::Detail,
                "refund_pending",
                json!("refund_pending"),
            ),
            "conflict" | "balance_conflict" => (
                "conflict",
                409,
                Envelope::Detail,
                "conflict",
                json!("conflict"),
            ),
            _ => (
                "unknown",
                400,
                Envelope::Detail,
                "invalid_request_error",
                json!("unknown"),
            ),
        };
        Box::new(Fail {
            kind,
            status,
            message: message.into(),
            envelope,
            err_type,
            code,
            amount_required: None,
            model: None,
            headers: Vec::new(),
        })
    }

    /// The error a `x-mock-routstr-error` header asks for (with a message the
    /// kind can be recognised from in any envelope).
    pub(super) fn injected(kind: &str) -> Option<Box<Fail>> {
        let message = match kind {
            "insufficient_balance" => "Insufficient balance: 20000 mSats required. 0 available.",
            "balance_limit_exceeded" => "Balance limit exceeded for this key.",
            "minimum_balance_required" => "Minimum balance required for this model.",
            "missing_api_key" => "API key missing: send Authorization: Bearer or X-Cashu.",
            "invalid_api_key" => "Invalid API key.",
            "key_expired" => "API key expired.",
            "token_already_spent" => "Token already spent",
            "invalid_token" => "Invalid token: could not decode the cashu token.",
            "invalid_model" => "Invalid model: not available on this node.",
            "mint_error" => "Mint error: the mint rejected the proofs.",
            "mint_unreachable" => "Mint unreachable: connection refused.",
            "upstream_error" => "Upstream error: the provider failed (mock).",
            "refund_pending" => "Refund already in progress, retry later.",
            "conflict" | "balance_conflict" => "Balance changed concurrently, retry.",
            _ => return None,
        };
        let mut f = Fail::new(kind, message);
        if f.kind == "minimum_balance_required" {
            f.amount_required = Some(20_000);
            f.model = Some("gpt-4o-mini".into());
        }
        if f.kind == "refund_pending" {
            f.headers.push(("retry-after".into(), "1".into()));
        }
        Some(f)
    }

    pub(super) fn header(mut self: Box<Self>, name: &str, value: impl Into<String>) -> Box<Fail> {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub(super) fn reply(self, request_id: &str, envelope: Option<Envelope>) -> Reply {
        let inner = json!({"message": self.message, "type": self.err_type, "code": self.code});
        let body = match envelope.unwrap_or(self.envelope) {
            Envelope::OpenAi => json!({"error": inner, "request_id": request_id}),
            Envelope::DetailError => {
                json!({"detail": {"error": inner}, "error": inner, "request_id": request_id})
            }
            Envelope::Detail => json!({"detail": self.message}),
            Envelope::MinBalance => json!({"detail": {
                "reason": self.message,
                "amount_required_msat": self.amount_required.unwrap_or(0),
                "model": self.model,
                "type": "minimum_balance_required",
            }}),
        };
        let mut reply = Reply::json(self.status, &body);
        reply.headers = self.headers;
        reply
    }
}
