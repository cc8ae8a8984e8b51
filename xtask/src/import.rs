//! `cargo xtask import-reference`: turns the Widdershins-rendered API reference
//! (`rostro-api-reference.md`) back into the OpenAPI 3.1 document it was rendered from.
//!
//! The renderer flattens a few things (see `openapi/README.md` for every decision):
//! property tables with `anyOf` / `or` / `continued` markers, enum tables after the
//! property tables, and one sample JSON per schema (from `default`/`example` values or
//! type placeholders). The parser is strict: any line it does not understand inside a
//! section it parses is an error naming the line, never a silent skip.

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Map, Value, json};

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

fn strip_tags(s: &str) -> String {
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

// ---------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------

struct Operation {
    path: String,
    method: String,
    body: Value,
}

fn parse_operations(lines: &[&str]) -> Result<(Vec<String>, Vec<Operation>)> {
    let mut tags = Vec::new();
    let mut ops = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.starts_with("<h1 id=\"rostro-api-") {
            tags.push(strip_tags(line));
            i += 1;
        } else if let Some(summary) = line.strip_prefix("## ") {
            let tag = tags
                .last()
                .with_context(|| format!("line {}: operation before any tag heading", i + 1))?;
            let end = (i + 1..lines.len())
                .find(|&j| lines[j].starts_with("## ") || lines[j].starts_with("<h1 "))
                .unwrap_or(lines.len());
            let op = parse_operation(summary, tag, &lines[i..end], i + 1)
                .with_context(|| format!("operation `{summary}` at line {}", i + 1))?;
            ops.push(op);
            i = end;
        } else {
            i += 1;
        }
    }
    Ok((tags, ops))
}

/// One row of a Widdershins table, with its cells trimmed and `indented` set when the
/// first cell starts with a space (a nested row: an `anyOf` alternative or an expansion).
#[derive(Debug, Clone)]
struct Row {
    indented: bool,
    cells: Vec<String>,
}

fn parse_row(line: &str, columns: usize) -> Result<Row> {
    let inner = line
        .strip_prefix('|')
        .and_then(|l| l.strip_suffix('|'))
        .with_context(|| format!("not a table row: {line}"))?;
    // Descriptions may contain `|`; only the last cell can, so split a fixed number of times.
    let cells: Vec<String> = inner
        .splitn(columns, '|')
        .map(|c| c.trim().to_string())
        .collect();
    ensure!(cells.len() == columns, "expected {columns} cells: {line}");
    Ok(Row {
        indented: inner.starts_with(' '),
        cells,
    })
}

/// Reads the table that starts at `lines[at]` (header, separator, rows); returns the rows
/// and the index after the table.
fn read_table(
    lines: &[&str],
    at: usize,
    header: &str,
    columns: usize,
) -> Result<(Vec<Row>, usize)> {
    ensure!(
        lines.get(at) == Some(&header),
        "expected table header `{header}`, found `{}`",
        lines.get(at).unwrap_or(&"<end>")
    );
    ensure!(
        lines.get(at + 1).is_some_and(|l| l.starts_with("|---")),
        "table header `{header}` without a separator"
    );
    let mut rows = Vec::new();
    let mut i = at + 2;
    while i < lines.len() && lines[i].starts_with('|') {
        rows.push(parse_row(lines[i], columns)?);
        i += 1;
    }
    Ok((rows, i))
}

/// Reads the fenced block starting at or after `lines[at]` (skipping blank lines);
/// returns (language, text, index after the closing fence).
fn read_fence(lines: &[&str], at: usize) -> Result<(String, String, usize)> {
    let mut i = at;
    while i < lines.len() && lines[i].trim().is_empty() {
        i += 1;
    }
    let lang = lines
        .get(i)
        .and_then(|l| l.strip_prefix("```"))
        .with_context(|| format!("expected a fenced block at offset {i}"))?;
    let mut text = String::new();
    let mut j = i + 1;
    while j < lines.len() && lines[j] != "```" {
        text.push_str(lines[j]);
        text.push('\n');
        j += 1;
    }
    ensure!(j < lines.len(), "unterminated fenced block");
    Ok((lang.to_string(), text, j + 1))
}

