//! `rostro account show|tokens`.

use clap::Subcommand;
use rostro_sdk::types::{Account, ApiToken, ApiTokens};

use super::{cell, key_values, text};
use crate::ctx::Ctx;
use crate::exit::CliResult;

/// `rostro account ...`
#[derive(Debug, Subcommand)]
pub enum AccountCmd {
    /// Show your account
    Show,
    /// List your API tokens
    Tokens,
}

/// Runs `rostro account`.
pub fn run(ctx: &Ctx, cmd: AccountCmd) -> CliResult {
    match cmd {
        AccountCmd::Show => show(ctx),
        AccountCmd::Tokens => tokens(ctx),
    }
}

fn show(ctx: &Ctx) -> CliResult {
    let raw = ctx.block_on(async {
        let s = ctx.session(true).await?;
        s.json(s.client.account().get().into_request()?).await
    })?;
    if ctx.out.json {
        return ctx.out.json_value(&raw);
    }
    let a: Account = super::view(&raw, "account show")?;
    let human = key_values(&[
        ("Username", a.username.clone()),
        ("Name", a.name.clone()),
        ("Id", a.id.clone()),
        ("Email", a.email.clone()),
        ("Credits", text(&a.credits)),
        ("Plan", a.subscription.clone()),
        ("Credits reset", a.credits_reset.clone()),
    ]);
    let human = super::blocks(&[human, super::extra_lines(a.extra())]);
    super::print_answer(ctx, &raw, &human)
}

fn tokens(ctx: &Ctx) -> CliResult {
    let raw = ctx.block_on(async {
        let s = ctx.session(true).await?;
        s.json(s.client.tokens().list().into_request()?).await
    })?;
    super::print_page(
        ctx,
        &raw,
        "account tokens",
        ApiTokens::raw_items,
        ApiTokens::items,
        &[
            ("ID", &|t: &ApiToken| cell(&t.id)),
            ("NAME", &|t: &ApiToken| cell(&t.name)),
            ("TYPE", &|t: &ApiToken| cell(&t.type_)),
            ("CREATED", &|t: &ApiToken| cell(&t.created_at)),
        ],
    )
}
