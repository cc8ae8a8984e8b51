//! The decoded error bodies the Rostro API and Routstr nodes send, and how they are
//! recognised.

use std::fmt::{self, Write as _};

use serde::Serialize;
use serde_json::{Map, Value};

use super::text::{readable_text, snippet};

/// An integer or string error code (the API sends both).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ErrorCode {
    /// A numeric code.
    Int(i64),
    /// A textual code such as `insufficient_balance`.
    Str(String),
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorCode::Int(i) => write!(f, "{i}"),
            ErrorCode::Str(s) => f.write_str(s),
        }
    }
}

/// The spec's `UserError`: `{error, errorCode, code}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct UserError {
    /// Human-readable message.
    pub error: Option<String>,
    /// `errorCode` (usually the HTTP status).
    #[serde(rename = "errorCode")]
    pub error_code: Option<ErrorCode>,
    /// Application error code.
    pub code: Option<ErrorCode>,
}

/// The spec's `APIError`: `{error, message, type, code, errorCode, param}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ApiError {
    /// Short error (sometimes the only text).
    pub error: Option<String>,
    /// Human-readable message.
    pub message: Option<String>,
    /// The `type` field.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Application error code.
    pub code: Option<ErrorCode>,
    /// `errorCode` (usually the HTTP status).
    #[serde(rename = "errorCode")]
    pub error_code: Option<ErrorCode>,
    /// The offending parameter, if reported.
    pub param: Option<Value>,
}

/// The spec's `HTTPValidationError` (status 422): `{detail: [ValidationError]}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct HttpValidationError {
    /// One entry per invalid field.
    pub detail: Vec<ValidationError>,
}

/// The spec's `ValidationError`: `{loc, msg, type}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ValidationError {
    /// Location of the field, e.g. `["body", "messages", 0]`.
    pub loc: Vec<LocItem>,
    /// Message, e.g. `field required`.
    pub msg: String,
    /// The `type` field, e.g. `value_error.missing`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// One step of a [`ValidationError::loc`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum LocItem {
    /// An object key.
    Key(String),
    /// An array index.
    Index(i64),
}

impl fmt::Display for LocItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocItem::Key(k) => f.write_str(k),
            LocItem::Index(i) => write!(f, "{i}"),
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.loc.iter().enumerate() {
            if i > 0 {
                f.write_char('.')?;
            }
            write!(f, "{item}")?;
        }
        if !self.loc.is_empty() {
            f.write_str(": ")?;
        }
        f.write_str(&self.msg)
    }
}

/// The spec's `Rejection` (content moderation, credits): `{reason, location}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Rejection {
    /// `unknown`, `explicit_text`, `explicit_image`, `malformed_image`, `out_of_credits`, or
    /// free text on Routstr nodes.
    pub reason: Option<String>,
    /// Where the rejected content was found.
    pub location: Option<String>,
    /// The `type` field, when sent (Routstr: `minimum_balance_required`).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Any other fields (Routstr: `amount_required_msat`, `model`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The OpenAI-style envelope `{error: {message, type, code, param}}` (mimic API, Routstr).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct OpenAiError {
    /// Human-readable message.
    pub message: Option<String>,
    /// The `type` field, e.g. `invalid_request_error`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Error code, e.g. `invalid_api_key` or `insufficient_balance`.
    pub code: Option<ErrorCode>,
    /// The offending parameter, if reported.
    pub param: Option<Value>,
}

/// A decoded non-2xx response body.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub enum ApiErrorBody {
    /// `UserError` `{error, errorCode, code}`.
    User(UserError),
    /// `APIError` `{error, message, type, code, errorCode, param}`.
    Api(ApiError),
    /// `HTTPValidationError` `{detail: [{loc, msg, type}]}`.
    Validation(HttpValidationError),
    /// `Rejection` `{reason, location}`.
    Rejection(Rejection),
    /// OpenAI-style `{error: {type, message, code, param}}`.
    OpenAi(OpenAiError),
    /// `{detail: "message"}`.
    Detail(String),
    /// Anything else, as one readable line of at most [`SNIPPET_MAX_CHARS`](super::SNIPPET_MAX_CHARS) characters
    /// (the `<title>` of an HTML page; empty for an empty body).
    Text(String),
}

