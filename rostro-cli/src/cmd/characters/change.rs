//! `characters update|fork|favorite|delete`: each says what changed.

use serde_json::json;

use super::{DeleteArgs, FavArgs, IdArgs, UpdateArgs, body, split_path};
use crate::cmd::print_done;
use crate::ctx::Ctx;
use crate::exit::CliResult;

/// `characters update CREATOR/SLUG`: names the fields it sent.
pub(super) fn update(ctx: &Ctx, u: UpdateArgs) -> CliResult {
    let (creator, slug) = split_path(&u.path)?;
    let b = body(&u.fields)?;
    let fields: Vec<String> = b
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    if fields.is_empty() {
        return Err(crate::exit::CliError::usage(
            "nothing to update: give a field (--name, --tagline, ..., -F key=value or --from FILE)",
        ));
    }
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
    print_done(
        ctx,
        &v,
        &format!("Updated {creator}/{slug}: {}", fields.join(", ")),
    )
}

/// `characters fork ID`.
pub(super) fn fork(ctx: &Ctx, a: IdArgs) -> CliResult {
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
    let (id, path) = super::created_ref(&v);
    print_done(
        ctx,
        &v,
        &format!(
            "Forked character {} into your account{}",
            a.id,
            super::ref_text(id, path.as_deref())
        ),
    )
}

/// `characters favorite ID [--remove]`.
pub(super) fn favorite(ctx: &Ctx, a: FavArgs) -> CliResult {
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
    let what = if a.remove {
        format!("Removed character {} from your favorites", a.id)
    } else {
        format!("Added character {} to your favorites", a.id)
    };
    print_done(ctx, &v, &what)
}

/// `characters delete ID`.
pub(super) fn delete(ctx: &Ctx, a: DeleteArgs) -> CliResult {
    crate::cmd::confirm(ctx, &format!("Delete character {}?", a.id), a.yes)?;
    let v = ctx.block_on(async {
        let s = ctx.session(true).await?;
        s.json(s.client.projects().delete(a.id).into_request()?)
            .await
    })?;
    print_done(ctx, &v, &format!("Deleted character {}", a.id))
}
