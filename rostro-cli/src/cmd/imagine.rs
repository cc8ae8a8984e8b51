//! `rostro imagine`.

use clap::Subcommand;

use crate::ctx::Ctx;
use crate::exit::CliResult;

/// `rostro imagine ...`
#[derive(Debug, Subcommand)]
pub enum ImagineCmd {
    /// Placeholder
    Todo,
}

/// Runs `rostro imagine`.
pub fn run(_ctx: &Ctx, _c: ImagineCmd) -> CliResult {
    Ok(())
}
