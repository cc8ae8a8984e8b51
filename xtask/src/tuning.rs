//! The hand-tuning table `openapi/tuning.toml`: how each operation appears in the SDK.

use anyhow::{Context, Result, bail, ensure};
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The whole table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tuning {
    /// One entry per operationId.
    pub operations: BTreeMap<String, OpTuning>,
    /// Extra response types for operations the reference leaves untyped.
    #[serde(default)]
    pub types: BTreeMap<String, TypeTuning>,
    /// Rust names for schemas whose own names are too long or collide once shortened.
    #[serde(default)]
    pub type_names: BTreeMap<String, String>,
    /// Schemas whose one Rust type is hand-written: schema name -> that type's path
    /// (`crate::chat::ChatCompletion`). The generator emits no type for them and refers to
    /// the hand-written one wherever the spec refers to the schema. A `Schema.property` key
    /// does the same for a property's inline schema (a union the spec leaves unnamed).
    #[serde(default)]
    pub hand_types: BTreeMap<String, String>,
    /// Query parameters the reference leaves untyped (`{}`, FastAPI's `Optional[...]` with
    /// its inner type lost), or whose string is a comma-joined list: parameter name ->
    /// `integer`, `number`, `boolean` or `csv`. Applies to every operation with that
    /// parameter.
    #[serde(default)]
    pub query_types: BTreeMap<String, String>,
}

/// How one operation appears in the SDK.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct OpTuning {
    /// Resource group: `client.<group>()`.
    pub group: String,
    /// Method on the group.
    pub method: String,
    /// `api` (default) or `mimic`: which base URL the path joins.
    #[serde(default)]
    pub base: Option<String>,
    /// SSE when the body says `"stream": true`.
    #[serde(default)]
    pub streaming: bool,
    /// `imagine` or `check`.
    #[serde(default)]
    pub polling: Option<String>,
    /// `page` or `cursor`.
    #[serde(default)]
    pub pagination: Option<String>,
    /// `multipart`, `base64-json` or `chunked`.
    #[serde(default)]
    pub upload: Option<String>,
    /// A type from `[types]`.
    #[serde(default)]
    pub response: Option<String>,
    /// A cargo feature gating the group.
    #[serde(default)]
    pub feature: Option<String>,
}

/// An extra type, as JSON Schema text.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeTuning {
    /// Doc comment for the type.
    pub description: String,
    /// JSON Schema; `#/x-tuning/types/X` refers to another tuning type.
    pub schema: String,
    /// A documented answer of this shape (JSON text): the generated decode test checks it
    /// decodes and re-encodes unchanged, with and without members no one documented.
    #[serde(default)]
    pub example: Option<String>,
}

impl Tuning {
    /// Parses the table text.
    pub fn parse(text: &str) -> Result<Self> {
        toml::from_str(text).context("openapi/tuning.toml")
    }

    /// Parsed schema of a tuning type.
    pub fn type_schema(&self, name: &str) -> Result<Value> {
        let t = self
            .types
            .get(name)
            .with_context(|| format!("no tuning type `{name}`"))?;
        serde_json::from_str(&t.schema)
            .with_context(|| format!("tuning type `{name}`: schema is not JSON"))
    }

    /// Checks the table against the document: every operation has exactly one entry, no
    /// entry names a missing operation, group+method pairs are unique, names are Rust
    /// identifiers, hint values are known, and response types exist and fill a gap.
    pub fn validate(&self, doc: &Value) -> Result<()> {
        let mut problems = Vec::new();
        let ids = self.check_operations(doc, &mut problems);
        self.check_entries(&ids, &mut problems);
        self.check_hand_types(doc, &mut problems);
        self.check_types(&mut problems);
        self.check_query_types(doc, &mut problems);
        if !problems.is_empty() {
            bail!("openapi/tuning.toml:\n  {}", problems.join("\n  "));
        }
        ensure!(!self.operations.is_empty(), "empty tuning table");
        Ok(())
    }

    /// Every operation has an entry, and a response type only where the reference has none;
    /// returns the operation ids.
    fn check_operations(&self, doc: &Value, problems: &mut Vec<String>) -> BTreeSet<String> {
        let mut ids = BTreeSet::new();
        for (_, _, op) in crate::operations(doc) {
            let id = op["operationId"].as_str().unwrap_or_default().to_string();
            match self.operations.get(&id) {
                None => problems.push(format!("operation `{id}` has no entry")),
                Some(t) => {
                    if let Some(r) = &t.response {
                        if !self.types.contains_key(r) {
                            problems.push(format!("`{id}`: response type `{r}` is not in [types]"));
                        }
                        let schema =
                            &op["responses"]["200"]["content"]["application/json"]["schema"];
                        if schema.as_object().is_some_and(|m| !m.is_empty()) {
                            problems.push(format!(
                                "`{id}`: response type given, but the reference types it"
                            ));
                        }
                    }
                }
            }
            ids.insert(id);
        }
        ids
    }

