//! Turning a request into one that can be sent any number of times: URL, body, headers.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};

use super::ForeignRequest;
use crate::client::ClientInner;
use crate::error::{Error, Result};
use crate::request::{
    Base, Body, FilePartError, HttpMethod, OpenBody, Operation, Part, Request, RequestOptions,
};

const RETRY_COUNT: HeaderName = HeaderName::from_static("x-rostro-retry-count");
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");
const EMPTY_FORM_CONTENT_TYPE: &str = "multipart/form-data; boundary=rostro-empty-form";
const EMPTY_FORM_BODY: &[u8] = b"--rostro-empty-form--\r\n";

/// A request ready to be sent any number of times.
pub(super) struct Prepared {
    pub(super) op: &'static Operation,
    /// URL, headers and (replayable) body; cloned per attempt, moved on the last one.
    pub(super) template: Option<reqwest::Request>,
    /// Multipart fields, rebuilt per attempt (files re-opened).
    multipart: Option<Vec<(String, Part)>>,
    /// A streamed body, re-opened per attempt.
    stream: Option<OpenBody>,
    pub(super) timeout: Duration,
    pub(super) max_retries: u32,
    /// Whether a request that may have reached the server can be sent again.
    pub(super) replayable: bool,
    /// Called with every response's headers before its body is read.
    pub(super) on_headers: Option<crate::request::HeadersHook>,
    /// Attempts made so far.
    pub(super) attempts: u32,
    /// Whether the API's rate limit applies (not to foreign URLs: another server's limit).
    pub(super) paced: bool,
}

/// The body of a request as `prepare` splits it: sent from the template, streamed, or
/// rebuilt as a multipart form per attempt.
struct PreparedBody {
    content_type: Option<HeaderValue>,
    bytes: Option<Bytes>,
    multipart: Option<Vec<(String, Part)>>,
    stream: Option<OpenBody>,
}

impl PreparedBody {
    fn bytes(content_type: Option<HeaderValue>, bytes: Option<Bytes>) -> Self {
        PreparedBody {
            content_type,
            bytes,
            multipart: None,
            stream: None,
        }
    }
}

impl Prepared {
    /// The request for one attempt: the template (cloned, or moved on the `last` one) with
    /// its retry count and its streamed or multipart body opened afresh.
    pub(super) async fn attempt(
        &mut self,
        http: &reqwest::Client,
        retries: u32,
        last: bool,
    ) -> Result<reqwest::Request> {
        let mut req = if last {
            self.template.take()
        } else {
            self.template.as_ref().and_then(reqwest::Request::try_clone)
        }
        .ok_or_else(|| invalid(self.op, "the request body cannot be replayed".into()))?;
        if retries > 0 {
            req.headers_mut()
                .insert(RETRY_COUNT, HeaderValue::from(retries));
        }
        if let Some(open) = &self.stream {
            let (body, len) = open().await.map_err(|source| Error::Io {
                operation: self.op.id,
                path: None,
                source,
            })?;
            if let Some(len) = len {
                req.headers_mut()
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            }
            *req.body_mut() = Some(body);
            return Ok(req);
        }
        let Some(parts) = &self.multipart else {
            return Ok(req);
        };
        let form = build_form(self.op, parts).await?;
        reqwest::RequestBuilder::from_parts(http.clone(), req)
            .multipart(form)
            .build()
            .map_err(|e| invalid(self.op, format!("could not build the multipart body: {e}")))
    }
}

/// The multipart form for one attempt, its files opened again.
async fn build_form(
    op: &'static Operation,
    parts: &[(String, Part)],
) -> Result<reqwest::multipart::Form> {
    let mut form = reqwest::multipart::Form::new().percent_encode_noop();
    for (name, part) in parts {
        let name = crate::request::escape_disposition(name).into_owned();
        form = match part {
            Part::Text(text) => form.text(name, text.clone()),
            Part::File(file) => {
                let p = file.to_reqwest().await.map_err(|e| match e {
                    FilePartError::InvalidMime => invalid(
                        op,
                        format!("invalid content type for multipart field `{name}`"),
                    ),
                    FilePartError::Io(source) => Error::Io {
                        operation: op.id,
                        path: file.path().map(ToOwned::to_owned),
                        source,
                    },
                })?;
                form.part(name, p)
            }
        };
    }
    Ok(form)
}

fn invalid(op: &'static Operation, message: String) -> Error {
    Error::InvalidRequest {
        operation: op.id,
        message,
    }
}

pub(super) fn prepare_foreign(inner: &ClientInner, req: ForeignRequest) -> Prepared {
    let mut headers = req.headers;
    if let Some(ua) = inner.default_headers.get(header::USER_AGENT)
        && !headers.contains_key(header::USER_AGENT)
    {
        headers.insert(header::USER_AGENT, ua.clone());
    }
    let mut template = reqwest::Request::new(req.op.method.to_reqwest(), req.url);
    *template.headers_mut() = headers;
    if let Some(bytes) = req.body {
        *template.body_mut() = Some(reqwest::Body::from(bytes));
    }
    Prepared {
        op: req.op,
        template: Some(template),
        multipart: None,
        stream: req.stream,
        timeout: inner.timeout,
        max_retries: req.max_retries.unwrap_or(inner.max_retries),
        replayable: req.op.method.is_idempotent(),
        on_headers: None,
        attempts: 0,
        paced: false,
    }
}

