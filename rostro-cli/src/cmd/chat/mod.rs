//! `rostro chat [PROMPT]`: OpenAI-compatible chat on the mimic endpoint, streamed token by
//! token to stdout. Without a prompt on a terminal (or with `--repl`) it is a REPL with line
//! history, multi-line input (`"""` blocks or a trailing `\`), `/reset` and `/exit`;
//! Ctrl-C stops the current reply, not the REPL.
//!
//! On a Routstr profile the same command talks to the node (`/v1/chat/completions`),
//! paid from the profile's key or, with `--pay-with TOKEN`, by the request itself
//! (`X-Cashu`; the change goes to `--change-out FILE` or stderr, see [`crate::routstr`]).

mod input;
mod repl;
mod reply;

use clap::Args;
use rostro_sdk::chat::{ChatCompletionRequest, Message};
use serde_json::Value;

use crate::ctx::{Ctx, NodeAuth, Session};
use crate::exit::{CliError, CliResult};
use crate::routstr::{PayArgs, Payment};
use reply::{SoFar, send};

/// The model used when neither `--model` nor the profile's `default_model` is set.
pub const FALLBACK_MODEL: &str = "mobile";

/// `rostro chat`
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  rostro chat \"Write a haiku about tea\"
  git diff | rostro chat \"Write a commit message for this diff\"
  rostro chat --character 1234            # REPL in character
  rostro chat --json \"hi\" | jq .usage
  rostro chat --stream-json \"hi\"          # NDJSON chunks
  rostro --profile node chat -m gpt-4o-mini \"hi\"   # a Routstr node, paid by the key
  rostro --profile node chat -m gpt-4o-mini \"hi\" --pay-with @token.txt --change-out change.txt

