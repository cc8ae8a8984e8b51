//! `rostro completion SHELL` and `rostro man`.

use std::path::PathBuf;

use clap::Args;
use clap_complete::Shell;

use crate::ctx::Ctx;
use crate::exit::{CliError, CliResult};

/// `rostro completion`
#[derive(Debug, Args)]
#[command(
    after_help = "Install, e.g.:\n  rostro completion bash > ~/.local/share/bash-completion/completions/rostro\n  rostro completion zsh > \"${fpath[1]}/_rostro\"\n  rostro completion fish > ~/.config/fish/completions/rostro.fish"
)]
pub struct CompletionArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `rostro man`
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per command into this directory instead of printing `rostro.1`
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Prints the completion script.
pub fn run_completion(ctx: &Ctx, a: CompletionArgs) -> CliResult {
    let mut cmd = crate::cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "rostro", &mut buf);
    ctx.out.bytes(&buf)
}

/// Prints (or writes) the man page(s).
pub fn run_man(ctx: &Ctx, a: ManArgs) -> CliResult {
    let cmd = crate::cli::command();
    match a.out_dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir).map_err(|e| CliError::io(dir.display(), e))?;
            clap_mangen::generate_to(cmd, &dir).map_err(|e| CliError::io(dir.display(), e))?;
            ctx.out
                .success(&format!("man pages written to {}", dir.display()));
            Ok(())
        }
        None => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut buf)
                .map_err(|e| CliError::io("man page", e))?;
            ctx.out.bytes(&buf)
        }
    }
}