fn parse_json(text: &str, what: &str) -> Result<Value> {
    serde_json::from_str(text).with_context(|| format!("{what} is not valid JSON"))
}

fn parse_operation(
    summary: &str,
    tag: &str,
    lines: &[&str],
    first_line: usize,
) -> Result<Operation> {
    let mut op_id = None;
    let mut content_type = None;
    let mut method_path = None;
    let mut body_example = None;
    let mut param_rows: Vec<Row> = Vec::new();
    let mut param_enums: Vec<Row> = Vec::new();
    let mut examples: Vec<(String, Value)> = Vec::new();
    let mut response_rows: Vec<Row> = Vec::new();
    let mut security: Option<String> = None;

    let mut i = 1;
    while i < lines.len() {
        let line = lines[i];
        let at = first_line + i;
        if let Some(rest) = line.strip_prefix("<a id=\"opId") {
            ensure!(op_id.is_none(), "line {at}: second operationId anchor");
            op_id = Some(rest.trim_end_matches("\"></a>").to_string());
        } else if let Some(rest) = line.trim().strip_prefix("'Content-Type': '") {
            content_type = Some(rest.trim_end_matches(['\'', ',']).to_string());
        } else if line.starts_with('`') && line.ends_with('`') && line.len() > 2 {
            let inner = &line[1..line.len() - 1];
            if let Some((m, p)) = inner.split_once(' ')
                && matches!(m, "GET" | "POST" | "PUT" | "PATCH" | "DELETE")
            {
                ensure!(method_path.is_none(), "line {at}: second method/path line");
                method_path = Some((m.to_lowercase(), p.to_string()));
            }
        } else if line == "> Body parameter" {
            let (lang, text, next) = read_fence(lines, i + 1)?;
            body_example = Some((lang, text));
            i = next;
            continue;
        } else if line.starts_with("<h3 id=") && line.ends_with("-parameters\">Parameters</h3>") {
            let (rows, next) = read_table(lines, i + 2, "|Name|In|Type|Required|Description|", 5)
                .with_context(|| format!("parameters table at line {at}"))?;
            param_rows = rows;
            i = next;
            continue;
        } else if line == "#### Enumerated Values" {
            let (rows, next) = read_table(lines, i + 2, "|Parameter|Value|", 2)
                .with_context(|| format!("enumerated values at line {at}"))?;
            param_enums.extend(rows);
            i = next;
            continue;
        } else if let Some(status) = line
            .strip_prefix("> ")
            .and_then(|l| l.strip_suffix(" Response"))
        {
            let (lang, text, next) = read_fence(lines, i + 1)?;
            ensure!(lang == "json", "line {at}: example response in `{lang}`");
            examples.push((
                status.to_string(),
                parse_json(&text, &format!("example {status} at line {at}"))?,
            ));
            i = next;
            continue;
        } else if line.starts_with("<h3 id=") && line.ends_with("-responses\">Responses</h3>") {
            let (rows, next) = read_table(lines, i + 2, "|Status|Meaning|Description|Schema|", 4)
                .with_context(|| format!("responses table at line {at}"))?;
            response_rows = rows;
            i = next;
            continue;
        } else if line == "<aside class=\"warning\">" {
            ensure!(
                lines
                    .get(i + 1)
                    .is_some_and(|l| l.starts_with("To perform this operation")),
                "line {at}: unexpected aside"
            );
            security = Some(
                lines
                    .get(i + 2)
                    .context("truncated aside")?
                    .trim()
                    .to_string(),
            );
            i += 3;
            continue;
        }
        i += 1;
    }

    let op_id = op_id.context("no operationId anchor")?;
    let (method, path) = method_path.context("no `METHOD /path` line")?;
    ensure!(!response_rows.is_empty(), "no responses table");

    // Parameters: top-level rows other than `body`; nested rows are body expansions of a
    // component schema (already described in the Schemas section) and are not repeated.
    let mut parameters = Vec::new();
    let mut body_row: Option<Row> = None;
    for row in &param_rows {
        if row.indented {
            continue;
        }
        let [name, location, ty, required, desc] = &row.cells[..] else {
            unreachable!()
        };
        if location == "body" {
            ensure!(body_row.is_none(), "two body rows");
            body_row = Some(row.clone());
            continue;
        }
        ensure!(
            matches!(location.as_str(), "query" | "path" | "header" | "cookie"),
            "parameter `{name}` in `{location}`"
        );
        let mut schema = match ty.as_str() {
            // The renderer prints `undefined` for a parameter whose schema is a reference it
            // could not print (an enum in every case here); the values are not in the
            // reference, so the parameter is a string.
            "undefined" => json!({ "type": "string" }),
            other => type_schema(other)?,
        };
        let values: Vec<Value> = param_enums
            .iter()
            .filter(|r| !r.indented && r.cells[0] == *name)
            .map(|r| Value::String(r.cells[1].clone()))
            .collect();
        if !values.is_empty() {
            schema["enum"] = Value::Array(values);
        }
        let mut p = Map::new();
        p.insert("name".into(), json!(name));
        p.insert("in".into(), json!(location));
        p.insert(
            "required".into(),
            json!(required == "true" || location == "path"),
        );
        if desc != "none" {
            p.insert("description".into(), json!(desc));
        }
        p.insert("schema".into(), schema);
        parameters.push(Value::Object(p));
    }
    for seg in path.split('/') {
        if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            ensure!(
                parameters
                    .iter()
                    .any(|p| p["name"] == name && p["in"] == "path"),
                "path parameter `{name}` is not declared"
            );
        }
    }

    let mut out = Map::new();
    out.insert("tags".into(), json!([tag]));
    out.insert("summary".into(), json!(summary));
    out.insert("operationId".into(), json!(op_id));
    if !parameters.is_empty() {
        out.insert("parameters".into(), Value::Array(parameters));
    }

    if let Some((lang, text)) = &body_example {
        let ct = content_type
            .clone()
            .context("a body parameter without a Content-Type in the code sample")?;
        ensure!(
            ct == "application/json" || ct == "multipart/form-data",
            "unexpected body content type `{ct}`"
        );
        let (mut schema, required) = match &body_row {
            Some(row) => (type_schema(&row.cells[2])?, row.cells[3] == "true"),
            // The renderer prints the sample `false` and no body row when the body's schema
            // is the bare `true`/`{}` schema: any JSON (or any form) is accepted.
            None => (json!({}), false),
        };
        if lang == "json" {
            let example = parse_json(text, "body example")?;
            let trivial =
                example == json!(false) || example == json!({}) || example == json!(["string"]);
            if !trivial && schema.get("$ref").is_none() {
                schema["example"] = example;
            }
        } else {
            ensure!(lang == "yaml", "body example in `{lang}`");
        }
        out.insert(
            "requestBody".into(),
            json!({ "required": required, "content": { ct: { "schema": schema } } }),
        );
    } else {
        ensure!(body_row.is_none(), "a body row without a body example");
    }

    let mut responses = Map::new();
    for row in &response_rows {
        let [status, _meaning, desc, schema_cell] = &row.cells[..] else {
            unreachable!()
        };
        ensure!(
            status.len() == 3 && status.chars().all(|c| c.is_ascii_digit()),
            "status `{status}`"
        );
        let schema = match schema_cell.as_str() {
            "None" | "Inline" => json!({}),
            other => type_schema(other)?,
        };
        let mut media = Map::new();
        media.insert("schema".into(), schema);
        if let Some((_, ex)) = examples.iter().find(|(s, _)| s == status)
            && !ex.is_null()
        {
            media.insert("example".into(), ex.clone());
        }
        responses.insert(
            status.clone(),
            json!({ "description": desc, "content": { "application/json": media } }),
        );
    }
    for (status, _) in &examples {
        ensure!(
            responses.contains_key(status),
            "example for undeclared status {status}"
        );
    }
    out.insert("responses".into(), Value::Object(responses));

    let security = match security.as_deref() {
        // `None, Authorization, None`: anonymous calls are allowed, a key is used when given.
        Some("None, Authorization, None") => {
            json!([{}, { "Authorization": [] }, { "CH-API-KEY": [], "samwise": [] }])
        }
        Some("Authorization") => {
            json!([{ "Authorization": [] }, { "CH-API-KEY": [], "samwise": [] }])
        }
        Some(other) => bail!("unknown security requirement `{other}`"),
        None => json!([]),
    };
    out.insert("security".into(), security);

    Ok(Operation {
        path,
        method,
        body: Value::Object(out),
    })
}

