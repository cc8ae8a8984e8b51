//! Credentials: [`CashuToken`] (eCash, bearer money) and [`Credential`] (an `sk-` key or a
//! token), validated before anything is sent and redacted in `Debug`/`Display`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::client::ApiKey;

/// Shortest token payload (after `cashuA`/`cashuB`) that is taken for a token.
const MIN_TOKEN_PAYLOAD: usize = 16;
/// Shortest key body (after `sk-`).
const MIN_KEY_BODY: usize = 8;

/// Why a string is not a usable Routstr credential. The message never contains the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidCredential(&'static str);

impl InvalidCredential {
    /// What is wrong, e.g. `not a cashu token (expected cashuA... or cashuB...)`.
    pub fn reason(&self) -> &'static str {
        self.0
    }
}

/// Which serialization a Cashu token uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenVersion {
    /// `cashuA...`: V3, base64url JSON.
    V3,
    /// `cashuB...`: V4, base64url CBOR.
    V4,
    /// A token received from a node in another format (kept verbatim).
    Unknown,
}

/// A Cashu eCash token: bearer money. `Debug` and `Display` print only its prefix
/// (`cashuA…`); [`expose`](CashuToken::expose) gives the token itself. Serializing writes
/// the token in the clear (that is how it is sent and saved).
///
/// ```
/// use rostro_sdk::routstr::CashuToken;
/// let t = CashuToken::parse("cashuAeyJ0b2tlbiI6W3sibWludCI6Imh0dHBzOi8vbWludCJ9XX0").unwrap();
/// assert_eq!(format!("{t:?}"), "CashuToken(cashuA…)");
/// assert!(CashuToken::parse("cashuA!!").is_err());
/// assert!(CashuToken::parse("sk-123").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CashuToken(Box<str>);

impl CashuToken {
    /// Validates a token: `cashuA` or `cashuB` followed by at least 16 base64 (standard or
    /// url-safe, padding optional) characters; a `cashuA` payload must decode to a JSON
    /// object. Surrounding whitespace is trimmed. Nothing is checked with a mint.
    pub fn parse(text: &str) -> Result<CashuToken, InvalidCredential> {
        let t = text.trim();
        let payload = t
            .strip_prefix("cashuA")
            .or_else(|| t.strip_prefix("cashuB"))
            .ok_or(InvalidCredential(
                "not a cashu token (expected cashuA... or cashuB...)",
            ))?;
        if payload.len() < MIN_TOKEN_PAYLOAD {
            return Err(InvalidCredential("the cashu token is too short"));
        }
        let first = base64_prefix(payload)
            .ok_or(InvalidCredential("the cashu token is not valid base64"))?;
        if t.starts_with("cashuA") && first != b'{' {
            return Err(InvalidCredential(
                "the cashuA token does not contain a json object",
            ));
        }
        Ok(CashuToken(t.into()))
    }

    /// A token received from a node (change, refund): kept verbatim, never dropped, even if
    /// it does not look like one.
    pub(crate) fn received(text: &str) -> CashuToken {
        CashuToken(text.trim().into())
    }

    /// The token itself. Keep it out of logs: it is spendable money.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `cashuA` (V3) or `cashuB` (V4).
    pub fn version(&self) -> TokenVersion {
        if self.0.starts_with("cashuA") {
            TokenVersion::V3
        } else if self.0.starts_with("cashuB") {
            TokenVersion::V4
        } else {
            TokenVersion::Unknown
        }
    }

    fn prefix(&self) -> &str {
        match self.version() {
            TokenVersion::V3 => "cashuA",
            TokenVersion::V4 => "cashuB",
            TokenVersion::Unknown => "",
        }
    }
}

impl AsRef<str> for CashuToken {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CashuToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CashuToken({}…)", self.prefix())
    }
}

impl fmt::Display for CashuToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}…", self.prefix())
    }
}

impl Serialize for CashuToken {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for CashuToken {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| CashuToken::received(&s))
    }
}

/// Checks that `payload` is base64 (either alphabet, optional padding) and returns its first
/// decoded byte.
fn base64_prefix(payload: &str) -> Option<u8> {
    fn val(c: u8) -> Option<u8> {
        match c {
            b'A'..=b'Z' => Some(c - b'A'),
            b'a'..=b'z' => Some(c - b'a' + 26),
            b'0'..=b'9' => Some(c - b'0' + 52),
            b'+' | b'-' => Some(62),
            b'/' | b'_' => Some(63),
            _ => None,
        }
    }
    let body = payload.trim_end_matches('=');
    if payload.len() - body.len() > 2 || body.len() % 4 == 1 {
        return None;
    }
    let bytes = body.as_bytes();
    if !bytes.iter().all(|&c| val(c).is_some()) {
        return None;
    }
    let a = val(*bytes.first()?)?;
    let b = val(*bytes.get(1)?)?;
    Some((a << 2) | (b >> 4))
}

/// Validates an API key: `sk-` followed by at least 8 of `A-Z a-z 0-9 - _`.
pub(crate) fn check_api_key(text: &str) -> Result<(), InvalidCredential> {
    let body = text
        .strip_prefix("sk-")
        .ok_or(InvalidCredential("not an api key (expected sk-...)"))?;
    if body.len() < MIN_KEY_BODY
        || !body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(InvalidCredential(
            "the api key is malformed (expected sk- and at least 8 letters, digits, - or _)",
        ));
    }
    Ok(())
}

