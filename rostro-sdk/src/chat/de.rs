//! Lenient deserializers: OpenAI-compatible providers differ in small ways (a `null` where a
//! list is expected, a float where an integer is expected), and none of that should fail a
//! response.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// `null` or a missing field becomes `T::default()`.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A boolean or `null` where a number is expected is no number (`None`); `Some(x)` is read
/// as `x`. The same for every lenient number visitor.
macro_rules! non_numbers_are_none {
    ($visitor:ident) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any($visitor)
        }
    };
}

struct U64Visitor;

impl<'de> Visitor<'de> for U64Visitor {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a non-negative number")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.max(0) as u64))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok((v.is_finite()).then(|| v.max(0.0).round() as u64))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let v = v.trim();
        Ok(v.parse::<u64>().ok().or_else(|| {
            v.parse::<f64>()
                .ok()
                .and_then(|f| self.visit_f64::<E>(f).ok()?)
        }))
    }

    non_numbers_are_none!(U64Visitor);
}

/// An integer that may arrive as an integer, a float, a numeric string or `null` (then 0).
pub(crate) fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(d.deserialize_any(U64Visitor)?.unwrap_or(0))
}

/// Like [`lenient_u64`], keeping `None` for `null` and values that are not numbers.
pub(crate) fn lenient_opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    d.deserialize_any(U64Visitor)
}

/// A `u32` index, leniently (saturating).
pub(crate) fn lenient_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    Ok(lenient_u64(d)?.min(u32::MAX as u64) as u32)
}

struct F64Visitor;

impl<'de> Visitor<'de> for F64Visitor {
    type Value = Option<f64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.trim().parse::<f64>().ok())
    }

    non_numbers_are_none!(F64Visitor);
}

/// A number that may arrive as a number, a numeric string or `null`.
pub(crate) fn lenient_opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    d.deserialize_any(F64Visitor)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "super::lenient_u64")]
        a: u64,
        #[serde(default, deserialize_with = "super::lenient_opt_u64")]
        b: Option<u64>,
        #[serde(default, deserialize_with = "super::lenient_opt_f64")]
        c: Option<f64>,
        #[serde(default, deserialize_with = "super::null_default")]
        d: Vec<u8>,
    }

    #[test]
    fn lenient_numbers() {
        let t: T = serde_json::from_str(r#"{"a": 1.6, "b": "42", "c": "1.5", "d": null}"#).unwrap();
        assert_eq!((t.a, t.b, t.c, t.d.len()), (2, Some(42), Some(1.5), 0));
        let t: T = serde_json::from_str(r#"{"a": null, "b": null, "c": true}"#).unwrap();
        assert_eq!((t.a, t.b, t.c), (0, None, None));
        let t: T = serde_json::from_str(r#"{"a": -3, "b": {"x": 1}}"#).unwrap_or(T {
            a: 9,
            b: None,
            c: None,
            d: vec![],
        });
        assert_eq!(t.a, 9, "an object where a number is expected is an error");
    }
}
