//! The operations part of the reference: one `## Summary` section per operation.

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Map, Value, json};

use super::strip_tags;
use super::table::{Row, parse_json, read_fence, read_table, type_schema};

pub(super) struct Operation {
    pub(super) path: String,
    pub(super) method: String,
    pub(super) body: Value,
}

pub(super) fn parse_operations(lines: &[&str]) -> Result<(Vec<String>, Vec<Operation>)> {
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

/// The pieces of one operation section, as read, before they become OpenAPI.
#[derive(Default)]
struct Section {
    op_id: Option<String>,
    content_type: Option<String>,
    method_path: Option<(String, String)>,
    body_example: Option<(String, String)>,
    param_rows: Vec<Row>,
    param_enums: Vec<Row>,
    examples: Vec<(String, Value)>,
    response_rows: Vec<Row>,
    security: Option<String>,
}

fn parse_operation(
    summary: &str,
    tag: &str,
    lines: &[&str],
    first_line: usize,
) -> Result<Operation> {
    let mut section = Section::default();
    let mut i = 1;
    while i < lines.len() {
        i = section.read_line(lines, i, first_line + i)?;
    }

    let op_id = section.op_id.take().context("no operationId anchor")?;
    let (method, path) = section
        .method_path
        .take()
        .context("no `METHOD /path` line")?;
    ensure!(!section.response_rows.is_empty(), "no responses table");

    let (parameters, body_row) = section.parameters(&path)?;

    let mut out = Map::new();
    out.insert("tags".into(), json!([tag]));
    out.insert("summary".into(), json!(summary));
    out.insert("operationId".into(), json!(op_id));
    if !parameters.is_empty() {
        out.insert("parameters".into(), Value::Array(parameters));
    }
    if let Some(body) = section.request_body(body_row)? {
        out.insert("requestBody".into(), body);
    }
    out.insert("responses".into(), section.responses()?);
    out.insert("security".into(), section.security_requirement()?);

    Ok(Operation {
        path,
        method,
        body: Value::Object(out),
    })
}

impl Section {
    /// Reads the line at `lines[i]` (and the table or block it opens); returns the index
    /// of the next line to read.
    fn read_line(&mut self, lines: &[&str], i: usize, at: usize) -> Result<usize> {
        let line = lines[i];
        if let Some(rest) = line.strip_prefix("<a id=\"opId") {
            ensure!(self.op_id.is_none(), "line {at}: second operationId anchor");
            self.op_id = Some(rest.trim_end_matches("\"></a>").to_string());
        } else if let Some(rest) = line.trim().strip_prefix("'Content-Type': '") {
            self.content_type = Some(rest.trim_end_matches(['\'', ',']).to_string());
        } else if line.starts_with('`') && line.ends_with('`') && line.len() > 2 {
            let inner = &line[1..line.len() - 1];
            if let Some((m, p)) = inner.split_once(' ')
                && matches!(m, "GET" | "POST" | "PUT" | "PATCH" | "DELETE")
            {
                ensure!(
                    self.method_path.is_none(),
                    "line {at}: second method/path line"
                );
                self.method_path = Some((m.to_lowercase(), p.to_string()));
            }
        } else if line == "> Body parameter" {
            let (lang, text, next) = read_fence(lines, i + 1)?;
            self.body_example = Some((lang, text));
            return Ok(next);
        } else if line.starts_with("<h3 id=") && line.ends_with("-parameters\">Parameters</h3>") {
            let (rows, next) = read_table(lines, i + 2, "|Name|In|Type|Required|Description|", 5)
                .with_context(|| format!("parameters table at line {at}"))?;
            self.param_rows = rows;
            return Ok(next);
        } else if line == "#### Enumerated Values" {
            let (rows, next) = read_table(lines, i + 2, "|Parameter|Value|", 2)
                .with_context(|| format!("enumerated values at line {at}"))?;
            self.param_enums.extend(rows);
            return Ok(next);
        } else if let Some(status) = line
            .strip_prefix("> ")
            .and_then(|l| l.strip_suffix(" Response"))
        {
            let (lang, text, next) = read_fence(lines, i + 1)?;
            ensure!(lang == "json", "line {at}: example response in `{lang}`");
            self.examples.push((
                status.to_string(),
                parse_json(&text, &format!("example {status} at line {at}"))?,
            ));
            return Ok(next);
        } else if line.starts_with("<h3 id=") && line.ends_with("-responses\">Responses</h3>") {
            let (rows, next) = read_table(lines, i + 2, "|Status|Meaning|Description|Schema|", 4)
                .with_context(|| format!("responses table at line {at}"))?;
            self.response_rows = rows;
            return Ok(next);
        } else if line == "<aside class=\"warning\">" {
            self.security = Some(read_aside(lines, i, at)?);
            return Ok(i + 3);
        }
        Ok(i + 1)
    }

    /// The declared parameters, and the `body` row if there is one. Only top-level rows
    /// other than `body` count; nested rows are body expansions of a component schema
    /// (already described in the Schemas section) and are not repeated.
    fn parameters(&self, path: &str) -> Result<(Vec<Value>, Option<Row>)> {
        let mut parameters = Vec::new();
        let mut body_row: Option<Row> = None;
        for row in &self.param_rows {
            if row.indented {
                continue;
            }
            if row.cells[1] == "body" {
                ensure!(body_row.is_none(), "two body rows");
                body_row = Some(row.clone());
                continue;
            }
            parameters.push(self.parameter(row)?);
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
        Ok((parameters, body_row))
    }

    /// One non-body parameter row as an OpenAPI parameter.
    fn parameter(&self, row: &Row) -> Result<Value> {
        let [name, location, ty, required, desc] = &row.cells[..] else {
            unreachable!()
        };
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
        let values: Vec<Value> = self
            .param_enums
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
        Ok(Value::Object(p))
    }

    /// The `requestBody`, when the section has a body example.
    fn request_body(&self, body_row: Option<Row>) -> Result<Option<Value>> {
        let Some((lang, text)) = &self.body_example else {
            ensure!(body_row.is_none(), "a body row without a body example");
            return Ok(None);
        };
        let ct = self
            .content_type
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
        Ok(Some(
            json!({ "required": required, "content": { ct: { "schema": schema } } }),
        ))
    }

    /// The `responses` object, with each status's example attached.
    fn responses(&self) -> Result<Value> {
        let mut responses = Map::new();
        for row in &self.response_rows {
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
            if let Some((_, ex)) = self.examples.iter().find(|(s, _)| s == status)
                && !ex.is_null()
            {
                media.insert("example".into(), ex.clone());
            }
            responses.insert(
                status.clone(),
                json!({ "description": desc, "content": { "application/json": media } }),
            );
        }
        for (status, _) in &self.examples {
            ensure!(
                responses.contains_key(status),
                "example for undeclared status {status}"
            );
        }
        Ok(Value::Object(responses))
    }

    /// The `security` list the aside names (none: an empty list).
    fn security_requirement(&self) -> Result<Value> {
        Ok(match self.security.as_deref() {
            // `None, Authorization, None`: anonymous calls are allowed, a key is used when given.
            Some("None, Authorization, None") => {
                json!([{}, { "Authorization": [] }, { "CH-API-KEY": [], "samwise": [] }])
            }
            Some("Authorization") => {
                json!([{ "Authorization": [] }, { "CH-API-KEY": [], "samwise": [] }])
            }
            Some(other) => bail!("unknown security requirement `{other}`"),
            None => json!([]),
        })
    }
}

/// The security requirement named by the warning aside at `lines[i]`.
fn read_aside(lines: &[&str], i: usize, at: usize) -> Result<String> {
    ensure!(
        lines
            .get(i + 1)
            .is_some_and(|l| l.starts_with("To perform this operation")),
        "line {at}: unexpected aside"
    );
    Ok(lines
        .get(i + 2)
        .context("truncated aside")?
        .trim()
        .to_string())
}