/// Turns a type cell (`string`, `[Ref](#schemaref)`, `[[Ref](#...)]`, `[string]`,
/// `array[string]`, `string(binary)`, `any`, ...) into a JSON Schema. `[anyOf]` gives an
/// array whose `items` the caller fills from the alternatives that follow.
fn type_schema(ty: &str) -> Result<Value> {
    Ok(match ty {
        "string" | "integer" | "number" | "boolean" | "null" | "object" | "array" => {
            json!({ "type": ty })
        }
        "any" => json!({}),
        "string(binary)" => json!({ "type": "string", "format": "binary" }),
        "[anyOf]" => json!({ "type": "array", "items": {} }),
        _ => {
            if let Some(item) = ty.strip_prefix("array[").and_then(|t| t.strip_suffix(']')) {
                json!({ "type": "array", "items": type_schema(item)? })
            } else if let Some(name) = ref_name(ty) {
                json!({ "$ref": format!("#/components/schemas/{name}") })
            } else if let Some(item) = ty.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
                json!({ "type": "array", "items": type_schema(item)? })
            } else {
                bail!("unknown type `{ty}`")
            }
        }
    })
}

/// `[Name](#schemaname)` -> `Name`.
fn ref_name(ty: &str) -> Option<&str> {
    let rest = ty.strip_prefix('[')?;
    let (name, link) = rest.split_once("](#schema")?;
    let anchor = link.strip_suffix(')')?;
    (anchor == name.to_lowercase()).then_some(name)
}

