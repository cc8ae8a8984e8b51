//! `rostro wallet ...`: the balance of a key on a Routstr node (a Routstr profile), paid in
//! Cashu eCash or over Lightning. Amounts are msat (1 sat = 1000 msat) and always shown
//! with both units.
//!
//! Money and keys are never dropped: a new key is stored for the profile (keyring, else the
//! `0600` credentials file) or printed; a refund token is written (`--out`, `0600`) or
//! printed before anything else happens; a key that `--replace` overwrites is printed on
//! stderr.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use rostro_sdk::routstr::{InvoicePurpose, InvoiceStatus, Msats, RoutstrClient, Sats};
use serde_json::{Value, json};

use crate::credentials::{self, Credential, Source};
use crate::ctx::{Ctx, NodeAuth, Session};
use crate::exit::{CliError, CliResult};
use crate::routstr::{
    append_token, fmt_msats, open_private_append, read_token, sats_json, sats_text,
};

/// `rostro wallet ...`
#[derive(Debug, Subcommand)]
#[command(after_help = "These commands need a Routstr profile:
  rostro config set profile.node.provider routstr
  rostro config set profile.node.base_url https://node.example
  rostro config set profile.node.wallet_prefix true      # older nodes: /v1/wallet/*

Examples:
  rostro --profile node wallet create --token @token.txt
  rostro --profile node wallet info
  rostro --profile node wallet topup --token cashuA...
  rostro --profile node wallet invoice --amount 1000 --wait
  rostro --profile node wallet refund --out refund.txt

Tokens (--token) are given as TOKEN, @FILE or - (stdin).")]
pub enum WalletCmd {
    /// Show the key's balance, what is reserved and spent, and its limits
    Info,
    /// Redeem a Cashu token into a new key and store the key for the profile
    Create(CreateArgs),
    /// Redeem a Cashu token into the key's balance
    Topup(TokenArg),
    /// Pay the whole balance out as a Cashu token (the node then deletes the key)
    Refund(RefundArgs),
    /// List the key's transactions (NDJSON with --json)
    History,
    /// Create child keys that spend this key's balance
    ChildKeys(ChildKeysArgs),
    /// Create a Lightning invoice that creates a key or tops up the profile's key
    Invoice(InvoiceArgs),
    /// Check, or wait for, an invoice made by `rostro wallet invoice`
    InvoiceStatus(InvoiceStatusArgs),
}

/// `--token`
#[derive(Debug, Args)]
pub struct TokenArg {
    /// The Cashu token: TOKEN, @FILE or - (stdin)
    #[arg(long, value_name = "TOKEN|@FILE|-")]
    pub token: String,
}

/// Where a new key goes.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Print the new key on stdout instead of storing it for the profile
    #[arg(long)]
    pub no_store: bool,
    /// Replace the profile's stored key (the old key is printed on stderr to keep)
    #[arg(long, conflicts_with = "no_store")]
    pub replace: bool,
}

/// `rostro wallet create`
#[derive(Debug, Args)]
pub struct CreateArgs {
    #[command(flatten)]
    token: TokenArg,
    /// Spending limit of the new key, in msat
    #[arg(long, value_name = "MSATS")]
    balance_limit: Option<u64>,
    /// When the spending limit resets: daily, weekly, monthly
    #[arg(long, value_name = "PERIOD", requires = "balance_limit")]
    balance_limit_reset: Option<String>,
    /// Unix time (seconds) after which the key stops working
    #[arg(long, value_name = "UNIX")]
    validity_date: Option<i64>,
    #[command(flatten)]
    store: StoreArgs,
}

/// `rostro wallet refund`
#[derive(Debug, Args)]
pub struct RefundArgs {
    /// Append the refund token to FILE (created 0600) instead of printing it on stdout
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Authenticate with the token the key was made from (X-Cashu) instead of the key
    #[arg(long, value_name = "TOKEN|@FILE|-")]
    token: Option<String>,
}

/// `rostro wallet child-keys`
#[derive(Debug, Args)]
pub struct ChildKeysArgs {
    /// How many keys (1 to 50)
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=50))]
    count: u32,
    /// Spending limit of each child key, in msat
    #[arg(long, value_name = "MSATS")]
    balance_limit: Option<u64>,
}

