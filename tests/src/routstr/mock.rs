//! [`RoutstrMock`] and its builder.

use super::*;

/// A mock Routstr node: a [`RostroMock`](crate::RostroMock) in Routstr mode
/// (see the [module docs](crate::routstr) for routes, token format and error headers).
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
    pub(super) mock: crate::RostroMock,
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

    pub(super) fn node(&self) -> &Node {
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
    pub(super) fn cfg(&mut self) -> &mut RoutstrConfig {
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
