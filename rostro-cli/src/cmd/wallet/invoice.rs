//! `wallet invoice`, `wallet invoice-status`: Lightning invoices that create or top up a key.

use std::time::Duration;

use rostro_sdk::routstr::{InvoicePurpose, InvoiceStatus, Sats};
use serde_json::{Value, json};

use super::key::{check_store, store_key};
use super::{InvoiceArgs, InvoiceStatusArgs, Purpose, StoreArgs, node, put_amount, secs};
use crate::credentials::{self, Credential};
use crate::ctx::{Ctx, NodeAuth, Session};
use crate::exit::{CliError, CliResult};
use crate::routstr::fmt_msats;

/// Runs `wallet invoice`.
pub(super) fn invoice(ctx: &Ctx, a: InvoiceArgs) -> CliResult {
    let interval = secs(a.wait.interval, 2.0, "--interval")?;
    let timeout = secs(a.wait.wait_timeout, 900.0, "--wait-timeout")?;
    let prev = if a.purpose == Purpose::Create && a.wait.wait {
        Some(check_store(ctx, &a.store)?)
    } else {
        None
    };
    let purpose = match a.purpose {
        Purpose::Create => InvoicePurpose::Create,
        Purpose::Topup => InvoicePurpose::Topup,
    };
    let rt = ctx.runtime()?;
    let auth = match a.purpose {
        Purpose::Create => NodeAuth::Anonymous,
        Purpose::Topup => NodeAuth::Required,
    };
    let s = rt.block_on(ctx.node_session(auth))?;
    let inv = rt.block_on(async {
        let n = node(&s)?;
        Ok::<_, CliError>(
            n.lightning()
                .create_invoice(Sats(a.amount), purpose)
                .send()
                .await
                .map_err(|e| s.err(e))?
                .into_inner(),
        )
    })?;
    // The invoice first (it has to be paid while we wait).
    if ctx.out.json {
        ctx.out.json_line(&serde_json::to_value(&inv)?)?;
    } else {
        ctx.out.line(&inv.bolt11)?;
        let what = match a.purpose {
            Purpose::Create => "a new key",
            Purpose::Topup => "a top-up of the profile's key",
        };
        let expires = inv
            .expires_at
            .map(|e| format!(", expires at {e} (Unix time)"))
            .unwrap_or_default();
        ctx.out.eprint(&format!(
            "Lightning invoice {} for {} ({what}){expires}",
            inv.invoice_id,
            fmt_msats(inv.amount_sats.to_msats())
        ));
    }
    if !a.wait.wait {
        if !ctx.out.json {
            ctx.out.note(&format!(
                "after paying: `{}`",
                status_command(ctx, &s, &inv.invoice_id, &a.store)
            ));
        }
        return Ok(());
    }
    let status = rt.block_on(wait_invoice(
        ctx,
        &s,
        &inv.invoice_id,
        interval,
        timeout,
        &a.store,
    ))?;
    settle(ctx, &s, &inv.invoice_id, status, &a.store, prev.flatten())
}

/// Runs `wallet invoice-status`.
pub(super) fn invoice_status(ctx: &Ctx, a: InvoiceStatusArgs) -> CliResult {
    let interval = secs(a.wait.interval, 2.0, "--interval")?;
    let timeout = secs(a.wait.wait_timeout, 900.0, "--wait-timeout")?;
    let rt = ctx.runtime()?;
    let s = rt.block_on(ctx.node_session(NodeAuth::Optional))?;
    let status = if a.wait.wait {
        rt.block_on(wait_invoice(ctx, &s, &a.id, interval, timeout, &a.store))?
    } else {
        rt.block_on(async {
            let n = node(&s)?;
            Ok::<_, CliError>(
                n.lightning()
                    .invoice_status(a.id.clone())
                    .send()
                    .await
                    .map_err(|e| s.err(e))?
                    .into_inner(),
            )
        })?
    };
    // A paid invoice whose key is not the profile's own: a new key to store.
    let new_key = status.is_paid()
        && status
            .api_key
            .as_ref()
            .is_some_and(|k| s.credential.as_ref().is_none_or(|c| c.token != k.expose()));
    let prev = if new_key {
        Some(check_store(ctx, &a.store)?)
    } else {
        None
    };
    settle(ctx, &s, &a.id, status, &a.store, prev.flatten())
}

