//! The streaming machinery shared by chat, completions and `/prompt`: our own SSE decoder
//! ([`SseDecoder`]), polled in the consumer's task (no spawned task, no channel), JSON
//! decoded straight from each event's data, `[DONE]` handling, how a stream ends, mid-stream
//! errors and the running accumulator that keeps the text received so far.
//!
//! Why our own decoder: `eventsource-stream` 0.2.3 panics on a body starting with a UTF-8 BOM
//! (it slices a `&str` inside the BOM) and copies its buffer after every line, which is
//! quadratic for one long event arriving in small writes (4 MiB in 16-byte writes took
//! seconds). The SSE grammar is small (WHATWG HTML, "server-sent events": BOM, CR/LF/CRLF
//! lines, comments, `data`/`event`/`id`/`retry`), so a decoder that touches every byte a
//! bounded number of times, never panics and caps the event size is less code than guarding
//! a crate that does not.

use std::collections::VecDeque;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use serde::de::DeserializeOwned;

use crate::client::Client;
use crate::error::{ApiErrorBody, Error, StreamErrorKind};

mod decoder;

pub use decoder::{SseDecoder, SseEvent};

/// The response body as a stream of byte chunks (boxed once per stream, never per chunk).
pub(crate) type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send + Sync>>;

/// A decoded event type that can tell an `{"error": ...}` event apart from a normal one.
pub(crate) trait SseChunk: DeserializeOwned {
    /// Whether the event carried a top-level `error` member.
    fn is_error(&self) -> bool;
}

/// Assembles decoded events; the stream keeps one so the text received so far is never lost.
pub(crate) trait Assemble<C>: Default {
    fn push(&mut self, chunk: &C);
    fn text(&self) -> String;
    fn discard_text(&mut self);
    /// Whether at least one choice was seen and every choice has a finish reason.
    fn all_finished(&self) -> bool;
}

/// How a stream ended (see [`ChatStream::end`](crate::chat::ChatStream::end)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StreamEnd {
    /// `data: [DONE]` arrived (with or without a blank line after it).
    Done,
    /// The body ended without `[DONE]` after every choice had a finish reason: complete, as
    /// OpenAI's own clients accept it.
    Finished,
    /// The stream returned an [`Error::Stream`] (or another error) and stopped.
    Failed,
}

/// Decodes one SSE response into `C` events, feeding every event to an `A` as it passes.
pub(crate) struct SseCore<C, A> {
    body: Option<ByteStream>,
    decoder: SseDecoder,
    /// Events cut out of one event whose data lines were each a whole event (see `step`).
    split: VecDeque<SseEvent>,
    idle: Option<(Duration, Pin<Box<tokio::time::Sleep>>)>,
    pub(crate) acc: A,
    operation: &'static str,
    client: Client,
    end: Option<StreamEnd>,
    /// Whether any byte of the body arrived (to tell an empty body apart).
    received: bool,
    _chunk: PhantomData<fn() -> C>,
}

/// What one event means for the stream.
enum Step<C> {
    Chunk(C),
    Done,
    Skip,
    Fail(Error),
}

impl<C: SseChunk, A: Assemble<C>> SseCore<C, A> {
    pub(crate) fn new(
        operation: &'static str,
        client: Client,
        body: ByteStream,
        idle_timeout: Option<Duration>,
        max_event_size: usize,
    ) -> Self {
        SseCore {
            body: Some(body),
            decoder: SseDecoder::new(max_event_size),
            split: VecDeque::new(),
            idle: idle_timeout.map(|d| {
                (
                    d,
                    Box::pin(tokio::time::sleep_until(crate::transport::deadline_after(
                        d,
                    ))),
                )
            }),
            acc: A::default(),
            operation,
            client,
            end: None,
            received: false,
            _chunk: PhantomData,
        }
    }

    /// How the stream ended; `None` while it can still yield events.
    pub(crate) fn end(&self) -> Option<StreamEnd> {
        self.end
    }

    /// Whether `[DONE]` was received.
    pub(crate) fn is_done(&self) -> bool {
        self.end == Some(StreamEnd::Done)
    }

