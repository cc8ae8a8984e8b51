//! The generator's rules, checked on the committed spec and tuning table.

use xtask::generate::{pascal, snake};

#[test]
fn acronyms_read_as_words_in_type_names() {
    // Every schema name the old splitter mangled, and what it reads now.
    let cases = [
        ("APIError", "ApiError"),
        ("APIResponse", "ApiResponse"),
        ("HTTPValidationError", "HttpValidationError"),
        ("STTResponse", "SttResponse"),
        ("I2IType", "I2IType"),
        ("Output3DType", "Output3DType"),
        ("JSONSchema", "JsonSchema"),
        ("OAuthUserStub", "OAuthUserStub"),
        ("RemoveBGRequest", "RemoveBgRequest"),
        ("ResponseFormatJSONObject", "ResponseFormatJsonObject"),
        ("ResponseFormatJSONSchema", "ResponseFormatJsonSchema"),
        ("AnnotationURLCitation", "AnnotationUrlCitation"),
    ];
    for (spec, rust) in cases {
        assert_eq!(pascal(spec), rust, "{spec}");
    }
    // What already read well keeps its name.
    assert_eq!(pascal("errorCode"), "ErrorCode");
    assert_eq!(pascal("gpt-4.1-mini"), "Gpt41Mini");
    assert_eq!(pascal("w16h9"), "W16h9");
    assert_eq!(pascal("16:9"), "V169");
    assert_eq!(snake("HTTPValidationError"), "http_validation_error");
    assert_eq!(snake("nTokens"), "n_tokens");
    assert_eq!(snake("type"), "type_");
}

use std::collections::{BTreeMap, BTreeSet};
use xtask::{root, tuning::Tuning};

fn doc() -> serde_json::Value {
    let text = std::fs::read_to_string(root().join("openapi/rostro.openapi.json")).expect("spec");
    serde_json::from_str(&text).expect("spec is JSON")
}

fn tuning_text() -> String {
    std::fs::read_to_string(root().join("openapi/tuning.toml")).expect("tuning table")
}

/// Generates from the committed spec and a tuning table with one entry's block edited.
fn generate_with(op: &str, edit: impl Fn(&str) -> String) -> anyhow::Result<()> {
    let text = tuning_text();
    let start = text
        .find(&format!("[operations.{op}]\n"))
        .expect("entry exists");
    let end = start + text[start..].find("\n\n").expect("entry ends");
    let edited = format!(
        "{}{}{}",
        &text[..start],
        edit(&text[start..end]),
        &text[end..]
    );
    let tuning = Tuning::parse(&edited)?;
    xtask::generate::generate(&doc(), &tuning).map(drop)
}

#[test]
fn pagination_keys_must_match_the_builders_setters() {
    // `chats.list` pages by cursor: it has no `page` parameter.
    let err = generate_with("get_chats_for_api_core_chats_get", |b| {
        b.replace("pagination = \"cursor\"", "pagination = \"page\"")
    })
    .expect_err("page pagination without a page setter must fail");
    let msg = format!("{err:#}");
    assert!(msg.contains("no `page(i64)` setter"), "{msg}");
    assert!(
        msg.contains("cursor"),
        "the message lists the inputs: {msg}"
    );

    // `ratings.list` takes neither a page nor a cursor.
    let err = generate_with(
        "project_ratings_api_project__project_id__ratings_get",
        |b| format!("{b}\npagination = \"page\""),
    )
    .expect_err("must fail");
    assert!(format!("{err:#}").contains("its inputs: none"), "{err:#}");

    // `gallery.list` pages by number, not by cursor.
    let err = generate_with("all_images_get_api_gallery_get", |b| {
        b.replace("pagination = \"page\"", "pagination = \"cursor\"")
    })
    .expect_err("must fail");
    assert!(
        format!("{err:#}").contains("no `cursor(String)` setter"),
        "{err:#}"
    );

    // A cursor in the JSON body counts (`imagine.history`).
    generate_with("history", |b| b.to_string()).expect("the committed table generates");
}

