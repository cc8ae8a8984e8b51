//! `rostro search [TEXT]`: the catalog search (`GET /search`), following cursors up to
//! `--limit` results.

use clap::Args;
use rostro_sdk::types::{SearchNode, SearchPage};
use serde_json::Value;

use super::cell;
use crate::ctx::Ctx;
use crate::exit::CliResult;

/// `rostro search`
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  rostro search dragon --tag fantasy --exclude-tag horror --limit 10
  rostro search --lorebooks --sort download_count --json | jq .name
  rostro search --creator alice --min-tokens 500 --jq '.fullPath'")]
pub struct SearchArgs {
    /// Full-text search of names, taglines and definitions
    pub text: Option<String>,
    /// Search lorebooks instead of characters
    #[arg(long)]
    pub lorebooks: bool,
    /// Only results with this tag (repeatable; all must match)
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Leave out results with this tag (repeatable)
    #[arg(long = "exclude-tag", value_name = "TAG")]
    pub exclude_tags: Vec<String>,
    /// Include NSFW results
    #[arg(long)]
    pub nsfw: bool,
    /// Sort field: default (trending), download_count, star_count, created_at,
    /// last_activity_at, n_tokens, rating, name, random, ...
    #[arg(long, value_name = "FIELD")]
    pub sort: Option<String>,
    /// Sort ascending
    #[arg(long)]
    pub asc: bool,
    /// Minimum token count
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = crate::util::non_negative::<u32>)]
    pub min_tokens: Option<u32>,
    /// Maximum token count
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = crate::util::non_negative::<u32>)]
    pub max_tokens: Option<u32>,
    /// Only results by this creator (username)
    #[arg(long, value_name = "USERNAME")]
    pub creator: Option<String>,
    /// Stop after this many results (pages are fetched as needed)
    #[arg(long, short = 'L', default_value_t = 30, value_name = "N", allow_negative_numbers = true, value_parser = crate::util::positive::<usize>)]
    pub limit: usize,
}

/// Runs `rostro search`.
pub fn run(ctx: &Ctx, a: SearchArgs) -> CliResult {
    let items = ctx.block_on(async {
        let s = ctx.session(false).await?;
        let mut out: Vec<(Value, SearchNode)> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        while out.len() < a.limit && pages < 1000 {
            let want = (a.limit - out.len()).min(100);
            let b = request(&s.client, &a, want, cursor.as_deref());
            let raw = s.json(b.into_request()?).await?;
            let page: SearchPage = super::view(&raw, "search")?;
            pages += 1;
            let got = page.items().len();
            // `--json` shows the results as they came; the table reads the typed view.
            out.extend(
                SearchPage::raw_items(&raw)
                    .unwrap_or_default()
                    .iter()
                    .cloned()
                    .zip(page.items().iter().cloned()),
            );
            cursor = next_cursor(&page);
            if got == 0 || cursor.is_none() {
                break;
            }
        }
        out.truncate(a.limit);
        Ok(out)
    })?;
    let (raw, typed): (Vec<Value>, Vec<SearchNode>) = items.into_iter().unzip();
    if ctx.out.json {
        return super::print_list(ctx, &raw, &[]);
    }
    super::print_table(
        ctx,
        &typed,
        &[
            ("ID", &|n: &SearchNode| n.id.to_string()),
            ("NAME", &|n: &SearchNode| cell(&n.name)),
            ("CREATOR", &|n: &SearchNode| cell(&n.creator)),
            ("TOKENS", &|n: &SearchNode| cell(&n.n_tokens)),
            ("STARS", &|n: &SearchNode| cell(&n.star_count)),
            ("TAGS", &|n: &SearchNode| {
                n.topics
                    .as_deref()
                    .map(|t| t.iter().take(4).cloned().collect::<Vec<_>>().join(","))
                    .unwrap_or_default()
            }),
        ],
    )
}

/// One page's request: the filters, `want` results, from `cursor`.
fn request(
    client: &rostro_sdk::Client,
    a: &SearchArgs,
    want: usize,
    cursor: Option<&str>,
) -> rostro_sdk::generated::search::SearchList {
    let mut b = client.search().list().first(want as i64);
    if let Some(t) = &a.text {
        b = b.search(t);
    }
    if a.lorebooks {
        b = b.namespace("lorebooks");
    }
    if !a.tags.is_empty() {
        b = b.tags(&a.tags);
    }
    if !a.exclude_tags.is_empty() {
        b = b.exclude_tags(&a.exclude_tags);
    }
    if a.nsfw {
        b = b.nsfw(true);
    }
    if let Some(sort) = &a.sort {
        b = b.sort(sort);
    }
    if a.asc {
        b = b.asc(true);
    }
    if let Some(n) = a.min_tokens {
        b = b.min_tokens(n);
    }
    if let Some(n) = a.max_tokens {
        b = b.max_tokens(n);
    }
    if let Some(c) = &a.creator {
        b = b.username(c);
    }
    if let Some(c) = cursor {
        b = b.cursor(c);
    }
    b
}

/// The cursor of the next page, where the page keeps it (beside `nodes`, or in `data`).
fn next_cursor(page: &SearchPage) -> Option<String> {
    page.cursor
        .clone()
        .or_else(|| page.data.as_ref().and_then(|d| d.cursor.clone()))
        .filter(|c| !c.is_empty())
}
