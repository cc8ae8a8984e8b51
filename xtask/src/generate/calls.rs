//! The generated all-operations test.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::names::*;
use super::operation::{BodyKind, Setter};
use super::{HEADER, OpInfo};

/// One line of the generated all-operations test: call the builder with sample values for
/// every required input, against the harness's mock, and decode the answer.
pub(super) fn gen_test_call(
    group: &str,
    o: &OpInfo,
    path_params: &[Setter],
    query: &[Setter],
    body: &BodyKind,
) -> String {
    let mut rendered = o.path.clone();
    let mut args = Vec::new();
    for p in path_params {
        let (code, text) = sample(&p.ty, &p.wire);
        rendered = rendered.replace(&format!("{{{}}}", p.wire), &text);
        args.push(code);
    }
    let mut chain = format!("c.{group}().{}({})", o.tuning.method, args.join(", "));
    let mut expect_query = Vec::new();
    for q in query.iter().filter(|q| q.required) {
        let (code, text) = sample(&q.ty, &q.wire);
        chain.push_str(&format!(".{}({code})", q.ident));
        expect_query.push(format!("({}, {})", rust_str(&q.wire), rust_str(&text)));
    }
    let content = body_sample(o, body, &mut chain);
    let feature = o
        .tuning
        .feature
        .as_ref()
        .map(|f| format!("    #[cfg(feature = \"{f}\")]\n"))
        .unwrap_or_default();
    format!(
        "{feature}    h.check({}, {}, {}, &[{}], {content}, |c| async move {{ {chain}.send().await.map(drop) }}).await;\n",
        rust_str(&o.id),
        rust_str(&o.method.to_uppercase()),
        rust_str(&rendered),
        expect_query.join(", "),
    )
}

/// A sample value of a parameter type: (Rust code, as it appears on the wire).
fn sample(ty: &str, wire: &str) -> (String, String) {
    match ty {
        "i64" => ("42".into(), "42".into()),
        "f64" => ("1.5".into(), "1.5".into()),
        "bool" => ("true".into(), "true".into()),
        "Vec<String>" => (format!("[\"p-{wire}\", \"q\"]"), format!("p-{wire},q")),
        _ => (format!("\"p-{wire}\""), format!("p-{wire}")),
    }
}

/// Appends the setters giving a sample body to `chain`; returns the content type expected.
fn body_sample(o: &OpInfo, body: &BodyKind, chain: &mut String) -> &'static str {
    match body {
        BodyKind::None => "None",
        BodyKind::JsonFields { .. } => {
            chain.push_str(&format!(
                ".body(support::request_body({}))",
                rust_str(&o.id)
            ));
            "Some(\"application/json\")"
        }
        BodyKind::JsonWhole { required, ty } => {
            if *required {
                chain.push_str(&format!(
                    ".body(support::request_body::<{}>({}))",
                    ty.replace("crate::", "rostro_sdk::"),
                    rust_str(&o.id)
                ));
                "Some(\"application/json\")"
            } else {
                "None"
            }
        }
        BodyKind::FormFields { fields, .. } => {
            for f in fields.iter().filter(|f| f.required) {
                if f.ty == "crate::request::FilePart" {
                    chain.push_str(&format!(
                        ".{}(rostro_sdk::request::FilePart::from_bytes(\"{}.bin\", &b\"sample bytes\"[..]))",
                        f.ident, f.wire
                    ));
                } else {
                    let (code, _) = sample(&f.ty, &f.wire);
                    chain.push_str(&format!(".{}({code})", f.ident));
                }
            }
            "Some(\"multipart/form-data\")"
        }
        BodyKind::FormParts => {
            chain.push_str(".text(\"note\", \"sample\")");
            "Some(\"multipart/form-data\")"
        }
    }
}

/// The generated test that calls every operation through its builder: one test per group.
pub(super) fn gen_tests(calls: &[(String, String)]) -> String {
    let mut code = String::from(HEADER);
    code.push_str("//! Calls every operation of the API through its generated builder against a wiremock server:\n//! method, path and required inputs are asserted on the wire, and the spec's example answer\n//! is decoded into the operation's output type. One test per resource group.\n\nmod support;\n");
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (group, call) in calls {
        groups.entry(group).or_default().push(call);
    }
    for (group, calls) in groups {
        let feature = if group.starts_with("engine_") {
            "#[cfg(feature = \"engine\")]\n"
        } else {
            ""
        };
        writeln!(code, "\n{feature}#[tokio::test]\nasync fn {group}_operations_round_trip() {{\n    let h = support::Harness::start().await;").ok();
        for c in calls {
            code.push_str(&c.replace("    #[cfg(feature = \"engine\")]\n", ""));
        }
        writeln!(code, "    h.finish({});\n}}", rust_str(group)).ok();
    }
    code
}

/// A builder's `no_run` doc example: the call with its path parameters and a sample for
/// every required input a literal can give; required inputs of richer types are named in
/// a comment (their values are the caller's).
pub(super) fn doc_example(
    group: &str,
    o: &OpInfo,
    path_params: &[Setter],
    query: &[Setter],
    body: &BodyKind,
) -> String {
    let args: Vec<String> = path_params
        .iter()
        .map(|p| sample(&p.ty, &p.wire).0)
        .collect();
    let mut chain = format!("client.{group}().{}({})", o.tuning.method, args.join(", "));
    let mut later = Vec::new();
    let mut set = |s: &Setter, chain: &mut String| match literal(&s.ty, &s.wire) {
        Some(code) => chain.push_str(&format!("\n///     .{}({code})", s.ident)),
        None => later.push(format!("`{}`", s.ident)),
    };
    for q in query.iter().filter(|q| q.required) {
        set(q, &mut chain);
    }
    match body {
        BodyKind::JsonFields { fields, .. } | BodyKind::FormFields { fields, .. } => {
            for f in fields.iter().filter(|f| f.required) {
                set(f, &mut chain);
            }
        }
        BodyKind::JsonWhole { required: true, ty } if ty == "serde_json::Value" => {
            chain.push_str("\n///     .body(serde_json::json!({}))");
        }
        BodyKind::JsonWhole { required: true, .. } => later.push("`body`".into()),
        BodyKind::FormParts => chain.push_str("\n///     .text(\"note\", \"sample\")"),
        _ => {}
    }
    let note = if later.is_empty() {
        String::new()
    } else {
        format!("/// // Also required: {}.\n", later.join(", "))
    };
    format!(
        "///\n/// # Example\n///\n/// ```no_run\n/// # async fn run(client: rostro_sdk::Client) -> rostro_sdk::Result<()> {{\n/// // {} {}\n{note}/// let answer = {chain}\n///     .send()\n///     .await?;\n/// # let _ = answer;\n/// # Ok(())\n/// # }}\n/// ```\n",
        o.method.to_uppercase(),
        o.path
    )
}

/// A Rust literal for a setter of type `ty`, when one can be written.
fn literal(ty: &str, wire: &str) -> Option<String> {
    match ty {
        "i64" | "f64" | "bool" | "String" | "Vec<String>" => Some(sample(ty, wire).0),
        "crate::request::FilePart" => Some(format!(
            "rostro_sdk::request::FilePart::from_bytes(\"{wire}.bin\", &b\"sample bytes\"[..])"
        )),
        _ => None,
    }
}
