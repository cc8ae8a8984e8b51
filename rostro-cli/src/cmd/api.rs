//! `rostro api`: the raw escape hatch (like `gh api`), `rostro api call OPERATION_ID` for
//! any of the API's operations by id, and `rostro api operations` to list them.

use clap::{Args, Subcommand};
use rostro_sdk::request::{Base, FilePart, HttpMethod, Operation, ParamLocation, Part, Request};
use rostro_sdk::{CallOptions as _, OperationId};
use serde_json::{Map, Value, json};

use rostro_sdk::routstr::{PayWith, RoutstrMeta};

use crate::ctx::{Ctx, NodeAuth, Session};
use crate::exit::{CliError, CliResult};
use crate::ops::{self, Placement};
use crate::routstr::{PayArgs, Payment};
use crate::util;

/// `rostro api`
#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Examples:
  rostro api /api/account
  rostro api GET '/search?first=5' --jq '.nodes[].name'
  rostro api POST /imagine -f prompt='a red fox' -f generation_type=text_to_image
  rostro api POST /api/gallery/upload -F project_id=42 -f image=@pic.b64
  rostro api POST /lore/item --form -F file=@notes.txt
  rostro api GET /search --paginate -f first=50 --jq '.nodes[].id'
  rostro api call search_projects --search dragons --first 3
  rostro api call imagine.check --body check.json
  rostro api operations --jq 'select(.cli == \"api call\") | .id'
  rostro --profile node api GET /v1/balance/info          # a Routstr profile: the node
  rostro --profile node api POST /v1/chat/completions --input req.json --pay-with @token.txt"
)]
pub struct ApiArgs {
    #[command(subcommand)]
    sub: Option<ApiSub>,
    /// HTTP method, or the path when no method is given (default GET, or POST with fields)
    #[arg(value_name = "METHOD|PATH")]
    first: Option<String>,
    /// The path, e.g. `/api/account` (a query string is allowed)
    #[arg(value_name = "PATH")]
    path: Option<String>,
    #[command(flatten)]
    body: BodyArgs,
    /// Add a request header (`Name: value`; repeatable)
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    headers: Vec<String>,
    /// Follow `cursor` / `page` pagination and print every page
    #[arg(long, conflicts_with = "pay_with")]
    paginate: bool,
    /// Print the response status and headers before the body
    #[arg(short, long)]
    include: bool,
    /// Routstr payment for the request.
    #[command(flatten)]
    pay: PayArgs,
}

/// Body-building flags shared by `api` and `api call`.
#[derive(Debug, Args, Default)]
pub struct BodyArgs {
    /// A string field (`key=value`; `key=@file` reads a file; `a.b=` and `tags[]=` nest)
    #[arg(short = 'f', long = "raw-field", value_name = "KEY=VALUE")]
    raw_fields: Vec<String>,
    /// A typed field: true/false/null/numbers become JSON scalars, `@file` reads a file
    #[arg(short = 'F', long = "field", value_name = "KEY=VALUE")]
    fields: Vec<String>,
    /// The request body from a file, or `-` for stdin. Sent as JSON unless -H Content-Type
    /// says otherwise, and then checked first: invalid JSON fails (exit 2) with its line and
    /// column, nothing sent
    #[arg(long, value_name = "FILE|-", conflicts_with_all = ["raw_fields", "fields"])]
    input: Option<String>,
    /// Send the --input bytes unchecked even under a JSON content type
    #[arg(long, requires = "input")]
    raw_body: bool,
    /// Send the fields as multipart/form-data (`@file` values become file parts)
    #[arg(long)]
    form: bool,
}

#[derive(Debug, Subcommand)]
enum ApiSub {
    /// Call an operation by its id (`search_projects`), `group.method` (`search.list`) or name
    Call(CallArgs),
    /// List all operations: id, method, path, SDK method and CLI command
    Operations(OperationsArgs),
}

#[derive(Debug, Args)]
#[command(
    after_help = "Parameters: `--NAME VALUE` or `--NAME=VALUE` fills the path parameter NAME \
when the path has one, else adds the query parameter NAME. Body: --body FILE|- (checked to be \
JSON; --raw-body sends it unchecked), or -f/-F fields."
)]
struct CallArgs {
    /// The operation
    operation: String,
    /// Parameters (`--NAME VALUE`), body flags (`--body FILE|-`, `-f k=v`, `-F k=v`, `--form`)
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    rest: Vec<String>,
}

