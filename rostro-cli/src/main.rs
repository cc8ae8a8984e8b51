//! `rostro`: the command-line tool for the Rostro API.
//!
//! Start-up does as little as possible before the arguments are parsed: no config file, no
//! async runtime, no TLS setup. Commands that talk to the API build a tokio runtime and a
//! client on demand (see [`ctx::Ctx`]).

mod cli;
mod cmd;
mod config;
mod credentials;
mod ctx;
mod exit;
mod jq;
mod ops;
mod output;
mod rerun;
mod routstr;
mod trace;
mod util;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help / --version print and exit 0; usage errors exit 2.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = cli::run(cli);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !e.is_silent() {
                report(&e);
            }
            e.exit_code()
        }
    }
}

/// Prints an error (and its hint) on stderr; colours follow `--no-color` / `NO_COLOR`.
fn report(e: &exit::CliError) {
    use std::io::Write;
    let mut err = anstream::stderr().lock();
    let _ = writeln!(
        err,
        "{}error:{} {e}",
        output::style::RED,
        output::style::RESET
    );
    if let Some(hint) = e.hint() {
        let _ = writeln!(
            err,
            "{}hint:{} {hint}",
            output::style::DIM,
            output::style::RESET
        );
    }
}
