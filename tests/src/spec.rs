//! The OpenAPI 3.1 document the mock serves, reduced to what routing needs.
//!
//! The real document (`openapi/rostro.openapi.json`) is embedded at build
//! time; [`Spec::from_json`] accepts any other document with the same standard
//! structure (used by the crate's tests with a small fixture).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::Value;

use crate::schema;

/// The OpenAPI document embedded at build time.
pub const EMBEDDED_OPENAPI: &str = include_str!("../../openapi/rostro.openapi.json");

const METHODS: [&str; 7] = ["get", "post", "put", "patch", "delete", "head", "options"];

/// Whether an operation needs an API key, from its `security` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthRequirement {
    /// `security: []` (or none declared anywhere): no key is looked at.
    None,
    /// The list contains an empty requirement `{}`: a key is optional, but a
    /// key that is sent must be valid.
    Optional,
    /// Every alternative names a scheme: requests without a valid key get 401.
    Required,
}

impl AuthRequirement {
    fn from_security(list: &Value) -> Self {
        match list.as_array() {
            Some(items) if items.is_empty() => AuthRequirement::None,
            Some(items) => {
                if items
                    .iter()
                    .any(|r| r.as_object().is_some_and(|o| o.is_empty()))
                {
                    AuthRequirement::Optional
                } else {
                    AuthRequirement::Required
                }
            }
            None => AuthRequirement::None,
        }
    }
}

/// One declared parameter of an operation.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// Parameter name.
    pub name: String,
    /// Where it goes: `path`, `query`, `header` or `cookie`.
    pub location: String,
    /// Whether the operation requires it.
    pub required: bool,
    /// Its schema (`{}` when the document gives none).
    pub schema: Value,
}

/// One operation (`method` + path template) of the document.
#[derive(Debug, Clone)]
pub struct Operation {
    /// Upper-case HTTP method (`GET`, `POST`, ...).
    pub method: String,
    /// The path template, e.g. `/imagine/project/{uuid}`.
    pub path: String,
    /// The `operationId`, when given.
    pub operation_id: Option<String>,
    /// The operation's tags.
    pub tags: Vec<String>,
    /// Authentication requirement derived from `security`.
    pub auth: AuthRequirement,
    /// Path-level and operation-level parameters.
    pub parameters: Vec<Parameter>,
    /// Request body content types in document order, with their schemas.
    pub request_body: Vec<(String, Value)>,
    /// The success status served by default (lowest declared 2xx, else 200).
    pub success_status: u16,
    /// Declared response schemas (`application/json`) by status code.
    pub response_schemas: BTreeMap<u16, Value>,
    /// The example of the success response, when the document gives one.
    pub success_example: Option<Value>,
}

impl Operation {
    /// `"METHOD /template"`, the key used for counters and route listings.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// The `application/json` schema of the success response, if declared.
    pub fn success_schema(&self) -> Option<&Value> {
        self.response_schemas.get(&self.success_status)
    }
}

/// A parsed OpenAPI document.
#[derive(Debug, Clone)]
pub struct Spec {
    doc: Value,
    ops: Vec<Operation>,
}

impl Spec {
    /// The document embedded at build time (parsed once).
    ///
    /// # Panics
    /// Panics if the embedded document is not valid JSON (a build problem).
    pub fn embedded() -> &'static Spec {
        static SPEC: OnceLock<Spec> = OnceLock::new();
        SPEC.get_or_init(|| {
            Spec::from_json(EMBEDDED_OPENAPI).expect("embedded OpenAPI document is valid JSON")
        })
    }

    /// Parses a document from JSON text.
    pub fn from_json(text: &str) -> Result<Spec, String> {
        let doc: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        Ok(Spec::from_value(doc))
    }

    /// Builds from an already parsed document. Missing or malformed parts are
    /// skipped rather than rejected.
    pub fn from_value(doc: Value) -> Spec {
        let global_security = doc.get("security").cloned();
        let mut ops = Vec::new();
        if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
            for (path, item) in paths {
                let Some(item) = item.as_object() else {
                    continue;
                };
                let shared_params = item.get("parameters").cloned();
                for m in METHODS {
                    let Some(op) = item.get(m) else { continue };
                    ops.push(parse_op(
                        &doc,
                        m,
                        path,
                        op,
                        shared_params.as_ref(),
                        global_security.as_ref(),
                    ));
                }
            }
        }
        Spec { doc, ops }
    }

    /// The raw document (the `root` for `$ref` resolution).
    pub fn document(&self) -> &Value {
        &self.doc
    }

    /// Every operation, in document order.
    pub fn operations(&self) -> &[Operation] {
        &self.ops
    }

    /// True when the document declares no paths (e.g. the placeholder).
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Finds an operation by method and template (parameter names ignored).
    pub fn find(&self, method: &str, template: &str) -> Option<&Operation> {
        let norm = normalize_template(template);
        self.ops
            .iter()
            .find(|o| o.method.eq_ignore_ascii_case(method) && normalize_template(&o.path) == norm)
    }

    /// The body served for an operation by default: its example, else a value
    /// synthesized from its success schema, else `{}`.
    pub fn default_response(&self, op: &Operation) -> Value {
        if let Some(example) = &op.success_example {
            return example.clone();
        }
        match op.success_schema() {
            Some(s) => schema::synthesize(s, &self.doc),
            None => Value::Object(Default::default()),
        }
    }

    /// Validates `body` against the response schema the operation declares for
    /// `status` (falling back to the success schema when that status declares
    /// none). `Ok` when there is nothing to validate against.
    pub fn validate_response(
        &self,
        op: &Operation,
        status: u16,
        body: &Value,
    ) -> Result<(), Vec<String>> {
        match op
            .response_schemas
            .get(&status)
            .or_else(|| op.success_schema())
        {
            Some(s) => schema::validate(body, s, &self.doc),
            None => Ok(()),
        }
    }
}

