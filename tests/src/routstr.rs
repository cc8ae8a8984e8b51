//! Routstr mode: the mock plays a Routstr node (an OpenAI-compatible router
//! paid with Cashu eCash), following routstr-core's behaviour.
//!
//! Start it with [`crate::RostroMock::routstr`] (or
//! `RostroMock::builder().routstr()`); see [`RoutstrMock`].
//!
//! # Fake Cashu tokens
//!
//! A token is `cashuA` (or `cashuB`) followed by the unpadded base64url
//! encoding of JSON shaped like a real V3 token:
//!
//! ```json
//! {"token": [{"mint": "http://mint.rostro-mock.test",
//!             "proofs": [{"id": "00ad268c4d1f5826", "amount": 5000,
//!                         "secret": "<unique>", "C": "02..."}]}],
//!  "unit": "msat", "memo": "rostro-mock"}
//! ```
//!
//! The value is the sum of the proof amounts, in `unit` (`msat`, or `sat`
//! meaning ×1000; default `sat` like real tokens). The shorthand
//! `{"amount_msat": 5000, "secret": "..."}` is accepted too. Tokens are
//! single-use: a proof secret redeemed once makes every token carrying it
//! `token_already_spent`. A mint URL containing `unreachable` answers
//! `503 mint_unreachable`, one containing `error` answers `422 mint_error`.
//! [`mint_token`] builds tokens; [`token_value_msats`] reads them back.
//!
//! # What is served
//!
//! * `GET /v1/info`, `GET /v1/models` (`pricing` in USD per token,
//!   `sats_pricing` in sats per token, `max_*` in sats, plus an unknown
//!   `x_mock_note` field), `GET /v1/models/{id}`, `GET /v1/providers`.
//! * `/v1/balance/*` and the deprecated `/v1/wallet/*` alias: `GET info`
//!   (also `GET /v1/balance`), `POST|GET create`, `POST topup`,
//!   `POST refund`, `GET history`, `POST child-key`.
//! * `POST /lightning/invoice` and `GET /lightning/invoice/{id}/status`
//!   (also under the balance prefixes): an invoice is paid after
//!   [`RoutstrMockBuilder::invoice_checks`] status checks (default 2).
//! * `POST /v1/chat/completions`: the mock's echo chat. Paid with the
//!   Bearer key's balance (`usage.cost{base_msats, input_msats, output_msats,
//!   total_msats, total_usd}`, `usage.cost_sats`,
//!   `usage.remaining_balance_msats` in the body; streams end with one extra
//!   usage chunk before `[DONE]`), or with `X-Cashu: <token>` (the whole token
//!   is redeemed; the change comes back in the `X-Cashu` response header with
//!   `X-Routstr-Cost-Msats`, `-Input-Cost-Msats`, `-Output-Cost-Msats` and
//!   `X-Routstr-Cost-Usd`; a stream is buffered, then replayed).
//! * Every response carries `x-routstr-request-id` (and no `x-request-id`).
//!
//! Costs: `request + prompt_tokens * prompt + completion_tokens * completion`
//! msats, capped at the model's `max_cost`. A Bearer key needs `balance -
//! reserved >= max_cost` (else `402 insufficient_balance`), an X-Cashu token
//! must be worth `max_cost` (else `402 minimum_balance_required`). Child keys
//! spend their parent's balance up to their `balance_limit` (else `402
//! balance_limit_exceeded`).
//!
//! # Errors on demand
//!
//! Header `x-mock-routstr-error: <kind>` makes any Routstr route fail with
//! that kind in its usual envelope: `insufficient_balance`,
//! `balance_limit_exceeded` (402, `{"detail": {"error": {...}}, "error":
//! {...}, "request_id"}`), `minimum_balance_required` (402, `{"detail":
//! {"reason", "amount_required_msat", "model", "type"}}`), `missing_api_key`,
//! `invalid_api_key` (401), `key_expired` (403), `invalid_token` (400),
//! `invalid_model` (400), `mint_unreachable` (503; these as `{"error":
//! {"message", "type", "code": "<kind>"}, "request_id"}`), `mint_error` (422)
//! and `upstream_error` (502, both with an integer `code`),
//! `token_already_spent` (400, `{"detail": "Token already spent"}`),
//! `refund_pending` (425 with `Retry-After`), `conflict` (409).
//! `x-mock-routstr-envelope: openai|detail_error|detail|min_balance` picks
//! another envelope. On chat, `upstream_error` after an X-Cashu payment
//! redeems the token and refunds it whole in the `X-Cashu` header.
//!
//! # Real-node quirks
//!
//! routstr-core 0.4.5 behaviours a test selects with
//! [`RoutstrMockBuilder::quirk`] or per request with `x-mock-routstr-quirks:
//! body-longer,body-shorter,line-framing,catalog-model,stream-cut` (see
//! [`NodeQuirk`]). Refunds with [`RoutstrMockBuilder::refund_in_sats`] come
//! back in whole sats as a string, the msat remainder staying on the key; a
//! repeated refund returns the same token; `refund` with an `X-Cashu` token
//! the node has no key for is `404`.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use http::HeaderMap;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::chat::{ChatKind, ChatPlan, StreamSettings, plan, stream_settings};
use crate::reply::{Reply, parse_json_body};
use crate::state::{Shared, lock};
use crate::util::{mix64, parse_query, unix_now};

/// The default mint of fake tokens.
pub const DEFAULT_MINT_URL: &str = "http://mint.rostro-mock.test";
/// USD per sat used to derive USD prices (a $100k bitcoin).
const USD_PER_SAT: f64 = 0.001;
const KEYSET_ID: &str = "00ad268c4d1f5826";

/// One model of the mock node, priced in msats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutstrModel {
    /// Model id.
    pub id: String,
    /// Per prompt token, msat.
    pub prompt_msats: u64,
    /// Per completion token, msat.
    pub completion_msats: u64,
    /// Per request, msat.
    pub request_msats: u64,
    /// Most one request costs (what a key must hold), msat.
    pub max_cost_msats: u64,
    /// Context window, tokens.
    pub context_length: u64,
}

impl RoutstrModel {
    /// A model at 1 msat per token, 1000 msat per request, 10 sats at most.
    pub fn new(id: impl Into<String>) -> RoutstrModel {
        RoutstrModel {
            id: id.into(),
            prompt_msats: 1,
            completion_msats: 1,
            request_msats: 1000,
            max_cost_msats: 10_000,
            context_length: 32_768,
        }
    }

    /// Sets the per-token prices (msat).
    pub fn per_token(mut self, prompt_msats: u64, completion_msats: u64) -> RoutstrModel {
        self.prompt_msats = prompt_msats;
        self.completion_msats = completion_msats;
        self
    }

    /// Sets the per-request price (msat).
    pub fn per_request(mut self, msats: u64) -> RoutstrModel {
        self.request_msats = msats;
        self
    }

    /// Sets the maximum cost (msat).
    pub fn max_cost(mut self, msats: u64) -> RoutstrModel {
        self.max_cost_msats = msats;
        self
    }

    fn cost(&self, prompt_tokens: u64, completion_tokens: u64) -> Cost {
        let input = prompt_tokens.saturating_mul(self.prompt_msats);
        let output = completion_tokens.saturating_mul(self.completion_msats);
        let total = self
            .request_msats
            .saturating_add(input)
            .saturating_add(output)
            .min(self.max_cost_msats);
        Cost {
            base: self.request_msats,
            input,
            output,
            total,
        }
    }

