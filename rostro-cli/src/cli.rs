//! The command tree and the global options.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::cmd;
use crate::ctx::Ctx;
use crate::exit::{CliError, CliResult};

const ABOUT: &str = "Work with the Rostro API from the command line: characters, chat, lore, media \
     generation; and with Routstr nodes (OpenAI-compatible, paid with Cashu eCash).";

const EXAMPLES: &str = "Examples:
  rostro --mock imagine image \"a lighthouse at dusk\" --out lighthouse.png
  rostro auth login --with-token < key.txt
  rostro search dragons --tag fantasy --limit 5 --json
  echo 'summarise this' | rostro chat --model mobile
  rostro gallery upload --project 42 ./renders --manifest upload.ndjson
  rostro api GET /api/account --jq .username
  rostro --profile node chat -m gpt-4o-mini \"hi\" --pay-with @token.txt --change-out change.txt";

fn after_help() -> String {
    format!("{EXAMPLES}\n\n{}", crate::exit::exit_code_help())
}

/// `rostro`
#[derive(Debug, Parser)]
#[command(
    name = "rostro",
    version,
    about = ABOUT,
    after_help = after_help(),
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Global options.
    #[command(flatten)]
    pub global: Global,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted by every command.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// Configuration profile to use [env: ROSTRO_PROFILE]
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// API base URL (overrides the profile) [env: ROSTRO_BASE_URL]
    #[arg(long, global = true, value_name = "URL", value_parser = crate::util::base_url)]
    pub base_url: Option<String>,
    /// Machine-readable output: JSON, or NDJSON (one object per line) for lists and streams
    #[arg(long, global = true)]
    pub json: bool,
    /// Filter JSON output with a jq expression (implies --json); strings print raw
    #[arg(long, global = true, value_name = "EXPR")]
    pub jq: Option<String>,
    /// Trace HTTP requests on stderr (credentials redacted)
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Disable colours (also: NO_COLOR=1)
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Seconds to wait for a response to start, and for each next piece of a streamed reply
    /// (default 600; a positive number, values above a year count as a year). A stream that
    /// stalls longer fails with exit 7, keeping what arrived
    #[arg(
        long,
        global = true,
        value_name = "SECS",
        value_parser = parse_timeout,
        allow_negative_numbers = true
    )]
    pub timeout: Option<Duration>,
    /// Retries (default 2) of: connection errors; timeouts, broken connections and
    /// 408/409/429/5xx for GET/PUT/DELETE/HEAD; 429 and 503 with Retry-After for every
    /// method (waiting as asked). Other POST/PATCH failures only with --idempotent
    #[arg(long, global = true, value_name = "N")]
    pub retries: Option<u32>,
    /// Seconds to wait before the first retry (default 0.5; doubled for each next one up to
    /// 8 s, with jitter). A wait the server asks for (Retry-After) comes first
    #[arg(
        long,
        global = true,
        value_name = "SECS",
        value_parser = parse_timeout,
        allow_negative_numbers = true
    )]
    pub retry_delay: Option<Duration>,
    /// Send one Idempotency-Key with every POST/PATCH (the same on each attempt), so that
    /// they are also retried on timeouts, broken connections and 5xx
    #[arg(long, global = true)]
    pub idempotent: bool,
    /// Don't pace requests by the server's rate limit (X-RateLimit-*, a 429's Retry-After);
    /// each request then backs off on its own
    #[arg(long, global = true)]
    pub no_pacing: bool,
    /// Run against the reference mock server, started in-process (no key, no network)
    #[arg(long, global = true, conflicts_with = "base_url")]
    pub mock: bool,
}

/// The longest `--timeout`: larger values are capped here (and never overflow a deadline).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

/// Parses `--timeout SECS`: a positive, finite number of seconds, capped at [`MAX_TIMEOUT`].
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    let bad = || "the timeout must be a positive number of seconds, e.g. 30 or 2.5".to_owned();
    let secs: f64 = s.trim().parse().map_err(|_| bad())?;
    if !secs.is_finite() || secs <= 0.0 {
        return Err(bad());
    }
    // Below a nanosecond still means "a positive wait", not zero.
    Ok(capped_secs(secs).max(Duration::from_nanos(1)))
}

