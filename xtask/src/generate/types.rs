//! Rust types from schemas: structs, string enums, untagged unions, forms and aliases.

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::names::*;
use crate::tuning::Tuning;

pub(super) struct TypeGen<'a> {
    pub(super) doc: &'a Value,
    /// Schema name -> Rust type name.
    pub(super) component_names: BTreeMap<String, String>,
    /// Schema name -> path of its hand-written type (tuning `[hand_types]`).
    pub(super) hand: BTreeMap<String, String>,
    /// Components already emitted (or being emitted).
    pub(super) done: BTreeSet<String>,
    /// Every Rust type name emitted, to refuse collisions.
    pub(super) taken: BTreeSet<String>,
    pub(super) defs: Vec<String>,
    /// Component schemas that are multipart forms.
    pub(super) forms: BTreeSet<String>,
    /// Inline types already emitted: name -> the schema they were made from.
    pub(super) inline: BTreeMap<String, Value>,
    /// Type aliases emitted: `crate::types::Name` -> the aliased type.
    pub(super) aliases: BTreeMap<String, String>,
    /// Lines of the generated all-operations test.
    pub(super) test_calls: Vec<(String, String)>,
    /// Tuning `[query_types]`: query parameter name -> its type.
    pub(super) query_types: BTreeMap<String, String>,
    /// Tuning types' schemas, to follow an `x-items` path through them.
    pub(super) tuning_schemas: BTreeMap<String, Value>,
}

/// How a struct field or setter is typed.
#[derive(Clone, Debug)]
pub(super) struct FieldTy {
    /// The Rust type without any `Option`.
    pub(super) inner: String,
    /// The schema allows `null`.
    pub(super) nullable: bool,
}

impl<'a> TypeGen<'a> {
    pub(super) fn new(doc: &'a Value, tuning: &Tuning) -> Result<Self> {
        let schemas = doc["components"]["schemas"]
            .as_object()
            .context("components.schemas")?;
        let mut component_names = BTreeMap::new();
        let mut seen = BTreeSet::new();
        for name in schemas
            .keys()
            .filter(|n| !tuning.hand_types.contains_key(*n))
        {
            let rust = tuning
                .type_names
                .get(name)
                .cloned()
                .unwrap_or_else(|| pascal(name));
            ensure!(
                seen.insert(rust.clone()),
                "two schemas map to the Rust name `{rust}`; add a [type_names] entry"
            );
            component_names.insert(name.clone(), rust);
        }
        for name in tuning.types.keys() {
            ensure!(
                seen.insert(name.clone()),
                "tuning type `{name}` collides with a schema's Rust name"
            );
        }
        let mut forms = BTreeSet::new();
        for (_, _, op) in crate::operations(doc) {
            if let Some(r) =
                op["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].as_str()
            {
                forms.insert(r.trim_start_matches("#/components/schemas/").to_string());
            }
        }
        Ok(TypeGen {
            doc,
            component_names,
            hand: tuning.hand_types.clone(),
            done: BTreeSet::new(),
            taken: BTreeSet::new(),
            defs: Vec::new(),
            forms,
            inline: BTreeMap::new(),
            aliases: BTreeMap::new(),
            test_calls: Vec::new(),
            query_types: tuning.query_types.clone(),
            tuning_schemas: tuning
                .types
                .keys()
                .map(|n| Ok((n.clone(), tuning.type_schema(n)?)))
                .collect::<Result<_>>()?,
        })
    }

    pub(super) fn claim(&mut self, name: &str) -> Result<()> {
        ensure!(
            self.taken.insert(name.to_string()),
            "the Rust type name `{name}` is generated twice"
        );
        Ok(())
    }

    pub(super) fn schema(&self, name: &str) -> Result<&'a Value> {
        self.doc["components"]["schemas"]
            .get(name)
            .with_context(|| format!("no schema `{name}`"))
    }

    /// Resolves a `$ref` to (schema name, path of its Rust type).
    pub(super) fn resolve_ref(&self, r: &str) -> Result<(String, String)> {
        if let Some(name) = r.strip_prefix("#/components/schemas/") {
            if let Some(path) = self.hand.get(name) {
                return Ok((name.to_string(), path.clone()));
            }
            let rust = self
                .component_names
                .get(name)
                .with_context(|| format!("unknown `{r}`"))?;
            Ok((name.to_string(), format!("crate::types::{rust}")))
        } else if let Some(name) = r.strip_prefix("#/x-tuning/types/") {
            Ok((name.to_string(), format!("crate::types::{name}")))
        } else {
            bail!("unsupported reference `{r}`")
        }
    }

