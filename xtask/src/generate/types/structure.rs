//! Structs: fields, constructors, unknown-member keeping and `items()` accessors.

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::TypeGen;
use super::helpers::*;
use crate::generate::names::*;

impl TypeGen<'_> {
    pub(in crate::generate) fn structure(
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
    pub(in crate::generate) fn items_path(
        &self,
        schema: &Value,
        path: &str,
    ) -> Result<(String, String)> {
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
