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

mod balance;
mod chat;
mod fail;
mod lightning;
mod mock;
mod models;
mod node;
mod persist;
mod routes;
mod tokens;

pub use self::mock::{RoutstrMock, RoutstrMockBuilder};
pub use self::models::{NodeQuirk, RoutstrModel};
pub use self::node::RoutstrKey;
pub use self::tokens::{mint_token, token_value_msats};
use self::{balance::*, chat::*, fail::*, lightning::*, tokens::*};
pub(crate) use self::{models::*, node::*, routes::*};
