//! `-v`: an HTTP trace on stderr, from the SDK's `rostro.request` spans, so it shows every
//! request the SDK sends (API calls, polls, downloads, upload parts) and each retry:
//!
//! ```text
//! > GET https://api.example/search?first=2 [Authorization: Bearer ***]
//! < 200 OK (GET search, attempt 1, 12 ms)
//! ```
//!
//! A `>` line per attempt, a `<` line when the request ends, a `*` line per SDK event
//! (a retry and its reason). Only span and event fields are printed, and the SDK puts no
//! secret in them: credential headers appear by name, signed URLs without their query.

use std::fmt::Write as _;
use std::sync::Once;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// Installs the trace subscriber (once).
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let subscriber = tracing_subscriber::registry().with(HttpTrace.with_filter(
            tracing_subscriber::filter::filter_fn(|m| m.target().starts_with("rostro_sdk")),
        ));
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}

#[derive(Default, Debug)]
struct Fields {
    operation: String,
    method: String,
    url: String,
    credentials: String,
    /// The last attempt a `>` line was printed for.
    shown_attempt: u64,
    status: Option<u64>,
    attempt: Option<u64>,
    duration_ms: Option<u64>,
    other: String,
}

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "status" => self.status = Some(value),
            "attempt" => self.attempt = Some(value),
            "duration_ms" => self.duration_ms = Some(value),
            name => {
                let _ = write!(self.other, " {name}={value}");
            }
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if value >= 0 {
            self.record_u64(field, value as u64);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "operation" => self.operation = value.to_owned(),
            "method" => self.method = value.to_owned(),
            "url" => self.url = value.to_owned(),
            "credentials" => self.credentials = value.to_owned(),
            "path" => {}
            name => {
                let _ = write!(self.other, " {name}={value}");
            }
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => {
                let _ = write!(self.other, " {value:?}");
            }
            name => {
                let _ = write!(self.other, " {name}={value:?}");
            }
        }
    }
}

struct HttpTrace;

impl<S> Layer<S> for HttpTrace
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != "rostro.request" {
            return;
        }
        let mut f = Fields::default();
        attrs.record(&mut f);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(f);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        let Some(f) = ext.get_mut::<Fields>() else {
            return;
        };
        values.record(f);
        // The SDK records `attempt` as each attempt starts: one request line per attempt.
        let attempt = f.attempt.unwrap_or(0);
        if attempt > f.shown_attempt {
            f.shown_attempt = attempt;
            emit(&request_line(f, attempt));
        }
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut f = Fields::default();
        event.record(&mut f);
        let line = format!(
            "* {}{}",
            if f.operation.is_empty() {
                String::new()
            } else {
                format!("{}:", f.operation)
            },
            f.other
        );
        emit(&line);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let ext = span.extensions();
        let Some(f) = ext.get::<Fields>() else { return };
        let status = match f.status {
            Some(s) => {
                let reason = reqwest::StatusCode::from_u16(s as u16)
                    .ok()
                    .and_then(|c| c.canonical_reason())
                    .unwrap_or("");
                format!("{s} {reason}")
            }
            None => "no response".to_owned(),
        };
        emit(&format!(
            "< {status} ({} {}, attempt {}, {} ms)",
            f.method,
            f.operation,
            f.attempt.unwrap_or(1),
            f.duration_ms.unwrap_or(0)
        ));
    }
}

/// `> METHOD url [credentials]`, marking retries.
fn request_line(f: &Fields, attempt: u64) -> String {
    let mut line = format!("> {} {}", f.method, f.url);
    if !f.credentials.is_empty() {
        let _ = write!(line, " {}", f.credentials);
    }
    if attempt > 1 {
        let _ = write!(line, " (retry {})", attempt - 1);
    }
    line
}

fn emit(line: &str) {
    crate::ambient::trace_line(line.trim_end());
}
