//! The builder code of one operation: its static, struct, setters and `into_request`.

use anyhow::{Result, bail};
use std::fmt::Write as _;

use super::*;
use crate::generate::OpInfo;
use crate::generate::calls::doc_example;
use crate::generate::names::*;
use crate::generate::types::*;

/// The pieces of a builder's code, filled by parameters and body.
#[derive(Default)]
struct BuilderCode {
    fields: String,
    init: Vec<String>,
    setters: String,
    into: String,
}

/// The `static Operation`, the builder struct, its setters and `into_request`.
pub(super) fn builder_code(
    group: &str,
    o: &OpInfo,
    handle: &str,
    parts: &OpParts,
) -> Result<String> {
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
            c.setters.push_str("    /// Adds a file field to the form (streamed from disk, memory or a reader).\n    pub fn file(mut self, name: impl Into<String>, file: impl Into<crate::request::FilePart>) -> Self {\n        self.parts.push((name.into(), crate::request::Part::File(file.into())));\n        self\n    }\n\n");
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
    setter_code_at(s, what, "self")
}

/// A setter that stores into `{place}.{field}`: `self` for a builder's own fields, or a
/// member of a hand-written type (`self.$target` in a generated macro).
pub(in crate::generate) fn setter_code_at(s: &Setter, what: &str, place: &str) -> String {
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
    writeln!(out, "    pub fn {}(mut self, v: {arg}) -> Self {{\n        {place}.{} = Some({conv});\n        self\n    }}\n", s.ident, s.ident).ok();
    out
}