REPL: /reset clears the conversation, /model NAME switches models, /exit (or Ctrl-D on an empty
prompt) quits; other /words are not sent (//text sends /text); a line with \"\"\" starts and
ends a multi-line message, a trailing \\ continues the line; Ctrl-C stops the current reply.

--timeout bounds the wait for the reply to start and every gap between its pieces: a reply that
stalls longer ends with exit 7. Nothing that arrived is lost: text mode has printed it; once a
streamed reply has started, --json prints the completion so far with an `error` member
({\"message\", \"kind\": \"stream\"|\"timeout\"|\"interrupted\", \"exit_code\"}) and --stream-json
ends with a line {\"object\": \"rostro.error\", \"error\": {...}}, also on Ctrl-C; the exit code
is the failure's.

Routstr --pay-with: the node's change token (or its refund when the request fails) is appended
to --change-out FILE as soon as the node answers, else printed on stderr; with --json it is also
in the output as `change_token`. Ctrl-C while a paid request waits for the node asks for a
second Ctrl-C (quitting then gives up the change).")]
pub struct ChatArgs {
    /// The prompt (piped stdin is added to it)
    pub prompt: Option<String>,
    /// Model (default: the profile's default_model, else `mobile`; Routstr: required)
    #[arg(long, short = 'm')]
    pub model: Option<String>,
    /// System prompt
    #[arg(long, short = 's')]
    pub system: Option<String>,
    /// Use a character's definition as the system prompt (character id)
    #[arg(long, value_name = "ID")]
    pub character: Option<i64>,
    /// Wait for the whole reply instead of streaming it
    #[arg(long)]
    pub no_stream: bool,
    /// Print every streamed chunk as one NDJSON line (implies --json)
    #[arg(long, conflicts_with = "no_stream")]
    pub stream_json: bool,
    /// Maximum tokens in the reply
    #[arg(long)]
    pub max_tokens: Option<u32>,
    /// Sampling temperature
    #[arg(long)]
    pub temperature: Option<f64>,
    /// Start the REPL even when stdin is not a terminal (reads one message per line)
    #[arg(long)]
    pub repl: bool,
    /// Routstr payment per request.
    #[command(flatten)]
    pub pay: PayArgs,
}

/// Runs `rostro chat`.
pub fn run(ctx: &Ctx, a: ChatArgs) -> CliResult {
    let stdin_piped = !ctx.out.stdin_tty;
    let repl = a.repl || (a.prompt.is_none() && !stdin_piped);
    if repl && !a.repl && !ctx.out.stdout_tty {
        return Err(CliError::usage(
            "no prompt given: pass a PROMPT, pipe text on stdin, or use --repl",
        ));
    }
    // The token is checked (and --change-out opened) before anything else happens.
    if a.pay.pay_with.is_some() {
        ctx.require_routstr("--pay-with")?;
    }
    let payment = Payment::from_args(&a.pay)?;
    if payment.is_some() && repl {
        return Err(CliError::usage(
            "--pay-with pays for one request: give a PROMPT (the REPL is not available)",
        ));
    }
    let rt = ctx.runtime()?;
    let session = match &payment {
        Some(_) => rt.block_on(ctx.node_session(NodeAuth::Anonymous))?,
        None => rt.block_on(ctx.session(true))?,
    };
    if session.node.is_some() && a.character.is_some() {
        return Err(CliError::usage(
            "--character reads a character from the Rostro API; it is not available on a \
             Routstr profile (use --system)",
        ));
    }
    let system = match (a.character, &a.system) {
        (Some(id), sys) => {
            let mut p = rt.block_on(character_prompt(&session, id))?;
            if let Some(s) = sys {
                p = format!("{s}\n\n{p}");
            }
            Some(p)
        }
        (None, s) => s.clone(),
    };
    let mut conv = Conversation {
        model: model(&a, &session)?,
        system,
        messages: Vec::new(),
    };
    if repl {
        return repl::run_repl(ctx, &rt, &session, &a, &mut conv);
    }
    conv.messages.push(Message::user(prompt(&a, stdin_piped)?));
    one_shot(ctx, &rt, &session, &a, &conv, payment)
}

/// `--model`, else the profile's default, else [`FALLBACK_MODEL`] (a Routstr node has no
/// sensible fallback: it serves its own models).
fn model(a: &ChatArgs, session: &Session) -> CliResult<String> {
    match a.model.clone().or(session.profile.default_model.clone()) {
        Some(m) => Ok(m),
        None if session.node.is_some() => Err(CliError::usage(format!(
            "give --model (see `rostro models`), or set one: `rostro config set \
             profile.{}.default_model MODEL`",
            session.profile_name
        ))),
        None => Ok(FALLBACK_MODEL.to_owned()),
    }
}

/// The one-shot prompt: the PROMPT argument, with piped stdin added below it.
fn prompt(a: &ChatArgs, stdin_piped: bool) -> CliResult<String> {
    let mut prompt = a.prompt.clone().unwrap_or_default();
    if stdin_piped {
        let mut piped = String::new();
        crate::ambient::read_stdin_string(&mut piped).map_err(|e| CliError::io("stdin", e))?;
        let piped = piped.trim_end();
        if !piped.is_empty() {
            prompt = if prompt.is_empty() {
                piped.to_owned()
            } else {
                format!("{prompt}\n\n{piped}")
            };
        }
    }
    if prompt.trim().is_empty() {
        return Err(CliError::usage("the prompt is empty"));
    }
    Ok(prompt)
}

/// Sends one prompt and prints the reply; with `--pay-with`, settles the payment.
fn one_shot(
    ctx: &Ctx,
    rt: &tokio::runtime::Runtime,
    session: &Session,
    a: &ChatArgs,
    conv: &Conversation,
    mut payment: Option<Payment>,
) -> CliResult {
    let settled = payment.as_ref().map(Payment::settled_flag);
    let so_far = SoFar::default();
    let reply = rt.block_on(async {
        let r = crate::routstr::paid_with_ctrl_c(
            &ctx.out,
            settled,
            send(ctx, session, a, conv, payment.as_mut(), &so_far),
        )
        .await;
        if matches!(r, Err(CliError::Interrupted)) {
            // The JSON modes print what arrived before the interruption.
            so_far.print_failure(ctx, a, &CliError::Interrupted)?;
        }
        r
    });
    if let (Some(p), Err(e)) = (&payment, &reply) {
        // The chat's own failure record already carries the change when it was printed.
        p.report_failure(ctx, e, &session.profile_name, !so_far.printed.get())?;
    }
    reply?;
    match &payment {
        Some(p) => p.finish(),
        None => Ok(()),
    }
}

/// The conversation so far.
struct Conversation {
    model: String,
    system: Option<String>,
    messages: Vec<Message>,
}

impl Conversation {
    fn request(&self, a: &ChatArgs) -> ChatCompletionRequest {
        let mut messages = Vec::new();
        if let Some(s) = &self.system {
            messages.push(Message::system(s.clone()));
        }
        messages.extend(self.messages.iter().cloned());
        let mut r = ChatCompletionRequest::new(self.model.clone(), messages);
        if let Some(m) = a.max_tokens {
            r = r.max_tokens(m);
        }
        if let Some(t) = a.temperature {
            r = r.temperature(t);
        }
        r
    }
}

/// Builds a system prompt from a character's definition.
async fn character_prompt(s: &Session, id: i64) -> CliResult<String> {
    let req = s
        .client
        .projects()
        .get_public_by_id("characters", id)
        .full(true)
        .into_request()?;
    let v = s.json(req).await?;
    let node = v.get("node").unwrap_or(&v);
    let def = node.get("definition").unwrap_or(node);
    let get = |k: &str| -> Option<String> {
        def.get(k)
            .or_else(|| node.get(k))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
    };
    let name = get("name").unwrap_or_else(|| format!("character {id}"));
    let mut parts = Vec::new();
    if let Some(p) = get("system_prompt") {
        parts.push(p);
    }
    parts.push(format!("You are {name}. Stay in character."));
    for (label, key) in [
        ("Description", "description"),
        ("Personality", "personality"),
        ("Scenario", "scenario"),
        ("Example dialogue", "example_dialogs"),
    ] {
        if let Some(x) = get(key) {
            parts.push(format!("{label}: {x}"));
        }
    }
    if parts.len() == 1 && get("tagline").is_none() {
        return Err(CliError::NotFound(format!(
            "character {id} has no definition to chat with"
        )));
    }
    if let Some(t) = get("tagline") {
        parts.push(format!("Tagline: {t}"));
    }
    Ok(parts.join("\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_carry_system_and_history() {
        let a = ChatArgs {
            prompt: None,
            model: None,
            system: None,
            character: None,
            no_stream: false,
            stream_json: false,
            max_tokens: Some(5),
            temperature: None,
            repl: false,
            pay: PayArgs::default(),
        };
        let conv = Conversation {
            model: "m".into(),
            system: Some("be brief".into()),
            messages: vec![Message::user("hi"), Message::assistant("hello")],
        };
        let v = serde_json::to_value(conv.request(&a)).unwrap();
        assert_eq!(v["model"], "m");
        assert_eq!(v["messages"][0]["role"], "system");
        assert_eq!(v["messages"][2]["content"], "hello");
        assert_eq!(v["max_tokens"], 5);
    }
}
