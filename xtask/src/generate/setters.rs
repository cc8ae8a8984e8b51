//! `setters.rs`: for each `[setters]` entry of the tuning table, a macro that gives a
//! hand-written request type one setter per field of a body schema (the same setters, types and
//! docs the operation builders get), so a field added to the spec needs no hand edit.

use anyhow::{Context, Result};
use std::fmt::Write as _;

use super::HEADER;
use super::names::{pascal, snake};
use super::operation::{Setter, setter_code_at};
use super::types::{TypeGen, field_docs};
use crate::tuning::Tuning;

/// The macro's name for a schema: `GenerationRequest` -> `generation_request_setters`.
pub fn macro_name(schema: &str) -> String {
    format!("{}_setters", snake(schema))
}

/// The text of `generated/setters.rs`.
pub(super) fn gen_setters(tuning: &Tuning, types: &mut TypeGen<'_>) -> Result<String> {
    let mut out = String::from(HEADER);
    out.push_str("//! Setters that hand-written request types take from a body schema's fields (`[setters]` in\n//! `openapi/tuning.toml`): one macro per schema, invoked inside the type's `impl` with the\n//! member that holds the schema's struct.\n\n");
    for (schema, t) in &tuning.setters {
        out.push_str(
            &one_macro(schema, t, types).with_context(|| format!("[setters] `{schema}`"))?,
        );
    }
    Ok(out)
}

fn one_macro(
    schema: &str,
    t: &crate::tuning::SetterTuning,
    types: &mut TypeGen<'_>,
) -> Result<String> {
    let s = types.schema(schema)?;
    let (_, rust) = types.resolve_ref(&format!("#/components/schemas/{schema}"))?;
    types.component(schema)?;
    let leaf = rust.trim_start_matches("crate::types::").to_string();
    let props = s["properties"].as_object().context("properties")?;
    let mut setters = String::new();
    for (pname, p) in props {
        if t.hand.contains_key(pname) {
            continue;
        }
        let ty = types.field_ty(p, &format!("{leaf}{}", pascal(pname)))?;
        let setter = Setter {
            ident: snake(pname),
            wire: pname.clone(),
            ty: ty.inner,
            // The hand-written type checks what a request needs before it is sent.
            required: false,
            docs: field_docs(p, "    ", pname),
        };
        setters.push_str(&setter_code_at(&setter, "body field", "self.$target"));
    }
    let name = macro_name(schema);
    let hand: Vec<String> = t
        .hand
        .iter()
        .map(|(field, method)| format!("`{field}` (`{method}`)"))
        .collect();
    let hand = if hand.is_empty() {
        String::from("none")
    } else {
        hand.join(", ")
    };
    let mut m = String::new();
    writeln!(
        m,
        "/// One setter per field of [`{leaf}`]({rust}) that `{}` does not set by hand\n/// (set by hand: {hand}). Invoke as `{name}!(member)` inside an `impl` of a type whose\n/// `member` is a `{leaf}`.\nmacro_rules! {name} {{\n    ($target:ident) => {{\n{setters}    }};\n}}\npub(crate) use {name};\n",
        t.file
    )
    .ok();
    Ok(m)
}
