//! `rostro auth login|status|logout|token`.

use clap::{Args, Subcommand};
use serde_json::json;

use crate::credentials::{self, Credential, Source};
use crate::ctx::Ctx;
use crate::exit::{CliError, CliResult};

/// `rostro auth ...`
#[derive(Debug, Subcommand)]
pub enum AuthCmd {
    /// Store an API key for the profile (verified against the account endpoint)
    Login(LoginArgs),
    /// Show which key is in use and whether the API accepts it
    Status(StatusArgs),
    /// Remove the stored key of the profile
    Logout,
    /// Print the key in use (for scripts)
    Token,
}

/// `rostro auth login`
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Read the key from standard input (for CI: `rostro auth login --with-token < key.txt`)
    #[arg(long)]
    pub with_token: bool,
    /// Store the key without checking it against the API
    #[arg(long)]
    pub no_verify: bool,
}

/// `rostro auth status`
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Do not contact the API
    #[arg(long)]
    pub offline: bool,
}

/// Runs `rostro auth`.
pub fn run(ctx: &Ctx, cmd: AuthCmd) -> CliResult {
    match cmd {
        AuthCmd::Login(a) => login(ctx, a),
        AuthCmd::Status(a) => status(ctx, a),
        AuthCmd::Logout => logout(ctx),
        AuthCmd::Token => token(ctx),
    }
}

fn read_token(ctx: &Ctx, a: &LoginArgs) -> CliResult<String> {
    let token = if a.with_token {
        let mut s = String::new();
        crate::ambient::read_stdin_string(&mut s).map_err(|e| CliError::io("stdin", e))?;
        s
    } else {
        ctx.out.require_interactive(
            "`rostro auth login`",
            "--with-token (reads the key from stdin)",
        )?;
        dialoguer::Password::new()
            .with_prompt("Paste your Rostro API key")
            .interact()
            .map_err(|e| match e {
                dialoguer::Error::IO(io) if io.kind() == std::io::ErrorKind::Interrupted => {
                    CliError::Interrupted
                }
                other => CliError::msg(format!("cannot read the key: {other}")),
            })?
    };
    let token = token.trim().to_owned();
    if token.is_empty() {
        return Err(CliError::usage("no key given"));
    }
    if token.contains(char::is_whitespace) {
        return Err(CliError::usage("the key must not contain whitespace"));
    }
    Ok(token)
}

/// What checking a key answered.
enum Verified {
    /// `GET /api/account`.
    Account(Box<rostro_sdk::types::Account>),
    /// A Routstr node: the key's balance.
    Node(rostro_sdk::routstr::Msats),
}

impl Verified {
    /// The account's user name (the API's `username`, else its display `name`).
    fn username(&self) -> Option<String> {
        match self {
            Verified::Account(a) => a.username.clone().or_else(|| a.name.clone()),
            Verified::Node(_) => None,
        }
    }

    /// A Routstr key's balance.
    fn balance(&self) -> Option<rostro_sdk::routstr::Msats> {
        match self {
            Verified::Node(b) => Some(*b),
            Verified::Account(_) => None,
        }
    }
}

/// Checks a key against `GET /api/account` (a Routstr profile: the key's balance info).
async fn verify(ctx: &Ctx, token: &str) -> CliResult<Verified> {
    let s = ctx
        .session_with(
            true,
            Some(Credential {
                token: token.to_owned(),
                source: Source::Env,
            }),
        )
        .await?;
    if let Some(node) = &s.node {
        let info = node.balance().info().send().await.map_err(|e| s.err(e))?;
        return Ok(Verified::Node(info.balance));
    }
    let account = s
        .client
        .account()
        .get()
        .send()
        .await
        .map_err(|e| s.err(e))?;
    Ok(Verified::Account(Box::new(account)))
}

fn login(ctx: &Ctx, a: LoginArgs) -> CliResult {
    let token = read_token(ctx, &a)?;
    let profile = ctx.profile_name()?;
    let account = if a.no_verify {
        None
    } else {
        Some(ctx.block_on(verify(ctx, &token)).map_err(|e| match e {
            CliError::Sdk(ref s) | CliError::Routstr(ref s)
                if matches!(s.status().map(|x| x.as_u16()), Some(401 | 403)) =>
            {
                CliError::Auth(format!("the API rejected this key: {s}"))
            }
            other => other,
        })?)
    };
    if ctx.g.mock {
        // The sandbox's own credentials: the real stored key is never touched.
        let path = crate::cmd::mock::store_key(&profile, &token)?;
        let user = account.as_ref().and_then(Verified::username);
        if ctx.out.json {
            return ctx.out.json_value(&json!({
                "profile": profile,
                "stored_in": path.display().to_string(),
                "username": user,
                "verified": account.is_some(),
                "sandbox": true,
            }));
        }
        ctx.out.success(&format!(
            "Logged in to the --mock sandbox{} (profile `{profile}`, key stored in {}; \
             the real stored key is unchanged)",
            user.map(|u| format!(" as {u}")).unwrap_or_default(),
            path.display()
        ));
        return Ok(());
    }
    let (source, warning) = credentials::store(&profile, &token)?;
    if let Some(w) = warning {
        ctx.out.warn(&w);
    }
    if credentials::env_key().is_some() {
        ctx.out
            .warn("ROSTRO_API_KEY is set and takes precedence over the stored key");
    }
    let user = account.as_ref().and_then(Verified::username);
    if ctx.out.json {
        return ctx.out.json_value(&json!({
            "profile": profile,
            "stored_in": source.to_string(),
            "username": user,
            "verified": account.is_some(),
        }));
    }
    match user {
        Some(u) => ctx.out.success(&format!(
            "Logged in as {u} (profile `{profile}`, key stored in {source})"
        )),
        None => ctx
            .out
            .success(&format!("Key stored for profile `{profile}` in {source}")),
    }
    Ok(())
}