    /// Whether the stream will yield nothing more.
    pub(crate) fn is_terminated(&self) -> bool {
        self.end.is_some()
    }

    pub(crate) fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<crate::Result<C>>> {
        if self.end.is_some() {
            return Poll::Ready(None);
        }
        loop {
            while let Some(item) = self.next_event() {
                let step = match item {
                    Ok(event) => self.step(&event),
                    Err(kind) => Step::Fail(self.decode_failure(kind)),
                };
                if let Some(ready) = self.apply(step, cx) {
                    return ready;
                }
            }
            let Some(body) = self.body.as_mut() else {
                return self.at_end();
            };
            match body.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(bytes))) => {
                    if let Some((after, sleep)) = &mut self.idle {
                        sleep
                            .as_mut()
                            .reset(crate::transport::deadline_after(*after));
                    }
                    self.received |= !bytes.is_empty();
                    self.decoder.push(&bytes);
                }
                Poll::Ready(Some(Err(e))) => {
                    let message = format!(
                        "the connection failed mid-stream: {}",
                        crate::transport::root_cause(&e)
                    );
                    let error = self.fail(message, None, StreamErrorKind::Connection);
                    return Poll::Ready(Some(Err(error)));
                }
                Poll::Ready(None) => {
                    self.body = None;
                    if let Some(event) = self.decoder.finish() {
                        let step = self.trailing_step(&event);
                        if let Some(ready) = self.apply(step, cx) {
                            return ready;
                        }
                    }
                }
                Poll::Pending => {
                    if let Some((after, sleep)) = &mut self.idle
                        && sleep.as_mut().poll(cx).is_ready()
                    {
                        let after = *after;
                        let message = format!("no data received for {after:?} (idle timeout)");
                        let error = self.fail(message, None, StreamErrorKind::Idle { after });
                        return Poll::Ready(Some(Err(error)));
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    fn next_event(&mut self) -> Option<Result<SseEvent, StreamErrorKind>> {
        match self.split.pop_front() {
            Some(event) => Some(Ok(event)),
            None => self.decoder.next_event(),
        }
    }

    /// Turns a step into what `poll_chunk` returns, `None` to keep reading.
    fn apply(
        &mut self,
        step: Step<C>,
        cx: &mut Context<'_>,
    ) -> Option<Poll<Option<crate::Result<C>>>> {
        match step {
            Step::Chunk(chunk) => {
                self.acc.push(&chunk);
                Some(Poll::Ready(Some(Ok(chunk))))
            }
            Step::Done => {
                self.finish_done(cx);
                Some(Poll::Ready(None))
            }
            Step::Skip => None,
            Step::Fail(error) => Some(Poll::Ready(Some(Err(error)))),
        }
    }

    /// The body ended and every event was handled.
    fn at_end(&mut self) -> Poll<Option<crate::Result<C>>> {
        if self.acc.all_finished() {
            self.end = Some(StreamEnd::Finished);
            return Poll::Ready(None);
        }
        let message = if !self.received {
            "the stream ended before any data arrived (empty body)".to_owned()
        } else {
            "the stream ended before `data: [DONE]`".to_owned()
        };
        Poll::Ready(Some(Err(self.fail(
            message,
            None,
            StreamErrorKind::Incomplete,
        ))))
    }

    fn step(&mut self, event: &SseEvent) -> Step<C> {
        let data = event.data.as_str();
        if data.trim_ascii() == "[DONE]" {
            return Step::Done;
        }
        match event.event.as_str() {
            "message" => {}
            "error" => return Step::Fail(self.fail_with_body(data)),
            // Named events other than `error` are not part of the OpenAI protocol.
            _ => return Step::Skip,
        }
        match serde_json::from_str::<C>(data) {
            Ok(chunk) if chunk.is_error() => Step::Fail(self.fail_with_body(data)),
            Ok(chunk) => Step::Chunk(chunk),
            // Events replayed with single `\n` separators (a Routstr node's X-Cashu path) read
            // as one event of several data lines. JSON has no raw line breaks, so when every
            // line is a whole event on its own, that is what was sent.
            Err(_) if data.contains('\n') && every_line_is_an_event::<C>(data) => {
                self.split.extend(data.split('\n').map(|line| SseEvent {
                    event: event.event.clone(),
                    data: line.to_owned(),
                    id: event.id.clone(),
                }));
                Step::Skip
            }
            Err(_) => {
                let message = decode_message::<C>(data);
                Step::Fail(self.fail(message, None, StreamErrorKind::Decode))
            }
        }
    }

    /// The event the body ended in, without a blank line after it: `[DONE]` or a whole
    /// chunk counts (a Routstr node ends its X-Cashu replay with `data: [DONE]\n`); data
    /// that does not decode was cut off.
    fn trailing_step(&mut self, event: &SseEvent) -> Step<C> {
        match self.step(event) {
            Step::Fail(Error::Stream {
                kind: StreamErrorKind::Decode,
                ..
            }) => {
                let message = format!(
                    "the stream ended inside an event, before `data: [DONE]` (data: {})",
                    crate::error::snippet(event.data.as_bytes())
                );
                Step::Fail(self.fail(message, None, StreamErrorKind::Incomplete))
            }
            step => step,
        }
    }

    /// An error from the decoder itself.
    fn decode_failure(&mut self, kind: StreamErrorKind) -> Error {
        let message = match &kind {
            StreamErrorKind::EventTooLarge { cap } => format!(
                "an event is larger than the {} limit (max_event_size)",
                FmtBytes(*cap)
            ),
            StreamErrorKind::InvalidUtf8 => "the event stream is not valid utf-8".to_owned(),
            other => format!("malformed event stream: {other:?}"),
        };
        self.fail(message, None, kind)
    }

    /// After `[DONE]`: read what the server already sent (normally the end of the body, so
    /// the connection goes back to the pool), then stop without waiting.
    fn finish_done(&mut self, cx: &mut Context<'_>) {
        if let Some(body) = self.body.as_mut() {
            while let Poll::Ready(Some(Ok(_))) = body.as_mut().poll_next(cx) {}
        }
        self.body = None;
        self.end = Some(StreamEnd::Done);
    }

    fn fail(
        &mut self,
        message: String,
        body: Option<ApiErrorBody>,
        kind: StreamErrorKind,
    ) -> Error {
        self.body = None;
        self.end = Some(StreamEnd::Failed);
        Error::Stream {
            operation: self.operation,
            message,
            body: body.map(Box::new),
            partial: self.acc.text(),
            kind,
            response: None,
        }
    }

    fn fail_with_body(&mut self, data: &str) -> Error {
        let secret = self.client.inner.api_key.as_ref().map(|k| k.expose());
        let data = crate::transport::scrub(data.as_bytes(), secret);
        let body = ApiErrorBody::parse(&data);
        let message = body.to_string();
        self.fail(message, Some(body), StreamErrorKind::ErrorEvent)
    }
}

/// Prints a byte count as `16 MiB`, `512 KiB` or `100 bytes`.
struct FmtBytes(usize);

impl std::fmt::Display for FmtBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const MIB: usize = 1 << 20;
        const KIB: usize = 1 << 10;
        match self.0 {
            n if n >= MIB && n % MIB == 0 => write!(f, "{} MiB", n / MIB),
            n if n >= KIB && n % KIB == 0 => write!(f, "{} KiB", n / KIB),
            n => write!(f, "{n} bytes"),
        }
    }
}

/// Whether each line of `data` is `[DONE]` or decodes as `C`.
fn every_line_is_an_event<C: DeserializeOwned>(data: &str) -> bool {
    data.split('\n')
        .all(|line| line.trim_ascii() == "[DONE]" || serde_json::from_str::<C>(line).is_ok())
}

/// Why `data` did not decode, with the JSON path (computed only on failure).
fn decode_message<C: DeserializeOwned>(data: &str) -> String {
    let mut de = serde_json::Deserializer::from_str(data);
    match serde_path_to_error::deserialize::<_, C>(&mut de) {
        Ok(_) => "could not decode an event".to_owned(),
        Err(e) => format!(
            "could not decode an event at `{}`: {} (data: {})",
            e.path(),
            e.inner(),
            crate::error::snippet(data.as_bytes())
        ),
    }
}

#[cfg(test)]
mod tests;
