//! The one owner of stdout and stderr: terminal detection, colour, JSON / NDJSON printing,
//! `--jq`, progress spinners and bars (stderr only, and only on a terminal), broken pipes;
//! and [`Io`], which says whether those are the process's streams or injected ones.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

use crate::ambient::Injected;
use crate::exit::{CliError, CliResult};
use crate::jq::{Jq, JqOut};

/// ANSI styles; anstream strips them when the stream is not a colour terminal, when
/// `NO_COLOR` is set, or with `--no-color`.
pub mod style {
    /// Bold.
    pub const BOLD: &str = "\x1b[1m";
    /// Dim.
    pub const DIM: &str = "\x1b[2m";
    /// Red.
    pub const RED: &str = "\x1b[31m";
    /// Green.
    pub const GREEN: &str = "\x1b[32m";
    /// Yellow.
    pub const YELLOW: &str = "\x1b[33m";
    /// Blue.
    pub const BLUE: &str = "\x1b[34m";
    /// Cyan.
    pub const CYAN: &str = "\x1b[36m";
    /// Reset.
    pub const RESET: &str = "\x1b[0m";
}

/// The streams and environment of an in-process run ([`crate::run_with`]): in-memory (or
/// any) sinks for stdout and stderr, a stdin, an explicit environment and a chosen TTY
/// flag, so a command runs in a test as it would in a terminal or a pipe. The binary uses
/// the process's own streams instead ([`crate::run_process`]).
pub struct Io {
    stdout: Box<dyn Write + Send>,
    stderr: Box<dyn Write + Send>,
    stdin: Box<dyn Read + Send>,
    stdout_tty: bool,
    stderr_tty: bool,
    stdin_tty: bool,
    color: bool,
    vars: BTreeMap<String, OsString>,
}

impl Io {
    /// Output to `stdout` and `stderr`, as pipes (not terminals), no colour, an empty stdin
    /// and an empty environment (add variables with [`Io::env`]: the process's own are never
    /// read). Progress bars are never drawn to injected sinks (their frames depend on timing).
    pub fn new(stdout: impl Write + Send + 'static, stderr: impl Write + Send + 'static) -> Io {
        Io {
            stdout: Box::new(stdout),
            stderr: Box::new(stderr),
            stdin: Box::new(std::io::empty()),
            stdout_tty: false,
            stderr_tty: false,
            stdin_tty: false,
            color: false,
            vars: BTreeMap::new(),
        }
    }

    /// Whether stdout, stderr and stdin count as terminals.
    pub fn tty(mut self, tty: bool) -> Io {
        self.stdout_tty = tty;
        self.stderr_tty = tty;
        self.stdin_tty = tty;
        self
    }

    /// Whether stdin counts as a terminal (after [`Io::tty`]: a terminal with piped input).
    pub fn stdin_tty(mut self, tty: bool) -> Io {
        self.stdin_tty = tty;
        self
    }

    /// What the command reads on stdin.
    pub fn stdin(mut self, stdin: impl Read + Send + 'static) -> Io {
        self.stdin = Box::new(stdin);
        self
    }

    /// Keeps ANSI styles in the output where the stream counts as a terminal (as a real run
    /// would); off by default, so sinks get plain text.
    pub fn color(mut self, color: bool) -> Io {
        self.color = color;
        self
    }

    /// Sets an environment variable of the run.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<OsString>) -> Io {
        self.vars.insert(key.into(), value.into());
        self
    }

    /// The streams and flags as an invocation's (`--no-color` turns colour off, `-v` shows
    /// the HTTP trace).
    pub(crate) fn into_injected(self, no_color: bool, verbose: bool) -> Injected {
        let color = self.color && !no_color;
        Injected {
            stdout_tty: self.stdout_tty,
            stderr_tty: self.stderr_tty,
            stdin_tty: self.stdin_tty,
            verbose,
            stdout: Mutex::new(self.stdout),
            stderr: Mutex::new(self.stderr),
            stdin: Mutex::new(self.stdin),
            vars: self.vars,
            color_out: color && self.stdout_tty,
            color_err: color && self.stderr_tty,
        }
    }
}

