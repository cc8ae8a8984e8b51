//! Error decoding, decode errors, request validation and secret redaction (traces are
//! checked in `runtime_tracing.rs`).

use std::time::Duration;

use rostro_sdk::error::{ErrorCode, LocItem};
use rostro_sdk::request::{Base, HttpMethod, Operation, Request, RequestOptions};
use rostro_sdk::{ApiErrorBody, AuthStyle, CallOptions, Client, ClientBuilder, Error};
use serde::Deserialize;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-live-SECRET-9f8e7d6c5b4a";

static GET_THING: Operation = Operation {
    id: "get_thing",
    method: HttpMethod::Get,
    path: "/api/thing",
    base: Base::Api,
};

static GET_BY_ID: Operation = Operation {
    id: "get_by_id",
    method: HttpMethod::Get,
    path: "/api/thing/{id}",
    base: Base::Api,
};

static CHAT: Operation = Operation {
    id: "create_chat_completion",
    method: HttpMethod::Post,
    path: "/v1/chat/completions",
    base: Base::Mimic,
};

fn fast(server: &MockServer) -> ClientBuilder {
    Client::builder()
        .api_key(KEY)
        .base_url(server.uri())
        .initial_retry_delay(Duration::from_millis(1))
        .max_retry_delay(Duration::from_millis(5))
}

/// The error a GET receives when the server always answers `template`.
async fn error_for(template: ResponseTemplate) -> Error {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/thing"))
        .respond_with(template)
        .mount(&server)
        .await;
    let client = fast(&server).max_retries(0).build().unwrap();
    client
        .execute::<Value>(Request::new(&GET_THING))
        .await
        .unwrap_err()
}

fn body(err: &Error) -> &ApiErrorBody {
    err.api_body().expect("an api error")
}

#[tokio::test]
async fn user_error_envelope() {
    let err =
        error_for(ResponseTemplate::new(400).set_body_json(
            json!({"error": "character is private", "errorCode": 400, "code": 1203}),
        ))
        .await;
    let ApiErrorBody::User(e) = body(&err) else {
        panic!("{err:?}")
    };
    assert_eq!(e.error.as_deref(), Some("character is private"));
    assert_eq!(e.code, Some(ErrorCode::Int(1203)));
    assert_eq!(e.error_code, Some(ErrorCode::Int(400)));
    assert_eq!(
        err.to_string(),
        "get_thing: 400 bad request: character is private (1203)"
    );
}

#[tokio::test]
async fn api_error_envelope() {
    let err = error_for(ResponseTemplate::new(500).set_body_json(json!({
        "error": "UNKNOWN", "message": "database unavailable", "type": "api_error",
        "code": "db_down", "errorCode": 500, "param": null
    })))
    .await;
    let ApiErrorBody::Api(e) = body(&err) else {
        panic!("{err:?}")
    };
    assert_eq!(e.message.as_deref(), Some("database unavailable"));
    assert_eq!(e.kind.as_deref(), Some("api_error"));
    assert_eq!(e.code, Some(ErrorCode::Str("db_down".into())));
    assert_eq!(body(&err).code(), Some(&ErrorCode::Str("db_down".into())));
    let msg = err.to_string();
    assert!(
        msg.contains("500 internal server error: database unavailable"),
        "{msg}"
    );
}

#[tokio::test]
async fn validation_error_envelope() {
    let err = error_for(ResponseTemplate::new(422).set_body_json(json!({
        "detail": [
            {"loc": ["body", "messages"], "msg": "field required", "type": "value_error.missing"},
            {"loc": ["body", "messages", 0, "role"], "msg": "bad role", "type": "value_error"}
        ]
    })))
    .await;
    let ApiErrorBody::Validation(v) = body(&err) else {
        panic!("{err:?}")
    };
    assert_eq!(v.detail.len(), 2);
    assert_eq!(v.detail[1].loc[2], LocItem::Index(0));
    assert_eq!(v.detail[0].kind, "value_error.missing");
    let msg = err.to_string();
    assert!(msg.contains("body.messages: field required"), "{msg}");
    assert!(msg.contains("body.messages.0.role: bad role"), "{msg}");
    assert!(msg.starts_with("get_thing: 422"), "{msg}");
}