/// `wallet invoice-status ID --wait` as a command line that re-runs as printed: the same
/// profile and server, and the same choice of where a new key goes.
fn status_command(ctx: &Ctx, s: &Session, id: &str, store: &StoreArgs) -> String {
    let mut args = vec!["wallet", "invoice-status", id, "--wait"];
    if store.no_store {
        args.push("--no-store");
    }
    if store.replace {
        args.push("--replace");
    }
    crate::rerun::command_as(&ctx.g, &s.profile_name, &args)
}

/// Polls an invoice until it is paid, expired or cancelled (spinner on a terminal).
async fn wait_invoice(
    ctx: &Ctx,
    s: &Session,
    id: &str,
    interval: Duration,
    timeout: Duration,
    store: &StoreArgs,
) -> CliResult<InvoiceStatus> {
    let n = node(s)?;
    let spinner = ctx.out.spinner("waiting for the invoice to be paid");
    let r = n
        .lightning()
        .invoice_status(id.to_owned())
        .wait_paid(interval, timeout)
        .await;
    spinner.finish_and_clear();
    match r {
        Ok(st) => Ok(st.into_inner()),
        Err(rostro_sdk::Error::Timeout { .. }) => Err(CliError::Timeout(format!(
            "invoice {id} is still unpaid after {}s; check again with `{}`",
            timeout.as_secs(),
            status_command(ctx, s, id, store)
        ))),
        Err(e) => Err(s.err(e)),
    }
}

/// Reports an invoice's status; when paid for a new key, stores the key.
fn settle(
    ctx: &Ctx,
    s: &Session,
    id: &str,
    status: InvoiceStatus,
    store: &StoreArgs,
    prev: Option<Credential>,
) -> CliResult {
    let own = |k: &str| s.credential.as_ref().is_some_and(|c| c.token == k);
    let new_key = status
        .api_key
        .as_ref()
        .map(|k| k.expose().to_owned())
        .filter(|k| status.is_paid() && !own(k));
    let stored = match &new_key {
        Some(k) => store_key(ctx, store, prev, k)?,
        None => None,
    };
    let amount = status.amount_sats.map(|a| a.to_msats());
    if ctx.out.json {
        let mut obj = serde_json::Map::new();
        obj.insert("invoice_id".into(), json!(id));
        obj.insert("status".into(), json!(status.status.as_str()));
        put_amount(&mut obj, "amount", amount);
        obj.insert("paid_at".into(), json!(status.paid_at));
        let key = new_key.as_ref().map(|k| {
            if stored.is_some() {
                credentials::mask(k)
            } else {
                k.clone()
            }
        });
        obj.insert("api_key".into(), json!(key));
        obj.insert("stored_in".into(), json!(stored));
        ctx.out.json_line(&Value::Object(obj))?;
    } else {
        let what = amount
            .map(|m| format!(" ({})", fmt_msats(m)))
            .unwrap_or_default();
        match (&status.status, &new_key, &stored) {
            (st, _, _) if !status.is_paid() => ctx.out.eprint(&format!("Invoice {id}{what}: {st}")),
            (_, Some(k), Some(where_)) => ctx.out.success(&format!(
                "Invoice {id} paid{what}: new key {} stored for profile `{}` in {where_}",
                credentials::mask(k),
                s.profile_name
            )),
            (_, Some(_), None) => ctx
                .out
                .success(&format!("Invoice {id} paid{what}: new key printed above")),
            (_, None, _) => ctx.out.success(&format!("Invoice {id} paid{what}")),
        }
    }
    match status.status.as_str() {
        "paid" | "pending" => Ok(()),
        other => Err(CliError::msg(format!("invoice {id} is {other}"))),
    }
}
