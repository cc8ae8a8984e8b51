//! Values that validate against a JSON Schema: tool-call arguments from a
//! tool's `parameters`, and `response_format` `json_schema` replies. OpenAI
//! clients parse both (`chat.completions.parse`, `llm --schema`, tool
//! runners), so what the mock invents must be valid for the schema given.

use serde_json::{Map, Value, json};

/// Nesting bound (recursive `$ref`s end in `null`/empty values, not a loop).
const MAX_DEPTH: usize = 12;

/// A value valid against `schema` (`root` resolves local `$ref`s). Strings
/// carry `text`, so replies still echo the request.
pub(crate) fn sample(root: &Value, schema: &Value, text: &str) -> Value {
    build(root, schema, text, 0)
}

/// Tool-call arguments for a function definition: `{}` when it takes no
/// parameters, else an object valid against `parameters`.
pub(crate) fn tool_arguments(function: &Value, text: &str) -> String {
    match function.get("parameters") {
        Some(p) if p.is_object() => sample(p, p, text).to_string(),
        _ => "{}".into(),
    }
}

fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    root.pointer(reference.strip_prefix('#')?)
}

fn build(root: &Value, schema: &Value, text: &str, depth: usize) -> Value {
    let Some(s) = schema.as_object() else {
        // `true` / `{}`: anything goes.
        return json!(text);
    };
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        return match resolve(root, r) {
            Some(target) => build(root, target, text, depth + 1),
            None => Value::Null,
        };
    }
    if let Some(c) = s.get("const") {
        return c.clone();
    }
    if let Some(first) = s
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(options) = s.get(key).and_then(Value::as_array) {
            // Prefer a non-null alternative (Optional[...] fields).
            let pick = options
                .iter()
                .find(|o| o.get("type").and_then(Value::as_str) != Some("null"))
                .or_else(|| options.first());
            if let Some(o) = pick {
                return build(root, o, text, depth + 1);
            }
        }
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        return build(root, &merge_all_of(root, s, all), text, depth + 1);
    }
    match type_of(s) {
        "object" => build_object(root, s, text, depth),
        "array" => build_array(root, s, text, depth),
        "integer" => build_integer(s),
        "number" => build_number(s),
        "boolean" => json!(true),
        "null" => Value::Null,
        _ => build_string(s, text),
    }
}

/// One schema from an `allOf`: its parts' keys (local `$ref`s followed one
/// step), then the schema's own keys over them.
fn merge_all_of(root: &Value, s: &Map<String, Value>, all: &[Value]) -> Value {
    let mut merged = Map::new();
    for part in all {
        let part = match part.get("$ref").and_then(Value::as_str) {
            Some(r) => resolve(root, r).unwrap_or(part),
            None => part,
        };
        if let Some(o) = part.as_object() {
            for (k, v) in o {
                merged.insert(k.clone(), v.clone());
            }
        }
    }
    for (k, v) in s {
        if k != "allOf" {
            merged.insert(k.clone(), v.clone());
        }
    }
    Value::Object(merged)
}

/// The JSON type to build: the declared one (the first non-null of a list),
/// else what the keywords imply, else a string.
fn type_of(s: &Map<String, Value>) -> &str {
    match s.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if s.contains_key("properties") => "object",
        _ if s.contains_key("items") => "array",
        _ => "string",
    }
}

/// Every declared property, each built from its own schema.
fn build_object(root: &Value, s: &Map<String, Value>, text: &str, depth: usize) -> Value {
    let mut out = Map::new();
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        for (name, p) in props {
            out.insert(name.clone(), build(root, p, text, depth + 1));
        }
    }
    Value::Object(out)
}

/// `minItems` items (at least one, at most `maxItems` and 8).
fn build_array(root: &Value, s: &Map<String, Value>, text: &str, depth: usize) -> Value {
    let min = s.get("minItems").and_then(Value::as_u64).unwrap_or(1);
    let max = s
        .get("maxItems")
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX);
    let n = min.max(1).min(max).min(8);
    let item = s.get("items").cloned().unwrap_or(Value::Bool(true));
    (0..n)
        .map(|_| build(root, &item, text, depth + 1))
        .collect()
}