/// The key `--mock` commands use: the sandbox's stored one, else (not on a Routstr
/// profile, where the sandbox node makes a key up) the placeholder.
fn mock_credential(ctx: &Ctx, profile: &str) -> CliResult<Option<Credential>> {
    if let Some(c) = crate::cmd::mock::load_key(profile)? {
        return Ok(Some(c));
    }
    let routstr = ctx.config()?.profile(profile).is_routstr();
    Ok((!routstr).then(|| Credential {
        token: crate::ctx::MOCK_KEY.to_owned(),
        source: Source::Mock,
    }))
}

fn status(ctx: &Ctx, a: StatusArgs) -> CliResult {
    let profile = ctx.profile_name()?;
    let cred = if ctx.g.mock {
        mock_credential(ctx, &profile)?
    } else {
        credentials::load(&profile)?
    };
    let Some(cred) = cred else {
        if ctx.out.json {
            ctx.out.json_value(&json!({
                "profile": profile, "logged_in": false,
            }))?;
        }
        return Err(CliError::Auth(format!(
            "not logged in (profile `{profile}`)"
        )));
    };
    let mut account = None;
    let mut problem = None;
    if !a.offline {
        match ctx.block_on(verify(ctx, &cred.token)) {
            Ok(v) => account = Some(v),
            Err(e) => problem = Some(e),
        }
    }
    let user = account.as_ref().and_then(Verified::username);
    if ctx.out.json {
        ctx.out.json_value(&json!({
            "profile": profile,
            "logged_in": true,
            "source": cred.source.to_string(),
            "token": credentials::mask(&cred.token),
            "verified": account.is_some(),
            "username": user,
            "error": problem.as_ref().map(|e| e.to_string()),
            "sandbox": ctx.g.mock.then(|| crate::cmd::mock::sandbox_dir().ok()).flatten(),
        }))?;
    } else {
        let mut lines = vec![
            format!("Profile:  {profile}"),
            format!(
                "Key:      {} (from {})",
                credentials::mask(&cred.token),
                cred.source
            ),
        ];
        if ctx.g.mock {
            lines.push(format!(
                "Sandbox:  {} (--mock; the real stored key is not used)",
                crate::cmd::mock::sandbox_dir()?.display()
            ));
        }
        if let Some(u) = &user {
            lines.push(format!("Account:  {u}"));
        }
        if let Some(b) = account.as_ref().and_then(Verified::balance) {
            lines.push(format!("Balance:  {}", crate::routstr::fmt_msats(b)));
        }
        ctx.out.line(&lines.join("\n"))?;
    }
    match problem {
        Some(CliError::Sdk(e) | CliError::Routstr(e))
            if matches!(e.status().map(|x| x.as_u16()), Some(401 | 403)) =>
        {
            Err(CliError::Auth(format!("the API rejected the key: {e}")))
        }
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn logout(ctx: &Ctx) -> CliResult {
    let profile = ctx.profile_name()?;
    if ctx.g.mock {
        return match crate::cmd::mock::remove_key(&profile)? {
            Some(path) => {
                ctx.out.success(&format!(
                    "Removed the --mock sandbox key of profile `{profile}` from {}",
                    path.display()
                ));
                Ok(())
            }
            None => Err(CliError::Auth(format!(
                "no --mock sandbox key for profile `{profile}` (the real stored key is not \
                 touched by --mock)"
            ))),
        };
    }
    let removed = credentials::remove(&profile)?;
    if removed.is_empty() {
        return Err(CliError::Auth(format!(
            "no stored key for profile `{profile}`"
        )));
    }
    for r in &removed {
        ctx.out
            .success(&format!("Removed the key of profile `{profile}` from {r}"));
    }
    if credentials::env_key().is_some() {
        ctx.out
            .warn("ROSTRO_API_KEY is still set and will keep being used");
    }
    Ok(())
}

fn token(ctx: &Ctx) -> CliResult {
    let profile = ctx.profile_name()?;
    let cred = if ctx.g.mock {
        mock_credential(ctx, &profile)?
    } else {
        credentials::load(&profile)?
    };
    match cred {
        Some(c) => ctx.out.line(&c.token),
        None => Err(CliError::Auth(format!(
            "not logged in (profile `{profile}`)"
        ))),
    }
}