// ---------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------

fn parse_schemas(lines: &[&str], first_line: usize) -> Result<Map<String, Value>> {
    let starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("<h2 id=\"tocS_"))
        .map(|(i, _)| i)
        .collect();
    let mut schemas = Map::new();
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(lines.len());
        let name = strip_tags(lines[start]);
        let schema = parse_schema(&name, &lines[start..end], first_line + start)
            .with_context(|| format!("schema `{name}` at line {}", first_line + start))?;
        ensure!(
            schemas.insert(name.clone(), schema).is_none(),
            "schema `{name}` twice"
        );
    }
    Ok(schemas)
}

/// A property being assembled from the flattened tables.
struct Prop {
    name: String,
    required: bool,
    description: Option<String>,
    schema: Value,
}

/// Where `anyOf` alternatives currently go: the property's own list, or the items of an
/// array-of-anyOf alternative nested in it.
enum Ctx {
    Property(Vec<Value>),
    Nested(Nested, Vec<Value>),
}

/// What a nested `anyOf` describes: the items of an `[anyOf]` array, or the values of an
/// object's `additionalProperties` (typed `any`, then detailed by the nested `anyOf`).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Nested {
    Items,
    Values,
}

fn parse_schema(name: &str, lines: &[&str], first_line: usize) -> Result<Value> {
    let mut i = 1;
    // Skip the anchors and find the sample.
    while i < lines.len() && !lines[i].starts_with("```") {
        ensure!(
            lines[i].is_empty() || lines[i].starts_with("<a id=") || lines[i].starts_with("<!--"),
            "line {}: unexpected `{}` before the sample",
            first_line + i,
            lines[i]
        );
        i += 1;
    }
    let (lang, text, next) = read_fence(lines, i)?;
    ensure!(lang == "json", "sample in `{lang}`");
    let sample = parse_json(&text, "schema sample")?;
    i = next;
    while i < lines.len() && lines[i].is_empty() {
        i += 1;
    }
    // The schema's title (not always its name: `FunctionCall-Input` is titled
    // `FunctionCall`), then any description paragraphs, then the property tables.
    let title = lines.get(i).context("no title line")?.to_string();
    i += 1;
    let mut description = Vec::new();
    while i < lines.len() && lines[i] != "### Properties" {
        ensure!(
            !lines[i].starts_with('|') && !lines[i].starts_with('<'),
            "expected `### Properties`"
        );
        if !lines[i].is_empty() {
            description.push(lines[i]);
        }
        i += 1;
    }
    ensure!(i < lines.len(), "no `### Properties`");
    i += 1;

    let mut props: Vec<Prop> = Vec::new();
    let mut stack: Vec<Ctx> = Vec::new();
    // The schema an `additionalProperties` row refers to: (in stack?, index).
    let mut enum_rows: Vec<Row> = Vec::new();
    let mut pending: Option<Nested> = None;

    let close = |props: &mut Vec<Prop>, stack: &mut Vec<Ctx>| -> Result<()> {
        while let Some(ctx) = stack.pop() {
            match ctx {
                Ctx::Nested(kind, alts) => attach_nested(props, stack, kind, alts)?,
                Ctx::Property(alts) => {
                    let prop = props.last_mut().context("anyOf before any property")?;
                    ensure!(
                        prop.schema == json!({}),
                        "anyOf on a property typed `{}`",
                        prop.schema
                    );
                    prop.schema = json!({ "anyOf": alts });
                }
            }
        }
        Ok(())
    };

    while i < lines.len() {
        let line = lines[i];
        let at = first_line + i;
        match line {
            "" => {}
            // An object with no declared properties.
            "*None*" if props.is_empty() && stack.is_empty() => {}
            "anyOf" => {
                if let Some(kind) = pending.take() {
                    stack.push(Ctx::Nested(kind, Vec::new()));
                } else {
                    ensure!(stack.is_empty(), "line {at}: nested anyOf");
                    ensure!(!props.is_empty(), "line {at}: anyOf before any property");
                    stack.push(Ctx::Property(Vec::new()));
                }
            }
            "or" => ensure!(!stack.is_empty(), "line {at}: `or` outside anyOf"),
            "continued" => {
                ensure!(!stack.is_empty(), "line {at}: `continued` outside anyOf");
                close(&mut props, &mut stack)?;
            }
            "#### Enumerated Values" => {
                close(&mut props, &mut stack)?;
                let (rows, next) = read_table(lines, i + 2, "|Property|Value|", 2)?;
                enum_rows.extend(rows);
                i = next;
                continue;
            }
            "|Name|Type|Required|Restrictions|Description|" => {
                ensure!(
                    lines.get(i + 1).is_some_and(|l| l.starts_with("|---")),
                    "line {at}: header without separator"
                );
                i += 2;
                continue;
            }
            _ if line.starts_with('|') => {
                let row = parse_row(line, 5).with_context(|| format!("line {at}"))?;
                let [pname, ty, required, _restrictions, desc] = &row.cells[..] else {
                    unreachable!()
                };
                // `additionalProperties: any` needs no detail; `[anyOf]` always gets it.
                ensure!(
                    pending != Some(Nested::Items),
                    "line {at}: `[anyOf]` not followed by anyOf"
                );
                pending = None;
                let schema = type_schema(ty).with_context(|| format!("line {at}"))?;
                match pname.as_str() {
                    "*anonymous*" => {
                        ensure!(!stack.is_empty(), "line {at}: anonymous row outside anyOf");
                        // An outer `null` alternative after an array-of-anyOf is rendered as
                        // if it were one more item; nullability belongs to the property.
                        if ty == "null" && matches!(stack.last(), Some(Ctx::Nested(..))) {
                            let Some(Ctx::Nested(kind, alts)) = stack.pop() else {
                                unreachable!()
                            };
                            attach_nested(&mut props, &mut stack, kind, alts)?;
                            match stack.last_mut() {
                                Some(Ctx::Property(parent)) => parent.push(schema),
                                _ => {
                                    let prop =
                                        props.last_mut().context("items without a property")?;
                                    prop.schema = json!({ "anyOf": [prop.schema.take(), schema] });
                                }
                            }
                        } else {
                            pending = (ty == "[anyOf]").then_some(Nested::Items);
                            match stack.last_mut() {
                                Some(Ctx::Property(a)) | Some(Ctx::Nested(_, a)) => a.push(schema),
                                None => unreachable!("checked above"),
                            }
                        }
                    }
                    "**additionalProperties**" => {
                        let target = match stack.last_mut() {
                            Some(Ctx::Property(a)) | Some(Ctx::Nested(_, a)) => a.last_mut(),
                            None => props.last_mut().map(|p| &mut p.schema),
                        }
                        .with_context(|| {
                            format!("line {at}: additionalProperties without an object")
                        })?;
                        // `[object]` followed by additionalProperties: a list of maps.
                        let target = if target["type"] == "array" {
                            &mut target["items"]
                        } else {
                            target
                        };
                        ensure!(
                            target["type"] == "object",
                            "line {at}: additionalProperties on {target}"
                        );
                        pending = (ty == "any").then_some(Nested::Values);
                        target["additionalProperties"] = schema;
                    }
                    _ => {
                        ensure!(!row.indented, "line {at}: nested named row `{pname}`");
                        close(&mut props, &mut stack)?;
                        pending = (ty == "[anyOf]").then_some(Nested::Items);
                        props.push(Prop {
                            name: pname.clone(),
                            required: required == "true",
                            description: (desc != "none").then(|| desc.clone()),
                            schema,
                        });
                    }
                }
            }
            _ => bail!("line {at}: unexpected `{line}`"),
        }
        i += 1;
    }
    close(&mut props, &mut stack)?;

    // A schema whose only property is named like the schema itself is a primitive (enums).
    let primitive = props.len() == 1 && props[0].name == name;
    let mut schema = if primitive {
        let mut s = props.pop().expect("one property").schema;
        let values: Vec<Value> = enum_rows
            .iter()
            .map(|r| {
                ensure!(
                    r.cells[0] == name,
                    "enum row `{}` in primitive `{name}`",
                    r.cells[0]
                );
                Ok(Value::String(r.cells[1].clone()))
            })
            .collect::<Result<_>>()?;
        if !values.is_empty() {
            s["enum"] = Value::Array(values);
        }
        s
    } else {
        assign_enums(name, &mut props, &enum_rows, &sample)?;
        let mut properties = Map::new();
        let mut required = Vec::new();
        for p in props {
            let mut s = p.schema;
            if let Some(d) = p.description {
                s["description"] = json!(d);
            }
            if p.required {
                required.push(json!(p.name));
            }
            ensure!(
                properties.insert(p.name.clone(), s).is_none(),
                "property `{}` twice",
                p.name
            );
        }
        let mut s = Map::new();
        s.insert("type".into(), json!("object"));
        s.insert("properties".into(), Value::Object(properties));
        if !required.is_empty() {
            s.insert("required".into(), Value::Array(required));
        }
        Value::Object(s)
    };
    schema["title"] = json!(title);
    if !description.is_empty() {
        schema["description"] = json!(description.join("\n"));
    }
    schema["example"] = sample;
    Ok(schema)
}

