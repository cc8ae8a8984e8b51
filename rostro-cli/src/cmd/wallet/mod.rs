//! `rostro wallet ...`: the balance of a key on a Routstr node (a Routstr profile), paid in
//! Cashu eCash or over Lightning. Amounts are msat (1 sat = 1000 msat) and always shown
//! with both units.
//!
//! Money and keys are never dropped: a new key is stored for the profile (keyring, else the
//! `0600` credentials file) or printed; a refund token is written (`--out`, `0600`) or
//! printed before anything else happens; a key that `--replace` overwrites is printed on
//! stderr.

mod info;
mod invoice;
mod key;
mod refund;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use rostro_sdk::routstr::{Msats, RoutstrClient};
use serde_json::{Value, json};

use crate::ctx::{Ctx, Session};
use crate::exit::{CliError, CliResult};
use crate::routstr::sats_json;

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
    pub(super) token: TokenArg,
    /// Spending limit of the new key, in msat
    #[arg(long, value_name = "MSATS")]
    pub(super) balance_limit: Option<u64>,
    /// When the spending limit resets: daily, weekly, monthly
    #[arg(long, value_name = "PERIOD", requires = "balance_limit")]
    pub(super) balance_limit_reset: Option<String>,
    /// Unix time (seconds) after which the key stops working
    #[arg(long, value_name = "UNIX")]
    pub(super) validity_date: Option<i64>,
    #[command(flatten)]
    pub(super) store: StoreArgs,
}

/// `rostro wallet refund`
#[derive(Debug, Args)]
pub struct RefundArgs {
    /// Append the refund token to FILE (created 0600) instead of printing it on stdout
    #[arg(long, value_name = "FILE")]
    pub(super) out: Option<PathBuf>,
    /// Authenticate with the token the key was made from (X-Cashu) instead of the key
    #[arg(long, value_name = "TOKEN|@FILE|-")]
    pub(super) token: Option<String>,
}

/// `rostro wallet child-keys`
#[derive(Debug, Args)]
pub struct ChildKeysArgs {
    /// How many keys (1 to 50)
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub(super) count: u32,
    /// Spending limit of each child key, in msat
    #[arg(long, value_name = "MSATS")]
    pub(super) balance_limit: Option<u64>,
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
    pub(super) wait: bool,
    /// Stop waiting after SECS (default 900)
    #[arg(long, value_name = "SECS", requires = "wait")]
    pub(super) wait_timeout: Option<f64>,
    /// Seconds between status checks while waiting (default 2)
    #[arg(long, value_name = "SECS", requires = "wait")]
    pub(super) interval: Option<f64>,
}

/// `rostro wallet invoice`
#[derive(Debug, Args)]
pub struct InvoiceArgs {
    /// Amount in sats
    #[arg(long, value_name = "SATS", value_parser = clap::value_parser!(u64).range(1..))]
    pub(super) amount: u64,
    /// What paying the invoice does
    #[arg(long, value_enum, default_value_t = Purpose::Create)]
    pub(super) purpose: Purpose,
    #[command(flatten)]
    pub(super) wait: WaitArgs,
    #[command(flatten)]
    pub(super) store: StoreArgs,
}

/// `rostro wallet invoice-status`
#[derive(Debug, Args)]
pub struct InvoiceStatusArgs {
    /// The invoice id printed by `rostro wallet invoice`
    pub(super) id: String,
    #[command(flatten)]
    pub(super) wait: WaitArgs,
    #[command(flatten)]
    pub(super) store: StoreArgs,
}

/// Runs `rostro wallet`.
pub fn run(ctx: &Ctx, cmd: WalletCmd) -> CliResult {
    ctx.require_routstr("`rostro wallet`")?;
    match cmd {
        WalletCmd::Info => info::info(ctx),
        WalletCmd::Create(a) => key::create(ctx, a),
        WalletCmd::Topup(a) => key::topup(ctx, a),
        WalletCmd::Refund(a) => refund::refund(ctx, a),
        WalletCmd::History => info::history(ctx),
        WalletCmd::ChildKeys(a) => info::child_keys(ctx, a),
        WalletCmd::Invoice(a) => invoice::invoice(ctx, a),
        WalletCmd::InvoiceStatus(a) => invoice::invoice_status(ctx, a),
    }
}

/// The node client of a Routstr session.
pub(super) fn node(s: &Session) -> CliResult<&RoutstrClient> {
    s.node()
}

/// `"N msat (x sat)"` fields for JSON: `{name}_msats` and `{name}_sats`.
pub(super) fn put_amount(obj: &mut serde_json::Map<String, Value>, name: &str, m: Option<Msats>) {
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

/// A positive number of seconds (`default` when not given).
pub(super) fn secs(v: Option<f64>, default: f64, flag: &str) -> CliResult<Duration> {
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

/// Whether the node may have acted on the request but its answer was lost (the body could
/// not be read or decoded, or the connection broke after the request was sent).
pub(super) fn reply_lost(e: &rostro_sdk::Error) -> bool {
    use rostro_sdk::Error as E;
    matches!(
        e,
        E::Decode { .. } | E::Stream { .. } | E::Transport { .. } | E::Timeout { .. }
    )
}

/// `--token` as it can be repeated on a command line (`@FILE`, else a placeholder).
pub(super) fn token_ref(arg: &str) -> String {
    if arg.starts_with('@') {
        arg.to_owned()
    } else {
        "TOKEN".to_owned()
    }
}
