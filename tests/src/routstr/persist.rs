//! Persistence for the sandbox (`crate::sandbox`): keys, spent proofs, invoices,
//! refunds and the sequence, as JSON.

use super::*;

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
