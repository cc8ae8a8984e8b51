//! `rostro models`: the models available for chat (`GET /v1/models` on the mimic base URL).
//! On a Routstr profile: the node's models with their prices in sats (per 1k and 1M tokens,
//! per request, the most one request may cost) and in USD.

use clap::Args;
use rostro_sdk::routstr::{Model, ModelList, Msats, Price, SatsPricing};
use serde_json::{Value, json};

use super::cell;
use crate::ctx::Ctx;
use crate::exit::CliResult;
use crate::routstr::{sats_json, sats_text};

/// `rostro models`
#[derive(Debug, Args)]
#[command(
    after_help = "On a Routstr profile the table shows what the node charges, in sats \
(SAT/1K IN and OUT: per 1000 prompt and completion tokens; SAT/REQ: per request; MAX SAT: the \
most one request may cost, which the node wants available up front) and in USD per million \
tokens. --json adds a `price` object with the same figures (msat amounts exact, rounded up)."
)]
pub struct ModelsArgs {}

/// Runs `rostro models`.
pub fn run(ctx: &Ctx, _a: ModelsArgs) -> CliResult {
    let (raw, list, routstr) = ctx.block_on(async {
        let s = ctx.session(false).await?;
        if let Some(node) = &s.node {
            let list = node.models().send().await.map_err(|e| s.err(e))?;
            return Ok((Value::Null, list.into_inner(), true));
        }
        let raw = s.json(s.client.models().list().into_request()?).await?;
        let list: ModelList = if ctx.out.json {
            ModelList::default()
        } else {
            super::view(&raw, "models")?
        };
        Ok((raw, list, false))
    })?;
    if routstr {
        return node_models(ctx, &list);
    }
    if ctx.out.json {
        // The models as the server sent them (`data`, the list of `ModelList`).
        let items = raw
            .get("data")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        return super::print_list(ctx, items, &[]);
    }
    super::print_table(
        ctx,
        &list.data,
        &[
            ("ID", &|m: &Model| m.id.clone()),
            ("OWNED BY", &|m: &Model| cell(&m.owned_by)),
            ("CONTEXT", &|m: &Model| cell(&m.context_length)),
        ],
    )
}

/// A Routstr node's models with their prices.
fn node_models(ctx: &Ctx, list: &ModelList) -> CliResult {
    if ctx.out.json {
        for m in &list.data {
            ctx.out.json_line(&model_json(m)?)?;
        }
        return Ok(());
    }
    let sats = |m: &Model, f: fn(&SatsPricing) -> Option<Msats>| {
        msats_cell(m.sats_pricing.as_ref().and_then(f))
    };
    let usd = |p: Option<&Price>| usd_cell(p.map(|p| round_usd(p.to_f64() * 1e6)));
    super::print_table(
        ctx,
        &list.data,
        &[
            ("ID", &|m: &Model| m.id.clone()),
            ("CONTEXT", &|m: &Model| cell(&m.context_length)),
            ("SAT/1K IN", &|m: &Model| sats(m, |p| p.prompt_msats(1_000))),
            ("SAT/1K OUT", &|m: &Model| {
                sats(m, |p| p.completion_msats(1_000))
            }),
            ("SAT/REQ", &|m: &Model| sats(m, SatsPricing::request_msats)),
            ("MAX SAT", &|m: &Model| sats(m, SatsPricing::max_cost_msats)),
            ("USD/1M IN", &|m: &Model| {
                usd(m.pricing.as_ref().and_then(|u| u.prompt.as_ref()))
            }),
            ("USD/1M OUT", &|m: &Model| {
                usd(m.pricing.as_ref().and_then(|u| u.completion.as_ref()))
            }),
        ],
    )
}

/// A node's model as JSON: as the node sent it, plus a `price` object with the sat
/// figures in exact msat (rounded up) and sats, and USD per million tokens.
fn model_json(m: &Model) -> CliResult<Value> {
    let mut v = serde_json::to_value(m)?;
    let mut price = serde_json::Map::new();
    if let Some(p) = &m.sats_pricing {
        // `prompt_msats_per_1k` and `prompt_sats_per_1k`, `request_msats`, ...
        let mut put = |what: &str, per: &str, amount: Option<Msats>| {
            if let Some(a) = amount {
                price.insert(format!("{what}_msats{per}"), json!(a.0));
                price.insert(format!("{what}_sats{per}"), sats_json(a.0));
            }
        };
        put("prompt", "_per_1k", p.prompt_msats(1_000));
        put("completion", "_per_1k", p.completion_msats(1_000));
        put("prompt", "_per_1m", p.prompt_msats(1_000_000));
        put("completion", "_per_1m", p.completion_msats(1_000_000));
        put("request", "", p.request_msats());
        put("max_cost", "", p.max_cost_msats());
    }
    if let Some(u) = &m.pricing {
        let per_1m = |p: &Option<Price>| p.as_ref().map(|p| round_usd(p.to_f64() * 1e6));
        if let Some(x) = per_1m(&u.prompt) {
            price.insert("prompt_usd_per_1m".into(), json!(x));
        }
        if let Some(x) = per_1m(&u.completion) {
            price.insert("completion_usd_per_1m".into(), json!(x));
        }
    }
    if let Some(obj) = v.as_object_mut() {
        obj.insert("price".into(), Value::Object(price));
    }
    Ok(v)
}

/// USD rounded to 6 significant decimals (display figures, not money arithmetic).
fn round_usd(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Sats (rounded up from msat) for a table cell; `-` when the node gives no price.
fn msats_cell(amount: Option<Msats>) -> String {
    amount.map_or_else(|| "-".into(), |a| sats_text(a.0))
}

/// USD for a table cell, trailing zeros dropped; `-` when the node gives no price.
fn usd_cell(x: Option<f64>) -> String {
    match x {
        Some(x) => {
            let s = format!("{x:.4}");
            let s = s.trim_end_matches('0').trim_end_matches('.');
            format!("${s}")
        }
        None => "-".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_in_sats_and_usd() {
        let m: Model = serde_json::from_value(json!({
            "id": "gpt-x",
            "pricing": {"prompt": 0.0000025, "completion": 0.00001},
            "sats_pricing": {"prompt": 0.0045, "completion": 0.018, "request": 0.5, "max_cost": 40},
        }))
        .unwrap();
        let v = model_json(&m).unwrap();
        let p = &v["price"];
        assert_eq!(p["prompt_msats_per_1k"], 4500);
        assert_eq!(p["prompt_sats_per_1k"], 4.5);
        assert_eq!(p["completion_msats_per_1m"], 18_000_000);
        assert_eq!(p["completion_sats_per_1m"], 18_000);
        assert_eq!(p["request_msats"], 500);
        assert_eq!(p["max_cost_msats"], 40_000);
        assert_eq!(p["prompt_usd_per_1m"], 2.5);
        let sats = m.sats_pricing.as_ref().unwrap();
        assert_eq!(msats_cell(sats.prompt_msats(1_000)), "4.5");
        assert_eq!(msats_cell(None), "-");
        let usd = m.pricing.as_ref().unwrap().completion.as_ref().unwrap();
        assert_eq!(usd_cell(Some(round_usd(usd.to_f64() * 1e6))), "$10");
        assert_eq!(v["sats_pricing"]["max_cost"], 40);
    }
}
