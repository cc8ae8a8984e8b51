//! Lightning invoices: create and poll until paid.

use super::*;

pub(super) fn lightning(
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
        return create(node, st, headers, body, request_id);
    }
    status(node, st, path, request_id)
}

/// `POST /lightning/invoice`: a new invoice, to create a key or top one up.
fn create(
    node: &Node,
    st: &mut NodeState,
    headers: &HeaderMap,
    body: &Value,
    request_id: &str,
) -> Result<Answer, Box<Fail>> {
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
    Ok(Answer::Reply(Reply::ok(v)))
}

/// `GET /lightning/invoice/{id}/status`: paid after the configured number of checks,
/// crediting the key (or creating one).
fn status(
    node: &Node,
    st: &mut NodeState,
    path: &str,
    request_id: &str,
) -> Result<Answer, Box<Fail>> {
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