/// What an invoice pays for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Purpose {
    /// A new key (stored for the profile once paid)
    Create,
    /// A top-up of the profile's key
    Topup,
}

/// Waiting for an invoice.
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// Wait until the invoice is paid or expires (a spinner on a terminal)
    #[arg(long)]
    wait: bool,
    /// Stop waiting after SECS (default 900)
    #[arg(long, value_name = "SECS", requires = "wait")]
    wait_timeout: Option<f64>,
    /// Seconds between status checks while waiting (default 2)
    #[arg(long, value_name = "SECS", requires = "wait")]
    interval: Option<f64>,
}

/// `rostro wallet invoice`
#[derive(Debug, Args)]
pub struct InvoiceArgs {
    /// Amount in sats
    #[arg(long, value_name = "SATS", value_parser = clap::value_parser!(u64).range(1..))]
    amount: u64,
    /// What paying the invoice does
    #[arg(long, value_enum, default_value_t = Purpose::Create)]
    purpose: Purpose,
    #[command(flatten)]
    wait: WaitArgs,
    #[command(flatten)]
    store: StoreArgs,
}

/// `rostro wallet invoice-status`
#[derive(Debug, Args)]
pub struct InvoiceStatusArgs {
    /// The invoice id printed by `rostro wallet invoice`
    id: String,
    #[command(flatten)]
    wait: WaitArgs,
    #[command(flatten)]
    store: StoreArgs,
}

/// Runs `rostro wallet`.
pub fn run(ctx: &Ctx, cmd: WalletCmd) -> CliResult {
    ctx.require_routstr("`rostro wallet`")?;
    match cmd {
        WalletCmd::Info => info(ctx),
        WalletCmd::Create(a) => create(ctx, a),
        WalletCmd::Topup(a) => topup(ctx, a),
        WalletCmd::Refund(a) => refund(ctx, a),
        WalletCmd::History => history(ctx),
        WalletCmd::ChildKeys(a) => child_keys(ctx, a),
        WalletCmd::Invoice(a) => invoice(ctx, a),
        WalletCmd::InvoiceStatus(a) => invoice_status(ctx, a),
    }
}

fn node(s: &Session) -> CliResult<&RoutstrClient> {
    s.node()
}

/// `"N msat (x sat)"` fields for JSON: `{name}_msats` and `{name}_sats`.
fn put_amount(obj: &mut serde_json::Map<String, Value>, name: &str, m: Option<Msats>) {
    match m {
        Some(m) => {
            obj.insert(format!("{name}_msats"), json!(m.0));
            obj.insert(format!("{name}_sats"), sats_json(m.0));
        }
        None => {
            obj.insert(format!("{name}_msats"), Value::Null);
            obj.insert(format!("{name}_sats"), Value::Null);
        }
    }
}

