//! `rostro personas list|create|update|delete`.

use clap::{Args, Subcommand};
use rostro_sdk::types::{Persona, Personas};
use serde_json::Value;

use super::{BodyOpts, cell, print_done};
use crate::ctx::Ctx;
use crate::exit::{CliError, CliResult};

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
        PersonasCmd::List => list(ctx),
        PersonasCmd::Create(f) => create(ctx, f),
        PersonasCmd::Update(u) => update(ctx, u),
        PersonasCmd::Delete(d) => delete(ctx, d),
    }
}

fn list(ctx: &Ctx) -> CliResult {
    let v = ctx.block_on(async {
        let s = ctx.session(true).await?;
        s.json(s.client.personas().list().into_request()?).await
    })?;
    super::print_page(
        ctx,
        &v,
        "personas list",
        Personas::raw_items,
        Personas::items,
        &[
            ("ID", &|p: &Persona| cell(&p.id)),
            ("NAME", &|p: &Persona| cell(&p.name)),
            ("DESCRIPTION", &|p: &Persona| cell(&p.description)),
        ],
    )
}

fn create(ctx: &Ctx, f: Fields) -> CliResult {
    let b = body(&f)?;
    let v = ctx.block_on(async {
        let s = ctx.session(true).await?;
        s.json(s.client.personas().create().body(b).into_request()?)
            .await
    })?;
    if ctx.out.json {
        return ctx.out.json_value(&v);
    }
    let p: Persona = super::view(&v, "personas create")?;
    let name = p.name.map(|n| format!(" {n}")).unwrap_or_default();
    match p.id {
        Some(id) => ctx.out.success(&format!("Created persona{name} (id {id})")),
        None => {
            ctx.out.success(&format!("Created persona{name}"));
            ctx.out
                .warn("the server did not return its id; find it with `rostro personas list`");
        }
    }
    Ok(())
}

fn update(ctx: &Ctx, u: UpdateArgs) -> CliResult {
    let b = body(&u.fields)?;
    let fields: Vec<String> = b
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    if fields.is_empty() {
        return Err(CliError::usage(
            "nothing to update: give --name, --description, -F key=value or --from FILE",
        ));
    }
    let v = ctx.block_on(async {
        let s = ctx.session(true).await?;
        s.json(s.client.personas().update(u.id).body(b).into_request()?)
            .await
    })?;
    print_done(
        ctx,
        &v,
        &format!("Updated persona {}: {}", u.id, fields.join(", ")),
    )
}

fn delete(ctx: &Ctx, d: IdArg) -> CliResult {
    super::confirm(ctx, &format!("Delete persona {}?", d.id), d.yes)?;
    let v = ctx.block_on(async {
        let s = ctx.session(true).await?;
        s.json(s.client.personas().delete(d.id).into_request()?)
            .await
    })?;
    print_done(ctx, &v, &format!("Deleted persona {}", d.id))
}