/// An in-memory sink for [`Io::new`]; clones share one buffer (keep one to read it back).
#[derive(Clone, Default)]
pub struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    /// An empty buffer.
    pub fn new() -> Buffer {
        Buffer::default()
    }

    /// The bytes written so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The bytes written so far, as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }
}

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Output settings and helpers shared by every command.
pub struct Output {
    /// stdout is a terminal.
    pub stdout_tty: bool,
    /// stderr is a terminal.
    pub stderr_tty: bool,
    /// stdin is a terminal.
    pub stdin_tty: bool,
    /// Machine output requested (`--json` or `--jq`).
    pub json: bool,
    /// Colour allowed on stdout.
    color_out: bool,
    /// Progress bars are drawn (on stderr; only on the process's own terminal).
    progress: bool,
    jq: Option<Jq>,
    /// Injected streams (`None`: the process's).
    injected: Option<Arc<Injected>>,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("stdout_tty", &self.stdout_tty)
            .field("stderr_tty", &self.stderr_tty)
            .field("stdin_tty", &self.stdin_tty)
            .field("json", &self.json)
            .field("injected", &self.injected.is_some())
            .finish_non_exhaustive()
    }
}

impl Output {
    /// Detects terminals and applies the colour choice; with `injected`, takes its streams
    /// and flags instead of the process's.
    pub(crate) fn new(
        json: bool,
        jq: Option<Jq>,
        no_color: bool,
        injected: Option<Arc<Injected>>,
    ) -> Output {
        let json = json || jq.is_some();
        if let Some(inj) = injected {
            let color_out = inj.color_out;
            return Output {
                stdout_tty: inj.stdout_tty,
                stderr_tty: inj.stderr_tty,
                stdin_tty: inj.stdin_tty,
                json,
                color_out,
                progress: false,
                jq,
                injected: Some(inj),
            };
        }
        if no_color {
            anstream::ColorChoice::Never.write_global();
        }
        let stdout_tty = std::io::stdout().is_terminal();
        let stderr_tty = std::io::stderr().is_terminal();
        let color_out = stdout_tty
            && !no_color
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && anstream::ColorChoice::global() != anstream::ColorChoice::Never;
        Output {
            stdout_tty,
            stderr_tty,
            stdin_tty: std::io::stdin().is_terminal(),
            json,
            color_out,
            progress: stderr_tty,
            jq,
            injected: None,
        }
    }

    /// The injected streams of this run, to make current on the threads that run it.
    pub(crate) fn injected(&self) -> Option<Arc<Injected>> {
        self.injected.clone()
    }

    /// Whether progress bars are drawn (lines printed through a bar show only then).
    pub fn shows_progress(&self) -> bool {
        self.progress
    }

    /// Whether prompts may be shown (stdin and stdout are terminals). Prompts read and draw
    /// on the process's own terminal, so an in-process run ([`Io`]) never has them, even "as
    /// a TTY": it gets the same usage error as a pipe instead of waiting on a terminal.
    pub fn interactive(&self) -> bool {
        self.terminal_input() && self.stdout_tty
    }

    /// Whether lines are read from the process's terminal (with editing and history) rather
    /// than from stdin as a stream (a pipe, or an in-process run's stdin).
    pub fn terminal_input(&self) -> bool {
        self.stdin_tty && self.injected.is_none()
    }

    /// Fails with a usage error naming `flag` when no prompt can be shown.
    pub fn require_interactive(&self, what: &str, flag: &str) -> CliResult {
        if self.interactive() {
            Ok(())
        } else {
            Err(CliError::usage(format!(
                "{what} needs a terminal to prompt on; use {flag} instead"
            )))
        }
    }

    fn out_text(&self, s: &[u8], raw: bool) -> CliResult {
        let r = match &self.injected {
            Some(inj) => inj.write_out(s, raw),
            None if raw => {
                let mut o = std::io::stdout().lock();
                o.write_all(s).and_then(|_| o.flush())
            }
            None => {
                let mut o = anstream::stdout().lock();
                o.write_all(s).and_then(|_| o.flush())
            }
        };
        r.map_err(|e| CliError::io("stdout", e))
    }

