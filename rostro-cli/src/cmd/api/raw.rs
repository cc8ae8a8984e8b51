//! `rostro api [METHOD] PATH`: the raw escape hatch (like `gh api`), with pagination and
//! Routstr payment.

use rostro_sdk::request::{Base, HttpMethod, Operation, Request};
use rostro_sdk::routstr::PayWith;
use rostro_sdk::{CallOptions as _, OperationId};
use serde_json::{Map, Value};

use super::body::{BuiltBody, apply_body, body_clone, build_body, check_json_input};
use super::send::send_and_print;
use super::{ApiArgs, parse_method};
use crate::ctx::{Ctx, NodeAuth};
use crate::exit::{CliError, CliResult};
use crate::routstr::Payment;

/// The most pages `--paginate` follows (a server that always offers another page must not
/// keep the command running forever).
const MAX_PAGES: usize = 1000;

/// Runs `rostro api [METHOD] PATH`.
pub(super) fn run(ctx: &Ctx, a: ApiArgs) -> CliResult {
    // The token is checked (and --change-out opened) before anything else happens.
    if a.pay.pay_with.is_some() {
        ctx.require_routstr("--pay-with")?;
    }
    let mut payment = Payment::from_args(&a.pay)?;
    let (method, path) = method_and_path(&a)?;
    let (path_only, query) = match path.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (path.clone(), None),
    };
    let (id, base) = match match_operation(method, &path_only) {
        Some(op) => (op.operation().id, op.operation().base),
        None => ("api", Base::Api),
    };
    let body = build_body(&a.body)?;
    check_json_input(&body, a.body.input.as_deref(), &a.headers, a.body.raw_body)?;
    // GET/DELETE/HEAD: fields go into the query string.
    let (query_fields, body) = match (method, body) {
        (
            HttpMethod::Get | HttpMethod::Delete | HttpMethod::Head,
            BuiltBody::Json(Value::Object(m)),
        ) => (Some(m), BuiltBody::None),
        (_, b) => (None, b),
    };
    let pages = Pages {
        op: leak_operation(id, method, path_only, base),
        query,
        query_fields,
        body,
        headers: &a.headers,
    };
    let settled = payment.as_ref().map(Payment::settled_flag);
    let profile = ctx.profile_name()?;
    let result = ctx.block_on(crate::routstr::paid_with_ctrl_c(
        &ctx.out,
        settled,
        send_pages(ctx, &a, &pages, payment.as_mut()),
    ));
    if let (Some(p), Err(e)) = (&payment, &result) {
        p.report_failure(ctx, e, &profile, true)?;
    }
    result?;
    match &payment {
        Some(p) => p.finish(),
        None => Ok(()),
    }
}

/// The method and the path (with a leading `/`) from `[METHOD] PATH`. A method without a
/// path is a usage error, not a request to the path `/GET`.
fn method_and_path(a: &ApiArgs) -> CliResult<(HttpMethod, String)> {
    let (method, path) = match (&a.first, &a.path) {
        (Some(m), Some(p)) => (
            parse_method(m).ok_or_else(|| CliError::usage(format!("unknown HTTP method `{m}`")))?,
            p.clone(),
        ),
        (Some(m), None) if parse_method(m).is_some() && !m.contains('/') => {
            return Err(CliError::usage(format!(
                "`{m}` is a method: give the PATH after it, e.g. `rostro api {m} /api/account`\n\n{}",
                api_usage()
            )));
        }
        (Some(p), None) => {
            let has_body = a.body.input.is_some()
                || !a.body.fields.is_empty()
                || !a.body.raw_fields.is_empty();
            // Like gh: GET, or POST when fields or an input body are given.
            let m = if has_body {
                HttpMethod::Post
            } else {
                HttpMethod::Get
            };
            (m, p.clone())
        }
        _ => {
            return Err(CliError::usage(format!(
                "give a PATH, e.g. `rostro api /api/account`\n\n{}",
                api_usage()
            )));
        }
    };
    let path = if path.starts_with('/') {
        path
    } else {
        format!("/{path}")
    };
    Ok((method, path))
}

/// `rostro api`'s usage lines, as clap prints them.
fn api_usage() -> String {
    let mut cmd = crate::cli::command();
    cmd.build();
    match cmd.find_subcommand_mut("api") {
        Some(api) => api.render_usage().to_string(),
        None => String::new(),
    }
    .trim_end()
    .to_owned()
}

/// What every page's request is built from.
struct Pages<'a> {
    op: &'static Operation,
    /// The query string given with the path.
    query: Option<String>,
    /// `-f`/`-F` fields of a GET/DELETE/HEAD, sent as query parameters.
    query_fields: Option<Map<String, Value>>,
    body: BuiltBody,
    headers: &'a [String],
}

