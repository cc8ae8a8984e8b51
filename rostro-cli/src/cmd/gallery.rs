//! `rostro gallery`.

use clap::Subcommand;

use crate::ctx::Ctx;
use crate::exit::CliResult;

/// `rostro gallery ...`
#[derive(Debug, Subcommand)]
pub enum GalleryCmd {
    /// Placeholder
    Todo,
}

/// Runs `rostro gallery`.
pub fn run(_ctx: &Ctx, _c: GalleryCmd) -> CliResult {
    Ok(())
}
