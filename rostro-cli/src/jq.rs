//! `--jq EXPR`: filters JSON output with jaq (a jq clone in Rust).

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Native, Vars, data, unwrap_valr};
use jaq_json::Val;
use serde_json::Value;

type D = data::JustLut<Val>;

/// A compiled `--jq` filter.
pub struct Jq {
    filter: jaq_core::compile::Filter<Native<D>>,
}

/// One output of a filter run.
#[derive(Debug, Clone, PartialEq)]
pub enum JqOut {
    /// A string, printed raw (like `jq -r`, as `gh --jq` does).
    Str(String),
    /// Any other JSON value.
    Json(Value),
    /// A value jaq can produce but JSON cannot hold (NaN, byte strings), printed as jaq shows it.
    Text(String),
}

impl std::fmt::Debug for Jq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Jq")
    }
}

impl Jq {
    /// Parses and compiles `expr`.
    pub fn compile(expr: &str) -> Result<Jq, String> {
        let program = File {
            code: expr,
            path: (),
        };
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let loader = Loader::new(defs);
        let arena = Arena::default();
        let modules = loader
            .load(&arena, program)
            .map_err(|errs| format!("invalid --jq filter: {}", describe_load(expr, &errs)))?;
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errs| format!("invalid --jq filter: {}", describe_compile(expr, &errs)))?;
        Ok(Jq { filter })
    }

    /// Runs the filter on one input value.
    pub fn run(&self, input: &Value) -> Result<Vec<JqOut>, String> {
        let text = serde_json::to_vec(input).map_err(|e| e.to_string())?;
        let val = jaq_json::read::parse_single(&text).map_err(|e| format!("jq input: {e}"))?;
        let ctx = Ctx::<D>::new(&self.filter.lut, Vars::new([]));
        let mut out = Vec::new();
        for item in self.filter.id.run((ctx, val)).map(unwrap_valr) {
            let v = item.map_err(|e| format!("jq: {e}"))?;
            out.push(to_out(&v));
        }
        Ok(out)
    }
}

fn to_out(v: &Val) -> JqOut {
    let shown = v.to_string();
    match serde_json::from_str::<Value>(&shown) {
        Ok(Value::String(s)) => JqOut::Str(s),
        Ok(other) => JqOut::Json(other),
        Err(_) => JqOut::Text(shown),
    }
}

/// Where in `expr` a piece of it (a slice the parser handed back) starts, if it is one.
fn offset_in(expr: &str, part: &str) -> Option<usize> {
    let (start, end) = (expr.as_ptr() as usize, expr.as_ptr() as usize + expr.len());
    let at = part.as_ptr() as usize;
    (start..=end).contains(&at).then(|| at - start)
}

/// One error as `what`, with the filter and a caret under where it broke.
fn pointed(expr: &str, what: &str, at: &str) -> String {
    let found = if at.is_empty() {
        "the end of the filter".to_owned()
    } else {
        format!("`{}`", at.chars().take(20).collect::<String>())
    };
    match offset_in(expr, at) {
        Some(offset) => {
            let col = expr[..offset].chars().count();
            format!(
                "{what}, found {found} at column {}\n  {expr}\n  {}^",
                col + 1,
                " ".repeat(col)
            )
        }
        None => format!("{what}, found {found}"),
    }
}

/// Human text for load (lex and parse) errors.
fn describe_load(expr: &str, errs: &jaq_core::load::Errors<&str, ()>) -> String {
    use jaq_core::load::{Error, lex};
    let mut lines = Vec::new();
    for (_, e) in errs {
        match e {
            Error::Io(items) => {
                lines.extend(items.iter().map(|(path, msg)| format!("{path}: {msg}")))
            }
            Error::Lex(items) => lines.extend(items.iter().map(|(expect, at)| {
                let what = match expect {
                    lex::Expect::Delim(d) => format!("expected the closing pair of `{d}`"),
                    other => format!("expected {}", other.as_str()),
                };
                pointed(expr, &what, at)
            })),
            Error::Parse(items) => {
                lines.extend(items.iter().map(|(expect, at)| {
                    pointed(expr, &format!("expected {}", expect.as_str()), at)
                }))
            }
        }
    }
    lines.truncate(3);
    lines.join("\n")
}

/// Human text for compile errors (undefined names).
fn describe_compile(expr: &str, errs: &jaq_core::compile::Errors<&str, ()>) -> String {
    let mut lines: Vec<String> = errs
        .iter()
        .flat_map(|(_, list)| list.iter())
        .map(|(name, undefined)| {
            let what = format!("undefined {} `{name}`", undefined.as_str());
            match offset_in(expr, name) {
                Some(offset) => {
                    let col = expr[..offset].chars().count();
                    format!(
                        "{what} at column {}\n  {expr}\n  {}^",
                        col + 1,
                        " ".repeat(col)
                    )
                }
                None => what,
            }
        })
        .collect();
    lines.truncate(3);
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_values() {
        let jq = Jq::compile(".items[] | .name").unwrap();
        let out = jq
            .run(&json!({"items": [{"name": "a"}, {"name": "b"}]}))
            .unwrap();
        assert_eq!(out, vec![JqOut::Str("a".into()), JqOut::Str("b".into())]);
        let jq = Jq::compile("{n: (.items | length)}").unwrap();
        let out = jq.run(&json!({"items": [1, 2, 3]})).unwrap();
        assert_eq!(out, vec![JqOut::Json(json!({"n": 3}))]);
        let jq = Jq::compile("map(select(. > 1)) | add").unwrap();
        assert_eq!(
            jq.run(&json!([1, 2, 3])).unwrap(),
            vec![JqOut::Json(json!(5))]
        );
    }

    #[test]
    fn bad_expressions_are_reported() {
        assert!(Jq::compile(".[").is_err());
        assert!(Jq::compile("nosuchfunction(1)").is_err());
        let e = Jq::compile(".name | ").unwrap_err();
        assert_eq!(
            e,
            "invalid --jq filter: expected term, found the end of the filter at column 9\n  .name | \n          ^"
        );
        let e = Jq::compile(".a | nosuch(1)").unwrap_err();
        assert!(e.contains("undefined filter `nosuch` at column 6"), "{e}");
        let e = Jq::compile("{a: 1").unwrap_err();
        assert!(!e.contains("File {") && !e.contains("Parse("), "{e}");
        let e = Jq::compile("\"abc").unwrap_err();
        assert!(e.contains("expected"), "{e}");
        let jq = Jq::compile("error(\"boom\")").unwrap();
        assert!(jq.run(&json!(1)).is_err());
    }
}
