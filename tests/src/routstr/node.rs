//! Keys, invoices and the node's state: balances, reservations and spent proofs.

use super::*;

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
    pub(super) transactions: Vec<Value>,
    pub(super) refund_pending_left: u32,
}

impl RoutstrKey {
    pub(super) fn new(api_key: String, balance: u64, refund_pending: u32) -> RoutstrKey {
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
pub(super) struct InvoiceRec {
    pub(super) id: String,
    pub(super) amount_sats: u64,
    pub(super) purpose: String,
    pub(super) api_key: Option<String>,
    pub(super) checks: u32,
    pub(super) expire: bool,
    pub(super) paid_at: Option<u64>,
    pub(super) expires_at: u64,
    pub(super) bolt11: String,
    pub(super) payment_hash: String,
}

#[derive(Default)]
pub(super) struct NodeState {
    pub(super) keys: HashMap<String, RoutstrKey>,
    pub(super) spent: HashSet<String>,
    pub(super) invoices: HashMap<String, InvoiceRec>,
    pub(super) refunds: HashMap<String, Value>,
    pub(super) seq: u64,
}

/// The Routstr node behind a mock in Routstr mode.
pub(crate) struct Node {
    pub(crate) config: RoutstrConfig,
    pub(super) state: Mutex<NodeState>,
    pub(super) seed: u64,
}

impl Node {
    pub(crate) fn new(config: RoutstrConfig, seed: u64) -> Node {
        Node {
            config,
            state: Mutex::new(NodeState::default()),
            seed,
        }
    }

    pub(super) fn next(&self, st: &mut NodeState) -> u64 {
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
    pub(super) fn check_token(&self, st: &NodeState, token: &str) -> Result<Decoded, Box<Fail>> {
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

    pub(super) fn spend(st: &mut NodeState, d: &Decoded) {
        st.spent.extend(d.secrets.iter().cloned());
    }

    pub(super) fn tx(
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
    pub(super) fn account_of(st: &NodeState, key: &str) -> String {
        st.keys
            .get(key)
            .and_then(|k| k.parent.clone())
            .unwrap_or_else(|| key.to_string())
    }

    /// Resolves the Bearer credential to a key: an `sk-` key, or a Cashu token
    /// redeemed on first use (its hash becomes the key).
    pub(super) fn bearer_key(
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

    pub(super) fn info_json(&self, st: &NodeState, key: &str) -> Value {
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
