//! Support for the generated all-operations test: a wiremock server that expects one operation
//! at a time and answers it with the spec's example response.

use rostro_sdk::{Client, OperationId};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::cell::Cell;
use std::future::Future;
use std::sync::OnceLock;
use wiremock::matchers::{header_regex, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

static SPEC_TEXT: &str = include_str!("../../../openapi/rostro.openapi.json");

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| serde_json::from_str(SPEC_TEXT).expect("the committed spec is JSON"))
}

fn operation(id: &str) -> &'static Value {
    spec()["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|m| m.as_object().expect("methods").values())
        .find(|op| op["operationId"] == id)
        .unwrap_or_else(|| panic!("no operation `{id}` in the spec"))
}

fn resolve(schema: &Value) -> &Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => spec()
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("unresolved {r}")),
        None => schema,
    }
}

/// The schema's example, or a minimal value of its shape.
fn example_of(schema: &Value) -> Value {
    let s = resolve(schema);
    if let Some(e) = s.get("example") {
        return e.clone();
    }
    if let Some(alts) = s.get("anyOf").and_then(Value::as_array) {
        let first = alts
            .iter()
            .find(|a| a["type"] != "null")
            .unwrap_or(&Value::Null);
        return example_of(first);
    }
    match s["type"].as_str() {
        Some("array") => json!([]),
        Some("string") => json!("x"),
        Some("integer") => json!(1),
        Some("number") => json!(1.5),
        Some("boolean") => json!(true),
        _ => json!({}),
    }
}

/// A request body for the operation, decoded from the spec's example into the builder's type.
pub fn request_body<T: DeserializeOwned>(op_id: &str) -> T {
    let content = &operation(op_id)["requestBody"]["content"];
    let media = content
        .as_object()
        .and_then(|c| c.values().next())
        .unwrap_or_else(|| panic!("{op_id} has no request body"));
    let example = media
        .get("example")
        .cloned()
        .unwrap_or_else(|| example_of(&media["schema"]));
    let example = integral_floats_as_integers(example);
    serde_json::from_value(example.clone()).unwrap_or_else(|e| {
        panic!("{op_id}: the spec's body example does not decode: {e}\n{example}")
    })
}

/// The reference renders `MarsRequest.seed`'s sample, `i64::MIN`, as the float
/// `-9.223372036854776e18`; a real caller sends an integer. Integral floats in i64 range
/// become integers so the sample can fill an `i64` field.
fn integral_floats_as_integers(v: Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().expect("f64");
            if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 {
                json!(f as i64)
            } else {
                Value::Number(n)
            }
        }
        Value::Array(items) => items.into_iter().map(integral_floats_as_integers).collect(),
        Value::Object(m) => m
            .into_iter()
            .map(|(k, v)| (k, integral_floats_as_integers(v)))
            .collect(),
        other => other,
    }
}

/// Set to a base URL (e.g. a validating proxy in front of `rostro-mock`), the test sends
/// every operation there instead of to its own wiremock server (see [`Harness::check`]).
pub const ENV_BASE_URL: &str = "ROSTRO_OPERATIONS_BASE_URL";

/// A wiremock server and a client pointed at it (API and mimic base URLs alike).
pub struct Harness {
    server: MockServer,
    client: Client,
    checked: Cell<usize>,
    external: bool,
}

impl Harness {
    /// Starts the server (and points the client at `ROSTRO_OPERATIONS_BASE_URL` when set).
    pub async fn start() -> Self {
        let server = MockServer::start().await;
        let external = std::env::var(ENV_BASE_URL)
            .ok()
            .filter(|v| !v.trim().is_empty());
        let base = external.clone().unwrap_or_else(|| server.uri());
        let client = Client::builder()
            .api_key("test-key")
            .base_url(&base)
            .mimic_base_url(&base)
            .max_retries(0)
            .build()
            .expect("client");
        Harness {
            server,
            client,
            checked: Cell::new(0),
            external: external.is_some(),
        }
    }

    /// Against an external server: the call must succeed (its answer decodes into the
    /// operation's output type) or fail with a status the operation declares, answered by the
    /// server itself. A validating proxy's own answers (a request or response that breaks the
    /// document, with `--errors`) carry no `x-request-id` and fail the check.
    async fn check_external<F, Fut>(&self, op_id: &str, call: F)
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = rostro_sdk::Result<()>>,
    {
        let op = operation(op_id);
        if let Err(e) = Box::pin(call(self.client.clone())).await {
            let declared = e
                .status()
                .is_some_and(|s| op["responses"].get(s.as_str()).is_some());
            let from_server = e.headers().is_some_and(|h| h.contains_key("x-request-id"));
            assert!(
                declared && from_server,
                "{op_id}: {e} (declared status: {declared}, answered by the server: {from_server})"
            );
        }
        self.checked.set(self.checked.get() + 1);
    }

    /// Expects exactly one `method path` request carrying `query` and a body of `content`
    /// type, answers it with the operation's example 2xx response, runs `call`, and asserts it
    /// succeeded (which means the answer decoded into the operation's output type).
    pub async fn check<F, Fut>(
        &self,
        op_id: &str,
        http_method: &str,
        rendered_path: &str,
        query: &[(&str, &str)],
        content: Option<&str>,
        call: F,
    ) where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = rostro_sdk::Result<()>>,
    {
        if self.external {
            return self.check_external(op_id, call).await;
        }
        let op = operation(op_id);
        let (status, response) = op["responses"]
            .as_object()
            .expect("responses")
            .iter()
            .find(|(s, _)| s.starts_with('2'))
            .unwrap_or_else(|| panic!("{op_id} has no 2xx response"));
        let media = &response["content"]["application/json"];
        let body = media
            .get("example")
            .cloned()
            .unwrap_or_else(|| example_of(&media["schema"]));
        let mut mock = Mock::given(method(http_method)).and(path(rendered_path));
        for (name, value) in query {
            mock = mock.and(query_param(*name, *value));
        }
        if let Some(ct) = content {
            mock = mock.and(header_regex("content-type", &format!("^{ct}")));
        }
        let guard = mock
            .respond_with(
                ResponseTemplate::new(status.parse::<u16>().expect("status")).set_body_json(body),
            )
            .expect(1)
            .named(op_id)
            .mount_as_scoped(&self.server)
            .await;
        // Boxed so each test's future stays small however many operations it checks.
        if let Err(e) = Box::pin(call(self.client.clone())).await {
            let received = self.server.received_requests().await.unwrap_or_default();
            let last = received
                .last()
                .map(|r| format!("{} {}", r.method, r.url))
                .unwrap_or_default();
            panic!("{op_id}: {e} (last request seen: {last})");
        }
        // Dropping the guard verifies that exactly one matching request arrived.
        drop(guard);
        self.checked.set(self.checked.get() + 1);
    }

    /// Asserts every operation of `group` compiled into this build was checked.
    pub fn finish(&self, group: &str) {
        let expected = OperationId::ALL
            .iter()
            .filter(|op| op.group_and_method().0 == group)
            .count();
        assert!(expected > 0, "no operations in group `{group}`");
        assert_eq!(
            self.checked.get(),
            expected,
            "operations of `{group}` checked"
        );
    }
}
