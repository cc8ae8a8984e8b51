//! What an operation takes: its parameters and its body, as setters.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::*;
use crate::generate::OpInfo;
use crate::generate::names::*;
use crate::generate::types::*;

/// The Rust type of a parameter: the schema's, or for a query parameter the reference leaves
/// untyped (`{}`) or a comma-joined string, the tuning table's `[query_types]` entry.
fn param_ty(p: &Value, types: &TypeGen<'_>) -> String {
    let schema = &p["schema"];
    let tuned = if p["in"] == "query" {
        p["name"].as_str().and_then(|n| types.query_types.get(n))
    } else {
        None
    };
    let untyped = is_any(schema);
    let ty = match (schema["type"].as_str(), tuned.map(String::as_str)) {
        (Some("string") | None, Some("csv")) => "Vec<String>",
        (None, Some("integer")) if untyped => "i64",
        (None, Some("number")) if untyped => "f64",
        (None, Some("boolean")) if untyped => "bool",
        (Some("integer"), _) => "i64",
        (Some("number"), _) => "f64",
        (Some("boolean"), _) => "bool",
        _ => "String",
    };
    ty.to_string()
}

/// The operation's path and query parameters, as setters.
pub(super) fn params(
    o: &OpInfo,
    used: &mut BTreeSet<String>,
    types: &TypeGen<'_>,
) -> Result<(Vec<Setter>, Vec<Setter>)> {
    let mut path_params = Vec::new();
    let mut query = Vec::new();
    for p in o.op["parameters"].as_array().into_iter().flatten() {
        let wire = p["name"].as_str().context("parameter name")?.to_string();
        let ident = unique_ident(&snake(&wire), used);
        let schema = &p["schema"];
        let ty = param_ty(p, types);
        let mut docs = p
            .get("description")
            .and_then(Value::as_str)
            .map(|d| doc_lines(d, "    "))
            .unwrap_or_default();
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            let list: Vec<String> = values
                .iter()
                .filter_map(|v| v.as_str().map(|s| format!("`{s}`")))
                .collect();
            writeln!(docs, "    ///\n    /// One of {}.", list.join(", ")).ok();
        }
        if ty == "Vec<String>" {
            writeln!(docs, "    ///\n    /// Sent as one comma-joined value.").ok();
        }
        let setter = Setter {
            ident,
            wire,
            ty,
            required: p["required"] == true,
            docs,
        };
        match p["in"].as_str() {
            Some("path") => path_params.push(setter),
            Some("query") => query.push(setter),
            other => bail!("parameter in {other:?}"),
        }
    }
    Ok((path_params, query))
}

/// How the request body is set: field by field, whole, or part by part.
pub(super) fn body_kind(
    o: &OpInfo,
    builder: &str,
    used: &mut BTreeSet<String>,
    types: &mut TypeGen<'_>,
) -> Result<BodyKind> {
    let Some(rb) = o.op.get("requestBody") else {
        return Ok(BodyKind::None);
    };
    let required = rb["required"] == true;
    if let Some(media) = rb["content"].get("application/json") {
        json_body(&media["schema"], required, builder, used, types)
    } else if let Some(media) = rb["content"].get("multipart/form-data") {
        match media["schema"].get("$ref").and_then(Value::as_str) {
            Some(r) => form_body(r, used, types),
            None => Ok(BodyKind::FormParts),
        }
    } else {
        bail!("unsupported body content {}", rb["content"]);
    }
}

/// The required-property names of an object schema.
fn required_names(s: &Value) -> BTreeSet<&str> {
    s["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// A JSON body: a generated object schema is flattened into setters, anything else is set whole.
fn json_body(
    schema: &Value,
    required: bool,
    builder: &str,
    used: &mut BTreeSet<String>,
    types: &mut TypeGen<'_>,
) -> Result<BodyKind> {
    let resolved = match schema.get("$ref").and_then(Value::as_str) {
        // A hand-written type is set whole: its fields are not the generator's to spell.
        Some(r) if types.is_hand_ref(r) => None,
        Some(r) => {
            let (name, _) = types.resolve_ref(r)?;
            Some(types.schema(&name)?)
        }
        None => None,
    };
    let Some(s) = resolved.filter(|s| {
        s.get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| !p.is_empty())
    }) else {
        let t = types.field_ty(schema, &format!("{builder}Body"))?;
        let ty = if t.nullable {
            format!("Option<{}>", t.inner)
        } else {
            t.inner
        };
        return Ok(BodyKind::JsonWhole { ty, required });
    };
    let ty = types.field_ty(schema, &format!("{builder}Body"))?.inner;
    let req = required_names(s);
    let mut fields = Vec::new();
    let mut nullable_required = Vec::new();
    let struct_name = ty.trim_start_matches("crate::types::").to_string();
    for (pname, p) in s["properties"].as_object().expect("checked") {
        // The struct's own field name for this property.
        let field = unique_ident(&snake(pname), &mut BTreeSet::new());
        let ident = if used.contains(&field) {
            unique_ident(&format!("{field}_body"), used)
        } else {
            unique_ident(&field, used)
        };
        let fty = types.field_ty(p, &format!("{struct_name}{}", pascal(pname)))?;
        let required = req.contains(pname.as_str());
        if required && fty.nullable {
            nullable_required.push(field.clone());
        }
        fields.push(Setter {
            ident,
            wire: field,
            docs: field_docs(p, "    ", pname),
            ty: fty.inner,
            required: required && !fty.nullable,
        });
    }
    Ok(BodyKind::JsonFields {
        ty,
        fields,
        nullable_required,
    })
}

/// A multipart form schema: its fields become setters, files as [`FilePart`]s.
fn form_body(r: &str, used: &mut BTreeSet<String>, types: &mut TypeGen<'_>) -> Result<BodyKind> {
    let (name, rust) = types.resolve_ref(r)?;
    types.component(&name)?;
    let s = types.schema(&name)?;
    let req = required_names(s);
    let mut fields = Vec::new();
    for (pname, p) in s["properties"].as_object().context("form properties")? {
        let field = snake(pname);
        let ident = unique_ident(&field, used);
        let ty = if is_binary(p) {
            "crate::request::FilePart".to_string()
        } else {
            types
                .field_ty(p, &format!("{}{}", type_leaf(&rust), pascal(pname)))?
                .inner
        };
        fields.push(Setter {
            ident,
            wire: field,
            docs: field_docs(p, "    ", pname),
            ty,
            required: req.contains(pname.as_str()),
        });
    }
    Ok(BodyKind::FormFields { ty: rust, fields })
}
