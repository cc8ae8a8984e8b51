//! `rostro personas list|create|update|delete`.

use clap::{Args, Subcommand};
use serde_json::Value;

use super::BodyOpts;
use crate::ctx::Ctx;
use crate::exit::CliResult;
use crate::util::{first_of, items_of, s};

/// `rostro personas ...`
#[derive(Debug, Subcommand)]
pub enum PersonasCmd {
    /// List your personas
    List,
    /// Create a persona
    Create(Fields),
    /// Update a persona
    Update(UpdateArgs),
    /// Delete a persona
    Delete(IdArg),
}

/// Persona fields.
#[derive(Debug, Args)]
pub struct Fields {
    /// Name
    #[arg(long)]
    pub name: Option<String>,
    /// Description (the persona's text)
    #[arg(long)]
    pub description: Option<String>,
    #[command(flatten)]
    body: BodyOpts,
}

/// `personas update`
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Persona id
    pub id: i64,
    #[command(flatten)]
    fields: Fields,
}

/// A persona id.
#[derive(Debug, Args)]
pub struct IdArg {
    /// Persona id
    pub id: i64,
    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,
}

fn body(f: &Fields) -> CliResult<Value> {
    f.body.build(&[
        ("name", f.name.clone().map(Value::from)),
        ("description", f.description.clone().map(Value::from)),
    ])
}

/// Runs `rostro personas`.
pub fn run(ctx: &Ctx, cmd: PersonasCmd) -> CliResult {
    match cmd {
        PersonasCmd::List => {
            let v = ctx.block_on(async {
                let s = ctx.session(true).await?;
                s.json(s.client.personas().list().into_request()?).await
            })?;
            let items = items_of(&v, &["personas", "nodes", "items"]);
            super::print_list(
                ctx,
                &items,
                &[
                    ("ID", &|v| s(v, "id")),
                    ("NAME", &|v| s(v, "name")),
                    ("DESCRIPTION", &|v| {
                        first_of(v, &["description", "personality"])
                    }),
                ],
            )
        }
        PersonasCmd::Create(f) => {
            let b = body(&f)?;
            let v = ctx.block_on(async {
                let s = ctx.session(true).await?;
                s.json(s.client.personas().create().body(b).into_request()?)
                    .await
            })?;
            done(ctx, &v, "Created persona")
        }
        PersonasCmd::Update(u) => {
            let b = body(&u.fields)?;
            let v = ctx.block_on(async {
                let s = ctx.session(true).await?;
                s.json(s.client.personas().update(u.id).body(b).into_request()?)
                    .await
            })?;
            done(ctx, &v, &format!("Updated persona {}", u.id))
        }
        PersonasCmd::Delete(d) => {
            super::confirm(ctx, &format!("Delete persona {}?", d.id), d.yes)?;
            let v = ctx.block_on(async {
                let s = ctx.session(true).await?;
                s.json(s.client.personas().delete(d.id).into_request()?)
                    .await
            })?;
            done(ctx, &v, &format!("Deleted persona {}", d.id))
        }
    }
}

/// Prints the response with `--json`, else a success line.
pub fn done(ctx: &Ctx, v: &Value, msg: &str) -> CliResult {
    if ctx.out.json {
        ctx.out.json_value(v)
    } else {
        let id = first_of(v, &["id", "uuid", "project_id"]);
        if id.is_empty() {
            ctx.out.success(msg);
        } else {
            ctx.out.success(&format!("{msg} ({id})"));
        }
        Ok(())
    }
}