#[derive(Debug, Args)]
struct OperationsArgs {
    /// Only operations without a dedicated command
    #[arg(long)]
    api_only: bool,
}

/// Runs `rostro api`.
pub fn run(ctx: &Ctx, a: ApiArgs) -> CliResult {
    match a.sub {
        Some(ApiSub::Call(c)) => call(ctx, c),
        Some(ApiSub::Operations(o)) => operations(ctx, o),
        None => raw(ctx, a),
    }
}

fn parse_method(m: &str) -> Option<HttpMethod> {
    Some(match m.to_ascii_uppercase().as_str() {
        "GET" => HttpMethod::Get,
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "PATCH" => HttpMethod::Patch,
        "DELETE" => HttpMethod::Delete,
        "HEAD" => HttpMethod::Head,
        _ => return None,
    })
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

/// A body built from the flags.
enum BuiltBody {
    None,
    Json(Value),
    Raw(Vec<u8>),
    Form(Vec<(String, Part)>),
}

fn build_body(b: &BodyArgs) -> CliResult<BuiltBody> {
    if let Some(input) = &b.input {
        return Ok(BuiltBody::Raw(util::read_input(input)?));
    }
    if b.raw_fields.is_empty() && b.fields.is_empty() {
        return Ok(BuiltBody::None);
    }
    if b.form {
        let mut parts = Vec::new();
        for f in b.raw_fields.iter().chain(&b.fields) {
            let (k, v) = util::split_kv(f)?;
            match v.strip_prefix('@') {
                Some(path) if path != "-" => {
                    if !std::path::Path::new(path).is_file() {
                        return Err(CliError::usage(format!("{path}: no such file")));
                    }
                    parts.push((k.to_owned(), Part::File(FilePart::from_path(path))));
                }
                Some(_) => parts.push((k.to_owned(), Part::text(util::read_text("-")?))),
                None => parts.push((k.to_owned(), Part::text(v))),
            }
        }
        return Ok(BuiltBody::Form(parts));
    }
    let mut obj = Map::new();
    for f in &b.raw_fields {
        let (k, v) = util::split_kv(f)?;
        let v = match v.strip_prefix('@') {
            Some(path) => Value::String(util::read_text(path)?),
            None => Value::String(v.to_owned()),
        };
        util::set_path(&mut obj, k, v);
    }
    for f in &b.fields {
        let (k, v) = util::split_kv(f)?;
        util::set_path(&mut obj, k, util::typed_value(v)?);
    }
    Ok(BuiltBody::Json(Value::Object(obj)))
}

/// The content type of an `--input` body: the one given with `-H`, else JSON.
fn input_content_type(headers: &[String]) -> String {
    headers
        .iter()
        .filter_map(|h| h.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_else(|| "application/json".to_owned())
}

/// `application/json`, `application/vnd.x+json`, with or without parameters.
fn is_json_type(ct: &str) -> bool {
    let media = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    media == "application/json" || media.ends_with("+json")
}

/// An `--input` / `--body` sent as JSON must be JSON: checked before anything is sent, so a
/// broken file fails here with its position instead of reaching the server. `--raw-body` (or
/// a non-JSON `-H Content-Type`) sends the bytes as they are.
fn check_json_input(
    body: &BuiltBody,
    source: Option<&str>,
    headers: &[String],
    raw: bool,
) -> CliResult {
    let BuiltBody::Raw(bytes) = body else {
        return Ok(());
    };
    if raw || !is_json_type(&input_content_type(headers)) {
        return Ok(());
    }
    match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        Ok(_) => Ok(()),
        Err(e) => {
            let name = match source {
                None | Some("-") => "stdin",
                Some(f) => f,
            };
            Err(CliError::usage(format!(
                "{name} is not valid JSON (line {}, column {}): {}; nothing was sent (send it \
                 unchecked with --raw-body, or give its type with -H 'Content-Type: ...')",
                e.line(),
                e.column(),
                json_reason(&e)
            )))
        }
    }
}

/// serde_json's message without its trailing ` at line L column C`.
fn json_reason(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let tail = format!(" at line {} column {}", e.line(), e.column());
    full.strip_suffix(&tail).unwrap_or(&full).to_owned()
}

fn apply_body(req: &mut Request, body: &BuiltBody, headers: &[String]) -> CliResult {
    match body {
        BuiltBody::None => {}
        BuiltBody::Json(v) => req.json_body(v)?,
        BuiltBody::Raw(bytes) => {
            let ct = input_content_type(headers);
            req.raw_body(&ct, bytes::Bytes::from(bytes.clone()));
        }
        BuiltBody::Form(parts) => req.multipart(parts.clone()),
    }
    for h in headers {
        let (n, v) = h
            .split_once(':')
            .ok_or_else(|| CliError::usage(format!("expected `Name: value`, got `{h}`")))?;
        if matches!(body, BuiltBody::Raw(_)) && n.trim().eq_ignore_ascii_case("content-type") {
            continue;
        }
        req.header(n.trim(), v.trim());
    }
    Ok(())
}

fn raw(ctx: &Ctx, a: ApiArgs) -> CliResult {
    // The token is checked (and --change-out opened) before anything else happens.
    if a.pay.pay_with.is_some() {
        ctx.require_routstr("--pay-with")?;
    }
    let mut payment = Payment::from_args(&a.pay)?;
    let (method, path) = match (&a.first, &a.path) {
        (Some(m), Some(p)) => (
            parse_method(m).ok_or_else(|| CliError::usage(format!("unknown HTTP method `{m}`")))?,
            p.clone(),
        ),
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
            return Err(CliError::usage(
                "give a PATH, e.g. `rostro api /api/account`",
            ));
        }
    };
    let path = if path.starts_with('/') {
        path
    } else {
        format!("/{path}")
    };
    let (path_only, query) = match path.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (path.clone(), None),
    };
    let matched = match_operation(method, &path_only);
    let (id, base) = match matched {
        Some(op) => (op.operation().id, op.operation().base),
        None => ("api", Base::Api),
    };
    let op = leak_operation(id, method, path_only, base);
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
    let settled = payment.as_ref().map(Payment::settled_flag);
    let profile = ctx.profile_name()?;
    let result = ctx.block_on(crate::routstr::paid_with_ctrl_c(&ctx.out, settled, async {
        let s = match &payment {
            Some(_) => ctx.node_session(NodeAuth::Anonymous).await?,
            None => ctx.session(false).await?,
        };
        let mut cursor: Option<String> = None;
        let mut page: Option<i64> = None;
        let mut pages = 0usize;
        loop {
            let mut req = Request::new(op);
            if let Some(q) = &query {
                for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
                    if (cursor.is_some() && k == "cursor") || (page.is_some() && k == "page") {
                        continue;
                    }
                    req.query(&k, v);
                }
            }
            if let Some(m) = &query_fields {
                for (k, v) in m {
                    if (cursor.is_some() && k == "cursor") || (page.is_some() && k == "page") {
                        continue;
                    }
                    let v = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    req.query(k, v);
                }
            }
            let mut body_now = body_clone(&body);
            if let Some(c) = &cursor {
                match &mut body_now {
                    BuiltBody::Json(Value::Object(m)) => {
                        m.insert("cursor".into(), Value::String(c.clone()));
                    }
                    _ => req.query("cursor", c.clone()),
                }
            }
            if let Some(p) = page {
                req.query("page", p.to_string());
            }
            apply_body(&mut req, &body_now, &a.headers)?;
            if let Some(p) = &payment {
                // The change is written as soon as the headers arrive, before the body.
                req = req
                    .pay_with(p.token.expose())
                    .on_response_headers(p.headers_hook());
            }
            let value =
                send_and_print(ctx, &s, req, a.include && pages == 0, payment.as_mut()).await?;
            pages += 1;
            if !a.paginate || pages >= 1000 {
                break;
            }
            let Some(v) = value else { break };
            match next_page(&v, page) {
                Next::Cursor(c) => cursor = Some(c),
                Next::Page(p) => page = Some(p),
                Next::Done => break,
            }
        }
        Ok(())
    }));
    if let (Some(p), Err(e)) = (&payment, &result) {
        p.report_failure(ctx, e, &profile, true)?;
    }
    result?;
    match &payment {
        Some(p) => p.finish(),
        None => Ok(()),
    }
}

