//! `wallet refund`: the whole balance paid out as a Cashu token, written (or printed)
//! before anything else happens; the refunded key is then forgotten.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::{RefundArgs, node, put_amount, reply_lost};
use crate::credentials::{self, Source};
use crate::ctx::{Ctx, NodeAuth};
use crate::exit::{CliError, CliResult};
use crate::routstr::{append_token, fmt_msats, open_private_append, read_token};

/// Runs `wallet refund`.
pub(super) fn refund(ctx: &Ctx, a: RefundArgs) -> CliResult {
    let original = match &a.token {
        Some(t) => Some(read_token(t, "--token", true)?),
        None => None,
    };
    // Opened first: a path that cannot be written fails before the balance is paid out.
    let mut out_file = match &a.out {
        Some(p) => Some((p.clone(), open_private_append(p)?)),
        None => None,
    };
    let (refund, cred, left) = ctx.block_on(async {
        let auth = if original.is_some() {
            NodeAuth::Anonymous
        } else {
            NodeAuth::Required
        };
        let s = ctx.node_session(auth).await?;
        let n = node(&s)?;
        s.trace_node("POST", &format!("{}/refund", n.balance_prefix().as_path()));
        let spinner = ctx.out.spinner("refunding the balance");
        let mut call = n.balance().refund();
        if let Some(t) = &original {
            call = call.with_token(t.expose());
        }
        let r = call.send().await.map_err(|e| s.err(e));
        spinner.finish_and_clear();
        let r = match r {
            Ok(r) => r.into_inner(),
            Err(e) => {
                if let CliError::Routstr(se) | CliError::Sdk(se) = &e
                    && reply_lost(se)
                {
                    // The node answers a repeated refund with the same token.
                    ctx.out.warn(
                        "the node's reply could not be read: it keeps the refund; run the same \
                         `rostro wallet refund` again to get the token",
                    );
                }
                return Err(refund_error(e, original.is_some()));
            }
        };
        // A refund in whole sats leaves the msat remainder on the key: ask how much.
        let left = if r.msats.is_none() && r.sats.is_some() && original.is_none() {
            n.balance()
                .info()
                .send()
                .await
                .ok()
                .map(|i| i.into_inner().available())
        } else {
            None
        };
        Ok((r, s.credential.clone(), left))
    })?;
    let amount = refund.amount();
    let token = refund
        .token
        .as_ref()
        .map(|t| t.expose().to_owned())
        .filter(|t| !t.is_empty());
    // A node asked again returns the token it issued before: say so.
    let repeated = token.as_deref().is_some_and(refund_seen_before);
    let whole_sats = refund.msats.is_none() && refund.sats.is_some();
    let left = left.filter(|m| m.0 > 0);
    // The token first: nothing else happens before it is safe.
    let mut saved_to = None;
    if let Some(t) = &token {
        match &mut out_file {
            Some((path, f)) => match append_token(f, t) {
                Ok(()) => saved_to = Some(path.display().to_string()),
                Err(e) => {
                    ctx.out.warn(&format!(
                        "cannot write the refund token to {}: {e}; keep this Cashu token, it \
                         is money:",
                        path.display()
                    ));
                    ctx.out.eprint(t);
                    return Err(CliError::io(path.display(), e));
                }
            },
            None if !ctx.out.json => ctx.out.line(t)?,
            None => {}
        }
    }
    if let Some(t) = &token {
        remember_refund(t);
    }
    // The node deletes a refunded key: forget the stored copy (never ROSTRO_API_KEY). A key
    // that still holds a sub-sat remainder is kept: that is the user's money.
    let profile = ctx.profile_name()?;
    let mut forgot = false;
    if original.is_none()
        && left.is_none()
        && let Some(c) = &cred
        && matches!(c.source, Source::Keyring | Source::File(_))
        && credentials::load_stored(&profile)?.is_some_and(|s| s.token == c.token)
    {
        forgot = !credentials::remove(&profile)?.is_empty();
    }
    if ctx.out.json {
        let mut obj = serde_json::Map::new();
        obj.insert(
            "token".into(),
            json!(if saved_to.is_some() {
                None
            } else {
                token.clone()
            }),
        );
        obj.insert("saved_to".into(), json!(saved_to));
        put_amount(&mut obj, "amount", amount);
        obj.insert("recipient".into(), json!(refund.recipient));
        obj.insert("key_forgotten".into(), json!(forgot));
        obj.insert("issued_before".into(), json!(repeated));
        obj.insert("whole_sats".into(), json!(whole_sats));
        put_amount(&mut obj, "left_on_node", left);
        return ctx.out.json_value(&Value::Object(obj));
    }
    let what = amount
        .map(|m| format!(" {}", fmt_msats(m)))
        .unwrap_or_default();
    if repeated {
        let place = match &saved_to {
            Some(p) => format!("appended to {p}"),
            None => "on stdout".to_owned(),
        };
        ctx.out.warn(&format!(
            "the node returned the token it issued before for this key{what} ({place}): no \
             new money was paid out. It is worth something only if it was not redeemed yet \
             (spent if you redeemed it)"
        ));
    } else {
        match (&token, &saved_to, &refund.recipient) {
            (Some(_), Some(p), _) => ctx
                .out
                .success(&format!("Refunded{what}: token appended to {p}")),
            (Some(_), None, _) => ctx.out.success(&format!(
                "Refunded{what}: the Cashu token is on stdout; keep it, it is money"
            )),
            (None, _, Some(r)) => ctx.out.success(&format!("Refunded{what} to {r}")),
            (None, _, None) => ctx.out.success(&format!("Refunded{what}")),
        }
    }
    match left {
        Some(m) => ctx.out.warn(&format!(
            "the node refunds whole sats: {} stayed on the key at the node; the key is kept in \
             profile `{profile}` (spend it, or top it up and refund again)",
            fmt_msats(m)
        )),
        None if whole_sats && !repeated => ctx.out.note(
            "the node refunds whole sats: a remainder under 1 sat (up to 999 msat), if any, \
             stays on the node",
        ),
        None => {}
    }
    if forgot {
        ctx.out.note(&format!(
            "the refunded key was removed from profile `{profile}`"
        ));
    }
    Ok(())
}

