//! Small encoding helpers shared by the generated builders.

use crate::Error;
use crate::request::Operation;

/// The error for a required input the caller did not set; returned before anything is sent.
pub(crate) fn missing(op: &'static Operation, field: &str) -> Error {
    Error::InvalidRequest {
        operation: op.id,
        message: format!("`{field}` is required but was not set"),
    }
}

/// A non-file multipart field as text.
pub(crate) fn form_text<T: std::fmt::Display>(value: &T) -> String {
    value.to_string()
}

/// Merges `extra` into the top-level JSON object `body` without re-encoding it: a field the
/// body already has is replaced in place, new fields are appended, and every other value keeps
/// its bytes and order. (Going through `serde_json::Value` would sort the keys unless the
/// application turned on serde_json's `preserve_order`, which a library must not impose.)
pub(crate) fn merge_json_object(
    body: &[u8],
    extra: &serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<u8>, String> {
    use serde::de::{Deserializer, MapAccess, Visitor};
    use serde_json::value::RawValue;

    struct Fields<'a>(Vec<(String, &'a RawValue)>);
    struct FieldsVisitor;
    impl<'de> Visitor<'de> for FieldsVisitor {
        type Value = Fields<'de>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a json object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields<'de>, A::Error> {
            let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(8));
            while let Some(entry) = map.next_entry::<String, &'de RawValue>()? {
                fields.push(entry);
            }
            Ok(Fields(fields))
        }
    }

    let mut de = serde_json::Deserializer::from_slice(body);
    let fields = de
        .deserialize_map(FieldsVisitor)
        .and_then(|f| de.end().map(|()| f))
        .map_err(|e| format!("extra body fields need a json object body: {e}"))?;
    let mut out = Vec::with_capacity(body.len() + 64);
    out.push(b'{');
    let write = |out: &mut Vec<u8>, key: &str, value: &[u8]| -> Result<(), String> {
        if out.len() > 1 {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, key).map_err(|e| e.to_string())?;
        out.push(b':');
        out.extend_from_slice(value);
        Ok(())
    };
    for (key, raw) in &fields.0 {
        match extra.get(key) {
            Some(v) => write(
                &mut out,
                key,
                &serde_json::to_vec(v).map_err(|e| e.to_string())?,
            )?,
            None => write(&mut out, key, raw.get().as_bytes())?,
        }
    }
    for (key, v) in extra {
        if !fields.0.iter().any(|(k, _)| k == key) {
            write(
                &mut out,
                key,
                &serde_json::to_vec(v).map_err(|e| e.to_string())?,
            )?;
        }
    }
    out.push(b'}');
    Ok(out)
}

/// A value the API sends as a number in one answer and as a string in another (`"sats":
/// "4297"`, ids): [`lenient`] accepts both.
pub(crate) trait Lenient: Sized {
    /// The value of a JSON scalar, when it holds one of this type.
    fn from_json(v: &serde_json::Value) -> Option<Self>;
}

impl Lenient for i64 {
    fn from_json(v: &serde_json::Value) -> Option<Self> {
        v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())
    }
}

impl Lenient for f64 {
    fn from_json(v: &serde_json::Value) -> Option<Self> {
        v.as_f64()
            .or_else(|| v.as_str()?.trim().parse().ok())
            .filter(|f: &f64| f.is_finite())
    }
}

impl Lenient for String {
    fn from_json(v: &serde_json::Value) -> Option<Self> {
        match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// Decodes an optional member that may come as a number or a string (generated for members
/// marked `x-lenient`); `null` is `None`, and anything else is an error naming what came.
pub(crate) fn lenient<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Lenient,
{
    use serde::Deserialize as _;
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => T::from_json(&v).map(Some).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "expected a {} (or one written as text), got {v}",
                std::any::type_name::<T>()
            ))
        }),
    }
}