    fn json(&self) -> Value {
        let sats = |m: u64| m as f64 / 1000.0;
        let usd = |m: u64| sats(m) * USD_PER_SAT;
        let half = self.max_cost_msats / 2;
        json!({
            "id": self.id,
            "name": format!("Mock {}", self.id),
            "created": 1_700_000_000,
            "description": format!("{} served by the rostro-mock Routstr node", self.id),
            "context_length": self.context_length,
            "architecture": {
                "modality": "text->text",
                "input_modalities": ["text"],
                "output_modalities": ["text"],
                "tokenizer": "GPT",
                "instruct_type": null,
            },
            "pricing": {
                "prompt": usd(self.prompt_msats),
                "completion": usd(self.completion_msats),
                "request": usd(self.request_msats),
                "image": 0,
                "web_search": 0,
                "internal_reasoning": 0,
                "max_prompt_cost": usd(half),
                "max_completion_cost": usd(half),
                "max_cost": usd(self.max_cost_msats),
            },
            "sats_pricing": {
                "prompt": sats(self.prompt_msats),
                "completion": sats(self.completion_msats),
                "request": sats(self.request_msats),
                "image": 0,
                "web_search": 0,
                "internal_reasoning": 0,
                "max_prompt_cost": sats(half),
                "max_completion_cost": sats(half),
                "max_cost": sats(self.max_cost_msats),
            },
            "per_request_limits": {"prompt_tokens": self.context_length, "completion_tokens": 4096},
            "top_provider": {"context_length": self.context_length, "max_completion_tokens": 4096, "is_moderated": false},
            "enabled": true,
            "x_mock_note": "unknown fields are kept by clients",
        })
    }
}

struct Cost {
    base: u64,
    input: u64,
    output: u64,
    total: u64,
}

impl Cost {
    fn usd(&self) -> String {
        format!("{:.8}", self.total as f64 / 1000.0 * USD_PER_SAT)
    }
}

/// Routstr-mode settings (see [`RoutstrMockBuilder`]).
#[derive(Debug, Clone)]
pub(crate) struct RoutstrConfig {
    pub(crate) models: Vec<RoutstrModel>,
    pub(crate) invoice_checks: u32,
    pub(crate) refund_pending: u32,
    pub(crate) refund_retry_after: u64,
    pub(crate) refund_in_sats: bool,
    pub(crate) child_key_cost_msats: u64,
    pub(crate) mint_url: String,
    pub(crate) quirks: Quirks,
}

/// A behaviour of real routstr-core nodes (0.4.5) that the mock reproduces
/// when a test selects it: with [`RoutstrMockBuilder::quirk`] for every
/// request, or per request with the header
/// `x-mock-routstr-quirks: body-longer,line-framing,...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NodeQuirk {
    /// `body-longer`: a non-streaming X-Cashu reply keeps the upstream's
    /// `content-length` on a body the node made longer (the `X-Cashu` change
    /// header is there; the client reads a cut JSON body).
    BodyLongerThanLength,
    /// `body-shorter`: an X-Cashu reply (streamed or not) announces more bytes
    /// than it sends, then the connection closes (the body cannot be read).
    BodyShorterThanLength,
    /// `line-framing`: an X-Cashu stream is replayed line by line with single
    /// `\n` separators (no blank lines) and ends `data: [DONE]\n`, then EOF.
    LineFraming,
    /// `catalog-model`: the node forwards its catalog id (`openai/<model>`)
    /// upstream, so replies name that model instead of the one asked for.
    CatalogModelId,
    /// `stream-cut`: an X-Cashu stream stops after its first line and the
    /// connection closes (the change header was sent).
    StreamCut,
}

impl NodeQuirk {
    fn parse(name: &str) -> Option<NodeQuirk> {
        Some(match name.trim() {
            "body-longer" => NodeQuirk::BodyLongerThanLength,
            "body-shorter" => NodeQuirk::BodyShorterThanLength,
            "line-framing" => NodeQuirk::LineFraming,
            "catalog-model" => NodeQuirk::CatalogModelId,
            "stream-cut" => NodeQuirk::StreamCut,
            _ => return None,
        })
    }
}

/// The quirks in effect for one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Quirks(Vec<NodeQuirk>);

impl Quirks {
    pub(crate) fn has(&self, q: NodeQuirk) -> bool {
        self.0.contains(&q)
    }

    fn add(&mut self, q: NodeQuirk) {
        if !self.has(q) {
            self.0.push(q);
        }
    }
}

/// How the front sends a buffered X-Cashu stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Replay {
    /// Single `\n` between lines, ending `data: [DONE]\n`.
    pub(crate) line_framing: bool,
    /// Stop after the first line and close the connection.
    pub(crate) cut: bool,
    /// Announce more bytes than are sent, then close the connection.
    pub(crate) short: bool,
}

/// The response of a buffered X-Cashu stream: the whole body, re-framed line
/// by line when asked, or cut after its first line.
pub(crate) fn replay_response(buf: Vec<u8>, replay: Replay) -> http::Response<crate::front::Body> {
    use futures::StreamExt as _;
    use http_body_util::BodyExt as _;
    let buf = if replay.line_framing || replay.cut {
        replay_lines(&buf)
    } else {
        buf
    };
    if replay.cut {
        let first = buf
            .iter()
            .position(|&b| b == b'\n')
            .map_or(buf.len(), |i| i + 1);
        let head = bytes::Bytes::copy_from_slice(&buf[..first]);
        let frames = futures::stream::unfold(Some(head), |state| async move {
            match state {
                Some(head) => Some((Ok(hyper::body::Frame::data(head)), None)),
                None => {
                    // Let the server flush what was sent before the connection dies.
                    tokio::time::sleep(std::time::Duration::from_millis(15)).await;
                    let err = std::io::Error::other("rostro-mock: the node's replay was cut");
                    Some((Err(Box::new(err) as crate::front::BoxError), None))
                }
            }
        })
        .take(2);
        return http::Response::new(http_body_util::BodyExt::boxed(
            http_body_util::StreamBody::new(frames),
        ));
    }
    if replay.short {
        let announced = buf.len() + 64;
        let pause = futures::stream::once(tokio::time::sleep(std::time::Duration::from_millis(15)))
            .filter_map(|()| async { None });
        let frames = futures::stream::iter([Ok::<_, crate::front::BoxError>(
            hyper::body::Frame::data(bytes::Bytes::from(buf)),
        )])
        .chain(pause);
        let mut resp = http::Response::new(http_body_util::BodyExt::boxed(
            http_body_util::StreamBody::new(frames),
        ));
        resp.headers_mut()
            .insert(http::header::CONTENT_LENGTH, announced.into());
        return resp;
    }
    let body = http_body_util::Full::new(bytes::Bytes::from(buf))
        .map_err(|never| match never {})
        .boxed();
    http::Response::new(body)
}

/// Re-frames a buffered SSE body the way routstr-core replays it: one line
/// per line of the upstream stream, blank lines and keep-alive comments
/// dropped, each line ended by a single `\n`.
pub(crate) fn replay_lines(buf: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(buf.len());
    for line in buf.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line.starts_with(b":") {
            continue;
        }
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out
}

impl Default for RoutstrConfig {
    fn default() -> Self {
        RoutstrConfig {
            models: vec![
                RoutstrModel::new("gpt-4o-mini")
                    .per_token(2, 8)
                    .per_request(0)
                    .max_cost(20_000),
                RoutstrModel::new("llama-3.1-8b-instruct")
                    .per_token(1, 1)
                    .per_request(100)
                    .max_cost(5_000),
                RoutstrModel::new("claude-3-haiku")
                    .per_token(25, 125)
                    .per_request(0)
                    .max_cost(200_000),
            ],
            invoice_checks: 2,
            refund_pending: 0,
            refund_retry_after: 1,
            refund_in_sats: false,
            child_key_cost_msats: 100,
            mint_url: DEFAULT_MINT_URL.into(),
            quirks: Quirks::default(),
        }
    }
}

/// One key as the mock holds it (see [`crate::RoutstrMock::key`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoutstrKey {
    /// `sk-...`.
    pub api_key: String,
    /// Balance in msat (a child key's own field stays 0: it spends its parent's).
    pub balance_msats: u64,
    /// Reserved msat.
    pub reserved_msats: u64,
    /// Requests served.
    pub total_requests: u64,
    /// Msat spent.
    pub total_spent_msats: u64,
    /// Spending limit, msat.
    pub balance_limit_msats: Option<u64>,
    /// When the limit resets, as given.
    pub balance_limit_reset: Option<String>,
    /// Unix seconds after which the key is expired.
    pub validity_date: Option<i64>,
    /// The parent of a child key.
    pub parent: Option<String>,
    transactions: Vec<Value>,
    refund_pending_left: u32,
}