fn body_clone(b: &BuiltBody) -> BuiltBody {
    match b {
        BuiltBody::None => BuiltBody::None,
        BuiltBody::Json(v) => BuiltBody::Json(v.clone()),
        BuiltBody::Raw(r) => BuiltBody::Raw(r.clone()),
        BuiltBody::Form(p) => BuiltBody::Form(p.clone()),
    }
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

/// Sends a request and prints the body (JSON pretty/filtered, anything else as bytes).
/// Returns the JSON value, if the body was JSON. A paid request keeps its change (response
/// header `X-Cashu`, also on errors) before the body is read.
async fn send_and_print(
    ctx: &Ctx,
    s: &Session,
    req: Request,
    include: bool,
    pay: Option<&mut Payment>,
) -> CliResult<Option<Value>> {
    let resp = match s.raw(req).await {
        Ok(r) => r,
        Err(e) => {
            if let (Some(p), CliError::Sdk(se) | CliError::Routstr(se)) = (pay, &e) {
                p.keep_from_error(&ctx.out, se);
            }
            return Err(e);
        }
    };
    let mut pay_seen = None;
    if let Some(p) = pay {
        let meta = RoutstrMeta::from_headers(resp.headers());
        p.keep(&ctx.out, meta.change_token.as_ref());
        pay_seen = Some(&*p);
    }
    if include {
        let mut head = format!("{:?} {}\n", resp.version(), resp.status());
        for (k, v) in resp.headers() {
            head.push_str(&format!("{k}: {}\n", v.to_str().unwrap_or("<binary>")));
        }
        ctx.out.line(&head)?;
    }
    let is_json = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json"));
    let bytes = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => {
            if let Some(p) = &pay_seen {
                p.mark_reply_lost();
            }
            return Err(CliError::msg(format!("reading the response: {e}")));
        }
    };
    if bytes.is_empty() {
        return Ok(None);
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) if is_json || !ctx.out.stdout_tty || ctx.out.json => {
            ctx.out.json_value(&v)?;
            Ok(Some(v))
        }
        Ok(v) => {
            ctx.out.json_value(&v)?;
            Ok(Some(v))
        }
        Err(e) if is_json && pay_seen.is_some() => {
            // A paid reply cut short (e.g. a body longer than its content-length): keep
            // what arrived and say so.
            if let Some(p) = pay_seen {
                p.mark_reply_lost();
            }
            ctx.out.bytes(&bytes)?;
            Err(CliError::msg(format!(
                "the node's reply is not the JSON it announced ({e}); what arrived was printed"
            )))
        }
        Err(_) => {
            if ctx.out.json {
                return Err(CliError::msg(
                    "the response is not JSON; drop --json / --jq",
                ));
            }
            ctx.out.bytes(&bytes)?;
            Ok(None)
        }
    }
}

