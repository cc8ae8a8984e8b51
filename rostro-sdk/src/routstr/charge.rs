//! [`ChatCharge`]: what a chat request cost on a node, from the usage in the body (or the
//! final stream chunk) and the cost headers.

use reqwest::header::HeaderMap;

use super::amount::Msats;
use super::meta::RoutstrMeta;
use super::token::CashuToken;
use crate::chat::{ChatCompletion, ChatStream, Cost, Usage};
use crate::response::Response;

/// What a chat request cost, in msats: Routstr's `usage.cost` breakdown (non-streaming body,
/// or the final usage chunk of a stream), completed with the `X-Routstr-*` headers of the
/// X-Cashu path, plus the key's remaining balance and the change token.
///
/// ```no_run
/// use futures::StreamExt;
/// use rostro_sdk::chat::{ChatCompletionRequest, Message};
/// use rostro_sdk::routstr::{ChatCharge, RoutstrClient};
///
/// # async fn run(node: RoutstrClient) -> rostro_sdk::Result<()> {
/// let req = ChatCompletionRequest::new("gpt-4o-mini", vec![Message::user("hi")]);
/// let mut stream = node.chat().stream(req).await?;
/// while let Some(chunk) = stream.next().await {
///     print!("{}", chunk?.content().unwrap_or_default());
/// }
/// let charge = ChatCharge::from_stream(&stream);
/// println!("\ncost {:?}, left {:?}", charge.total, charge.remaining_balance);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChatCharge {
    /// Total cost (`usage.cost.total_msats`, else `usage.cost_sats`, else
    /// `X-Routstr-Cost-Msats`).
    pub total: Option<Msats>,
    /// Prompt part (`usage.cost.input_msats`, else `X-Routstr-Input-Cost-Msats`).
    pub input: Option<Msats>,
    /// Completion part (`usage.cost.output_msats`, else `X-Routstr-Output-Cost-Msats`).
    pub output: Option<Msats>,
    /// Per-request part (`usage.cost.base_msats`).
    pub base: Option<Msats>,
    /// The key's balance after the request (`usage.remaining_balance_msats`; Bearer only).
    pub remaining_balance: Option<Msats>,
    /// The response headers' money metadata (change token, USD cost, request id).
    pub meta: RoutstrMeta,
}

impl ChatCharge {
    /// Combines a usage (if any) with the response headers.
    pub fn new(usage: Option<&Usage>, headers: &HeaderMap) -> ChatCharge {
        let meta = RoutstrMeta::from_headers(headers);
        let breakdown = usage.and_then(|u| match &u.cost {
            Some(Cost::Breakdown(b)) => Some(b),
            _ => None,
        });
        let part =
            |f: fn(&crate::chat::CostBreakdown) -> Option<u64>| breakdown.and_then(f).map(Msats);
        ChatCharge {
            total: usage
                .and_then(Usage::cost_msats)
                .map(Msats)
                .or(meta.cost_msats),
            input: part(|b| b.input_msats).or(meta.input_cost_msats),
            output: part(|b| b.output_msats).or(meta.output_cost_msats),
            base: part(|b| b.base_msats),
            remaining_balance: usage.and_then(|u| u.remaining_balance_msats).map(Msats),
            meta,
        }
    }

    /// The charge of a non-streaming completion (from
    /// [`send_with_response`](crate::chat::ChatCall::send_with_response)).
    pub fn from_completion(resp: &Response<ChatCompletion>) -> ChatCharge {
        ChatCharge::new(resp.value().usage.as_ref(), &resp.meta().headers)
    }

    /// The charge of a stream: its final usage chunk (read the stream to the end first)
    /// and its response headers.
    pub fn from_stream(stream: &ChatStream) -> ChatCharge {
        ChatCharge::new(stream.usage(), stream.headers())
    }

    /// The change of an X-Cashu payment (`X-Cashu` response header), if any.
    pub fn change_token(&self) -> Option<&CashuToken> {
        self.meta.change_token.as_ref()
    }
}
