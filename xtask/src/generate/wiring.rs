//! `wiring.rs`: what the tuning table's `pagination` and `upload` keys wire up. Each key is
//! checked against the builder it names (a `page` or `cursor` setter, a multipart body), so
//! the table cannot drift from the spec.

use anyhow::{Context, Result, bail, ensure};
use serde_json::Value;
use std::fmt::Write as _;

use super::names::rust_str;
use super::operation::{BodyKind, OpParts};
use super::types::{TypeGen, is_any};
use super::{HEADER, OpInfo};
use crate::tuning::Tuning;

/// The lines of `wiring.rs`, collected operation by operation.
#[derive(Default)]
pub(super) struct Wiring {
    paginated: String,
    multipart: String,
}

impl Wiring {
    /// Records what the operation's tuning entry wires, after checking it against the builder.
    pub(super) fn add(
        &mut self,
        group: &str,
        o: &OpInfo,
        parts: &OpParts,
        types: &TypeGen<'_>,
        tuning: &Tuning,
    ) -> Result<()> {
        let gate = o
            .tuning
            .feature
            .as_ref()
            .map(|f| format!("    #[cfg(feature = \"{f}\")]\n"))
            .unwrap_or_default();
        let builder = format!("crate::generated::{group}::{}", parts.builder);
        if let Some(style) = o.tuning.pagination.as_deref() {
            check_page_setter(style, parts)?;
            let (item, paths) = page_item(o, parts, types, tuning)?;
            let paths: Vec<String> = paths.iter().map(|p| rust_str(p)).collect();
            writeln!(
                self.paginated,
                "{gate}    {builder} => {item}, {style}, [{}];",
                paths.join(", ")
            )
            .ok();
        }
        match o.tuning.upload.as_deref() {
            Some("multipart") => {
                ensure!(
                    matches!(
                        parts.body,
                        BodyKind::FormFields { .. } | BodyKind::FormParts
                    ),
                    "`upload = \"multipart\"`, but the body is not `multipart/form-data`"
                );
                writeln!(self.multipart, "{gate}    {builder} => {};", parts.output).ok();
            }
            Some(kind @ ("base64-json" | "chunked")) => ensure!(
                matches!(
                    parts.body,
                    BodyKind::JsonFields { .. } | BodyKind::JsonWhole { .. }
                ),
                "`upload = \"{kind}\"`, but the body is not JSON"
            ),
            _ => {}
        }
        Ok(())
    }

    /// The file's text.
    pub(super) fn render(&self) -> String {
        format!(
            "{HEADER}//! What `openapi/tuning.toml` wires onto the generated builders: `.stream()` for every\n//! `pagination` entry ([`crate::media::paginate`]) and [`Client::upload`](crate::Client::upload)\n//! for every `upload = \"multipart\"` entry ([`crate::media::upload`]).\n\ncrate::media::paginate::paginated! {{\n{}}}\n\ncrate::media::upload::multipart_operations! {{\n{}}}\n",
            self.paginated, self.multipart
        )
    }
}

/// A page style needs its setter: `page` takes a page number, `cursor` the next page's cursor.
fn check_page_setter(style: &str, parts: &OpParts) -> Result<()> {
    let query = parts.query.iter().map(|q| (q.wire.as_str(), q.ty.as_str()));
    let body: Vec<(&str, &str)> = match &parts.body {
        BodyKind::JsonFields { fields, .. } => fields
            .iter()
            .map(|f| (f.wire.as_str(), f.ty.as_str()))
            .collect(),
        _ => Vec::new(),
    };
    let mut inputs = query.chain(body);
    let found = match style {
        "page" => inputs.any(|(wire, ty)| wire == "page" && ty == "i64"),
        "cursor" => inputs.any(|(wire, ty)| wire == "cursor" && ty == "String"),
        other => bail!("unknown pagination `{other}`"),
    };
    let names: Vec<&str> = parts
        .query
        .iter()
        .map(|q| q.wire.as_str())
        .chain(match &parts.body {
            BodyKind::JsonFields { fields, .. } => fields.iter().map(|f| f.wire.as_str()).collect(),
            _ => Vec::new(),
        })
        .collect();
    ensure!(
        found,
        "`pagination = \"{style}\"`, but the builder has no `{}` setter (its inputs: {})",
        if style == "page" {
            "page(i64)"
        } else {
            "cursor(String)"
        },
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    );
    Ok(())
}

/// The type of a page's items and where the page holds them: a tuning type's `x-items`
/// paths, else the answer's one list of a typed schema; JSON (found by the usual keys) when
/// neither says.
fn page_item(
    o: &OpInfo,
    parts: &OpParts,
    types: &TypeGen<'_>,
    tuning: &Tuning,
) -> Result<(String, Vec<String>)> {
    let untyped = || Ok(("serde_json::Value".to_string(), Vec::new()));
    let schema = match (
        &o.tuning.response,
        parts.ok_schema.get("$ref").and_then(Value::as_str),
    ) {
        (Some(t), _) => {
            let schema = tuning.type_schema(t)?;
            if let Some(paths) = schema.get("x-items").and_then(Value::as_array) {
                let paths: Vec<String> = paths
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect();
                let first = paths.first().context("x-items is empty")?;
                let (_, item) = types
                    .items_path(&schema, first)
                    .with_context(|| format!("`{t}`: x-items path `{first}`"))?;
                return Ok((item, paths));
            }
            schema
        }
        (None, Some(r)) if !types.is_hand_ref(r) => {
            let (name, _) = types.resolve_ref(r)?;
            types.schema(&name)?.clone()
        }
        _ => return untyped(),
    };
    let lists: Vec<(&String, &str)> = schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, p)| p["type"] == "array" && !is_any(&p["items"]))
        .filter_map(|(k, p)| Some((k, p["items"]["$ref"].as_str()?)))
        .collect();
    match lists.as_slice() {
        [] => untyped(),
        [(key, r)] => Ok((types.resolve_ref(r)?.1, vec![(*key).clone()])),
        _ => bail!("the answer has several typed lists; which one holds the items is ambiguous"),
    }
}