/// A number of seconds as a `Duration`, capped at [`MAX_TIMEOUT`] (so no deadline computed
/// from it can overflow); NaN and negative values give zero. Never panics, unlike
/// `Duration::from_secs_f64` above `u64::MAX` seconds.
pub fn capped_secs(secs: f64) -> Duration {
    if secs >= MAX_TIMEOUT.as_secs_f64() {
        MAX_TIMEOUT
    } else if secs > 0.0 {
        Duration::from_secs_f64(secs)
    } else {
        Duration::ZERO
    }
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in, log out, show the stored key
    #[command(subcommand)]
    Auth(cmd::auth::AuthCmd),
    /// Search characters (or lorebooks)
    Search(cmd::search::SearchArgs),
    /// Chat with a model: one prompt, or a REPL on a terminal
    Chat(cmd::chat::ChatArgs),
    /// Generate images, video, speech, music, sound effects and 3D models
    #[command(subcommand)]
    Imagine(cmd::imagine::ImagineCmd),
    /// Upload, list and delete gallery images
    #[command(subcommand)]
    Gallery(cmd::gallery::GalleryCmd),
    /// Lore items (RAG) and lorebooks
    #[command(subcommand)]
    Lore(cmd::lore::LoreCmd),
    /// Voices for speech
    #[command(subcommand)]
    Voices(cmd::voices::VoicesCmd),
    /// Transcribe speech to text
    Stt(cmd::stt::SttArgs),
    /// Engine assets (chunked upload for large files)
    #[command(subcommand)]
    Assets(cmd::assets::AssetsCmd),
    /// Characters: get, create, update, fork, favorite, delete, expressions
    #[command(subcommand)]
    Characters(cmd::characters::CharactersCmd),
    /// Personas
    #[command(subcommand)]
    Personas(cmd::personas::PersonasCmd),
    /// Saved chats: list, show, export
    #[command(subcommand)]
    Chats(cmd::chats::ChatsCmd),
    /// Your account and API tokens
    #[command(subcommand)]
    Account(cmd::account::AccountCmd),
    /// Follow users and tags; list followers
    #[command(subcommand)]
    Follow(cmd::follow::FollowCmd),
    /// List the models available for chat (on a Routstr profile: with prices in sats)
    Models(cmd::models::ModelsArgs),
    /// Routstr: the key's balance: create, top up, refund, history, child keys, invoices
    #[command(subcommand)]
    Wallet(cmd::wallet::WalletCmd),
    /// Make an authenticated API request (raw escape hatch), or call any operation by id
    Api(cmd::api::ApiArgs),
    /// Read and write the configuration
    #[command(subcommand)]
    Config(cmd::config::ConfigCmd),
    /// Print a shell completion script
    Completion(cmd::completion::CompletionArgs),
    /// Print the manual page (roff)
    Man(cmd::completion::ManArgs),
    /// The persistent sandbox behind --mock: where it is, reset it
    #[command(subcommand)]
    Mock(cmd::mock::MockCmd),
}

/// Runs the parsed command line (`injected`: the streams of an in-process run).
pub(crate) fn run(
    cli: Cli,
    injected: Option<std::sync::Arc<crate::ambient::Injected>>,
) -> CliResult {
    let jq = match &cli.global.jq {
        Some(expr) => Some(crate::jq::Jq::compile(expr).map_err(CliError::Usage)?),
        None => None,
    };
    // `chat --stream-json` prints NDJSON chunks: it implies --json (its help says so).
    let json = cli.global.json || matches!(&cli.command, Command::Chat(a) if a.stream_json);
    let out = crate::output::Output::new(json, jq, cli.global.no_color, injected);
    let ctx = Ctx::new(cli.global, out);
    match cli.command {
        Command::Auth(c) => cmd::auth::run(&ctx, c),
        Command::Search(a) => cmd::search::run(&ctx, a),
        Command::Chat(a) => cmd::chat::run(&ctx, a),
        Command::Imagine(c) => cmd::imagine::run(&ctx, c),
        Command::Gallery(c) => cmd::gallery::run(&ctx, c),
        Command::Lore(c) => cmd::lore::run(&ctx, c),
        Command::Voices(c) => cmd::voices::run(&ctx, c),
        Command::Stt(a) => cmd::stt::run(&ctx, a),
        Command::Assets(c) => cmd::assets::run(&ctx, c),
        Command::Characters(c) => cmd::characters::run(&ctx, c),
        Command::Personas(c) => cmd::personas::run(&ctx, c),
        Command::Chats(c) => cmd::chats::run(&ctx, c),
        Command::Account(c) => cmd::account::run(&ctx, c),
        Command::Follow(c) => cmd::follow::run(&ctx, c),
        Command::Models(a) => cmd::models::run(&ctx, a),
        Command::Wallet(c) => cmd::wallet::run(&ctx, c),
        Command::Api(a) => cmd::api::run(&ctx, a),
        Command::Mock(c) => cmd::mock::run(&ctx, c),
        Command::Config(c) => cmd::config::run(&ctx, c),
        Command::Completion(a) => cmd::completion::run_completion(&ctx, a),
        Command::Man(a) => cmd::completion::run_man(&ctx, a),
    }
}

