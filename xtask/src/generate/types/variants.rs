//! Forms, string enums and untagged unions.

use anyhow::{Context, Result};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::TypeGen;
use super::helpers::*;
use crate::generate::names::*;

impl TypeGen<'_> {
    /// A multipart form schema: file fields are [`FilePart`]s, the rest are sent as text.
    pub(in crate::generate) fn form(&mut self, rust: &str, schema: &Value) -> Result<()> {
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

    pub(in crate::generate) fn string_enum(
        &mut self,
        rust: &str,
        values: &[String],
        docs: &str,
    ) -> Result<()> {
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

    pub(in crate::generate) fn union(
        &mut self,
        rust: &str,
        alts: &[&Value],
        docs: &str,
    ) -> Result<()> {
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
}
