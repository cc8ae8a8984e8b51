//! The Lightning invoice types of a node (`/lightning/invoice`).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::de_opt_i64;
use crate::client::ApiKey;
use crate::routstr::amount::Sats;
use crate::routstr::token::{de_opt_key, ser_opt_key};

/// What a Lightning invoice pays for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InvoicePurpose {
    /// A new key (its id comes with the paid status).
    Create,
    /// A top-up of the client's key.
    Topup,
}

/// The body of `POST /lightning/invoice`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct InvoiceRequest {
    /// Amount in sats.
    pub amount_sats: Sats,
    /// What it pays for.
    pub purpose: InvoicePurpose,
    /// The key to top up (set from the client's `sk-` key for [`InvoicePurpose::Topup`]).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_key"
    )]
    pub api_key: Option<ApiKey>,
}

/// `POST /lightning/invoice`: a BOLT11 invoice to pay.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Invoice {
    /// Id for [`LightningApi::invoice_status`](crate::routstr::LightningApi::invoice_status).
    pub invoice_id: String,
    /// The BOLT11 payment request.
    pub bolt11: String,
    /// Amount in sats.
    pub amount_sats: Sats,
    /// Unix seconds.
    #[serde(deserialize_with = "de_opt_i64")]
    pub expires_at: Option<i64>,
    /// Payment hash (hex).
    pub payment_hash: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The state of a Lightning invoice.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InvoiceState {
    /// Not paid yet.
    #[default]
    Pending,
    /// Paid: the key was created or topped up.
    Paid,
    /// Expired unpaid.
    Expired,
    /// Cancelled.
    Cancelled,
    /// Another value, kept.
    Unknown(String),
}

impl InvoiceState {
    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            InvoiceState::Pending => "pending",
            InvoiceState::Paid => "paid",
            InvoiceState::Expired => "expired",
            InvoiceState::Cancelled => "cancelled",
            InvoiceState::Unknown(s) => s,
        }
    }

    /// Whether the invoice will not change any more (paid, expired or cancelled).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            InvoiceState::Paid | InvoiceState::Expired | InvoiceState::Cancelled
        )
    }
}

impl fmt::Display for InvoiceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for InvoiceState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for InvoiceState {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.to_ascii_lowercase().as_str() {
            "pending" | "unpaid" | "open" => InvoiceState::Pending,
            "paid" | "settled" | "complete" | "completed" => InvoiceState::Paid,
            "expired" => InvoiceState::Expired,
            "cancelled" | "canceled" => InvoiceState::Cancelled,
            _ => InvoiceState::Unknown(s),
        })
    }
}

/// `GET /lightning/invoice/{id}/status`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct InvoiceStatus {
    /// The state.
    pub status: InvoiceState,
    /// The key created or topped up, once paid (redacted in `Debug`).
    #[serde(deserialize_with = "de_opt_key", serialize_with = "ser_opt_key")]
    pub api_key: Option<ApiKey>,
    /// Amount in sats.
    pub amount_sats: Option<Sats>,
    /// Unix seconds.
    #[serde(deserialize_with = "de_opt_i64")]
    pub paid_at: Option<i64>,
    /// Unix seconds.
    #[serde(deserialize_with = "de_opt_i64")]
    pub expires_at: Option<i64>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl InvoiceStatus {
    /// Whether the invoice is paid.
    pub fn is_paid(&self) -> bool {
        self.status == InvoiceState::Paid
    }
}
