//! Free helpers of type generation: docs, setter conversions and schema predicates.

use anyhow::{Result, ensure};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::generate::names::*;

pub(in crate::generate) fn indent(text: &str, by: &str) -> String {
    text.lines().map(|l| format!("{by}{l}\n")).collect()
}

pub(in crate::generate) fn is_any(s: &Value) -> bool {
    s.as_object().is_some_and(|m| {
        m.keys().all(|k| {
            matches!(
                k.as_str(),
                "description" | "title" | "example" | "examples" | "default"
            )
        })
    })
}

pub(in crate::generate) fn is_binary(s: &Value) -> bool {
    s["format"] == "binary"
        || s["anyOf"]
            .as_array()
            .is_some_and(|alts| alts.iter().any(|a| a["format"] == "binary"))
}

/// `Some(values)` when the schema is a string, or a union of strings, with enum values
/// (possibly none); `None` when it is anything else.
pub(in crate::generate) fn string_enum_values(s: &Value) -> Option<Vec<String>> {
    let collect = |alt: &Value| -> Option<Vec<String>> {
        if alt["type"] != "string" || alt.get("format").is_some() {
            return None;
        }
        Some(
            alt.get("enum")
                .and_then(Value::as_array)
                .map(|v| {
                    v.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
        )
    };
    if let Some(alts) = s.get("anyOf").and_then(Value::as_array) {
        let mut all = Vec::new();
        for a in alts {
            all.extend(collect(a)?);
        }
        let mut seen = BTreeSet::new();
        all.retain(|v| seen.insert(v.clone()));
        return Some(all);
    }
    let values = collect(s)?;
    (!values.is_empty()).then_some(values)
}

pub(in crate::generate) fn type_docs(schema: &Value, description: Option<&str>) -> String {
    match description.or_else(|| schema.get("description").and_then(Value::as_str)) {
        Some(text) => doc_lines(text, ""),
        None => match schema.get("title").and_then(Value::as_str) {
            // Titles are identifiers: quoted as code, not escaped.
            Some(t) => format!("/// The `{}` schema of the API.\n", t.replace('`', "")),
            None => "/// An inline schema of the API.\n".to_string(),
        },
    }
}

/// A field's doc comment: the spec's description, or when it has none, the wire name in words
/// and the JSON it holds (`Start index (integer).`); then its default and example.
pub(in crate::generate) fn field_docs(p: &Value, indent: &str, wire: &str) -> String {
    let mut out = String::new();
    match p.get("description").and_then(Value::as_str) {
        Some(d) => out.push_str(&doc_lines(d, indent)),
        None => {
            let mut name = words(wire).join(" ").to_lowercase();
            if let Some(first) = name.get(..1) {
                name.replace_range(..1, &first.to_uppercase());
            }
            writeln!(
                out,
                "{indent}/// {} ({}).",
                escape_doc(&name),
                json_words(p)
            )
            .ok();
        }
    }
    if let Some(d) = p.get("default") {
        writeln!(
            out,
            "{indent}///\n{indent}/// Server default: `{}`.",
            short_json(d).replace('`', "'")
        )
        .ok();
    }
    if let Some(e) = p.get("examples").and_then(|e| e.get(0)) {
        writeln!(
            out,
            "{indent}///\n{indent}/// Example: `{}`.",
            short_json(e).replace('`', "'")
        )
        .ok();
    }
    out
}

pub(in crate::generate) fn unique_ident(base: &str, used: &mut BTreeSet<String>) -> String {
    let mut name = base.to_string();
    let mut n = 2;
    while !used.insert(name.clone()) {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}

/// Clippy's `too_many_arguments` allowance, for a function of `n` arguments that needs it
/// (clippy's default limit is 7).
pub(super) fn many_args_allow(n: usize) -> &'static str {
    if n > 7 {
        "    #[allow(clippy::too_many_arguments)]\n"
    } else {
        ""
    }
}

/// What JSON a schema holds, in words: `integer`, `string or null`, `list of `Gallery``.
pub(super) fn json_words(s: &Value) -> String {
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        return format!("`{}`", r.rsplit('/').next().unwrap_or(r));
    }
    if let Some(alts) = s.get("anyOf").and_then(Value::as_array) {
        let parts: Vec<String> = alts.iter().map(json_words).collect();
        return parts.join(" or ");
    }
    match s.get("type").and_then(Value::as_str) {
        Some("array") => match s.get("items") {
            Some(items) if !is_any(items) => format!("list of {}", json_words(items)),
            _ => "list".into(),
        },
        Some("object") => "object".into(),
        Some(t) => t.to_string(),
        None => "any JSON".into(),
    }
}

/// Whether a generated field type has a `Default` the decoder may fall back to.
pub(in crate::generate) fn has_default(ty: &str) -> bool {
    matches!(ty, "String" | "i64" | "f64" | "bool" | "serde_json::Value")
        || ty.starts_with("Vec<")
        || ty.starts_with("std::collections::BTreeMap<")
        || ty.starts_with("serde_json::Map<")
}

/// `name: expr`, or the shorthand `name` when they are the same.
pub(in crate::generate) fn init_field(name: &str, expr: &str) -> String {
    if name == expr {
        name.to_string()
    } else {
        format!("{name}: {expr}")
    }
}

/// How a setter takes a value of `ty`.
pub(in crate::generate) fn setter_arg(ty: &str) -> String {
    match ty {
        "String" => "impl Into<String>".into(),
        "i64" => "impl Into<i64>".into(),
        "f64" => "impl Into<f64>".into(),
        "bool" => "bool".into(),
        t if t.starts_with("crate::types::")
            || t == "crate::request::FilePart"
            || t == "serde_json::Value" =>
        {
            format!("impl Into<{t}>")
        }
        t => t.to_string(),
    }
}

/// The expression turning setter argument `name` into `ty`.
pub(in crate::generate) fn setter_conv(name: &str, ty: &str) -> String {
    if setter_arg(ty).starts_with("impl Into") {
        format!("{name}.into()")
    } else {
        name.to_string()
    }
}

/// The last segment of a type path: `crate::types::Gallery` -> `Gallery`.
pub(in crate::generate) fn type_leaf(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or(path)
}

/// Whether an object schema lists `name` as required.
pub(super) fn required_has(schema: &Value, name: &str) -> bool {
    schema["required"]
        .as_array()
        .is_some_and(|r| r.iter().any(|x| x == name))
}

/// The one non-null alternative of a nullable `anyOf`, or the schema itself.
pub(super) fn non_null_alt(s: &Value) -> &Value {
    match s.get("anyOf").and_then(Value::as_array) {
        Some(alts) => {
            let mut non_null = alts.iter().filter(|a| a["type"] != "null");
            match (non_null.next(), non_null.next()) {
                (Some(one), None) => one,
                _ => s,
            }
        }
        None => s,
    }
}

/// The serde attribute of an `x-lenient` member: a number that may arrive as a string (or a
/// string that may arrive as a number) decodes either way.
pub(super) fn lenient_attr(
    rust: &str,
    pname: &str,
    p: &Value,
    inner: &str,
) -> Result<&'static str> {
    if p["x-lenient"] != true {
        return Ok("");
    }
    ensure!(
        matches!(inner, "i64" | "f64" | "String"),
        "`{rust}.{pname}`: x-lenient needs an integer, number or string member, not `{inner}`"
    );
    Ok(", deserialize_with = \"crate::codec::lenient\"")
}
