//! `rostro models`: the models available for chat (`GET /v1/models` on the mimic base URL).
//! On a Routstr profile: the node's models with their prices in sats (per 1k and 1M tokens,
//! per request, the most one request may cost) and in USD.

use clap::Args;
use rostro_sdk::routstr::{Model, Msats, Price};
use serde_json::{Value, json};

use crate::ctx::Ctx;
use crate::exit::CliResult;
use crate::routstr::{sats_json, sats_text};
use crate::util::{first_of, items_of, s};

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
    let (v, routstr) = ctx.block_on(async {
        let s = ctx.session(false).await?;
        if let Some(node) = &s.node {
            let list = node.models().send().await.map_err(|e| s.err(e))?;
            let items: Vec<Value> = list.data.iter().map(model_json).collect::<CliResult<_>>()?;
            return Ok((items, true));
        }
        let v = s.json(s.client.models().list().into_request()?).await?;
        Ok((items_of(&v, &["data", "models"]), false))
    })?;
    if routstr {
        return super::print_list(
            ctx,
            &v,
            &[
                ("ID", &|v| s(v, "id")),
                ("CONTEXT", &|v| s(v, "context_length")),
                ("SAT/1K IN", &|v| price_cell(v, "prompt_msats_per_1k")),
                ("SAT/1K OUT", &|v| price_cell(v, "completion_msats_per_1k")),
                ("SAT/REQ", &|v| price_cell(v, "request_msats")),
                ("MAX SAT", &|v| price_cell(v, "max_cost_msats")),
                ("USD/1M IN", &|v| usd_cell(v, "prompt_usd_per_1m")),
                ("USD/1M OUT", &|v| usd_cell(v, "completion_usd_per_1m")),
            ],
        );
    }
    super::print_list(
        ctx,
        &v,
        &[
            ("ID", &|v| s(v, "id")),
            ("OWNED BY", &|v| s(v, "owned_by")),
            ("CONTEXT", &|v| {
                first_of(v, &["context_length", "max_context_length"])
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

fn price_cell(v: &Value, key: &str) -> String {
    v.get("price")
        .and_then(|p| p.get(key))
        .and_then(Value::as_u64)
        .map(sats_text)
        .unwrap_or_else(|| "-".into())
}

fn usd_cell(v: &Value, key: &str) -> String {
    match v
        .get("price")
        .and_then(|p| p.get(key))
        .and_then(Value::as_f64)
    {
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
        assert_eq!(price_cell(&v, "prompt_msats_per_1k"), "4.5");
        assert_eq!(usd_cell(&v, "completion_usd_per_1m"), "$10");
        assert_eq!(v["sats_pricing"]["max_cost"], 40);
    }
}