/// Replaces every `{name}` in a template by `{}` so templates compare by shape.
pub(crate) fn normalize_template(t: &str) -> String {
    t.split('/')
        .map(|seg| {
            if seg.starts_with('{') && seg.ends_with('}') {
                "{}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn parse_params(list: Option<&Value>, doc: &Value, out: &mut Vec<Parameter>) {
    let Some(items) = list.and_then(Value::as_array) else {
        return;
    };
    for p in items {
        let p = schema::deref(p, doc);
        let Some(name) = p.get("name").and_then(Value::as_str) else {
            continue;
        };
        let location = p.get("in").and_then(Value::as_str).unwrap_or("query");
        out.retain(|q| !(q.name == name && q.location == location));
        out.push(Parameter {
            name: name.to_string(),
            location: location.to_string(),
            required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
            schema: p
                .get("schema")
                .cloned()
                .unwrap_or(Value::Object(Default::default())),
        });
    }
}

/// The media types of an operation's request body with their schemas (`{}` when a
/// media type declares none).
fn request_body(op: &Value, doc: &Value) -> Vec<(String, Value)> {
    op.get("requestBody")
        .map(|rb| schema::deref(rb, doc))
        .and_then(|rb| rb.get("content"))
        .and_then(Value::as_object)
        .map(|content| {
            content
                .iter()
                .map(|(ct, media)| {
                    (
                        ct.clone(),
                        media
                            .get("schema")
                            .cloned()
                            .unwrap_or(Value::Object(Default::default())),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// What an operation's `responses` declare: every numeric status, and the JSON schema
/// and example of those that have them.
#[derive(Default)]
struct Responses {
    statuses: Vec<u16>,
    schemas: BTreeMap<u16, Value>,
    examples: BTreeMap<u16, Value>,
}

/// A JSON media type's `example`, else the value of its first `examples` entry.
fn media_example(media: &Value) -> Option<Value> {
    media.get("example").cloned().or_else(|| {
        media
            .get("examples")
            .and_then(Value::as_object)
            .and_then(|m| m.values().next())
            .and_then(|e| e.get("value"))
            .cloned()
    })
}

fn parse_responses(op: &Value, doc: &Value) -> Responses {
    let mut out = Responses::default();
    let Some(responses) = op.get("responses").and_then(Value::as_object) else {
        return out;
    };
    for (status, resp) in responses {
        let Ok(code) = status.parse::<u16>() else {
            continue;
        };
        out.statuses.push(code);
        let resp = schema::deref(resp, doc);
        let Some(media) = resp.get("content").and_then(|c| c.get("application/json")) else {
            continue;
        };
        if let Some(s) = media.get("schema") {
            out.schemas.insert(code, s.clone());
        }
        if let Some(e) = media_example(media) {
            out.examples.insert(code, e);
        }
    }
    out
}

fn parse_op(
    doc: &Value,
    method: &str,
    path: &str,
    op: &Value,
    shared_params: Option<&Value>,
    global_security: Option<&Value>,
) -> Operation {
    let mut parameters = Vec::new();
    parse_params(shared_params, doc, &mut parameters);
    parse_params(op.get("parameters"), doc, &mut parameters);
    let auth = match op.get("security").or(global_security) {
        Some(list) => AuthRequirement::from_security(list),
        None => AuthRequirement::None,
    };
    let request_body = request_body(op, doc);
    let mut responses = parse_responses(op, doc);
    let success_status = responses
        .statuses
        .iter()
        .copied()
        .filter(|s| (200..300).contains(s))
        .min()
        .unwrap_or(200);
    Operation {
        method: method.to_ascii_uppercase(),
        path: path.to_string(),
        operation_id: op
            .get("operationId")
            .and_then(Value::as_str)
            .map(str::to_string),
        tags: op
            .get("tags")
            .and_then(Value::as_array)
            .map(|t| {
                t.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        auth,
        parameters,
        request_body,
        success_status,
        success_example: responses.examples.remove(&success_status),
        response_schemas: responses.schemas,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_document_parses() {
        let spec = Spec::embedded();
        assert!(spec.document().get("openapi").is_some());
    }

    #[test]
    fn security_lists_map_to_requirements() {
        let j = |s: &str| serde_json::from_str::<Value>(s).unwrap();
        assert_eq!(
            AuthRequirement::from_security(&j(r#"[{}, {"Authorization": []}]"#)),
            AuthRequirement::Optional
        );
        assert_eq!(
            AuthRequirement::from_security(&j(r#"[{"Authorization": []}]"#)),
            AuthRequirement::Required
        );
        assert_eq!(
            AuthRequirement::from_security(&j("[]")),
            AuthRequirement::None
        );
    }
}
