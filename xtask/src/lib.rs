//! Shared pieces of the xtask binary that its tests also use.

pub mod import;

/// Pretty-prints a JSON document the way every committed JSON file is written:
/// two-space indent, keys in document order, a final newline.
pub fn to_pretty_json(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("JSON values always serialize");
    s.push('\n');
    s
}