#[tokio::test]
async fn rejection_envelope() {
    let err = error_for(
        ResponseTemplate::new(400)
            .set_body_json(json!({"reason": "explicit_image", "location": "avatar"})),
    )
    .await;
    let ApiErrorBody::Rejection(r) = body(&err) else {
        panic!("{err:?}")
    };
    assert_eq!(r.reason.as_deref(), Some("explicit_image"));
    assert_eq!(r.location.as_deref(), Some("avatar"));
    assert!(
        err.to_string().contains("rejected: explicit_image"),
        "{err}"
    );
}

#[tokio::test]
async fn openai_style_envelope_with_string_and_int_codes() {
    let err = error_for(ResponseTemplate::new(401).set_body_json(json!({
        "error": {"message": "invalid api key", "type": "invalid_request_error",
                  "code": "invalid_api_key", "param": null},
        "request_id": "req-body-1"
    })))
    .await;
    let ApiErrorBody::OpenAi(e) = body(&err) else {
        panic!("{err:?}")
    };
    assert_eq!(e.code, Some(ErrorCode::Str("invalid_api_key".into())));
    assert_eq!(err.request_id(), Some("req-body-1"));
    assert!(
        err.to_string()
            .contains("invalid api key (invalid_api_key)")
    );

    // Routstr: `{detail: {error}, error, request_id}` with an integer code.
    let err = error_for(
        ResponseTemplate::new(402)
            .insert_header("x-routstr-request-id", "rt-7")
            .set_body_json(json!({
                "detail": {"error": {"message": "insufficient balance", "type": "payment", "code": 402}},
                "error": {"message": "insufficient balance", "type": "payment", "code": 402},
                "request_id": "ignored-when-header-present"
            })),
    )
    .await;
    let ApiErrorBody::OpenAi(e) = body(&err) else {
        panic!("{err:?}")
    };
    assert_eq!(e.code, Some(ErrorCode::Int(402)));
    assert_eq!(err.request_id(), Some("rt-7"));
}

#[tokio::test]
async fn detail_string_envelope() {
    let err =
        error_for(ResponseTemplate::new(404).set_body_json(json!({"detail": "Not Found"}))).await;
    assert_eq!(body(&err), &ApiErrorBody::Detail("Not Found".into()));
    assert_eq!(err.to_string(), "get_thing: 404 not found: Not Found");
}

#[tokio::test]
async fn html_502_page_gives_one_readable_line() {
    let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
                <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n\
                </body>\r\n</html>\r\n";
    let err = error_for(
        ResponseTemplate::new(502)
            .insert_header("cf-ray", "8a1b2c3d4e-AMS")
            .set_body_raw(page, "text/html"),
    )
    .await;
    assert_eq!(body(&err), &ApiErrorBody::Text("502 Bad Gateway".into()));
    let msg = err.to_string();
    assert_eq!(msg, "get_thing: 502 bad gateway: 502 Bad Gateway");
    assert!(!msg.contains('\n'));
    assert_eq!(err.request_id(), Some("8a1b2c3d4e-AMS"));
}

#[tokio::test]
async fn empty_error_body_is_readable() {
    let err = error_for(ResponseTemplate::new(500)).await;
    assert_eq!(body(&err), &ApiErrorBody::Text(String::new()));
    assert_eq!(
        err.to_string(),
        "get_thing: 500 internal server error: empty response body"
    );
}

