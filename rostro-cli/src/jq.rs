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
            .map_err(|errs| format!("invalid --jq expression `{expr}`: {}", describe(&errs)))?;
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errs| format!("invalid --jq expression `{expr}`: {}", describe(&errs)))?;
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

fn describe<T: std::fmt::Debug>(errs: &[T]) -> String {
    let mut s = String::new();
    for e in errs.iter().take(3) {
        if !s.is_empty() {
            s.push_str("; ");
        }
        let d = format!("{e:?}");
        // Debug output of jaq errors is verbose; keep it to one line.
        s.push_str(&d.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    if s.len() > 400 {
        s.truncate(400);
        s.push('…');
    }
    s
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
        let jq = Jq::compile("error(\"boom\")").unwrap();
        assert!(jq.run(&json!(1)).is_err());
    }
}
