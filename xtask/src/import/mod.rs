//! `cargo xtask import-reference`: turns the Widdershins-rendered API reference
//! (`rostro-api-reference.md`) back into the OpenAPI 3.1 document it was rendered from.
//!
//! The renderer flattens a few things (see `openapi/README.md` for every decision):
//! property tables with `anyOf` / `or` / `continued` markers, enum tables after the
//! property tables, and one sample JSON per schema (from `default`/`example` values or
//! type placeholders). The parser is strict: any line it does not understand inside a
//! section it parses is an error naming the line, never a silent skip.

mod defaults;
mod operation;
mod schema;
mod table;

use anyhow::{Context, Result, ensure};
use serde_json::{Map, Value, json};

use defaults::add_defaults;
use operation::parse_operations;
use schema::parse_schemas;

/// Parses the whole reference into an OpenAPI 3.1 document.
pub fn import(md: &str) -> Result<Value> {
    let lines: Vec<&str> = md.lines().collect();
    let schemas_at = lines
        .iter()
        .position(|l| *l == "# Schemas")
        .context("the reference has no `# Schemas` section")?;
    let (title, version, description) = parse_info(&lines[..schemas_at])?;
    let (tags, operations) = parse_operations(&lines[..schemas_at])?;
    let mut schemas = parse_schemas(&lines[schemas_at + 1..], schemas_at + 2)?;
    add_defaults(&mut schemas);

    let mut paths = Map::new();
    for op in operations {
        let entry = paths
            .entry(op.path.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        let methods = entry.as_object_mut().expect("paths entries are objects");
        ensure!(
            !methods.contains_key(&op.method),
            "{} {} appears twice",
            op.method,
            op.path
        );
        methods.insert(op.method.clone(), op.body);
    }

    let mut components = Map::new();
    components.insert("schemas".into(), Value::Object(schemas));
    components.insert(
        "securitySchemes".into(),
        json!({
            "Authorization": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "The API key, sent as `Authorization: <key>` or `Authorization: Bearer <key>`."
            },
            "CH-API-KEY": {
                "type": "apiKey",
                "in": "header",
                "name": "CH-API-KEY",
                "description": "The API key in the `CH-API-KEY` header; real clients send `samwise` with it."
            },
            "samwise": {
                "type": "apiKey",
                "in": "header",
                "name": "samwise",
                "description": "The API key again, sent together with `CH-API-KEY`."
            }
        }),
    );

    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": description,
            "termsOfService": "https://rostro.dev/tos",
            "contact": { "name": "Support", "email": "support@rostro.dev" }
        },
        "servers": [
            { "url": "https://api.rostro.dev", "description": "The Rostro API. Every path in this document is relative to it." },
            { "url": "https://api.rostro.dev/v1", "description": "The OpenAI-compatible (mimic) base URL that OpenAI clients are given; they append `/chat/completions`, `/completions` or `/models`, which reaches the `/v1/...` paths of this document." }
        ],
        "tags": tags.iter().map(|t| json!({ "name": t })).collect::<Vec<_>>(),
        "paths": paths,
        "components": components,
    });
    let known: Vec<String> = doc["components"]["schemas"]
        .as_object()
        .expect("schemas is an object")
        .keys()
        .cloned()
        .collect();
    inline_dangling_refs(&mut doc, &known);
    Ok(doc)
}

/// The reference links two schemas it never defines (`Choice`, `CompletionUsage`, both in
/// `ChatCompletion`). Such a reference becomes an open object that says so, so every
/// `$ref` in the document resolves and the schema count stays the reference's.
fn inline_dangling_refs(v: &mut Value, known: &[String]) {
    match v {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                && !known.iter().any(|k| k == name)
            {
                let name = name.to_string();
                map.remove("$ref");
                map.insert("type".into(), json!("object"));
                map.insert("title".into(), json!(name));
                map.insert(
                    "description".into(),
                    json!(format!(
                        "`{name}` is linked but not defined by the reference: any object."
                    )),
                );
            }
            map.values_mut()
                .for_each(|c| inline_dangling_refs(c, known));
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|c| inline_dangling_refs(c, known)),
        _ => {}
    }
}

fn parse_info(lines: &[&str]) -> Result<(String, String, String)> {
    let h1 = lines
        .iter()
        .find(|l| l.starts_with("<h1 id=\"rostro-api\">"))
        .context("no title heading")?;
    let text = strip_tags(h1);
    let (title, version) = text
        .rsplit_once(" v")
        .with_context(|| format!("title without a version: {text}"))?;
    let description = lines
        .iter()
        .find(|l| l.starts_with("Rostro endpoints."))
        .context("no API description paragraph")?;
    Ok((
        title.to_string(),
        version.to_string(),
        description.to_string(),
    ))
}

pub(super) fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_string()
}
