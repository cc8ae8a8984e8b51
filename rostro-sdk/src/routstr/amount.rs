//! Money: [`Msats`] and [`Sats`] amounts, per-token [`Price`]s and the [`UsdAmount`] a node
//! reports. Amounts are integers; nothing here uses `f64` for money (the `to_f64` helpers
//! exist for display and are labelled approximate).

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// An amount in millisatoshis (1 sat = 1000 msat), the unit Routstr nodes keep balances in.
///
/// ```
/// use rostro_sdk::routstr::{Msats, Sats};
/// let balance = Msats(12_345);
/// assert_eq!(balance.to_sats_floor(), Sats(12));
/// assert_eq!(balance.to_sats_ceil(), Sats(13));
/// assert_eq!(Msats::from(Sats(2)), Msats(2_000));
/// assert_eq!(balance.to_string(), "12345 msat");
/// ```
///
/// Decoding is lenient about the JSON number: `12345`, `12345.0` and `"12345"` all decode
/// (a fractional value is rounded to the nearest msat).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Msats(pub u64);

/// An amount in satoshis.
///
/// ```
/// use rostro_sdk::routstr::{Msats, Sats};
/// assert_eq!(Sats(21).to_msats(), Msats(21_000));
/// assert_eq!(Sats(21).to_string(), "21 sat");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Sats(pub u64);

impl Msats {
    /// Zero.
    pub const ZERO: Msats = Msats(0);

    /// The number of msats.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// Whole sats, rounding down (what a mint can pay out).
    pub const fn to_sats_floor(self) -> Sats {
        Sats(self.0 / 1000)
    }

    /// Whole sats, rounding up (what covers this amount).
    pub const fn to_sats_ceil(self) -> Sats {
        Sats(self.0.div_ceil(1000))
    }

    /// `self + other`, `None` on overflow.
    pub const fn checked_add(self, other: Msats) -> Option<Msats> {
        match self.0.checked_add(other.0) {
            Some(v) => Some(Msats(v)),
            None => None,
        }
    }

    /// `self - other`, `None` when `other` is larger.
    pub const fn checked_sub(self, other: Msats) -> Option<Msats> {
        match self.0.checked_sub(other.0) {
            Some(v) => Some(Msats(v)),
            None => None,
        }
    }

    /// `self - other`, or zero when `other` is larger.
    pub const fn saturating_sub(self, other: Msats) -> Msats {
        Msats(self.0.saturating_sub(other.0))
    }

    /// The amount in sats as a float, for display only (approximate above 2^53 msat).
    pub fn to_sats_f64(self) -> f64 {
        self.0 as f64 / 1000.0
    }
}

impl Sats {
    /// Zero.
    pub const ZERO: Sats = Sats(0);

    /// The number of sats.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The amount in msats (saturating at `u64::MAX`).
    pub const fn to_msats(self) -> Msats {
        Msats(self.0.saturating_mul(1000))
    }
}

impl From<Sats> for Msats {
    fn from(s: Sats) -> Msats {
        s.to_msats()
    }
}

impl fmt::Display for Msats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} msat", self.0)
    }
}

impl fmt::Display for Sats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} sat", self.0)
    }
}

/// Reads a non-negative integer amount from a JSON number or numeric string, rounding a
/// fractional value to the nearest unit.
struct AmountVisitor(&'static str);

impl Visitor<'_> for AmountVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a non-negative amount in {}", self.0)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::custom(format!("negative amount {v}")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
        if (0.0..1.8e19).contains(&v) {
            Ok(v.round() as u64)
        } else {
            Err(E::custom(format!("invalid amount {v}")))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        let dec = Decimal::parse(v).ok_or_else(|| E::custom("invalid amount"))?;
        dec.scaled_round(1, 0)
            .ok_or_else(|| E::custom("invalid amount"))
    }
}

impl<'de> Deserialize<'de> for Msats {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AmountVisitor("msat")).map(Msats)
    }
}

impl<'de> Deserialize<'de> for Sats {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AmountVisitor("sat")).map(Sats)
    }
}

/// A non-negative decimal number held exactly: `mantissa * 10^-scale`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Decimal {
    mantissa: u128,
    scale: i32,
}

