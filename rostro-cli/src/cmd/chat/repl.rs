//! The chat REPL: one message per prompt, slash commands, Ctrl-C stops the current reply.

use rostro_sdk::chat::Message;

use super::input::{FileHistory, Interrupts, LineSource, read_message};
use super::reply::{SoFar, send};
use super::{ChatArgs, Conversation};
use crate::ctx::{Ctx, Session, ctrl_c};
use crate::exit::{CliError, CliResult};
use crate::output::style;

/// The REPL's commands, as `/help` lists them and an unknown one is answered.
const COMMANDS: &str = "/reset  clear the conversation\n/model [NAME]  show or switch the model\n\
     /help  this list\n/exit  quit (also Ctrl-D on an empty prompt)\n\
     \"\"\"  start or end a multi-line message; a trailing \\ continues a line\n\
     //text  send a message that starts with /\nCtrl-C stops the current reply";

/// What a line typed at the prompt asks for.
#[derive(Debug, PartialEq, Eq)]
enum Input<'a> {
    /// Send this message.
    Message(&'a str),
    Exit,
    Reset,
    Help,
    /// `/model` (show) or `/model NAME` (switch).
    Model(Option<&'a str>),
    /// A `/word` that is no command: not sent.
    Unknown(&'a str),
}

/// Reads a trimmed, non-empty line. A line starting with `/` is a command; `//` escapes a
/// message that starts with `/`.
fn classify(line: &str) -> Input<'_> {
    if line.starts_with("//") {
        return Input::Message(&line[1..]);
    }
    let Some(cmd) = line.strip_prefix('/') else {
        return Input::Message(line);
    };
    let (word, arg) = match cmd.split_once(char::is_whitespace) {
        Some((w, a)) => (w, Some(a.trim()).filter(|a| !a.is_empty())),
        None => (cmd, None),
    };
    match word {
        "exit" | "quit" | "q" => Input::Exit,
        "reset" | "clear" => Input::Reset,
        "help" | "?" => Input::Help,
        "model" => Input::Model(arg),
        _ => Input::Unknown(word),
    }
}

/// Runs the REPL until /exit, Ctrl-D or the end of piped input.
pub(super) fn run_repl(
    ctx: &Ctx,
    rt: &tokio::runtime::Runtime,
    s: &Session,
    a: &ChatArgs,
    conv: &mut Conversation,
) -> CliResult {
    let terminal = ctx.out.terminal_input();
    let mut src = if terminal {
        LineSource::Terminal(FileHistory::load(), Interrupts::new(rt))
    } else {
        LineSource::Piped(crate::ambient::stdin_lines())
    };
    let _ctrl_c = crate::ctx::hold_ctrl_c(rt);
    if terminal {
        ctx.out.eprint(&format!(
            "{}rostro chat · model {} · /help for commands, /exit or Ctrl-D to quit{}",
            style::DIM,
            conv.model,
            style::RESET
        ));
    }
    while let Some(msg) = read_message(&mut src)? {
        let trimmed = msg.trim();
        if trimmed.is_empty() {
            continue;
        }
        match classify(trimmed) {
            Input::Exit => break,
            Input::Reset => {
                conv.messages.clear();
                ctx.out.note("conversation cleared");
                if !terminal {
                    ctx.out.eprint("(conversation reset)");
                }
            }
            Input::Help => ctx.out.eprint(COMMANDS),
            Input::Model(None) => ctx.out.eprint(&format!("model: {}", conv.model)),
            Input::Model(Some(m)) => {
                conv.model = m.to_owned();
                ctx.out.eprint(&format!("model set to {m}"));
            }
            Input::Unknown(word) => ctx.out.eprint(&format!(
                "unknown command `/{word}` (not sent); the commands are:\n{COMMANDS}"
            )),
            Input::Message(text) => {
                // `//text` sends `/text`; anything else as typed (untrimmed).
                let text = if text.len() < trimmed.len() {
                    text.to_owned()
                } else {
                    msg.clone()
                };
                ask(ctx, rt, s, a, conv, text)?;
            }
        }
    }
    if let LineSource::Terminal(h, _) = &src {
        h.save();
    }
    Ok(())
}

/// Sends one message and adds the reply to the conversation; a failed or stopped reply
/// leaves the conversation as it was.
fn ask(
    ctx: &Ctx,
    rt: &tokio::runtime::Runtime,
    s: &Session,
    a: &ChatArgs,
    conv: &mut Conversation,
    msg: String,
) -> CliResult {
    conv.messages.push(Message::user(msg));
    let so_far = SoFar::default();
    let r = rt.block_on(async {
        tokio::select! {
            r = send(ctx, s, a, conv, None, &so_far) => Some(r),
            _ = ctrl_c() => None,
        }
    });
    match r {
        Some(Ok(text)) => conv.messages.push(Message::assistant(text)),
        Some(Err(CliError::BrokenPipe)) => return Err(CliError::BrokenPipe),
        Some(Err(e)) => {
            conv.messages.pop();
            ctx.out
                .eprint(&format!("{}error:{} {e}", style::RED, style::RESET));
        }
        None => {
            conv.messages.pop();
            if ctx.out.json {
                so_far.print_failure(ctx, a, &CliError::Interrupted)?;
            } else {
                let _ = ctx.out.write("\n");
            }
            ctx.out.eprint("(reply stopped)");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slash_words_are_commands_and_unknown_ones_are_not_sent() {
        assert_eq!(classify("/exit"), Input::Exit);
        assert_eq!(classify("/q"), Input::Exit);
        assert_eq!(classify("/reset"), Input::Reset);
        assert_eq!(classify("/model"), Input::Model(None));
        assert_eq!(classify("/model  gpt-4o "), Input::Model(Some("gpt-4o")));
        assert_eq!(classify("/bogus"), Input::Unknown("bogus"));
        assert_eq!(classify("/bogus with words"), Input::Unknown("bogus"));
        assert_eq!(
            classify("//etc/hosts is a file"),
            Input::Message("/etc/hosts is a file")
        );
        assert_eq!(classify("hello /exit"), Input::Message("hello /exit"));
    }
}
