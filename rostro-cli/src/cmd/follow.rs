//! `rostro follow user|tag|list|followers`.

use clap::{Args, Subcommand};
use rostro_sdk::types::{UserSummary, Users};
use serde_json::json;

use super::cell;
use crate::ctx::Ctx;
use crate::exit::CliResult;

/// `rostro follow ...`
#[derive(Debug, Subcommand)]
pub enum FollowCmd {
    /// Follow (or with --remove, unfollow) a user
    User(Target),
    /// Follow (or with --remove, unfollow) a tag
    Tag(Target),
    /// Who a user follows (default: you)
    List(Who),
    /// Who follows a user (default: you)
    Followers(Who),
}

/// A user or tag.
#[derive(Debug, Args)]
pub struct Target {
    /// The username or tag
    pub name: String,
    /// Unfollow instead
    #[arg(long)]
    pub remove: bool,
}

/// A user whose follows are listed.
#[derive(Debug, Args)]
pub struct Who {
    /// The username (`You` is yourself)
    #[arg(default_value = "You")]
    pub username: String,
    /// Page number
    #[arg(long, default_value_t = 1, allow_negative_numbers = true, value_parser = crate::util::positive::<i64>)]
    pub page: i64,
}

/// Runs `rostro follow`.
pub fn run(ctx: &Ctx, cmd: FollowCmd) -> CliResult {
    match cmd {
        FollowCmd::User(t) => change(ctx, "user", t),
        FollowCmd::Tag(t) => change(ctx, "tag", t),
        FollowCmd::List(w) => list(ctx, w, false),
        FollowCmd::Followers(w) => list(ctx, w, true),
    }
}

fn change(ctx: &Ctx, kind: &str, t: Target) -> CliResult {
    let v = ctx.block_on(async {
        let s = ctx.session(true).await?;
        let f = s.client.follows();
        let req = match (kind, t.remove) {
            ("user", false) => f.follow_user(&t.name).into_request()?,
            ("user", true) => f.unfollow_user(&t.name).into_request()?,
            (_, false) => f.follow_tag(&t.name).into_request()?,
            (_, true) => f.unfollow_tag(&t.name).into_request()?,
        };
        s.json(req).await
    })?;
    if ctx.out.json {
        return ctx.out.json_value(&json!({
            "kind": kind, "name": t.name, "following": !t.remove, "response": v,
        }));
    }
    let verb = if t.remove { "Unfollowed" } else { "Following" };
    ctx.out.success(&format!("{verb} {kind} {}", t.name));
    Ok(())
}

fn list(ctx: &Ctx, w: Who, followers: bool) -> CliResult {
    let v = ctx.block_on(async {
        let s = ctx.session(false).await?;
        let f = s.client.follows();
        let req = if followers {
            f.followers(&w.username).page(w.page).into_request()?
        } else {
            f.following(&w.username).page(w.page).into_request()?
        };
        s.json(req).await
    })?;
    let what = if followers {
        "follow followers"
    } else {
        "follow list"
    };
    super::print_page(
        ctx,
        &v,
        what,
        Users::raw_items,
        Users::items,
        &[
            ("USERNAME", &|u: &UserSummary| cell(&u.username)),
            ("NAME", &|u: &UserSummary| cell(&u.name)),
            ("ID", &|u: &UserSummary| cell(&u.id)),
        ],
    )
}