pub(super) fn prepare(inner: &ClientInner, req: Request) -> Result<Prepared> {
    let Request {
        op,
        path,
        query,
        body,
        options,
        invalid: invalid_message,
    } = req;
    if let Some(message) = invalid_message {
        return Err(invalid(op, message));
    }
    if let Some(message) = options.invalid {
        return Err(invalid(op, message));
    }
    if let Some(open) = path.find('{') {
        let name = path[open + 1..].split('}').next().unwrap_or_default();
        return Err(invalid(op, format!("missing path parameter `{name}`")));
    }
    let url = build_url(inner, op, &path, &query, options.extra_query_params())?;
    let body = build_body(op, body, options.extra_body_fields())?;
    let headers = build_headers(inner, op, body.content_type, &options)?;
    let replayable = op.method.is_idempotent() || headers.contains_key(IDEMPOTENCY_KEY);

    let mut template = reqwest::Request::new(op.method.to_reqwest(), url);
    *template.headers_mut() = headers;
    if let Some(bytes) = body.bytes {
        *template.body_mut() = Some(reqwest::Body::from(bytes));
    }

    Ok(Prepared {
        op,
        template: Some(template),
        multipart: body.multipart,
        stream: body.stream,
        timeout: options.timeout().unwrap_or(inner.timeout),
        max_retries: options.retry_limit().unwrap_or(inner.max_retries),
        replayable,
        on_headers: options.on_headers().cloned(),
        attempts: 0,
        paced: true,
    })
}

/// URL: base without trailing `/` + rendered path + query.
///
/// The client keeps its base URLs parsed: a request whose path and query hold only
/// characters that need no encoding (all generated ones) copies the base and sets its path
/// and query, which gives the URL a full parse would, without parsing scheme and host again
/// for every request. Anything else (a raw `rostro api` path) is parsed whole, as before.
fn build_url(
    inner: &ClientInner,
    op: &'static Operation,
    path: &str,
    query: &str,
    extra_query: &[(String, String)],
) -> Result<reqwest::Url> {
    let (base, base_url) = match op.base {
        Base::Api => (&inner.api_base, &inner.api_url),
        Base::Mimic => (&inner.mimic_base, &inner.mimic_url),
    };
    let extra_len: usize = extra_query.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    let mut full_query = String::new();
    if !extra_query.is_empty() {
        full_query.reserve(query.len() + extra_len);
        full_query.push_str(query);
        for (name, value) in extra_query {
            if !full_query.is_empty() {
                full_query.push('&');
            }
            full_query.extend(url::form_urlencoded::byte_serialize(name.as_bytes()));
            full_query.push('=');
            full_query.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
        }
    }
    let query = if extra_query.is_empty() {
        query
    } else {
        &full_query
    };
    if is_plain_path(path) && query.bytes().all(is_plain_byte) {
        let mut url = base_url.clone();
        let base_path = base_url.path().trim_end_matches('/');
        if base_path.is_empty() {
            url.set_path(path);
        } else {
            url.set_path(&format!("{base_path}{path}"));
        }
        url.set_query((!query.is_empty()).then_some(query));
        return Ok(url);
    }
    let mut url = String::with_capacity(base.len() + path.len() + query.len() + 1);
    url.push_str(base);
    url.push_str(path);
    if !query.is_empty() {
        url.push('?');
        url.push_str(query);
    }
    reqwest::Url::parse(&url).map_err(|e| invalid(op, format!("invalid url: {e}")))
}

/// Whether `path` is an absolute path that URL parsing leaves as it is: no dot segments to
/// resolve, nothing to percent-encode, no `?` or `#` to split on.
fn is_plain_path(path: &str) -> bool {
    (path.is_empty() || path.starts_with('/'))
        && !path.contains("/.")
        && path.bytes().all(|b| b != b'?' && is_plain_byte(b))
}

/// A byte that URL parsing copies unchanged into a path or a query of an http(s) URL
/// (unreserved, `%`, the sub-delimiters but `'`, which a query encodes, `:`, `@`, `/`). `?`
/// is plain in a query only; callers check paths for it.
fn is_plain_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'%'
                | b'!'
                | b'$'
                | b'&'
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'/'
                | b'?'
        )
}

