//! The streaming machinery shared by chat, completions and `/prompt`: SSE decoding with
//! `eventsource-stream`, polled in the consumer's task (no spawned task, no channel), JSON
//! decoded straight from each event's data, `[DONE]` handling, mid-stream errors and the
//! running accumulator that keeps the text received so far.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use eventsource_stream::{EventStream, EventStreamError};
use futures::Stream;
use serde::de::DeserializeOwned;

use crate::client::Client;
use crate::error::{ApiErrorBody, Error};

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
}

/// Why the body stream failed.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The connection broke.
    Http(reqwest::Error),
    /// Nothing arrived for this long.
    Idle(Duration),
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::Http(e) => f.write_str(&root_cause(e)),
            BodyError::Idle(d) => write!(f, "no data received for {d:?}"),
        }
    }
}

/// Cuts the body into pieces that end at event boundaries before they reach
/// `eventsource-stream`. Its parser copies the rest of its buffer after every line, which is
/// quadratic in the size of a network read holding many events; fed one event at a time it
/// stays linear. Pieces are zero-copy slices of the received `Bytes`. Also enforces the
/// optional idle timeout (reset by every read, keep-alive comments included).
pub(crate) struct EventSplit {
    inner: ByteStream,
    pending: Bytes,
    idle: Option<(Duration, Pin<Box<tokio::time::Sleep>>)>,
}

impl EventSplit {
    pub(crate) fn new(inner: ByteStream, idle_timeout: Option<Duration>) -> Self {
        EventSplit {
            inner,
            pending: Bytes::new(),
            idle: idle_timeout.map(|d| (d, Box::pin(tokio::time::sleep(d)))),
        }
    }
}

