//! `imagine history`: past generations.

use clap::Args;
use futures::TryStreamExt;
use rostro_sdk::types;
use serde_json::Value;

use crate::ctx::Ctx;
use crate::exit::{CliError, CliResult};
use crate::util::{self, first_of};

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
        let items: Vec<types::ImaginedItem> = b.stream_limit(a.limit).try_collect().await?;
        items
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(CliError::from)
    })?;
    let done = |v: &Value| v.get("is_done").and_then(Value::as_bool) == Some(true);
    let failed = |v: &Value| v.get("is_failed").and_then(Value::as_bool) == Some(true);
    crate::cmd::print_list(
        ctx,
        &items,
        &[
            ("UUID", &|v| first_of(v, &["uuid", "generation_uuid"])),
            ("TYPE", &|v| {
                v.get("prompt")
                    .and_then(|p| p.get("generation_type"))
                    .and_then(Value::as_str)
                    .unwrap_or("upload")
                    .to_owned()
            }),
            ("STATUS", &|v| {
                if failed(v) {
                    "failed".into()
                } else if done(v) {
                    "done".into()
                } else {
                    "running".into()
                }
            }),
            ("PROMPT", &|v| {
                v.get("prompt")
                    .and_then(|p| p.get("prompt"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            }),
            ("URL", &|v| util::s(v, "primary_media_url")),
        ],
    )
}
