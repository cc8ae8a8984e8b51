//! [`RoutstrClient`], its builder, the endpoint groups and the call builders.

use std::fmt;
use std::time::Duration;

use super::amount::Sats;
use super::token::{CashuToken, Credential};
use super::types::{
    BalanceInfo, ChildKeyRequest, ChildKeys, CreateBalanceRequest, CreatedBalance, History,
    Invoice, InvoicePurpose, InvoiceRequest, InvoiceStatus, ModelList, NodeInfo, ProviderList,
    Refund, Topup, TopupRequest,
};
use crate::client::{AuthStyle, Client, ClientBuilder};
use crate::error::{Error, Result};
use crate::generated::chat::ChatApi;
use crate::request::{Base, HttpMethod, Operation};

/// Most child keys one `child-key` call may create.
pub const MAX_CHILD_KEYS: u32 = 50;
/// How often a refund answered with `425 Too Early` is tried again by default.
pub const DEFAULT_REFUND_PENDING_RETRIES: u32 = 5;
/// Wait before retrying a pending refund when the node sent no `Retry-After`.
const DEFAULT_PENDING_WAIT: Duration = Duration::from_secs(1);

mod call;

pub use call::{PayWith, RoutstrCall};

macro_rules! op {
    ($name:ident, $id:literal, $method:ident, $path:literal) => {
        static $name: Operation = Operation {
            id: $id,
            method: HttpMethod::$method,
            path: $path,
            base: Base::Api,
        };
    };
}

op!(INFO, "routstr_info", Get, "/v1/info");
op!(MODELS, "routstr_models", Get, "/v1/models");
op!(PROVIDERS, "routstr_providers", Get, "/v1/providers");
op!(
    BALANCE_INFO,
    "routstr_balance_info",
    Get,
    "/v1/balance/info"
);
op!(WALLET_INFO, "routstr_balance_info", Get, "/v1/wallet/info");
op!(
    BALANCE_CREATE,
    "routstr_balance_create",
    Post,
    "/v1/balance/create"
);
op!(
    WALLET_CREATE,
    "routstr_balance_create",
    Post,
    "/v1/wallet/create"
);
op!(
    BALANCE_TOPUP,
    "routstr_balance_topup",
    Post,
    "/v1/balance/topup"
);
op!(
    WALLET_TOPUP,
    "routstr_balance_topup",
    Post,
    "/v1/wallet/topup"
);
op!(
    BALANCE_REFUND,
    "routstr_balance_refund",
    Post,
    "/v1/balance/refund"
);
op!(
    WALLET_REFUND,
    "routstr_balance_refund",
    Post,
    "/v1/wallet/refund"
);
op!(
    BALANCE_HISTORY,
    "routstr_balance_history",
    Get,
    "/v1/balance/history"
);
op!(
    WALLET_HISTORY,
    "routstr_balance_history",
    Get,
    "/v1/wallet/history"
);
op!(
    BALANCE_CHILD_KEY,
    "routstr_balance_child_key",
    Post,
    "/v1/balance/child-key"
);
op!(
    WALLET_CHILD_KEY,
    "routstr_balance_child_key",
    Post,
    "/v1/wallet/child-key"
);
op!(
    INVOICE_CREATE,
    "routstr_invoice_create",
    Post,
    "/lightning/invoice"
);
op!(
    INVOICE_STATUS,
    "routstr_invoice_status",
    Get,
    "/lightning/invoice/{invoice_id}/status"
);

/// Where a node mounts its balance endpoints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BalancePrefix {
    /// `/v1/balance/*` (current nodes; the default).
    #[default]
    Balance,
    /// `/v1/wallet/*` (deprecated alias that older nodes and clients use).
    Wallet,
}

impl BalancePrefix {
    /// `/v1/balance` or `/v1/wallet`.
    pub fn as_path(self) -> &'static str {
        match self {
            BalancePrefix::Balance => "/v1/balance",
            BalancePrefix::Wallet => "/v1/wallet",
        }
    }

    fn pick(self, balance: &'static Operation, wallet: &'static Operation) -> &'static Operation {
        match self {
            BalancePrefix::Balance => balance,
            BalancePrefix::Wallet => wallet,
        }
    }
}

/// A client for one Routstr node, built on the SDK's [`Client`] (same send path, retries,
/// tracing and redaction). Cheap to clone.
///
/// The credential (`sk-...` key or Cashu token) goes in `Authorization: Bearer`; a call can
/// instead (or also) pay for itself with an `X-Cashu` token through `pay_with`.
#[derive(Clone)]
pub struct RoutstrClient {
    client: Client,
    /// The settings `client` was built with, minus the credential, sharing its pool.
    builder: ClientBuilder,
    node_url: Box<str>,
    credential: Option<Credential>,
    prefix: BalancePrefix,
}

