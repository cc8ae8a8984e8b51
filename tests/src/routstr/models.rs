//! Models and their prices, the node's configuration, real-node quirks and the
//! buffered replay of an X-Cashu stream.

use super::*;

/// One model of the mock node, priced in msats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutstrModel {
    /// Model id.
    pub id: String,
    /// Per prompt token, msat.
    pub prompt_msats: u64,
    /// Per completion token, msat.
    pub completion_msats: u64,
    /// Per request, msat.
    pub request_msats: u64,
    /// Most one request costs (what a key must hold), msat.
    pub max_cost_msats: u64,
    /// Context window, tokens.
    pub context_length: u64,
}

impl RoutstrModel {
    /// A model at 1 msat per token, 1000 msat per request, 10 sats at most.
    pub fn new(id: impl Into<String>) -> RoutstrModel {
        RoutstrModel {
            id: id.into(),
            prompt_msats: 1,
            completion_msats: 1,
            request_msats: 1000,
            max_cost_msats: 10_000,
            context_length: 32_768,
        }
    }

    /// Sets the per-token prices (msat).
    pub fn per_token(mut self, prompt_msats: u64, completion_msats: u64) -> RoutstrModel {
        self.prompt_msats = prompt_msats;
        self.completion_msats = completion_msats;
        self
    }

    /// Sets the per-request price (msat).
    pub fn per_request(mut self, msats: u64) -> RoutstrModel {
        self.request_msats = msats;
        self
    }

    /// Sets the maximum cost (msat).
    pub fn max_cost(mut self, msats: u64) -> RoutstrModel {
        self.max_cost_msats = msats;
        self
    }

    pub(super) fn cost(&self, prompt_tokens: u64, completion_tokens: u64) -> Cost {
        let input = prompt_tokens.saturating_mul(self.prompt_msats);
        let output = completion_tokens.saturating_mul(self.completion_msats);
        let total = self
            .request_msats
            .saturating_add(input)
            .saturating_add(output)
            .min(self.max_cost_msats);
        Cost {
            base: self.request_msats,
            input,
            output,
            total,
        }
    }

    pub(super) fn json(&self) -> Value {
        let sats = |m: u64| m as f64 / 1000.0;
        let usd = |m: u64| sats(m) * USD_PER_SAT;
        let half = self.max_cost_msats / 2;
        json!({
            "id": self.id,
            "name": format!("Mock {}", self.id),
            "created": 1_700_000_000,
            "description": format!("{} served by the rostro-mock Routstr node", self.id),
            "context_length": self.context_length,
            "architecture": {
                "modality": "text->text",
                "input_modalities": ["text"],
                "output_modalities": ["text"],
                "tokenizer": "GPT",
                "instruct_type": null,
            },
            "pricing": {
                "prompt": usd(self.prompt_msats),
                "completion": usd(self.completion_msats),
                "request": usd(self.request_msats),
                "image": 0,
                "web_search": 0,
                "internal_reasoning": 0,
                "max_prompt_cost": usd(half),
                "max_completion_cost": usd(half),
                "max_cost": usd(self.max_cost_msats),
            },
            "sats_pricing": {
                "prompt": sats(self.prompt_msats),
                "completion": sats(self.completion_msats),
                "request": sats(self.request_msats),
                "image": 0,
                "web_search": 0,
                "internal_reasoning": 0,
                "max_prompt_cost": sats(half),
                "max_completion_cost": sats(half),
                "max_cost": sats(self.max_cost_msats),
            },
            "per_request_limits": {"prompt_tokens": self.context_length, "completion_tokens": 4096},
            "top_provider": {"context_length": self.context_length, "max_completion_tokens": 4096, "is_moderated": false},
            "enabled": true,
            "x_mock_note": "unknown fields are kept by clients",
        })
    }
}

pub(super) struct Cost {
    pub(super) base: u64,
    pub(super) input: u64,
    pub(super) output: u64,
    pub(super) total: u64,
}

impl Cost {
    pub(super) fn usd(&self) -> String {
        format!("{:.8}", self.total as f64 / 1000.0 * USD_PER_SAT)
    }
}

/// Routstr-mode settings (see [`RoutstrMockBuilder`]).
#[derive(Debug, Clone)]
pub(crate) struct RoutstrConfig {
    pub(crate) models: Vec<RoutstrModel>,
    pub(crate) invoice_checks: u32,
    pub(crate) refund_pending: u32,
    pub(crate) refund_retry_after: u64,
    pub(crate) refund_in_sats: bool,
    pub(crate) child_key_cost_msats: u64,
    pub(crate) mint_url: String,
    pub(crate) quirks: Quirks,
}

