//! The generated decode test of the tuning types: each type's documented example decodes and
//! re-encodes unchanged, `{}` decodes, and members no one documented are kept.

use anyhow::{Context, Result};
use std::fmt::Write as _;

use super::HEADER;
use super::names::{rust_str, snake};
use crate::tuning::Tuning;

/// The generated decode test, relative to `rostro-sdk/src/generated/`.
pub const DECODE_TESTS_FILE: &str = "../../tests/tuning_decode.rs";

/// One test per tuning type, from its `example`.
pub(super) fn gen_decode_tests(tuning: &Tuning) -> Result<String> {
    let mut code = String::from(HEADER);
    code.push_str(
        "//! Every response type of the tuning table decodes what the documents show: its example\n//! (re-encoded unchanged), a bare `{}`, and the example with members no one documented (kept,\n//! and written back out).\n\nuse serde::{Serialize, de::DeserializeOwned};\nuse serde_json::{Value, json};\n\n",
    );
    code.push_str(CHECK);
    for (name, t) in &tuning.types {
        let example = t
            .example
            .as_deref()
            .with_context(|| format!("tuning type `{name}` has no example"))?;
        let compact: serde_json::Value = serde_json::from_str(example)
            .with_context(|| format!("tuning type `{name}`: example"))?;
        writeln!(
            code,
            "\n#[test]\nfn {}_decodes_its_example_an_empty_object_and_unknown_members() {{\n    check::<rostro_sdk::types::{name}>({});\n}}",
            snake(name),
            rust_str(&compact.to_string())
        )
        .ok();
    }
    Ok(code)
}

const CHECK: &str = r#"/// Decodes `example`, `{}` and `example` plus an undocumented member; the first and last
/// must re-encode to what came in (numbers compared by value: `9000` read into an `f64`
/// writes `9000.0`).
fn check<T: Serialize + DeserializeOwned + std::fmt::Debug>(example: &str) {
    let documented: Value = serde_json::from_str(example).unwrap();
    let typed: T = serde_json::from_value(documented.clone())
        .unwrap_or_else(|e| panic!("the documented example does not decode: {e}"));
    let back = serde_json::to_value(&typed).unwrap();
    assert!(same(&back, &documented), "{back} != {documented}");

    let _: T = serde_json::from_value(json!({}))
        .unwrap_or_else(|e| panic!("`{{}}` does not decode: {e}"));

    let mut extra = documented;
    extra["x_undocumented"] = json!({"kept": [1, "two", null]});
    let typed: T = serde_json::from_value(extra.clone())
        .unwrap_or_else(|e| panic!("the example with an unknown member does not decode: {e}"));
    let back = serde_json::to_value(&typed).unwrap();
    assert!(same(&back, &extra), "unknown members are kept: {back} != {extra}");
}

/// JSON equality with numbers compared by value.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}
"#;