impl ApiErrorBody {
    /// Decodes an error body, recognising (in this order) `UserError`, `APIError`,
    /// `HTTPValidationError`, `Rejection`, the OpenAI envelope and `{detail: "..."}`; anything
    /// else becomes [`ApiErrorBody::Text`].
    pub fn parse(body: &[u8]) -> Self {
        Self::parse_with_request_id(body).0
    }

    /// Like [`parse`](Self::parse), also returning a top-level `request_id` string field.
    pub(crate) fn parse_with_request_id(body: &[u8]) -> (Self, Option<String>) {
        let trimmed = body.trim_ascii();
        if trimmed.first() == Some(&b'{')
            && let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(trimmed)
        {
            let request_id = map
                .get("request_id")
                .and_then(Value::as_str)
                .map(str::to_owned);
            if let Some(parsed) = classify(&map, true) {
                return (parsed, request_id);
            }
            return (ApiErrorBody::Text(snippet(trimmed)), request_id);
        }
        (ApiErrorBody::Text(readable_text(trimmed)), None)
    }

    /// The application error code, when the body carries one.
    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            ApiErrorBody::User(e) => e.code.as_ref(),
            ApiErrorBody::Api(e) => e.code.as_ref(),
            ApiErrorBody::OpenAi(e) => e.code.as_ref(),
            _ => None,
        }
    }

    /// The error `type`, when the body carries one.
    pub fn kind(&self) -> Option<&str> {
        match self {
            ApiErrorBody::Api(e) => e.kind.as_deref(),
            ApiErrorBody::OpenAi(e) => e.kind.as_deref(),
            ApiErrorBody::Rejection(e) => e.reason.as_deref(),
            _ => None,
        }
    }
}

impl fmt::Display for ApiErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn with_code(
            f: &mut fmt::Formatter<'_>,
            text: &str,
            code: Option<&ErrorCode>,
        ) -> fmt::Result {
            f.write_str(text)?;
            match code {
                // `code: 0` is the API's "no application code": showing it says nothing.
                Some(ErrorCode::Int(0)) => Ok(()),
                Some(code) if code.to_string() != text => write!(f, " ({code})"),
                _ => Ok(()),
            }
        }
        match self {
            ApiErrorBody::User(e) => with_code(
                f,
                e.error.as_deref().unwrap_or("user error"),
                e.code.as_ref(),
            ),
            ApiErrorBody::Api(e) => {
                let text = e
                    .message
                    .as_deref()
                    .or(e.error.as_deref())
                    .or(e.kind.as_deref())
                    .unwrap_or("api error");
                with_code(f, text, e.code.as_ref())
            }
            ApiErrorBody::OpenAi(e) => {
                let text = e
                    .message
                    .as_deref()
                    .or(e.kind.as_deref())
                    .unwrap_or("error");
                with_code(f, text, e.code.as_ref())
            }
            ApiErrorBody::Validation(v) => {
                const SHOWN: usize = 5;
                if v.detail.is_empty() {
                    return f.write_str("validation error");
                }
                for (i, item) in v.detail.iter().take(SHOWN).enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{item}")?;
                }
                if v.detail.len() > SHOWN {
                    write!(f, " (and {} more)", v.detail.len() - SHOWN)?;
                }
                Ok(())
            }
            ApiErrorBody::Rejection(r) => {
                write!(f, "rejected: {}", r.reason.as_deref().unwrap_or("unknown"))?;
                match &r.location {
                    Some(loc) => write!(f, " (at {loc})"),
                    None => Ok(()),
                }
            }
            ApiErrorBody::Detail(d) => f.write_str(d),
            ApiErrorBody::Text(t) if t.is_empty() => f.write_str("empty response body"),
            ApiErrorBody::Text(t) => f.write_str(t),
        }
    }
}

