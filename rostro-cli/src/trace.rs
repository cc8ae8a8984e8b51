//! `-v`: an HTTP trace on stderr. The request line is printed by
//! [`Session::trace_request`](crate::ctx::Session::trace_request); this subscriber adds the
//! outcome of each `rostro.request` span of the SDK (status, attempts, duration) and the
//! SDK's retry events. Only span fields are printed: headers and bodies (and so credentials)
//! never are.

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
        if let Some(span) = ctx.span(id)
            && let Some(f) = span.extensions_mut().get_mut::<Fields>()
        {
            values.record(f);
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

fn emit(line: &str) {
    crate::ambient::trace_line(line.trim_end());
}
