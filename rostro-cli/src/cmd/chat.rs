//! `rostro chat`.

use clap::Args;

use crate::ctx::Ctx;
use crate::exit::CliResult;

/// `rostro chat`
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The prompt
    pub prompt: Option<String>,
}

/// Runs `rostro chat`.
pub fn run(_ctx: &Ctx, _a: ChatArgs) -> CliResult {
    Ok(())
}
