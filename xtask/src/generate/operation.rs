//! One request builder per operation: parameters, body, builder and docs.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::calls::gen_test_call;
use super::names::*;
use super::types::*;
use super::{HEADER, OpInfo};

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

pub(super) fn gen_group(group: &str, ops: &[OpInfo], types: &mut TypeGen<'_>) -> Result<String> {
    let handle = format!("{}Api", pascal(group));
    let mut code = String::from(HEADER);
    writeln!(
        code,
        "//! The `{group}` operations: [`{handle}`], from [`Client::{group}`](crate::Client::{group}).\n"
    )
    .ok();
    code.push_str("#![allow(clippy::too_many_arguments, clippy::doc_lazy_continuation)]\n\n");
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
        let (m, b, t) = gen_operation(group, &handle, o, types)
            .with_context(|| format!("operation `{}`", o.id))?;
        methods.push_str(&m);
        builders.push_str(&b);
        types.test_calls.push((group.to_string(), t));
    }
    writeln!(code, "impl {handle} {{\n{methods}}}\n").ok();
    code.push_str(&builders);
    Ok(code)
}

pub(super) fn gen_operation(
    group: &str,
    handle: &str,
    o: &OpInfo,
    types: &mut TypeGen<'_>,
) -> Result<(String, String, String)> {
    let builder = format!("{}{}", pascal(group), pascal(&o.tuning.method));
    types.claim(&builder)?;
    let static_name = format!(
        "{}_{}",
        group.to_uppercase(),
        o.tuning.method.to_uppercase()
    );
    let method_const = match o.method.as_str() {
        "get" => "Get",
        "post" => "Post",
        "put" => "Put",
        "patch" => "Patch",
        "delete" => "Delete",
        m => bail!("method {m}"),
    };
    let base = if o.tuning.base.as_deref() == Some("mimic") {
        "Mimic"
    } else {
        "Api"
    };
    let summary = o.op["summary"].as_str().unwrap_or_default();
    let trace = format!(
        "`{} {}` (operationId `{}`)",
        o.method.to_uppercase(),
        o.path,
        o.id
    );

    // Parameters.
    let mut path_params = Vec::new();
    let mut query = Vec::new();
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
    for p in o.op["parameters"].as_array().into_iter().flatten() {
        let wire = p["name"].as_str().context("parameter name")?.to_string();
        let ident = unique_ident(&snake(&wire), &mut used);
        let schema = &p["schema"];
        let ty = match schema["type"].as_str() {
            Some("integer") => "i64",
            Some("number") => "f64",
            Some("boolean") => "bool",
            _ => "String",
        }
        .to_string();
        let mut docs = p
            .get("description")
            .and_then(Value::as_str)
            .map(|d| doc_lines(d, "    "))
            .unwrap_or_default();
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            let list: Vec<String> = values
                .iter()
                .filter_map(|v| v.as_str().map(|s| format!("`{s}`")))
                .collect();
            writeln!(docs, "    ///\n    /// One of {}.", list.join(", ")).ok();
        }
        let setter = Setter {
            ident,
            wire,
            ty,
            required: p["required"] == true,
            docs,
        };
        match p["in"].as_str() {
            Some("path") => path_params.push(setter),
            Some("query") => query.push(setter),
            other => bail!("parameter in {other:?}"),
        }
    }

    // Body.
    let body = match o.op.get("requestBody") {
        None => BodyKind::None,
        Some(rb) => {
            let required = rb["required"] == true;
            if let Some(media) = rb["content"].get("application/json") {
                let schema = &media["schema"];
                let resolved = match schema.get("$ref").and_then(Value::as_str) {
                    Some(r) => {
                        let (name, _) = types.resolve_ref(r)?;
                        Some(types.schema(&name)?)
                    }
                    None => None,
                };
                match resolved {
                    Some(s)
                        if s.get("properties")
                            .and_then(Value::as_object)
                            .is_some_and(|p| !p.is_empty()) =>
                    {
                        let ty = types.field_ty(schema, &format!("{builder}Body"))?.inner;
                        let req: BTreeSet<&str> = s["required"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .collect();
                        let mut fields = Vec::new();
                        let mut nullable_required = Vec::new();
                        let struct_name = ty.trim_start_matches("crate::types::");
                        for (pname, p) in s["properties"].as_object().expect("checked") {
                            let field = snake(pname);
                            // The struct's own field name for this property.
                            let field = unique_ident(&field, &mut BTreeSet::new());
                            let ident = if used.contains(&field) {
                                unique_ident(&format!("{field}_body"), &mut used)
                            } else {
                                unique_ident(&field, &mut used)
                            };
                            let fty =
                                types.field_ty(p, &format!("{struct_name}{}", pascal(pname)))?;
                            let required = req.contains(pname.as_str());
                            if required && fty.nullable {
                                nullable_required.push(field.clone());
                            }
                            fields.push(Setter {
                                ident,
                                wire: field,
                                ty: fty.inner,
                                required: required && !fty.nullable,
                                docs: field_docs(p, "    "),
                            });
                        }
                        BodyKind::JsonFields {
                            ty,
                            fields,
                            nullable_required,
                        }
                    }
                    _ => {
                        let t = types.field_ty(schema, &format!("{builder}Body"))?;
                        let ty = if t.nullable {
                            format!("Option<{}>", t.inner)
                        } else {
                            t.inner
                        };
                        BodyKind::JsonWhole { ty, required }
                    }
                }
            } else if let Some(media) = rb["content"].get("multipart/form-data") {
                let schema = &media["schema"];
                match schema.get("$ref").and_then(Value::as_str) {
                    Some(r) => {
                        let (name, rust) = types.resolve_ref(r)?;
                        types.component(&name)?;
                        let s = types.schema(&name)?;
                        let req: BTreeSet<&str> = s["required"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .collect();
                        let mut fields = Vec::new();
                        for (pname, p) in s["properties"].as_object().context("form properties")? {
                            let field = snake(pname);
                            let ident = unique_ident(&field, &mut used);
                            let ty = if is_binary(p) {
                                "crate::request::FilePart".to_string()
                            } else {
                                types
                                    .field_ty(p, &format!("{rust}{}", pascal(pname)))?
                                    .inner
                            };
                            fields.push(Setter {
                                ident,
                                wire: field,
                                ty,
                                required: req.contains(pname.as_str()),
                                docs: field_docs(p, "    "),
                            });
                        }
                        BodyKind::FormFields {
                            ty: format!("crate::types::{rust}"),
                            fields,
                        }
                    }
                    None => BodyKind::FormParts,
                }
            } else {
                bail!("unsupported body content {}", rb["content"]);
            }
        }
    };

    // Response.
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

    // The group method.
    let mut method = String::new();
    method.push_str(&doc_lines(summary, "    "));
    writeln!(method, "    ///\n    /// {trace}").ok();
    if !path_params.is_empty() {
        writeln!(
            method,
            "    ///\n    /// Path parameters: {}.",
            path_params
                .iter()
                .map(|p| format!("`{}`", p.wire))
                .collect::<Vec<_>>()
                .join(", ")
        )
        .ok();
    }
    let args: Vec<String> = path_params
        .iter()
        .map(|p| format!("{}: {}", p.ident, path_arg(&p.ty)))
        .collect();
    let passed: Vec<String> = path_params
        .iter()
        .map(|p| format!("{}.to_string()", p.ident))
        .collect();
    writeln!(
        method,
        "    pub fn {}(&self{}{}) -> {builder} {{\n        {builder}::new(self.client.clone(){}{})\n    }}\n",
        o.tuning.method,
        if args.is_empty() { "" } else { ", " },
        args.join(", "),
        if passed.is_empty() { "" } else { ", " },
        passed.join(", ")
    )
    .ok();

    // The builder.
    let mut fields = String::new();
    let mut setters = String::new();
    let mut init = vec![
        "client".to_string(),
        "options: RequestOptions::default()".to_string(),
    ];
    for p in &path_params {
        writeln!(fields, "    {}: String,", p.ident).ok();
    }
    let ctor_path_args: Vec<String> = path_params
        .iter()
        .map(|p| format!("{}: String", p.ident))
        .collect();
    for p in &path_params {
        init.push(p.ident.clone());
    }
    for q in &query {
        writeln!(fields, "    {}: Option<{}>,", q.ident, q.ty).ok();
        init.push(format!("{}: None", q.ident));
        setters.push_str(&setter_code(q, "query"));
    }
    let mut into = String::new();
    writeln!(into, "        let mut req = Request::new(&{static_name});").ok();
    for p in &path_params {
        writeln!(
            into,
            "        req.path_param({}, &self.{});",
            rust_str(&p.wire),
            p.ident
        )
        .ok();
    }
    for q in &query {
        if q.required {
            writeln!(
                into,
                "        let {0} = self.{0}.ok_or_else(|| crate::codec::missing(&{2}, {1}))?;\n        req.query({1}, {0}.to_string());",
                q.ident,
                rust_str(&q.wire),
                static_name
            )
            .ok();
        } else {
            writeln!(into, "        if let Some(v) = &self.{} {{\n            req.query({}, v.to_string());\n        }}", q.ident, rust_str(&q.wire)).ok();
        }
    }
    match &body {
        BodyKind::None => {}
        BodyKind::JsonFields {
            ty,
            fields: bf,
            nullable_required,
        } => flattened(
            &Flattened {
                ty,
                fields: bf,
                nullable_required,
                setter: "body",
                what: "body field",
                encode: "req.json_body(&body)?;",
                static_name: &static_name,
            },
            &mut fields,
            &mut init,
            &mut setters,
            &mut into,
        ),
        BodyKind::FormFields { ty, fields: ff } => flattened(
            &Flattened {
                ty,
                fields: ff,
                nullable_required: &[],
                setter: "form",
                what: "form field",
                encode: "req.multipart(form.to_parts());",
                static_name: &static_name,
            },
            &mut fields,
            &mut init,
            &mut setters,
            &mut into,
        ),
        BodyKind::JsonWhole { ty, required } => {
            writeln!(fields, "    body: Option<{ty}>,").ok();
            init.push("body: None".into());
            writeln!(setters, "    /// Sets the JSON body.\n    pub fn body(mut self, body: impl Into<{ty}>) -> Self {{\n        self.body = Some(body.into());\n        self\n    }}\n").ok();
            if *required {
                writeln!(into, "        let body = self.body.ok_or_else(|| crate::codec::missing(&{static_name}, \"body\"))?;\n        req.json_body(&body)?;").ok();
            } else {
                writeln!(into, "        if let Some(body) = &self.body {{\n            req.json_body(body)?;\n        }}").ok();
            }
        }
        BodyKind::FormParts => {
            writeln!(fields, "    parts: Vec<(String, crate::request::Part)>,").ok();
            init.push("parts: Vec::new()".into());
            setters.push_str("    /// Adds a text field to the form.\n    pub fn text(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {\n        self.parts.push((name.into(), crate::request::Part::Text(value.into())));\n        self\n    }\n\n");
            setters.push_str("    /// Adds a file field to the form (streamed from disk or memory).\n    pub fn file(mut self, name: impl Into<String>, file: crate::request::FilePart) -> Self {\n        self.parts.push((name.into(), crate::request::Part::File(file)));\n        self\n    }\n\n");
            into.push_str("        req.multipart(self.parts);\n");
        }
    }
    writeln!(into, "        req.options(self.options);\n        Ok(req)").ok();

    let mut b = String::new();
    writeln!(
        b,
        "/// {trace}.\n#[doc(hidden)]\npub static {static_name}: Operation = Operation {{\n    id: {},\n    method: HttpMethod::{method_const},\n    path: {},\n    base: Base::{base},\n}};\n",
        rust_str(&o.id),
        rust_str(&o.path)
    )
    .ok();
    b.push_str(&doc_lines(summary, ""));
    writeln!(b, "///\n/// Request builder for {trace}, from [`{handle}::{}`]. Set parameters, then `.send().await`.", o.tuning.method).ok();
    if let Some(p) = &o.tuning.polling {
        writeln!(
            b,
            "///\n/// The answer is a running generation: poll it with {}.",
            if p == "imagine" {
                "`POST /imagine/check`"
            } else {
                "`POST /check`"
            }
        )
        .ok();
    }
    if o.tuning.streaming {
        b.push_str("///\n/// With `\"stream\": true` the server answers with server-sent events; the SDK's streaming layer handles that.\n");
    }
    writeln!(b, "#[derive(Debug, Clone)]\n#[must_use = \"a request builder does nothing until `.send().await`\"]\npub struct {builder} {{\n    pub(crate) client: Client,\n    options: RequestOptions,\n{fields}}}\n").ok();
    writeln!(
        b,
        "impl {builder} {{\n    fn new(client: Client{}{}) -> Self {{\n        Self {{ {} }}\n    }}\n\n{setters}    /// Builds the request without sending it: checks required inputs and encodes the body.\n    pub fn into_request(self) -> Result<Request> {{\n{into}    }}\n}}\n",
        if ctor_path_args.is_empty() { "" } else { ", " },
        ctor_path_args.join(", "),
        init.join(", ")
    )
    .ok();
    writeln!(b, "crate::operation_builder!({builder}, {output});\n").ok();

    let test = gen_test_call(group, o, &path_params, &query, &body);
    Ok((method, b, test))
}

/// A body (JSON object or multipart form) whose fields become the builder's own setters.
pub(super) struct Flattened<'a> {
    /// The body type, assembled from the fields at send time.
    pub(super) ty: &'a str,
    pub(super) fields: &'a [Setter],
    /// Fields the schema requires but allows to be null: always sent.
    pub(super) nullable_required: &'a [String],
    /// The whole-value setter: `body` or `form`.
    pub(super) setter: &'static str,
    /// How a field's setter docs name it.
    pub(super) what: &'static str,
    /// The statement that puts the assembled value (bound to `setter`) into `req`.
    pub(super) encode: &'static str,
    pub(super) static_name: &'a str,
}

