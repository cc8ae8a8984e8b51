//! One request builder per operation: parameters, body, builder and docs.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::calls::{doc_example, gen_test_call};
use super::names::*;
use super::types::*;
use super::wiring::Wiring;
use super::{HEADER, OpInfo};
use crate::tuning::Tuning;

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

/// The Rust type of a parameter: the schema's, or for a query parameter the reference leaves
/// untyped (`{}`) or a comma-joined string, the tuning table's `[query_types]` entry.
fn param_ty(p: &Value, types: &TypeGen<'_>) -> String {
    let schema = &p["schema"];
    let tuned = if p["in"] == "query" {
        p["name"].as_str().and_then(|n| types.query_types.get(n))
    } else {
        None
    };
    let untyped = is_any(schema);
    let ty = match (schema["type"].as_str(), tuned.map(String::as_str)) {
        (Some("string") | None, Some("csv")) => "Vec<String>",
        (None, Some("integer")) if untyped => "i64",
        (None, Some("number")) if untyped => "f64",
        (None, Some("boolean")) if untyped => "bool",
        (Some("integer"), _) => "i64",
        (Some("number"), _) => "f64",
        (Some("boolean"), _) => "bool",
        _ => "String",
    };
    ty.to_string()
}

/// The operation's path and query parameters, as setters.
fn params(
    o: &OpInfo,
    used: &mut BTreeSet<String>,
    types: &TypeGen<'_>,
) -> Result<(Vec<Setter>, Vec<Setter>)> {
    let mut path_params = Vec::new();
    let mut query = Vec::new();
    for p in o.op["parameters"].as_array().into_iter().flatten() {
        let wire = p["name"].as_str().context("parameter name")?.to_string();
        let ident = unique_ident(&snake(&wire), used);
        let schema = &p["schema"];
        let ty = param_ty(p, types);
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
        if ty == "Vec<String>" {
            writeln!(docs, "    ///\n    /// Sent as one comma-joined value.").ok();
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
    Ok((path_params, query))
}

/// How the request body is set: field by field, whole, or part by part.
fn body_kind(
    o: &OpInfo,
    builder: &str,
    used: &mut BTreeSet<String>,
    types: &mut TypeGen<'_>,
) -> Result<BodyKind> {
    let Some(rb) = o.op.get("requestBody") else {
        return Ok(BodyKind::None);
    };
    let required = rb["required"] == true;
    if let Some(media) = rb["content"].get("application/json") {
        json_body(&media["schema"], required, builder, used, types)
    } else if let Some(media) = rb["content"].get("multipart/form-data") {
        match media["schema"].get("$ref").and_then(Value::as_str) {
            Some(r) => form_body(r, used, types),
            None => Ok(BodyKind::FormParts),
        }
    } else {
        bail!("unsupported body content {}", rb["content"]);
    }
}

/// The required-property names of an object schema.
fn required_names(s: &Value) -> BTreeSet<&str> {
    s["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// A JSON body: a generated object schema is flattened into setters, anything else is set whole.
fn json_body(
    schema: &Value,
    required: bool,
    builder: &str,
    used: &mut BTreeSet<String>,
    types: &mut TypeGen<'_>,
) -> Result<BodyKind> {
    let resolved = match schema.get("$ref").and_then(Value::as_str) {
        // A hand-written type is set whole: its fields are not the generator's to spell.
        Some(r) if types.is_hand_ref(r) => None,
        Some(r) => {
            let (name, _) = types.resolve_ref(r)?;
            Some(types.schema(&name)?)
        }
        None => None,
    };
    let Some(s) = resolved.filter(|s| {
        s.get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| !p.is_empty())
    }) else {
        let t = types.field_ty(schema, &format!("{builder}Body"))?;
        let ty = if t.nullable {
            format!("Option<{}>", t.inner)
        } else {
            t.inner
        };
        return Ok(BodyKind::JsonWhole { ty, required });
    };
    let ty = types.field_ty(schema, &format!("{builder}Body"))?.inner;
    let req = required_names(s);
    let mut fields = Vec::new();
    let mut nullable_required = Vec::new();
    let struct_name = ty.trim_start_matches("crate::types::").to_string();
    for (pname, p) in s["properties"].as_object().expect("checked") {
        // The struct's own field name for this property.
        let field = unique_ident(&snake(pname), &mut BTreeSet::new());
        let ident = if used.contains(&field) {
            unique_ident(&format!("{field}_body"), used)
        } else {
            unique_ident(&field, used)
        };
        let fty = types.field_ty(p, &format!("{struct_name}{}", pascal(pname)))?;
        let required = req.contains(pname.as_str());
        if required && fty.nullable {
            nullable_required.push(field.clone());
        }
        fields.push(Setter {
            ident,
            wire: field,
            docs: field_docs(p, "    ", pname),
            ty: fty.inner,
            required: required && !fty.nullable,
        });
    }
    Ok(BodyKind::JsonFields {
        ty,
        fields,
        nullable_required,
    })
}

/// A multipart form schema: its fields become setters, files as [`FilePart`]s.
fn form_body(r: &str, used: &mut BTreeSet<String>, types: &mut TypeGen<'_>) -> Result<BodyKind> {
    let (name, rust) = types.resolve_ref(r)?;
    types.component(&name)?;
    let s = types.schema(&name)?;
    let req = required_names(s);
    let mut fields = Vec::new();
    for (pname, p) in s["properties"].as_object().context("form properties")? {
        let field = snake(pname);
        let ident = unique_ident(&field, used);
        let ty = if is_binary(p) {
            "crate::request::FilePart".to_string()
        } else {
            types
                .field_ty(p, &format!("{}{}", type_leaf(&rust), pascal(pname)))?
                .inner
        };
        fields.push(Setter {
            ident,
            wire: field,
            docs: field_docs(p, "    ", pname),
            ty,
            required: req.contains(pname.as_str()),
        });
    }
    Ok(BodyKind::FormFields { ty: rust, fields })
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

/// The pieces of a builder's code, filled by parameters and body.
#[derive(Default)]
struct BuilderCode {
    fields: String,
    init: Vec<String>,
    setters: String,
    into: String,
}

/// The `static Operation`, the builder struct, its setters and `into_request`.
fn builder_code(group: &str, o: &OpInfo, handle: &str, parts: &OpParts) -> Result<String> {
    let mut c = BuilderCode {
        init: vec!["client".into(), "options: RequestOptions::default()".into()],
        ..Default::default()
    };
    writeln!(
        c.into,
        "        let mut req = Request::new(&{});",
        parts.static_name
    )
    .ok();
    param_code(parts, &mut c);
    body_code(parts, &mut c);
    writeln!(
        c.into,
        "        req.options(self.options);\n        Ok(req)"
    )
    .ok();

    let (builder, static_name) = (&parts.builder, &parts.static_name);
    let mut b = operation_static(o, static_name)?;
    b.push_str(&builder_docs(o, handle));
    b.push_str(&doc_example(
        group,
        o,
        &parts.path_params,
        &parts.query,
        &parts.body,
    ));
    writeln!(b, "#[derive(Debug, Clone)]\n#[must_use = \"a request builder does nothing until `.send().await`\"]\npub struct {builder} {{\n    pub(crate) client: Client,\n    options: RequestOptions,\n{}}}\n", c.fields).ok();
    let ctor_args: Vec<String> = parts
        .path_params
        .iter()
        .map(|p| format!(", {}: String", p.ident))
        .collect();
    writeln!(
        b,
        "impl {builder} {{\n    fn new(client: Client{}) -> Self {{\n        Self {{ {} }}\n    }}\n\n{}    /// Builds the request without sending it: checks required inputs and encodes the body.\n    pub fn into_request(self) -> Result<Request> {{\n{}    }}\n}}\n",
        ctor_args.concat(),
        c.init.join(", "),
        c.setters,
        c.into
    )
    .ok();
    writeln!(
        b,
        "crate::operation_builder!({builder}, {});\n",
        parts.output
    )
    .ok();
    Ok(b)
}

/// `pub static NAME: Operation`: id, method, path template and base URL.
fn operation_static(o: &OpInfo, static_name: &str) -> Result<String> {
    let method = match o.method.as_str() {
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
    Ok(format!(
        "/// {}.\n#[doc(hidden)]\npub static {static_name}: Operation = Operation {{\n    id: {},\n    method: HttpMethod::{method},\n    path: {},\n    base: Base::{base},\n}};\n\n",
        trace(o),
        rust_str(&o.id),
        rust_str(&o.path)
    ))
}

/// The builder's doc comment: summary, where it comes from, and what the tuning says of it.
fn builder_docs(o: &OpInfo, handle: &str) -> String {
    let mut b = doc_lines(o.op["summary"].as_str().unwrap_or_default(), "");
    writeln!(b, "///\n/// Request builder for {}, from [`{handle}::{}`]. Set parameters, then `.send().await`.", trace(o), o.tuning.method).ok();
    if let Some(p) = &o.tuning.polling {
        let check = if p == "imagine" {
            "`POST /imagine/check`"
        } else {
            "`POST /check`"
        };
        writeln!(
            b,
            "///\n/// The answer is a running generation: poll it with {check}."
        )
        .ok();
    }
    if o.tuning.streaming {
        b.push_str("///\n/// With `\"stream\": true` the server answers with server-sent events; the SDK's streaming layer handles that.\n");
    }
    match o.tuning.pagination.as_deref() {
        Some("page") => b.push_str(
            "///\n/// Paginated by page number: `.stream()` yields the items of every page.\n",
        ),
        Some("cursor") => b.push_str(
            "///\n/// Paginated by cursor: `.stream()` yields the items of every page.\n",
        ),
        _ => {}
    }
    if o.tuning.upload.as_deref() == Some("multipart") {
        b.push_str("///\n/// [`Client::upload`] sends it with streamed files and progress.\n");
    }
    b
}

/// Path and query parameters: builder fields, setters and how `into_request` sets them.
fn param_code(parts: &OpParts, c: &mut BuilderCode) {
    for p in &parts.path_params {
        writeln!(c.fields, "    {}: String,", p.ident).ok();
        c.init.push(p.ident.clone());
        writeln!(
            c.into,
            "        req.path_param({}, &self.{});",
            rust_str(&p.wire),
            p.ident
        )
        .ok();
    }
    for q in &parts.query {
        writeln!(c.fields, "    {}: Option<{}>,", q.ident, q.ty).ok();
        c.init.push(format!("{}: None", q.ident));
        c.setters.push_str(&setter_code(q, "query"));
        // A list goes on the wire comma-joined, as the API reads it.
        let text = if q.ty == "Vec<String>" {
            "join(\",\")"
        } else {
            "to_string()"
        };
        if q.required {
            writeln!(
                c.into,
                "        let {0} = self.{0}.ok_or_else(|| crate::codec::missing(&{2}, {1}))?;\n        req.query({1}, {0}.{text});",
                q.ident,
                rust_str(&q.wire),
                parts.static_name
            )
            .ok();
        } else {
            writeln!(c.into, "        if let Some(v) = &self.{} {{\n            req.query({}, v.{text});\n        }}", q.ident, rust_str(&q.wire)).ok();
        }
    }
}

/// The body: builder fields, setters and how `into_request` encodes it.
fn body_code(parts: &OpParts, c: &mut BuilderCode) {
    let static_name = parts.static_name.as_str();
    match &parts.body {
        BodyKind::None => {}
        BodyKind::JsonFields {
            ty,
            fields,
            nullable_required,
        } => flattened(
            &Flattened {
                ty,
                fields,
                nullable_required,
                setter: "body",
                what: "body field",
                encode: "req.json_body(&body)?;",
                static_name,
            },
            c,
        ),
        BodyKind::FormFields { ty, fields } => flattened(
            &Flattened {
                ty,
                fields,
                nullable_required: &[],
                setter: "form",
                what: "form field",
                encode: "req.multipart(form.to_parts());",
                static_name,
            },
            c,
        ),
        BodyKind::JsonWhole { ty, required } => {
            writeln!(c.fields, "    body: Option<{ty}>,").ok();
            c.init.push("body: None".into());
            writeln!(c.setters, "    /// Sets the JSON body.\n    pub fn body(mut self, body: impl Into<{ty}>) -> Self {{\n        self.body = Some(body.into());\n        self\n    }}\n").ok();
            if *required {
                writeln!(c.into, "        let body = self.body.ok_or_else(|| crate::codec::missing(&{static_name}, \"body\"))?;\n        req.json_body(&body)?;").ok();
            } else {
                writeln!(c.into, "        if let Some(body) = &self.body {{\n            req.json_body(body)?;\n        }}").ok();
            }
        }
        BodyKind::FormParts => {
            writeln!(c.fields, "    parts: Vec<(String, crate::request::Part)>,").ok();
            c.init.push("parts: Vec::new()".into());
            c.setters.push_str("    /// Adds a text field to the form.\n    pub fn text(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {\n        self.parts.push((name.into(), crate::request::Part::Text(value.into())));\n        self\n    }\n\n");
            c.setters.push_str("    /// Adds a file field to the form (streamed from disk or memory).\n    pub fn file(mut self, name: impl Into<String>, file: crate::request::FilePart) -> Self {\n        self.parts.push((name.into(), crate::request::Part::File(file)));\n        self\n    }\n\n");
            c.into.push_str("        req.multipart(self.parts);\n");
        }
    }
}

/// A body (JSON object or multipart form) whose fields become the builder's own setters.
struct Flattened<'a> {
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
fn flattened(f: &Flattened<'_>, c: &mut BuilderCode) {
    let (ty, var, static_name) = (f.ty, f.setter, f.static_name);
    let BuilderCode {
        fields,
        init,
        setters,
        into,
    } = c;
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
        "Vec<String>" if what == "query" => (
            "impl IntoIterator<Item = impl Into<String>>".to_string(),
            "v.into_iter().map(Into::into).collect()".to_string(),
        ),
        t => (setter_arg(t), setter_conv("v", t)),
    };
    writeln!(out, "    pub fn {}(mut self, v: {arg}) -> Self {{\n        self.{} = Some({conv});\n        self\n    }}\n", s.ident, s.ident).ok();
    out
}