/// Body, with extra fields merged into a top-level JSON object.
fn build_body(
    op: &'static Operation,
    body: Body,
    extra_body: &Map<String, Value>,
) -> Result<PreparedBody> {
    let json =
        |bytes: Vec<u8>| PreparedBody::bytes(Some(APPLICATION_JSON), Some(Bytes::from(bytes)));
    Ok(match body {
        Body::Empty if extra_body.is_empty() => PreparedBody::bytes(None, None),
        Body::Empty => json(
            serde_json::to_vec(extra_body)
                .map_err(|e| invalid(op, format!("could not serialize extra body fields: {e}")))?,
        ),
        Body::Json(bytes) if extra_body.is_empty() => {
            PreparedBody::bytes(Some(APPLICATION_JSON), Some(bytes))
        }
        Body::Json(bytes) => {
            json(crate::codec::merge_json_object(&bytes, extra_body).map_err(|m| invalid(op, m))?)
        }
        Body::Raw(_, _) if !extra_body.is_empty() => {
            return Err(invalid(
                op,
                "extra body fields cannot be added to a raw body".into(),
            ));
        }
        Body::Raw(ct, bytes) => PreparedBody::bytes(Some(ct), Some(bytes)),
        Body::Stream(..) if !extra_body.is_empty() => {
            return Err(invalid(
                op,
                "extra body fields cannot be added to a streamed body".into(),
            ));
        }
        Body::Stream(ct, open) => PreparedBody {
            stream: Some(open),
            ..PreparedBody::bytes(Some(ct), None)
        },
        Body::Multipart(parts) => multipart_body(parts, extra_body),
    })
}

/// A multipart body with the extra fields appended as text fields.
fn multipart_body(mut parts: Vec<(String, Part)>, extra_body: &Map<String, Value>) -> PreparedBody {
    for (name, value) in extra_body {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        parts.push((name.clone(), Part::Text(text)));
    }
    if parts.is_empty() {
        // reqwest sends an empty form as zero bytes, which is not a
        // multipart body; a form without fields still has its closing
        // delimiter (RFC 2046 section 5.1.1).
        PreparedBody::bytes(
            Some(HeaderValue::from_static(EMPTY_FORM_CONTENT_TYPE)),
            Some(Bytes::from_static(EMPTY_FORM_BODY)),
        )
    } else {
        PreparedBody {
            multipart: Some(parts),
            ..PreparedBody::bytes(None, None)
        }
    }
}

/// Headers: client defaults < content type < per-call headers < idempotency key.
fn build_headers(
    inner: &ClientInner,
    op: &'static Operation,
    content_type: Option<HeaderValue>,
    options: &RequestOptions,
) -> Result<HeaderMap> {
    let mut headers = inner.default_headers.clone();
    if let Some(ct) = content_type {
        headers.insert(header::CONTENT_TYPE, ct);
    }
    let mut last: Option<HeaderName> = None;
    for (name, value) in options.headers() {
        if last.as_ref() == Some(name) {
            headers.append(name.clone(), value.clone());
        } else {
            headers.insert(name.clone(), value.clone());
            last = Some(name.clone());
        }
    }
    let unsafe_method = matches!(op.method, HttpMethod::Post | HttpMethod::Patch);
    if let Some(key) = options.idempotency_key_value() {
        let value = HeaderValue::from_str(key)
            .map_err(|_| invalid(op, "invalid idempotency key".into()))?;
        headers.insert(IDEMPOTENCY_KEY, value);
    } else if unsafe_method
        && options
            .idempotent_retries_override()
            .unwrap_or(inner.idempotent_posts)
        && !headers.contains_key(IDEMPOTENCY_KEY)
    {
        let mut buf = uuid::Uuid::encode_buffer();
        let key = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
        if let Ok(value) = HeaderValue::from_str(key) {
            headers.insert(IDEMPOTENCY_KEY, value);
        }
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Client;

    static OP: Operation = Operation {
        id: "t",
        method: HttpMethod::Get,
        path: "/t",
        base: Base::Api,
    };

    /// The copied-base URL is the one a full parse of base + path + query gives, and the
    /// paths and queries it does not take still come out as a full parse makes them.
    #[test]
    fn urls_match_a_full_parse() {
        let extra = [("k y".to_owned(), "v&w".to_owned())];
        for base in [
            "http://127.0.0.1:8080",
            "https://host.example/chub/mymodel/",
            "https://host.example:8443/a%20b",
        ] {
            let client = Client::builder().base_url(base).build().unwrap();
            let inner = &*client.inner;
            for (path, query) in [
                ("/v1/models", ""),
                ("/api/x/a%2Fb", "first=5&search=a+b%26c"),
                ("", ""),
                ("/a/./b/../c", ""),
                ("/a b/é", "q='1'"),
                ("/x?y=1", "z=2#frag"),
                ("/x", "a=1?b:c@d/e"),
            ] {
                for extra in [&[][..], &extra[..]] {
                    let mut whole = format!("{}{path}", inner.api_base);
                    let mut sep = '?';
                    if !query.is_empty() {
                        whole.push_str(&format!("?{query}"));
                        sep = '&';
                    }
                    if !extra.is_empty() {
                        whole.push_str(&format!("{sep}k+y=v%26w"));
                    }
                    let expected = reqwest::Url::parse(&whole).unwrap();
                    let got = build_url(inner, &OP, path, query, extra).unwrap();
                    assert_eq!(got.as_str(), expected.as_str(), "{base} {path} {query}");
                }
            }
        }
    }
}
