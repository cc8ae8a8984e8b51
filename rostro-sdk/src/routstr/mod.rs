//! Routstr nodes: OpenAI-compatible routers paid with Cashu eCash (Bitcoin).
//!
//! [`RoutstrClient`] talks to one node through the SDK's [`Client`](crate::Client) (one send
//! path: same retries, tracing and redaction):
//!
//! - node: [`info`](RoutstrClient::info), [`models`](RoutstrClient::models) (USD and sat
//!   [`pricing`](Model::sats_pricing)), [`providers`](RoutstrClient::providers);
//! - balance ([`RoutstrClient::balance`], `/v1/balance/*` or the older `/v1/wallet/*`):
//!   `info`, `create`, `topup`, `refund` (waits out `425` while a refund is pending),
//!   `history`, `child_keys`;
//! - Lightning ([`RoutstrClient::lightning`]): `create_invoice`, `invoice_status` and
//!   [`wait_paid`](RoutstrCall::wait_paid);
//! - chat: [`RoutstrClient::chat`], the SDK's typed chat layer bound to the node, with
//!   [`ChatCharge`] to read what a completion or stream cost.
//!
//! Money is integers: [`Msats`] and [`Sats`]. Credentials ([`Credential`]: `sk-...` keys,
//! [`CashuToken`]s) are validated before anything is sent and never printed by `Debug`.
//! Every answer carries the node's [`RoutstrMeta`] (cost headers, `X-Cashu` change, request
//! id); errors keep theirs too ([`RoutstrErrorExt`]), with a typed [`RoutstrErrorKind`].
//!
//! ```no_run
//! use rostro_sdk::routstr::{RoutstrClient, RoutstrErrorExt, RoutstrErrorKind};
//!
//! # async fn run(token: String) -> rostro_sdk::Result<()> {
//! // Redeem a token into a new key, then use the key.
//! let node = RoutstrClient::public("https://api.routstr.com")?;
//! let created = node.balance().create(&token).await?;
//! let node = node.with_credential(created.api_key.expose())?;
//!
//! let models = node.models().await?;
//! for m in &models.data {
//!     let max = m.sats_pricing.as_ref().and_then(|p| p.max_cost_msats());
//!     println!("{} reserves up to {max:?}", m.id);
//! }
//!
//! match node.balance().info().await {
//!     Ok(info) => println!("{} available", info.available()),
//!     Err(e) if e.routstr_kind() == Some(RoutstrErrorKind::KeyExpired) => println!("expired"),
//!     Err(e) => return Err(e),
//! }
//!
//! let refund = node.balance().refund().await?;
//! println!("refunded {:?}", refund.amount());
//! # Ok(())
//! # }
//! ```
//!
//! Chat is the SDK's OpenAI chat ([`crate::chat`]); pay per request with [`PayWith`]:
//!
//! ```no_run
//! use rostro_sdk::chat::{ChatCompletionRequest, Message};
//! use rostro_sdk::routstr::{PayWith, RoutstrClient, RoutstrErrorExt, RoutstrMeta};
//!
//! # async fn run(node: RoutstrClient, token: String) -> rostro_sdk::Result<()> {
//! let req = ChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("hi")])
//!     .include_usage(true);
//! match node.chat().request(req).pay_with(&token).send_with_response().await {
//!     Ok(resp) => {
//!         let meta = RoutstrMeta::from_response(resp.meta());
//!         println!("cost {:?}, change {:?}", meta.cost_msats, meta.change_token);
//!     }
//!     // The node refunds a failed paid request in `X-Cashu`: keep it.
//!     Err(e) => println!("{e}; refund: {:?}", e.change_token()),
//! }
//! # Ok(())
//! # }
//! ```

mod amount;
mod charge;
mod client;
mod error;
mod meta;
mod token;
mod types;

pub use amount::{Msats, Price, Sats, UsdAmount};
pub use charge::ChatCharge;
pub use client::{
    BalanceApi, BalancePrefix, DEFAULT_REFUND_PENDING_RETRIES, LightningApi, MAX_CHILD_KEYS,
    PayWith, RoutstrCall, RoutstrClient, RoutstrClientBuilder,
};
pub use error::{RoutstrErrorExt, RoutstrErrorKind};
pub use meta::{
    HEADER_CASHU, HEADER_COST_MSATS, HEADER_COST_USD, HEADER_INPUT_COST_MSATS,
    HEADER_OUTPUT_COST_MSATS, HEADER_REQUEST_ID, RoutstrMeta, RoutstrResponse,
};
pub use token::{CashuToken, Credential, InvalidCredential, TokenVersion};
pub use types::{
    Architecture, BalanceInfo, ChildKeyRequest, ChildKeys, CreateBalanceRequest, CreatedBalance,
    History, Invoice, InvoicePurpose, InvoiceRequest, InvoiceState, InvoiceStatus, Model,
    ModelList, NodeInfo, Provider, ProviderList, Refund, SatsPricing, TopProvider, Topup,
    TopupRequest, Transaction, UsdPricing,
};
