//! Request and response types of the Routstr node endpoints. Decoding is lenient: missing
//! fields take defaults, unknown fields are kept in `extra`, amounts accept integers, floats
//! and numeric strings.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::amount::{Msats, Price, Sats};
use super::token::{CashuToken, de_key, de_keys, de_opt_key, ser_key, ser_keys, ser_opt_key};
use crate::client::ApiKey;

mod keep_extra;
mod lightning;

use keep_extra::deserialize_keeping_extra;

pub use lightning::{Invoice, InvoicePurpose, InvoiceRequest, InvoiceState, InvoiceStatus};

/// `GET /v1/info`: who the node is and which mints it accepts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct NodeInfo {
    /// Display name.
    pub name: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// routstr-core version.
    pub version: Option<String>,
    /// The node's Nostr public key.
    pub npub: Option<String>,
    /// Mint URLs whose tokens the node accepts.
    pub mints: Vec<String>,
    /// Public http(s) URL.
    pub http_url: Option<String>,
    /// Tor onion URL.
    pub onion_url: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET /v1/models`: `{data: [Model]}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ModelList {
    /// The models.
    pub data: Vec<Model>,
    /// Other fields (`object`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

deserialize_keeping_extra!(ModelList { data });

impl ModelList {
    /// The model with this id.
    pub fn get(&self, id: &str) -> Option<&Model> {
        self.data.iter().find(|m| m.id == id)
    }
}

/// One model a node serves, with its prices.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Model {
    /// Model id, as sent in chat requests.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Unix seconds.
    pub created: Option<i64>,
    /// Who serves the model (`owned_by` of the OpenAI model list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Context window in tokens.
    pub context_length: Option<u64>,
    /// Modalities and tokenizer.
    pub architecture: Option<Architecture>,
    /// Prices in USD (per token, per request, per image, ...).
    pub pricing: Option<UsdPricing>,
    /// Prices in sats per token (`max_*` in sats): what the node charges.
    pub sats_pricing: Option<SatsPricing>,
    /// Per-request limits (`prompt_tokens`, `completion_tokens`, ...), as sent.
    pub per_request_limits: Option<Map<String, Value>>,
    /// The upstream provider's limits.
    pub top_provider: Option<TopProvider>,
    /// Whether the model is enabled (absent counts as enabled).
    pub enabled: Option<bool>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

deserialize_keeping_extra!(Model {
    id,
    name,
    created,
    owned_by,
    description,
    context_length,
    architecture,
    pricing,
    sats_pricing,
    per_request_limits,
    top_provider,
    enabled,
});

/// A model's modalities and tokenizer.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Architecture {
    /// e.g. `text->text`.
    pub modality: Option<String>,
    /// e.g. `["text", "image"]`.
    pub input_modalities: Vec<String>,
    /// e.g. `["text"]`.
    pub output_modalities: Vec<String>,
    /// Tokenizer family.
    pub tokenizer: Option<String>,
    /// Instruction format, if any.
    pub instruct_type: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

deserialize_keeping_extra!(Architecture {
    modality,
    input_modalities,
    output_modalities,
    tokenizer,
    instruct_type,
});

/// The upstream provider's limits for a model.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct TopProvider {
    /// Context window in tokens.
    pub context_length: Option<u64>,
    /// Longest completion in tokens.
    pub max_completion_tokens: Option<u64>,
    /// Whether the provider moderates content.
    pub is_moderated: Option<bool>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

deserialize_keeping_extra!(TopProvider {
    context_length,
    max_completion_tokens,
    is_moderated,
});

macro_rules! pricing_struct {
    ($(#[$doc:meta])* $name:ident, $unit:literal, $max_unit:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize)]
        #[non_exhaustive]
        pub struct $name {
            #[doc = concat!("Per prompt token, in ", $unit, ".")]
            pub prompt: Option<Price>,
            #[doc = concat!("Per completion token, in ", $unit, ".")]
            pub completion: Option<Price>,
            #[doc = concat!("Per request, in ", $unit, ".")]
            pub request: Option<Price>,
            #[doc = concat!("Per input image, in ", $unit, ".")]
            pub image: Option<Price>,
            #[doc = concat!("Per web search, in ", $unit, ".")]
            pub web_search: Option<Price>,
            #[doc = concat!("Per internal reasoning token, in ", $unit, ".")]
            pub internal_reasoning: Option<Price>,
            #[doc = concat!("Most a prompt may cost, in ", $max_unit, ".")]
            pub max_prompt_cost: Option<Price>,
            #[doc = concat!("Most a completion may cost, in ", $max_unit, ".")]
            pub max_completion_cost: Option<Price>,
            #[doc = concat!("Most a request may cost, in ", $max_unit, " (what the node reserves).")]
            pub max_cost: Option<Price>,
            /// Other fields.
            #[serde(flatten)]
            pub extra: Map<String, Value>,
        }

        deserialize_keeping_extra!($name {
            prompt,
            completion,
            request,
            image,
            web_search,
            internal_reasoning,
            max_prompt_cost,
            max_completion_cost,
            max_cost,
        });
    };
}

pricing_struct! {
    /// A model's prices in USD: per token (`prompt`, `completion`), per request, per image.
    UsdPricing, "USD", "USD"
}

pricing_struct! {
    /// A model's prices in sats per token (`max_*` in sats). The helpers turn them into
    /// exact [`Msats`] amounts, rounding up.
    ///
    /// ```
    /// use rostro_sdk::routstr::{Msats, SatsPricing};
    /// let p: SatsPricing = serde_json::from_str(
    ///     r#"{"prompt": 0.002, "completion": 0.006, "request": 0.5, "max_cost": 40}"#,
    /// ).unwrap();
    /// // 0.5 sat + 100 * 0.002 sat + 50 * 0.006 sat = 1.0 sat
    /// assert_eq!(p.estimate_msats(100, 50), Some(Msats(1000)));
    /// assert_eq!(p.max_cost_msats(), Some(Msats(40_000)));
    /// ```
    SatsPricing, "sats", "sats"
}

impl SatsPricing {
    /// `prompt * tokens` in msats, rounded up (`None` without a prompt price).
    pub fn prompt_msats(&self, tokens: u64) -> Option<Msats> {
        self.prompt.as_ref()?.sats_times_as_msats(tokens)
    }

    /// `completion * tokens` in msats, rounded up (`None` without a completion price).
    pub fn completion_msats(&self, tokens: u64) -> Option<Msats> {
        self.completion.as_ref()?.sats_times_as_msats(tokens)
    }

    /// The per-request price in msats, rounded up (zero when absent).
    pub fn request_msats(&self) -> Option<Msats> {
        match &self.request {
            Some(p) => p.sats_times_as_msats(1),
            None => Some(Msats::ZERO),
        }
    }

    /// What a request with these token counts costs: request + prompt + completion, in
    /// msats (each part rounded up). `None` when a token price is missing.
    pub fn estimate_msats(&self, prompt_tokens: u64, completion_tokens: u64) -> Option<Msats> {
        self.request_msats()?
            .checked_add(self.prompt_msats(prompt_tokens)?)?
            .checked_add(self.completion_msats(completion_tokens)?)
    }

    /// `max_cost` in msats: what the node reserves (and the least balance it wants) for one
    /// request to this model.
    pub fn max_cost_msats(&self) -> Option<Msats> {
        self.max_cost.as_ref()?.sats_times_as_msats(1)
    }

    /// `max_prompt_cost` in msats.
    pub fn max_prompt_cost_msats(&self) -> Option<Msats> {
        self.max_prompt_cost.as_ref()?.sats_times_as_msats(1)
    }

    /// `max_completion_cost` in msats.
    pub fn max_completion_cost_msats(&self) -> Option<Msats> {
        self.max_completion_cost.as_ref()?.sats_times_as_msats(1)
    }
}

/// `GET /v1/providers`: other Routstr nodes this node knows. Accepts `{providers: [...]}` and
/// a bare array.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ProviderList {
    /// The providers.
    pub providers: Vec<Provider>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl<'de> Deserialize<'de> for ProviderList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wrapped {
            #[serde(default)]
            providers: Vec<Provider>,
            #[serde(flatten)]
            extra: Map<String, Value>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Bare(Vec<Provider>),
            Wrapped(Wrapped),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::Bare(providers) => ProviderList {
                providers,
                extra: Map::new(),
            },
            Raw::Wrapped(w) => ProviderList {
                providers: w.providers,
                extra: w.extra,
            },
        })
    }
}