#[test]
fn upload_keys_must_match_the_body() {
    let err = generate_with("get_personas_api_personas_get", |b| {
        format!("{b}\nupload = \"multipart\"")
    })
    .expect_err("multipart upload without a form body must fail");
    assert!(
        format!("{err:#}").contains("not `multipart/form-data`"),
        "{err:#}"
    );
    let err = generate_with("speech_to_text_stt_post", |b| {
        b.replace("upload = \"multipart\"", "upload = \"chunked\"")
    })
    .expect_err("a chunked upload step with a form body must fail");
    assert!(format!("{err:#}").contains("not JSON"), "{err:#}");
}

#[test]
fn hand_types_must_name_a_schema_and_a_crate_path() {
    let text = tuning_text();
    let bad = text.replace(
        "\"ChatCompletion\" = \"crate::chat::ChatCompletion\"",
        "\"ChatCompletionz\" = \"chat::ChatCompletion\"",
    );
    let err = Tuning::parse(&bad)
        .expect("parses")
        .validate(&doc())
        .expect_err("must fail");
    let msg = format!("{err:#}");
    assert!(msg.contains("`ChatCompletionz` names no schema"), "{msg}");
    assert!(msg.contains("is not a `crate::` path"), "{msg}");

    // A `Schema.property` key must name a property the schema has.
    let bad = text.replace("\"MarsRequest.stop\"", "\"MarsRequest.stopp\"");
    let err = Tuning::parse(&bad)
        .expect("parses")
        .validate(&doc())
        .expect_err("must fail");
    assert!(
        format!("{err:#}").contains("`MarsRequest.stopp` names no property of a schema"),
        "{err:#}"
    );
}

/// `pub struct|enum|type|trait Name` declarations of a Rust source file.
fn public_types(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    for line in code.lines() {
        let line = line.trim_start();
        for kind in ["pub struct ", "pub enum ", "pub type ", "pub trait "] {
            if let Some(rest) = line.strip_prefix(kind) {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                names.push(name);
            }
        }
    }
    names
}

/// Every `.rs` file under `dir`, recursively: path -> text.
fn sources(dir: &std::path::Path, out: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).expect("readable dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("readable file");
            out.insert(path.display().to_string(), text);
        }
    }
}

/// Identifiers of a source text.
fn identifiers(code: &str) -> impl Iterator<Item = &str> {
    code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
}

#[test]
fn one_public_type_per_name_and_no_orphan_generated_types() {
    let src = root().join("rostro-sdk/src");
    let mut files = BTreeMap::new();
    sources(&src, &mut files);
    let generated_dir = src.join("generated").display().to_string();
    let (generated, hand): (Vec<_>, Vec<_>) = files
        .iter()
        .partition(|(path, _)| path.starts_with(&generated_dir));

    let mut generated_names: BTreeMap<String, &str> = BTreeMap::new();
    for (path, code) in &generated {
        for name in public_types(code) {
            generated_names.insert(name, path.as_str());
        }
    }
    let mut collisions = Vec::new();
    for (path, code) in &hand {
        for name in public_types(code) {
            if let Some(gen_path) = generated_names.get(&name) {
                collisions.push(format!("{name}: {path} and {gen_path}"));
            }
        }
    }
    assert!(
        collisions.is_empty(),
        "a hand-written public type shares its name with a generated one; keep one per concept \
         (openapi/tuning.toml [hand_types] or [type_names]):\n  {}",
        collisions.join("\n  ")
    );

    // Every generated type is reachable from an operation: named by a builder (its inputs or
    // answer), or by a type so reached. A type only another orphan uses is an orphan too.
    let types_rs = &files[&src.join("generated/types.rs").display().to_string()];
    let own: BTreeSet<String> = public_types(types_rs).into_iter().collect();
    let mut reached: BTreeSet<&str> = generated
        .iter()
        .filter(|(path, _)| !path.ends_with("/types.rs"))
        .flat_map(|(_, code)| identifiers(code))
        .filter(|w| own.contains(*w))
        .collect();
    let mut todo: Vec<&str> = reached.iter().copied().collect();
    while let Some(name) = todo.pop() {
        for word in identifiers(definition_block(types_rs, name)) {
            if own.contains(word) && reached.insert(word) {
                todo.push(word);
            }
        }
    }
    let orphans: Vec<&String> = own
        .iter()
        .filter(|name| !reached.contains(name.as_str()))
        .collect();
    assert!(
        orphans.is_empty(),
        "generated types no operation reaches: {orphans:?}"
    );
}

