//! Errors and exit codes: the one place where a failure becomes a process exit status.

use std::fmt;

/// The exit codes of `rostro`, in the order they are documented (README and `rostro --help`).
pub const EXIT_CODES: &[(u8, &str)] = &[
    (0, "success"),
    (
        1,
        "error (anything not listed below; also some files of a batch upload failed)",
    ),
    (
        2,
        "usage error (bad flags or arguments, a prompt needed but no terminal)",
    ),
    (
        3,
        "authentication failed (HTTP 401/403, no credentials where they are required, or a \
         Routstr node rejected a Cashu token as spent or invalid)",
    ),
    (
        4,
        "not found (HTTP 404; Routstr: `wallet refund --token` for a token the node has no \
         balance for; `gallery upload`: nothing to upload, e.g. an empty directory)",
    ),
    (5, "rate limited (HTTP 429 after the retries)"),
    (6, "a generation failed (imagine)"),
    (
        7,
        "timed out (--timeout: no response, or a stream stalled; or --wait-timeout while \
         waiting)",
    ),
    (
        8,
        "payment required (HTTP 402; Routstr: balance too low, below the model's minimum, or \
         balance limit reached)",
    ),
    (
        PANIC_EXIT_CODE,
        "internal error: rostro crashed (a bug; the message says where to report it)",
    ),
    (130, "interrupted (Ctrl-C)"),
];

/// The exit code after a panic (a bug): the same code Rust gives an unwound `main`, so
/// wrappers that already know it see no change.
pub const PANIC_EXIT_CODE: u8 = 101;

/// The exit-code table as text for `rostro --help`.
pub fn exit_code_help() -> String {
    let mut s = String::from("Exit codes:\n");
    for (code, what) in EXIT_CODES {
        s.push_str(&format!("  {code:>3}  {what}\n"));
    }
    s.push_str(
        "\nEnvironment: ROSTRO_API_KEY, ROSTRO_PROFILE, ROSTRO_BASE_URL, ROSTRO_MIMIC_BASE_URL, \
         NO_COLOR, XDG_CONFIG_HOME.",
    );
    s
}

/// Every way a command can fail.
#[derive(Debug)]
pub enum CliError {
    /// An SDK call failed; the exit code follows the error kind and HTTP status.
    Sdk(rostro_sdk::Error),
    /// A call to a Routstr node failed; the exit code also follows the node's error kind
    /// (payment problems exit 8, rejected tokens and keys 3).
    Routstr(rostro_sdk::Error),
    /// Wrong usage detected after parsing (exit 2).
    Usage(String),
    /// Missing or rejected credentials (exit 3).
    Auth(String),
    /// Something looked up locally was not found (exit 4).
    NotFound(String),
    /// A wait ran out (exit 7).
    Timeout(String),
    /// Ctrl-C (exit 130). The message, if any, was already printed.
    Interrupted,
    /// stdout was closed by the reader: stop quietly with status 0.
    BrokenPipe,
    /// A batch finished with some failures (exit 1); the summary was already printed.
    Partial(String),
    /// Anything else (exit 1).
    Other(String),
}

impl CliError {
    /// A generic error with a message.
    pub fn msg(m: impl Into<String>) -> Self {
        CliError::Other(m.into())
    }

    /// A usage error.
    pub fn usage(m: impl Into<String>) -> Self {
        CliError::Usage(m.into())
    }

    /// An I/O error on a named file.
    pub fn io(context: impl fmt::Display, e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return CliError::BrokenPipe;
        }
        CliError::Other(format!("{context}: {e}"))
    }

    /// The process exit code for this error.
    pub fn code(&self) -> u8 {
        match self {
            CliError::Sdk(e) => sdk_code(e),
            CliError::Routstr(e) => routstr_code(e),
            CliError::Usage(_) => 2,
            CliError::Auth(_) => 3,
            CliError::NotFound(_) => 4,
            CliError::Timeout(_) => 7,
            CliError::Interrupted => 130,
            CliError::BrokenPipe => 0,
            CliError::Partial(_) | CliError::Other(_) => 1,
        }
    }

    /// Whether the error should be printed (Ctrl-C and broken pipes are silent).
    pub fn is_silent(&self) -> bool {
        matches!(
            self,
            CliError::BrokenPipe | CliError::Interrupted | CliError::Partial(_)
        )
    }

    /// A hint printed under the error message.
    pub fn hint(&self) -> Option<String> {
        match self {
            CliError::Sdk(e) => sdk_hint(e).map(str::to_owned),
            CliError::Routstr(e) => routstr_hint(e).or_else(|| sdk_hint(e).map(str::to_owned)),
            CliError::Auth(_) => Some(
                "run `rostro auth login` (Routstr: `rostro wallet create --token TOKEN`), or set \
                 ROSTRO_API_KEY"
                    .to_owned(),
            ),
            _ => None,
        }
    }
}