impl fmt::Debug for RoutstrClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoutstrClient")
            .field("node_url", &self.node_url)
            .field("credential", &self.credential)
            .field("balance_prefix", &self.prefix)
            .field("client", &self.client)
            .finish()
    }
}

impl RoutstrClient {
    /// A builder for the node at `node_url`, e.g. `https://api.routstr.com` (a trailing `/v1`,
    /// as OpenAI clients are configured, is dropped).
    pub fn builder(node_url: impl Into<String>) -> RoutstrClientBuilder {
        RoutstrClientBuilder {
            node_url: node_url.into(),
            credential: None,
            prefix: BalancePrefix::default(),
            http: Client::builder(),
        }
    }

    /// A client for `node_url` authenticating with `credential` (`sk-...` or a Cashu token).
    /// A malformed credential is an [`Error::Config`].
    pub fn new(node_url: impl Into<String>, credential: impl Into<String>) -> Result<Self> {
        Self::builder(node_url).credential(credential).build()
    }

    /// A client without credential (node info, models, creating a balance, X-Cashu calls).
    pub fn public(node_url: impl Into<String>) -> Result<Self> {
        Self::builder(node_url).build()
    }

    /// The same node and settings with another credential (sharing the connection pool),
    /// e.g. the key returned by [`BalanceApi::create`].
    pub fn with_credential(&self, credential: impl AsRef<str>) -> Result<RoutstrClient> {
        let credential = parse_credential(credential.as_ref())?;
        let client = self.builder.clone().api_key(credential.expose()).build()?;
        Ok(RoutstrClient {
            client,
            builder: self.builder.clone(),
            node_url: self.node_url.clone(),
            credential: Some(credential),
            prefix: self.prefix,
        })
    }

    /// The node's base URL (no trailing `/`).
    pub fn node_url(&self) -> &str {
        &self.node_url
    }

    /// The credential sent as `Authorization: Bearer`, if any.
    pub fn credential(&self) -> Option<&Credential> {
        self.credential.as_ref()
    }

    /// Which balance path prefix calls use.
    pub fn balance_prefix(&self) -> BalancePrefix {
        self.prefix
    }

    /// The underlying [`Client`], configured for the node: base and mimic base URL are the
    /// node URL, the credential is its API key. Use it for any other OpenAI-compatible call.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// OpenAI chat on the node: `POST {node}/v1/chat/completions`, the SDK's typed chat
    /// layer bound to [`client`](Self::client). Pay per request with
    /// [`PayWith::pay_with`] on the call, and read cost and change with
    /// [`RoutstrMeta::from_response`](super::RoutstrMeta::from_response) (or from the
    /// stream's headers and final usage).
    pub fn chat(&self) -> ChatApi {
        self.client.chat()
    }

    /// `GET /v1/info`: the node's name, version, npub and mints.
    pub fn info(&self) -> RoutstrCall<(), NodeInfo> {
        RoutstrCall::new(&self.client, &INFO, None)
    }

    /// `GET /v1/models`: the models with USD and sat prices.
    pub fn models(&self) -> RoutstrCall<(), ModelList> {
        RoutstrCall::new(&self.client, &MODELS, None)
    }

    /// `GET /v1/providers`: other nodes this node knows.
    pub fn providers(&self) -> RoutstrCall<(), ProviderList> {
        RoutstrCall::new(&self.client, &PROVIDERS, None)
    }

    /// The balance endpoints (`/v1/balance/*`, or `/v1/wallet/*` with
    /// [`BalancePrefix::Wallet`]).
    pub fn balance(&self) -> BalanceApi<'_> {
        BalanceApi { node: self }
    }

    /// The Lightning invoice endpoints (`/lightning/invoice`).
    pub fn lightning(&self) -> LightningApi<'_> {
        LightningApi { node: self }
    }
}

fn parse_credential(text: &str) -> Result<Credential> {
    Credential::parse(text)
        .map_err(|e| Error::config(format!("invalid routstr credential: {}", e.reason())))
}

/// Configures a [`RoutstrClient`]; see [`RoutstrClient::builder`]. HTTP settings are those
/// of [`ClientBuilder`].
#[derive(Clone)]
pub struct RoutstrClientBuilder {
    node_url: String,
    credential: Option<String>,
    prefix: BalancePrefix,
    http: ClientBuilder,
}

impl fmt::Debug for RoutstrClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoutstrClientBuilder")
            .field("node_url", &self.node_url)
            .field("credential", &self.credential.as_ref().map(|_| "***"))
            .field("balance_prefix", &self.prefix)
            .field("http", &self.http)
            .finish()
    }
}