#[tokio::test]
async fn unknown_body_is_a_bounded_snippet() {
    let long = "x".repeat(5000);
    let err = error_for(ResponseTemplate::new(418).set_body_string(long)).await;
    let ApiErrorBody::Text(t) = body(&err) else {
        panic!("{err:?}")
    };
    assert!(t.chars().count() <= 513, "{}", t.len());
    let err = error_for(ResponseTemplate::new(400).set_body_json(json!({"weird": [1, 2]}))).await;
    assert_eq!(body(&err), &ApiErrorBody::Text(r#"{"weird":[1,2]}"#.into()));
}

#[tokio::test]
async fn request_id_header_order() {
    let err = error_for(
        ResponseTemplate::new(400)
            .insert_header("x-request-id", "rq-1")
            .insert_header("x-routstr-request-id", "rt-1")
            .insert_header("cf-ray", "ray-1"),
    )
    .await;
    assert_eq!(err.request_id(), Some("rq-1"));
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Page {
    nodes: Vec<Node>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Node {
    id: u64,
    name: String,
}

#[tokio::test]
async fn decode_error_reports_the_json_path() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/thing"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "nodes": [{"id": 1, "name": "a"}, {"id": 2, "name": 5}]
        })))
        .mount(&server)
        .await;
    let client = fast(&server).build().unwrap();
    let err = client
        .execute::<Page>(Request::new(&GET_THING))
        .await
        .unwrap_err();
    let Error::Decode {
        operation,
        path,
        snippet,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*operation, "get_thing");
    assert_eq!(path, "nodes[1].name");
    assert!(snippet.starts_with(r#"{"nodes":"#), "{snippet}");
    assert!(err.to_string().contains("`nodes[1].name`"), "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn empty_2xx_body_decodes_as_null() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let client = fast(&server).build().unwrap();
    let v = client
        .execute::<Value>(Request::new(&GET_THING))
        .await
        .unwrap();
    assert_eq!(v.value(), &Value::Null);
    assert_eq!(v.meta().status, 204);
    client
        .execute::<()>(Request::new(&GET_THING))
        .await
        .unwrap();
    let none = client
        .execute::<Option<Page>>(Request::new(&GET_THING))
        .await
        .unwrap();
    assert!(none.value().is_none());
}

#[tokio::test]
async fn invalid_extra_header_fails_before_sending() {
    let server = MockServer::start().await;
    let client = fast(&server).build().unwrap();

    let req = Request::new(&GET_THING).extra_header("x-token", "line\nbreak-SECRETVALUE");
    let err = client.execute::<Value>(req).await.unwrap_err();
    let Error::InvalidRequest {
        operation, message, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*operation, "get_thing");
    assert!(message.contains("x-token"), "{message}");
    assert!(!err.to_string().contains("SECRETVALUE"), "{err}");

    let req = Request::new(&GET_THING).extra_header("bad header", "v");
    let err = client.execute::<Value>(req).await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");

    let req = Request::new(&GET_BY_ID); // `{id}` never substituted
    let err = client.execute::<Value>(req).await.unwrap_err();
    assert!(
        err.to_string().contains("missing path parameter `id`"),
        "{err}"
    );

    let mut req = Request::new(&GET_BY_ID);
    req.path_param("id", "..");
    let err = client.execute_raw(req).await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");

    let mut req = Request::new(&CHAT);
    req.json_body(&json!([1, 2])).unwrap();
    req.options(RequestOptions::default().extra_body_field("x", 1));
    let err = client.execute::<Value>(req).await.unwrap_err();
    assert!(err.to_string().contains("json object"), "{err}");

    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "nothing may reach the server"
    );
}

#[test]
fn from_env_without_key_is_a_keyless_client() {
    if std::env::var_os("ROSTRO_API_KEY").is_some() {
        return; // cannot unset it here (`unsafe` is forbidden)
    }
    let client = Client::from_env().expect("a keyless client");
    assert!(!client.has_api_key());
}

#[test]
fn invalid_configuration_is_a_typed_error() {
    for b in [
        Client::builder().base_url("not a url"),
        Client::builder().mimic_base_url("ftp://example.com"),
        Client::builder().default_header("bad header", "x"),
        Client::builder().user_agent("bad\nagent"),
        Client::builder().api_key("sk-with\nnewline-SECRET"),
    ] {
        let err = b.build().unwrap_err();
        assert!(matches!(err, Error::Config { .. }), "{err:?}");
        assert!(!err.to_string().contains("SECRET"), "{err}");
    }
}

#[tokio::test]
async fn the_key_never_leaks_into_errors_or_debug_output() {
    let server = MockServer::start().await;
    // A server that echoes the key back in its error body and headers.
    Mock::given(method("GET"))
        .and(path("/api/thing"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(
                json!({"error": {"message": format!("bad key {KEY}"), "code": 401}}),
            ),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 1, "echo": KEY})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/thing/retry"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;

    for style in [AuthStyle::Bearer, AuthStyle::ChubHeaders] {
        let builder = fast(&server).auth_style(style);
        assert!(!format!("{builder:?}").contains(KEY));
        let client = builder.build().unwrap();
        assert!(!format!("{client:?}").contains(KEY));
        assert!(format!("{client:?}").contains("***"));

        let err = client
            .execute::<Value>(Request::new(&GET_THING))
            .await
            .unwrap_err();
        assert!(!err.to_string().contains(KEY), "{err}");
        assert!(!format!("{err:?}").contains(KEY), "{err:?}");
        assert!(err.to_string().contains("bad key ***"), "{err}");

        // A decode error's snippet is scrubbed too.
        let mut req = Request::new(&CHAT);
        req.json_body(&json!({"model": "m"})).unwrap();
        let err = client.execute::<Vec<u8>>(req).await.unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err:?}");
        assert!(!format!("{err:?}").contains(KEY), "{err:?}");

        let mut req = Request::new(&GET_BY_ID);
        req.path_param("id", "retry");
        let err = client.execute::<Value>(req).await.unwrap_err();
        assert!(!format!("{err:?} {err}").contains(KEY));

        // Invalid per-call header carrying the key.
        let req =
            Request::new(&GET_THING).extra_header("authorization", &format!("Bearer {KEY}\n"));
        let err = client.execute::<Value>(req).await.unwrap_err();
        assert!(!format!("{err:?} {err}").contains(KEY));

        // Debug of a request with a per-call credential header.
        let req = Request::new(&GET_THING).extra_header("x-cashu", KEY);
        assert!(!format!("{req:?}").contains(KEY));
    }

    let api_key = rostro_sdk::ApiKey::new(KEY);
    assert_eq!(format!("{api_key:?} {api_key}"), "*** ***");
}

