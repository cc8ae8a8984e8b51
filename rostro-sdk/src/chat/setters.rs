//! The setters [`ChatCompletionRequest`](super::ChatCompletionRequest) and
//! [`CompletionRequest`](super::CompletionRequest) share: one definition for the fields both
//! bodies have, so the two cannot drift apart.

/// Chainable setters for `max_tokens`, `temperature`, `top_p`, `n`, `stop`, `seed`,
/// `stream_options.include_usage` and `extra`, and the crate's stream switch.
macro_rules! shared_request_setters {
    () => {
        /// Sets `max_tokens`.
        pub fn max_tokens(mut self, v: u32) -> Self {
            self.max_tokens = Some(v);
            self
        }

        /// Sets `temperature`.
        pub fn temperature(mut self, v: f64) -> Self {
            self.temperature = Some(v);
            self
        }

        /// Sets `top_p`.
        pub fn top_p(mut self, v: f64) -> Self {
            self.top_p = Some(v);
            self
        }

        /// Sets `n`, the number of choices.
        pub fn n(mut self, v: u32) -> Self {
            self.n = Some(v);
            self
        }

        /// Sets the stop sequence(s): a string or a list of strings.
        pub fn stop(mut self, stop: impl Into<Stop>) -> Self {
            self.stop = Some(stop.into());
            self
        }

        /// Asks for a final chunk with token usage (and, on Routstr nodes, the cost) when
        /// streaming: `stream_options.include_usage`.
        pub fn include_usage(mut self, on: bool) -> Self {
            self.stream_options
                .get_or_insert_with(StreamOptions::default)
                .include_usage = Some(on);
            self
        }

        /// Sets `seed`.
        pub fn seed(mut self, seed: i64) -> Self {
            self.seed = Some(seed);
            self
        }

        /// Adds a provider-specific body field.
        pub fn extra(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
            self.extra.insert(name.into(), value.into());
            self
        }

        /// Sets `"stream": true` for a streaming call; otherwise sends neither `stream` nor
        /// `stream_options` (a server may refuse options without streaming).
        pub(crate) fn set_streaming(&mut self, on: bool) {
            if on {
                self.stream = Some(true);
            } else {
                self.stream = None;
                self.stream_options = None;
            }
        }
    };
}

pub(crate) use shared_request_setters;
