//! `rostro chats list|show|export`: saved chats.

use clap::{Args, Subcommand, ValueEnum};
use serde_json::Value;

use crate::ctx::Ctx;
use crate::exit::CliResult;
use crate::util::{first_of, items_of, s};

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
        ChatsCmd::List(a) => {
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
            let items = items_of(&v, &["chats", "nodes", "items"]);
            super::print_list(
                ctx,
                &items,
                &[
                    ("ID", &|v| s(v, "id")),
                    ("NAME", &|v| first_of(v, &["name", "title"])),
                    ("UPDATED", &|v| {
                        first_of(v, &["updated_at", "updatedAt", "created_at"])
                    }),
                ],
            )
        }
        ChatsCmd::Show(a) => {
            let v = fetch(ctx, a.id)?;
            if ctx.out.json {
                return ctx.out.json_value(&v);
            }
            ctx.out.line(&transcript(&v, Format::Txt))
        }
        ChatsCmd::Export(a) => {
            let v = fetch(ctx, a.id)?;
            let text = match a.format {
                Format::Json => serde_json::to_string_pretty(&v)?,
                f => transcript(&v, f),
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

/// The messages of a chat, wherever the response keeps them.
fn messages(v: &Value) -> Vec<Value> {
    let m = items_of(v, &["messages", "nodes", "chatMessages"]);
    if !m.is_empty() {
        return m;
    }
    for k in ["chat", "tree"] {
        if let Some(inner) = v.get(k) {
            let m = items_of(inner, &["messages", "nodes"]);
            if !m.is_empty() {
                return m;
            }
        }
    }
    Vec::new()
}

fn transcript(v: &Value, f: Format) -> String {
    let title = first_of(v, &["name", "title"]);
    let mut out = String::new();
    if matches!(f, Format::Md) {
        out.push_str(&format!(
            "# {}\n\n",
            if title.is_empty() { "Chat" } else { &title }
        ));
    } else if !title.is_empty() {
        out.push_str(&format!("{title}\n\n"));
    }
    let msgs = messages(v);
    if msgs.is_empty() {
        out.push_str("(no messages)");
        return out;
    }
    for m in msgs {
        let who = first_of(&m, &["name", "role", "author", "sender"]);
        let who = if who.is_empty() { "?".to_owned() } else { who };
        let text = first_of(&m, &["content", "message", "text", "mes"]);
        match f {
            Format::Md => out.push_str(&format!("**{who}**: {text}\n\n")),
            _ => out.push_str(&format!("{who}: {text}\n")),
        }
    }
    out.trim_end().to_owned()
}