fn sdk_hint(e: &rostro_sdk::Error) -> Option<&'static str> {
    match e.status().map(|s| s.as_u16()) {
        Some(401) => Some("check your key: `rostro auth status`, or log in again"),
        Some(402) => Some("payment required"),
        Some(403) => Some("the key is valid but not allowed to do this"),
        Some(404) => Some(
            "nothing has that id or path: check it, or find it with `rostro search` (ids and \
             paths are in `--json` output)",
        ),
        Some(429) => Some(
            "rate limited: wait and try again, or raise --retries (a 429 is retried for every \
             method, waiting as long as the server asks up to 60 s)",
        ),
        Some(500..=599) => Some(
            "the server failed: GET/PUT/DELETE are retried (--retries); POST/PATCH only with \
             --idempotent, or on a 503 with Retry-After",
        ),
        _ if is_stream_stall(e) => {
            Some("the stream stalled: raise --timeout to wait longer between its pieces")
        }
        _ if e.is_timeout() => Some(
            "raise --timeout for slow operations (a timed-out GET/PUT/DELETE is retried, up to \
             --retries; a POST/PATCH only with --idempotent)",
        ),
        _ if matches!(e, rostro_sdk::Error::Connect { .. }) => Some(
            "the server could not be reached: check --base-url (`rostro config get base_url` \
             shows the one in effect) and your network, or try the sandbox with --mock",
        ),
        _ if matches!(e, rostro_sdk::Error::Io { source, .. }
            if source.kind() == std::io::ErrorKind::AlreadyExists) =>
        {
            Some("add --force to replace it, or give another --out")
        }
        _ if matches!(e, rostro_sdk::Error::Transport { .. }) => Some(
            "the connection broke: GET/PUT/DELETE are retried (--retries); POST/PATCH only with \
             --idempotent",
        ),
        _ => None,
    }
}

/// Whether a streamed reply stopped because nothing arrived within its idle timeout: an
/// `Error::Stream` that the SDK counts as a timeout, or (SDKs that do not type the cause)
/// carries the idle timer's message.
pub fn is_stream_stall(e: &rostro_sdk::Error) -> bool {
    match e {
        rostro_sdk::Error::Stream { message, .. } => {
            e.is_timeout() || message.starts_with("no data received")
        }
        _ => false,
    }
}

/// The hint for a Routstr node's error kind.
fn routstr_hint(e: &rostro_sdk::Error) -> Option<String> {
    use rostro_sdk::routstr::{RoutstrErrorExt, RoutstrErrorKind as K};
    Some(match e.routstr_kind()? {
        K::InsufficientBalance => "the key's balance is too low: top it up with `rostro wallet \
             topup --token TOKEN` (or `rostro wallet invoice --purpose topup`), or pay with \
             --pay-with TOKEN"
            .to_owned(),
        K::MinimumBalanceRequired {
            amount_required,
            model,
        } => {
            let need = match amount_required {
                Some(m) => format!(" ({})", crate::routstr::fmt_msats(m)),
                None => String::new(),
            };
            let model = model.map(|m| format!(" for {m}")).unwrap_or_default();
            format!(
                "the node wants at least the model's maximum cost{need}{model} up front: use a \
                 bigger token or top up; see the MAX column of `rostro models`"
            )
        }
        K::BalanceLimitExceeded => {
            "this (child) key reached its balance limit; use another key".to_owned()
        }
        K::MissingApiKey | K::InvalidApiKey => "create a key with `rostro wallet create --token \
             TOKEN`, store one with `rostro auth login --with-token`, or pay per request with \
             --pay-with TOKEN"
            .to_owned(),
        K::KeyExpired => "the key is past its validity date: refund it (`rostro wallet refund`) \
             and create a new one"
            .to_owned(),
        K::TokenAlreadySpent => "this Cashu token was already redeemed; use a fresh one".to_owned(),
        K::InvalidToken => "the node could not use this Cashu token (wrong mint or unit?); \
             check the mints in the node's /v1/info"
            .to_owned(),
        K::MintError | K::MintUnreachable => {
            "the node could not redeem the token with its mint; the token was not spent, try \
             again later"
                .to_owned()
        }
        K::RefundPending => "a refund is in progress; try again in a moment".to_owned(),
        K::BalanceConflict => "the balance changed meanwhile; try again".to_owned(),
        K::InvalidModel => "list the node's models with `rostro models`".to_owned(),
        _ => return None,
    })
}

