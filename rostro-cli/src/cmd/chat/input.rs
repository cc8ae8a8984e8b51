//! Where REPL lines come from: a terminal (line editing and history, Ctrl-D on an empty
//! prompt quits, Ctrl-C drops the line) or piped stdin (one message per line).

use std::collections::VecDeque;
use std::io::BufRead;
use std::path::PathBuf;

use dialoguer::console::{Key, Term};

use crate::exit::{CliError, CliResult};

/// REPL line history, persisted in the state directory.
pub(super) struct FileHistory {
    lines: VecDeque<String>,
    path: Option<PathBuf>,
}

const HISTORY_MAX: usize = 1000;

impl FileHistory {
    pub(super) fn load() -> FileHistory {
        let path = crate::config::state_dir().map(|d| d.join("chat_history"));
        let lines = path
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map(|t| t.lines().rev().map(str::to_owned).collect())
            .unwrap_or_default();
        FileHistory { lines, path }
    }

    pub(super) fn save(&self) {
        let Some(p) = &self.path else { return };
        if let Some(dir) = p.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let text: Vec<&str> = self.lines.iter().rev().map(String::as_str).collect();
        let _ = std::fs::write(p, text.join("\n") + "\n");
    }
}

impl dialoguer::History<String> for FileHistory {
    fn read(&self, pos: usize) -> Option<String> {
        self.lines.get(pos).cloned()
    }

    fn write(&mut self, val: &String) {
        if val.trim().is_empty() || self.lines.front() == Some(val) {
            return;
        }
        self.lines.push_front(val.clone());
        self.lines.truncate(HISTORY_MAX);
    }
}

/// Where REPL lines come from.
pub(super) enum LineSource {
    Terminal(FileHistory, Interrupts),
    Piped(Box<dyn std::io::BufRead>),
}

/// One read from a [`LineSource`].
enum LineRead {
    Line(String),
    /// Ctrl-C at the prompt: the line is dropped.
    Cancelled,
    /// Ctrl-D or end of input.
    Eof,
}

impl LineSource {
    fn next(&mut self, prompt: &str) -> CliResult<LineRead> {
        match self {
            LineSource::Terminal(h, interrupts) => read_terminal_line(h, interrupts, prompt),
            LineSource::Piped(lock) => {
                let mut line = String::new();
                let n = lock
                    .read_line(&mut line)
                    .map_err(|e| CliError::io("stdin", e))?;
                if n == 0 {
                    return Ok(LineRead::Eof);
                }
                Ok(LineRead::Line(
                    line.trim_end_matches(['\n', '\r']).to_owned(),
                ))
            }
        }
    }
}

/// Reads one message: handles `"""` blocks and trailing backslashes. `Ok(None)` at the end
/// of input; an empty message after Ctrl-C.
pub(super) fn read_message(src: &mut LineSource) -> CliResult<Option<String>> {
    let first = match src.next("you")? {
        LineRead::Line(l) => l,
        LineRead::Cancelled => return Ok(Some(String::new())),
        LineRead::Eof => return Ok(None),
    };
    if first.trim() == "\"\"\"" {
        let mut lines = Vec::new();
        loop {
            match src.next("...")? {
                LineRead::Eof => break,
                LineRead::Cancelled => return Ok(Some(String::new())),
                LineRead::Line(l) if l.trim() == "\"\"\"" => break,
                LineRead::Line(l) => lines.push(l),
            }
        }
        return Ok(Some(lines.join("\n")));
    }
    let mut msg = first;
    while msg.ends_with('\\') {
        msg.pop();
        msg.push('\n');
        match src.next("...")? {
            LineRead::Line(l) => msg.push_str(&l),
            LineRead::Cancelled => return Ok(Some(String::new())),
            LineRead::Eof => break,
        }
    }
    Ok(Some(msg))
}

/// Ctrl-C while the line editor has the terminal: the editor raises SIGINT, which the
/// runtime's signal driver may pass on only later, when the next reply already waits for
/// Ctrl-C, and would stop it at once. So after a dropped line the REPL waits until its own
/// listener has seen the signal (it was raised: the wait is short), and before each line it
/// forgets signals seen during the reply before.
pub(super) struct Interrupts {
    #[cfg(unix)]
    sigint: Option<tokio::signal::unix::Signal>,
    handle: tokio::runtime::Handle,
}

impl Interrupts {
    /// Starts listening (on `rt`).
    pub(super) fn new(rt: &tokio::runtime::Runtime) -> Interrupts {
        let _enter = rt.enter();
        Interrupts {
            #[cfg(unix)]
            sigint: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok(),
            handle: rt.handle().clone(),
        }
    }

    fn forget_earlier(&mut self) {
        #[cfg(unix)]
        if let Some(s) = &mut self.sigint {
            use futures::FutureExt as _;
            while let Some(Some(())) = s.recv().now_or_never() {}
        }
    }

    /// Waits until the SIGINT that a dropped line raised has been seen.
    fn settle(&mut self) {
        #[cfg(unix)]
        if let Some(s) = &mut self.sigint {
            let _ = self.handle.block_on(s.recv());
        }
        let _ = &self.handle;
    }
}

/// The Ctrl-D key: end of input, as in a shell.
const CTRL_D: char = '\u{4}';

/// One line from the terminal. The first key is read here, because the line editor treats
/// Ctrl-D as nothing: on an empty prompt it quits; Ctrl-C drops the line; any other key
/// goes on into the editor (a typed character as its first, Up as the last history entry).
/// The prompt line is always ended, so the next prompt starts on a line of its own.
fn read_terminal_line(
    h: &mut FileHistory,
    interrupts: &mut Interrupts,
    prompt: &str,
) -> CliResult<LineRead> {
    interrupts.forget_earlier();
    let term = Term::stderr();
    let drawn = format!("{prompt}: ");
    let io_err = |e: std::io::Error| CliError::msg(format!("cannot read input: {e}"));
    term.write_str(&drawn).map_err(io_err)?;
    let first = loop {
        match term.read_key_raw() {
            Ok(Key::Char(CTRL_D)) => {
                let _ = term.write_line("");
                return Ok(LineRead::Eof);
            }
            // Read as a key: no signal was raised.
            Ok(Key::CtrlC) => {
                let _ = term.write_line("");
                return Ok(LineRead::Cancelled);
            }
            Ok(Key::Enter) => {
                let _ = term.write_line("");
                return Ok(LineRead::Line(String::new()));
            }
            // Nothing to delete on an empty line.
            Ok(Key::Backspace | Key::Del) => continue,
            Ok(Key::Char(c)) if !c.is_control() => break Some(c.to_string()),
            Ok(Key::ArrowUp) => break h.lines.front().cloned(),
            Ok(_) => break None,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(LineRead::Eof),
            Err(e) => return Err(io_err(e)),
        }
    };
    // The editor draws its own prompt.
    term.clear_line().map_err(io_err)?;
    let mut input = dialoguer::Input::<String>::new()
        .with_prompt(prompt)
        .allow_empty(true)
        .history_with(h);
    if let Some(text) = first {
        input = input.with_initial_text(text);
    }
    match input.interact_text() {
        Ok(s) => Ok(LineRead::Line(s)),
        Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted => {
            let _ = term.write_line("");
            interrupts.settle();
            Ok(LineRead::Cancelled)
        }
        Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Ok(LineRead::Eof)
        }
        Err(e) => Err(CliError::msg(format!("cannot read input: {e}"))),
    }
}
