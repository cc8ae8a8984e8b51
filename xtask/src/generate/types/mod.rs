//! Rust types from schemas: structs, string enums, untagged unions, forms and aliases.

mod helpers;
mod structure;
mod variants;

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

use super::names::*;
use crate::tuning::Tuning;

pub(in crate::generate) struct TypeGen<'a> {
    pub(super) doc: &'a Value,
    /// Schema name -> Rust type name.
    pub(super) component_names: BTreeMap<String, String>,
    /// Schema name -> path of its hand-written type (tuning `[hand_types]`).
    pub(super) hand: BTreeMap<String, String>,
    /// Inline type name a property would get (`MarsRequestStop`) -> path of its hand-written
    /// type (tuning `[hand_types]` `Schema.property` keys).
    pub(super) hand_inline: BTreeMap<String, String>,
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
pub(in crate::generate) struct FieldTy {
    /// The Rust type without any `Option`.
    pub(super) inner: String,
    /// The schema allows `null`.
    pub(super) nullable: bool,
}

impl<'a> TypeGen<'a> {
    pub(in crate::generate) fn new(doc: &'a Value, tuning: &Tuning) -> Result<Self> {
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
        let mut hand_inline = BTreeMap::new();
        for (key, path) in &tuning.hand_types {
            if let Some((owner, property)) = key.split_once('.') {
                let owner = component_names
                    .get(owner)
                    .with_context(|| format!("[hand_types] `{key}`: no schema `{owner}`"))?;
                hand_inline.insert(format!("{owner}{}", pascal(property)), path.clone());
            }
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
            hand_inline,
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

    pub(in crate::generate) fn claim(&mut self, name: &str) -> Result<()> {
        ensure!(
            self.taken.insert(name.to_string()),
            "the Rust type name `{name}` is generated twice"
        );
        Ok(())
    }

    pub(in crate::generate) fn schema(&self, name: &str) -> Result<&'a Value> {
        self.doc["components"]["schemas"]
            .get(name)
            .with_context(|| format!("no schema `{name}`"))
    }

    /// Resolves a `$ref` to (schema name, path of its Rust type).
    pub(in crate::generate) fn resolve_ref(&self, r: &str) -> Result<(String, String)> {
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
    pub(in crate::generate) fn is_hand_ref(&self, r: &str) -> bool {
        r.strip_prefix("#/components/schemas/")
            .is_some_and(|name| self.hand.contains_key(name))
    }

    pub(in crate::generate) fn component(&mut self, name: &str) -> Result<()> {
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
    pub(in crate::generate) fn named_schema(
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

    /// The Rust type of a property/parameter/body schema; `ctx` names any inline type it needs.
    pub(in crate::generate) fn field_ty(&mut self, s: &Value, ctx: &str) -> Result<FieldTy> {
        if let Some(path) = self.hand_inline.get(ctx) {
            return Ok(FieldTy {
                inner: path.clone(),
                nullable: has_null(s),
            });
        }
        // The same inline schema is reached again when a body's fields become setters.
        if let Some(prev) = self.inline.get(ctx) {
            ensure!(
                prev == s,
                "two different inline schemas want the name `{ctx}`"
            );
            return Ok(FieldTy {
                inner: format!("crate::types::{ctx}"),
                nullable: has_null(s),
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

    pub(in crate::generate) fn field_ty_uncached(
        &mut self,
        s: &Value,
        ctx: &str,
    ) -> Result<FieldTy> {
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
        // Alternatives that all stand for one hand-written type (the six message roles are
        // one `Message`) are that type, not a union of copies of it.
        if let Some(path) = self.one_hand_type(&non_null) {
            return Ok(named(path));
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

    /// The hand-written type every alternative refers to, if they all refer to the same one.
    fn one_hand_type(&self, alts: &[&Value]) -> Option<String> {
        let mut paths = alts.iter().map(|a| {
            a.get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .and_then(|name| self.hand.get(name))
        });
        let first = paths.next()??;
        paths.all(|p| p == Some(first)).then(|| first.clone())
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

pub(in crate::generate) use helpers::*;

/// Whether a schema's `anyOf` allows `null`.
fn has_null(s: &Value) -> bool {
    s["anyOf"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x["type"] == "null"))
}