impl RoutstrKey {
    fn new(api_key: String, balance: u64, refund_pending: u32) -> RoutstrKey {
        RoutstrKey {
            api_key,
            balance_msats: balance,
            reserved_msats: 0,
            total_requests: 0,
            total_spent_msats: 0,
            balance_limit_msats: None,
            balance_limit_reset: None,
            validity_date: None,
            parent: None,
            transactions: Vec::new(),
            refund_pending_left: refund_pending,
        }
    }
}

#[derive(Debug, Clone)]
struct InvoiceRec {
    id: String,
    amount_sats: u64,
    purpose: String,
    api_key: Option<String>,
    checks: u32,
    expire: bool,
    paid_at: Option<u64>,
    expires_at: u64,
    bolt11: String,
    payment_hash: String,
}

#[derive(Default)]
struct NodeState {
    keys: HashMap<String, RoutstrKey>,
    spent: HashSet<String>,
    invoices: HashMap<String, InvoiceRec>,
    refunds: HashMap<String, Value>,
    seq: u64,
}

/// The Routstr node behind a mock in Routstr mode.
pub(crate) struct Node {
    pub(crate) config: RoutstrConfig,
    state: Mutex<NodeState>,
    seed: u64,
}

/// Builds a fake Cashu token worth `msats` from `mint` (see the module docs
/// for the format); `secret` makes it unique.
pub fn mint_token(mint: &str, msats: u64, secret: &str) -> String {
    let mut c = Sha256::new();
    c.update(secret.as_bytes());
    let point = hex::encode(c.finalize());
    let json = json!({
        "token": [{"mint": mint, "proofs": [{"id": KEYSET_ID, "amount": msats, "secret": secret, "C": format!("02{point}")}]}],
        "unit": "msat",
        "memo": "rostro-mock",
    });
    format!("cashuA{}", URL_SAFE_NO_PAD.encode(json.to_string()))
}

/// A decoded fake token.
struct Decoded {
    msats: u64,
    mint: String,
    secrets: Vec<String>,
}

fn decode_token(token: &str) -> Option<Decoded> {
    let t = token.trim();
    let payload = t
        .strip_prefix("cashuA")
        .or_else(|| t.strip_prefix("cashuB"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .or_else(|_| URL_SAFE.decode(payload))
        .or_else(|_| STANDARD.decode(payload))
        .ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    if let Some(m) = v.get("amount_msat").and_then(Value::as_u64) {
        let secret = v
            .get("secret")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| hex::encode(Sha256::digest(t.as_bytes())));
        return Some(Decoded {
            msats: m,
            mint: v
                .get("mint")
                .and_then(Value::as_str)
                .unwrap_or(DEFAULT_MINT_URL)
                .into(),
            secrets: vec![secret],
        });
    }
    let factor = match v.get("unit").and_then(Value::as_str).unwrap_or("sat") {
        "msat" => 1,
        "sat" => 1000,
        _ => return None,
    };
    let mut msats = 0u64;
    let mut mint = String::new();
    let mut secrets = Vec::new();
    for entry in v.get("token")?.as_array()? {
        if mint.is_empty() {
            mint = entry.get("mint")?.as_str()?.to_string();
        }
        for proof in entry.get("proofs")?.as_array()? {
            msats = msats.checked_add(proof.get("amount")?.as_u64()?.checked_mul(factor)?)?;
            secrets.push(proof.get("secret")?.as_str()?.to_string());
        }
    }
    (!secrets.is_empty()).then_some(Decoded {
        msats,
        mint,
        secrets,
    })
}

/// The value in msat of a fake token (`None` if it is not one).
pub fn token_value_msats(token: &str) -> Option<u64> {
    decode_token(token).map(|d| d.msats)
}

fn sha_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.trim().as_bytes()))
}

/// How an error body is wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Envelope {
    OpenAi,
    DetailError,
    Detail,
    MinBalance,
}

/// A Routstr error, ready to be rendered.
struct Fail {
    kind: &'static str,
    status: u16,
    message: String,
    envelope: Envelope,
    err_type: &'static str,
    code: Value,
    amount_required: Option<u64>,
    model: Option<String>,
    headers: Vec<(String, String)>,
}