/// The exit code of a Routstr node's error: payment problems 8, rejected keys and tokens 3,
/// else as [`sdk_code`].
pub fn routstr_code(e: &rostro_sdk::Error) -> u8 {
    use rostro_sdk::routstr::{RoutstrErrorExt, RoutstrErrorKind as K};
    match e.routstr_kind() {
        Some(k) if k.needs_funds() => 8,
        Some(
            K::MissingApiKey
            | K::InvalidApiKey
            | K::KeyExpired
            | K::TokenAlreadySpent
            | K::InvalidToken,
        ) => 3,
        _ => sdk_code(e),
    }
}

/// The exit code of an SDK error.
pub fn sdk_code(e: &rostro_sdk::Error) -> u8 {
    use rostro_sdk::Error as E;
    match e {
        E::Api { status, .. } => match status.as_u16() {
            401 | 403 => 3,
            402 => 8,
            404 => 4,
            429 => 5,
            408 | 504 => 7,
            _ => 1,
        },
        E::Timeout { .. } => 7,
        _ if is_stream_stall(e) => 7,
        E::InvalidRequest { .. } => 2,
        E::Media { source, .. } => match **source {
            rostro_sdk::media::MediaError::GenerationFailed { .. } => 6,
            rostro_sdk::media::MediaError::WaitTimedOut { .. } => 7,
            _ => 1,
        },
        E::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe => 0,
        _ => 1,
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Sdk(e) | CliError::Routstr(e) => write!(f, "{e}"),
            CliError::Usage(m)
            | CliError::Auth(m)
            | CliError::NotFound(m)
            | CliError::Timeout(m)
            | CliError::Partial(m)
            | CliError::Other(m) => f.write_str(m),
            CliError::Interrupted => f.write_str("interrupted"),
            CliError::BrokenPipe => f.write_str("broken pipe"),
        }
    }
}

impl std::error::Error for CliError {}

impl From<rostro_sdk::Error> for CliError {
    fn from(e: rostro_sdk::Error) -> Self {
        CliError::Sdk(e)
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            CliError::BrokenPipe
        } else {
            CliError::Other(e.to_string())
        }
    }
}

impl From<serde_json::Error> for CliError {
    fn from(e: serde_json::Error) -> Self {
        if e.io_error_kind() == Some(std::io::ErrorKind::BrokenPipe) {
            CliError::BrokenPipe
        } else {
            CliError::Other(format!("json: {e}"))
        }
    }
}

/// `Result` of a command.
pub type CliResult<T = ()> = Result<T, CliError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        let codes: Vec<u8> = EXIT_CODES.iter().map(|c| c.0).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted);
    }

    #[test]
    fn codes_of_local_errors() {
        assert_eq!(CliError::usage("x").code(), 2);
        assert_eq!(CliError::Auth("x".into()).code(), 3);
        assert_eq!(CliError::NotFound("x".into()).code(), 4);
        assert_eq!(CliError::Timeout("x".into()).code(), 7);
        assert_eq!(CliError::Interrupted.code(), 130);
        assert_eq!(CliError::BrokenPipe.code(), 0);
        for (code, _) in EXIT_CODES {
            assert!(exit_code_help().contains(&format!("{code:>3}  ")));
        }
    }

    #[test]
    fn readme_documents_every_code() {
        let readme = include_str!("../../README.md");
        let rows: Vec<u8> = readme
            .lines()
            .filter_map(|l| l.strip_prefix("| "))
            .filter_map(|l| l.split(' ').next()?.parse().ok())
            .collect();
        let codes: Vec<u8> = EXIT_CODES.iter().map(|c| c.0).collect();
        assert_eq!(
            rows, codes,
            "README's exit-code table and EXIT_CODES differ"
        );
    }
}
