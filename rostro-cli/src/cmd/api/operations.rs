//! `rostro api operations`: every operation with its method, path, SDK method and command.

use rostro_sdk::OperationId;
use rostro_sdk::request::{Base, ParamLocation};
use serde_json::{Value, json};

use super::OperationsArgs;
use crate::ctx::Ctx;
use crate::exit::CliResult;
use crate::ops::{self, Placement};
use crate::util;

/// Runs `rostro api operations`.
pub(super) fn run(ctx: &Ctx, o: OperationsArgs) -> CliResult {
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
    super::super::print_list(
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