impl Fail {
    fn new(kind: &str, message: impl Into<String>) -> Box<Fail> {
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
    fn injected(kind: &str) -> Option<Box<Fail>> {
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

    fn header(mut self: Box<Self>, name: &str, value: impl Into<String>) -> Box<Fail> {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn reply(self, request_id: &str, envelope: Option<Envelope>) -> Reply {
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

/// What the front should send.
pub(crate) enum Answer {
    /// A whole response.
    Reply(Reply),
    /// An SSE chat stream (`buffered`: produced whole, then sent).
    Sse {
        plan: Box<ChatPlan>,
        settings: StreamSettings,
        headers: Vec<(String, String)>,
        buffered: bool,
        /// How a buffered stream is replayed.
        replay: Replay,
    },
}

const PREFIXES: [&str; 2] = ["/v1/balance", "/v1/wallet"];

/// The `"METHOD /template"` of a Routstr route (for attempt counts and
/// fault rules), `None` for unknown paths.
pub(crate) fn route_key(method: &str, path: &str) -> Option<String> {
    let path = normalize(path);
    let (m, template) = match_route(method, &path)?;
    Some(format!("{m} {template}"))
}

fn normalize(path: &str) -> String {
    let p = path.trim_end_matches('/');
    if p.is_empty() { "/".into() } else { p.into() }
}

/// The route a request is for: its method and template, or `None`.
fn match_route(method: &str, path: &str) -> Option<(String, String)> {
    let templ = |t: &str| Some((method.to_string(), t.to_string()));
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, path) {
        ("GET", "/" | "/v1/info") => return templ(path),
        ("GET", "/v1/models" | "/v1/providers") => return templ(path),
        ("POST", "/v1/chat/completions" | "/v1/completions") => return templ(path),
        _ => {}
    }
    if method == "GET" && segs.len() == 3 && segs[0] == "v1" && segs[1] == "models" {
        return templ("/v1/models/{model_id}");
    }
    // Lightning, bare or under a balance prefix.
    let rest = PREFIXES
        .iter()
        .find_map(|p| path.strip_prefix(p).filter(|r| r.starts_with("/lightning")))
        .unwrap_or(path);
    let lsegs: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    if method == "POST" && rest == "/lightning/invoice" {
        return Some((method.into(), path.into()));
    }
    if method == "GET"
        && lsegs.len() == 4
        && lsegs[0] == "lightning"
        && lsegs[1] == "invoice"
        && lsegs[3] == "status"
    {
        let prefix = &path[..path.len() - rest.len()];
        return Some((
            method.into(),
            format!("{prefix}/lightning/invoice/{{invoice_id}}/status"),
        ));
    }
    for p in PREFIXES {
        let Some(rest) = path.strip_prefix(p) else {
            continue;
        };
        let ok = matches!(
            (method, rest),
            ("GET", "" | "/info" | "/history" | "/create")
                | ("POST", "/create" | "/topup" | "/refund" | "/child-key")
        );
        if ok {
            return templ(path);
        }
    }
    None
}

fn known_path(path: &str) -> bool {
    ["GET", "POST"]
        .iter()
        .any(|m| match_route(m, path).is_some())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let auth = header(headers, "authorization")?;
    let key = match auth.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => auth,
    };
    (!key.is_empty()).then(|| key.to_string())
}

impl Node {
    pub(crate) fn new(config: RoutstrConfig, seed: u64) -> Node {
        Node {
            config,
            state: Mutex::new(NodeState::default()),
            seed,
        }
    }

    fn next(&self, st: &mut NodeState) -> u64 {
        st.seq += 1;
        mix64(self.seed ^ st.seq.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// A fresh token worth `msats` from `mint` (the configured mint by default).
    pub(crate) fn new_token(&self, mint: Option<&str>, msats: u64) -> String {
        let mut st = lock(&self.state);
        let secret = format!("{:016x}{:016x}", self.next(&mut st), st.seq);
        mint_token(mint.unwrap_or(&self.config.mint_url), msats, &secret)
    }

    /// A new key holding `msats`.
    pub(crate) fn new_key(&self, msats: u64) -> String {
        let mut st = lock(&self.state);
        let n = self.next(&mut st);
        let key = format!("sk-{}", sha_hex(&format!("key-{n:x}")));
        let rec = RoutstrKey::new(key.clone(), msats, self.config.refund_pending);
        st.keys.insert(key.clone(), rec);
        key
    }

    pub(crate) fn key(&self, key: &str) -> Option<RoutstrKey> {
        let st = lock(&self.state);
        let mut k = st.keys.get(key)?.clone();
        if let Some(parent) = &k.parent {
            k.balance_msats = st.keys.get(parent).map_or(0, |p| p.balance_msats);
        }
        Some(k)
    }

    pub(crate) fn keys(&self) -> Vec<RoutstrKey> {
        let st = lock(&self.state);
        let mut keys: Vec<RoutstrKey> = st.keys.values().cloned().collect();
        keys.sort_by(|a, b| a.api_key.cmp(&b.api_key));
        keys
    }

    pub(crate) fn set_validity(&self, key: &str, unix: Option<i64>) -> bool {
        let mut st = lock(&self.state);
        match st.keys.get_mut(key) {
            Some(k) => {
                k.validity_date = unix;
                true
            }
            None => false,
        }
    }

    pub(crate) fn set_reserved(&self, key: &str, msats: u64) -> bool {
        let mut st = lock(&self.state);
        match st.keys.get_mut(key) {
            Some(k) => {
                k.reserved_msats = msats;
                true
            }
            None => false,
        }
    }

    pub(crate) fn is_spent(&self, token: &str) -> bool {
        let st = lock(&self.state);
        decode_token(token).is_some_and(|d| d.secrets.iter().any(|s| st.spent.contains(s)))
    }

    /// Checks a token with the "mint" without spending it.
    fn check_token(&self, st: &NodeState, token: &str) -> Result<Decoded, Box<Fail>> {
        let d = decode_token(token).ok_or_else(|| {
            Fail::new(
                "invalid_token",
                "Invalid token: could not decode the cashu token.",
            )
        })?;
        if d.mint.contains("unreachable") {
            return Err(Fail::new(
                "mint_unreachable",
                format!("Mint unreachable: could not connect to {}.", d.mint),
            ));
        }
        if d.mint.contains("error") {
            return Err(Fail::new(
                "mint_error",
                "Mint error: the mint rejected the proofs.",
            ));
        }
        if d.secrets.iter().any(|s| st.spent.contains(s)) {
            return Err(Fail::new("token_already_spent", "Token already spent"));
        }
        if d.msats == 0 {
            return Err(Fail::new(
                "invalid_token",
                "Invalid token: it is worth nothing.",
            ));
        }
        Ok(d)
    }

    fn spend(st: &mut NodeState, d: &Decoded) {
        st.spent.extend(d.secrets.iter().cloned());
    }

    fn tx(
        &self,
        st: &mut NodeState,
        kind: &str,
        source: &str,
        msats: u64,
        request_id: &str,
    ) -> Value {
        let n = self.next(st);
        json!({
            "id": format!("tx_{:012x}", n & 0xFFFF_FFFF_FFFF),
            "type": kind,
            "source": source,
            "amount": msats,
            "unit": "msat",
            "mint_url": self.config.mint_url,
            "created_at": unix_now(),
            "request_id": request_id,
        })
    }

    /// The key holding the balance (the parent of a child key).
    fn account_of(st: &NodeState, key: &str) -> String {
        st.keys
            .get(key)
            .and_then(|k| k.parent.clone())
            .unwrap_or_else(|| key.to_string())
    }

    /// Resolves the Bearer credential to a key: an `sk-` key, or a Cashu token
    /// redeemed on first use (its hash becomes the key).
    fn bearer_key(
        &self,
        st: &mut NodeState,
        headers: &HeaderMap,
        request_id: &str,
    ) -> Result<String, Box<Fail>> {
        let Some(cred) = bearer(headers) else {
            return Err(Fail::new(
                "missing_api_key",
                "API key missing: send Authorization: Bearer or X-Cashu.",
            ));
        };
        let key = if cred.starts_with("cashu") {
            let key = format!("sk-{}", sha_hex(&cred));
            if !st.keys.contains_key(&key) {
                let d = self.check_token(st, &cred)?;
                Node::spend(st, &d);
                let mut rec = RoutstrKey::new(key.clone(), d.msats, self.config.refund_pending);
                rec.validity_date = header(headers, "key-expiry-time").and_then(|v| v.parse().ok());
                let tx = self.tx(st, "credit", "bearer", d.msats, request_id);
                rec.transactions.push(tx);
                st.keys.insert(key.clone(), rec);
            }
            key
        } else {
            cred
        };
        let Some(rec) = st.keys.get(&key) else {
            return Err(Fail::new("invalid_api_key", "Invalid API key."));
        };
        if rec.validity_date.is_some_and(|v| v < unix_now() as i64) {
            return Err(Fail::new("key_expired", "API key expired."));
        }
        Ok(key)
    }

    fn info_json(&self, st: &NodeState, key: &str) -> Value {
        let rec = &st.keys[key];
        let account = Node::account_of(st, key);
        let balance = st.keys.get(&account).map_or(0, |a| a.balance_msats);
        json!({
            "api_key": key,
            "balance": balance,
            "reserved": rec.reserved_msats,
            "is_child": rec.parent.is_some(),
            "parent_key": null,
            "total_requests": rec.total_requests,
            "total_spent": rec.total_spent_msats,
            "balance_limit": rec.balance_limit_msats,
            "balance_limit_reset": rec.balance_limit_reset,
            "validity_date": rec.validity_date,
        })
    }
}

/// One buffered request, as the front received it.
pub(crate) struct Incoming<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) query: Option<&'a str>,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
    pub(crate) request_id: &'a str,
}

/// Serves one request in Routstr mode.
pub(crate) fn respond(shared: &Shared, node: &Node, req: Incoming<'_>) -> Answer {
    let Incoming {
        method,
        path,
        query,
        headers,
        body,
        request_id,
    } = req;
    let path = normalize(path);
    let envelope = match header(headers, "x-mock-routstr-envelope") {
        Some("openai") => Some(Envelope::OpenAi),
        Some("detail_error" | "detail-error") => Some(Envelope::DetailError),
        Some("detail") => Some(Envelope::Detail),
        Some("min_balance" | "min-balance") => Some(Envelope::MinBalance),
        _ => None,
    };
    let fail = |f: Box<Fail>| Answer::Reply((*f).reply(request_id, envelope));
    let Some((_, template)) = match_route(method, &path) else {
        return Answer::Reply(if known_path(&path) {
            Reply::json(405, &json!({"detail": "Method Not Allowed"}))
        } else {
            Reply::json(404, &json!({"detail": "Not Found"}))
        });
    };
    let mut upstream_error = false;
    if let Some(kind) = header(headers, "x-mock-routstr-error") {
        match Fail::injected(kind) {
            Some(f)
                if f.kind == "upstream_error"
                    && matches!(
                        template.as_str(),
                        "/v1/chat/completions" | "/v1/completions"
                    ) =>
            {
                upstream_error = true;
            }
            Some(f) => return fail(f),
            None => {
                return Answer::Reply(Reply::json(
                    400,
                    &json!({"detail": format!("x-mock-routstr-error: unknown kind `{kind}`")}),
                ));
            }
        }
    }
    let mut json_body = match parse_json_body(body) {
        Ok(v) => v,
        Err(e) => return Answer::Reply(e),
    };
    if method == "GET" {
        // `GET /v1/balance/create?initial_balance_token=...`
        for (k, v) in parse_query(query) {
            if let Some(obj) = json_body.as_object_mut() {
                obj.insert(k, Value::String(v));
            }
        }
    }
    let result = match template.as_str() {
        "/" | "/v1/info" => Ok(Answer::Reply(Reply::ok(json!({
            "name": "rostro-mock Routstr node",
            "description": "A mock Routstr node for tests",
            "version": "0.2.0-mock",
            "npub": "npub1rostromock0000000000000000000000000000000000000000000000",
            "mints": [node.config.mint_url],
            "http_url": shared.base_url,
            "onion_url": null,
            "models": node.config.models.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
        })))),
        "/v1/models" => Ok(Answer::Reply(Reply::ok(json!({
            "object": "list",
            "data": node.config.models.iter().map(RoutstrModel::json).collect::<Vec<_>>(),
        })))),
        "/v1/models/{model_id}" => {
            let id = path.rsplit('/').next().unwrap_or_default();
            match node.config.models.iter().find(|m| m.id == id) {
                Some(m) => Ok(Answer::Reply(Reply::ok(m.json()))),
                None => Ok(Answer::Reply(Reply::json(
                    404,
                    &json!({"detail": "Model not found"}),
                ))),
            }
        }
        "/v1/providers" => Ok(Answer::Reply(Reply::ok(json!({"providers": [{
            "id": "mock-provider-1",
            "name": "rostro-mock sibling node",
            "endpoint_url": "http://sibling.rostro-mock.test",
            "onion_url": null,
            "npub": "npub1siblingmock00000000000000000000000000000000000000000000",
            "mints": [node.config.mint_url],
            "version": "0.2.0-mock",
            "status": "online",
            "models": ["gpt-4o-mini"],
        }]})))),
        "/v1/chat/completions" | "/v1/completions" => chat(
            shared,
            node,
            if template == "/v1/completions" {
                ChatKind::Completion
            } else {
                ChatKind::Chat
            },
            headers,
            &json_body,
            request_id,
            upstream_error,
        ),
        t if t.contains("/lightning/invoice") => {
            lightning(node, method, &path, headers, &json_body, request_id)
        }
        t => {
            let action = PREFIXES
                .iter()
                .find_map(|p| t.strip_prefix(p))
                .unwrap_or_default();
            balance(node, method, action, headers, &json_body, request_id)
        }
    };
    match result {
        Ok(a) => a,
        Err(f) => fail(f),
    }
}

fn balance(
    node: &Node,
    method: &str,
    action: &str,
    headers: &HeaderMap,
    body: &Value,
    request_id: &str,
) -> Result<Answer, Box<Fail>> {
    let mut st = lock(&node.state);
    let st = &mut *st;
    let ok = |v: Value| Ok(Answer::Reply(Reply::ok(v)));
    match (method, action) {
        ("GET", "" | "/info") => {
            let key = node.bearer_key(st, headers, request_id)?;
            ok(node.info_json(st, &key))
        }
        (_, "/create") => {
            let Some(token) = body.get("initial_balance_token").and_then(Value::as_str) else {
                return Ok(Answer::Reply(Reply::validation(
                    &["body", "initial_balance_token"],
                    "Field required",
                    "missing",
                )));
            };
            let d = node.check_token(st, token)?;
            Node::spend(st, &d);
            let key = format!("sk-{}", sha_hex(token));
            let mut rec = RoutstrKey::new(key.clone(), d.msats, node.config.refund_pending);
            rec.balance_limit_msats = body.get("balance_limit").and_then(Value::as_u64);
            rec.balance_limit_reset = body
                .get("balance_limit_reset")
                .and_then(Value::as_str)
                .map(str::to_string);
            rec.validity_date = body.get("validity_date").and_then(|v| {
                v.as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            });
            let tx = node.tx(st, "credit", "create", d.msats, request_id);
            rec.transactions.push(tx);
            st.keys.insert(key.clone(), rec);
            ok(json!({"api_key": key, "balance": d.msats}))
        }
        ("POST", "/topup") => {
            let key = node.bearer_key(st, headers, request_id)?;
            let Some(token) = body.get("cashu_token").and_then(Value::as_str) else {
                return Ok(Answer::Reply(Reply::validation(
                    &["body", "cashu_token"],
                    "Field required",
                    "missing",
                )));
            };
            let d = node.check_token(st, token)?;
            Node::spend(st, &d);
            let account = Node::account_of(st, &key);
            let tx = node.tx(st, "credit", "topup", d.msats, request_id);
            if let Some(a) = st.keys.get_mut(&account) {
                a.balance_msats = a.balance_msats.saturating_add(d.msats);
            }
            if let Some(k) = st.keys.get_mut(&key) {
                k.transactions.push(tx);
            }
            ok(json!({"msats": d.msats}))
        }
        ("POST", "/refund") => {
            let key = match header(headers, "x-cashu") {
                Some(token) => format!("sk-{}", sha_hex(token)),
                None => match bearer(headers) {
                    Some(c) if c.starts_with("cashu") => format!("sk-{}", sha_hex(&c)),
                    Some(c) => c,
                    None => {
                        return Err(Fail::new(
                            "missing_api_key",
                            "API key missing: send Authorization: Bearer or X-Cashu.",
                        ));
                    }
                },
            };
            if let Some(done) = st.refunds.get(&key) {
                return ok(done.clone());
            }
            let Some(rec) = st.keys.get_mut(&key) else {
                if header(headers, "x-cashu").is_some() {
                    // routstr-core looks the token's key up and answers 404.
                    return Ok(Answer::Reply(Reply::json(
                        404,
                        &json!({"detail": "No balance found for this token."}),
                    )));
                }
                return Err(Fail::new("invalid_api_key", "Invalid API key."));
            };
            if rec.parent.is_some() {
                return Ok(Answer::Reply(Reply::json(
                    400,
                    &json!({"detail": "Child keys cannot be refunded; refund the parent key."}),
                )));
            }
            if rec.refund_pending_left > 0 {
                rec.refund_pending_left -= 1;
                return Err(Fail::new(
                    "refund_pending",
                    "Refund already in progress, retry later.",
                )
                .header("retry-after", node.config.refund_retry_after.to_string()));
            }
            let mut amount = rec.balance_msats.saturating_sub(rec.reserved_msats);
            if node.config.refund_in_sats {
                // Whole sats only: the msat remainder stays on the key.
                amount -= amount % 1000;
            }
            if amount == 0 {
                return Ok(Answer::Reply(Reply::json(
                    400,
                    &json!({"detail": "No balance to refund"}),
                )));
            }
            let n = node.next(st);
            let token = mint_token(&node.config.mint_url, amount, &format!("refund-{n:016x}"));
            let answer = if node.config.refund_in_sats {
                // routstr-core sends the sats as a string.
                json!({"token": token, "sats": (amount / 1000).to_string()})
            } else {
                json!({"token": token, "msats": amount})
            };
            let left = match st.keys.get_mut(&key) {
                Some(rec) => {
                    rec.balance_msats -= amount;
                    rec.balance_msats
                }
                None => 0,
            };
            // The key is gone after a refund (unless a sub-sat remainder stays
            // on it); asking again returns the same answer.
            if left == 0 {
                st.keys
                    .retain(|k, r| *k != key && r.parent.as_deref() != Some(key.as_str()));
            }
            st.refunds.insert(key, answer.clone());
            ok(answer)
        }
        ("GET", "/history") => {
            let key = node.bearer_key(st, headers, request_id)?;
            let mut txs = st.keys[&key].transactions.clone();
            txs.reverse();
            ok(json!({"transactions": txs}))
        }
        ("POST", "/child-key") => {
            let key = node.bearer_key(st, headers, request_id)?;
            if st.keys[&key].parent.is_some() {
                return Ok(Answer::Reply(Reply::json(
                    403,
                    &json!({"detail": "Child keys cannot create child keys."}),
                )));
            }
            let count = body.get("count").and_then(Value::as_u64).unwrap_or(1);
            if !(1..=50).contains(&count) {
                return Ok(Answer::Reply(Reply::json(
                    422,
                    &json!({"detail": [{"loc": ["body", "count"], "msg": "Input should be less than or equal to 50 and greater than or equal to 1", "type": "less_than_equal"}]}),
                )));
            }
            let cost = count * node.config.child_key_cost_msats;
            let parent = st.keys.get_mut(&key).expect("resolved key");
            if parent.balance_msats.saturating_sub(parent.reserved_msats) < cost {
                return Err(Fail::new(
                    "insufficient_balance",
                    format!("Insufficient balance: {cost} mSats required for {count} child keys."),
                ));
            }
            parent.balance_msats -= cost;
            let limit = body.get("balance_limit").and_then(Value::as_u64);
            let mut api_keys = Vec::new();
            for _ in 0..count {
                let n = node.next(st);
                let child = format!("sk-{}", sha_hex(&format!("child-{key}-{n:x}")));
                let mut rec = RoutstrKey::new(child.clone(), 0, 0);
                rec.parent = Some(key.clone());
                rec.balance_limit_msats = limit;
                st.keys.insert(child.clone(), rec);
                api_keys.push(child);
            }
            let remaining = st.keys[&key].balance_msats;
            ok(
                json!({"api_keys": api_keys, "count": count, "cost_msats": cost, "parent_balance": remaining}),
            )
        }
        _ => Ok(Answer::Reply(Reply::json(
            405,
            &json!({"detail": "Method Not Allowed"}),
        ))),
    }
}

fn lightning(
    node: &Node,
    method: &str,
    path: &str,
    headers: &HeaderMap,
    body: &Value,
    request_id: &str,
) -> Result<Answer, Box<Fail>> {
    let mut st = lock(&node.state);
    let st = &mut *st;
    if method == "POST" {
        let Some(amount) = body
            .get("amount_sats")
            .and_then(Value::as_u64)
            .filter(|a| *a > 0)
        else {
            return Ok(Answer::Reply(Reply::validation(
                &["body", "amount_sats"],
                "Input should be greater than 0",
                "greater_than",
            )));
        };
        let purpose = body
            .get("purpose")
            .and_then(Value::as_str)
            .unwrap_or("create");
        if !matches!(purpose, "create" | "topup") {
            return Ok(Answer::Reply(Reply::validation(
                &["body", "purpose"],
                "Input should be 'create' or 'topup'",
                "literal_error",
            )));
        }
        let api_key = if purpose == "topup" {
            match body.get("api_key").and_then(Value::as_str) {
                Some(k) if st.keys.contains_key(k) => Some(k.to_string()),
                Some(_) => return Err(Fail::new("invalid_api_key", "Invalid API key.")),
                None => Some(node.bearer_key(st, headers, request_id)?),
            }
        } else {
            None
        };
        let n = node.next(st);
        let id = format!("inv_{n:016x}");
        let payment_hash = sha_hex(&id);
        let rec = InvoiceRec {
            bolt11: format!("lnbcrt{amount}0n1pmock{}", &payment_hash[..40]),
            payment_hash,
            id: id.clone(),
            amount_sats: amount,
            purpose: purpose.into(),
            api_key,
            checks: 0,
            expire: header(headers, "x-mock-routstr-invoice") == Some("expire"),
            paid_at: None,
            expires_at: unix_now() + 3600,
        };
        let v = json!({
            "invoice_id": rec.id,
            "bolt11": rec.bolt11,
            "amount_sats": rec.amount_sats,
            "expires_at": rec.expires_at,
            "payment_hash": rec.payment_hash,
        });
        st.invoices.insert(id, rec);
        return Ok(Answer::Reply(Reply::ok(v)));
    }
    let id = path.rsplit('/').nth(1).unwrap_or_default().to_string();
    let Some(inv) = st.invoices.get_mut(&id) else {
        return Ok(Answer::Reply(Reply::json(
            404,
            &json!({"detail": "Invoice not found"}),
        )));
    };
    inv.checks += 1;
    let status = if inv.paid_at.is_some() {
        "paid"
    } else if inv.expire {
        "expired"
    } else if inv.checks >= node.config.invoice_checks {
        "paid"
    } else {
        "pending"
    };
    let mut inv = inv.clone();
    if status == "paid" && inv.paid_at.is_none() {
        inv.paid_at = Some(unix_now());
        let msats = inv.amount_sats.saturating_mul(1000);
        match inv.api_key.clone() {
            Some(key) => {
                let account = Node::account_of(st, &key);
                let tx = node.tx(st, "credit", "lightning", msats, request_id);
                if let Some(a) = st.keys.get_mut(&account) {
                    a.balance_msats = a.balance_msats.saturating_add(msats);
                }
                if let Some(k) = st.keys.get_mut(&key) {
                    k.transactions.push(tx);
                }
            }
            None => {
                let key = format!("sk-{}", sha_hex(&format!("invoice-{}", inv.id)));
                let mut rec = RoutstrKey::new(key.clone(), msats, node.config.refund_pending);
                let tx = node.tx(st, "credit", "lightning", msats, request_id);
                rec.transactions.push(tx);
                st.keys.insert(key.clone(), rec);
                inv.api_key = Some(key);
            }
        }
        st.invoices.insert(inv.id.clone(), inv.clone());
    }
    Ok(Answer::Reply(Reply::ok(json!({
        "invoice_id": inv.id,
        "status": status,
        "purpose": inv.purpose,
        "amount_sats": inv.amount_sats,
        "api_key": if status == "paid" { inv.api_key.clone() } else { None },
        "paid_at": inv.paid_at,
        "expires_at": inv.expires_at,
    }))))
}

fn cost_headers(cost: &Cost) -> Vec<(String, String)> {
    vec![
        ("x-routstr-cost-msats".into(), cost.total.to_string()),
        ("x-routstr-input-cost-msats".into(), cost.input.to_string()),
        (
            "x-routstr-output-cost-msats".into(),
            cost.output.to_string(),
        ),
        ("x-routstr-cost-usd".into(), cost.usd()),
    ]
}

fn chat(
    shared: &Shared,
    node: &Node,
    kind: ChatKind,
    headers: &HeaderMap,
    body: &Value,
    request_id: &str,
    upstream_error: bool,
) -> Result<Answer, Box<Fail>> {
    let model_id = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(model) = node.config.models.iter().find(|m| m.id == model_id) else {
        return Err(Fail::new(
            "invalid_model",
            format!("Invalid model: `{model_id}` is not available on this node."),
        ));
    };
    let settings = match stream_settings(shared, headers) {
        Ok(s) => s,
        Err(r) => return Ok(Answer::Reply(r)),
    };
    let mut plan = match plan(shared, kind, body, None, &settings) {
        Ok(p) => p,
        Err(r) => return Ok(Answer::Reply(r)),
    };
    let mut quirks = node.config.quirks.clone();
    if let Some(v) = header(headers, "x-mock-routstr-quirks") {
        for name in v.split(',').filter(|n| !n.trim().is_empty()) {
            match NodeQuirk::parse(name) {
                Some(q) => quirks.add(q),
                None => {
                    return Ok(Answer::Reply(Reply::json(
                        400,
                        &json!({"detail": format!("x-mock-routstr-quirks: unknown quirk `{}`", name.trim())}),
                    )));
                }
            }
        }
    }
    if quirks.has(NodeQuirk::CatalogModelId) {
        plan.set_model(format!("openai/{}", model.id));
    }
    let streaming = body.get("stream").and_then(Value::as_bool) == Some(true);
    let cost = model.cost(plan.prompt_tokens() as u64, plan.completion_tokens() as u64);
    let mut usage_extra = Map::new();
    usage_extra.insert(
        "cost".into(),
        json!({
            "base_msats": cost.base,
            "input_msats": cost.input,
            "output_msats": cost.output,
            "total_msats": cost.total,
            "total_usd": cost.total as f64 / 1000.0 * USD_PER_SAT,
        }),
    );
    usage_extra.insert("cost_sats".into(), json!(cost.total as f64 / 1000.0));
    let mut st = lock(&node.state);
    let st = &mut *st;
    let mut resp_headers = Vec::new();

    if let Some(token) = header(headers, "x-cashu") {
        let d = node.check_token(st, token)?;
        if d.msats < model.max_cost_msats {
            let mut f = Fail::new(
                "minimum_balance_required",
                format!(
                    "Minimum balance required: the token holds {} mSats, {} needs {}.",
                    d.msats, model.id, model.max_cost_msats
                ),
            );
            f.amount_required = Some(model.max_cost_msats);
            f.model = Some(model.id.clone());
            return Err(f);
        }
        Node::spend(st, &d);
        if upstream_error {
            // The whole payment comes back.
            let n = node.next(st);
            let refund = mint_token(&node.config.mint_url, d.msats, &format!("refund-{n:016x}"));
            return Err(Fail::injected("upstream_error")
                .expect("known kind")
                .header("x-cashu", refund));
        }
        let change = d.msats - cost.total;
        if change > 0 {
            let n = node.next(st);
            let token = mint_token(&node.config.mint_url, change, &format!("change-{n:016x}"));
            resp_headers.push(("x-cashu".into(), token));
        }
        resp_headers.extend(cost_headers(&cost));
        plan.set_usage_extra(usage_extra);
        return Ok(if streaming {
            Answer::Sse {
                plan: Box::new(plan),
                settings,
                headers: resp_headers,
                buffered: true,
                replay: Replay {
                    line_framing: quirks.has(NodeQuirk::LineFraming),
                    cut: quirks.has(NodeQuirk::StreamCut),
                    short: quirks.has(NodeQuirk::BodyShorterThanLength),
                },
            }
        } else {
            let mut reply = Reply::ok(plan.response_json());
            let len = reply.body.len();
            if quirks.has(NodeQuirk::BodyLongerThanLength) {
                // The upstream's length on the node's longer body.
                let upstream_len = len.saturating_sub(40).max(1);
                resp_headers.push(("content-length".into(), upstream_len.to_string()));
            } else if quirks.has(NodeQuirk::BodyShorterThanLength) {
                resp_headers.push(("content-length".into(), (len + 64).to_string()));
            }
            reply.headers = resp_headers;
            Answer::Reply(reply)
        });
    }

    let key = node.bearer_key(st, headers, request_id)?;
    let account = Node::account_of(st, &key);
    let (balance, reserved) = st
        .keys
        .get(&account)
        .map_or((0, 0), |a| (a.balance_msats, a.reserved_msats));
    let available = balance.saturating_sub(reserved);
    if available < model.max_cost_msats {
        return Err(Fail::new(
            "insufficient_balance",
            format!(
                "Insufficient balance: {} mSats required. {available} available.",
                model.max_cost_msats
            ),
        ));
    }
    let rec = &st.keys[&key];
    if let Some(limit) = rec.balance_limit_msats
        && rec.total_spent_msats.saturating_add(cost.total) > limit
    {
        return Err(Fail::new(
            "balance_limit_exceeded",
            format!(
                "Balance limit exceeded: {} of {limit} mSats spent.",
                rec.total_spent_msats
            ),
        ));
    }
    if upstream_error {
        // Nothing is charged.
        return Err(Fail::injected("upstream_error").expect("known kind"));
    }
    let remaining = {
        let a = st.keys.get_mut(&account).expect("account exists");
        a.balance_msats -= cost.total;
        a.balance_msats
    };
    let rec = st.keys.get_mut(&key).expect("key exists");
    rec.total_requests += 1;
    rec.total_spent_msats += cost.total;
    usage_extra.insert("remaining_balance_msats".into(), json!(remaining));
    plan.set_usage_extra(usage_extra);
    Ok(if streaming {
        Answer::Sse {
            plan: Box::new(plan),
            settings,
            headers: resp_headers,
            buffered: false,
            replay: Replay::default(),
        }
    } else {
        Answer::Reply(Reply::ok(plan.response_json()))
    })
}

/// A mock Routstr node: a [`RostroMock`](crate::RostroMock) in Routstr mode
/// (see the [module docs](self) for routes, token format and error headers).
/// Derefs to the `RostroMock` for [`uri`](crate::RostroMock::uri), recorded
/// requests, attempt counts and fault injection.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use rostro_mock::RoutstrMock;
///
/// let node = RoutstrMock::builder().invoice_checks(1).start().await;
/// let token = node.mint_token(50_000); // 50 sats
/// let created: serde_json::Value = reqwest::Client::new()
///     .post(format!("{}/v1/balance/create", node.uri()))
///     .json(&serde_json::json!({"initial_balance_token": token}))
///     .send()
///     .await?
///     .json()
///     .await?;
/// let key = created["api_key"].as_str().unwrap();
/// assert_eq!(node.balance(key), Some(50_000));
/// assert!(node.is_spent(&token));
/// # Ok(()) }
/// ```
pub struct RoutstrMock {
    mock: crate::RostroMock,
}

impl std::fmt::Debug for RoutstrMock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoutstrMock")
            .field("uri", &self.mock.uri())
            .finish_non_exhaustive()
    }
}

impl std::ops::Deref for RoutstrMock {
    type Target = crate::RostroMock;