impl Stream for EventSplit {
    type Item = Result<Bytes, BodyError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if !this.pending.is_empty() {
                let cut = event_end(&this.pending).unwrap_or(this.pending.len());
                return Poll::Ready(Some(Ok(this.pending.split_to(cut))));
            }
            match this.inner.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(bytes))) => {
                    if let Some((after, sleep)) = &mut this.idle {
                        sleep.as_mut().reset(tokio::time::Instant::now() + *after);
                    }
                    this.pending = bytes;
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(BodyError::Http(e)))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => {
                    if let Some((after, sleep)) = &mut this.idle
                        && sleep.as_mut().poll(cx).is_ready()
                    {
                        return Poll::Ready(Some(Err(BodyError::Idle(*after))));
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}

/// The end (exclusive) of the first complete event in `buf`: just after a blank line (`\n\n`
/// or `\n\r\n`), or after the last byte if `buf` ends with a line break. `None` when `buf`
/// holds no blank line (the parser buffers the partial event).
fn event_end(buf: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(off) = find_lf(&buf[from..]) {
        let lf = from + off;
        match buf.get(lf + 1) {
            None => return Some(lf + 1),
            Some(b'\n') => return Some(lf + 2),
            Some(b'\r') if buf.get(lf + 2) == Some(&b'\n') => return Some(lf + 3),
            _ => from = lf + 1,
        }
    }
    None
}

/// Position of the first `\n`, eight bytes at a time.
fn find_lf(hay: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const LF: u64 = LO * b'\n' as u64;
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])) ^ LF;
        let zero = word.wrapping_sub(LO) & !word & HI;
        if zero != 0 {
            return Some(base + (zero.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'\n')
        .map(|p| base + p)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Streaming,
    /// `[DONE]` received.
    Done,
    /// Failed (the error was returned) or ended.
    Closed,
}

/// Decodes one SSE response into `C` events, feeding every event to an `A` as it passes.
pub(crate) struct SseCore<C, A> {
    events: Option<EventStream<EventSplit>>,
    pub(crate) acc: A,
    operation: &'static str,
    client: Client,
    state: State,
    _chunk: PhantomData<fn() -> C>,
}

impl<C: SseChunk, A: Assemble<C>> SseCore<C, A> {
    pub(crate) fn new(
        operation: &'static str,
        client: Client,
        body: ByteStream,
        idle_timeout: Option<Duration>,
    ) -> Self {
        SseCore {
            events: Some(EventStream::new(EventSplit::new(body, idle_timeout))),
            acc: A::default(),
            operation,
            client,
            state: State::Streaming,
            _chunk: PhantomData,
        }
    }

    /// Whether `[DONE]` was received.
    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Whether the stream will yield nothing more.
    pub(crate) fn is_terminated(&self) -> bool {
        self.events.is_none()
    }

    pub(crate) fn poll_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Option<crate::Result<C>>> {
        let Some(events) = self.events.as_mut() else {
            return Poll::Ready(None);
        };
        loop {
            let event = match ready!(Pin::new(&mut *events).poll_next(cx)) {
                Some(Ok(event)) => event,
                Some(Err(e)) => {
                    let message = match e {
                        EventStreamError::Transport(BodyError::Http(e)) => {
                            format!("the connection failed mid-stream: {}", root_cause(&e))
                        }
                        EventStreamError::Transport(idle @ BodyError::Idle(_)) => idle.to_string(),
                        EventStreamError::Utf8(_) => "the event stream is not valid utf-8".into(),
                        EventStreamError::Parser(e) => format!("malformed event stream: {e}"),
                    };
                    return Poll::Ready(Some(Err(self.fail(message, None))));
                }
                None => {
                    let message = "the stream ended before `data: [DONE]`".to_owned();
                    return Poll::Ready(Some(Err(self.fail(message, None))));
                }
            };
            let data = event.data.as_str();
            if data.trim_ascii() == "[DONE]" {
                self.finish_done(cx);
                return Poll::Ready(None);
            }
            match event.event.as_str() {
                "message" => {}
                "error" => return Poll::Ready(Some(Err(self.fail_with_body(data)))),
                // Named events other than `error` are not part of the OpenAI protocol.
                _ => continue,
            }
            return match serde_json::from_str::<C>(data) {
                Ok(chunk) if chunk.is_error() => Poll::Ready(Some(Err(self.fail_with_body(data)))),
                Ok(chunk) => {
                    self.acc.push(&chunk);
                    Poll::Ready(Some(Ok(chunk)))
                }
                Err(_) => {
                    let message = decode_message::<C>(data);
                    Poll::Ready(Some(Err(self.fail(message, None))))
                }
            };
        }
    }

    /// After `[DONE]`: read what the server already sent (normally the end of the body, so
    /// the connection goes back to the pool), then stop without waiting.
    fn finish_done(&mut self, cx: &mut Context<'_>) {
        if let Some(events) = self.events.as_mut() {
            while let Poll::Ready(Some(_)) = Pin::new(&mut *events).poll_next(cx) {}
        }
        self.events = None;
        self.state = State::Done;
    }

    fn fail(&mut self, message: String, body: Option<ApiErrorBody>) -> Error {
        self.events = None;
        self.state = State::Closed;
        Error::Stream {
            operation: self.operation,
            message,
            body: body.map(Box::new),
            partial: self.acc.text(),
            response: None,
        }
    }

    fn fail_with_body(&mut self, data: &str) -> Error {
        let data = match self.client.inner.api_key.as_ref().map(|k| k.expose()) {
            Some(key) if !key.is_empty() && data.contains(key) => data.replace(key, "***"),
            _ => data.to_owned(),
        };
        let body = ApiErrorBody::parse(data.as_bytes());
        let message = body.to_string();
        self.fail(message, Some(body))
    }
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

/// The innermost error message (e.g. `connection reset by peer`).
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lf_search() {
        assert_eq!(find_lf(b""), None);
        assert_eq!(find_lf(b"abc"), None);
        assert_eq!(find_lf(b"\n"), Some(0));
        for n in 0..40 {
            let mut v = vec![b'x'; n];
            v.push(b'\n');
            v.extend_from_slice(b"yy\n");
            assert_eq!(find_lf(&v), Some(n), "at {n}");
        }
        assert_eq!(find_lf("é\u{a0}\n".as_bytes()), Some(4));
    }

    #[test]
    fn event_boundaries() {
        assert_eq!(event_end(b"data: a\n\ndata: b\n\n"), Some(9));
        assert_eq!(event_end(b"data: a\r\n\r\ndata"), Some(11));
        assert_eq!(event_end(b"data: a\ndata: b\n"), Some(16));
        assert_eq!(event_end(b"data: a\ndata"), None);
        assert_eq!(event_end(b": keep-alive\n\ndata"), Some(14));
    }

    use crate::chat::{ChatAccumulator, ChatCompletionChunk};

    fn core_over(pieces: Vec<Vec<u8>>) -> SseCore<ChatCompletionChunk, ChatAccumulator> {
        let body = futures::stream::iter(pieces.into_iter().map(|p| Ok(Bytes::from(p))));
        let client = Client::builder().api_key("sk-secret").build().unwrap();
        SseCore::new("test", client, Box::pin(body), None)
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
