//! A small JSON Schema validator and value synthesizer for the subset of
//! JSON Schema that the Rostro OpenAPI document uses.
//!
//! Supported keywords: `$ref` (local JSON pointers such as
//! `#/components/schemas/X`), `type` (a name or a list of names), `properties`,
//! `required`, `additionalProperties` (boolean or schema), `items`, `enum`,
//! `const`, `anyOf`, `oneOf` (checked like `anyOf`), `allOf` and OpenAPI 3.0's
//! `nullable`. Unknown keywords are ignored and a `$ref` that points nowhere
//! accepts anything, as a validator that is lenient about the document but
//! strict about values.
//!
//! ```
//! use serde_json::json;
//! let doc = json!({"components": {"schemas": {"E": {
//!     "type": "object",
//!     "properties": {"error": {"type": "string"}, "code": {"anyOf": [{"type": "integer"}, {"type": "null"}]}},
//!     "required": ["error"]
//! }}}});
//! let schema = json!({"$ref": "#/components/schemas/E"});
//! assert!(rostro_mock::schema::validate(&json!({"error": "x", "code": null}), &schema, &doc).is_ok());
//! assert!(rostro_mock::schema::validate(&json!({"code": 1}), &schema, &doc).is_err());
//! let made = rostro_mock::schema::synthesize(&schema, &doc);
//! assert!(rostro_mock::schema::validate(&made, &schema, &doc).is_ok());
//! ```

use serde_json::{Map, Value};

const MAX_DEPTH: usize = 64;
const SYNTH_DEPTH: usize = 8;

/// Resolves a local `$ref` (a JSON pointer into `root`, e.g. `#/components/schemas/X`).
/// Returns `None` when the reference is not local or points nowhere.
pub fn resolve_ref<'a>(reference: &str, root: &'a Value) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    if pointer.is_empty() {
        return Some(root);
    }
    let unescaped: String = pointer
        .split('/')
        .map(|seg| seg.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join("/");
    root.pointer(&unescaped)
}

/// Follows `$ref` chains until a schema without `$ref` is reached (bounded).
/// An unresolvable reference yields the empty schema `{}` (accepts anything).
pub fn deref<'a>(mut schema: &'a Value, root: &'a Value) -> &'a Value {
    static EMPTY: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    for _ in 0..MAX_DEPTH {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => match resolve_ref(r, root) {
                Some(next) => schema = next,
                None => return EMPTY.get_or_init(|| Value::Object(Map::new())),
            },
            None => return schema,
        }
    }
    schema
}

/// Validates `value` against `schema`, resolving `$ref`s against `root`
/// (the whole OpenAPI document). Returns every violation found, each prefixed
/// by the JSON path of the offending value (`$.choices[0].index`).
pub fn validate(value: &Value, schema: &Value, root: &Value) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    check(value, schema, root, "$", 0, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn type_matches(value: &Value, ty: &str) -> bool {
    match ty {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64()
                || value.is_u64()
                || value
                    .as_f64()
                    .is_some_and(|f| f.fract() == 0.0 && f.is_finite())
        }
        _ => true,
    }
}

fn check(
    value: &Value,
    schema: &Value,
    root: &Value,
    path: &str,
    depth: usize,
    errors: &mut Vec<String>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    let schema = deref(schema, root);
    let Some(obj) = schema.as_object() else {
        if schema == &Value::Bool(false) {
            errors.push(format!("{path}: no value is allowed here"));
        }
        return;
    };
    if value.is_null() && obj.get("nullable") == Some(&Value::Bool(true)) {
        return;
    }
    if let Some(ty) = obj.get("type") {
        let ok = match ty {
            Value::String(t) => type_matches(value, t),
            Value::Array(ts) => ts
                .iter()
                .filter_map(Value::as_str)
                .any(|t| type_matches(value, t)),
            _ => true,
        };
        if !ok {
            errors.push(format!("{path}: expected type {ty}, got {}", short(value)));
            return;
        }
    }
    if let Some(Value::Array(options)) = obj.get("enum")
        && !options.contains(value)
    {
        errors.push(format!(
            "{path}: {} is not one of {options:?}",
            short(value)
        ));
    }
    if let Some(c) = obj.get("const")
        && c != value
    {
        errors.push(format!("{path}: expected constant {c}"));
    }
    check_alternatives(value, obj, root, path, depth, errors);
    if let Value::Object(map) = value {
        check_properties(map, obj, root, path, depth, errors);
    }
    if let (Value::Array(items), Some(item_schema)) = (value, obj.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(
                item,
                item_schema,
                root,
                &format!("{path}[{i}]"),
                depth + 1,
                errors,
            );
        }
    }
}

