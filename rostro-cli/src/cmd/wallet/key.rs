//! `wallet create`, `wallet topup`, and where a new key is kept: the profile's credential
//! store (the `--mock` sandbox's own store with `--mock`, never the real one), or stdout.

use serde_json::{Value, json};

use super::{CreateArgs, StoreArgs, TokenArg, node, put_amount, reply_lost, token_ref};
use crate::credentials::{self, Credential};
use crate::ctx::{Ctx, NodeAuth};
use crate::exit::{CliError, CliResult};
use crate::routstr::{fmt_msats, read_token};
use rostro_sdk::routstr::Msats;

/// The key stored for `profile`: in the `--mock` sandbox's store with `--mock` (the one the
/// sandbox node session uses), else in the keyring or credentials file.
pub(super) fn stored_key(ctx: &Ctx, profile: &str) -> CliResult<Option<Credential>> {
    if ctx.g.mock {
        crate::cmd::mock::load_key(profile)
    } else {
        credentials::load_stored(profile)
    }
}

/// Stores `key` for `profile` in the store [`stored_key`] reads; returns where, and a
/// warning to show (the keyring is off, so the key went to the file).
fn save_key(ctx: &Ctx, profile: &str, key: &str) -> CliResult<(String, Option<String>)> {
    if ctx.g.mock {
        let path = crate::cmd::mock::store_key(profile, key)?;
        return Ok((path.display().to_string(), None));
    }
    let (source, warning) = credentials::store(profile, key)?;
    Ok((source.to_string(), warning))
}

/// Removes the stored key of `profile` from the store [`stored_key`] reads; whether there
/// was one.
pub(super) fn forget_key(ctx: &Ctx, profile: &str) -> CliResult<bool> {
    if ctx.g.mock {
        Ok(crate::cmd::mock::remove_key(profile)?.is_some())
    } else {
        Ok(!credentials::remove(profile)?.is_empty())
    }
}

/// Before any money moves: checks that a new key can be stored for the profile. Returns the
/// stored key it would replace (`--replace`).
pub(super) fn check_store(ctx: &Ctx, store: &StoreArgs) -> CliResult<Option<Credential>> {
    if store.no_store {
        return Ok(None);
    }
    let profile = ctx.profile_name()?;
    let prev = stored_key(ctx, &profile)?;
    if let Some(p) = &prev
        && !store.replace
    {
        return Err(CliError::usage(format!(
            "profile `{profile}` already has a key ({}, in {}); refund it first (`{}`), use \
             another --profile, pass --no-store to print the new key, or --replace (the old \
             key is then printed to keep)",
            credentials::mask(&p.token),
            p.source,
            crate::rerun::command_as(&ctx.g, &profile, &["wallet", "refund"])
        )));
    }
    Ok(prev)
}

/// Stores a new key for the profile (or prints it with `--no-store`). Never loses a key:
/// when storing fails it is printed on stderr. Returns where it was stored.
pub(super) fn store_key(
    ctx: &Ctx,
    store: &StoreArgs,
    prev: Option<Credential>,
    key: &str,
) -> CliResult<Option<String>> {
    if store.no_store {
        if !ctx.out.json {
            ctx.out.line(key)?;
        }
        return Ok(None);
    }
    let profile = ctx.profile_name()?;
    let (source, warning) = match save_key(ctx, &profile, key) {
        Ok(r) => r,
        Err(e) => {
            ctx.out
                .warn("the new key could not be stored; keep it (it holds the balance):");
            ctx.out.eprint(key);
            return Err(e);
        }
    };
    if let Some(w) = warning {
        ctx.out.warn(&w);
    }
    if let Some(p) = prev
        && p.token != key
    {
        ctx.out.warn(&format!(
            "replaced the previous key of profile `{profile}`; keep it if it still holds a \
             balance:"
        ));
        ctx.out.eprint(&p.token);
    }
    // `--mock` reads the sandbox's key, never ROSTRO_API_KEY.
    if !ctx.g.mock && credentials::env_key().is_some() {
        ctx.out
            .warn("ROSTRO_API_KEY is set and takes precedence over the stored key");
    }
    Ok(Some(source))
}

/// Runs `wallet create`.
pub(super) fn create(ctx: &Ctx, a: CreateArgs) -> CliResult {
    let token = read_token(&a.token.token, "--token", true)?;
    let prev = check_store(ctx, &a.store)?;
    let created = ctx.block_on(async {
        let s = ctx.node_session(NodeAuth::Anonymous).await?;
        let n = node(&s)?;
        let mut call = n.balance().create(token.expose());
        if let Some(l) = a.balance_limit {
            call = call.balance_limit(Msats(l));
        }
        if let Some(r) = &a.balance_limit_reset {
            call = call.balance_limit_reset(r.clone());
        }
        if let Some(v) = a.validity_date {
            call = call.validity_date(v);
        }
        match call.send().await {
            Ok(r) => Ok(r.into_inner()),
            Err(e) => {
                if reply_lost(&e) {
                    ctx.out.warn(&format!(
                        "the node's reply could not be read: the token may have been redeemed \
                         into a key; ask the node for its balance with:\n  {}",
                        crate::rerun::command_as(
                            &ctx.g,
                            &s.profile_name,
                            &["wallet", "refund", "--token", &token_ref(&a.token.token)]
                        )
                    ));
                }
                Err(s.err(e))
            }
        }
    })?;
    let key = created.api_key.expose().to_owned();
    let stored = store_key(ctx, &a.store, prev, &key)?;
    let profile = ctx.profile_name()?;
    if ctx.out.json {
        let mut obj = serde_json::Map::new();
        obj.insert("profile".into(), json!(profile));
        obj.insert(
            "api_key".into(),
            json!(if stored.is_some() {
                credentials::mask(&key)
            } else {
                key.clone()
            }),
        );
        obj.insert("stored_in".into(), json!(stored));
        put_amount(&mut obj, "balance", Some(created.balance));
        return ctx.out.json_value(&Value::Object(obj));
    }
    let where_ = match &stored {
        Some(s) => format!("stored for profile `{profile}` in {s}"),
        None => "printed above".to_owned(),
    };
    ctx.out.success(&format!(
        "Created key {} holding {}; {where_}",
        credentials::mask(&key),
        fmt_msats(created.balance)
    ));
    Ok(())
}

/// Runs `wallet topup`.
pub(super) fn topup(ctx: &Ctx, a: TokenArg) -> CliResult {
    let token = read_token(&a.token, "--token", true)?;
    let added = ctx.block_on(async {
        let s = ctx.node_session(NodeAuth::Required).await?;
        let n = node(&s)?;
        let r = match n.balance().topup(token.expose()).send().await {
            Ok(r) => r,
            Err(e) => {
                if reply_lost(&e) {
                    ctx.out.warn(&format!(
                        "the node's reply could not be read: the token may have been added to \
                         the key's balance; check with `{}` before using it again",
                        crate::rerun::command_as(&ctx.g, &s.profile_name, &["wallet", "info"])
                    ));
                }
                return Err(s.err(e));
            }
        };
        Ok(r.into_inner().msats)
    })?;
    if ctx.out.json {
        let mut obj = serde_json::Map::new();
        put_amount(&mut obj, "added", Some(added));
        return ctx.out.json_value(&Value::Object(obj));
    }
    ctx.out
        .success(&format!("Added {} to the key's balance", fmt_msats(added)));
    Ok(())
}
