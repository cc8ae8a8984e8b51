//! What went wrong in one attempt, and the error it becomes.

use std::borrow::Cow;
use std::time::Duration;

use crate::error::Error;
use crate::response::ResponseMeta;

/// Why one attempt failed.
pub(super) enum Failure {
    Connect(reqwest::Error),
    Timeout,
    Transport(reqwest::Error),
    Status {
        error: Error,
        retryable: bool,
        /// The server refused before processing (see [`crate::retry::is_rejection`]).
        rejected: bool,
        wait: Option<Duration>,
    },
    /// A 2xx response whose body could not be read (`Timeout` or `Transport` inside).
    Body(Box<Failure>, Box<ResponseMeta>),
}

impl Failure {
    pub(super) fn from_reqwest(e: reqwest::Error) -> Self {
        if e.is_connect() {
            Failure::Connect(e)
        } else if e.is_timeout() {
            Failure::Timeout
        } else {
            Failure::Transport(e)
        }
    }

    pub(super) fn server_wait(&self) -> Option<Duration> {
        match self {
            Failure::Status { wait, .. } => *wait,
            _ => None,
        }
    }

    /// What retrying after this failure costs from the client's retry budget.
    pub(super) fn retry_cost(&self) -> u32 {
        match self {
            Failure::Status { rejected: true, .. } => 0,
            Failure::Timeout => crate::pacing::TIMEOUT_RETRY_COST,
            Failure::Body(inner, _) => inner.retry_cost(),
            _ => crate::pacing::RETRY_COST,
        }
    }

    pub(super) fn reason(&self) -> Cow<'static, str> {
        match self {
            Failure::Connect(_) => "connect error".into(),
            Failure::Timeout => "timeout".into(),
            Failure::Transport(_) => "connection error".into(),
            Failure::Status { error, .. } => match error.status() {
                Some(s) => format!("status {}", s.as_u16()).into(),
                None => "status".into(),
            },
            Failure::Body(inner, _) => inner.reason(),
        }
    }

    pub(super) fn into_error(self, operation: &'static str, timeout: Duration) -> Error {
        match self {
            Failure::Connect(e) => Error::connect(operation, e),
            Failure::Timeout => Error::Timeout {
                operation,
                timeout,
                response: None,
            },
            Failure::Transport(e) => Error::Transport {
                operation,
                message: root_cause(&e),
                source: e.without_url(),
                response: None,
            },
            Failure::Status { error, .. } => error,
            Failure::Body(inner, meta) => inner.into_error(operation, timeout).with_response(&meta),
        }
    }
}

/// A failure reading a response body after the send path handed it over (a download): the
/// error the send path makes of the same failure.
pub(crate) fn body_error(operation: &'static str, e: reqwest::Error, timeout: Duration) -> Error {
    Failure::from_reqwest(e).into_error(operation, timeout)
}

/// The innermost error message (e.g. `Connection refused (os error 111)`).
pub(crate) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}
