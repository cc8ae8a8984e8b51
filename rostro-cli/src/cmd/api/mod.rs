//! `rostro api`: the raw escape hatch (like `gh api`), `rostro api call OPERATION_ID` for
//! any of the API's operations by id, and `rostro api operations` to list them.

mod body;
mod call;
mod operations;
mod raw;
mod send;

use clap::{Args, Subcommand};
use rostro_sdk::request::HttpMethod;

use crate::ctx::Ctx;
use crate::exit::CliResult;
use crate::routstr::PayArgs;

pub use call::lift_globals;

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

impl ApiArgs {
    /// The arguments after `api call OPERATION_ID`, when that is the command.
    pub fn call_rest(&self) -> Option<&[String]> {
        match &self.sub {
            Some(ApiSub::Call(c)) => Some(&c.rest),
            _ => None,
        }
    }
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
        Some(ApiSub::Call(c)) => call::run(ctx, c),
        Some(ApiSub::Operations(o)) => operations::run(ctx, o),
        None => raw::run(ctx, a),
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
