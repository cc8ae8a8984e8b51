//! Chat completions paid with a key's balance or an `X-Cashu` token.

use super::*;

pub(super) fn cost_headers(cost: &Cost) -> Vec<(String, String)> {
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

pub(super) fn chat(
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
    let quirks = match quirks_of(node, headers) {
        Ok(q) => q,
        Err(r) => return Ok(Answer::Reply(r)),
    };
    if quirks.has(NodeQuirk::CatalogModelId) {
        plan.set_model(format!("openai/{}", model.id));
    }
    let streaming = body.get("stream").and_then(Value::as_bool) == Some(true);
    let cost = model.cost(plan.prompt_tokens() as u64, plan.completion_tokens() as u64);
    let usage_extra = usage_cost(&cost);
    let mut st = lock(&node.state);
    let st = &mut *st;
    let priced = Priced {
        model,
        cost,
        plan,
        settings,
        quirks,
        streaming,
        usage_extra,
    };
    if let Some(token) = header(headers, "x-cashu") {
        return cashu(node, st, token, priced, upstream_error);
    }
    bearer_paid(node, st, headers, request_id, priced, upstream_error)
}

/// A chat request with its price, before it is paid.
struct Priced<'a> {
    model: &'a RoutstrModel,
    cost: Cost,
    plan: ChatPlan,
    settings: StreamSettings,
    quirks: Quirks,
    streaming: bool,
    usage_extra: Map<String, Value>,
}

/// Paid with an `X-Cashu` token: the change comes back in the `X-Cashu` header, a stream
/// is buffered and replayed.
fn cashu(
    node: &Node,
    st: &mut NodeState,
    token: &str,
    priced: Priced<'_>,
    upstream_error: bool,
) -> Result<Answer, Box<Fail>> {
    let Priced {
        model,
        cost,
        mut plan,
        settings,
        quirks,
        streaming,
        usage_extra,
    } = priced;
    let mut resp_headers = Vec::new();
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
    Ok(if streaming {
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
    })
}

/// Paid from the Bearer key's balance (its parent's, for a child key).
fn bearer_paid(
    node: &Node,
    st: &mut NodeState,
    headers: &HeaderMap,
    request_id: &str,
    priced: Priced<'_>,
    upstream_error: bool,
) -> Result<Answer, Box<Fail>> {
    let Priced {
        model,
        cost,
        mut plan,
        settings,
        streaming,
        mut usage_extra,
        ..
    } = priced;
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
            headers: Vec::new(),
            buffered: false,
            replay: Replay::default(),
        }
    } else {
        Answer::Reply(Reply::ok(plan.response_json()))
    })
}

/// The quirks of the node, plus those a request asks for (`x-mock-routstr-quirks`).
fn quirks_of(node: &Node, headers: &HeaderMap) -> Result<Quirks, Reply> {
    let mut quirks = node.config.quirks.clone();
    if let Some(v) = header(headers, "x-mock-routstr-quirks") {
        for name in v.split(',').filter(|n| !n.trim().is_empty()) {
            match NodeQuirk::parse(name) {
                Some(q) => quirks.add(q),
                None => {
                    return Err(Reply::json(
                        400,
                        &json!({"detail": format!("x-mock-routstr-quirks: unknown quirk `{}`", name.trim())}),
                    ));
                }
            }
        }
    }
    Ok(quirks)
}

/// The cost fields of a reply's `usage`.
fn usage_cost(cost: &Cost) -> Map<String, Value> {
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
    usage_extra
}