/// A refund that failed: a token the node does not know (404) is said plainly (exit 4).
fn refund_error(e: CliError, with_token: bool) -> CliError {
    let status = match &e {
        CliError::Routstr(se) | CliError::Sdk(se) => se.status().map(|s| s.as_u16()),
        _ => None,
    };
    match status {
        Some(404) if with_token => CliError::NotFound(format!(
            "{e}: the node has no balance for this token (it was never redeemed on this node, \
             or its refund was already paid and forgotten)"
        )),
        _ => e,
    }
}

/// The file listing (hashes of) the refund tokens this machine received.
fn refunds_ledger() -> Option<PathBuf> {
    crate::config::state_dir().map(|d| d.join("routstr_refunds"))
}

fn token_digest(token: &str) -> String {
    use sha2::Digest as _;
    hex::encode(&sha2::Sha256::digest(token.trim().as_bytes())[..16])
}

/// Whether this refund token was received before (by an earlier `wallet refund`).
fn refund_seen_before(token: &str) -> bool {
    let Some(path) = refunds_ledger() else {
        return false;
    };
    let digest = token_digest(token);
    std::fs::read_to_string(path).is_ok_and(|text| text.lines().any(|l| l.trim() == digest))
}

/// Notes a refund token (its hash only: the ledger holds no money).
fn remember_refund(token: &str) {
    let Some(path) = refunds_ledger() else { return };
    if refund_seen_before(token) {
        return;
    }
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Ok(mut f) = open_private_append(&path) {
        let _ = append_token(&mut f, &token_digest(token));
    }
}