/// Puts the alternatives of a nested `anyOf` where they belong: the `items` of the
/// array, or the `additionalProperties` of the object, that is the last alternative of
/// the enclosing `anyOf` (or the property itself).
fn attach_nested(
    props: &mut [Prop],
    stack: &mut [Ctx],
    kind: Nested,
    alts: Vec<Value>,
) -> Result<()> {
    let host = match stack.last_mut() {
        Some(Ctx::Property(parent)) => {
            parent.last_mut().context("nested anyOf without its host")?
        }
        Some(Ctx::Nested(..)) => bail!("anyOf nested three deep"),
        None => {
            &mut props
                .last_mut()
                .context("nested anyOf without a property")?
                .schema
        }
    };
    let host = if kind == Nested::Values && host["type"] == "array" {
        &mut host["items"]
    } else {
        host
    };
    match kind {
        Nested::Items => {
            ensure!(host["type"] == "array", "items for a non-array {host}");
            host["items"] = json!({ "anyOf": alts });
        }
        Nested::Values => {
            ensure!(host["type"] == "object", "values for a non-object {host}");
            host["additionalProperties"] = json!({ "anyOf": alts });
        }
    }
    Ok(())
}

/// Splits a run of anonymous enum values into one contiguous segment per property, in
/// property order: a segment starts with its property's sample value (the renderer samples
/// an enum with its first value), except for an open set (`str | Literal[...]`), whose
/// sample is the plain string's placeholder. Of the splits that fit, the one that gives the
/// most properties an enum wins.
fn segment_enums(
    values: &[Value],
    candidates: &[(usize, bool)],
    samples: &[Option<&Value>],
) -> Option<Vec<(usize, std::ops::Range<usize>)>> {
    fn go(
        start: usize,
        cand: usize,
        values: &[Value],
        candidates: &[(usize, bool)],
        samples: &[Option<&Value>],
    ) -> Option<Vec<(usize, std::ops::Range<usize>)>> {
        if start == values.len() {
            return Some(Vec::new());
        }
        let mut best: Option<Vec<(usize, std::ops::Range<usize>)>> = None;
        for c in cand..candidates.len() {
            let (prop, open_set) = candidates[c];
            let fits = samples[c] == Some(&values[start])
                || (open_set && samples[c].is_some_and(|s| s == "string"));
            if !fits {
                continue;
            }
            for end in start + 1..=values.len() {
                if let Some(mut rest) = go(end, c + 1, values, candidates, samples)
                    && best.as_ref().is_none_or(|b| b.len() < rest.len() + 1)
                {
                    rest.insert(0, (prop, start..end));
                    best = Some(rest);
                }
            }
        }
        best
    }
    go(0, 0, values, candidates, samples)
}

