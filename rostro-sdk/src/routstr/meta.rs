//! The money metadata every Routstr response carries ([`RoutstrMeta`]) and the
//! [`RoutstrResponse`] that pairs it with a decoded value.

use std::ops::Deref;

use reqwest::header::HeaderMap;

use super::amount::{Msats, UsdAmount, parse_msats};
use super::token::CashuToken;
use crate::response::{ResponseMeta, request_id_from_headers};

/// `X-Cashu`: the change (or refund) token a node returns on the X-Cashu payment path.
pub const HEADER_CASHU: &str = "x-cashu";
/// `X-Routstr-Cost-Msats`: what the request cost.
pub const HEADER_COST_MSATS: &str = "x-routstr-cost-msats";
/// `X-Routstr-Input-Cost-Msats`: the prompt part of the cost.
pub const HEADER_INPUT_COST_MSATS: &str = "x-routstr-input-cost-msats";
/// `X-Routstr-Output-Cost-Msats`: the completion part of the cost.
pub const HEADER_OUTPUT_COST_MSATS: &str = "x-routstr-output-cost-msats";
/// `X-Routstr-Cost-Usd`: the cost in USD (decimal text).
pub const HEADER_COST_USD: &str = "x-routstr-cost-usd";
/// `x-routstr-request-id`: sent on every response.
pub const HEADER_REQUEST_ID: &str = "x-routstr-request-id";

/// What a node said about money on one response (success or error), from its headers.
///
/// The change token is never dropped: it is here on successes, and
/// [`RoutstrErrorExt::change_token`](super::RoutstrErrorExt::change_token) reads it from
/// errors (e.g. the refund of an X-Cashu payment when the upstream failed). Its `Debug`
/// output is redacted.
///
/// ```
/// use rostro_sdk::routstr::{Msats, RoutstrMeta};
/// let mut headers = reqwest::header::HeaderMap::new();
/// headers.insert("x-routstr-cost-msats", "1500".parse().unwrap());
/// headers.insert("x-routstr-request-id", "r-1".parse().unwrap());
/// let meta = RoutstrMeta::from_headers(&headers);
/// assert_eq!(meta.cost_msats, Some(Msats(1500)));
/// assert_eq!(meta.request_id.as_deref(), Some("r-1"));
/// assert!(meta.change_token.is_none());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoutstrMeta {
    /// Change from an `X-Cashu` payment (response header `X-Cashu`), or the refund of the
    /// whole payment when the request failed.
    pub change_token: Option<CashuToken>,
    /// `X-Routstr-Cost-Msats`.
    pub cost_msats: Option<Msats>,
    /// `X-Routstr-Input-Cost-Msats`.
    pub input_cost_msats: Option<Msats>,
    /// `X-Routstr-Output-Cost-Msats`.
    pub output_cost_msats: Option<Msats>,
    /// `X-Routstr-Cost-Usd`, kept as decimal text.
    pub cost_usd: Option<UsdAmount>,
    /// `x-routstr-request-id` (else any other request id header).
    pub request_id: Option<String>,
}

impl RoutstrMeta {
    /// Reads the Routstr headers (missing or malformed values are `None`, except the change
    /// token, which is kept verbatim whatever it looks like).
    pub fn from_headers(headers: &HeaderMap) -> RoutstrMeta {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        RoutstrMeta {
            change_token: text(HEADER_CASHU).map(CashuToken::received),
            cost_msats: text(HEADER_COST_MSATS).and_then(parse_msats),
            input_cost_msats: text(HEADER_INPUT_COST_MSATS).and_then(parse_msats),
            output_cost_msats: text(HEADER_OUTPUT_COST_MSATS).and_then(parse_msats),
            cost_usd: text(HEADER_COST_USD).and_then(UsdAmount::parse),
            request_id: text(HEADER_REQUEST_ID)
                .map(str::to_owned)
                .or_else(|| request_id_from_headers(headers)),
        }
    }

    /// Reads the Routstr headers of a successful response (chat calls included:
    /// `RoutstrMeta::from_response(resp.meta())`, or `from_headers(stream.headers())`).
    pub fn from_response(meta: &ResponseMeta) -> RoutstrMeta {
        RoutstrMeta::from_headers(&meta.headers)
    }

    /// Whether the node sent none of these headers.
    pub fn is_empty(&self) -> bool {
        *self == RoutstrMeta::default()
    }
}

/// A decoded Routstr response: the value, the HTTP [`ResponseMeta`] and the node's
/// [`RoutstrMeta`]. Derefs to the value.
#[derive(Debug, Clone)]
pub struct RoutstrResponse<T> {
    value: T,
    meta: ResponseMeta,
    routstr: RoutstrMeta,
}

impl<T> RoutstrResponse<T> {
    /// Pairs a value with its response metadata, reading the Routstr headers.
    pub fn new(value: T, meta: ResponseMeta) -> Self {
        let routstr = RoutstrMeta::from_response(&meta);
        RoutstrResponse {
            value,
            meta,
            routstr,
        }
    }

    /// The decoded value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The decoded value, dropping the metadata (check [`change_token`](Self::change_token)
    /// first when you paid with `X-Cashu`).
    pub fn into_inner(self) -> T {
        self.value
    }

    /// Status, headers, request id and attempts.
    pub fn meta(&self) -> &ResponseMeta {
        &self.meta
    }

    /// Cost, change and request id as the node reported them.
    pub fn routstr(&self) -> &RoutstrMeta {
        &self.routstr
    }

    /// The change token (`X-Cashu` response header), if any.
    pub fn change_token(&self) -> Option<&CashuToken> {
        self.routstr.change_token.as_ref()
    }

    /// The node's request id (`x-routstr-request-id`).
    pub fn request_id(&self) -> Option<&str> {
        self.routstr.request_id.as_deref()
    }

    /// Splits into value, HTTP metadata and Routstr metadata.
    pub fn into_parts(self) -> (T, ResponseMeta, RoutstrMeta) {
        (self.value, self.meta, self.routstr)
    }

    /// Transforms the value, keeping the metadata.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> RoutstrResponse<U> {
        RoutstrResponse {
            value: f(self.value),
            meta: self.meta,
            routstr: self.routstr,
        }
    }
}

impl<T> Deref for RoutstrResponse<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.value
    }
}