    fn deref(&self) -> &crate::RostroMock {
        &self.mock
    }
}

impl RoutstrMock {
    /// Starts a mock node with the default settings.
    ///
    /// # Panics
    /// Panics if no local port can be bound.
    pub async fn start() -> RoutstrMock {
        RoutstrMock::builder().start().await
    }

    /// A builder with Routstr options.
    pub fn builder() -> RoutstrMockBuilder {
        crate::RostroMock::builder().routstr()
    }

    fn node(&self) -> &Node {
        self.mock
            .shared
            .routstr
            .as_ref()
            .expect("a RoutstrMock runs in Routstr mode")
    }

    /// The mock itself.
    pub fn inner(&self) -> &crate::RostroMock {
        &self.mock
    }

    /// The mint URL of the tokens this node accepts and returns.
    pub fn mint_url(&self) -> String {
        self.node().config.mint_url.clone()
    }

    /// A fresh token worth `msats` from this node's mint.
    pub fn mint_token(&self, msats: u64) -> String {
        self.mock.shared.txn(|| self.node().new_token(None, msats))
    }

    /// A fresh token worth `msats` from another mint (a mint URL containing
    /// `unreachable` or `error` makes the node fail to redeem it).
    pub fn mint_token_at(&self, mint: &str, msats: u64) -> String {
        self.mock
            .shared
            .txn(|| self.node().new_token(Some(mint), msats))
    }

