//! The request body `api` and `api call` build from their flags: JSON fields, a file or
//! stdin (checked to be JSON when sent as JSON), or multipart form parts.

use rostro_sdk::request::{FilePart, Part, Request};
use serde_json::{Map, Value};

use super::BodyArgs;
use crate::exit::{CliError, CliResult};
use crate::util;

/// A body built from the flags.
pub(super) enum BuiltBody {
    None,
    Json(Value),
    Raw(Vec<u8>),
    Form(Vec<(String, Part)>),
}

pub(super) fn build_body(b: &BodyArgs) -> CliResult<BuiltBody> {
    if let Some(input) = &b.input {
        return Ok(BuiltBody::Raw(util::read_input(input)?));
    }
    if b.raw_fields.is_empty() && b.fields.is_empty() {
        return Ok(BuiltBody::None);
    }
    if b.form {
        let mut parts = Vec::new();
        for f in b.raw_fields.iter().chain(&b.fields) {
            let (k, v) = util::split_kv(f)?;
            match v.strip_prefix('@') {
                Some(path) if path != "-" => {
                    if !std::path::Path::new(path).is_file() {
                        return Err(CliError::usage(format!("{path}: no such file")));
                    }
                    parts.push((k.to_owned(), Part::File(FilePart::from_path(path))));
                }
                Some(_) => parts.push((k.to_owned(), Part::text(util::read_text("-")?))),
                None => parts.push((k.to_owned(), Part::text(v))),
            }
        }
        return Ok(BuiltBody::Form(parts));
    }
    let mut obj = Map::new();
    for f in &b.raw_fields {
        let (k, v) = util::split_kv(f)?;
        let v = match v.strip_prefix('@') {
            Some(path) => Value::String(util::read_text(path)?),
            None => Value::String(v.to_owned()),
        };
        util::set_path(&mut obj, k, v);
    }
    for f in &b.fields {
        let (k, v) = util::split_kv(f)?;
        util::set_path(&mut obj, k, util::typed_value(v)?);
    }
    Ok(BuiltBody::Json(Value::Object(obj)))
}

/// The content type of an `--input` body: the one given with `-H`, else JSON.
fn input_content_type(headers: &[String]) -> String {
    headers
        .iter()
        .filter_map(|h| h.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_else(|| "application/json".to_owned())
}

/// `application/json`, `application/vnd.x+json`, with or without parameters.
fn is_json_type(ct: &str) -> bool {
    let media = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    media == "application/json" || media.ends_with("+json")
}

/// An `--input` / `--body` sent as JSON must be JSON: checked before anything is sent, so a
/// broken file fails here with its position instead of reaching the server. `--raw-body` (or
/// a non-JSON `-H Content-Type`) sends the bytes as they are.
pub(super) fn check_json_input(
    body: &BuiltBody,
    source: Option<&str>,
    headers: &[String],
    raw: bool,
) -> CliResult {
    let BuiltBody::Raw(bytes) = body else {
        return Ok(());
    };
    if raw || !is_json_type(&input_content_type(headers)) {
        return Ok(());
    }
    match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        Ok(_) => Ok(()),
        Err(e) => {
            let name = match source {
                None | Some("-") => "stdin",
                Some(f) => f,
            };
            Err(CliError::usage(format!(
                "{name} is not valid JSON (line {}, column {}): {}; nothing was sent (send it \
                 unchecked with --raw-body, or give its type with -H 'Content-Type: ...')",
                e.line(),
                e.column(),
                json_reason(&e)
            )))
        }
    }
}

/// serde_json's message without its trailing ` at line L column C`.
fn json_reason(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let tail = format!(" at line {} column {}", e.line(), e.column());
    full.strip_suffix(&tail).unwrap_or(&full).to_owned()
}

pub(super) fn apply_body(req: &mut Request, body: &BuiltBody, headers: &[String]) -> CliResult {
    match body {
        BuiltBody::None => {}
        BuiltBody::Json(v) => req.json_body(v)?,
        BuiltBody::Raw(bytes) => {
            let ct = input_content_type(headers);
            req.raw_body(&ct, bytes::Bytes::from(bytes.clone()));
        }
        BuiltBody::Form(parts) => req.multipart(parts.clone()),
    }
    for h in headers {
        let (n, v) = h
            .split_once(':')
            .ok_or_else(|| CliError::usage(format!("expected `Name: value`, got `{h}`")))?;
        if matches!(body, BuiltBody::Raw(_)) && n.trim().eq_ignore_ascii_case("content-type") {
            continue;
        }
        req.header(n.trim(), v.trim());
    }
    Ok(())
}

pub(super) fn body_clone(b: &BuiltBody) -> BuiltBody {
    match b {
        BuiltBody::None => BuiltBody::None,
        BuiltBody::Json(v) => BuiltBody::Json(v.clone()),
        BuiltBody::Raw(r) => BuiltBody::Raw(r.clone()),
        BuiltBody::Form(p) => BuiltBody::Form(p.clone()),
    }
}