    /// Whether a `$ref` names a schema whose type is hand-written.
    pub(super) fn is_hand_ref(&self, r: &str) -> bool {
        r.strip_prefix("#/components/schemas/")
            .is_some_and(|name| self.hand.contains_key(name))
    }

    pub(super) fn component(&mut self, name: &str) -> Result<()> {
        if !self.done.insert(name.to_string()) {
            return Ok(());
        }
        let schema = self.schema(name)?;
        let rust = self.component_names[name].clone();
        if self.forms.contains(name) {
            return self.form(&rust, schema);
        }
        self.named_schema(&rust, schema, None)
    }

    /// Emits a named type for a schema (struct, enum, union or alias).
    pub(super) fn named_schema(
        &mut self,
        rust: &str,
        schema: &Value,
        description: Option<&str>,
    ) -> Result<()> {
        let docs = type_docs(schema, description);
        if let Some(props) = schema.get("properties").and_then(Value::as_object)
            && !props.is_empty()
        {
            return self.structure(rust, schema, props, &docs);
        }
        let strings = string_enum_values(schema);
        if let Some(values) = strings {
            return self.string_enum(rust, &values, &docs);
        }
        if let Some(alts) = schema.get("anyOf").and_then(Value::as_array) {
            let non_null: Vec<&Value> = alts.iter().filter(|a| a["type"] != "null").collect();
            if non_null.len() > 1 && !non_null.iter().any(|a| is_any(a)) {
                return self.union(rust, &non_null, &docs);
            }
        }
        // Anything else (maps, empty objects, primitives) is an alias.
        let ty = self.field_ty(schema, rust)?;
        let target = if ty.nullable {
            format!("Option<{}>", ty.inner)
        } else {
            ty.inner
        };
        self.claim(rust)?;
        self.aliases
            .insert(format!("crate::types::{rust}"), target.clone());
        self.defs
            .push(format!("{docs}pub type {rust} = {target};\n"));
        Ok(())
    }

    pub(super) fn structure(
        &mut self,
        rust: &str,
        schema: &Value,
        props: &Map<String, Value>,
        docs: &str,
    ) -> Result<()> {
        self.claim(rust)?;
        let required: BTreeSet<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut f = StructFields::default();
        for (pname, p) in props {
            self.struct_field(&mut f, rust, pname, p, required.contains(pname.as_str()))?;
        }
        // Tuning types describe answers the reference leaves open: members they do not name
        // are kept, so a field the API adds is never lost (and `--json` can show it).
        let keep_unknown = schema["x-keep-unknown"] == true;
        if keep_unknown {
            ensure!(
                !f.used.contains("extra"),
                "`{rust}` has a field named `extra`; it cannot also keep unknown members"
            );
            f.fields.push_str(
                "    /// Members the answer had that this type has no field for, as they came.\n    #[serde(flatten, default, skip_serializing_if = \"serde_json::Map::is_empty\")]\n    extra: serde_json::Map<String, serde_json::Value>,\n",
            );
            f.ctor_fields
                .push("extra: serde_json::Map::new()".to_owned());
        }
        let StructFields {
            fields,
            ctor_args,
            ctor_fields,
            ..
        } = f;
        let mut code = String::new();
        code.push_str(docs);
        if ctor_args.is_empty() {
            code.push_str("#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]\n");
        } else {
            code.push_str("#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]\n");
        }
        writeln!(code, "pub struct {rust} {{\n{fields}}}").ok();
        if let Some(paths) = schema.get("x-items") {
            code.push_str(&self.items_accessor(rust, schema, paths)?);
        }
        if keep_unknown {
            writeln!(
                code,
                "\nimpl {rust} {{\n    /// Members of the answer this type has no field for (new or undocumented ones), read-only.\n    pub fn extra(&self) -> &serde_json::Map<String, serde_json::Value> {{\n        &self.extra\n    }}\n}}"
            )
            .ok();
        }
        if !ctor_args.is_empty() {
            writeln!(
                code,
                "\nimpl {rust} {{\n    /// A value with the required fields set and every optional one `None`.\n{}    pub fn new({}) -> Self {{\n        Self {{ {} }}\n    }}\n}}",
                many_args_allow(ctor_args.len()),
                ctor_args.join(", "),
                ctor_fields.join(", ")
            )
            .ok();
        }
        self.defs.push(code);
        Ok(())
    }