/// `anyOf`/`oneOf` (one alternative must match) and `allOf` (each part must).
fn check_alternatives(
    value: &Value,
    obj: &Map<String, Value>,
    root: &Value,
    path: &str,
    depth: usize,
    errors: &mut Vec<String>,
) {
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(alts)) = obj.get(key) {
            let any = alts.iter().any(|alt| {
                let mut sub = Vec::new();
                check(value, alt, root, path, depth + 1, &mut sub);
                sub.is_empty()
            });
            if !any {
                errors.push(format!(
                    "{path}: {} matches none of the {key} alternatives",
                    short(value)
                ));
            }
        }
    }
    if let Some(Value::Array(all)) = obj.get("allOf") {
        for sub in all {
            check(value, sub, root, path, depth + 1, errors);
        }
    }
}

/// An object's `required` names, then each member against its property schema (or
/// `additionalProperties`).
fn check_properties(
    map: &Map<String, Value>,
    obj: &Map<String, Value>,
    root: &Value,
    path: &str,
    depth: usize,
    errors: &mut Vec<String>,
) {
    let props = obj.get("properties").and_then(Value::as_object);
    if let Some(Value::Array(required)) = obj.get("required") {
        for name in required.iter().filter_map(Value::as_str) {
            if !map.contains_key(name) {
                errors.push(format!("{path}: missing required property `{name}`"));
            }
        }
    }
    for (k, v) in map {
        let child = format!("{path}.{k}");
        match props.and_then(|p| p.get(k)) {
            Some(ps) => check(v, ps, root, &child, depth + 1, errors),
            None => match obj.get("additionalProperties") {
                Some(Value::Bool(false)) => {
                    errors.push(format!("{path}: unexpected property `{k}`"));
                }
                Some(extra @ Value::Object(_)) => {
                    check(v, extra, root, &child, depth + 1, errors);
                }
                _ => {}
            },
        }
    }
}

fn short(value: &Value) -> String {
    let s = value.to_string();
    if s.len() > 60 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(57).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}

/// Builds a value that conforms to `schema`: the schema's own `example`, else
/// its `default`, `const`, first `enum` value, first non-null `anyOf`/`oneOf`
/// alternative, merged `allOf`, or the zero value of its `type` (objects get
/// every declared property, arrays are empty). `$ref`s are resolved against
/// `root`; nesting is bounded.
pub fn synthesize(schema: &Value, root: &Value) -> Value {
    synth(schema, root, 0)
}

fn synth(schema: &Value, root: &Value, depth: usize) -> Value {
    let schema = deref(schema, root);
    let Some(obj) = schema.as_object() else {
        return Value::Null;
    };
    for key in ["example", "default", "const"] {
        if let Some(v) = obj.get(key) {
            return v.clone();
        }
    }
    if let Some(Value::Array(options)) = obj.get("enum")
        && let Some(first) = options.first()
    {
        return first.clone();
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(alts)) = obj.get(key) {
            let pick = alts
                .iter()
                .find(|a| deref(a, root).get("type") != Some(&Value::String("null".into())))
                .or_else(|| alts.first());
            return match pick {
                Some(alt) => synth(alt, root, depth + 1),
                None => Value::Null,
            };
        }
    }
    if let Some(Value::Array(all)) = obj.get("allOf") {
        return synth_all_of(all, root, depth);
    }
    synth_zero(obj, root, depth)
}

