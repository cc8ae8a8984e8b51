//! How an [`Error`] reads: the pieces of its `Display`, and a `Debug` that reads the same.

use std::fmt::{self, Write as _};
use std::path::PathBuf;
use std::time::Duration;

use reqwest::StatusCode;

use super::ApiErrorBody;

pub(super) fn api_display<'a>(
    status: &StatusCode,
    body: &'a ApiErrorBody,
    retry_after: &Option<Duration>,
) -> ApiDisplay<'a> {
    ApiDisplay {
        status: *status,
        body,
        retry_after: *retry_after,
    }
}

pub(super) struct ApiDisplay<'a> {
    status: StatusCode,
    body: &'a ApiErrorBody,
    retry_after: Option<Duration>,
}

impl fmt::Display for ApiDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.status.as_u16())?;
        if let Some(reason) = self.status.canonical_reason() {
            f.write_char(' ')?;
            for c in reason.chars() {
                f.write_char(c.to_ascii_lowercase())?;
            }
        }
        write!(f, ": {}", self.body)?;
        if let Some(wait) = self.retry_after {
            write!(f, " (retry after {})", FmtDuration(&wait))?;
        }
        Ok(())
    }
}

/// Prints `3600s`, `1.5s` or `250ms`.
pub(super) struct FmtDuration<'a>(pub &'a Duration);

impl fmt::Display for FmtDuration<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = *self.0;
        if d < Duration::from_secs(1) {
            write!(f, "{}ms", d.as_millis())
        } else if d.subsec_millis() == 0 {
            write!(f, "{}s", d.as_secs())
        } else {
            write!(f, "{:.1}s", d.as_secs_f64())
        }
    }
}

pub(super) struct FmtPath<'a>(pub &'a Option<PathBuf>);

impl fmt::Display for FmtPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(p) => write!(f, " on `{}`", p.display()),
            None => Ok(()),
        }
    }
}

/// How an error names its call: `METHOD /path` for an operation of the API, else the
/// hand-written step's name (`paginate`, `download_media`).
pub(super) struct OpLabel(pub &'static str);

impl fmt::Display for OpLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match crate::OperationId::from_spec_id(self.0) {
            Some(op) => {
                let o = op.operation();
                write!(f, "{} {}", o.method.as_str(), o.path)
            }
            None => f.write_str(self.0),
        }
    }
}

/// How an API error names its request: `METHOD /path` with the path as sent
/// (`GET /api/public/characters/999`), else as [`OpLabel`] does.
pub(super) struct RequestLabel<'a>(pub &'static str, pub &'a Option<String>);

impl fmt::Display for RequestLabel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (crate::OperationId::from_spec_id(self.0), self.1) {
            (Some(op), Some(path)) => write!(f, "{} {path}", op.operation().method.as_str()),
            _ => OpLabel(self.0).fmt(f),
        }
    }
}

/// What an [`Error::Connect`] says after its request: the URL it tried and the cause, read
/// as a sentence (`could not connect to http://127.0.0.1:9/search: connection refused`); a
/// failed DNS lookup names the host.
pub(super) struct ConnectTarget<'a>(pub &'a Option<Box<url::Url>>, pub &'a String);

impl fmt::Display for ConnectTarget<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ConnectTarget(url, message) = *self;
        f.write_str("could not connect")?;
        if let Some(url) = url {
            write!(f, " to {url}")?;
        }
        let host = url.as_ref().and_then(|u| u.host_str());
        match host {
            Some(host) if is_dns_failure(message) => {
                write!(f, ": host `{host}` not found ({message})")
            }
            _ => write!(f, ": {}", tidy_cause(message)),
        }
    }
}

/// Whether a connection's root cause is a failed name lookup (the system resolver's
/// wording, or hyper's `dns error` wrapper).
fn is_dns_failure(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("lookup address") || m.starts_with("dns error") || m.contains("name or service")
}

/// An OS error as part of a sentence: `Connection refused (os error 111)` reads
/// `connection refused` (the number adds nothing for a reader).
fn tidy_cause(message: &str) -> String {
    let text = match message.rfind(" (os error ") {
        Some(i) if message.ends_with(')') => &message[..i],
        _ => message,
    };
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        // `Connection refused` -> `connection refused`; an acronym (`TLS ...`) stays.
        (Some(first), Some(second)) if first.is_uppercase() && second.is_lowercase() => {
            let mut out = String::with_capacity(text.len());
            out.extend(first.to_lowercase());
            out.push_str(&text[first.len_utf8()..]);
            out
        }
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_connection_names_the_url_and_reads_as_a_sentence() {
        let url = Some(Box::new(
            url::Url::parse("http://127.0.0.1:9/search").unwrap(),
        ));
        let text = ConnectTarget(&url, &"Connection refused (os error 111)".into()).to_string();
        assert_eq!(
            text,
            "could not connect to http://127.0.0.1:9/search: connection refused"
        );
    }

    #[test]
    fn a_failed_lookup_names_the_host() {
        let url = Some(Box::new(
            url::Url::parse("https://nosuch.invalid/api/account").unwrap(),
        ));
        let cause = "failed to lookup address information: Name or service not known".to_owned();
        let text = ConnectTarget(&url, &cause).to_string();
        assert!(text.contains("host `nosuch.invalid` not found"), "{text}");
        assert!(
            text.contains("https://nosuch.invalid/api/account"),
            "{text}"
        );
        assert_eq!(
            ConnectTarget(&None, &cause).to_string(),
            format!("could not connect: {cause}")
        );
    }

    #[test]
    fn causes_keep_their_acronyms() {
        assert_eq!(tidy_cause("TLS handshake failed"), "TLS handshake failed");
        assert_eq!(
            tidy_cause("Connection reset by peer (os error 104)"),
            "connection reset by peer"
        );
        assert_eq!(tidy_cause(""), "");
    }
}
