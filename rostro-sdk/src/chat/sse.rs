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

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SseEvent {
    /// The event type (`event:` field), `message` when the server sent none.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last event id seen (`id:` field) when this event was dispatched.
    pub id: Option<String>,
}

const BOM: &[u8; 3] = b"\xEF\xBB\xBF";

/// An incremental server-sent events decoder: feed it the body in chunks of any size with
/// [`push`](Self::push), take events with [`next_event`](Self::next_event), and call
/// [`finish`](Self::finish) at the end of the body.
///
/// Follows the WHATWG grammar: a leading UTF-8 BOM is skipped; lines end with CR, LF or
/// CRLF (also split across chunks); `:` lines are comments; `data`, `event`, `id` and `retry`
/// are the fields (others are ignored); a blank line dispatches the event, and an event
/// without data is not dispatched. Time is linear in the bytes pushed whatever the chunk
/// sizes. An event whose size (its data plus the line being read) would exceed the cap gives
/// [`StreamErrorKind::EventTooLarge`]; bytes that are not UTF-8 give
/// [`StreamErrorKind::InvalidUtf8`]. After an error the decoder ignores further input.
///
/// ```
/// use rostro_sdk::chat::SseDecoder;
///
/// let mut decoder = SseDecoder::new(1 << 20);
/// decoder.push(b"\xEF\xBB\xBFdata: hel");
/// decoder.push(b"lo\r\n\r\n: keep-alive\n\ndata: [DONE]\n");
/// let event = decoder.next_event().unwrap().unwrap();
/// assert_eq!((event.event.as_str(), event.data.as_str()), ("message", "hello"));
/// assert!(decoder.next_event().is_none());
/// // The last event had no blank line after it: `finish` returns it.
/// assert_eq!(decoder.finish().unwrap().data, "[DONE]");
/// ```
#[derive(Debug)]
pub struct SseDecoder {
    cap: usize,
    /// How many bytes of a leading BOM were matched; `None` once decided.
    bom: Option<usize>,
    /// The previous chunk ended with CR: a LF starting the next one belongs to it.
    skip_lf: bool,
    line: Vec<u8>,
    data: Vec<u8>,
    event: Vec<u8>,
    last_id: Option<String>,
    retry: Option<Duration>,
    queue: VecDeque<SseEvent>,
    error: Option<StreamErrorKind>,
    failed: bool,
}

impl SseDecoder {
    /// A decoder refusing events larger than `max_event_size` bytes.
    pub fn new(max_event_size: usize) -> Self {
        SseDecoder {
            cap: max_event_size,
            bom: Some(0),
            skip_lf: false,
            line: Vec::new(),
            data: Vec::new(),
            event: Vec::new(),
            last_id: None,
            retry: None,
            queue: VecDeque::new(),
            error: None,
            failed: false,
        }
    }

