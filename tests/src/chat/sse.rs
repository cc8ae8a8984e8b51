//! The SSE stream, generated lazily event by event.

use super::*;

pub(super) enum Event {
    Data(String),
    Done,
    Error,
    Drop,
}

/// Lazily produces the events of one SSE stream.
pub(super) struct EventGen {
    pub(super) plan: ChatPlan,
    /// Pre-rendered start of every content chunk, up to the choice index.
    pub(super) head: String,
    /// Pre-escaped JSON strings of `" word"` for every word.
    pub(super) escaped: Vec<String>,
    pub(super) prefix: Vec<String>,
    pub(super) content: usize,
    pub(super) suffix: Vec<String>,
    pub(super) cut: Option<usize>,
    pub(super) idx: usize,
    pub(super) finished: bool,
    pub(super) scenarios: Scenarios,
}

impl EventGen {
    pub(super) fn new(plan: ChatPlan, scenarios: Scenarios) -> EventGen {
        let prefix = plan.prefix_events();
        let content = plan.pieces * plan.n;
        let suffix = plan.suffix_events();
        let total = prefix.len() + content + suffix.len();
        let cut = (scenarios.error_mid_stream || scenarios.drop).then(|| {
            if content > 0 {
                prefix.len() + content / 2
            } else {
                total / 2
            }
        });
        let object = match plan.kind {
            ChatKind::Chat => "chat.completion.chunk",
            ChatKind::Completion => "text_completion",
        };
        let head = format!(
            "{{\"id\":{},\"object\":\"{object}\",\"created\":{},\"model\":{},\"system_fingerprint\":\"fp_rostro_mock\",\"choices\":[{{\"index\":",
            json!(plan.id),
            plan.created,
            json!(plan.model)
        );
        let escaped = plan
            .words
            .iter()
            .map(|w| json!(format!(" {w}")).to_string())
            .collect();
        EventGen {
            head,
            escaped,
            plan,
            prefix,
            content,
            suffix,
            cut,
            idx: 0,
            finished: false,
            scenarios,
        }
    }

    pub(super) fn next_event(&mut self) -> Option<Event> {
        if self.finished {
            return None;
        }
        if self.cut == Some(self.idx) {
            self.finished = true;
            return Some(if self.scenarios.drop {
                Event::Drop
            } else {
                Event::Error
            });
        }
        let i = self.idx;
        self.idx += 1;
        let p = self.prefix.len();
        if i < p {
            Some(Event::Data(self.prefix[i].clone()))
        } else if i < p + self.content {
            Some(Event::Data(self.content_event(i - p)))
        } else if i < p + self.content + self.suffix.len() {
            Some(Event::Data(self.suffix[i - p - self.content].clone()))
        } else {
            self.finished = true;
            (!self.scenarios.no_done).then_some(Event::Done)
        }
    }
}

impl EventGen {
    /// Content chunk `j`; all but the first piece use the pre-rendered parts.
    pub(super) fn content_event(&self, j: usize) -> String {
        let p = j / self.plan.n;
        if p == 0 || self.escaped.is_empty() {
            return self.plan.content_event(j);
        }
        let choice = j % self.plan.n;
        let piece = &self.escaped[p % self.escaped.len()];
        let usage = if self.plan.include_usage {
            ",\"usage\":null"
        } else {
            ""
        };
        match self.plan.kind {
            ChatKind::Chat => format!(
                "{}{choice},\"delta\":{{\"content\":{piece}}},\"logprobs\":null,\"finish_reason\":null}}]{usage}}}",
                self.head
            ),
            ChatKind::Completion => format!(
                "{}{choice},\"text\":{piece},\"logprobs\":null,\"finish_reason\":null}}]{usage}}}",
                self.head
            ),
        }
    }
}

pub(super) fn write_event(buf: &mut Vec<u8>, ev: &Event, keepalive: bool) {
    if keepalive {
        buf.extend_from_slice(b": keep-alive\n\n");
    }
    match ev {
        Event::Data(s) => {
            buf.extend_from_slice(b"data: ");
            buf.extend_from_slice(s.as_bytes());
            buf.extend_from_slice(b"\n\n");
        }
        Event::Done => buf.extend_from_slice(b"data: [DONE]\n\n"),
        Event::Error => buf.extend_from_slice(
            br#"data: {"error":{"message":"The model backend failed mid-stream (mock).","type":"server_error","code":500}}

"#,
        ),
        Event::Drop => {}
    }
}

/// The SSE body: events are generated one at a time (or in batches when there
/// is no delay), so even 100k-chunk streams use constant memory.
pub(crate) fn sse_stream(
    plan: ChatPlan,
    scenarios: Scenarios,
    delay: Duration,
) -> impl Stream<Item = Result<Frame<Bytes>, std::io::Error>> + Send + 'static {
    struct St {
        events: EventGen,
        pending_drop: bool,
        ended: bool,
    }
    let st = St {
        events: EventGen::new(plan, scenarios),
        pending_drop: false,
        ended: false,
    };
    futures::stream::unfold(st, move |mut st| async move {
        if st.ended {
            return None;
        }
        if st.pending_drop {
            st.ended = true;
            // Let the server flush what was sent before the connection dies.
            tokio::time::sleep(Duration::from_millis(15)).await;
            let err = std::io::Error::other("rostro-mock: connection dropped mid-stream");
            return Some((Err(err), st));
        }
        let mut buf = Vec::new();
        let batch = if delay.is_zero() { 256 } else { 1 };
        for _ in 0..batch {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            match st.events.next_event() {
                None => break,
                Some(Event::Drop) => {
                    if scenarios.keepalive {
                        buf.extend_from_slice(b": keep-alive\n\n");
                    }
                    st.pending_drop = true;
                    break;
                }
                Some(ev) => write_event(&mut buf, &ev, scenarios.keepalive),
            }
            if buf.len() > 64 * 1024 {
                break;
            }
        }
        if buf.is_empty() {
            if st.pending_drop {
                st.ended = true;
                let err = std::io::Error::other("rostro-mock: connection dropped mid-stream");
                return Some((Err(err), st));
            }
            None
        } else {
            Some((Ok(Frame::data(Bytes::from(buf))), st))
        }
    })
}