/// Parsed `api call` arguments.
#[derive(Debug, Default)]
struct CallParams {
    params: Vec<(String, String)>,
    body: BodyArgs,
    body_file: Option<String>,
}

/// Global options, which `api call` cannot take after the operation id (everything there is
/// a parameter).
const GLOBAL_FLAGS: &[&str] = &[
    "jq",
    "json",
    "verbose",
    "no-color",
    "timeout",
    "retries",
    "idempotent",
    "profile",
    "base-url",
    "mock",
];

fn parse_call_args(rest: &[String]) -> CliResult<CallParams> {
    let mut out = CallParams::default();
    let mut it = rest.iter().peekable();
    while let Some(arg) = it.next() {
        let mut take_value = |name: &str| -> CliResult<String> {
            it.next()
                .cloned()
                .ok_or_else(|| CliError::usage(format!("{name} needs a value")))
        };
        if let Some(v) = arg.strip_prefix("--body=") {
            out.body_file = Some(v.to_owned());
        } else if arg == "--body" || arg == "--input" {
            out.body_file = Some(take_value(arg)?);
        } else if arg == "-f" || arg == "--raw-field" {
            out.body.raw_fields.push(take_value(arg)?);
        } else if arg == "-F" || arg == "--field" {
            out.body.fields.push(take_value(arg)?);
        } else if arg == "--form" {
            out.body.form = true;
        } else if arg == "--raw-body" {
            out.body.raw_body = true;
        } else if let Some(name) = arg.strip_prefix("--") {
            if name.is_empty() {
                continue;
            }
            let flag = name.split('=').next().unwrap_or(name);
            if GLOBAL_FLAGS.contains(&flag) {
                return Err(CliError::usage(format!(
                    "--{flag} is a global option: put it before the operation id, e.g. \
                     `rostro api call --{flag} ... OPERATION_ID --param value`"
                )));
            }
            match name.split_once('=') {
                Some((k, v)) => out.params.push((k.to_owned(), v.to_owned())),
                None => {
                    let v = take_value(arg)?;
                    out.params.push((name.to_owned(), v));
                }
            }
        } else if let Some((k, v)) = arg.split_once('=') {
            out.params.push((k.to_owned(), v.to_owned()));
        } else {
            return Err(CliError::usage(format!(
                "unexpected argument `{arg}`: use --NAME VALUE for parameters"
            )));
        }
    }
    Ok(out)
}

