//! `rostro characters get|create|update|fork|favorite|delete|expressions`.

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::BodyOpts;
use super::personas::done;
use crate::ctx::Ctx;
use crate::exit::{CliError, CliResult};

/// `rostro characters ...`
#[derive(Debug, Subcommand)]
pub enum CharactersCmd {
    /// Show a character by id or CREATOR/SLUG
    Get(GetArgs),
    /// Create a character
    Create(CharFields),
    /// Update one of your characters (CREATOR/SLUG)
    Update(UpdateArgs),
    /// Fork a character into your account
    Fork(IdArgs),
    /// Favorite (or with --remove, unfavorite) a character
    Favorite(FavArgs),
    /// Delete one of your characters
    Delete(DeleteArgs),
    /// List a character's expression packs
    Expressions(IdArgs),
}

/// `characters get`
#[derive(Debug, Args)]
pub struct GetArgs {
    /// Numeric id, or CREATOR/SLUG
    pub id: String,
    /// Search lorebooks instead of characters (for CREATOR/SLUG and ids)
    #[arg(long)]
    pub lorebook: bool,
}

/// Character fields.
#[derive(Debug, Args)]
pub struct CharFields {
    /// Name
    #[arg(long)]
    pub name: Option<String>,
    /// Short tagline
    #[arg(long)]
    pub tagline: Option<String>,
    /// Description (shown on the character page)
    #[arg(long)]
    pub description: Option<String>,
    /// Personality / definition
    #[arg(long)]
    pub personality: Option<String>,
    /// First message
    #[arg(long)]
    pub first_message: Option<String>,
    /// Tags (repeatable)
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    #[command(flatten)]
    body: BodyOpts,
}

/// `characters update`
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// CREATOR/SLUG
    pub path: String,
    #[command(flatten)]
    fields: CharFields,
}

/// An id.
#[derive(Debug, Args)]
pub struct IdArgs {
    /// Character (project) id
    pub id: i64,
}

/// `characters favorite`
#[derive(Debug, Args)]
pub struct FavArgs {
    /// Character (project) id
    pub id: i64,
    /// Remove the favorite
    #[arg(long)]
    pub remove: bool,
}

/// `characters delete`
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Character (project) id
    pub id: i64,
    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,
}

fn body(f: &CharFields) -> CliResult<Value> {
    f.body.build(&[
        ("name", f.name.clone().map(Value::from)),
        ("tagline", f.tagline.clone().map(Value::from)),
        ("description", f.description.clone().map(Value::from)),
        ("personality", f.personality.clone().map(Value::from)),
        ("first_message", f.first_message.clone().map(Value::from)),
        (
            "topics",
            (!f.tags.is_empty()).then(|| Value::from(f.tags.clone())),
        ),
    ])
}

fn split_path(p: &str) -> CliResult<(&str, &str)> {
    let p = p.trim_matches('/');
    let p = p.strip_prefix("characters/").unwrap_or(p);
    p.split_once('/')
        .filter(|(a, b)| !a.is_empty() && !b.is_empty() && !b.contains('/'))
        .ok_or_else(|| CliError::usage(format!("expected CREATOR/SLUG, got `{p}`")))
}

/// Runs `rostro characters`.
pub fn run(ctx: &Ctx, cmd: CharactersCmd) -> CliResult {
    match cmd {
        CharactersCmd::Get(a) => {
            let space = if a.lorebook {
                "lorebooks"
            } else {
                "characters"
            };
            let v = ctx.block_on(async {
                let s = ctx.session(false).await?;
                let p = s.client.projects();
                let req = match a.id.parse::<i64>() {
                    Ok(id) => p.get_public_by_id(space, id).full(true).into_request()?,
                    Err(_) => {
                        let (creator, slug) = split_path(&a.id)?;
                        p.get_public(space, creator, slug).into_request()?
                    }
                };
                s.json(req).await
            })?;
            let node = v.get("node").unwrap_or(&v);
            let human = super::key_values(
                node,
                &[
                    ("Id", "id"),
                    ("Name", "name"),
                    ("Path", "fullPath"),
                    ("Creator", "creator"),
                    ("Tagline", "tagline"),
                    ("Tokens", "nTokens"),
                    ("Stars", "starCount"),
                    ("Description", "description"),
                ],
            );
            super::print_value(ctx, &v, (!human.is_empty()).then_some(human))
        }
        CharactersCmd::Create(f) => {
            let b = body(&f)?;
            if b.get("name").is_none() {
                return Err(CliError::usage(
                    "a character needs --name (or a name in --from)",
                ));
            }
            let v = ctx.block_on(async {
                let s = ctx.session(true).await?;
                s.json(s.client.characters().create().body(b).into_request()?)
                    .await
            })?;
            done(ctx, &v, "Created character")
        }
        CharactersCmd::Update(u) => {
            let (creator, slug) = split_path(&u.path)?;
            let b = body(&u.fields)?;
            let v = ctx.block_on(async {
                let s = ctx.session(true).await?;
                s.json(
                    s.client
                        .characters()
                        .update(creator, slug)
                        .body(b)
                        .into_request()?,
                )
                .await
            })?;
            done(ctx, &v, &format!("Updated {creator}/{slug}"))
        }
        CharactersCmd::Fork(a) => {
            let v = ctx.block_on(async {
                let s = ctx.session(true).await?;
                s.json(
                    s.client
                        .projects()
                        .fork(a.id)
                        .body(json!({}))
                        .into_request()?,
                )
                .await
            })?;
            done(ctx, &v, &format!("Forked character {}", a.id))
        }
        CharactersCmd::Favorite(a) => {
            let v = ctx.block_on(async {
                let s = ctx.session(true).await?;
                let f = s.client.favorites();
                let req = if a.remove {
                    f.remove(a.id).into_request()?
                } else {
                    f.add(a.id).into_request()?
                };
                s.json(req).await
            })?;
            let msg = if a.remove {
                "Removed favorite"
            } else {
                "Favorited"
            };
            if ctx.out.json {
                return ctx.out.json_value(&v);
            }
            ctx.out.success(&format!("{msg} {}", a.id));
            Ok(())
        }
        CharactersCmd::Delete(a) => {
            super::confirm(ctx, &format!("Delete character {}?", a.id), a.yes)?;
            let v = ctx.block_on(async {
                let s = ctx.session(true).await?;
                s.json(s.client.projects().delete(a.id).into_request()?)
                    .await
            })?;
            if ctx.out.json {
                return ctx.out.json_value(&v);
            }
            ctx.out.success(&format!("Deleted character {}", a.id));
            Ok(())
        }
        CharactersCmd::Expressions(a) => {
            let v = ctx.block_on(async {
                let s = ctx.session(false).await?;
                s.json(
                    s.client
                        .characters()
                        .list_expressions(a.id)
                        .into_request()?,
                )
                .await
            })?;
            super::print_value(ctx, &v, None)
        }
    }
}