    /// Writes `s` to stdout as is (no newline) and flushes.
    pub fn write(&self, s: &str) -> CliResult {
        self.out_text(s.as_bytes(), false)
    }

    /// Writes one line to stdout.
    pub fn line(&self, s: &str) -> CliResult {
        self.out_text(format!("{s}\n").as_bytes(), false)
    }

    /// Writes raw bytes to stdout (downloads to `-`).
    pub fn bytes(&self, b: &[u8]) -> CliResult {
        self.out_text(b, true)
    }

    /// A line on stderr (errors writing to stderr are ignored).
    pub fn eprint(&self, s: &str) {
        match &self.injected {
            Some(inj) => {
                let _ = inj.write_err(&format!("{s}\n"));
            }
            None => {
                let mut e = anstream::stderr().lock();
                let _ = writeln!(e, "{s}");
            }
        }
    }

    /// A status line on stderr: `✓ message` in green.
    pub fn success(&self, s: &str) {
        self.eprint(&format!("{}✓{} {s}", style::GREEN, style::RESET));
    }

    /// A warning on stderr.
    pub fn warn(&self, s: &str) {
        self.eprint(&format!("{}warning:{} {s}", style::YELLOW, style::RESET));
    }

    /// An informational note on stderr (only on a terminal, so scripts stay quiet).
    pub fn note(&self, s: &str) {
        if self.stderr_tty {
            self.eprint(&format!("{}{s}{}", style::DIM, style::RESET));
        }
    }

    /// Prints one JSON document (pretty on a terminal, compact otherwise), through `--jq`.
    pub fn json_value(&self, v: &Value) -> CliResult {
        match &self.jq {
            Some(jq) => self.jq_print(jq, v),
            None => self.print_json(v, self.stdout_tty),
        }
    }

    /// Prints one item of a list or stream as one NDJSON line, through `--jq`.
    pub fn json_line(&self, v: &Value) -> CliResult {
        match &self.jq {
            Some(jq) => self.jq_print(jq, v),
            None => self.print_json(v, false),
        }
    }

    fn jq_print(&self, jq: &Jq, v: &Value) -> CliResult {
        let outs = jq.run(v).map_err(CliError::Other)?;
        for o in outs {
            match o {
                JqOut::Str(s) => self.line(&s)?,
                JqOut::Json(j) => self.print_json(&j, self.stdout_tty)?,
                JqOut::Text(t) => self.line(&t)?,
            }
        }
        Ok(())
    }

    fn print_json(&self, v: &Value, pretty: bool) -> CliResult {
        let text = if pretty {
            let mut s = String::new();
            write_pretty(&mut s, v, 0, self.color_out);
            s
        } else {
            serde_json::to_string(v)?
        };
        self.line(&text)
    }

    /// A spinner on stderr, hidden unless stderr is a terminal.
    pub fn spinner(&self, msg: impl Into<String>) -> ProgressBar {
        let pb = ProgressBar::with_draw_target(None, self.draw_target());
        pb.set_style(
            ProgressStyle::with_template("{spinner:.cyan} {msg} {elapsed:.dim}")
                .expect("valid template"),
        );
        pb.set_message(msg.into());
        pb.enable_steady_tick(Duration::from_millis(100));
        pb
    }

    /// A byte progress bar on stderr, hidden unless stderr is a terminal.
    pub fn byte_bar(&self, len: Option<u64>, msg: impl Into<String>) -> ProgressBar {
        let pb = ProgressBar::with_draw_target(len, self.draw_target());
        pb.set_style(bytes_style(len.is_some()));
        pb.set_message(msg.into());
        pb
    }

    /// A container for several bars on stderr, hidden unless stderr is a terminal.
    pub fn multi(&self) -> MultiProgress {
        MultiProgress::with_draw_target(self.draw_target())
    }

    fn draw_target(&self) -> ProgressDrawTarget {
        if self.progress {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        }
    }
}