    /// The reconnection time from the last valid `retry:` field.
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }

    /// Feeds the next bytes of the body.
    pub fn push(&mut self, mut bytes: &[u8]) {
        if self.failed {
            return;
        }
        while let Some(matched) = self.bom {
            let Some(&b) = bytes.first() else { return };
            if b == BOM[matched] {
                bytes = &bytes[1..];
                self.bom = (matched + 1 < BOM.len()).then_some(matched + 1);
            } else {
                // Not a BOM after all: the bytes matched so far are content.
                self.bom = None;
                self.feed(&BOM[..matched]);
            }
        }
        self.feed(bytes);
    }

    /// The next decoded event, or the error that stopped decoding (once, after the events
    /// before it). `None` when more input is needed.
    pub fn next_event(&mut self) -> Option<Result<SseEvent, StreamErrorKind>> {
        if let Some(event) = self.queue.pop_front() {
            return Some(Ok(event));
        }
        self.error.take().map(Err)
    }

    /// Ends the input. Returns the event that was still open (data lines received, then the
    /// body ended without a blank line), which the spec drops; the caller decides. Take the
    /// queued events with [`next_event`](Self::next_event) first.
    pub fn finish(&mut self) -> Option<SseEvent> {
        if let Some(matched) = self.bom.take() {
            self.feed(&BOM[..matched]);
        }
        if !self.line.is_empty() && !self.failed {
            self.line_done();
        }
        if self.failed || self.data.is_empty() {
            return None;
        }
        self.dispatch();
        self.queue.pop_back()
    }

    fn feed(&mut self, mut bytes: &[u8]) {
        if self.skip_lf && !bytes.is_empty() {
            self.skip_lf = false;
            if bytes[0] == b'\n' {
                bytes = &bytes[1..];
            }
        }
        while !bytes.is_empty() && !self.failed {
            let end = bytes.iter().position(|&b| b == b'\n' || b == b'\r');
            let take = end.unwrap_or(bytes.len());
            if self.line.len() + self.data.len() + take > self.cap {
                self.fail(StreamErrorKind::EventTooLarge { cap: self.cap });
                return;
            }
            self.line.extend_from_slice(&bytes[..take]);
            let Some(end) = end else { return };
            let cr = bytes[end] == b'\r';
            bytes = &bytes[end + 1..];
            if cr {
                match bytes.first() {
                    Some(b'\n') => bytes = &bytes[1..],
                    Some(_) => {}
                    None => self.skip_lf = true,
                }
            }
            self.line_done();
        }
    }

    fn fail(&mut self, kind: StreamErrorKind) {
        self.failed = true;
        self.error = Some(kind);
        self.line = Vec::new();
        self.data = Vec::new();
    }

    /// Interprets the complete line in `self.line`.
    fn line_done(&mut self) {
        let line = std::mem::take(&mut self.line);
        if line.is_empty() {
            self.dispatch();
        } else if line[0] != b':' {
            let (name, value) = match line.iter().position(|&b| b == b':') {
                Some(colon) => {
                    let value = &line[colon + 1..];
                    (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
                }
                None => (&line[..], &[][..]),
            };
            match name {
                b"data" => {
                    self.data.extend_from_slice(value);
                    self.data.push(b'\n');
                }
                b"event" => value.clone_into(&mut self.event),
                b"id" if !value.contains(&0) => match std::str::from_utf8(value) {
                    Ok(id) => self.last_id = Some(id.to_owned()),
                    Err(_) => self.fail(StreamErrorKind::InvalidUtf8),
                },
                b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                    // Saturates: a huge value is "do not reconnect soon", not an error.
                    let ms = std::str::from_utf8(value)
                        .ok()
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(u64::MAX);
                    self.retry = Some(Duration::from_millis(ms));
                }
                _ => {}
            }
        }
        // Keep the allocation for the next line (a long line is read once, never copied again).
        self.line = line;
        self.line.clear();
    }

    fn dispatch(&mut self) {
        let event = std::mem::take(&mut self.event);
        if self.data.is_empty() {
            return;
        }
        let mut data = std::mem::take(&mut self.data);
        data.pop(); // the `\n` after the last data line
        let (Ok(data), Ok(event)) = (String::from_utf8(data), String::from_utf8(event)) else {
            self.fail(StreamErrorKind::InvalidUtf8);
            return;
        };
        self.queue.push_back(SseEvent {
            event: if event.is_empty() {
                "message".to_owned()
            } else {
                event
            },
            data,
            id: self.last_id.clone(),
        });
    }
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
mod tests {
    use super::*;

    fn decode_all(pieces: &[&[u8]]) -> (Vec<Result<SseEvent, StreamErrorKind>>, Option<SseEvent>) {
        let mut d = SseDecoder::new(64);
        let mut out = Vec::new();
        for p in pieces {
            d.push(p);
            while let Some(e) = d.next_event() {
                out.push(e);
            }
        }
        let trailing = d.finish();
        while let Some(e) = d.next_event() {
            out.push(e);
        }
        (out, trailing)
    }

    fn ev(event: &str, data: &str, id: Option<&str>) -> Result<SseEvent, StreamErrorKind> {
        Ok(SseEvent {
            event: event.into(),
            data: data.into(),
            id: id.map(Into::into),
        })
    }

    #[test]
    fn fields_comments_and_line_endings() {
        let (out, trailing) = decode_all(&[
            b"\xEF\xBB",
            b"\xBFdata: a\r",
            b"\ndata:b\rdata\r\r: c\n\nevent: x\nid: 7\ndata\n\nretry: 5\n\nfoo: bar\n\n",
        ]);
        assert_eq!(
            out,
            vec![ev("message", "a\nb\n", None), ev("x", "", Some("7"))]
        );
        assert_eq!(trailing, None);
    }