/// Parses a command line (the program name first). Global options after `api call
/// OPERATION_ID` are moved in front and the line parsed again, so they work there as after
/// any other command.
pub fn parse_from(args: Vec<std::ffi::OsString>) -> Result<Cli, clap::Error> {
    let mut cmd = command();
    let cli = parse_with(&mut cmd, args.clone())?;
    let Command::Api(api) = &cli.command else {
        return Ok(cli);
    };
    let Some(rest) = api.call_rest() else {
        return Ok(cli);
    };
    let globals: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .cloned()
        .collect();
    let (lifted, kept) = cmd::api::lift_globals(&globals, rest);
    // `rest` is what clap took from the end of the line; anything else leaves it as it is.
    let Some(head_len) = args.len().checked_sub(rest.len()) else {
        return Ok(cli);
    };
    if lifted.is_empty()
        || args[head_len..].iter().ne(rest
            .iter()
            .map(std::ffi::OsString::from)
            .collect::<Vec<_>>()
            .iter())
    {
        return Ok(cli);
    }
    let mut again: Vec<std::ffi::OsString> = args[..1].to_vec();
    again.extend(lifted.into_iter().map(Into::into));
    again.extend(args[1..head_len].iter().cloned());
    again.extend(kept.into_iter().map(Into::into));
    parse_with(&mut cmd, again)
}

fn parse_with(cmd: &mut clap::Command, args: Vec<std::ffi::OsString>) -> Result<Cli, clap::Error> {
    let matches = cmd
        .try_get_matches_from_mut(args)
        .map_err(|e| negative_count(e, cmd))?;
    <Cli as clap::FromArgMatches>::from_arg_matches(&matches).map_err(|e| e.format(cmd))
}

/// The clap command: parsing, completions and man pages all use this one.
///
/// The global options are listed once, under `rostro --help`; each subcommand's help points
/// there instead of repeating them (as `gh` does). Clap copies a global option into every
/// subcommand unless the subcommand already has it, so each subcommand gets a hidden copy
/// first: still accepted anywhere on the line, not shown.
pub fn command() -> clap::Command {
    let cmd = <Cli as clap::CommandFactory>::command().mut_args(numbers_may_be_negative);
    let globals: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .cloned()
        .collect();
    cmd.mut_subcommands(|sub| hide_globals(sub, &globals))
}

/// A count or size given as a negative number says what is wanted, instead of the parser's
/// range of `0..=4294967295`.
fn negative_count(e: clap::Error, cmd: &mut clap::Command) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let text = |k| match e.get(k) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    let (Some(arg), Some(value)) = (
        text(ContextKind::InvalidArg),
        text(ContextKind::InvalidValue),
    ) else {
        return e;
    };
    // clap's unsigned parsers answer with their range (`-1 is not in 0..=4294967295`).
    let unsigned =
        e.kind() == ErrorKind::ValueValidation && e.to_string().contains(" is not in 0..=");
    if !unsigned || !value.starts_with('-') {
        return e;
    }
    clap::Error::raw(
        ErrorKind::ValueValidation,
        format!("invalid value '{value}' for '{arg}': it must be a positive whole number or 0"),
    )
    .format(cmd)
}

