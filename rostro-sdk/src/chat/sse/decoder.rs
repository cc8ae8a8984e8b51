//! [`SseDecoder`]: server-sent events from a body arriving in chunks of any size.

use std::collections::VecDeque;
use std::time::Duration;

use crate::error::StreamErrorKind;

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
