//! [`ChatStream`] and [`CompletionStream`]: typed streams of server-sent events.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::{FusedStream, Stream, StreamExt};
use reqwest::header::HeaderMap;

use super::accumulate::{ChatAccumulator, CompletionAccumulator};
use super::completion::Completion;
use super::response::{ChatCompletion, ChatCompletionChunk, Usage};
use super::sse::{Assemble, SseChunk, SseCore, StreamEnd};
use crate::error::Result;
use crate::response::ResponseMeta;

impl SseChunk for ChatCompletionChunk {
    fn is_error(&self) -> bool {
        self.error.is_some()
    }
}

impl SseChunk for Completion {
    fn is_error(&self) -> bool {
        self.error.is_some()
    }
}

/// `Assemble` over an accumulator's own methods of the same names.
macro_rules! assemble_with {
    ($acc:ty, $chunk:ty) => {
        impl Assemble<$chunk> for $acc {
            fn push(&mut self, chunk: &$chunk) {
                <$acc>::push(self, chunk);
            }

            fn text(&self) -> String {
                <$acc>::text(self)
            }

            fn discard_text(&mut self) {
                self.set_discard_text(true);
            }

            fn all_finished(&self) -> bool {
                <$acc>::all_finished(self)
            }
        }
    };
}

assemble_with!(ChatAccumulator, ChatCompletionChunk);
assemble_with!(CompletionAccumulator, Completion);

/// The `X-Routstr-Cost-Msats` response header, as a number.
fn header_cost_msats(headers: &HeaderMap) -> Option<u64> {
    headers
        .get("x-routstr-cost-msats")?
        .to_str()
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| v.round() as u64)
}

macro_rules! sse_stream_type {
    (
        $(#[$meta:meta])*
        $name:ident, $chunk:ty, $acc:ty, $whole:ty
    ) => {
        $(#[$meta])*
        pub struct $name {
            core: SseCore<$chunk, $acc>,
            meta: ResponseMeta,
        }

        impl $name {
            pub(crate) fn new(core: SseCore<$chunk, $acc>, meta: ResponseMeta) -> Self {
                $name { core, meta }
            }

            /// Status, headers and request id of the response. Routstr nodes send the request
            /// id (`x-routstr-request-id`) and, when paying per request, cost and change
            /// (`X-Routstr-Cost-Msats`, `X-Cashu`) here. `attempts` counts the attempts made
            /// before the response started.
            pub fn meta(&self) -> &ResponseMeta {
                &self.meta
            }

            /// All response headers.
            pub fn headers(&self) -> &HeaderMap {
                &self.meta.headers
            }

            /// The request id from the response headers.
            pub fn request_id(&self) -> Option<&str> {
                self.meta.request_id.as_deref()
            }

            /// The last usage received: the final chunk's when `include_usage` was set (with
            /// Routstr's `cost`, `cost_sats` and `remaining_balance_msats`). `None` until then.
            pub fn usage(&self) -> Option<&Usage> {
                self.core.acc.usage()
            }

            /// The cost of the request in msats: `usage.cost.total_msats` (or `cost_sats`) from
            /// the body, else the `X-Routstr-Cost-Msats` header.
            pub fn cost_msats(&self) -> Option<u64> {
                self.usage()
                    .and_then(Usage::cost_msats)
                    .or_else(|| header_cost_msats(&self.meta.headers))
            }

            /// Whether `data: [DONE]` was received.
            pub fn is_done(&self) -> bool {
                self.core.is_done()
            }

            /// How the stream ended: [`StreamEnd::Done`] (`[DONE]` arrived),
            /// [`StreamEnd::Finished`] (the body ended without `[DONE]` after every choice had
            /// a finish reason: complete), [`StreamEnd::Failed`] (an error was returned).
            /// `None` while events may still come.
            pub fn end(&self) -> Option<StreamEnd> {
                self.core.end()
            }

            /// The text received so far (what an [`Error::Stream`](crate::Error::Stream)
            /// would carry as `partial`).
            pub fn text(&self) -> String {
                self.core.acc.text()
            }

            /// Stops keeping the text of the events that pass through, for consumers that
            /// handle every chunk themselves: memory then stays constant however long the
            /// stream, but [`text`](Self::text), the `partial` of a stream error and the
            /// assembled completion no longer carry text (usage, finish reasons, ids still
            /// do).
            pub fn discard_text(mut self) -> Self {
                self.core.acc.discard_text();
                self
            }

            /// Everything received so far, assembled.
            pub fn accumulator(&self) -> &$acc {
                &self.core.acc
            }

            /// The completion assembled from the events received so far.
            pub fn completion(&self) -> $whole {
                self.core.acc.snapshot()
            }

            /// Reads the rest of the stream and returns the whole completion, assembled from
            /// every event (including those already consumed through the stream).
            ///
            /// Fails with [`Error::Stream`](crate::Error::Stream) (carrying the text received
            /// so far in `partial`) when the stream breaks, stalls past its idle timeout, ends
            /// without `[DONE]` before every choice finished, or carries an error event.
            pub async fn collect_completion(mut self) -> Result<$whole> {
                while let Some(item) = self.next().await {
                    item?;
                }
                Ok(self.core.acc.finish())
            }
        }

        impl Stream for $name {
            type Item = Result<$chunk>;

            fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
                let this = &mut *self;
                // A failure mid-stream keeps the response it happened on (status, headers
                // with any Routstr change token, request id).
                this.core
                    .poll_chunk(cx)
                    .map(|item| item.map(|r| r.map_err(|e| e.with_response(&this.meta))))
            }
        }

        impl FusedStream for $name {
            fn is_terminated(&self) -> bool {
                self.core.is_terminated()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("request_id", &self.meta.request_id)
                    .field("status", &self.meta.status)
                    .field("chunks", &self.core.acc.chunk_count())
                    .field("done", &self.core.is_done())
                    .finish_non_exhaustive()
            }
        }
    };
}

sse_stream_type! {
    /// A streamed chat completion: a [`Stream`] of [`ChatCompletionChunk`]s, from
    /// [`ChatApi::stream`](crate::generated::chat::ChatApi::stream).
    ///
    /// Events are decoded in the task that polls the stream (no background task). `[DONE]`
    /// ends it (also without a blank line before the end of the body), and so does the end
    /// of the body once every choice has a finish reason ([`end`](Self::end) tells which);
    /// keep-alive comments are skipped. An `{"error": ...}` event, a broken connection, a
    /// stall longer than the idle timeout
    /// ([`ClientBuilder::stream_idle_timeout`](crate::ClientBuilder::stream_idle_timeout)),
    /// an event over the size cap or an end before completion yields one
    /// [`Error::Stream`](crate::Error::Stream) carrying the text received so far, then the
    /// stream ends. Dropping the stream closes the connection.
    ///
    /// The stream assembles what passes through it, so after (or instead of) reading chunks
    /// you can get the whole answer with [`collect_completion`](Self::collect_completion) or
    /// [`completion`](Self::completion), and the final usage and cost with
    /// [`usage`](Self::usage) and [`cost_msats`](Self::cost_msats).
    ChatStream, ChatCompletionChunk, ChatAccumulator, ChatCompletion
}

sse_stream_type! {
    /// A streamed text completion: a [`Stream`] of [`Completion`] events (each choice's
    /// `text` is the new piece), from
    /// [`CompletionsApi::stream`](crate::generated::completions::CompletionsApi::stream).
    /// Behaves like [`ChatStream`].
    CompletionStream, Completion, CompletionAccumulator, Completion
}
