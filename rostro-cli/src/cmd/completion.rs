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
#[command(after_help = "Examples:
  rostro man | man -l -                 # rostro(1)
  rostro man imagine image | man -l -   # rostro-imagine-image(1)
  rostro man --out-dir target/man       # every page, for packagers")]
pub struct ManArgs {
    /// The command whose page to print, e.g. `imagine` or `imagine image` (default: rostro(1))
    #[arg(value_name = "COMMAND", conflicts_with = "out_dir")]
    pub command: Vec<String>,
    /// Write one page per command (rostro.1, rostro-imagine.1, ...) into this directory
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
            let mut page = cmd.disable_help_subcommand(true);
            page.build();
            for name in &a.command {
                let Some(sub) = page.find_subcommand(name).cloned() else {
                    let known: Vec<&str> = page.get_subcommands().map(|c| c.get_name()).collect();
                    return Err(CliError::usage(format!(
                        "no command `{name}` under `{}`; there are: {}",
                        page.get_display_name().unwrap_or(page.get_name()),
                        known.join(", ")
                    )));
                };
                page = sub;
            }
            let mut buf = Vec::new();
            clap_mangen::Man::new(page)
                .render(&mut buf)
                .map_err(|e| CliError::io("man page", e))?;
            ctx.out.bytes(&buf)
        }
    }
}