/// One provider (node) in [`ProviderList`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Provider {
    /// Identifier.
    pub id: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Base URL (`endpoint_url`, also read from `url` and `http_url`).
    #[serde(alias = "url", alias = "http_url")]
    pub endpoint_url: Option<String>,
    /// Tor onion URL.
    pub onion_url: Option<String>,
    /// Nostr public key.
    pub npub: Option<String>,
    /// Accepted mints.
    pub mints: Vec<String>,
    /// routstr-core version.
    pub version: Option<String>,
    /// `online`, `active`, ...
    pub status: Option<String>,
    /// Models, as sent (ids or objects).
    pub models: Vec<Value>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET /v1/balance/info`: the key's balance (msat) and limits.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct BalanceInfo {
    /// The key itself (`sk-...`; redacted in `Debug`, in the clear when serialized).
    #[serde(deserialize_with = "de_opt_key", serialize_with = "ser_opt_key")]
    pub api_key: Option<ApiKey>,
    /// Balance.
    pub balance: Msats,
    /// Reserved for requests in flight.
    pub reserved: Msats,
    /// Whether this is a child key (spending its parent's balance).
    pub is_child: bool,
    /// Requests made with this key.
    pub total_requests: u64,
    /// Spent so far.
    pub total_spent: Msats,
    /// Spending limit (child keys).
    pub balance_limit: Option<Msats>,
    /// When the limit resets, as sent (`daily`, a timestamp, ...).
    #[serde(deserialize_with = "de_opt_text")]
    pub balance_limit_reset: Option<String>,
    /// Unix seconds after which the key stops working.
    #[serde(deserialize_with = "de_opt_i64")]
    pub validity_date: Option<i64>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl BalanceInfo {
    /// `balance - reserved`: what new requests can spend.
    pub fn available(&self) -> Msats {
        self.balance.saturating_sub(self.reserved)
    }
}

/// The body of `POST /v1/balance/create` (see
/// [`BalanceApi::create`](super::BalanceApi::create)).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct CreateBalanceRequest {
    /// The token redeemed into the new key's balance.
    pub initial_balance_token: CashuToken,
    /// Spending limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance_limit: Option<Msats>,
    /// When the limit resets (`daily`, `weekly`, `monthly`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance_limit_reset: Option<String>,
    /// Unix seconds after which the key stops working.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validity_date: Option<i64>,
}

/// `POST /v1/balance/create`: the new key and its balance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CreatedBalance {
    /// The new `sk-` key (redacted in `Debug`, in the clear when serialized: save it).
    #[serde(deserialize_with = "de_key", serialize_with = "ser_key")]
    pub api_key: ApiKey,
    /// Its balance.
    #[serde(default)]
    pub balance: Msats,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The body of `POST /v1/balance/topup`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct TopupRequest {
    /// The token redeemed into the key's balance.
    pub cashu_token: CashuToken,
}

/// `POST /v1/balance/topup`: `{msats}` added.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Topup {
    /// Amount added.
    pub msats: Msats,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `POST /v1/balance/refund`: the balance paid out as a token, in `sats` or `msats`
/// depending on the mint's unit.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Refund {
    /// The refund token (spendable money; redacted in `Debug`).
    pub token: Option<CashuToken>,
    /// Amount, when the node reports msats.
    pub msats: Option<Msats>,
    /// Amount, when the node reports sats.
    pub sats: Option<Sats>,
    /// Lightning address or LNURL paid instead of a token, if any.
    pub recipient: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Refund {
    /// The refunded amount in msats (from `msats`, else `sats`).
    pub fn amount(&self) -> Option<Msats> {
        self.msats.or(self.sats.map(Sats::to_msats))
    }
}

/// `GET /v1/balance/history`: `{transactions: [...]}`, newest first as the node sends them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct History {
    /// The transactions.
    pub transactions: Vec<Transaction>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One entry of [`History`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Transaction {
    /// Identifier (a number or a string on the wire, kept as text).
    #[serde(deserialize_with = "de_opt_text")]
    pub id: Option<String>,
    /// `type`: e.g. `in`/`out`, `credit`/`debit`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// What caused it: `create`, `topup`, `refund`, `x-cashu`, `lightning`, ...
    pub source: Option<String>,
    /// Amount in [`unit`](Self::unit)s.
    pub amount: Option<u64>,
    /// `msat` or `sat`.
    pub unit: Option<String>,
    /// The mint involved.
    pub mint_url: Option<String>,
    /// When, as sent (Unix seconds or an ISO date).
    #[serde(deserialize_with = "de_opt_text")]
    pub created_at: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Transaction {
    /// The amount in msats (`unit` `sat`/`sats` multiplies by 1000; anything else is msat).
    pub fn amount_msats(&self) -> Option<Msats> {
        let amount = self.amount?;
        match self.unit.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("sat" | "sats") => Some(Sats(amount).to_msats()),
            _ => Some(Msats(amount)),
        }
    }
}

/// The body of `POST /v1/balance/child-key`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ChildKeyRequest {
    /// How many keys, 1..=50.
    pub count: u32,
    /// Spending limit of each child key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance_limit: Option<Msats>,
}

/// `POST /v1/balance/child-key`: the new keys and what they cost.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct ChildKeys {
    /// The new keys (redacted in `Debug`, in the clear when serialized).
    #[serde(deserialize_with = "de_keys", serialize_with = "ser_keys")]
    pub api_keys: Vec<ApiKey>,
    /// Number of keys.
    pub count: u32,
    /// What creating them cost (taken from the parent balance).
    pub cost_msats: Option<Msats>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Reads a string, number or bool as text (`null`/absent is `None`).
fn de_opt_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => Some(other.to_string()),
    })
}

/// Reads an integer from a number or numeric string (anything else is `None`).
pub(super) fn de_opt_i64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}
