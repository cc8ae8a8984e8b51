//! `wallet refund`: the whole balance paid out as a Cashu token, written (or printed)
//! before anything else happens; the refunded key is then forgotten.

use std::path::PathBuf;

use serde_json::{Value, json};

use rostro_sdk::routstr::{Msats, Refund};

use super::key::{forget_key, stored_key};
use super::{RefundArgs, node, put_amount, reply_lost, token_ref};
use crate::credentials::{Credential, Source};
use crate::ctx::{Ctx, NodeAuth};
use crate::exit::{CliError, CliResult};
use crate::routstr::{append_token, fmt_msats, open_private_append, read_token};

/// What the node paid out.
struct Paid {
    refund: Refund,
    /// The key the refund was asked with (`None` with `--token`).
    credential: Option<Credential>,
    /// A refund in whole sats: what stayed on the key (msat), when the node says.
    left: Option<Msats>,
}

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
    let paid = ctx.block_on(send_refund(ctx, &a, original.as_ref().map(|t| t.expose())))?;
    let token = paid
        .refund
        .token
        .as_ref()
        .map(|t| t.expose().to_owned())
        .filter(|t| !t.is_empty());
    // A node asked again returns the token it issued before: say so.
    let repeated = token.as_deref().is_some_and(refund_seen_before);
    let left = paid.left.filter(|m| m.0 > 0);
    // The token first: nothing else happens before it is safe.
    let saved_to = match &token {
        Some(t) => save_token(ctx, t, &mut out_file)?,
        None => None,
    };
    if let Some(t) = &token {
        remember_refund(t);
    }
    // The node deletes a refunded key: forget the stored copy (never ROSTRO_API_KEY). A key
    // that still holds a sub-sat remainder is kept: that is the user's money.
    let profile = ctx.profile_name()?;
    let forgot = match &paid.credential {
        Some(c) if original.is_none() && left.is_none() => forget_refunded(ctx, &profile, c)?,
        _ => false,
    };
    let report = Report {
        paid: &paid,
        token: token.as_deref(),
        saved_to: saved_to.as_deref(),
        repeated,
        left,
        forgot,
        profile: &profile,
    };
    if ctx.out.json {
        return report.json(ctx);
    }
    report.human(ctx);
    Ok(())
}

/// Asks the node for the refund (with the key, or with the token it was made from).
async fn send_refund(ctx: &Ctx, a: &RefundArgs, original: Option<&str>) -> CliResult<Paid> {
    let auth = if original.is_some() {
        NodeAuth::Anonymous
    } else {
        NodeAuth::Required
    };
    let s = ctx.node_session(auth).await?;
    let n = node(&s)?;
    let spinner = ctx.out.spinner("refunding the balance");
    let mut call = n.balance().refund();
    if let Some(t) = original {
        call = call.with_token(t);
    }
    let r = call.send().await.map_err(|e| s.err(e));
    spinner.finish_and_clear();
    let refund = match r {
        Ok(r) => r.into_inner(),
        Err(e) => {
            if let CliError::Routstr(se) | CliError::Sdk(se) = &e
                && reply_lost(se)
            {
                // The node answers a repeated refund with the same token.
                ctx.out.warn(&format!(
                    "the node's reply could not be read: it keeps the refund; run the same \
                     refund again to get the token: {}",
                    again(ctx, a)
                ));
            }
            return Err(refund_error(e, original.is_some()));
        }
    };
    // A refund in whole sats leaves the msat remainder on the key: ask how much.
    let left = if refund.msats.is_none() && refund.sats.is_some() && original.is_none() {
        n.balance()
            .info()
            .send()
            .await
            .ok()
            .map(|i| i.into_inner().available())
    } else {
        None
    };
    Ok(Paid {
        refund,
        credential: s.credential.clone(),
        left,
    })
}

/// The same `wallet refund` as a command line to run again (`--token` as `@FILE` or a
/// placeholder: a token is money and is not echoed).
fn again(ctx: &Ctx, a: &RefundArgs) -> String {
    let mut args = vec!["wallet".to_owned(), "refund".to_owned()];
    if let Some(o) = &a.out {
        args.extend(["--out".to_owned(), o.display().to_string()]);
    }
    if let Some(t) = &a.token {
        args.extend(["--token".to_owned(), token_ref(t)]);
    }
    crate::rerun::command(&ctx.g, &args)
}