/// The parts' objects merged (a single non-object part is the value itself).
fn synth_all_of(all: &[Value], root: &Value, depth: usize) -> Value {
    let mut merged = Map::new();
    for sub in all {
        match synth(sub, root, depth + 1) {
            Value::Object(m) => merged.extend(m),
            other if all.len() == 1 => return other,
            _ => {}
        }
    }
    Value::Object(merged)
}

/// The zero value of the schema's type (declared, else implied by its keywords).
fn synth_zero(obj: &Map<String, Value>, root: &Value, depth: usize) -> Value {
    let ty = match obj.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if obj.contains_key("properties") => "object",
        _ if obj.contains_key("items") => "array",
        _ => "any",
    };
    match ty {
        "object" | "any" => {
            let mut out = Map::new();
            if depth < SYNTH_DEPTH
                && let Some(props) = obj.get("properties").and_then(Value::as_object)
            {
                for (k, ps) in props {
                    out.insert(k.clone(), synth(ps, root, depth + 1));
                }
            }
            Value::Object(out)
        }
        "array" => Value::Array(Vec::new()),
        "string" => Value::String(
            match obj.get("format").and_then(Value::as_str) {
                Some("date-time") => "1970-01-01T00:00:00Z",
                Some("date") => "1970-01-01",
                Some("uuid") => "00000000-0000-4000-8000-000000000000",
                _ => "",
            }
            .to_string(),
        ),
        "integer" => obj
            .get("minimum")
            .filter(|m| m.is_i64() || m.is_u64())
            .cloned()
            .unwrap_or(Value::from(0)),
        "number" => obj
            .get("minimum")
            .filter(|m| m.is_number())
            .cloned()
            .unwrap_or(Value::from(0)),
        "boolean" => Value::Bool(false),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({"components": {"schemas": {
            "Item": {"type": "object", "properties": {
                "id": {"type": "integer"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "kind": {"type": "string", "enum": ["a", "b"]},
                "maybe": {"anyOf": [{"$ref": "#/components/schemas/Leaf"}, {"type": "null"}]}
            }, "required": ["id"], "additionalProperties": false},
            "Leaf": {"type": "object", "properties": {"x": {"type": "number"}}},
            "Loop": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Loop"}}}
        }}})
    }

    #[test]
    fn validates_the_supported_subset() {
        let d = doc();
        let s = json!({"$ref": "#/components/schemas/Item"});
        assert!(
            validate(
                &json!({"id": 1, "tags": ["a"], "kind": "b", "maybe": null}),
                &s,
                &d
            )
            .is_ok()
        );
        assert!(validate(&json!({"id": 1.0, "maybe": {"x": 2.5}}), &s, &d).is_ok());
        let errs = validate(
            &json!({"id": "1", "tags": [1], "kind": "c", "extra": 1, "maybe": 3}),
            &s,
            &d,
        )
        .unwrap_err();
        assert_eq!(errs.len(), 5, "{errs:?}");
        assert!(validate(&json!({}), &s, &d).unwrap_err()[0].contains("missing required"));
        assert!(
            validate(
                &json!(null),
                &json!({"type": "string", "nullable": true}),
                &d
            )
            .is_ok()
        );
        assert!(validate(&json!(3), &json!({"type": ["string", "integer"]}), &d).is_ok());
        assert!(validate(&json!({"a": 1}), &json!({"$ref": "#/nowhere"}), &d).is_ok());
    }

    #[test]
    fn synthesizes_conforming_values_with_bounded_depth() {
        let d = doc();
        for name in ["Item", "Leaf", "Loop"] {
            let s = json!({"$ref": format!("#/components/schemas/{name}")});
            let v = synthesize(&s, &d);
            assert!(validate(&v, &s, &d).is_ok(), "{name}: {v}");
        }
        assert_eq!(
            synthesize(&json!({"type": "string", "enum": ["x"]}), &d),
            json!("x")
        );
        assert_eq!(
            synthesize(&json!({"type": "integer", "default": 5}), &d),
            json!(5)
        );
        assert_eq!(synthesize(&json!({}), &d), json!({}));
    }
}