    /// One member of a struct: its field, and its part in the constructor.
    fn struct_field(
        &mut self,
        f: &mut StructFields,
        rust: &str,
        pname: &str,
        p: &Value,
        required: bool,
    ) -> Result<()> {
        let ident = unique_ident(&snake(pname), &mut f.used);
        let ty = self.field_ty(p, &format!("{rust}{}", pascal(pname)))?;
        f.fields.push_str(&field_docs(p, "    ", pname));
        if ident != *pname {
            writeln!(f.fields, "    #[serde(rename = {})]", rust_str(pname)).ok();
        }
        if !required {
            writeln!(
                f.fields,
                "    #[serde(default, skip_serializing_if = \"Option::is_none\"{})]\n    pub {ident}: Option<{}>,",
                lenient_attr(rust, pname, p, &ty.inner)?,
                ty.inner
            )
            .ok();
            f.ctor_fields.push(format!("{ident}: None"));
            return Ok(());
        }
        ensure!(
            p["x-lenient"] != true,
            "`{rust}.{pname}`: x-lenient members must be optional"
        );
        if ty.nullable {
            // Required but nullable: always sent (as null when None).
            writeln!(
                f.fields,
                "    #[serde(default)]\n    pub {ident}: Option<{}>,",
                ty.inner
            )
            .ok();
            f.ctor_fields.push(format!("{ident}: None"));
        } else {
            // OpenAI-compatible servers leave out fields the spec requires (a model's
            // `owned_by`): a plain value decodes to its empty form instead of failing.
            if has_default(&ty.inner) {
                writeln!(f.fields, "    #[serde(default)]").ok();
            }
            writeln!(f.fields, "    pub {ident}: {},", ty.inner).ok();
            f.ctor_args
                .push(format!("{ident}: {}", setter_arg(&ty.inner)));
            f.ctor_fields
                .push(init_field(&ident, &setter_conv(&ident, &ty.inner)));
        }
        Ok(())
    }

    /// `items()` for a wrapper type (`x-items`: the paths its list may sit at, such as
    /// `nodes` and `data.nodes`): the first list present, so callers never guess keys.
    fn items_accessor(&self, rust: &str, schema: &Value, paths: &Value) -> Result<String> {
        let paths: Vec<&str> = paths
            .as_array()
            .context("x-items is a list of paths")?
            .iter()
            .map(|p| p.as_str().context("x-items path"))
            .collect::<Result<_>>()?;
        let mut item_ty: Option<String> = None;
        let mut checks = String::new();
        let mut raw_checks = String::new();
        for path in &paths {
            let mut raw = String::new();
            for (i, seg) in path.split('.').enumerate() {
                if i == 0 {
                    write!(raw, "answer.get({})", rust_str(seg)).ok();
                } else {
                    write!(raw, ".and_then(|v| v.get({}))", rust_str(seg)).ok();
                }
            }
            writeln!(
                raw_checks,
                "        if let Some(items) = {raw}.and_then(serde_json::Value::as_array) {{\n            return Some(items);\n        }}"
            )
            .ok();
            let (expr, ty) = self
                .items_path(schema, path)
                .with_context(|| format!("`{rust}`: x-items path `{path}`"))?;
            ensure!(
                item_ty.as_ref().is_none_or(|t| *t == ty),
                "`{rust}`: x-items paths hold different item types"
            );
            item_ty = Some(ty);
            writeln!(
                checks,
                "        if let Some(items) = {expr} {{\n            return items;\n        }}"
            )
            .ok();
        }
        let ty = item_ty.with_context(|| format!("`{rust}`: x-items is empty"))?;
        let named: Vec<String> = paths.iter().map(|p| format!("`{p}`")).collect();
        let named = named.join(", then ");
        Ok(format!(
            "\nimpl {rust} {{\n    /// The items of the answer, wherever it put them ({named}, in that order); empty when it has none.\n    pub fn items(&self) -> &[{ty}] {{\n{checks}        &[]\n    }}\n\n    /// The same items as [`items`](Self::items), as they came in the answer's JSON (for output\n    /// that must show the server's bytes, unknown members and number formats included);\n    /// `None` when the answer has no list at any of those places.\n    pub fn raw_items(answer: &serde_json::Value) -> Option<&[serde_json::Value]> {{\n{raw_checks}        None\n    }}\n}}\n"
        ))
    }

