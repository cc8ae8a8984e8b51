//! `characters get` and `characters expressions`.

use rostro_sdk::types::{Project, ProjectAnswer};

use super::{GetArgs, IdArgs, split_path};
use crate::cmd::{key_values, text};
use crate::ctx::Ctx;
use crate::exit::CliResult;

/// `characters get ID|CREATOR/SLUG`: the project as key/value lines.
pub(super) fn get(ctx: &Ctx, a: GetArgs) -> CliResult {
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
    if ctx.out.json {
        return ctx.out.json_value(&v);
    }
    let answer: ProjectAnswer = crate::cmd::view(&v, "characters get")?;
    let human = answer.node.as_ref().map(project_lines).unwrap_or_default();
    crate::cmd::print_answer(ctx, &v, &human)
}

/// A project's key/value block.
fn project_lines(p: &Project) -> String {
    let tags = p.topics.as_ref().or(p.tags.as_ref()).map(|t| t.join(", "));
    key_values(&[
        ("Id", text(&p.id)),
        ("Name", p.name.clone()),
        ("Path", p.full_path.clone()),
        ("Creator", p.creator.clone()),
        ("Tagline", p.tagline.clone()),
        ("Tokens", text(&p.n_tokens.or(p.token_count))),
        ("Stars", text(&p.star_count)),
        ("Tags", tags),
        (
            "NSFW",
            p.nsfw.map(|b| if b { "yes" } else { "no" }.to_owned()),
        ),
        ("Created", p.created_at.clone()),
        (
            "Updated",
            p.last_activity_at.clone().or(p.updated_at.clone()),
        ),
        ("Description", p.description.clone()),
    ])
}

/// `characters expressions ID`: no document shows this answer's shape, so it is shown
/// member by member (never as raw JSON).
pub(super) fn expressions(ctx: &Ctx, a: IdArgs) -> CliResult {
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
    let human = crate::cmd::human_lines(&v).unwrap_or_default();
    if human.is_empty() && !ctx.out.json {
        ctx.out
            .note(&format!("character {} has no expression packs", a.id));
        return Ok(());
    }
    crate::cmd::print_answer(ctx, &v, &human)
}
