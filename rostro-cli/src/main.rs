//! `rostro`: the command-line tool for the Rostro API. The commands live in the library
//! (`rostro_cli`); the binary adds only what belongs to a process: the panic hook and the
//! exit.

use std::process::ExitCode;

fn main() -> ExitCode {
    std::panic::set_hook(Box::new(report_panic));
    let code = rostro_cli::run_process();
    ExitCode::from(u8::try_from(code).unwrap_or(1))
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