impl RoutstrClientBuilder {
    /// The credential sent as `Authorization: Bearer`: an `sk-` key or a `cashuA`/`cashuB`
    /// token. Validated by [`build`](Self::build) (malformed: [`Error::Config`]).
    pub fn credential(mut self, credential: impl Into<String>) -> Self {
        self.credential = Some(credential.into());
        self
    }

    /// Same as [`credential`](Self::credential).
    pub fn api_key(self, key: impl Into<String>) -> Self {
        self.credential(key)
    }

    /// Where the balance endpoints live, default [`BalancePrefix::Balance`].
    pub fn balance_prefix(mut self, prefix: BalancePrefix) -> Self {
        self.prefix = prefix;
        self
    }

    /// Uses the deprecated `/v1/wallet/*` paths (older nodes).
    pub fn wallet_prefix(self) -> Self {
        self.balance_prefix(BalancePrefix::Wallet)
    }

    /// Starts from these HTTP settings (timeouts, retries, headers, `reqwest` client). The
    /// base URLs and auth style are set by this builder; set the key with
    /// [`credential`](Self::credential), not on `builder` (a key set there is sent unchecked
    /// when no credential is given).
    pub fn client_builder(mut self, builder: ClientBuilder) -> Self {
        self.http = builder;
        self
    }

    /// Per-attempt request timeout (see [`ClientBuilder::timeout`]).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.http = self.http.timeout(d);
        self
    }

    /// Connect timeout (see [`ClientBuilder::connect_timeout`]).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.http = self.http.connect_timeout(d);
        self
    }

    /// Maximum retries (see [`ClientBuilder::max_retries`]). Calls paid with `X-Cashu` are
    /// never retried.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.http = self.http.max_retries(n);
        self
    }

    /// First backoff delay (see [`ClientBuilder::initial_retry_delay`]).
    pub fn initial_retry_delay(mut self, d: Duration) -> Self {
        self.http = self.http.initial_retry_delay(d);
        self
    }

    /// `User-Agent` (see [`ClientBuilder::user_agent`]).
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.http = self.http.user_agent(ua);
        self
    }

    /// A header sent with every request (see [`ClientBuilder::default_header`]), e.g.
    /// `Refund-LNURL` or `Key-Expiry-Time`.
    pub fn default_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.http = self.http.default_header(name, value);
        self
    }

    /// Sends through this `reqwest` client (see [`ClientBuilder::http_client`]).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = self.http.http_client(client);
        self
    }

    /// Validates the node URL and credential and builds the client.
    pub fn build(self) -> Result<RoutstrClient> {
        let credential = self
            .credential
            .as_deref()
            .map(parse_credential)
            .transpose()?;
        let url = self.node_url.trim().trim_end_matches('/');
        let url = url.strip_suffix("/v1").unwrap_or(url);
        let base = self
            .http
            .base_url(url)
            .mimic_base_url(url)
            .auth_style(AuthStyle::Bearer);
        let mut first = base.clone();
        if let Some(c) = &credential {
            first = first.api_key(c.expose());
        }
        let client = first.build()?;
        let builder = base.http_client(client.http_client().clone());
        Ok(RoutstrClient {
            node_url: client.base_url().into(),
            client,
            builder,
            credential,
            prefix: self.prefix,
        })
    }
}

/// The balance endpoints of a node, from [`RoutstrClient::balance`]. All amounts are msat.
#[derive(Clone, Copy, Debug)]
pub struct BalanceApi<'a> {
    node: &'a RoutstrClient,
}

