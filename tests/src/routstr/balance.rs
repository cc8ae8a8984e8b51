//! `/v1/balance/*` (and the deprecated `/v1/wallet/*`): info, create, top-up, refund,
//! history and child keys.

use super::*;

pub(super) fn balance(
    node: &Node,
    method: &str,
    action: &str,
    headers: &HeaderMap,
    body: &Value,
    request_id: &str,
) -> Handled {
    let mut st = lock(&node.state);
    let st = &mut *st;
    match (method, action) {
        ("GET", "" | "/info") => {
            let key = node.bearer_key(st, headers, request_id)?;
            ok(node.info_json(st, &key))
        }
        (_, "/create") => create(node, st, body, request_id),
        ("POST", "/topup") => topup(node, st, headers, body, request_id),
        ("POST", "/refund") => refund(node, st, headers),
        ("GET", "/history") => {
            let key = node.bearer_key(st, headers, request_id)?;
            let mut txs = st.keys[&key].transactions.clone();
            txs.reverse();
            ok(json!({"transactions": txs}))
        }
        ("POST", "/child-key") => child_key(node, st, headers, body, request_id),
        _ => Ok(Answer::Reply(Reply::json(
            405,
            &json!({"detail": "Method Not Allowed"}),
        ))),
    }
}

type Handled = Result<Answer, Box<Fail>>;

fn ok(v: Value) -> Handled {
    Ok(Answer::Reply(Reply::ok(v)))
}

/// `create`: a new key funded by a token.
fn create(node: &Node, st: &mut NodeState, body: &Value, request_id: &str) -> Handled {
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

/// `topup`: a token redeemed onto the key (its parent's balance, for a child key).
fn topup(
    node: &Node,
    st: &mut NodeState,
    headers: &HeaderMap,
    body: &Value,
    request_id: &str,
) -> Handled {
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

/// `refund`: the key's balance back as a token; the key is gone afterwards.
fn refund(node: &Node, st: &mut NodeState, headers: &HeaderMap) -> Handled {
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
        return Err(
            Fail::new("refund_pending", "Refund already in progress, retry later.")
                .header("retry-after", node.config.refund_retry_after.to_string()),
        );
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

/// `child-key`: keys spending the parent's balance, up to their limit.
fn child_key(
    node: &Node,
    st: &mut NodeState,
    headers: &HeaderMap,
    body: &Value,
    request_id: &str,
) -> Handled {
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