fn call(ctx: &Ctx, c: CallArgs) -> CliResult {
    let op = ops::find(&c.operation).ok_or_else(|| {
        CliError::usage(format!(
            "unknown operation `{}`; list them with `rostro api operations`",
            c.operation
        ))
    })?;
    let spec = op.operation();
    let parsed = parse_call_args(&c.rest)?;
    let mut req = Request::new(spec);
    let declared = op.parameters();
    // Names are checked against the spec, so a typo is a usage error, not a silent extra
    // query parameter.
    for (k, _) in &parsed.params {
        if !declared.iter().any(|p| p.name == k) {
            let known: Vec<String> = declared.iter().map(|p| format!("--{}", p.name)).collect();
            return Err(CliError::usage(format!(
                "{} has no parameter `{k}`; it takes: {}",
                spec.id,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(" ")
                }
            )));
        }
    }
    let missing: Vec<String> = declared
        .iter()
        .filter(|p| p.required && !parsed.params.iter().any(|(k, _)| k == p.name))
        .map(|p| format!("--{}", p.name))
        .collect();
    if !missing.is_empty() {
        return Err(CliError::usage(format!(
            "{} needs the parameter(s): {}",
            spec.id,
            missing.join(" ")
        )));
    }
    for (k, v) in &parsed.params {
        match declared.iter().find(|p| p.name == k).map(|p| p.location) {
            Some(ParamLocation::Path) => req.path_param(k, v),
            _ => req.query(k, v.clone()),
        }
    }
    let body = match &parsed.body_file {
        Some(f) => build_body(&BodyArgs {
            input: Some(f.clone()),
            ..BodyArgs::default()
        })?,
        None => build_body(&parsed.body)?,
    };
    if parsed.body.raw_body && parsed.body_file.is_none() {
        return Err(CliError::usage("--raw-body applies to --body FILE|-"));
    }
    check_json_input(
        &body,
        parsed.body_file.as_deref(),
        &[],
        parsed.body.raw_body,
    )?;
    apply_body(&mut req, &body, &[])?;
    ctx.block_on(async {
        let s = ctx.session(false).await?;
        send_and_print(ctx, &s, req, false, None).await?;
        Ok(())
    })
}

fn operations(ctx: &Ctx, o: OperationsArgs) -> CliResult {
    let rows: Vec<Value> = OperationId::ALL
        .iter()
        .filter(|op| !o.api_only || ops::placement(**op) == Placement::ApiOnly)
        .map(|op| {
            let spec = op.operation();
            let (g, m) = op.group_and_method();
            json!({
                "id": spec.id,
                "method": spec.method.as_str(),
                "path": spec.path,
                "base": match spec.base { Base::Api => "api", Base::Mimic => "mimic" },
                "sdk": format!("{g}.{m}"),
                "params": op.parameters().iter().map(|p| json!({
                    "name": p.name,
                    "in": match p.location { ParamLocation::Path => "path", ParamLocation::Query => "query" },
                    "required": p.required,
                })).collect::<Vec<_>>(),
                "cli": ops::placement(*op).label(),
            })
        })
        .collect();
    super::print_list(
        ctx,
        &rows,
        &[
            ("SDK", &|v| util::s(v, "sdk")),
            ("METHOD", &|v| util::s(v, "method")),
            ("PATH", &|v| util::s(v, "path")),
            ("COMMAND", &|v| util::s(v, "cli")),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn call_args() {
        let p = parse_call_args(&[
            "--project_id".into(),
            "42".into(),
            "--page=2".into(),
            "--body".into(),
            "b.json".into(),
            "q=1".into(),
        ])
        .unwrap();
        assert_eq!(
            p.params,
            vec![
                ("project_id".into(), "42".into()),
                ("page".into(), "2".into()),
                ("q".into(), "1".into())
            ]
        );
        assert_eq!(p.body_file.as_deref(), Some("b.json"));
        assert!(parse_call_args(&["--x".into()]).is_err());
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