    /// The value in msat of a token (`None` if it is not one of the mock's).
    pub fn token_value(&self, token: &str) -> Option<u64> {
        token_value_msats(token)
    }

    /// Whether the node already redeemed a token.
    pub fn is_spent(&self, token: &str) -> bool {
        self.mock.shared.txn(|| self.node().is_spent(token))
    }

    /// Creates a key holding `msats` directly (no token involved).
    pub fn create_key(&self, msats: u64) -> String {
        self.mock.shared.txn(|| self.node().new_key(msats))
    }

    /// The balance a key can use, in msat (a child key reports its parent's);
    /// `None` for unknown (or refunded) keys.
    pub fn balance(&self, key: &str) -> Option<u64> {
        self.mock
            .shared
            .txn(|| self.node().key(key).map(|k| k.balance_msats))
    }

    /// A snapshot of one key.
    pub fn key(&self, key: &str) -> Option<RoutstrKey> {
        self.mock.shared.txn(|| self.node().key(key))
    }

    /// Every key, sorted.
    pub fn keys(&self) -> Vec<RoutstrKey> {
        self.mock.shared.txn(|| self.node().keys())
    }

    /// Sets (or clears) a key's validity date (Unix seconds); a past date
    /// makes requests fail with `403 key_expired`. `false` for unknown keys.
    pub fn set_validity(&self, key: &str, unix: Option<i64>) -> bool {
        self.mock.shared.txn(|| self.node().set_validity(key, unix))
    }

