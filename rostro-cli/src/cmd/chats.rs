//! `rostro chats list|show|export`: saved chats.

use clap::{Args, Subcommand, ValueEnum};
use rostro_sdk::types::{Chat, ChatList, ChatSummary, ChatTree};
use serde_json::Value;

use super::cell;
use crate::ctx::Ctx;
use crate::exit::CliResult;

/// `rostro chats ...`
#[derive(Debug, Subcommand)]
pub enum ChatsCmd {
    /// List your chats
    List(ListArgs),
    /// Show a chat with its messages
    Show(ShowArgs),
    /// Export a chat (JSON, Markdown or plain text) to stdout or a file
    Export(ExportArgs),
}

/// `chats list`
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only chats with this character (id)
    #[arg(long)]
    pub character: Option<String>,
    /// Filter by text
    #[arg(long)]
    pub search: Option<String>,
    /// At most this many chats
    #[arg(long, short = 'L', default_value_t = 30, allow_negative_numbers = true, value_parser = crate::util::positive::<u32>)]
    pub limit: u32,
}

/// `chats show`
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Chat id
    pub id: i64,
}

/// Export formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// The API's JSON
    Json,
    /// Markdown transcript
    Md,
    /// Plain text transcript
    Txt,
}

/// `chats export`
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Chat id
    pub id: i64,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Md)]
    pub format: Format,
    /// Write to this file instead of stdout
    #[arg(long, short = 'o')]
    pub output: Option<std::path::PathBuf>,
}

/// Runs `rostro chats`.
pub fn run(ctx: &Ctx, cmd: ChatsCmd) -> CliResult {
    match cmd {
        ChatsCmd::List(a) => list(ctx, a),
        ChatsCmd::Show(a) => {
            let v = fetch(ctx, a.id)?;
            if ctx.out.json {
                return ctx.out.json_value(&v);
            }
            let tree: ChatTree = super::view(&v, "chats show")?;
            ctx.out.line(&transcript(&tree, Format::Txt))
        }
        ChatsCmd::Export(a) => export(ctx, a),
    }
}

fn list(ctx: &Ctx, a: ListArgs) -> CliResult {
    let v = ctx.block_on(async {
        let s = ctx.session(true).await?;
        let mut b = s.client.chats().list().limit(a.limit);
        if let Some(c) = &a.character {
            b = b.character(c);
        }
        if let Some(q) = &a.search {
            b = b.search(q);
        }
        s.json(b.into_request()?).await
    })?;
    super::print_page(
        ctx,
        &v,
        "chats list",
        ChatList::raw_items,
        ChatList::items,
        &[
            ("ID", &|c: &ChatSummary| cell(&c.id)),
            ("NAME", &|c: &ChatSummary| cell(&c.name)),
            ("UPDATED", &|c: &ChatSummary| {
                cell(&c.updated_at.clone().or(c.created_at.clone()))
            }),
        ],
    )
}

fn export(ctx: &Ctx, a: ExportArgs) -> CliResult {
    let v = fetch(ctx, a.id)?;
    let text = match a.format {
        // The API's JSON, as it came.
        Format::Json => serde_json::to_string_pretty(&v)?,
        f => transcript(&super::view(&v, "chats export")?, f),
    };
    match a.output {
        Some(p) => {
            std::fs::write(&p, text + "\n")
                .map_err(|e| crate::exit::CliError::io(p.display(), e))?;
            ctx.out
                .success(&format!("Exported chat {} to {}", a.id, p.display()));
            Ok(())
        }
        None => ctx.out.line(&text),
    }
}

fn fetch(ctx: &Ctx, id: i64) -> CliResult<Value> {
    ctx.block_on(async {
        let s = ctx.session(true).await?;
        let req = s
            .client
            .chats()
            .get(id)
            .include_messages(true)
            .include_meta(true)
            .into_request()?;
        s.json(req).await
    })
}

fn transcript(tree: &ChatTree, f: Format) -> String {
    let title = tree.chat.as_ref().and_then(|c: &Chat| c.name.clone());
    let mut out = String::new();
    match (f, &title) {
        (Format::Md, t) => out.push_str(&format!("# {}\n\n", t.as_deref().unwrap_or("Chat"))),
        (_, Some(t)) => out.push_str(&format!("{t}\n\n")),
        _ => {}
    }
    let msgs = tree.items();
    if msgs.is_empty() {
        out.push_str("(no messages)");
        return out;
    }
    for m in msgs {
        let who = m
            .name
            .clone()
            .or_else(|| m.role.as_ref().map(|r| r.as_str().to_owned()))
            .unwrap_or_else(|| "?".to_owned());
        let text = m.content.as_deref().unwrap_or_default();
        match f {
            Format::Md => out.push_str(&format!("**{who}**: {text}\n\n")),
            _ => out.push_str(&format!("{who}: {text}\n")),
        }
    }
    out.trim_end().to_owned()
}
