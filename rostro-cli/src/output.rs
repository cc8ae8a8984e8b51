//! The one owner of stdout and stderr: terminal detection, colour, JSON / NDJSON printing,
//! `--jq`, progress spinners and bars (stderr only, and only on a terminal), broken pipes.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;

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

/// Output settings and helpers shared by every command.
#[derive(Debug)]
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
    jq: Option<Jq>,
}

impl Output {
    /// Detects terminals and applies the colour choice.
    pub fn new(json: bool, jq: Option<Jq>, no_color: bool) -> Output {
        if no_color {
            anstream::ColorChoice::Never.write_global();
        }
        let stdout_tty = std::io::stdout().is_terminal();
        let color_out = stdout_tty
            && !no_color
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && anstream::ColorChoice::global() != anstream::ColorChoice::Never;
        Output {
            stdout_tty,
            stderr_tty: std::io::stderr().is_terminal(),
            stdin_tty: std::io::stdin().is_terminal(),
            json: json || jq.is_some(),
            color_out,
            jq,
        }
    }

    /// Whether prompts may be shown (stdin and stdout are terminals).
    pub fn interactive(&self) -> bool {
        self.stdin_tty && self.stdout_tty
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

    /// Writes `s` to stdout as is (no newline) and flushes.
    pub fn write(&self, s: &str) -> CliResult {
        let mut o = anstream::stdout().lock();
        o.write_all(s.as_bytes())
            .and_then(|_| o.flush())
            .map_err(|e| CliError::io("stdout", e))
    }

    /// Writes one line to stdout.
    pub fn line(&self, s: &str) -> CliResult {
        let mut o = anstream::stdout().lock();
        o.write_all(s.as_bytes())
            .and_then(|_| o.write_all(b"\n"))
            .and_then(|_| o.flush())
            .map_err(|e| CliError::io("stdout", e))
    }

    /// Writes raw bytes to stdout (downloads to `-`).
    pub fn bytes(&self, b: &[u8]) -> CliResult {
        let mut o = std::io::stdout().lock();
        o.write_all(b)
            .and_then(|_| o.flush())
            .map_err(|e| CliError::io("stdout", e))
    }

    /// A line on stderr (errors writing to stderr are ignored).
    pub fn eprint(&self, s: &str) {
        let mut e = anstream::stderr().lock();
        let _ = writeln!(e, "{s}");
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
        if self.stderr_tty {
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