    #[test]
    fn bom_only_once_and_not_a_bom() {
        let (out, _) = decode_all(&[b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\n"]);
        // The second BOM is part of the field name, which is then unknown.
        assert!(out.is_empty(), "{out:?}");
        let (out, _) = decode_all(&[b"\xEF", b"data: x\n\n"]);
        // A lone first BOM byte is content: `\xEFdata` is an unknown field.
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn trailing_event_and_cap() {
        let (out, trailing) = decode_all(&[b"data: [DONE]\n"]);
        assert!(out.is_empty());
        assert_eq!(trailing.map(|e| e.data), Some("[DONE]".to_owned()));
        let (out, trailing) = decode_all(&[b"data: [DO"]);
        assert!(out.is_empty());
        assert_eq!(trailing.map(|e| e.data), Some("[DO".to_owned()));

        let (out, _) = decode_all(&[b"data: ok\n\ndata: ", &[b'x'; 40], &[b'y'; 40], b"\n\n"]);
        assert_eq!(
            out,
            vec![
                ev("message", "ok", None),
                Err(StreamErrorKind::EventTooLarge { cap: 64 })
            ]
        );
        let (out, _) = decode_all(&[b"data: \xFF\n\n"]);
        assert_eq!(out, vec![Err(StreamErrorKind::InvalidUtf8)]);
    }

    use crate::chat::{ChatAccumulator, ChatCompletionChunk};

    fn core_over(pieces: Vec<Vec<u8>>) -> SseCore<ChatCompletionChunk, ChatAccumulator> {
        let body = futures::stream::iter(pieces.into_iter().map(|p| Ok(Bytes::from(p))));
        let client = Client::builder().api_key("sk-secret").build().unwrap();
        SseCore::new("test", client, Box::pin(body), None, 1 << 20)
    }

    async fn drain(
        mut core: SseCore<ChatCompletionChunk, ChatAccumulator>,
    ) -> (Vec<crate::Result<ChatCompletionChunk>>, ChatAccumulator) {
        let mut out = Vec::new();
        while let Some(item) = futures::future::poll_fn(|cx| core.poll_chunk(cx)).await {
            out.push(item);
        }
        (out, core.acc)
    }

    fn chunk(text: &str) -> String {
        format!(
            r#"{{"id":"c","object":"chat.completion.chunk","choices":[{{"index":0,"delta":{{"content":"{text}"}},"finish_reason":null}}]}}"#
        )
    }

    fn body(eol: &str) -> Vec<u8> {
        let mut s = String::new();
        s.push_str(&format!(": keep-alive{eol}{eol}"));
        for w in ["a", "b", "é", "d"] {
            s.push_str(&format!("data: {}{eol}{eol}", chunk(w)));
        }
        s.push_str(&format!("event: ping{eol}data: {{}}{eol}{eol}"));
        s.push_str(&format!("data: [DONE]{eol}{eol}"));
        s.into_bytes()
    }

    #[tokio::test]
    async fn any_split_of_the_body_decodes_the_same() {
        for eol in ["\n", "\r\n"] {
            let whole = body(eol);
            for size in [1, 2, 3, 7, 64, whole.len()] {
                let pieces: Vec<Vec<u8>> = whole.chunks(size).map(<[u8]>::to_vec).collect();
                let (items, acc) = drain(core_over(pieces)).await;
                assert_eq!(items.len(), 4, "eol {eol:?} size {size}");
                assert!(items.iter().all(Result::is_ok));
                assert_eq!(acc.content(0), Some("abéd"));
            }
        }
    }

    #[tokio::test]
    async fn error_event_and_missing_done() {
        let data = format!(
            "data: {}\n\ndata: {{\"error\":{{\"message\":\"boom sk-secret\",\"code\":500}}}}\n\n",
            chunk("x")
        );
        let (items, _) = drain(core_over(vec![data.into_bytes()])).await;
        assert_eq!(items.len(), 2);
        match &items[1] {
            Err(Error::Stream {
                body: Some(body),
                partial,
                message,
                ..
            }) => {
                assert_eq!(partial, "x");
                assert!(message.contains("boom ***"), "{message}");
                assert!(matches!(**body, ApiErrorBody::OpenAi(_)));
            }
            other => panic!("{other:?}"),
        }

        let data = format!("data: {}\n\ndata: {}\n\n", chunk("x"), chunk("y"));
        let mut core = core_over(vec![data.into_bytes()]);
        let mut items = Vec::new();
        while let Some(item) = futures::future::poll_fn(|cx| core.poll_chunk(cx)).await {
            items.push(item);
        }
        assert!(core.is_terminated() && !core.is_done());
        match items.last() {
            Some(Err(Error::Stream { partial, body, .. })) => {
                assert_eq!(partial, "xy");
                assert!(body.is_none());
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn undecodable_event_is_a_stream_error_with_partial() {
        let data = format!("data: {}\n\ndata: {{\"choices\": 7}}\n\n", chunk("x"));
        let (items, _) = drain(core_over(vec![data.into_bytes()])).await;
        match &items[1] {
            Err(Error::Stream {
                message, partial, ..
            }) => {
                assert!(message.contains("choices"), "{message}");
                assert_eq!(partial, "x");
            }
            other => panic!("{other:?}"),
        }
        // Nothing after the error.
        let mut core = core_over(vec![b"data: {\"choices\": 7}\n\ndata: [DONE]\n\n".to_vec()]);
        assert!(
            futures::future::poll_fn(|cx| core.poll_chunk(cx))
                .await
                .unwrap()
                .is_err()
        );
        assert!(
            futures::future::poll_fn(|cx| core.poll_chunk(cx))
                .await
                .is_none()
        );
    }
}