impl BalanceApi<'_> {
    fn op(&self, balance: &'static Operation, wallet: &'static Operation) -> &'static Operation {
        self.node.prefix.pick(balance, wallet)
    }

    /// `GET /v1/balance/info`: balance, reserved amount, totals and limits of the key.
    pub fn info(&self) -> RoutstrCall<(), BalanceInfo> {
        RoutstrCall::new(
            &self.node.client,
            self.op(&BALANCE_INFO, &WALLET_INFO),
            None,
        )
    }

    /// `POST /v1/balance/create`: redeems `token` into a new key (`{api_key, balance}`).
    /// A malformed token fails with [`Error::InvalidRequest`] before anything is sent.
    pub fn create(
        &self,
        token: impl AsRef<str>,
    ) -> RoutstrCall<CreateBalanceRequest, CreatedBalance> {
        let (token, invalid) = checked_token(token.as_ref(), "initial_balance_token");
        let mut call = RoutstrCall::new(
            &self.node.client,
            self.op(&BALANCE_CREATE, &WALLET_CREATE),
            Some(CreateBalanceRequest {
                initial_balance_token: token,
                balance_limit: None,
                balance_limit_reset: None,
                validity_date: None,
            }),
        );
        call.invalid = invalid;
        call
    }

    /// `POST /v1/balance/topup`: redeems `token` into the key's balance (`{msats}` added).
    pub fn topup(&self, token: impl AsRef<str>) -> RoutstrCall<TopupRequest, Topup> {
        let (token, invalid) = checked_token(token.as_ref(), "cashu_token");
        let mut call = RoutstrCall::new(
            &self.node.client,
            self.op(&BALANCE_TOPUP, &WALLET_TOPUP),
            Some(TopupRequest { cashu_token: token }),
        );
        call.invalid = invalid;
        call
    }

    /// `POST /v1/balance/refund`: pays the whole balance out as a token. Authenticated by
    /// the client's credential, or by the original token with
    /// [`with_token`](RoutstrCall::with_token). While the node answers `425 Too Early` (a
    /// refund in progress) the call waits `Retry-After` and asks again, up to
    /// [`DEFAULT_REFUND_PENDING_RETRIES`] times (see
    /// [`pending_retries`](RoutstrCall::pending_retries)). A `409` (balance changed
    /// concurrently) is returned as [`RoutstrErrorKind::BalanceConflict`](super::RoutstrErrorKind::BalanceConflict).
    pub fn refund(&self) -> RoutstrCall<(), Refund> {
        let mut call = RoutstrCall::new(
            &self.node.client,
            self.op(&BALANCE_REFUND, &WALLET_REFUND),
            None,
        );
        call.pending_retries = DEFAULT_REFUND_PENDING_RETRIES;
        call
    }

    /// `GET /v1/balance/history`: the key's transactions.
    pub fn history(&self) -> RoutstrCall<(), History> {
        RoutstrCall::new(
            &self.node.client,
            self.op(&BALANCE_HISTORY, &WALLET_HISTORY),
            None,
        )
    }

    /// `POST /v1/balance/child-key`: creates `count` (1..=50, checked before sending) child
    /// keys spending this key's balance.
    pub fn child_keys(&self, count: u32) -> RoutstrCall<ChildKeyRequest, ChildKeys> {
        let mut call = RoutstrCall::new(
            &self.node.client,
            self.op(&BALANCE_CHILD_KEY, &WALLET_CHILD_KEY),
            Some(ChildKeyRequest {
                count,
                balance_limit: None,
            }),
        );
        if !(1..=MAX_CHILD_KEYS).contains(&count) {
            call.invalid = Some(format!(
                "child key count must be between 1 and {MAX_CHILD_KEYS}, got {count}"
            ));
        }
        call
    }
}

/// The Lightning endpoints of a node, from [`RoutstrClient::lightning`].
#[derive(Clone, Copy, Debug)]
pub struct LightningApi<'a> {
    node: &'a RoutstrClient,
}

impl LightningApi<'_> {
    /// `POST /lightning/invoice`: an invoice for `amount` that creates a key
    /// ([`InvoicePurpose::Create`]) or tops up the client's key ([`InvoicePurpose::Topup`];
    /// an `sk-` credential is also sent as `api_key` in the body).
    pub fn create_invoice(
        &self,
        amount: Sats,
        purpose: InvoicePurpose,
    ) -> RoutstrCall<InvoiceRequest, Invoice> {
        let api_key = match (&self.node.credential, purpose) {
            (Some(Credential::ApiKey(k)), InvoicePurpose::Topup) => Some(k.clone()),
            _ => None,
        };
        let mut call = RoutstrCall::new(
            &self.node.client,
            &INVOICE_CREATE,
            Some(InvoiceRequest {
                amount_sats: amount,
                purpose,
                api_key,
            }),
        );
        if amount.0 == 0 {
            call.invalid = Some("the invoice amount must be at least 1 sat".into());
        }
        call
    }

    /// `GET /lightning/invoice/{invoice_id}/status`; see also
    /// [`wait_paid`](RoutstrCall::wait_paid).
    pub fn invoice_status(&self, invoice_id: impl Into<String>) -> RoutstrCall<(), InvoiceStatus> {
        let mut call = RoutstrCall::new(&self.node.client, &INVOICE_STATUS, None);
        call.path_param = Some(("invoice_id", invoice_id.into()));
        call
    }
}

/// Validates a token given to a call; a bad one is remembered and reported at send time.
fn checked_token(text: &str, field: &str) -> (CashuToken, Option<String>) {
    match CashuToken::parse(text) {
        Ok(t) => (t, None),
        Err(e) => (
            CashuToken::received(""),
            Some(format!("`{field}`: {}", e.reason())),
        ),
    }
}