/// The smallest integer the bounds allow (1 when unbounded below).
fn build_integer(s: &Map<String, Value>) -> Value {
    let lo = s
        .get("minimum")
        .and_then(Value::as_f64)
        .or_else(|| {
            s.get("exclusiveMinimum")
                .and_then(Value::as_f64)
                .map(|m| m + 1.0)
        })
        .unwrap_or(1.0);
    let hi = s
        .get("maximum")
        .and_then(Value::as_f64)
        .or_else(|| {
            s.get("exclusiveMaximum")
                .and_then(Value::as_f64)
                .map(|m| m - 1.0)
        })
        .unwrap_or(f64::MAX);
    json!(lo.ceil().min(hi.floor()) as i64)
}

/// A number inside the bounds (their middle when both are given).
fn build_number(s: &Map<String, Value>) -> Value {
    let lo = s.get("minimum").and_then(Value::as_f64);
    let hi = s.get("maximum").and_then(Value::as_f64);
    match (lo, hi) {
        (Some(l), Some(h)) => json!((l + h) / 2.0),
        (Some(l), None) => json!(l + 1.0),
        (None, Some(h)) => json!(h - 1.0),
        (None, None) => json!(1.5),
    }
}

/// A sample of the `format`, else `text`, cut or padded to the length bounds.
fn build_string(s: &Map<String, Value>, text: &str) -> Value {
    let min = s.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
    let max = s
        .get("maxLength")
        .and_then(Value::as_u64)
        .map(|m| m as usize);
    let mut out: String = match s.get("format").and_then(Value::as_str) {
        Some("date-time") => "2024-01-01T00:00:00Z".into(),
        Some("date") => "2024-01-01".into(),
        Some("time") => "00:00:00".into(),
        Some("email") => "mock@example.com".into(),
        Some("uri" | "url") => "https://example.com/mock".into(),
        Some("uuid") => "00000000-0000-4000-8000-000000000000".into(),
        _ => text.to_string(),
    };
    if let Some(m) = max {
        out = out.chars().take(m).collect();
    }
    while out.chars().count() < min {
        out.push('x');
    }
    json!(out)
}

/// The reply content a `response_format` asks for, if it asks for JSON:
/// `json_object` gets an object, `json_schema` a value valid against its
/// schema (with `strict`, only the properties it declares).
pub(crate) fn response_content(response_format: &Value, text: &str) -> Option<String> {
    match response_format.get("type").and_then(Value::as_str)? {
        "json_object" => Some(json!({ "echo": text }).to_string()),
        "json_schema" => {
            let schema = response_format
                .get("json_schema")
                .and_then(|j| j.get("schema"))
                .cloned()
                .unwrap_or_else(|| json!({"type": "object"}));
            Some(sample(&schema, &schema, text).to_string())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_parameters_give_an_empty_object() {
        assert_eq!(tool_arguments(&json!({"name": "now"}), "hi"), "{}");
        assert_eq!(
            tool_arguments(
                &json!({"name": "now", "parameters": {"type": "object", "properties": {}}}),
                "hi"
            ),
            "{}"
        );
    }

    #[test]
    fn refs_enums_and_bounds_are_respected() {
        let schema = json!({
            "type": "object",
            "properties": {
                "steps": {"type": "array", "items": {"$ref": "#/$defs/Step"}, "minItems": 2},
                "mood": {"enum": ["calm", "angry"]},
                "age": {"type": "integer", "minimum": 18, "maximum": 30},
                "note": {"anyOf": [{"type": "null"}, {"type": "string", "maxLength": 3}]},
            },
            "$defs": {"Step": {"type": "object", "properties": {"n": {"type": "integer"}}}},
        });
        let v = sample(&schema, &schema, "hello");
        assert_eq!(v["steps"].as_array().map(Vec::len), Some(2));
        assert_eq!(v["steps"][0]["n"], 1);
        assert_eq!(v["mood"], "calm");
        assert_eq!(v["age"], 18);
        assert_eq!(v["note"], "hel");
    }
}