fn str_field(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn code_field(map: &Map<String, Value>, key: &str) -> Option<ErrorCode> {
    match map.get(key)? {
        Value::Number(n) => n.as_i64().map(ErrorCode::Int),
        Value::String(s) => Some(ErrorCode::Str(s.clone())),
        _ => None,
    }
}

fn classify(map: &Map<String, Value>, top_level: bool) -> Option<ApiErrorBody> {
    let error = map.get("error");
    // OpenAI-style `{error: {...}}`, also Routstr's `{detail: {error}, error, request_id}`.
    if let Some(Value::Object(inner)) = error {
        return Some(ApiErrorBody::OpenAi(OpenAiError {
            message: str_field(inner, "message"),
            kind: str_field(inner, "type"),
            code: code_field(inner, "code"),
            param: inner.get("param").filter(|v| !v.is_null()).cloned(),
        }));
    }
    let error_str = error.and_then(Value::as_str);
    let has_api_only = ["message", "param"].iter().any(|k| map.contains_key(*k));
    if error_str.is_some() && !has_api_only && !map.contains_key("type") {
        return Some(ApiErrorBody::User(UserError {
            error: error_str.map(str::to_owned),
            error_code: code_field(map, "errorCode"),
            code: code_field(map, "code"),
        }));
    }
    if error_str.is_some() || map.get("message").is_some_and(Value::is_string) {
        return Some(ApiErrorBody::Api(ApiError {
            error: error_str.map(str::to_owned),
            message: str_field(map, "message"),
            kind: str_field(map, "type"),
            code: code_field(map, "code"),
            error_code: code_field(map, "errorCode"),
            param: map.get("param").filter(|v| !v.is_null()).cloned(),
        }));
    }
    match map.get("detail") {
        Some(Value::Array(items)) => {
            if let Some(detail) = items.iter().map(validation_item).collect() {
                return Some(ApiErrorBody::Validation(HttpValidationError { detail }));
            }
        }
        Some(Value::String(s)) => return Some(ApiErrorBody::Detail(s.clone())),
        Some(Value::Object(inner)) if top_level => {
            if let Some(parsed) = classify(inner, false) {
                return Some(parsed);
            }
        }
        _ => {}
    }
    if let Some(reason) = map.get("reason").and_then(Value::as_str) {
        return Some(ApiErrorBody::Rejection(Rejection {
            reason: Some(reason.to_owned()),
            location: str_field(map, "location"),
            kind: str_field(map, "type"),
            extra: map
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "reason" | "location" | "type"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }));
    }
    None
}

fn validation_item(v: &Value) -> Option<ValidationError> {
    let obj = v.as_object()?;
    let loc = obj
        .get("loc")?
        .as_array()?
        .iter()
        .map(|l| match l {
            Value::String(s) => Some(LocItem::Key(s.clone())),
            Value::Number(n) => n.as_i64().map(LocItem::Index),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some(ValidationError {
        loc,
        msg: obj.get("msg")?.as_str()?.to_owned(),
        kind: str_field(obj, "type").unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_code_is_not_shown_and_a_real_one_is() {
        let p = |s: &str| ApiErrorBody::parse(s.as_bytes()).to_string();
        assert_eq!(
            p(r#"{"code":0,"error":"Project not found.","errorCode":404}"#),
            "Project not found."
        );
        assert_eq!(
            p(r#"{"code":7,"error":"nope","errorCode":400}"#),
            "nope (7)"
        );
    }

    #[test]
    fn recognition_order() {
        let p = |s: &str| ApiErrorBody::parse(s.as_bytes());
        assert!(matches!(
            p(r#"{"error":"nope","errorCode":400,"code":7}"#),
            ApiErrorBody::User(_)
        ));
        assert!(matches!(
            p(r#"{"error":"x","message":"m","type":"t","code":"c"}"#),
            ApiErrorBody::Api(_)
        ));
        assert!(matches!(
            p(r#"{"detail":[{"loc":["body",1],"msg":"m","type":"t"}]}"#),
            ApiErrorBody::Validation(_)
        ));
        assert!(matches!(
            p(r#"{"reason":"explicit_text","location":null}"#),
            ApiErrorBody::Rejection(_)
        ));
        assert!(matches!(
            p(r#"{"error":{"message":"m","type":"t","code":401}}"#),
            ApiErrorBody::OpenAi(_)
        ));
        assert!(matches!(p(r#"{"detail":"gone"}"#), ApiErrorBody::Detail(_)));
        assert!(matches!(
            p(r#"{"detail":{"error":{"message":"broke","code":"insufficient_balance"}}}"#),
            ApiErrorBody::OpenAi(_)
        ));
        assert!(matches!(
            p(r#"{"detail":{"reason":"low","type":"minimum_balance_required"}}"#),
            ApiErrorBody::Rejection(_)
        ));
        assert_eq!(p(""), ApiErrorBody::Text(String::new()));
        assert_eq!(p("[1,2]"), ApiErrorBody::Text("[1,2]".into()));
    }
}