/// A behaviour of real routstr-core nodes (0.4.5) that the mock reproduces
/// when a test selects it: with [`RoutstrMockBuilder::quirk`] for every
/// request, or per request with the header
/// `x-mock-routstr-quirks: body-longer,line-framing,...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NodeQuirk {
    /// `body-longer`: a non-streaming X-Cashu reply keeps the upstream's
    /// `content-length` on a body the node made longer (the `X-Cashu` change
    /// header is there; the client reads a cut JSON body).
    BodyLongerThanLength,
    /// `body-shorter`: an X-Cashu reply (streamed or not) announces more bytes
    /// than it sends, then the connection closes (the body cannot be read).
    BodyShorterThanLength,
    /// `line-framing`: an X-Cashu stream is replayed line by line with single
    /// `\n` separators (no blank lines) and ends `data: [DONE]\n`, then EOF.
    LineFraming,
    /// `catalog-model`: the node forwards its catalog id (`openai/<model>`)
    /// upstream, so replies name that model instead of the one asked for.
    CatalogModelId,
    /// `stream-cut`: an X-Cashu stream stops after its first line and the
    /// connection closes (the change header was sent).
    StreamCut,
}

impl NodeQuirk {
    pub(super) fn parse(name: &str) -> Option<NodeQuirk> {
        Some(match name.trim() {
            "body-longer" => NodeQuirk::BodyLongerThanLength,
            "body-shorter" => NodeQuirk::BodyShorterThanLength,
            "line-framing" => NodeQuirk::LineFraming,
            "catalog-model" => NodeQuirk::CatalogModelId,
            "stream-cut" => NodeQuirk::StreamCut,
            _ => return None,
        })
    }
}

/// The quirks in effect for one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Quirks(Vec<NodeQuirk>);

impl Quirks {
    pub(crate) fn has(&self, q: NodeQuirk) -> bool {
        self.0.contains(&q)
    }

    pub(super) fn add(&mut self, q: NodeQuirk) {
        if !self.has(q) {
            self.0.push(q);
        }
    }
}

/// How the front sends a buffered X-Cashu stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Replay {
    /// Single `\n` between lines, ending `data: [DONE]\n`.
    pub(crate) line_framing: bool,
    /// Stop after the first line and close the connection.
    pub(crate) cut: bool,
    /// Announce more bytes than are sent, then close the connection.
    pub(crate) short: bool,
}

/// The response of a buffered X-Cashu stream: the whole body, re-framed line
/// by line when asked, or cut after its first line.
pub(crate) fn replay_response(buf: Vec<u8>, replay: Replay) -> http::Response<crate::front::Body> {
    use futures::StreamExt as _;
    use http_body_util::BodyExt as _;
    let buf = if replay.line_framing || replay.cut {
        replay_lines(&buf)
    } else {
        buf
    };
    if replay.cut {
        let first = buf
            .iter()
            .position(|&b| b == b'\n')
            .map_or(buf.len(), |i| i + 1);
        let head = bytes::Bytes::copy_from_slice(&buf[..first]);
        let frames = futures::stream::unfold(Some(head), |state| async move {
            match state {
                Some(head) => Some((Ok(hyper::body::Frame::data(head)), None)),
                None => {
                    // Let the server flush what was sent before the connection dies.
                    tokio::time::sleep(std::time::Duration::from_millis(15)).await;
                    let err = std::io::Error::other("rostro-mock: the node's replay was cut");
                    Some((Err(Box::new(err) as crate::front::BoxError), None))
                }
            }
        })
        .take(2);
        return http::Response::new(http_body_util::BodyExt::boxed(
            http_body_util::StreamBody::new(frames),
        ));
    }
    if replay.short {
        let announced = buf.len() + 64;
        let pause = futures::stream::once(tokio::time::sleep(std::time::Duration::from_millis(15)))
            .filter_map(|()| async { None });
        let frames = futures::stream::iter([Ok::<_, crate::front::BoxError>(
            hyper::body::Frame::data(bytes::Bytes::from(buf)),
        )])
        .chain(pause);
        let mut resp = http::Response::new(http_body_util::BodyExt::boxed(
            http_body_util::StreamBody::new(frames),
        ));
        resp.headers_mut()
            .insert(http::header::CONTENT_LENGTH, announced.into());
        return resp;
    }
    let body = http_body_util::Full::new(bytes::Bytes::from(buf))
        .map_err(|never| match never {})
        .boxed();
    http::Response::new(body)
}

/// Re-frames a buffered SSE body the way routstr-core replays it: one line
/// per line of the upstream stream, blank lines and keep-alive comments
/// dropped, each line ended by a single `\n`.
pub(crate) fn replay_lines(buf: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(buf.len());
    for line in buf.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || line.starts_with(b":") {
            continue;
        }
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out
}

impl Default for RoutstrConfig {
    fn default() -> Self {
        RoutstrConfig {
            models: vec![
                RoutstrModel::new("gpt-4o-mini")
                    .per_token(2, 8)
                    .per_request(0)
                    .max_cost(20_000),
                RoutstrModel::new("llama-3.1-8b-instruct")
                    .per_token(1, 1)
                    .per_request(100)
                    .max_cost(5_000),
                RoutstrModel::new("claude-3-haiku")
                    .per_token(25, 125)
                    .per_request(0)
                    .max_cost(200_000),
            ],
            invoice_checks: 2,
            refund_pending: 0,
            refund_retry_after: 1,
            refund_in_sats: false,
            child_key_cost_msats: 100,
            mint_url: DEFAULT_MINT_URL.into(),
            quirks: Quirks::default(),
        }
    }
}
