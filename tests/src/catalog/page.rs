//! Search pages, opaque cursors and query/body parameters.

use super::*;

/// One page of search results.
#[derive(Debug, Clone)]
pub(crate) struct SearchPage {
    pub(crate) count: usize,
    pub(crate) page: usize,
    pub(crate) cursor: Option<String>,
    pub(crate) nodes: Vec<CatalogEntry>,
}

impl SearchPage {
    pub(crate) fn to_json(&self, base: &str) -> Value {
        json!({
            "count": self.count,
            "nodes": self.nodes.iter().map(|e| e.node(base)).collect::<Vec<_>>(),
            "page": self.page,
            "cursor": self.cursor,
        })
    }
}

/// Opaque cursor for an offset.
pub(crate) fn encode_cursor(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

/// Inverse of [`encode_cursor`].
pub(crate) fn decode_cursor(cursor: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor.trim_end_matches('='))
        .ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("offset:")?
        .parse()
        .ok()
}

/// Request parameters merged from the query string and a JSON body, with
/// FastAPI-like parsing (bad integers/booleans give 422).
#[derive(Debug, Clone, Default)]
pub(crate) struct Params(pub(super) Map<String, Value>);

impl Params {
    pub(crate) fn from_query(pairs: &[(String, String)]) -> Params {
        let mut m = Map::new();
        for (k, v) in pairs {
            m.insert(k.clone(), Value::String(v.clone()));
        }
        Params(m)
    }

    /// Adds every field of a JSON object (body fields win over the query).
    pub(crate) fn merge_json(&mut self, body: &Value) {
        if let Some(obj) = body.as_object() {
            for (k, v) in obj {
                if !v.is_null() {
                    self.0.insert(k.clone(), v.clone());
                }
            }
        }
    }

    pub(crate) fn str(&self, key: &str) -> Option<String> {
        match self.0.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    /// A comma-separated list (or a JSON array).
    pub(crate) fn list(&self, key: &str) -> Vec<String> {
        match self.0.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            Some(Value::String(s)) => s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        }
    }

    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>, Reply> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" | "t" | "y" => Ok(Some(true)),
                "false" | "0" | "no" | "off" | "f" | "n" => Ok(Some(false)),
                "" => Ok(None),
                _ => Err(Reply::validation(
                    &["query", key],
                    "Input should be a valid boolean, unable to interpret input",
                    "bool_parsing",
                )),
            },
            Some(Value::Number(n)) => Ok(Some(n.as_f64() != Some(0.0))),
            Some(_) => Err(Reply::validation(
                &["query", key],
                "Input should be a valid boolean",
                "bool_type",
            )),
        }
    }

    pub(crate) fn int(&self, key: &str) -> Result<Option<i64>, Reply> {
        let bad = || {
            Reply::validation(
                &["query", key],
                "Input should be a valid integer, unable to parse string as an integer",
                "int_parsing",
            )
        };
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .map(Some)
                .ok_or_else(bad),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| bad()),
            Some(_) => Err(bad()),
        }
    }
}
