//! `rostro account show|tokens`.

use clap::Subcommand;

use crate::ctx::Ctx;
use crate::exit::CliResult;
use crate::util::{first_of, items_of, s};

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
        AccountCmd::Show => {
            let v = ctx.block_on(async {
                let s = ctx.session(true).await?;
                s.json(s.client.account().get().into_request()?).await
            })?;
            let human = super::key_values(
                &v,
                &[
                    ("Username", "username"),
                    ("Name", "name"),
                    ("Id", "id"),
                    ("Email", "email"),
                    ("Credits", "credits"),
                    ("Balance", "balance"),
                ],
            );
            super::print_value(ctx, &v, (!human.is_empty()).then_some(human))
        }
        AccountCmd::Tokens => {
            let v = ctx.block_on(async {
                let s = ctx.session(true).await?;
                s.json(s.client.tokens().list().into_request()?).await
            })?;
            let items = items_of(&v, &["tokens", "items", "nodes"]);
            if items.is_empty() && !v.is_array() {
                return super::print_value(ctx, &v, None);
            }
            super::print_list(
                ctx,
                &items,
                &[
                    ("ID", &|v| s(v, "id")),
                    ("NAME", &|v| first_of(v, &["name", "label"])),
                    ("TYPE", &|v| first_of(v, &["type", "kind", "scope"])),
                    ("CREATED", &|v| first_of(v, &["created_at", "createdAt"])),
                ],
            )
        }
    }
}
