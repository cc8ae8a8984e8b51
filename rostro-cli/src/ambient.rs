//! What one invocation takes from its surroundings: environment variables, stdin, and the
//! stdout/stderr sinks. The binary uses the process's own. [`crate::run_with`] can give a run
//! its own (an [`Io`](crate::Io) with in-memory sinks and an explicit environment), so several
//! commands run side by side in one test process without seeing each other or the test's env.
//!
//! The injected streams are reached through a per-thread "current invocation": it is set on
//! the thread that runs the command and on every thread of the runtime the command builds
//! (see [`crate::ctx::Ctx::runtime`]), so code deep in a command reads the right env and
//! stdin without each helper taking an extra argument.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

/// The streams and environment of an in-process run.
pub(crate) struct Injected {
    pub(crate) stdout: Mutex<Box<dyn Write + Send>>,
    pub(crate) stderr: Mutex<Box<dyn Write + Send>>,
    pub(crate) stdin: Mutex<Box<dyn Read + Send>>,
    /// The whole environment of the run: the process's variables are not consulted.
    pub(crate) vars: BTreeMap<String, OsString>,
    /// stdout counts as a terminal.
    pub(crate) stdout_tty: bool,
    /// stderr counts as a terminal.
    pub(crate) stderr_tty: bool,
    /// stdin counts as a terminal.
    pub(crate) stdin_tty: bool,
    /// `-v`: the HTTP trace is printed (the trace subscriber is process-wide once
    /// installed; other in-process runs stay quiet).
    pub(crate) verbose: bool,
    /// Styles are kept on stdout.
    pub(crate) color_out: bool,
    /// Styles are kept on stderr.
    pub(crate) color_err: bool,
}

impl Injected {
    /// Writes `text` to stdout (styles stripped unless colour is on); `raw`: bytes as they are.
    pub(crate) fn write_out(&self, text: &[u8], raw: bool) -> std::io::Result<()> {
        let mut o = self.stdout.lock().unwrap_or_else(|e| e.into_inner());
        if raw || self.color_out {
            o.write_all(text)?;
        } else {
            o.write_all(strip(text).as_bytes())?;
        }
        o.flush()
    }

    /// Writes `text` to stderr (styles stripped unless colour is on).
    pub(crate) fn write_err(&self, text: &str) -> std::io::Result<()> {
        let mut e = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        if self.color_err {
            e.write_all(text.as_bytes())?;
        } else {
            e.write_all(strip(text.as_bytes()).as_bytes())?;
        }
        e.flush()
    }
}

fn strip(text: &[u8]) -> String {
    anstream::adapter::strip_str(&String::from_utf8_lossy(text)).to_string()
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<Injected>>> = const { RefCell::new(None) };
}

/// Makes `inj` the current invocation of this thread until the guard drops (then the
/// previous one is back).
pub(crate) fn enter(inj: Option<Arc<Injected>>) -> Guard {
    let prev = CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), inj));
    Guard(prev)
}

/// Restores the previous current invocation of its thread.
pub(crate) struct Guard(Option<Arc<Injected>>);

impl Drop for Guard {
    fn drop(&mut self) {
        let prev = self.0.take();
        CURRENT.with(|c| *c.borrow_mut() = prev);
    }
}

/// Makes `inj` the current invocation of this thread for the rest of its life (the threads
/// of a command's runtime).
pub(crate) fn adopt(inj: Option<Arc<Injected>>) {
    CURRENT.with(|c| *c.borrow_mut() = inj);
}

/// The current invocation of this thread, when it was injected.
pub(crate) fn current() -> Option<Arc<Injected>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// An environment variable of the invocation (`std::env::var_os` for the binary).
pub fn var_os(name: &str) -> Option<OsString> {
    match current() {
        Some(inj) => inj.vars.get(name).cloned(),
        None => std::env::var_os(name),
    }
}

/// An environment variable of the invocation as UTF-8 (`None` when unset or not UTF-8).
pub fn var(name: &str) -> Option<String> {
    var_os(name).and_then(|v| v.into_string().ok())
}

/// Reads the invocation's stdin to its end.
pub fn read_stdin(buf: &mut Vec<u8>) -> std::io::Result<usize> {
    match current() {
        Some(inj) => inj
            .stdin
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .read_to_end(buf),
        None => std::io::stdin().lock().read_to_end(buf),
    }
}

/// Reads the invocation's stdin to its end as UTF-8 text.
pub fn read_stdin_string(buf: &mut String) -> std::io::Result<usize> {
    let mut bytes = Vec::new();
    read_stdin(&mut bytes)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, "stdin is not UTF-8 text")
    })?;
    buf.push_str(&text);
    Ok(text.len())
}

/// The invocation's stdin, read line by line (the REPL on a pipe).
pub fn stdin_lines() -> Box<dyn std::io::BufRead> {
    match current() {
        Some(inj) => Box::new(std::io::BufReader::new(StdinOf(inj))),
        None => Box::new(std::io::stdin().lock()),
    }
}

struct StdinOf(Arc<Injected>);

impl Read for StdinOf {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0
            .stdin
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .read(buf)
    }
}

/// Writes one line of the `-v` trace on the invocation's stderr (none for an in-process run
/// without `-v`).
pub fn trace_line(line: &str) {
    if current().is_none_or(|inj| inj.verbose) {
        eprint_line(line);
    }
}

/// Writes one line on the invocation's stderr, styles kept or stripped as its stream wants
/// (errors writing to stderr are ignored: there is nowhere left to report them).
pub fn eprint_line(line: &str) {
    match current() {
        Some(inj) => {
            let _ = inj.write_err(&format!("{line}\n"));
        }
        None => {
            let mut e = anstream::stderr().lock();
            let _ = e.write_all(line.as_bytes());
            let _ = e.write_all(b"\n");
        }
    }
}