impl Pages<'_> {
    /// The request for one page: `cursor` or `page` (when following pages) replace the ones
    /// given.
    fn request(&self, cursor: Option<&str>, page: Option<i64>) -> CliResult<Request> {
        let mut req = Request::new(self.op);
        let replaced =
            |k: &str| (cursor.is_some() && k == "cursor") || (page.is_some() && k == "page");
        if let Some(q) = &self.query {
            for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
                if !replaced(&k) {
                    req.query(&k, v);
                }
            }
        }
        for (k, v) in self.query_fields.iter().flatten() {
            if replaced(k) {
                continue;
            }
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            req.query(k, v);
        }
        let mut body = body_clone(&self.body);
        if let Some(c) = cursor {
            match &mut body {
                BuiltBody::Json(Value::Object(m)) => {
                    m.insert("cursor".into(), Value::String(c.to_owned()));
                }
                _ => req.query("cursor", c.to_owned()),
            }
        }
        if let Some(p) = page {
            req.query("page", p.to_string());
        }
        apply_body(&mut req, &body, self.headers)?;
        Ok(req)
    }
}

/// Sends the request, and with `--paginate` every next page, printing each.
async fn send_pages(
    ctx: &Ctx,
    a: &ApiArgs,
    pages: &Pages<'_>,
    mut payment: Option<&mut Payment>,
) -> CliResult {
    let s = match &payment {
        Some(_) => ctx.node_session(NodeAuth::Anonymous).await?,
        None => ctx.session(false).await?,
    };
    let mut cursor: Option<String> = None;
    let mut page: Option<i64> = None;
    let mut sent = 0usize;
    loop {
        let mut req = pages.request(cursor.as_deref(), page)?;
        if let Some(p) = &payment {
            // The change is written as soon as the headers arrive, before the body.
            req = req
                .pay_with(p.token.expose())
                .on_response_headers(p.headers_hook());
        }
        let include = a.include && sent == 0;
        let value = send_and_print(ctx, &s, req, include, payment.as_deref_mut()).await?;
        sent += 1;
        if !a.paginate || sent >= MAX_PAGES {
            return Ok(());
        }
        let Some(v) = value else { return Ok(()) };
        match next_page(&v, page) {
            Next::Cursor(c) => cursor = Some(c),
            Next::Page(p) => page = Some(p),
            Next::Done => return Ok(()),
        }
    }
}

/// The operation whose template matches `path` best (most literal segments).
fn match_operation(method: HttpMethod, path: &str) -> Option<OperationId> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut best: Option<(usize, OperationId)> = None;
    for op in OperationId::ALL {
        let o = op.operation();
        if o.method != method {
            continue;
        }
        let t: Vec<&str> = o.path.trim_matches('/').split('/').collect();
        if t.len() != segs.len() {
            continue;
        }
        let mut literal = 0;
        let ok = t.iter().zip(&segs).all(|(a, b)| {
            if a.starts_with('{') && a.ends_with('}') {
                !b.is_empty()
            } else {
                literal += 1;
                a == b
            }
        });
        if ok && best.is_none_or(|(n, _)| literal > n) {
            best = Some((literal, *op));
        }
    }
    best.map(|b| b.1)
}

fn leak_operation(
    id: &'static str,
    method: HttpMethod,
    path: String,
    base: Base,
) -> &'static Operation {
    Box::leak(Box::new(Operation {
        id,
        method,
        path: Box::leak(path.into_boxed_str()),
        base,
    }))
}

enum Next {
    Cursor(String),
    Page(i64),
    Done,
}

/// Where the next page is: a non-empty `cursor` (top level or under `data`), else
/// `page` < `pages`.
fn next_page(v: &Value, current: Option<i64>) -> Next {
    let scope = if v.get("cursor").is_none() {
        v.get("data").unwrap_or(v)
    } else {
        v
    };
    if let Some(c) = scope.get("cursor").and_then(Value::as_str) {
        if !c.is_empty() {
            return Next::Cursor(c.to_owned());
        }
        return Next::Done;
    }
    let page = scope.get("page").and_then(Value::as_i64).or(current);
    let pages = scope.get("pages").and_then(Value::as_i64);
    match (page, pages) {
        (Some(p), Some(n)) if p < n => Next::Page(p + 1),
        _ => Next::Done,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_templates_preferring_literals() {
        assert_eq!(
            match_operation(HttpMethod::Get, "/api/account"),
            Some(OperationId::AccountGet)
        );
        assert_eq!(
            match_operation(HttpMethod::Post, "/imagine/check"),
            Some(OperationId::ImagineCheck)
        );
        assert_eq!(
            match_operation(HttpMethod::Delete, "/api/gallery/abc"),
            Some(OperationId::GalleryDelete)
        );
        assert_eq!(
            match_operation(HttpMethod::Get, "/no/such/thing/here"),
            None
        );
    }

    #[test]
    fn pagination() {
        assert!(matches!(
            next_page(&json!({"cursor": "abc"}), None),
            Next::Cursor(c) if c == "abc"
        ));
        assert!(matches!(
            next_page(&json!({"cursor": null}), None),
            Next::Done
        ));
        assert!(matches!(
            next_page(&json!({"data": {"cursor": "x"}}), None),
            Next::Cursor(_)
        ));
        assert!(matches!(
            next_page(&json!({"page": 1, "pages": 3}), None),
            Next::Page(2)
        ));
        assert!(matches!(
            next_page(&json!({"page": 3, "pages": 3}), None),
            Next::Done
        ));
    }
}