#[tokio::test]
async fn a_short_key_never_mangles_error_text() {
    let server = MockServer::start().await;
    let detail = "value is not a valid enumeration member; permitted: 'e', 'name'";
    Mock::given(method("GET"))
        .and(path("/api/thing"))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({ "detail": detail })))
        .mount(&server)
        .await;
    for key in ["e", "na", "sk-1234"] {
        let client = Client::builder()
            .api_key(key)
            .base_url(server.uri())
            .max_retries(0)
            .build()
            .unwrap();
        let err = client
            .execute::<Value>(Request::new(&GET_THING))
            .await
            .unwrap_err();
        assert!(err.to_string().contains(detail), "key {key:?}: {err}");
        assert!(!err.to_string().contains("***"), "key {key:?}: {err}");
    }
}

#[tokio::test]
async fn a_long_key_is_redacted_exactly_and_nothing_else_changes() {
    let server = MockServer::start().await;
    // A server echoing the request's auth header and the key glued to other text.
    let echoed = format!("rejected Authorization: Bearer {KEY} (x{KEY}y), value is not valid");
    Mock::given(method("GET"))
        .and(path("/api/thing"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({ "detail": echoed })))
        .mount(&server)
        .await;
    let client = fast(&server).max_retries(0).build().unwrap();
    let err = client
        .execute::<Value>(Request::new(&GET_THING))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("rejected Authorization: Bearer *** (x***y), value is not valid"),
        "{err}"
    );
    assert!(!format!("{err} {err:?}").contains(KEY));
}
