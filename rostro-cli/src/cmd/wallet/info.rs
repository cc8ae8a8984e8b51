//! `wallet info`, `wallet history`, `wallet child-keys`: what the key holds and did.

use serde_json::{Value, json};

use super::{ChildKeysArgs, node, put_amount};
use crate::cmd::cell;
use crate::credentials;
use crate::ctx::{Ctx, NodeAuth};
use crate::exit::CliResult;
use crate::routstr::{fmt_msats, sats_text};
use rostro_sdk::routstr::{Msats, Transaction};

/// Runs `wallet info`.
pub(super) fn info(ctx: &Ctx) -> CliResult {
    let (info, source) = ctx.block_on(async {
        let s = ctx.node_session(NodeAuth::Required).await?;
        let r = node(&s)?
            .balance()
            .info()
            .send()
            .await
            .map_err(|e| s.err(e))?;
        let source = s.credential.as_ref().map(|c| c.source.to_string());
        Ok((r.into_inner(), source))
    })?;
    let profile = ctx.profile_name()?;
    let key = info.api_key.as_ref().map(|k| credentials::mask(k.expose()));
    let mut obj = serde_json::Map::new();
    obj.insert("profile".into(), json!(profile));
    obj.insert("api_key".into(), json!(key));
    put_amount(&mut obj, "balance", Some(info.balance));
    put_amount(&mut obj, "reserved", Some(info.reserved));
    put_amount(&mut obj, "available", Some(info.available()));
    put_amount(&mut obj, "total_spent", Some(info.total_spent));
    obj.insert("total_requests".into(), json!(info.total_requests));
    obj.insert("is_child".into(), json!(info.is_child));
    put_amount(&mut obj, "balance_limit", info.balance_limit);
    obj.insert(
        "balance_limit_reset".into(),
        json!(info.balance_limit_reset),
    );
    obj.insert("validity_date".into(), json!(info.validity_date));
    if ctx.out.json {
        return ctx.out.json_value(&Value::Object(obj));
    }
    let mut lines = Vec::new();
    let from = source.map(|s| format!(", from {s}")).unwrap_or_default();
    lines.push(format!(
        "Key:          {} (profile `{profile}`{from})",
        key.unwrap_or_else(|| "?".into())
    ));
    lines.push(format!("Balance:      {}", fmt_msats(info.balance)));
    if info.reserved.0 > 0 {
        lines.push(format!("Reserved:     {}", fmt_msats(info.reserved)));
        lines.push(format!("Available:    {}", fmt_msats(info.available())));
    }
    lines.push(format!(
        "Spent:        {} in {} request{}",
        fmt_msats(info.total_spent),
        info.total_requests,
        if info.total_requests == 1 { "" } else { "s" }
    ));
    if info.is_child {
        lines.push("Child key:    yes (spends its parent's balance)".into());
    }
    if let Some(l) = info.balance_limit {
        let reset = info
            .balance_limit_reset
            .as_ref()
            .map(|r| format!(", resets {r}"))
            .unwrap_or_default();
        lines.push(format!("Limit:        {}{reset}", fmt_msats(l)));
    }
    if let Some(v) = info.validity_date {
        lines.push(format!("Valid until:  {v} (Unix time)"));
    }
    ctx.out.line(&lines.join("\n"))
}

/// Runs `wallet history`.
pub(super) fn history(ctx: &Ctx) -> CliResult {
    let h = ctx.block_on(async {
        let s = ctx.node_session(NodeAuth::Required).await?;
        let n = node(&s)?;
        Ok(n.balance()
            .history()
            .send()
            .await
            .map_err(|e| s.err(e))?
            .into_inner())
    })?;
    if ctx.out.json {
        // As the node sent each entry, plus the amount in msat and sats.
        for t in &h.transactions {
            let mut v = serde_json::to_value(t)?;
            if let Some(obj) = v.as_object_mut() {
                put_amount(obj, "amount", t.amount_msats());
            }
            ctx.out.json_line(&v)?;
        }
        return Ok(());
    }
    let msats = |t: &Transaction| t.amount_msats().map(|m| m.0);
    crate::cmd::print_table(
        ctx,
        &h.transactions,
        &[
            ("CREATED", &|t: &Transaction| cell(&t.created_at)),
            ("TYPE", &|t: &Transaction| cell(&t.kind)),
            ("SOURCE", &|t: &Transaction| cell(&t.source)),
            ("AMOUNT (MSAT)", &|t: &Transaction| cell(&msats(t))),
            ("SAT", &|t: &Transaction| {
                msats(t).map(sats_text).unwrap_or_default()
            }),
            ("ID", &|t: &Transaction| cell(&t.id)),
        ],
    )
}

/// Runs `wallet child-keys`.
pub(super) fn child_keys(ctx: &Ctx, a: ChildKeysArgs) -> CliResult {
    let keys = ctx.block_on(async {
        let s = ctx.node_session(NodeAuth::Required).await?;
        let n = node(&s)?;
        let mut call = n.balance().child_keys(a.count);
        if let Some(l) = a.balance_limit {
            call = call.balance_limit(Msats(l));
        }
        Ok(call.send().await.map_err(|e| s.err(e))?.into_inner())
    })?;
    let list: Vec<String> = keys
        .api_keys
        .iter()
        .map(|k| k.expose().to_owned())
        .collect();
    if ctx.out.json {
        let mut obj = serde_json::Map::new();
        obj.insert("api_keys".into(), json!(list));
        obj.insert("count".into(), json!(list.len()));
        put_amount(&mut obj, "cost", keys.cost_msats);
        return ctx.out.json_value(&Value::Object(obj));
    }
    for k in &list {
        ctx.out.line(k)?;
    }
    let cost = keys
        .cost_msats
        .map(|c| format!(" for {}", fmt_msats(c)))
        .unwrap_or_default();
    ctx.out.success(&format!(
        "Created {} child key{}{cost}; they spend this key's balance",
        list.len(),
        if list.len() == 1 { "" } else { "s" }
    ));
    Ok(())
}
