//! Defaults the renderer leaves only in the samples.

use serde_json::{Map, Value, json};

/// Records `default` on optional properties whose sample value is not the renderer's
/// placeholder for their type (see openapi/README.md).
pub(super) fn add_defaults(schemas: &mut Map<String, Value>) {
    let snapshot = schemas.clone();
    for schema in schemas.values_mut() {
        let sample = schema.get("example").cloned().unwrap_or(Value::Null);
        let required: Vec<String> = schema["required"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
            continue;
        };
        for (pname, prop) in props.iter_mut() {
            if required.contains(pname) {
                continue;
            }
            let Some(value) = sample.get(pname) else {
                continue;
            };
            if is_placeholder(value, prop, &snapshot) {
                continue;
            }
            // A nullable string field whose sample is a non-empty string (`"b9ae-6f64957f986a"`,
            // an image URL) is shown an example; its default is null.
            // (An enum value other than the first is a real default: enums are sampled with
            // their first value.)
            let plain_nullable_string = prop["anyOf"].as_array().is_some_and(|alts| {
                alts.iter().any(|a| a["type"] == "null")
                    && alts
                        .iter()
                        .any(|a| a["type"] == "string" && a.get("enum").is_none())
            });
            if plain_nullable_string && value.as_str().is_some_and(|s| !s.is_empty()) {
                prop["examples"] = json!([value]);
            } else {
                prop["default"] = value.clone();
            }
        }
    }
}

fn is_placeholder(value: &Value, schema: &Value, all: &Map<String, Value>) -> bool {
    let resolved = resolve(schema, all);
    if let Some(alts) = resolved.get("anyOf").and_then(Value::as_array) {
        // The renderer samples the first alternative.
        return alts.first().is_none_or(|a| is_placeholder(value, a, all));
    }
    if let Some(values) = resolved.get("enum").and_then(Value::as_array) {
        return values.first() == Some(value);
    }
    match value {
        Value::Null => true,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s == "string" || s == "2019-08-24T14:15:22Z",
        Value::Array(items) => {
            !items.is_empty()
                && items
                    .iter()
                    .all(|v| is_placeholder(v, &resolved["items"], all))
        }
        Value::Object(m) => {
            m.is_empty() || resolved.get("properties").is_some() || m.contains_key("property1")
        }
    }
}

fn resolve<'a>(schema: &'a Value, all: &'a Map<String, Value>) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix("#/components/schemas/")
            .and_then(|n| all.get(n))
            .unwrap_or(schema),
        None => schema,
    }
}
