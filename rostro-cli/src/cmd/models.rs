//! `rostro models`: the models available for chat (`GET /v1/models` on the mimic base URL).

use clap::Args;

use crate::ctx::Ctx;
use crate::exit::CliResult;
use crate::util::{first_of, items_of, s};

/// `rostro models`
#[derive(Debug, Args)]
pub struct ModelsArgs {}

/// Runs `rostro models`.
pub fn run(ctx: &Ctx, _a: ModelsArgs) -> CliResult {
    let v = ctx.block_on(async {
        let s = ctx.session(false).await?;
        s.json(s.client.models().list().into_request()?).await
    })?;
    let items = items_of(&v, &["data", "models"]);
    super::print_list(
        ctx,
        &items,
        &[
            ("ID", &|v| s(v, "id")),
            ("OWNED BY", &|v| s(v, "owned_by")),
            ("CONTEXT", &|v| {
                first_of(v, &["context_length", "max_context_length"])
            }),
        ],
    )
}
