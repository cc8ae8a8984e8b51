//! The Widdershins table and fenced-block readers, and the type-cell parser, that the
//! operation and schema parsers share.

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Value, json};

/// One row of a Widdershins table, with its cells trimmed and `indented` set when the
/// first cell starts with a space (a nested row: an `anyOf` alternative or an expansion).
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub(super) indented: bool,
    pub(super) cells: Vec<String>,
}

pub(super) fn parse_row(line: &str, columns: usize) -> Result<Row> {
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
pub(super) fn read_table(
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
pub(super) fn read_fence(lines: &[&str], at: usize) -> Result<(String, String, usize)> {
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

pub(super) fn parse_json(text: &str, what: &str) -> Result<Value> {
    serde_json::from_str(text).with_context(|| format!("{what} is not valid JSON"))
}

/// Turns a type cell (`string`, `[Ref](#schemaref)`, `[[Ref](#...)]`, `[string]`,
/// `array[string]`, `string(binary)`, `any`, ...) into a JSON Schema. `[anyOf]` gives an
/// array whose `items` the caller fills from the alternatives that follow.
pub(super) fn type_schema(ty: &str) -> Result<Value> {
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