    /// Every entry names an operation, with identifier names, a unique group+method pair
    /// and known hint values.
    fn check_entries(&self, ids: &BTreeSet<String>, problems: &mut Vec<String>) {
        let mut pairs = BTreeMap::new();
        for (id, t) in &self.operations {
            if !ids.contains(id) {
                problems.push(format!("entry `{id}` names no operation"));
            }
            for (what, name) in [("group", &t.group), ("method", &t.method)] {
                if !is_snake_identifier(name) {
                    problems.push(format!(
                        "`{id}`: {what} `{name}` is not a snake_case Rust identifier"
                    ));
                }
            }
            if let Some(prev) = pairs.insert((t.group.clone(), t.method.clone()), id.clone()) {
                problems.push(format!(
                    "`{prev}` and `{id}` are both {}.{}",
                    t.group, t.method
                ));
            }
            let checks: [(&str, &Option<String>, &[&str]); 4] = [
                ("base", &t.base, &["api", "mimic"]),
                ("polling", &t.polling, &["imagine", "check"]),
                ("pagination", &t.pagination, &["page", "cursor"]),
                (
                    "upload",
                    &t.upload,
                    &["multipart", "base64-json", "chunked"],
                ),
            ];
            for (what, value, allowed) in checks {
                if let Some(v) = value
                    && !allowed.contains(&v.as_str())
                {
                    problems.push(format!("`{id}`: {what} `{v}` is not one of {allowed:?}"));
                }
            }
        }
    }

    /// `[hand_types]` name schemas (not also renamed) or `Schema.property`s, and `crate::`
    /// paths.
    fn check_hand_types(&self, doc: &Value, problems: &mut Vec<String>) {
        let schemas = &doc["components"]["schemas"];
        for (schema, path) in &self.hand_types {
            if let Some((owner, property)) = schema.split_once('.') {
                if schemas[owner]["properties"].get(property).is_none() {
                    problems.push(format!(
                        "[hand_types] `{schema}` names no property of a schema"
                    ));
                }
            } else if schemas.get(schema).is_none() {
                problems.push(format!("[hand_types] `{schema}` names no schema"));
            }
            if self.type_names.contains_key(schema) {
                problems.push(format!(
                    "`{schema}` is in both [hand_types] and [type_names]"
                ));
            }
            let is_path = path.strip_prefix("crate::").is_some_and(|rest| {
                rest.split("::").all(|seg| {
                    !seg.is_empty() && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                })
            });
            if !is_path {
                problems.push(format!(
                    "[hand_types] `{schema}`: `{path}` is not a `crate::` path"
                ));
            }
        }
    }

    /// `[types]` have JSON schemas and a JSON object example.
    fn check_types(&self, problems: &mut Vec<String>) {
        for (name, t) in &self.types {
            if let Err(e) = self.type_schema(name) {
                problems.push(format!("{e:#}"));
            }
            match &t.example {
                None => problems.push(format!("tuning type `{name}` has no example")),
                Some(e) if !serde_json::from_str::<Value>(e).is_ok_and(|v| v.is_object()) => {
                    problems.push(format!(
                        "tuning type `{name}`: example is not a JSON object"
                    ))
                }
                Some(_) => {}
            }
        }
    }

    /// `[query_types]` are known kinds and name a query parameter of some operation.
    fn check_query_types(&self, doc: &Value, problems: &mut Vec<String>) {
        for (name, ty) in &self.query_types {
            if !["integer", "number", "boolean", "csv"].contains(&ty.as_str()) {
                problems.push(format!(
                    "[query_types] `{name}`: `{ty}` is not integer, number, boolean or csv"
                ));
            }
            let used = crate::operations(doc).any(|(_, _, op)| {
                op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|p| p["in"] == "query" && p["name"] == name.as_str())
            });
            if !used {
                problems.push(format!("[query_types] `{name}` is no query parameter"));
            }
        }
    }
}

/// Lower snake case, not a Rust keyword.
pub fn is_snake_identifier(s: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
        "extern", "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod",
        "move", "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait",
        "true", "type", "unsafe", "use", "where", "while", "abstract", "become", "box", "do",
        "final", "macro", "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
    ];
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !KEYWORDS.contains(&s)
}
