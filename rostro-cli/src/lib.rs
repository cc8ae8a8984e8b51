//! `rostro`: the command-line tool for the Rostro API, as a library so that commands can run
//! in-process (tests run them against the mock and compare their output with golden files).
//!
//! Start-up does as little as possible before the arguments are parsed: no config file, no
//! async runtime, no TLS setup. Commands that talk to the API build a tokio runtime and a
//! client on demand (see `ctx::Ctx`).
//!
//! [`run_process`] is the binary: the process's own streams and environment.
//! [`run_with`] runs one command line with an [`Io`]: injected stdout/stderr sinks, stdin,
//! TTY flag and environment. Both report errors and pick the exit code the same way
//! (`exit.rs` holds the one mapping).

mod ambient;
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

use std::ffi::OsString;
use std::sync::Arc;

pub use output::{Buffer, Io};

/// Runs `args` (the first is the program name) on the process's stdout, stderr, stdin and
/// environment; returns the exit code.
pub fn run_process() -> i32 {
    run_inner(std::env::args_os(), None)
}

/// Runs `args` (the first is the program name) in-process with `io`'s streams, TTY flags and
/// environment instead of the process's; returns the exit code, as the binary would exit.
/// Several runs may go on at once on different threads: each sees only its own `io`.
pub fn run_with<I, T>(args: I, io: Io) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    run_inner(args, Some(io))
}

/// The clap command tree (for completions, the man page, and tests that walk it).
pub fn command() -> clap::Command {
    cli::command()
}

fn run_inner<I, T>(args: I, io: Option<Io>) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match cli::parse_from(args.into_iter().map(Into::into).collect()) {
        Ok(cli) => cli,
        Err(e) => return usage_error(e, io),
    };
    let injected = io.map(|io| Arc::new(io.into_injected(cli.global.no_color, cli.global.verbose)));
    let _current = ambient::enter(injected.clone());
    // A panic is a bug: the hook has printed what happened; exit with the documented code
    // (after unwinding, so open files are flushed and closed).
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        debug_panic_hook();
        cli::run(cli, injected)
    }));
    match result {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => {
            if !e.is_silent() {
                report(&e);
            }
            i32::from(e.code())
        }
        Err(_) => i32::from(exit::PANIC_EXIT_CODE),
    }
}

/// `--help` / `--version` print and exit 0; usage errors exit 2.
fn usage_error(e: clap::Error, io: Option<Io>) -> i32 {
    let code = if e.use_stderr() { 2 } else { 0 };
    match io {
        None => {
            let _ = e.print();
        }
        Some(io) => {
            let inj = io.into_injected(true, false);
            let text = e.render().to_string();
            let _ = if e.use_stderr() {
                inj.write_err(&text)
            } else {
                inj.write_out(text.as_bytes(), false)
            };
        }
    }
    code
}

/// Prints an error (and its hint) on stderr; colours follow `--no-color` / `NO_COLOR`.
fn report(e: &exit::CliError) {
    ambient::eprint_line(&format!(
        "{}error:{} {e}",
        output::style::RED,
        output::style::RESET
    ));
    if let Some(hint) = e.hint() {
        ambient::eprint_line(&format!(
            "{}hint:{} {hint}",
            output::style::DIM,
            output::style::RESET
        ));
    }
}

/// Test hook (debug builds only): `ROSTRO_DEBUG_PANIC=1` panics once the command line is
/// parsed, so the panic report and its exit code can be tested on a spawned process.
fn debug_panic_hook() {
    #[cfg(debug_assertions)]
    if ambient::var_os("ROSTRO_DEBUG_PANIC").is_some() {
        panic!("ROSTRO_DEBUG_PANIC is set");
    }
}
