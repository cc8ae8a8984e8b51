//! `imagine history`: past generations.

use clap::Args;
use futures::TryStreamExt;
use rostro_sdk::types::{self, ImaginedItem};
use serde_json::Value;

use crate::cmd::cell;
use crate::ctx::Ctx;
use crate::exit::{CliError, CliResult};

/// `imagine history`
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// At most this many items
    #[arg(long, short = 'L', default_value_t = 20, allow_negative_numbers = true, value_parser = crate::util::positive::<usize>)]
    pub limit: usize,
    /// Only this type (repeatable): text_to_image, text_to_video, text_to_speech, ...
    #[arg(long = "type", value_parser = clap::builder::PossibleValuesParser::new(types::GenerationType::KNOWN))]
    pub types: Vec<String>,
    /// Oldest first
    #[arg(long)]
    pub asc: bool,
}

/// Runs `imagine history`.
pub(super) fn history(ctx: &Ctx, a: HistoryArgs) -> CliResult {
    let items = ctx.block_on(async {
        let s = ctx.session(true).await?;
        let mut b = s
            .client
            .imagine()
            .history()
            .first(a.limit.clamp(1, 100) as i64);
        if !a.types.is_empty() {
            b = b.media_types(
                a.types
                    .iter()
                    .map(|t| types::GenerationType::from(t.as_str()))
                    .collect(),
            );
        }
        if a.asc {
            b = b.asc(true);
        }
        let items: Vec<ImaginedItem> = b.stream_limit(a.limit).try_collect().await?;
        Ok::<_, CliError>(items)
    })?;
    if ctx.out.json {
        for it in &items {
            ctx.out.json_line(&serde_json::to_value(it)?)?;
        }
        return Ok(());
    }
    // `prompt` is the generation's request, an object the reference leaves open.
    let asked = |g: &ImaginedItem, key: &str| {
        g.prompt
            .as_ref()
            .and_then(|p| p.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    crate::cmd::print_table(
        ctx,
        &items,
        &[
            ("UUID", &|g: &ImaginedItem| {
                cell(&g.uuid.as_ref().or(g.generation_uuid.as_ref()))
            }),
            ("TYPE", &|g: &ImaginedItem| {
                asked(g, "generation_type").unwrap_or_else(|| "upload".into())
            }),
            ("STATUS", &|g: &ImaginedItem| {
                match (g.is_failed, g.is_done) {
                    (Some(true), _) => "failed",
                    (_, Some(true)) => "done",
                    _ => "running",
                }
                .to_owned()
            }),
            ("PROMPT", &|g: &ImaginedItem| {
                asked(g, "prompt").unwrap_or_default()
            }),
            ("URL", &|g: &ImaginedItem| cell(&g.primary_media_url)),
        ],
    )
}