    /// The expression reaching the list at `path` (`data.nodes`) from `self`, and the list's
    /// item type. Intermediate members must be tuning types.
    fn items_path(&self, schema: &Value, path: &str) -> Result<(String, String)> {
        let segs: Vec<&str> = path.split('.').collect();
        let mut current = schema.clone();
        let mut expr = String::from("self");
        for (i, seg) in segs.iter().enumerate() {
            let prop = current["properties"]
                .get(*seg)
                .with_context(|| format!("no member `{seg}`"))?;
            ensure!(
                !required_has(&current, seg),
                "member `{seg}` must be optional"
            );
            let field = snake(seg);
            let non_null = non_null_alt(prop);
            if i + 1 == segs.len() {
                ensure!(non_null["type"] == "array", "`{seg}` is not a list");
                let r = non_null["items"]["$ref"]
                    .as_str()
                    .context("the list's items must be a $ref")?;
                let ty = self.resolve_ref(r)?.1;
                expr = if i == 0 {
                    format!("self.{field}.as_deref()")
                } else {
                    format!("{expr}.and_then(|x| x.{field}.as_deref())")
                };
                return Ok((expr, ty));
            }
            let r = non_null["$ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("#/x-tuning/types/"))
                .with_context(|| format!("`{seg}` must refer to a tuning type"))?;
            current = self
                .tuning_schemas
                .get(r)
                .with_context(|| format!("no tuning type `{r}`"))?
                .clone();
            expr = if i == 0 {
                format!("self.{field}.as_ref()")
            } else {
                format!("{expr}.and_then(|x| x.{field}.as_ref())")
            };
        }
        bail!("empty path")
    }

    /// A multipart form schema: file fields are [`FilePart`]s, the rest are sent as text.
    pub(super) fn form(&mut self, rust: &str, schema: &Value) -> Result<()> {
        self.claim(rust)?;
        let docs = type_docs(schema, None);
        let required: BTreeSet<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let props = schema["properties"]
            .as_object()
            .context("form without properties")?;
        let mut fields = String::new();
        let mut parts = String::new();
        let mut args = Vec::new();
        let mut inits = Vec::new();
        for (pname, p) in props {
            let ident = snake(pname);
            let file = is_binary(p);
            let inner = if file {
                "crate::request::FilePart".to_string()
            } else {
                self.field_ty(p, &format!("{rust}{}", pascal(pname)))?.inner
            };
            fields.push_str(&field_docs(p, "    ", pname));
            let to_part = if file {
                "crate::request::Part::File(v.clone())".to_string()
            } else {
                "crate::request::Part::Text(crate::codec::form_text(v))".to_string()
            };
            if required.contains(pname.as_str()) {
                writeln!(fields, "    pub {ident}: {inner},").ok();
                args.push(format!("{ident}: {}", setter_arg(&inner)));
                inits.push(init_field(&ident, &setter_conv(&ident, &inner)));
                writeln!(
                    parts,
                    "        {{ let v = &self.{ident}; parts.push(({}.to_string(), {to_part})); }}",
                    rust_str(pname)
                )
                .ok();
            } else {
                writeln!(fields, "    pub {ident}: Option<{inner}>,").ok();
                inits.push(format!("{ident}: None"));
                writeln!(parts, "        if let Some(v) = &self.{ident} {{ parts.push(({}.to_string(), {to_part})); }}", rust_str(pname)).ok();
            }
        }
        let mut code = String::new();
        code.push_str(&docs);
        code.push_str("///\n/// A `multipart/form-data` body: file fields are streamed from disk or memory.\n");
        code.push_str(if args.is_empty() {
            "#[derive(Debug, Clone, Default)]\n"
        } else {
            "#[derive(Debug, Clone)]\n"
        });
        writeln!(code, "pub struct {rust} {{\n{fields}}}\n").ok();
        writeln!(code, "impl {rust} {{").ok();
        if !args.is_empty() {
            writeln!(
                code,
                "    /// A form with the required fields set.\n{}    pub fn new({}) -> Self {{\n        Self {{ {} }}\n    }}\n",
                many_args_allow(args.len()),
                args.join(", "),
                inits.join(", ")
            )
            .ok();
        }
        writeln!(
            code,
            "    /// The form's fields, in order.\n    pub fn to_parts(&self) -> Vec<(String, crate::request::Part)> {{\n        let mut parts = Vec::new();\n{parts}        parts\n    }}\n}}"
        )
        .ok();
        self.defs.push(code);
        Ok(())
    }

    pub(super) fn string_enum(&mut self, rust: &str, values: &[String], docs: &str) -> Result<()> {
        self.claim(rust)?;
        let mut used = BTreeSet::new();
        let mut variants = String::new();
        for v in values {
            let mut name = pascal(v);
            if name == "Unknown" {
                name.push_str("Value");
            }
            let mut candidate = name.clone();
            let mut n = 2;
            while !used.insert(candidate.clone()) {
                candidate = format!("{name}{n}");
                n += 1;
            }
            writeln!(
                variants,
                "        /// `{}`\n        {candidate} = {},",
                v.replace('`', "'"),
                rust_str(v)
            )
            .ok();
        }
        self.defs.push(format!(
            "crate::string_enum! {{\n{}    pub enum {rust} {{\n{variants}    }}\n}}\n",
            indent(docs, "    ")
        ));
        Ok(())
    }

    pub(super) fn union(&mut self, rust: &str, alts: &[&Value], docs: &str) -> Result<()> {
        self.claim(rust)?;
        let mut variants = Vec::new();
        let mut used = BTreeSet::new();
        for (k, alt) in alts.iter().enumerate() {
            let ty = self.field_ty(alt, &format!("{rust}Variant{}", k + 1))?;
            let inner = if ty.nullable {
                format!("Option<{}>", ty.inner)
            } else {
                ty.inner.clone()
            };
            let base = self.variant_name(alt, k)?;
            let mut name = base.clone();
            let mut n = 2;
            while !used.insert(name.clone()) {
                name = format!("{base}{n}");
                n += 1;
            }
            variants.push((
                name,
                inner,
                alt.get("description")
                    .and_then(Value::as_str)
                    .map(String::from),
            ));
        }
        let mut code = String::new();
        code.push_str(docs);
        code.push_str("///\n/// Decoded by trying each variant in order; a value none of them accepts is kept in `Other`.\n");
        code.push_str(
            "#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]\n#[serde(untagged)]\n",
        );
        writeln!(code, "pub enum {rust} {{").ok();
        for (name, inner, desc) in &variants {
            if let Some(d) = desc {
                code.push_str(&doc_lines(d, "    "));
            } else {
                writeln!(
                    code,
                    "    /// A `{}` value.",
                    inner.replace("crate::types::", "")
                )
                .ok();
            }
            writeln!(code, "    {name}({inner}),").ok();
        }
        code.push_str("    /// A value of a shape this SDK version does not know.\n    Other(serde_json::Value),\n}\n");
        code.push_str(&self.union_froms(rust, &variants));
        self.defs.push(code);
        Ok(())
    }

    /// A union variant's name: the referenced type's, or one for the JSON kind.
    fn variant_name(&self, alt: &Value, k: usize) -> Result<String> {
        if let Some(r) = alt.get("$ref").and_then(Value::as_str) {
            return Ok(type_leaf(&self.resolve_ref(r)?.1).to_string());
        }
        Ok(match alt["type"].as_str() {
            Some("string") => "Text".into(),
            Some("integer") => "Integer".into(),
            Some("number") => "Number".into(),
            Some("boolean") => "Bool".into(),
            Some("object") => "Object".into(),
            Some("array") => {
                let item = &alt["items"];
                match item["type"].as_str() {
                    Some("string") => "Texts".into(),
                    Some("integer") => "Integers".into(),
                    Some("number") => "Numbers".into(),
                    Some("array") => "Lists".into(),
                    _ => match item.get("$ref").and_then(Value::as_str) {
                        Some(r) => format!("{}List", type_leaf(&self.resolve_ref(r)?.1)),
                        None => "List".into(),
                    },
                }
            }
            _ => format!("Variant{}", k + 1),
        })
    }

    /// `From` conversions into a union for the inner types that appear once (an alias and its
    /// target are one type to the compiler).
    fn union_froms(&self, rust: &str, variants: &[(String, String, Option<String>)]) -> String {
        let mut code = String::new();
        let canonical = |t: &str| {
            self.aliases
                .get(t)
                .cloned()
                .unwrap_or_else(|| t.to_string())
        };
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for (_, inner, _) in variants {
            *counts.entry(canonical(inner)).or_default() += 1;
        }
        for (name, inner, _) in variants {
            if counts[&canonical(inner)] == 1 && canonical(inner) != "serde_json::Value" {
                writeln!(
                    code,
                    "\nimpl From<{inner}> for {rust} {{\n    fn from(v: {inner}) -> Self {{\n        {rust}::{name}(v)\n    }}\n}}"
                )
                .ok();
                if inner == "String" {
                    writeln!(
                        code,
                        "\nimpl From<&str> for {rust} {{\n    fn from(v: &str) -> Self {{\n        {rust}::{name}(v.to_string())\n    }}\n}}"
                    )
                    .ok();
                }
            }
        }
        code
    }

    /// The Rust type of a property/parameter/body schema; `ctx` names any inline type it needs.
    pub(super) fn field_ty(&mut self, s: &Value, ctx: &str) -> Result<FieldTy> {
        // The same inline schema is reached again when a body's fields become setters.
        if let Some(prev) = self.inline.get(ctx) {
            ensure!(
                prev == s,
                "two different inline schemas want the name `{ctx}`"
            );
            let nullable = s["anyOf"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x["type"] == "null"));
            return Ok(FieldTy {
                inner: format!("crate::types::{ctx}"),
                nullable,
            });
        }
        let before = self.taken.len();
        let t = self.field_ty_uncached(s, ctx)?;
        if self.taken.contains(ctx)
            && self.taken.len() > before
            && t.inner == format!("crate::types::{ctx}")
        {
            self.inline.insert(ctx.to_string(), s.clone());
        }
        Ok(t)
    }

