//! Small helpers shared by commands.

use serde_json::Value;

use crate::exit::{CliError, CliResult};

/// Reads a file, or stdin for `-`.
pub fn read_input(path: &str) -> CliResult<Vec<u8>> {
    if path == "-" {
        let mut buf = Vec::new();
        crate::ambient::read_stdin(&mut buf).map_err(|e| CliError::io("stdin", e))?;
        Ok(buf)
    } else {
        std::fs::read(path).map_err(|e| CliError::io(path, e))
    }
}

/// Reads a file (or `-`) as UTF-8 text.
pub fn read_text(path: &str) -> CliResult<String> {
    String::from_utf8(read_input(path)?)
        .map_err(|_| CliError::usage(format!("{path}: not UTF-8 text")))
}

/// Reads a file (or `-`) as JSON.
pub fn read_json(path: &str) -> CliResult<Value> {
    let bytes = read_input(path)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| CliError::usage(format!("{path}: invalid JSON: {e}")))
}

/// Splits `key=value`.
pub fn split_kv(s: &str) -> CliResult<(&str, &str)> {
    s.split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| CliError::usage(format!("expected key=value, got `{s}`")))
}

/// A typed value for `-F key=value` (gh's rules): `true`, `false`, `null`, integers and
/// floats become JSON scalars; `@file` reads a file (`@-`: stdin); anything else is a string.
pub fn typed_value(v: &str) -> CliResult<Value> {
    Ok(match v {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" => Value::Null,
        _ if v.starts_with('@') => Value::String(read_text(&v[1..])?),
        _ => {
            if let Ok(i) = v.parse::<i64>() {
                Value::from(i)
            } else if let Some(f) = v.parse::<f64>().ok().filter(|f| f.is_finite()) {
                Value::from(f)
            } else {
                Value::String(v.to_owned())
            }
        }
    })
}

/// Sets `key` in a JSON object; `a.b` and `a[]` paths build nested objects / arrays.
pub fn set_path(obj: &mut serde_json::Map<String, Value>, key: &str, value: Value) {
    if let Some(base) = key.strip_suffix("[]") {
        let entry = obj
            .entry(base.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(a) = entry {
            a.push(value);
        } else {
            *entry = Value::Array(vec![value]);
        }
        return;
    }
    match key.split_once('.') {
        Some((head, rest)) if !head.is_empty() && !rest.is_empty() => {
            let entry = obj
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Default::default()));
            if !entry.is_object() {
                *entry = Value::Object(Default::default());
            }
            if let Value::Object(inner) = entry {
                set_path(inner, rest, value);
            }
        }
        _ => {
            obj.insert(key.to_owned(), value);
        }
    }
}

/// A string field of a JSON object the CLI built itself (numbers are shown as text); server
/// answers are read through their types instead.
pub fn s(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Human byte size.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Parses a count that must be at least 1 (`--limit`, `--concurrency`, ...), so `-5` or `0`
/// get a message that says what is wanted rather than "unexpected argument '-5'" (the flags
/// using it also set `allow_negative_numbers`).
pub fn positive<T>(s: &str) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + From<u8>,
{
    match s.trim().parse::<T>() {
        Ok(n) if n >= T::from(1) => Ok(n),
        _ => Err(format!("`{s}` is not a positive whole number (1 or more)")),
    }
}

/// Parses a count that may be 0 (`--min-tokens`, ...): not negative, not a fraction.
pub fn non_negative<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.trim()
        .parse::<T>()
        .map_err(|_| format!("`{s}` is not a whole number of 0 or more"))
}

/// Parses `--base-url`: an `http://` or `https://` URL. A host without a scheme gets a
/// suggestion (`127.0.0.1:9` -> `http://127.0.0.1:9`) instead of a confusing failure later.
pub fn base_url(s: &str) -> Result<String, String> {
    let t = s.trim();
    match url::Url::parse(t) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(t.to_owned()),
        _ if !t.contains("://") && !t.is_empty() => {
            let scheme =
                if t.starts_with("127.") || t.starts_with("localhost") || t.starts_with('[') {
                    "http"
                } else {
                    "https"
                };
            Err(format!(
                "`{t}` has no scheme: did you mean `{scheme}://{t}`?"
            ))
        }
        _ => Err(format!("`{t}` is not an http:// or https:// URL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typed_values() {
        assert_eq!(typed_value("true").unwrap(), json!(true));
        assert_eq!(typed_value("42").unwrap(), json!(42));
        assert_eq!(typed_value("1.5").unwrap(), json!(1.5));
        assert_eq!(typed_value("null").unwrap(), json!(null));
        assert_eq!(typed_value("abc").unwrap(), json!("abc"));
    }

    #[test]
    fn nested_paths() {
        let mut m = serde_json::Map::new();
        set_path(&mut m, "a.b", json!(1));
        set_path(&mut m, "tags[]", json!("x"));
        set_path(&mut m, "tags[]", json!("y"));
        set_path(&mut m, "plain", json!("p"));
        assert_eq!(
            Value::Object(m),
            json!({"a": {"b": 1}, "tags": ["x", "y"], "plain": "p"})
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(human_bytes(10), "10 B");
        assert_eq!(human_bytes(2048), "2.0 KiB");
    }
}
