//! One request builder per operation: parameters, body, builder and docs.

mod builder;
mod inputs;

use anyhow::{Context, Result};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::calls::gen_test_call;
use super::names::*;
use super::types::*;
use super::wiring::Wiring;
use super::{HEADER, OpInfo};
use crate::tuning::Tuning;
pub(super) use builder::setter_code_at;
use builder::{builder_code, path_arg};
use inputs::{body_kind, params};

/// One setter of a request builder.
pub(super) struct Setter {
    /// Builder field and setter name.
    pub(super) ident: String,
    /// Wire name.
    pub(super) wire: String,
    pub(super) ty: String,
    pub(super) required: bool,
    pub(super) docs: String,
}

pub(super) enum BodyKind {
    None,
    /// A JSON object schema whose fields become setters; assembled into `ty` at send.
    JsonFields {
        ty: String,
        fields: Vec<Setter>,
        nullable_required: Vec<String>,
    },
    /// A multipart form schema whose fields become setters.
    FormFields {
        ty: String,
        fields: Vec<Setter>,
    },
    /// Any other JSON body, set whole.
    JsonWhole {
        ty: String,
        required: bool,
    },
    /// An untyped multipart form: parts added one by one.
    FormParts,
}

pub(super) fn gen_group(
    group: &str,
    ops: &[OpInfo],
    types: &mut TypeGen<'_>,
    tuning: &Tuning,
    wiring: &mut Wiring,
) -> Result<String> {
    let handle = format!("{}Api", pascal(group));
    let mut code = String::from(HEADER);
    writeln!(
        code,
        "//! The `{group}` operations: [`{handle}`], from [`Client::{group}`](crate::Client::{group}).\n"
    )
    .ok();
    code.push_str("#![allow(clippy::doc_lazy_continuation)]\n\n");
    code.push_str("use crate::request::{Base, HttpMethod, Operation, Request, RequestOptions};\nuse crate::{Client, Result};\n\n");

    writeln!(
        code,
        "/// The `{group}` operations of the Rostro API. Cheap to clone; get one with\n/// [`Client::{group}`](crate::Client::{group}).\n#[derive(Debug, Clone)]\npub struct {handle} {{\n    pub(crate) client: Client,\n}}\n"
    )
    .ok();
    writeln!(
        code,
        "impl Client {{\n    /// The `{group}` operations ({} in all).\n    pub fn {group}(&self) -> {handle} {{\n        {handle} {{ client: self.clone() }}\n    }}\n}}\n",
        ops.len()
    )
    .ok();

    let mut methods = String::new();
    let mut builders = String::new();
    for o in ops {
        let g = gen_operation(group, &handle, o, types)
            .with_context(|| format!("operation `{}`", o.id))?;
        methods.push_str(&g.method);
        builders.push_str(&g.builder);
        types.test_calls.push((group.to_string(), g.test));
        wiring
            .add(group, o, &g.parts, types, tuning)
            .with_context(|| format!("operation `{}`", o.id))?;
    }
    writeln!(code, "impl {handle} {{\n{methods}}}\n").ok();
    code.push_str(&builders);
    Ok(code)
}

/// What an operation turns into, besides its builder code.
pub(super) struct OpParts {
    /// The request builder's type name.
    pub(super) builder: String,
    /// The builder's `static Operation`.
    pub(super) static_name: String,
    pub(super) path_params: Vec<Setter>,
    pub(super) query: Vec<Setter>,
    pub(super) body: BodyKind,
    /// The Rust type `send()` decodes the answer into.
    pub(super) output: String,
    /// The 2xx JSON schema of the answer (`null` when there is none).
    pub(super) ok_schema: Value,
}

/// The generated code of one operation.
pub(super) struct GeneratedOp {
    /// The method on the group handle.
    pub(super) method: String,
    /// The `static Operation` and the request builder.
    pub(super) builder: String,
    /// Its line of the all-operations test.
    pub(super) test: String,
    pub(super) parts: OpParts,
}

pub(super) fn gen_operation(
    group: &str,
    handle: &str,
    o: &OpInfo,
    types: &mut TypeGen<'_>,
) -> Result<GeneratedOp> {
    let builder = format!("{}{}", pascal(group), pascal(&o.tuning.method));
    types.claim(&builder)?;
    let static_name = format!(
        "{}_{}",
        group.to_uppercase(),
        o.tuning.method.to_uppercase()
    );
    // Builder members the parameters and body fields must not shadow.
    let mut used: BTreeSet<String> = [
        "client",
        "options",
        "body",
        "send",
        "send_with_response",
        "into_request",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (path_params, query) = params(o, &mut used, types)?;
    let body = body_kind(o, &builder, &mut used, types)?;
    let (output, ok_schema) = output_type(o, &builder, types)?;
    let parts = OpParts {
        builder,
        static_name,
        path_params,
        query,
        body,
        output,
        ok_schema,
    };
    Ok(GeneratedOp {
        method: group_method(o, &parts),
        builder: builder_code(group, o, handle, &parts)?,
        test: gen_test_call(group, o, &parts.path_params, &parts.query, &parts.body),
        parts,
    })
}

/// `` `POST /path` (operationId `id`) ``: how docs name an operation.
fn trace(o: &OpInfo) -> String {
    format!(
        "`{} {}` (operationId `{}`)",
        o.method.to_uppercase(),
        o.path,
        o.id
    )
}

/// The type the answer decodes into, and the 2xx schema it came from.
fn output_type(o: &OpInfo, builder: &str, types: &mut TypeGen<'_>) -> Result<(String, Value)> {
    let ok = o.op["responses"]
        .as_object()
        .and_then(|r| r.iter().find(|(s, _)| s.starts_with('2')))
        .map(|(_, r)| r["content"]["application/json"]["schema"].clone())
        .unwrap_or(Value::Null);
    let output = if let Some(t) = &o.tuning.response {
        format!("crate::types::{t}")
    } else if ok.is_null() || is_any(&ok) {
        "serde_json::Value".to_string()
    } else {
        let t = types.field_ty(&ok, &format!("{builder}Response"))?;
        if t.nullable {
            format!("Option<{}>", t.inner)
        } else {
            t.inner
        }
    };
    Ok((output, ok))
}

/// The method on the group handle that starts the builder with its path parameters.
fn group_method(o: &OpInfo, parts: &OpParts) -> String {
    let (builder, path_params) = (&parts.builder, &parts.path_params);
    let mut method = doc_lines(o.op["summary"].as_str().unwrap_or_default(), "    ");
    writeln!(method, "    ///\n    /// {}", trace(o)).ok();
    if !path_params.is_empty() {
        let names: Vec<String> = path_params
            .iter()
            .map(|p| format!("`{}`", p.wire))
            .collect();
        writeln!(
            method,
            "    ///\n    /// Path parameters: {}.",
            names.join(", ")
        )
        .ok();
    }
    let args: Vec<String> = path_params
        .iter()
        .map(|p| format!(", {}: {}", p.ident, path_arg(&p.ty)))
        .collect();
    let passed: Vec<String> = path_params
        .iter()
        .map(|p| format!(", {}.to_string()", p.ident))
        .collect();
    writeln!(
        method,
        "    pub fn {}(&self{}) -> {builder} {{\n        {builder}::new(self.client.clone(){})\n    }}\n",
        o.tuning.method,
        args.concat(),
        passed.concat()
    )
    .ok();
    method
}