    pub(super) fn field_ty_uncached(&mut self, s: &Value, ctx: &str) -> Result<FieldTy> {
        let plain = |inner: &str| FieldTy {
            inner: inner.to_string(),
            nullable: false,
        };
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            let (name, path) = self.resolve_ref(r)?;
            if r.starts_with("#/components/schemas/") && !self.is_hand_ref(r) {
                self.component(&name)?;
            }
            return Ok(plain(&path));
        }
        if let Some(alts) = s.get("anyOf").and_then(Value::as_array) {
            return self.any_of_ty(s, alts, ctx);
        }
        if let Some(values) = string_enum_values(s)
            && !values.is_empty()
        {
            self.string_enum(ctx, &values, &type_docs(s, None))?;
            return Ok(plain(&format!("crate::types::{ctx}")));
        }
        Ok(match s.get("type").and_then(Value::as_str) {
            None => plain("serde_json::Value"),
            Some("string") => plain("String"),
            Some("integer") => plain("i64"),
            Some("number") => plain("f64"),
            Some("boolean") => plain("bool"),
            Some("null") => FieldTy {
                inner: "serde_json::Value".into(),
                nullable: true,
            },
            Some("array") => match s.get("items") {
                Some(items) if !is_any(items) => {
                    let t = self.field_ty(items, &format!("{ctx}Item"))?;
                    let inner = if t.nullable {
                        format!("Option<{}>", t.inner)
                    } else {
                        t.inner
                    };
                    plain(&format!("Vec<{inner}>"))
                }
                _ => plain("Vec<serde_json::Value>"),
            },
            Some("object") => plain(&self.object_ty(s, ctx)?),
            Some(other) => bail!("unsupported schema type `{other}` at {ctx}"),
        })
    }

    /// An `anyOf`: nullable `T`, a string enum, or an untagged union named `ctx`.
    fn any_of_ty(&mut self, s: &Value, alts: &[Value], ctx: &str) -> Result<FieldTy> {
        let nullable = alts.iter().any(|a| a["type"] == "null");
        let non_null: Vec<&Value> = alts.iter().filter(|a| a["type"] != "null").collect();
        let named = |inner: String| FieldTy { inner, nullable };
        if non_null.is_empty() || non_null.iter().any(|a| is_any(a)) {
            return Ok(named("serde_json::Value".into()));
        }
        if non_null.len() == 1 {
            let mut t = self.field_ty(non_null[0], ctx)?;
            t.nullable |= nullable;
            return Ok(t);
        }
        let only = Value::Object(Map::from_iter([(
            "anyOf".to_string(),
            Value::Array(non_null.iter().map(|v| (*v).clone()).collect()),
        )]));
        if let Some(values) = string_enum_values(&only) {
            if values.is_empty() {
                return Ok(named("String".into()));
            }
            self.string_enum(ctx, &values, &type_docs(s, None))?;
            return Ok(named(format!("crate::types::{ctx}")));
        }
        self.union(ctx, &non_null, &type_docs(s, None))?;
        Ok(named(format!("crate::types::{ctx}")))
    }

    /// An object: a struct named `ctx` when it has properties, else a map.
    fn object_ty(&mut self, s: &Value, ctx: &str) -> Result<String> {
        if let Some(props) = s.get("properties").and_then(Value::as_object)
            && !props.is_empty()
        {
            self.structure(ctx, s, props, &type_docs(s, None))?;
            return Ok(format!("crate::types::{ctx}"));
        }
        Ok(match s.get("additionalProperties") {
            Some(ap) if ap.is_object() && !is_any(ap) => {
                let t = self.field_ty(ap, &format!("{ctx}Value"))?;
                let inner = if t.nullable {
                    format!("Option<{}>", t.inner)
                } else {
                    t.inner
                };
                format!("std::collections::BTreeMap<String, {inner}>")
            }
            _ => "serde_json::Map<String, serde_json::Value>".to_string(),
        })
    }
}