#[test]
fn schemas_with_a_hand_written_type_are_not_generated() {
    // Each [hand_types] entry is one concept with one type: the hand-written one exists, and
    // the generator emits nothing under the name the schema would have had (nor any type
    // documented as that schema), so `types` holds no second spelling of it.
    let tuning = Tuning::parse(&tuning_text()).expect("tuning parses");
    let src = root().join("rostro-sdk/src");
    let mut files = BTreeMap::new();
    sources(&src, &mut files);
    let generated_dir = src.join("generated").display().to_string();
    let mut generated = BTreeSet::new();
    let mut hand = BTreeSet::new();
    for (path, code) in &files {
        let names = public_types(code);
        if path.starts_with(&generated_dir) {
            generated.extend(names);
        } else {
            hand.extend(names);
        }
    }
    let types_rs = &files[&src.join("generated/types.rs").display().to_string()];
    let mut problems = Vec::new();
    for (schema, path) in &tuning.hand_types {
        let hand_name = path.rsplit("::").next().expect("a path");
        if !hand.contains(hand_name) {
            problems.push(format!("{schema}: `{path}` is no hand-written public type"));
        }
        let rust_name = |s: &str| {
            tuning
                .type_names
                .get(s)
                .cloned()
                .unwrap_or_else(|| pascal(s))
        };
        let would_be = match schema.split_once('.') {
            Some((owner, property)) => format!("{}{}", rust_name(owner), pascal(property)),
            None => rust_name(schema),
        };
        if generated.contains(&would_be) {
            problems.push(format!("{schema}: `types::{would_be}` repeats `{path}`"));
        }
        if types_rs.contains(&format!("/// The `{schema}` schema of the API.")) {
            problems.push(format!(
                "{schema}: a generated type stands for it beside `{path}`"
            ));
        }
    }
    // The pairs this rule resolved, named, so a regression reads as what it is.
    for (generated_name, hand_name) in [
        ("ChatCompletionSystemMessageParam", "Message"),
        ("ChatCompletionDeveloperMessageParam", "Message"),
        ("ChatCompletionUserMessageParam", "Message"),
        ("ChatCompletionAssistantMessageParam", "Message"),
        ("MarsRequestMessagesItem", "Message"),
        ("ChatCompletionUserMessageParamContent", "MessageContent"),
        ("ChatCompletionContentPartTextParam", "ContentPart"),
        ("FileFile", "FileInput"),
        ("ChatCompletionMessageToolCallParam", "ToolCall"),
        ("FunctionCallInput", "FunctionCall"),
        ("ToolCallFunction", "FunctionCall"),
        ("ChatCompletionToolsParam", "Tool"),
        ("VllmFunctionDefinition", "FunctionDefinition"),
        ("VllmNamedToolChoiceParam", "ToolChoice"),
        ("MarsRequestToolChoice", "ToolChoice"),
        ("MarsRequestStop", "Stop"),
        ("MarsRequestResponseFormat", "ResponseFormat"),
        ("StructuralTagResponseFormat", "ResponseFormat"),
    ] {
        if generated.contains(generated_name) {
            problems.push(format!(
                "`types::{generated_name}` repeats `chat::{hand_name}`"
            ));
        }
        assert!(hand.contains(hand_name), "{hand_name}");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The text of a type's definition in `types.rs`, up to the next one.
fn definition_block<'a>(types_rs: &'a str, name: &str) -> &'a str {
    let starts: Vec<usize> = types_rs
        .match_indices("\n/// ")
        .map(|(i, _)| i)
        .chain(
            types_rs
                .match_indices("\ncrate::string_enum!")
                .map(|(i, _)| i),
        )
        .collect();
    let decl = ["pub struct ", "pub enum ", "pub type "]
        .iter()
        .filter_map(|k| {
            types_rs
                .match_indices(&format!("{k}{name}"))
                .find(|(i, _)| {
                    !types_rs[i + k.len() + name.len()..]
                        .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                })
                .map(|(i, _)| i)
        })
        .next()
        .expect("declared");
    let start = starts
        .iter()
        .copied()
        .filter(|s| *s < decl)
        .max()
        .unwrap_or(0);
    let end = starts
        .iter()
        .copied()
        .filter(|s| *s > decl)
        .min()
        .unwrap_or(types_rs.len());
    &types_rs[start..end]
}

