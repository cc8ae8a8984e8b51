//! Shared pieces of the xtask binary that its tests also use.

pub mod import;
pub mod tuning;

use serde_json::Value;
use std::path::{Path, PathBuf};

/// The workspace root (xtask's parent directory).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// Where the rendered reference sits by default: `../shared/reference/` beside the repo.
pub fn default_reference() -> PathBuf {
    root().join("../shared/reference/rostro-api-reference.md")
}

/// Pretty-prints a JSON document the way every committed JSON file is written:
/// two-space indent, keys in document order, a final newline.
pub fn to_pretty_json(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("JSON values always serialize");
    s.push('\n');
    s
}

/// Every operation of an OpenAPI document: (path, method, operation object), in order.
pub fn operations(doc: &Value) -> impl Iterator<Item = (&str, &str, &Value)> {
    doc["paths"].as_object().into_iter().flat_map(|paths| {
        paths.iter().flat_map(|(path, methods)| {
            methods.as_object().into_iter().flat_map(move |m| {
                m.iter()
                    .map(move |(method, op)| (path.as_str(), method.as_str(), op))
            })
        })
    })
}