/// What authenticates calls to a Routstr node (`Authorization: Bearer ...`): an `sk-` API
/// key, or a Cashu token (redeemed once by the node, whose hash then becomes the key).
/// `Debug` never shows the secret.
///
/// ```
/// use rostro_sdk::routstr::Credential;
/// assert!(matches!(Credential::parse("sk-0123456789abcdef"), Ok(Credential::ApiKey(_))));
/// assert!(Credential::parse("hunter2").is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credential {
    /// An `sk-...` key.
    ApiKey(ApiKey),
    /// A `cashuA...`/`cashuB...` token used as the key.
    Token(CashuToken),
}

impl Credential {
    /// Recognises an `sk-` key or a Cashu token (trimmed); anything else is rejected.
    pub fn parse(text: &str) -> Result<Credential, InvalidCredential> {
        let t = text.trim();
        if t.starts_with("cashu") {
            return CashuToken::parse(t).map(Credential::Token);
        }
        check_api_key(t)?;
        Ok(Credential::ApiKey(ApiKey::new(t)))
    }

    /// The secret as sent after `Bearer `.
    pub fn expose(&self) -> &str {
        match self {
            Credential::ApiKey(k) => k.expose(),
            Credential::Token(t) => t.expose(),
        }
    }

    /// Whether this is a Cashu token rather than an `sk-` key.
    pub fn is_token(&self) -> bool {
        matches!(self, Credential::Token(_))
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::ApiKey(_) => f.write_str("ApiKey(sk-***)"),
            Credential::Token(t) => write!(f, "Token({t:?})"),
        }
    }
}

/// Serializes an [`ApiKey`] in the clear (response types hand new keys to their owner).
pub(crate) fn ser_key<S: Serializer>(key: &ApiKey, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(key.expose())
}

/// Serializes an optional [`ApiKey`] in the clear.
pub(crate) fn ser_opt_key<S: Serializer>(key: &Option<ApiKey>, s: S) -> Result<S::Ok, S::Error> {
    match key {
        Some(k) => s.serialize_str(k.expose()),
        None => s.serialize_none(),
    }
}

/// Serializes a list of [`ApiKey`]s in the clear.
pub(crate) fn ser_keys<S: Serializer>(keys: &[ApiKey], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(keys.iter().map(ApiKey::expose))
}

/// Reads an [`ApiKey`] from a string.
pub(crate) fn de_key<'de, D: Deserializer<'de>>(d: D) -> Result<ApiKey, D::Error> {
    String::deserialize(d).map(ApiKey::new)
}

/// Reads an optional [`ApiKey`] (absent, `null` or a string).
pub(crate) fn de_opt_key<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ApiKey>, D::Error> {
    Option::<String>::deserialize(d).map(|k| k.filter(|k| !k.is_empty()).map(ApiKey::new))
}

/// Reads a list of [`ApiKey`]s.
pub(crate) fn de_keys<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ApiKey>, D::Error> {
    Option::<Vec<String>>::deserialize(d)
        .map(|k| k.unwrap_or_default().into_iter().map(ApiKey::new).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD_A: &str = "cashuAeyJ0b2tlbiI6W3sibWludCI6Imh0dHA6Ly9taW50In1dfQ";

    #[test]
    fn tokens_are_validated() {
        assert!(CashuToken::parse(GOOD_A).is_ok());
        assert!(CashuToken::parse(&format!("  {GOOD_A}\n")).is_ok());
        assert_eq!(
            CashuToken::parse(GOOD_A).unwrap().version(),
            TokenVersion::V3
        );
        // cashuB: any base64 payload (CBOR is not decoded).
        assert!(CashuToken::parse("cashuBomFteGh0dHBzOi8vbWludC5leGFtcGxlLmNvbQ").is_ok());
        // Padding and the standard alphabet.
        assert!(
            CashuToken::parse("cashuAeyJ0b2tlbiI6W3sibWludCI6Imh0dHA6Ly9taW50In1dfQ==").is_ok()
        );
        for bad in [
            "",
            "cashu",
            "cashuA",
            "cashuAeyJ0",
            "cashuCeyJ0b2tlbiI6W3sibWludCI6Imh0dHA",
            "cashuAeyJ0b2tlbiI6W3sibW!udCI6Imh0dHA6Ly9taW50In1dfQ",
            "cashuAeyJ0b2tlbiI6W3sibWludCI6I mh0dHA6Ly9taW50In1dfQ",
            "cashuAW3sibWludCI6Imh0dHA6Ly9taW50In1dfQ",
            "cashuAeyJ0b2tlbiI6W3sibWludCI6Imh0dHA6Ly9taW50In1dfQ===",
            "sk-abcdefgh12345678",
        ] {
            let err = CashuToken::parse(bad).unwrap_err();
            assert!(!bad.is_empty() || !err.reason().is_empty());
        }
    }

    #[test]
    fn credentials_are_recognised_and_redacted() {
        let key = Credential::parse("sk-0123456789abcdef").unwrap();
        assert!(!key.is_token());
        assert!(!format!("{key:?}").contains("0123"));
        let tok = Credential::parse(GOOD_A).unwrap();
        assert!(tok.is_token());
        assert!(!format!("{tok:?}").contains("eyJ0"));
        assert_eq!(tok.expose(), GOOD_A);
        for bad in [
            "",
            "sk-",
            "sk-short",
            "sk-has space1234",
            "Bearer sk-0123456789",
            "pk-0123456789abcdef",
            "cashuA",
        ] {
            assert!(Credential::parse(bad).is_err(), "{bad}");
        }
        let err = Credential::parse("sk-has space1234").unwrap_err();
        assert!(!err.to_string().contains("space"));
    }
}