/// Clap reads `--flag -1` as two flags unless the flag allows negative numbers; every flag
/// that takes a number does, so a negative value reaches its parser and is answered there.
fn numbers_may_be_negative(a: clap::Arg) -> clap::Arg {
    if takes_a_number(&a) && !a.is_positional() && a.get_action().takes_values() {
        a.allow_negative_numbers(true)
    } else {
        a
    }
}

/// Whether an argument's value parser yields a number (or a duration).
fn takes_a_number(a: &clap::Arg) -> bool {
    use std::any::TypeId;
    let t = a.get_value_parser().type_id();
    [
        TypeId::of::<u8>(),
        TypeId::of::<u16>(),
        TypeId::of::<u32>(),
        TypeId::of::<u64>(),
        TypeId::of::<usize>(),
        TypeId::of::<i32>(),
        TypeId::of::<i64>(),
        TypeId::of::<f32>(),
        TypeId::of::<f64>(),
        TypeId::of::<Duration>(),
    ]
    .iter()
    .any(|id| t == *id)
}

/// Where a subcommand's help points for the options every command accepts.
pub const GLOBAL_OPTIONS_POINTER: &str = "Global options: see `rostro --help`";

fn hide_globals(sub: clap::Command, globals: &[clap::Arg]) -> clap::Command {
    let mut sub = sub.mut_args(numbers_may_be_negative);
    for a in globals {
        sub = sub.arg(a.clone().hide(true));
    }
    // clap's default layout, plus the pointer under the options.
    let template = format!(
        "{{before-help}}{{about-with-newline}}\n{{usage-heading}} {{usage}}\n\n{{all-args}}\n\n\
         {GLOBAL_OPTIONS_POINTER}{{after-help}}"
    );
    sub.help_template(template)
        .mut_subcommands(|s| hide_globals(s, globals))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_tree_is_valid() {
        super::command().debug_assert();
    }

    /// Every flag that takes a number answers `-1` with what it wants, never with clap's
    /// "unexpected argument '-1'" (which reads as if the flag took no value).
    #[test]
    fn negative_numbers_are_values_of_every_numeric_flag() {
        fn walk(cmd: &clap::Command, path: &mut Vec<String>, bad: &mut Vec<String>, n: &mut usize) {
            for a in cmd.get_arguments() {
                let Some(long) = a.get_long() else { continue };
                if a.is_positional() || !a.get_action().takes_values() || !takes_a_number(a) {
                    continue;
                }
                let mut argv: Vec<std::ffi::OsString> = vec!["rostro".into()];
                argv.extend(path.iter().map(Into::into));
                argv.push(format!("--{long}").into());
                argv.push("-1".into());
                if let Err(e) = parse_from(argv) {
                    let text = e.to_string();
                    if text.contains("unexpected argument '-1'") || text.contains("0..=") {
                        bad.push(format!("{} --{long}: {text}", path.join(" ")));
                    }
                }
                *n += 1;
            }
            for sub in cmd.get_subcommands() {
                path.push(sub.get_name().to_owned());
                walk(sub, path, bad, n);
                path.pop();
            }
        }
        let mut cmd = command();
        cmd.build();
        let (mut bad, mut n) = (Vec::new(), 0);
        walk(&cmd, &mut Vec::new(), &mut bad, &mut n);
        assert!(bad.is_empty(), "`-1` is not taken as a value of: {bad:#?}");
        assert!(n > 20, "only {n} numeric flags found");
    }

    #[test]
    fn timeouts_are_positive_and_capped() {
        assert_eq!(parse_timeout("2.5"), Ok(Duration::from_millis(2500)));
        assert_eq!(parse_timeout("1e19"), Ok(MAX_TIMEOUT));
        assert_eq!(parse_timeout("2e19"), Ok(MAX_TIMEOUT));
        assert_eq!(parse_timeout("1e-12"), Ok(Duration::from_nanos(1)));
        assert_eq!(capped_secs(f64::INFINITY), MAX_TIMEOUT);
        assert_eq!(capped_secs(f64::NAN), Duration::ZERO);
        assert_eq!(capped_secs(-3.0), Duration::ZERO);
        for bad in ["0", "-1", "-0", "inf", "-inf", "NaN", "", "ten"] {
            let e = parse_timeout(bad).unwrap_err();
            assert!(e.contains("positive number of seconds"), "{bad}: {e}");
        }
    }
}