impl Decimal {
    /// Parses `12`, `0.0045`, `3e-6`, `1.5E+2` (surrounding whitespace allowed). Negative
    /// numbers, `NaN` and garbage give `None`. Digits beyond the 30th are dropped.
    pub(crate) fn parse(text: &str) -> Option<Decimal> {
        let s = text.trim();
        let s = s.strip_prefix('+').unwrap_or(s);
        let (num, exp) = match s.find(['e', 'E']) {
            Some(i) => (&s[..i], s[i + 1..].parse::<i32>().ok()?),
            None => (s, 0),
        };
        let (int, frac) = num.split_once('.').unwrap_or((num, ""));
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        let mut mantissa: u128 = 0;
        let mut digits = 0u32;
        let mut scale: i32 = 0;
        for (i, c) in int.chars().chain(frac.chars()).enumerate() {
            let d = c.to_digit(10)?;
            let in_frac = i >= int.len();
            if digits < 30 {
                mantissa = mantissa * 10 + u128::from(d);
                if mantissa > 0 {
                    digits += 1;
                }
                if in_frac {
                    scale += 1;
                }
            } else if !in_frac {
                // Integer digits past the precision limit still count as magnitude.
                scale -= 1;
            }
        }
        Some(Decimal {
            mantissa,
            scale: scale.checked_sub(exp)?,
        })
    }

    fn pow10(n: u32) -> Option<u128> {
        10u128.checked_pow(n)
    }

    /// `ceil(self * factor * 10^shift)`, `None` on overflow.
    pub(crate) fn scaled_ceil(self, factor: u64, shift: i32) -> Option<u64> {
        self.scaled(factor, shift, true)
    }

    /// `round(self * factor * 10^shift)` (half up), `None` on overflow.
    pub(crate) fn scaled_round(self, factor: u64, shift: i32) -> Option<u64> {
        self.scaled(factor, shift, false)
    }

    fn scaled(self, factor: u64, shift: i32, ceil: bool) -> Option<u64> {
        let m = self.mantissa.checked_mul(u128::from(factor))?;
        if m == 0 {
            return Some(0);
        }
        let scale = self.scale.checked_sub(shift)?;
        let v = if scale <= 0 {
            m.checked_mul(Self::pow10(scale.unsigned_abs())?)?
        } else {
            match Self::pow10(scale.unsigned_abs()) {
                // More than 38 decimal places below the unit: a tiny positive value.
                None => u128::from(ceil),
                Some(div) => {
                    let q = m / div;
                    let r = m % div;
                    if ceil {
                        q + u128::from(r > 0)
                    } else {
                        q + u128::from(r * 2 >= div)
                    }
                }
            }
        };
        u64::try_from(v).ok()
    }

    pub(crate) fn is_zero(self) -> bool {
        self.mantissa == 0
    }
}

/// A per-token (or per-request) rate as the node sent it: a decimal number kept exactly as
/// text (e.g. `0.0000025` USD per token, `0.0045` sats per token).
///
/// Use the typed helpers on [`SatsPricing`](super::SatsPricing) to turn sat rates into exact
/// [`Msats`] amounts; [`to_f64`](Price::to_f64) is for display and estimates only.
///
/// ```
/// use rostro_sdk::routstr::Price;
/// let p: Price = "0.0045".parse().unwrap();
/// assert_eq!(p.as_str(), "0.0045");
/// assert!(!p.is_zero());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Price(Box<str>);

impl Price {
    /// The decimal text (`"0.0045"`, `"3e-6"`, `"12"`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the rate is zero (free).
    pub fn is_zero(&self) -> bool {
        Decimal::parse(&self.0).is_none_or(Decimal::is_zero)
    }

    /// The rate as a float: approximate, for display and rough estimates only.
    pub fn to_f64(&self) -> f64 {
        self.0.trim().parse().unwrap_or(0.0)
    }

    pub(crate) fn decimal(&self) -> Option<Decimal> {
        Decimal::parse(&self.0)
    }

    /// For a rate in sats: `ceil(rate * count)` in msats (`None` on overflow or when the
    /// text is not a non-negative number).
    pub(crate) fn sats_times_as_msats(&self, count: u64) -> Option<Msats> {
        self.decimal()?.scaled_ceil(count, 3).map(Msats)
    }
}

impl FromStr for Price {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match Decimal::parse(s) {
            Some(_) => Ok(Price(s.trim().into())),
            None => Err("not a non-negative decimal number"),
        }
    }
}