/// Generates from the committed spec with the tuning table's text edited.
fn generate_text(edit: impl Fn(&str) -> String) -> anyhow::Result<BTreeMap<String, String>> {
    let tuning = Tuning::parse(&edit(&tuning_text()))?;
    xtask::generate::generate(&doc(), &tuning)
}

#[test]
fn every_generated_builder_has_a_no_run_example_of_its_call() {
    let files = generate_text(str::to_owned).expect("generates");
    let mut builders = 0;
    for (name, code) in files
        .iter()
        .filter(|(n, _)| n.ends_with(".rs") && !n.contains('/'))
    {
        for (i, _) in code.match_indices("#[must_use = \"a request builder") {
            builders += 1;
            let docs = &code[code[..i].rfind("pub static").expect("static")..i];
            assert!(
                docs.contains("/// ```no_run") && docs.contains(".send()"),
                "{name}: a builder without its example:\n{docs}"
            );
        }
    }
    assert_eq!(builders, 219);
    let search = &files["search.rs"];
    assert!(
        search.contains("/// let answer = client.search().list()"),
        "{search}"
    );
}

#[test]
fn query_types_give_typed_setters_and_are_checked() {
    let files = generate_text(str::to_owned).expect("generates");
    let search = &files["search.rs"];
    for setter in [
        "pub fn min_tokens(mut self, v: impl Into<i64>)",
        "pub fn only_mine(mut self, v: bool)",
        "pub fn count(mut self, v: bool)",
        "pub fn tags(mut self, v: impl IntoIterator<Item = impl Into<String>>)",
    ] {
        assert!(search.contains(setter), "{setter}");
    }
    assert!(search.contains("req.query(\"tags\", v.join(\",\"))"));
    let err = generate_text(|t| format!("{t}\nnot_a_parameter = \"boolean\"\n"))
        .map(drop)
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("`not_a_parameter` is no query parameter"),
        "{err:#}"
    );
    let err = generate_text(|t| t.replace("min_tokens = \"integer\"", "min_tokens = \"int\""))
        .map(drop)
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("`int` is not integer"),
        "{err:#}"
    );
}

#[test]
fn tuning_types_need_an_example_and_items_paths_that_exist() {
    let err = generate_text(|t| {
        t.replace(
            "example = '''{\"username\": \"Me\", \"credits\": 500}'''\n",
            "",
        )
    })
    .map(drop)
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("`Account` has no example"),
        "{err:#}"
    );
    let err =
        generate_text(|t| t.replace("\"x-items\": [\"tokens\"]", "\"x-items\": [\"toknes\"]"))
            .map(drop)
            .unwrap_err();
    assert!(format!("{err:#}").contains("no member `toknes`"), "{err:#}");
    let err = generate_text(|t| {
        t.replacen(
            "\"name\": {\"anyOf\": [{\"type\": \"string\"}, {\"type\": \"null\"}], \"description\": \"Your display name.\"}",
            "\"name\": {\"type\": \"array\", \"x-lenient\": true, \"description\": \"Your display name.\"}",
            1,
        )
    })
    .map(drop)
    .unwrap_err();
    assert!(format!("{err:#}").contains("x-lenient needs"), "{err:#}");
}
