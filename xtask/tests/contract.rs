//! The machine-readable contract: `openapi/rostro.openapi.json` and `openapi/tuning.toml`.

use serde_json::Value;
use std::collections::BTreeSet;
use xtask::{operations, root, tuning::Tuning};

fn doc() -> Value {
    let text = std::fs::read_to_string(root().join("openapi/rostro.openapi.json"))
        .expect("committed document");
    serde_json::from_str(&text).expect("the document is JSON")
}

fn tuning_text() -> String {
    std::fs::read_to_string(root().join("openapi/tuning.toml")).expect("committed table")
}

fn tuning() -> Tuning {
    Tuning::parse(&tuning_text()).expect("the table parses")
}

#[test]
fn has_every_operation_and_schema_of_the_reference() {
    let doc = doc();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(operations(&doc).count(), 219);
    assert_eq!(
        doc["components"]["schemas"]
            .as_object()
            .expect("schemas")
            .len(),
        104
    );
}

#[test]
fn operation_ids_are_unique() {
    let doc = doc();
    let mut seen = BTreeSet::new();
    for (path, method, op) in operations(&doc) {
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
        assert!(
            seen.insert(id.to_string()),
            "operationId `{id}` is used twice"
        );
    }
}

fn collect_refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                out.push(r);
            }
            m.values().for_each(|c| collect_refs(c, out));
        }
        Value::Array(items) => items.iter().for_each(|c| collect_refs(c, out)),
        _ => {}
    }
}

#[test]
fn every_ref_resolves() {
    let doc = doc();
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(
        refs.len() > 500,
        "expected many references, found {}",
        refs.len()
    );
    for r in refs {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("external reference {r}"));
        assert!(doc.pointer(pointer).is_some(), "`{r}` does not resolve");
    }
}

#[test]
fn every_path_parameter_is_declared_and_every_declared_one_is_in_the_path() {
    let doc = doc();
    for (path, method, op) in operations(&doc) {
        let in_path: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        let declared: BTreeSet<&str> = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "path")
            .map(|p| {
                assert_eq!(
                    p["required"], true,
                    "{method} {path}: path parameter {} optional",
                    p["name"]
                );
                p["name"].as_str().expect("named")
            })
            .collect();
        assert_eq!(in_path, declared, "{method} {path}");
    }
}

#[test]
fn every_operation_has_a_known_tag_responses_and_security() {
    let doc = doc();
    let tags: BTreeSet<&str> = doc["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(tags.len(), 15);
    for (path, method, op) in operations(&doc) {
        let tag = op["tags"][0]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path}: no tag"));
        assert!(tags.contains(tag), "{method} {path}: unknown tag {tag}");
        assert!(
            op["responses"].as_object().is_some_and(|r| !r.is_empty()),
            "{method} {path}: no responses"
        );
        assert!(op["security"].is_array(), "{method} {path}: no security");
    }
}

#[test]
fn importer_output_equals_the_committed_document() {
    let reference = xtask::default_reference();
    let Ok(md) = std::fs::read_to_string(&reference) else {
        println!(
            "skipped: {} is not here (a clone without ../shared)",
            reference.display()
        );
        return;
    };
    let imported =
        xtask::to_pretty_json(&xtask::import::import(&md).expect("the reference imports"));
    let committed =
        std::fs::read_to_string(root().join("openapi/rostro.openapi.json")).expect("committed");
    assert!(
        imported == committed,
        "openapi/rostro.openapi.json is stale: run `cargo xtask import-reference`"
    );
}

#[test]
fn importer_fails_loudly_on_what_it_cannot_parse() {
    let reference = xtask::default_reference();
    let Ok(md) = std::fs::read_to_string(&reference) else {
        println!("skipped: {} is not here", reference.display());
        return;
    };
    // A property row with a type the importer does not know.
    let broken = md.replacen("|is_done|boolean|", "|is_done|bool-ish|", 1);
    let err = xtask::import::import(&broken).expect_err("an unknown type must fail");
    assert!(format!("{err:#}").contains("bool-ish"), "{err:#}");
    // An operation without its `METHOD /path` line.
    let broken = md.replacen("`POST /imagine/check`", "POST imagine check", 1);
    let err = xtask::import::import(&broken).expect_err("a missing method line must fail");
    assert!(format!("{err:#}").contains("METHOD /path"), "{err:#}");
}

#[test]
fn tuning_covers_every_operation_once() {
    let doc = doc();
    let t = tuning();
    t.validate(&doc).expect("the committed table is valid");
    assert_eq!(t.operations.len(), 219);
}

#[test]
fn tuning_validation_catches_missing_unknown_duplicate_and_bad_entries() {
    let doc = doc();
    let text = tuning_text();

    let missing = text.replacen("[operations.check]", "[operations.check_renamed_away]", 1);
    let err = Tuning::parse(&missing)
        .expect("parses")
        .validate(&doc)
        .expect_err("must fail");
    let msg = format!("{err:#}");
    assert!(msg.contains("operation `check` has no entry"), "{msg}");
    assert!(
        msg.contains("entry `check_renamed_away` names no operation"),
        "{msg}"
    );

    let duplicate = text.replacen(
        "group = \"imagine\"\nmethod = \"check\"",
        "group = \"imagine\"\nmethod = \"history\"",
        1,
    );
    let err = Tuning::parse(&duplicate)
        .expect("parses")
        .validate(&doc)
        .expect_err("must fail");
    assert!(
        format!("{err:#}").contains("are both imagine.history"),
        "{err:#}"
    );

    let keyword = text.replacen("method = \"import_chat\"", "method = \"type\"", 1);
    let err = Tuning::parse(&keyword)
        .expect("parses")
        .validate(&doc)
        .expect_err("must fail");
    assert!(
        format!("{err:#}").contains("`type` is not a snake_case Rust identifier"),
        "{err:#}"
    );

    let unknown_hint = text.replacen("polling = \"imagine\"", "polling = \"sometimes\"", 1);
    let err = Tuning::parse(&unknown_hint)
        .expect("parses")
        .validate(&doc)
        .expect_err("must fail");
    assert!(
        format!("{err:#}").contains("polling `sometimes`"),
        "{err:#}"
    );
}

#[test]
fn tuning_hints_match_the_document() {
    let doc = doc();
    let t = tuning();
    for (path, _, op) in operations(&doc) {
        let id = op["operationId"].as_str().expect("id");
        let entry = &t.operations[id];
        let ok = &op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"];
        // Every TimedResponse generation is polled through POST /check.
        if ok == "#/components/schemas/TimedResponse" && path != "/check" {
            assert_eq!(entry.polling.as_deref(), Some("check"), "{id}");
        }
        // OpenAI-compatible routes are the mimic ones.
        if op["tags"][0] == "Mimic" {
            assert_eq!(entry.base.as_deref(), Some("mimic"), "{id}");
        }
        if entry.upload.as_deref() == Some("multipart") {
            assert!(
                op["requestBody"]["content"]["multipart/form-data"].is_object(),
                "{id} is not multipart"
            );
        }
    }
}
