//! A transport-neutral response (turned into a wiremock `ResponseTemplate` or
//! a hyper `Response`) and the API's error bodies.

use bytes::Bytes;
use serde_json::{Value, json};

/// A whole-body response.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) content_type: String,
    pub(crate) body: Bytes,
}

impl Reply {
    pub(crate) fn json(status: u16, body: &Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            content_type: "application/json".into(),
            body: Bytes::from(serde_json::to_vec(body).unwrap_or_default()),
        }
    }

    pub(crate) fn ok(body: Value) -> Reply {
        Reply::json(200, &body)
    }

    pub(crate) fn bytes(status: u16, content_type: &str, body: impl Into<Bytes>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            content_type: content_type.into(),
            body: body.into(),
        }
    }

    pub(crate) fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The API's `UserError` body: `{"error": msg, "errorCode": status, "code": 0}`.
    pub(crate) fn user_error(status: u16, msg: &str) -> Reply {
        Reply::json(
            status,
            &json!({"error": msg, "errorCode": status, "code": 0}),
        )
    }

    /// The API's `APIError` body for 5xx statuses.
    pub(crate) fn api_error(status: u16, msg: &str) -> Reply {
        Reply::json(
            status,
            &json!({"error": msg, "message": msg, "type": "api_error", "code": status, "errorCode": status}),
        )
    }

    /// FastAPI-style `HTTPValidationError` (422).
    pub(crate) fn validation(loc: &[&str], msg: &str, kind: &str) -> Reply {
        Reply::json(
            422,
            &json!({"detail": [{"loc": loc, "msg": msg, "type": kind}]}),
        )
    }

    /// The 502 page a proxy in front of the API would send.
    pub(crate) fn bad_gateway_html() -> Reply {
        Reply::bytes(
            502,
            "text/html; charset=utf-8",
            "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
        )
    }

    pub(crate) fn into_template(self) -> wiremock::ResponseTemplate {
        let mut t = wiremock::ResponseTemplate::new(self.status)
            .set_body_raw(self.body.to_vec(), &self.content_type);
        for (k, v) in self.headers {
            t = t.append_header(k.as_str(), v.as_str());
        }
        t
    }
}

/// Parses a JSON request body; an empty body counts as `{}`. Malformed JSON
/// gets FastAPI's 422 `json_invalid`.
pub(crate) fn parse_json_body(body: &[u8]) -> Result<Value, Reply> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(body).map_err(|e| {
        Reply::validation(
            &["body", "0"],
            &format!("JSON decode error: {e}"),
            "json_invalid",
        )
    })
}