/// Emits the fields, setters and request assembly of a flattened body.
pub(super) fn flattened(
    f: &Flattened<'_>,
    fields: &mut String,
    init: &mut Vec<String>,
    setters: &mut String,
    into: &mut String,
) {
    let (ty, var, static_name) = (f.ty, f.setter, f.static_name);
    for field in f.fields {
        writeln!(fields, "    {}: Option<{}>,", field.ident, field.ty).ok();
        init.push(format!("{}: None", field.ident));
        setters.push_str(&setter_code(field, f.what));
    }
    let destructure: Vec<String> = f
        .fields
        .iter()
        .map(|x| format!("{}: b_{}", x.wire, x.wire))
        .collect();
    let assign: Vec<String> = f
        .fields
        .iter()
        .map(|x| {
            if x.required && !f.nullable_required.contains(&x.wire) {
                format!("        self.{} = Some(b_{});", x.ident, x.wire)
            } else {
                format!("        self.{} = b_{};", x.ident, x.wire)
            }
        })
        .collect();
    let replaced = if var == "body" {
        "any body field"
    } else {
        "any field"
    };
    writeln!(
        setters,
        "    /// Sets the whole {var} at once, replacing {replaced} set before.\n    pub fn {var}(mut self, {var}: {ty}) -> Self {{\n        let {ty} {{ {} }} = {var};\n{}\n        self\n    }}\n",
        destructure.join(", "),
        assign.join("\n")
    )
    .ok();
    let build: Vec<String> = f
        .fields
        .iter()
        .map(|x| {
            if x.required {
                format!(
                    "{}: self.{}.ok_or_else(|| crate::codec::missing(&{static_name}, {}))?",
                    x.wire,
                    x.ident,
                    rust_str(&x.wire)
                )
            } else {
                init_field(&x.wire, &format!("self.{}", x.ident))
            }
        })
        .collect();
    writeln!(
        into,
        "        let {var} = {ty} {{ {} }};\n        {}",
        build.join(", "),
        f.encode
    )
    .ok();
}

pub(super) fn path_arg(ty: &str) -> &'static str {
    match ty {
        "i64" => "i64",
        _ => "impl std::fmt::Display",
    }
}

pub(super) fn setter_code(s: &Setter, what: &str) -> String {
    let mut out = String::new();
    if s.docs.is_empty() {
        writeln!(out, "    /// Sets the `{}` {what}.", s.wire).ok();
    } else {
        out.push_str(&s.docs);
    }
    if s.required {
        writeln!(out, "    ///\n    /// Required: sending without it fails with [`crate::Error::InvalidRequest`] before any request.").ok();
    }
    let (arg, conv) = match s.ty.as_str() {
        "String" if what == "query" => (
            "impl std::fmt::Display".to_string(),
            "v.to_string()".to_string(),
        ),
        t => (setter_arg(t), setter_conv("v", t)),
    };
    writeln!(out, "    pub fn {}(mut self, v: {arg}) -> Self {{\n        self.{} = Some({conv});\n        self\n    }}\n", s.ident, s.ident).ok();
    out
}