    /// Sets the msat reserved on a key (as if requests were in flight).
    pub fn set_reserved(&self, key: &str, msats: u64) -> bool {
        self.mock
            .shared
            .txn(|| self.node().set_reserved(key, msats))
    }
}

/// Options of a [`RoutstrMock`], from [`RoutstrMock::builder`] or
/// [`RostroMockBuilder::routstr`](crate::RostroMockBuilder::routstr).
#[derive(Debug, Clone)]
pub struct RoutstrMockBuilder {
    pub(crate) base: crate::RostroMockBuilder,
}

impl RoutstrMockBuilder {
    fn cfg(&mut self) -> &mut RoutstrConfig {
        self.base
            .config
            .routstr
            .get_or_insert_with(RoutstrConfig::default)
    }

    /// Replaces the models (default `gpt-4o-mini`, `llama-3.1-8b-instruct`,
    /// `claude-3-haiku`).
    pub fn models<I: IntoIterator<Item = RoutstrModel>>(mut self, models: I) -> Self {
        self.cfg().models = models.into_iter().collect();
        self
    }

    /// Adds one model.
    pub fn model(mut self, model: RoutstrModel) -> Self {
        self.cfg().models.push(model);
        self
    }

    /// Status checks after which a Lightning invoice is paid (default 2).
    pub fn invoice_checks(mut self, checks: u32) -> Self {
        self.cfg().invoice_checks = checks;
        self
    }

