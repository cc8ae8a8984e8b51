//! `rostro assets`.

use clap::Subcommand;

use crate::ctx::Ctx;
use crate::exit::CliResult;

/// `rostro assets ...`
#[derive(Debug, Subcommand)]
pub enum AssetsCmd {
    /// Placeholder
    Todo,
}

/// Runs `rostro assets`.
pub fn run(_ctx: &Ctx, _c: AssetsCmd) -> CliResult {
    Ok(())
}