/// The style of a byte bar.
pub fn bytes_style(known_len: bool) -> ProgressStyle {
    if known_len {
        ProgressStyle::with_template(
            "{msg:30!} [{bar:30.cyan/blue}] {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>11} {eta:>4}",
        )
        .expect("valid template")
        .progress_chars("=> ")
    } else {
        ProgressStyle::with_template("{spinner:.cyan} {msg:30!} {bytes:>10} {bytes_per_sec:>11}")
            .expect("valid template")
    }
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

/// Pretty JSON with optional colours (keys blue, strings green, numbers/bools cyan/yellow).
pub fn write_pretty(out: &mut String, v: &Value, level: usize, color: bool) {
    let paint = |out: &mut String, code: &str, text: &str| {
        if color {
            out.push_str(code);
            out.push_str(text);
            out.push_str(style::RESET);
        } else {
            out.push_str(text);
        }
    };
    match v {
        Value::Null => paint(out, style::DIM, "null"),
        Value::Bool(b) => paint(out, style::YELLOW, if *b { "true" } else { "false" }),
        Value::Number(n) => paint(out, style::CYAN, &n.to_string()),
        Value::String(s) => paint(out, style::GREEN, &Value::String(s.clone()).to_string()),
        Value::Array(a) if a.is_empty() => out.push_str("[]"),
        Value::Object(o) if o.is_empty() => out.push_str("{}"),
        Value::Array(a) => {
            out.push_str("[\n");
            for (i, item) in a.iter().enumerate() {
                indent(out, level + 1);
                write_pretty(out, item, level + 1, color);
                if i + 1 < a.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            indent(out, level);
            out.push(']');
        }
        Value::Object(o) => {
            out.push_str("{\n");
            for (i, (k, item)) in o.iter().enumerate() {
                indent(out, level + 1);
                paint(out, style::BLUE, &Value::String(k.clone()).to_string());
                out.push_str(": ");
                write_pretty(out, item, level + 1, color);
                if i + 1 < o.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            indent(out, level);
            out.push('}');
        }
    }
}

/// A plain text table: a header row and rows, columns padded to the widest cell (cells are
/// cut at `max` characters). On a terminal the header is bold.
pub fn table(headers: &[&str], rows: &[Vec<String>], max: usize, color: bool) -> String {
    let cut = |s: &str| -> String {
        let one_line: String = s.replace(['\n', '\r', '\t'], " ");
        if one_line.chars().count() > max {
            let mut t: String = one_line.chars().take(max.saturating_sub(1)).collect();
            t.push('…');
            t
        } else {
            one_line
        }
    };
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| cut(c)).collect())
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
    }
    let mut out = String::new();
    let push_row = |out: &mut String, cells: &[String]| {
        let n = cells.len();
        for (i, c) in cells.iter().enumerate() {
            out.push_str(c);
            if i + 1 < n {
                let pad = widths[i].saturating_sub(c.chars().count()) + 2;
                out.push_str(&" ".repeat(pad));
            }
        }
        out.push('\n');
    };
    let header: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    if color {
        out.push_str(style::BOLD);
    }
    push_row(&mut out, &header);
    if color {
        // Put the reset before the newline.
        out.pop();
        out.push_str(style::RESET);
        out.push('\n');
    }
    for r in &rows {
        push_row(&mut out, r);
    }
    out.pop();
    out
}

impl Output {
    /// Whether stdout gets colours.
    pub fn color(&self) -> bool {
        self.color_out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pretty_json_matches_serde() {
        let v = json!({"a": [1, {"b": null}], "c": "x\"y", "d": {}, "e": []});
        let mut s = String::new();
        write_pretty(&mut s, &v, 0, false);
        assert_eq!(s, serde_json::to_string_pretty(&v).unwrap());
    }

    #[test]
    fn tables_pad_and_cut() {
        let t = table(
            &["ID", "NAME"],
            &[
                vec!["1".into(), "Alpha".into()],
                vec!["22".into(), "a very long name indeed".into()],
            ],
            10,
            false,
        );
        assert_eq!(t, "ID  NAME\n1   Alpha\n22  a very lo…");
    }
}
