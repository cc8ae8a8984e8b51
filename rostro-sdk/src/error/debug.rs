//! `Debug` for [`Error`]: `{:?}` reads like `Display`, so `fn main() -> rostro_sdk::Result<()>`
//! prints `Error: GET /search: could not connect to ...` instead of a struct dump; `{:#?}`
//! shows every field for a closer look.

use std::fmt;

use super::Error;

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !f.alternate() {
            return fmt::Display::fmt(self, f);
        }
        match self {
            Error::Api {
                operation,
                path,
                status,
                body,
                request_id,
                retry_after,
                headers,
            } => f
                .debug_struct("Api")
                .field("operation", operation)
                .field("path", path)
                .field("status", status)
                .field("body", body)
                .field("request_id", request_id)
                .field("retry_after", retry_after)
                .field("headers", headers)
                .finish(),
            Error::Decode {
                operation,
                path,
                message,
                snippet,
                response,
            } => f
                .debug_struct("Decode")
                .field("operation", operation)
                .field("path", path)
                .field("message", message)
                .field("snippet", snippet)
                .field("response", response)
                .finish(),
            Error::Timeout {
                operation,
                timeout,
                response,
            } => f
                .debug_struct("Timeout")
                .field("operation", operation)
                .field("timeout", timeout)
                .field("response", response)
                .finish(),
            Error::Connect {
                operation,
                url,
                message,
                source,
            } => f
                .debug_struct("Connect")
                .field("operation", operation)
                .field("url", &url.as_ref().map(|u| u.as_str()))
                .field("message", message)
                .field("source", source)
                .finish(),
            other => debug_rest(other, f),
        }
    }
}

/// The variants after `Connect` (kept apart so no function grows past a screen).
fn debug_rest(e: &Error, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match e {
        Error::Transport {
            operation,
            message,
            source,
            response,
        } => f
            .debug_struct("Transport")
            .field("operation", operation)
            .field("message", message)
            .field("source", source)
            .field("response", response)
            .finish(),
        Error::InvalidRequest { operation, message } => f
            .debug_struct("InvalidRequest")
            .field("operation", operation)
            .field("message", message)
            .finish(),
        Error::Stream {
            operation,
            message,
            body,
            partial,
            kind,
            response,
        } => f
            .debug_struct("Stream")
            .field("operation", operation)
            .field("message", message)
            .field("body", body)
            .field("partial", partial)
            .field("kind", kind)
            .field("response", response)
            .finish(),
        Error::Io {
            operation,
            path,
            source,
        } => f
            .debug_struct("Io")
            .field("operation", operation)
            .field("path", path)
            .field("source", source)
            .finish(),
        Error::Media { operation, source } => f
            .debug_struct("Media")
            .field("operation", operation)
            .field("source", source)
            .finish(),
        Error::Config { message } => f.debug_struct("Config").field("message", message).finish(),
        // Handled by the caller.
        Error::Api { .. }
        | Error::Decode { .. }
        | Error::Timeout { .. }
        | Error::Connect { .. } => fmt::Display::fmt(e, f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_reads_like_display_and_alternate_shows_the_fields() {
        let e = Error::InvalidRequest {
            operation: "paginate",
            message: "the cursor is empty".into(),
        };
        assert_eq!(format!("{e:?}"), e.to_string());
        assert_eq!(
            format!("{e:?}"),
            "paginate: invalid request: the cursor is empty"
        );
        let full = format!("{e:#?}");
        assert!(
            full.starts_with("InvalidRequest {") && full.contains("operation: \"paginate\""),
            "{full}"
        );
    }
}