fn info(ctx: &Ctx) -> CliResult {
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

/// Before any money moves: checks that a new key can be stored for the profile. Returns the
/// stored key it would replace (`--replace`).
fn check_store(ctx: &Ctx, store: &StoreArgs) -> CliResult<Option<Credential>> {
    if store.no_store {
        return Ok(None);
    }
    let profile = ctx.profile_name()?;
    let prev = credentials::load_stored(&profile)?;
    if let Some(p) = &prev
        && !store.replace
    {
        return Err(CliError::usage(format!(
            "profile `{profile}` already has a key ({}, in {}); refund it first \
             (`rostro wallet refund`), use another --profile, pass --no-store to print the new \
             key, or --replace (the old key is then printed to keep)",
            credentials::mask(&p.token),
            p.source
        )));
    }
    Ok(prev)
}

/// Stores a new key for the profile (or prints it with `--no-store`). Never loses a key:
/// when storing fails it is printed on stderr. Returns where it was stored.
fn store_key(
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
    let (source, warning) = match credentials::store(&profile, key) {
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
    if credentials::env_key().is_some() {
        ctx.out
            .warn("ROSTRO_API_KEY is set and takes precedence over the stored key");
    }
    Ok(Some(source.to_string()))
}

fn create(ctx: &Ctx, a: CreateArgs) -> CliResult {
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
                         into a key; ask the node for its balance with:\n  rostro --profile {} \
                         wallet refund --token {}",
                        s.profile_name,
                        token_ref(&a.token.token)
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

fn topup(ctx: &Ctx, a: TokenArg) -> CliResult {
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
                         the key's balance; check with `rostro --profile {} wallet info` before \
                         using it again",
                        s.profile_name
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

fn refund(ctx: &Ctx, a: RefundArgs) -> CliResult {
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

/// Whether the node may have acted on the request but its answer was lost (the body could
/// not be read or decoded, or the connection broke after the request was sent).
fn reply_lost(e: &rostro_sdk::Error) -> bool {
    use rostro_sdk::Error as E;
    matches!(
        e,
        E::Decode { .. } | E::Stream { .. } | E::Transport { .. } | E::Timeout { .. }
    )
}

/// `--token` as it can be repeated on a command line (`@FILE`, else a placeholder).
fn token_ref(arg: &str) -> String {
    if arg.starts_with('@') {
        arg.to_owned()
    } else {
        "TOKEN".to_owned()
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

fn history(ctx: &Ctx) -> CliResult {
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
    let items: Vec<Value> = h
        .transactions
        .iter()
        .map(|t| {
            let mut v = serde_json::to_value(t)?;
            if let Some(obj) = v.as_object_mut() {
                put_amount(obj, "amount", t.amount_msats());
            }
            Ok(v)
        })
        .collect::<CliResult<_>>()?;
    super::print_list(
        ctx,
        &items,
        &[
            ("CREATED", &|v| crate::util::s(v, "created_at")),
            ("TYPE", &|v| crate::util::s(v, "type")),
            ("SOURCE", &|v| crate::util::s(v, "source")),
            ("AMOUNT (MSAT)", &|v| crate::util::s(v, "amount_msats")),
            ("SAT", &|v| {
                v.get("amount_msats")
                    .and_then(Value::as_u64)
                    .map(sats_text)
                    .unwrap_or_default()
            }),
            ("ID", &|v| crate::util::s(v, "id")),
        ],
    )
}

fn child_keys(ctx: &Ctx, a: ChildKeysArgs) -> CliResult {
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

fn secs(v: Option<f64>, default: f64, flag: &str) -> CliResult<Duration> {
    let v = v.unwrap_or(default);
    if v.is_finite() && v > 0.0 {
        // Capped, so `--wait-timeout 2e19` waits "forever" instead of panicking.
        Ok(crate::cli::capped_secs(v))
    } else {
        Err(CliError::usage(format!(
            "{flag} must be a positive number of seconds"
        )))
    }
}

fn invoice(ctx: &Ctx, a: InvoiceArgs) -> CliResult {
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
                "after paying: `rostro wallet invoice-status {} --wait`",
                inv.invoice_id
            ));
        }
        return Ok(());
    }
    let status = rt.block_on(wait_invoice(ctx, &s, &inv.invoice_id, interval, timeout))?;
    settle(ctx, &s, &inv.invoice_id, status, &a.store, prev.flatten())
}

fn invoice_status(ctx: &Ctx, a: InvoiceStatusArgs) -> CliResult {
    let interval = secs(a.wait.interval, 2.0, "--interval")?;
    let timeout = secs(a.wait.wait_timeout, 900.0, "--wait-timeout")?;
    let rt = ctx.runtime()?;
    let s = rt.block_on(ctx.node_session(NodeAuth::Optional))?;
    let status = if a.wait.wait {
        rt.block_on(wait_invoice(ctx, &s, &a.id, interval, timeout))?
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

/// Polls an invoice until it is paid, expired or cancelled (spinner on a terminal).
async fn wait_invoice(
    ctx: &Ctx,
    s: &Session,
    id: &str,
    interval: Duration,
    timeout: Duration,
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
            "invoice {id} is still unpaid after {}s; check again with \
             `rostro wallet invoice-status {id} --wait`",
            timeout.as_secs()
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