    /// The first `times` refunds of every key answer `425` with
    /// `Retry-After` (default 0).
    pub fn refund_pending(mut self, times: u32) -> Self {
        self.cfg().refund_pending = times;
        self
    }

    /// `Retry-After` seconds of a pending refund (default 1).
    pub fn refund_retry_after(mut self, secs: u64) -> Self {
        self.cfg().refund_retry_after = secs;
        self
    }

    /// Report refunds like routstr-core with a sat mint: `{"token", "sats":
    /// "4297"}` (whole sats, as a string), the msat remainder staying on the
    /// key, instead of `{"token", "msats"}`.
    pub fn refund_in_sats(mut self, yes: bool) -> Self {
        self.cfg().refund_in_sats = yes;
        self
    }

    /// Reproduces a behaviour of real routstr-core nodes on every request
    /// (see [`NodeQuirk`]; per request: `x-mock-routstr-quirks`).
    pub fn quirk(mut self, quirk: NodeQuirk) -> Self {
        self.cfg().quirks.add(quirk);
        self
    }

    /// What one child key costs its parent, msat (default 100).
    pub fn child_key_cost(mut self, msats: u64) -> Self {
        self.cfg().child_key_cost_msats = msats;
        self
    }

    /// The mint of the node's tokens (default [`DEFAULT_MINT_URL`]).
    pub fn mint_url(mut self, url: impl Into<String>) -> Self {
        self.cfg().mint_url = url.into();
        self
    }

    /// Listen on this port (default: a random free port).
    pub fn port(mut self, port: u16) -> Self {
        self.base = self.base.port(port);
        self
    }

    /// Listen on this address (default `127.0.0.1`).
    pub fn host(mut self, host: std::net::IpAddr) -> Self {
        self.base = self.base.host(host);
        self
    }

    /// Seed of generated ids and keys (default 42).
    pub fn seed(mut self, seed: u64) -> Self {
        self.base = self.base.seed(seed);
        self
    }

    /// Delay added before every response.
    pub fn latency(mut self, latency: std::time::Duration) -> Self {
        self.base = self.base.latency(latency);
        self
    }

    /// Keeps the node's keys, balances, spent proofs and invoices in this
    /// directory (see [`RostroMockBuilder::state_dir`](crate::RostroMockBuilder::state_dir)).
    pub fn state_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.base = self.base.state_dir(dir);
        self
    }

    /// A fault rule active from the start (routes are Routstr paths such as
    /// `/v1/balance/refund`).
    pub fn fault(mut self, rule: crate::FaultRule) -> Self {
        self.base = self.base.fault(rule);
        self
    }

    /// Starts the node.
    ///
    /// # Panics
    /// Panics if the address cannot be bound.
    pub async fn start(self) -> RoutstrMock {
        self.try_start().await.expect("rostro-mock: bind failed")
    }

    /// Starts the node, reporting bind errors.
    pub async fn try_start(mut self) -> std::io::Result<RoutstrMock> {
        self.cfg();
        let mock = self.base.try_start().await?;
        Ok(RoutstrMock { mock })
    }
}

// Persistence for the sandbox (crate::sandbox): keys, spent proofs, invoices,
// refunds and the sequence, as JSON.
impl Node {
    pub(crate) fn export_state(&self) -> Value {
        let st = lock(&self.state);
        let mut keys: Vec<&RoutstrKey> = st.keys.values().collect();
        keys.sort_by(|a, b| a.api_key.cmp(&b.api_key));
        let mut spent: Vec<&String> = st.spent.iter().collect();
        spent.sort();
        let mut invoices: Vec<&InvoiceRec> = st.invoices.values().collect();
        invoices.sort_by(|a, b| a.id.cmp(&b.id));
        json!({
            "seq": st.seq,
            "keys": keys.iter().map(|k| json!({
                "api_key": k.api_key,
                "balance_msats": k.balance_msats,
                "reserved_msats": k.reserved_msats,
                "total_requests": k.total_requests,
                "total_spent_msats": k.total_spent_msats,
                "balance_limit_msats": k.balance_limit_msats,
                "balance_limit_reset": k.balance_limit_reset,
                "validity_date": k.validity_date,
                "parent": k.parent,
                "transactions": k.transactions,
                "refund_pending_left": k.refund_pending_left,
            })).collect::<Vec<_>>(),
            "spent": spent,
            "invoices": invoices.iter().map(|i| json!({
                "id": i.id,
                "amount_sats": i.amount_sats,
                "purpose": i.purpose,
                "api_key": i.api_key,
                "checks": i.checks,
                "expire": i.expire,
                "paid_at": i.paid_at,
                "expires_at": i.expires_at,
                "bolt11": i.bolt11,
                "payment_hash": i.payment_hash,
            })).collect::<Vec<_>>(),
            "refunds": Value::Object(st.refunds.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
        })
    }

    /// Replaces the node's state (`Null`: a fresh node).
    pub(crate) fn import_state(&self, v: &Value) {
        let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let num = |v: &Value, k: &str| v.get(k).and_then(Value::as_u64);
        let list = |k: &str| {
            v.get(k)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let mut st = lock(&self.state);
        *st = NodeState::default();
        st.seq = num(v, "seq").unwrap_or(0);
        for k in list("keys") {
            let Some(api_key) = text(&k, "api_key") else {
                continue;
            };
            let rec = RoutstrKey {
                api_key: api_key.clone(),
                balance_msats: num(&k, "balance_msats").unwrap_or(0),
                reserved_msats: num(&k, "reserved_msats").unwrap_or(0),
                total_requests: num(&k, "total_requests").unwrap_or(0),
                total_spent_msats: num(&k, "total_spent_msats").unwrap_or(0),
                balance_limit_msats: num(&k, "balance_limit_msats"),
                balance_limit_reset: text(&k, "balance_limit_reset"),
                validity_date: k.get("validity_date").and_then(Value::as_i64),
                parent: text(&k, "parent"),
                transactions: k
                    .get("transactions")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
                refund_pending_left: num(&k, "refund_pending_left")
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(0),
            };
            st.keys.insert(api_key, rec);
        }
        st.spent = list("spent")
            .iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect();
        for i in list("invoices") {
            let Some(id) = text(&i, "id") else { continue };
            let rec = InvoiceRec {
                id: id.clone(),
                amount_sats: num(&i, "amount_sats").unwrap_or(0),
                purpose: text(&i, "purpose").unwrap_or_default(),
                api_key: text(&i, "api_key"),
                checks: num(&i, "checks")
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(0),
                expire: i.get("expire").and_then(Value::as_bool).unwrap_or(false),
                paid_at: num(&i, "paid_at"),
                expires_at: num(&i, "expires_at").unwrap_or(0),
                bolt11: text(&i, "bolt11").unwrap_or_default(),
                payment_hash: text(&i, "payment_hash").unwrap_or_default(),
            };
            st.invoices.insert(id, rec);
        }
        if let Some(r) = v.get("refunds").and_then(Value::as_object) {
            st.refunds = r.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        }
    }
}