/// Writes the refund token to `--out` (returns where), or prints it on stdout. When the
/// file cannot be written the token goes to stderr: it is money.
fn save_token(
    ctx: &Ctx,
    token: &str,
    out_file: &mut Option<(PathBuf, std::fs::File)>,
) -> CliResult<Option<String>> {
    match out_file {
        Some((path, f)) => match append_token(f, token) {
            Ok(()) => Ok(Some(path.display().to_string())),
            Err(e) => {
                ctx.out.warn(&format!(
                    "cannot write the refund token to {}: {e}; keep this Cashu token, it is \
                     money:",
                    path.display()
                ));
                ctx.out.eprint(token);
                Err(CliError::io(path.display(), e))
            }
        },
        None if !ctx.out.json => {
            ctx.out.line(token)?;
            Ok(None)
        }
        None => Ok(None),
    }
}

/// Forgets the refunded key when it is the profile's stored one; whether it did.
fn forget_refunded(ctx: &Ctx, profile: &str, c: &Credential) -> CliResult<bool> {
    if !matches!(c.source, Source::Keyring | Source::File(_)) {
        return Ok(false);
    }
    if stored_key(ctx, profile)?.is_none_or(|s| s.token != c.token) {
        return Ok(false);
    }
    forget_key(ctx, profile)
}

/// What `wallet refund` did, to print.
struct Report<'a> {
    paid: &'a Paid,
    token: Option<&'a str>,
    saved_to: Option<&'a str>,
    repeated: bool,
    left: Option<Msats>,
    forgot: bool,
    profile: &'a str,
}

impl Report<'_> {
    fn whole_sats(&self) -> bool {
        self.paid.refund.msats.is_none() && self.paid.refund.sats.is_some()
    }

    fn json(&self, ctx: &Ctx) -> CliResult {
        let mut obj = serde_json::Map::new();
        let token = if self.saved_to.is_some() {
            None
        } else {
            self.token
        };
        obj.insert("token".into(), json!(token));
        obj.insert("saved_to".into(), json!(self.saved_to));
        put_amount(&mut obj, "amount", self.paid.refund.amount());
        obj.insert("recipient".into(), json!(self.paid.refund.recipient));
        obj.insert("key_forgotten".into(), json!(self.forgot));
        obj.insert("issued_before".into(), json!(self.repeated));
        obj.insert("whole_sats".into(), json!(self.whole_sats()));
        put_amount(&mut obj, "left_on_node", self.left);
        ctx.out.json_value(&Value::Object(obj))
    }

    fn human(&self, ctx: &Ctx) {
        let what = self
            .paid
            .refund
            .amount()
            .map(|m| format!(" {}", fmt_msats(m)))
            .unwrap_or_default();
        if self.repeated {
            let place = match self.saved_to {
                Some(p) => format!("appended to {p}"),
                None => "on stdout".to_owned(),
            };
            ctx.out.warn(&format!(
                "the node returned the token it issued before for this key{what} ({place}): no \
                 new money was paid out. It is worth something only if it was not redeemed yet \
                 (spent if you redeemed it)"
            ));
        } else {
            match (self.token, self.saved_to, &self.paid.refund.recipient) {
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
        let profile = self.profile;
        match self.left {
            Some(m) => ctx.out.warn(&format!(
                "the node refunds whole sats: {} stayed on the key at the node; the key is kept \
                 in profile `{profile}` (spend it, or top it up and refund again)",
                fmt_msats(m)
            )),
            None if self.whole_sats() && !self.repeated => ctx.out.note(
                "the node refunds whole sats: a remainder under 1 sat (up to 999 msat), if any, \
                 stays on the node",
            ),
            None => {}
        }
        if self.forgot {
            ctx.out.note(&format!(
                "the refunded key was removed from profile `{profile}`"
            ));
        }
    }
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
