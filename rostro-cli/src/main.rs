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

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(report_panic));
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help / --version print and exit 0; usage errors exit 2.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    // A panic is a bug: the hook has printed what happened; exit with the documented code
    // (after unwinding, so open files are flushed and closed).
    let result = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        debug_panic_hook();
        cli::run(cli)
    })) {
        Ok(r) => r,
        Err(_) => return ExitCode::from(exit::PANIC_EXIT_CODE),
    };
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

/// The panic hook: a short message on stderr instead of Rust's default report (what
/// happened and where, where to report it, how to get a backtrace).
fn report_panic(info: &std::panic::PanicHookInfo<'_>) {
    use std::io::Write;
    let payload = info.payload();
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    let place = info
        .location()
        .map(|l| format!(" (at {}:{})", l.file(), l.line()))
        .unwrap_or_default();
    let backtrace = std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0");
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "error: rostro crashed: {what}{place}\n\
         This is a bug in rostro {}. Please report it at {}/issues with the command you ran \
         (leave out keys and tokens).",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_REPOSITORY"),
    );
    if backtrace {
        let _ = writeln!(err, "{}", std::backtrace::Backtrace::force_capture());
    } else {
        let _ = writeln!(
            err,
            "To include a backtrace, run the command again with RUST_BACKTRACE=1."
        );
    }
}

/// Test hook (debug builds only): `ROSTRO_DEBUG_PANIC=1` panics once the command line is
/// parsed, so the panic report and its exit code can be tested on a spawned process.
fn debug_panic_hook() {
    #[cfg(debug_assertions)]
    if std::env::var_os("ROSTRO_DEBUG_PANIC").is_some() {
        panic!("ROSTRO_DEBUG_PANIC is set");
    }
}