pub(super) fn indent(text: &str, by: &str) -> String {
    text.lines().map(|l| format!("{by}{l}\n")).collect()
}

pub(super) fn is_any(s: &Value) -> bool {
    s.as_object().is_some_and(|m| {
        m.keys().all(|k| {
            matches!(
                k.as_str(),
                "description" | "title" | "example" | "examples" | "default"
            )
        })
    })
}

pub(super) fn is_binary(s: &Value) -> bool {
    s["format"] == "binary"
        || s["anyOf"]
            .as_array()
            .is_some_and(|alts| alts.iter().any(|a| a["format"] == "binary"))
}

/// `Some(values)` when the schema is a string, or a union of strings, with enum values
/// (possibly none); `None` when it is anything else.
pub(super) fn string_enum_values(s: &Value) -> Option<Vec<String>> {
    let collect = |alt: &Value| -> Option<Vec<String>> {
        if alt["type"] != "string" || alt.get("format").is_some() {
            return None;
        }
        Some(
            alt.get("enum")
                .and_then(Value::as_array)
                .map(|v| {
                    v.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default(),
        )
    };
    if let Some(alts) = s.get("anyOf").and_then(Value::as_array) {
        let mut all = Vec::new();
        for a in alts {
            all.extend(collect(a)?);
        }
        let mut seen = BTreeSet::new();
        all.retain(|v| seen.insert(v.clone()));
        return Some(all);
    }
    let values = collect(s)?;
    (!values.is_empty()).then_some(values)
}

pub(super) fn type_docs(schema: &Value, description: Option<&str>) -> String {
    match description.or_else(|| schema.get("description").and_then(Value::as_str)) {
        Some(text) => doc_lines(text, ""),
        None => match schema.get("title").and_then(Value::as_str) {
            // Titles are identifiers: quoted as code, not escaped.
            Some(t) => format!("/// The `{}` schema of the API.\n", t.replace('`', "")),
            None => "/// An inline schema of the API.\n".to_string(),
        },
    }
}

/// A field's doc comment: the spec's description, or when it has none, the wire name in words
/// and the JSON it holds (`Start index (integer).`); then its default and example.
pub(super) fn field_docs(p: &Value, indent: &str, wire: &str) -> String {
    let mut out = String::new();
    match p.get("description").and_then(Value::as_str) {
        Some(d) => out.push_str(&doc_lines(d, indent)),
        None => {
            let mut name = words(wire).join(" ").to_lowercase();
            if let Some(first) = name.get(..1) {
                name.replace_range(..1, &first.to_uppercase());
            }
            writeln!(
                out,
                "{indent}/// {} ({}).",
                escape_doc(&name),
                json_words(p)
            )
            .ok();
        }
    }
    if let Some(d) = p.get("default") {
        writeln!(
            out,
            "{indent}///\n{indent}/// Server default: `{}`.",
            short_json(d).replace('`', "'")
        )
        .ok();
    }
    if let Some(e) = p.get("examples").and_then(|e| e.get(0)) {
        writeln!(
            out,
            "{indent}///\n{indent}/// Example: `{}`.",
            short_json(e).replace('`', "'")
        )
        .ok();
    }
    out
}

pub(super) fn unique_ident(base: &str, used: &mut BTreeSet<String>) -> String {
    let mut name = base.to_string();
    let mut n = 2;
    while !used.insert(name.clone()) {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}

/// Clippy's `too_many_arguments` allowance, for a function of `n` arguments that needs it
/// (clippy's default limit is 7).
fn many_args_allow(n: usize) -> &'static str {
    if n > 7 {
        "    #[allow(clippy::too_many_arguments)]\n"
    } else {
        ""
    }
}

/// What JSON a schema holds, in words: `integer`, `string or null`, `list of `Gallery``.
fn json_words(s: &Value) -> String {
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        return format!("`{}`", r.rsplit('/').next().unwrap_or(r));
    }
    if let Some(alts) = s.get("anyOf").and_then(Value::as_array) {
        let parts: Vec<String> = alts.iter().map(json_words).collect();
        return parts.join(" or ");
    }
    match s.get("type").and_then(Value::as_str) {
        Some("array") => match s.get("items") {
            Some(items) if !is_any(items) => format!("list of {}", json_words(items)),
            _ => "list".into(),
        },
        Some("object") => "object".into(),
        Some(t) => t.to_string(),
        None => "any JSON".into(),
    }
}

/// Whether a generated field type has a `Default` the decoder may fall back to.
pub(super) fn has_default(ty: &str) -> bool {
    matches!(ty, "String" | "i64" | "f64" | "bool" | "serde_json::Value")
        || ty.starts_with("Vec<")
        || ty.starts_with("std::collections::BTreeMap<")
        || ty.starts_with("serde_json::Map<")
}

/// `name: expr`, or the shorthand `name` when they are the same.
pub(super) fn init_field(name: &str, expr: &str) -> String {
    if name == expr {
        name.to_string()
    } else {
        format!("{name}: {expr}")
    }
}

/// How a setter takes a value of `ty`.
pub(super) fn setter_arg(ty: &str) -> String {
    match ty {
        "String" => "impl Into<String>".into(),
        "i64" => "impl Into<i64>".into(),
        "f64" => "impl Into<f64>".into(),
        "bool" => "bool".into(),
        t if t.starts_with("crate::types::")
            || t == "crate::request::FilePart"
            || t == "serde_json::Value" =>
        {
            format!("impl Into<{t}>")
        }
        t => t.to_string(),
    }
}

/// The expression turning setter argument `name` into `ty`.
pub(super) fn setter_conv(name: &str, ty: &str) -> String {
    if setter_arg(ty).starts_with("impl Into") {
        format!("{name}.into()")
    } else {
        name.to_string()
    }
}

/// The last segment of a type path: `crate::types::Gallery` -> `Gallery`.
pub(super) fn type_leaf(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or(path)
}

/// Whether an object schema lists `name` as required.
fn required_has(schema: &Value, name: &str) -> bool {
    schema["required"]
        .as_array()
        .is_some_and(|r| r.iter().any(|x| x == name))
}

/// The one non-null alternative of a nullable `anyOf`, or the schema itself.
fn non_null_alt(s: &Value) -> &Value {
    match s.get("anyOf").and_then(Value::as_array) {
        Some(alts) => {
            let mut non_null = alts.iter().filter(|a| a["type"] != "null");
            match (non_null.next(), non_null.next()) {
                (Some(one), None) => one,
                _ => s,
            }
        }
        None => s,
    }
}

/// The serde attribute of an `x-lenient` member: a number that may arrive as a string (or a
/// string that may arrive as a number) decodes either way.
fn lenient_attr(rust: &str, pname: &str, p: &Value, inner: &str) -> Result<&'static str> {
    if p["x-lenient"] != true {
        return Ok("");
    }
    ensure!(
        matches!(inner, "i64" | "f64" | "String"),
        "`{rust}.{pname}`: x-lenient needs an integer, number or string member, not `{inner}`"
    );
    Ok(", deserialize_with = \"crate::codec::lenient\"")
}

/// The fields of a struct being generated, and its constructor's arguments and fields.
#[derive(Default)]
struct StructFields {
    fields: String,
    ctor_args: Vec<String>,
    ctor_fields: Vec<String>,
    /// Field identifiers taken so far.
    used: BTreeSet<String>,
}
