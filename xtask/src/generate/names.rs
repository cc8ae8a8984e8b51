//! Rust names and doc comments from spec names and text.

use serde_json::Value;
use std::fmt::Write as _;

/// `errorCode` -> `ErrorCode`, `gpt-4.1-mini` -> `Gpt41Mini`, `w16h9` -> `W16h9`.
pub fn pascal(s: &str) -> String {
    let mut out = String::new();
    for word in words(s) {
        let mut chars = word.chars();
        if let Some(c) = chars.next() {
            out.extend(c.to_uppercase());
            out.extend(chars.flat_map(|c| c.to_lowercase()));
        }
    }
    if out.is_empty() {
        out.push_str("Empty");
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// `errorCode` -> `error_code`; Rust keywords get a trailing `_`.
pub fn snake(s: &str) -> String {
    let mut out = words(s)
        .iter()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join("_");
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "v_");
    }
    if !crate::tuning::is_snake_identifier(&out)
        && out.chars().all(|c| c.is_ascii_lowercase() || c == '_')
    {
        out.push('_');
    }
    out
}

/// Splits a spec name into words: at non-alphanumerics, where a lowercase letter or a digit
/// meets an uppercase one (`errorCode`, `I2IType`), and before the last capital of a run of
/// capitals followed by a lowercase letter (`HTTPValidation` -> `HTTP`, `Validation`). Each word
/// is then written capitalised (`Http`), so acronyms read as words (rule in openapi/README.md).
pub(super) fn words(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut words = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        let boundary = c.is_ascii_uppercase()
            && prev.is_some_and(|p| {
                p.is_ascii_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase()))
            });
        if boundary && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Turns spec text into doc-comment lines: bare URLs become autolinks, and brackets and angle
/// brackets are escaped so rustdoc reads no links or HTML into them.
pub(super) fn doc_lines(text: &str, indent: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mut rendered = Vec::new();
        for word in line.split(' ') {
            if let Some(pos) = word.find("http://").or_else(|| word.find("https://")) {
                let (before, url) = word.split_at(pos);
                let end = url
                    .find(|c: char| c.is_whitespace() || matches!(c, ')' | ']' | '\'' | '"' | ','))
                    .unwrap_or(url.len());
                let (url, after) = url.split_at(end);
                let url = url.trim_end_matches(['.', ',']);
                let rest = &word[pos + url.len()..];
                let _ = after;
                rendered.push(format!(
                    "{}<{}>{}",
                    escape_doc(before),
                    url,
                    escape_doc(rest)
                ));
            } else {
                rendered.push(escape_doc(word));
            }
        }
        let line = rendered.join(" ");
        let line = line.trim_end();
        if line.is_empty() {
            writeln!(out, "{indent}///").ok();
        } else {
            writeln!(out, "{indent}/// {line}").ok();
        }
    }
    out
}

pub(super) fn escape_doc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '[' | ']' | '<' | '>' | '*' | '_' | '`' | '#' | '|' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// A JSON value for a doc line, shortened.
pub(super) fn short_json(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        let cut: String = s.chars().take(77).collect();
        format!("{cut}...")
    } else {
        s
    }
}

pub(super) fn rust_str(s: &str) -> String {
    format!("{s:?}")
}