/// Attaches the rows of a schema's enum table to its properties. Rows name the property,
/// or say `*anonymous*` for an enum alternative inside a property's `anyOf`; such a group
/// goes to the one string alternative whose sample value is the group's first value (the
/// renderer samples an enum with its first value).
fn assign_enums(name: &str, props: &mut [Prop], rows: &[Row], sample: &Value) -> Result<()> {
    let mut groups: Vec<(String, Vec<Value>)> = Vec::new();
    for r in rows {
        match groups.last_mut() {
            Some((g, values)) if *g == r.cells[0] => values.push(json!(r.cells[1])),
            _ => groups.push((r.cells[0].clone(), vec![json!(r.cells[1])])),
        }
    }
    for (group, values) in groups {
        if group == "*anonymous*" {
            // Consecutive anonymous enums of several properties run together in one table;
            // split them where a value is the sample of the next property that can take one.
            let plain_strings = |p: &Prop| {
                p.schema["anyOf"].as_array().map_or(0, |alts| {
                    alts.iter()
                        .filter(|a| a["type"] == "string" && a.get("enum").is_none())
                        .count()
                })
            };
            let candidates: Vec<(usize, bool)> = (0..props.len())
                .filter(|&k| plain_strings(&props[k]) > 0)
                .map(|k| (k, plain_strings(&props[k]) >= 2))
                .collect();
            let samples: Vec<Option<&Value>> = candidates
                .iter()
                .map(|(k, _)| sample.get(&props[*k].name))
                .collect();
            let segments = segment_enums(&values, &candidates, &samples).with_context(|| {
                format!(
                    "{name}: cannot tell which properties the anonymous enum {values:?} belongs to"
                )
            })?;
            for (k, range) in segments {
                let alts = props[k].schema["anyOf"]
                    .as_array_mut()
                    .expect("candidates have anyOf");
                // In `str | Literal[...]` the plain string stays (an open set); the enum goes
                // to the last string alternative.
                let target = alts
                    .iter()
                    .rposition(|a| a["type"] == "string" && a.get("enum").is_none())
                    .expect("candidates have a string alternative");
                alts[target]["enum"] = Value::Array(values[range].to_vec());
            }
        } else {
            let prop = props
                .iter_mut()
                .find(|p| p.name == group)
                .with_context(|| format!("{name}: enum for unknown property `{group}`"))?;
            if prop.schema["type"] == "string" {
                prop.schema["enum"] = Value::Array(values);
            } else if let Some(alts) = prop.schema["anyOf"].as_array_mut()
                && let Some(a) = alts.iter_mut().find(|a| a["type"] == "string")
            {
                a["enum"] = Value::Array(values);
            } else {
                bail!("{name}: enum for `{group}`, which is not a string");
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Defaults
// ---------------------------------------------------------------------------------------

/// Records `default` on optional properties whose sample value is not the renderer's
/// placeholder for their type (see openapi/README.md).
fn add_defaults(schemas: &mut Map<String, Value>) {
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
