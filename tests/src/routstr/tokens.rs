//! Fake Cashu tokens: minting and decoding.

use super::*;

/// Builds a fake Cashu token worth `msats` from `mint` (see the module docs
/// for the format); `secret` makes it unique.
pub fn mint_token(mint: &str, msats: u64, secret: &str) -> String {
    let mut c = Sha256::new();
    c.update(secret.as_bytes());
    let point = hex::encode(c.finalize());
    let json = json!({
        "token": [{"mint": mint, "proofs": [{"id": KEYSET_ID, "amount": msats, "secret": secret, "C": format!("02{point}")}]}],
        "unit": "msat",
        "memo": "rostro-mock",
    });
    format!("cashuA{}", URL_SAFE_NO_PAD.encode(json.to_string()))
}

/// A decoded fake token.
pub(super) struct Decoded {
    pub(super) msats: u64,
    pub(super) mint: String,
    pub(super) secrets: Vec<String>,
}

pub(super) fn decode_token(token: &str) -> Option<Decoded> {
    let t = token.trim();
    let payload = t
        .strip_prefix("cashuA")
        .or_else(|| t.strip_prefix("cashuB"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .or_else(|_| URL_SAFE.decode(payload))
        .or_else(|_| STANDARD.decode(payload))
        .ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    if let Some(m) = v.get("amount_msat").and_then(Value::as_u64) {
        let secret = v
            .get("secret")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| hex::encode(Sha256::digest(t.as_bytes())));
        return Some(Decoded {
            msats: m,
            mint: v
                .get("mint")
                .and_then(Value::as_str)
                .unwrap_or(DEFAULT_MINT_URL)
                .into(),
            secrets: vec![secret],
        });
    }
    let factor = match v.get("unit").and_then(Value::as_str).unwrap_or("sat") {
        "msat" => 1,
        "sat" => 1000,
        _ => return None,
    };
    let mut msats = 0u64;
    let mut mint = String::new();
    let mut secrets = Vec::new();
    for entry in v.get("token")?.as_array()? {
        if mint.is_empty() {
            mint = entry.get("mint")?.as_str()?.to_string();
        }
        for proof in entry.get("proofs")?.as_array()? {
            msats = msats.checked_add(proof.get("amount")?.as_u64()?.checked_mul(factor)?)?;
            secrets.push(proof.get("secret")?.as_str()?.to_string());
        }
    }
    (!secrets.is_empty()).then_some(Decoded {
        msats,
        mint,
        secrets,
    })
}

/// The value in msat of a fake token (`None` if it is not one).
pub fn token_value_msats(token: &str) -> Option<u64> {
    decode_token(token).map(|d| d.msats)
}

pub(super) fn sha_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.trim().as_bytes()))
}