impl fmt::Debug for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Price {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match serde_json::Number::from_str(&self.0) {
            Ok(n) => n.serialize(s),
            Err(_) => s.serialize_str(&self.0),
        }
    }
}

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(serde_json::Number),
            Text(String),
        }
        match Raw::deserialize(d)? {
            // Without serde_json's `arbitrary_precision` a fraction arrives as the closest
            // f64; its shortest round-trip text is what the node wrote in every sane case.
            Raw::Num(n) => Ok(Price(n.to_string().into())),
            Raw::Text(t) => t.parse().map_err(de::Error::custom),
        }
    }
}

/// A USD amount as the node reported it (`X-Routstr-Cost-Usd`), kept as decimal text so
/// nothing is lost; [`to_f64`](UsdAmount::to_f64) is approximate, for display.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct UsdAmount(Box<str>);

impl UsdAmount {
    /// Wraps decimal text; `None` unless it is a non-negative decimal number.
    pub fn parse(text: &str) -> Option<UsdAmount> {
        Decimal::parse(text).map(|_| UsdAmount(text.trim().into()))
    }

    /// The decimal text, e.g. `"0.00042"`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The amount as a float: approximate, for display only.
    pub fn to_f64(&self) -> f64 {
        self.0.parse().unwrap_or(0.0)
    }
}

impl fmt::Debug for UsdAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${}", self.0)
    }
}

impl fmt::Display for UsdAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${}", self.0)
    }
}

/// Parses an msat amount from header text (`"1234"`, `"1234.0"`; fractions rounded).
pub(crate) fn parse_msats(text: &str) -> Option<Msats> {
    Decimal::parse(text)?.scaled_round(1, 0).map(Msats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_parsing_and_scaling() {
        let d = |s| Decimal::parse(s).unwrap();
        assert_eq!(d("12").scaled_round(1, 0), Some(12));
        assert_eq!(d("0.0045").scaled_ceil(1000, 3), Some(4500));
        assert_eq!(d("3e-6").scaled_ceil(1_000_000, 0), Some(3));
        assert_eq!(d("1.5E+2").scaled_round(1, 0), Some(150));
        assert_eq!(d("0.0001").scaled_ceil(1, 3), Some(1), "ceil of 0.1 msat");
        assert_eq!(d("0.0001").scaled_round(1, 3), Some(0));
        assert_eq!(d("1234.5").scaled_round(1, 0), Some(1235));
        assert_eq!(d(".5").scaled_round(1, 0), Some(1));
        assert_eq!(d("1e-60").scaled_ceil(1, 0), Some(1));
        assert_eq!(d("0").scaled_ceil(7, 3), Some(0));
        assert!(d("1e30").scaled_round(1, 0).is_none(), "overflow");
        for bad in ["", "-1", "abc", "1.2.3", "NaN", "e5", "."] {
            assert!(Decimal::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn amounts_decode_leniently() {
        let m: Msats = serde_json::from_str("1234").unwrap();
        assert_eq!(m, Msats(1234));
        let m: Msats = serde_json::from_str("1234.4").unwrap();
        assert_eq!(m, Msats(1234));
        let m: Msats = serde_json::from_str("\"99\"").unwrap();
        assert_eq!(m, Msats(99));
        assert!(serde_json::from_str::<Msats>("-5").is_err());
        assert_eq!(serde_json::to_string(&Sats(5)).unwrap(), "5");
        assert_eq!(Msats(1).to_sats_ceil(), Sats(1));
        assert_eq!(Msats(999).to_sats_floor(), Sats(0));
        assert_eq!(Sats(u64::MAX).to_msats(), Msats(u64::MAX));
    }

    #[test]
    fn prices_keep_their_text() {
        let p: Price = serde_json::from_str("0.0000025").unwrap();
        assert_eq!(p.as_str(), "2.5e-6");
        assert_eq!(
            p.sats_times_as_msats(1000),
            Some(Msats(3)),
            "2.5 msat, ceil"
        );
        let p: Price = serde_json::from_str("\"0.0045\"").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "0.0045");
        assert!(serde_json::from_str::<Price>("\"cheap\"").is_err());
        assert_eq!(parse_msats(" 1500 "), Some(Msats(1500)));
        assert_eq!(UsdAmount::parse("0.0042").unwrap().to_string(), "$0.0042");
        assert!(UsdAmount::parse("n/a").is_none());
    }
}
