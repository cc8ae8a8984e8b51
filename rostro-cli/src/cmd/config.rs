//! `rostro config get|set|unset|list|path`.

use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use crate::config::{Config, PROFILE_KEYS, WALLET_PREFIX, config_path};
use crate::ctx::Ctx;
use crate::exit::{CliError, CliResult};

/// `rostro config ...`
#[derive(Debug, Subcommand)]
#[command(after_help = keys_help())]
pub enum ConfigCmd {
    /// Print one setting of the profile (or `profile`, the default profile)
    Get(KeyArg),
    /// Change one setting of the profile (or `profile`, the default profile)
    Set(SetArgs),
    /// Remove one setting of the profile
    Unset(KeyArg),
    /// Print every profile and its settings
    List,
    /// Print the config file's path
    Path,
}

fn keys_help() -> String {
    let mut s = String::from("Keys (per profile, chosen with --profile / ROSTRO_PROFILE):\n");
    for (k, d) in PROFILE_KEYS {
        s.push_str(&format!("  {k:<15} {d}\n"));
    }
    s.push_str("  profile         (global) the profile used by default\n\n");
    s.push_str(
        "A key can name its profile: `rostro config set profile.NAME.KEY VALUE` (e.g.\n\
         `rostro config set profile.node.provider routstr`).",
    );
    s
}

/// Splits `profile.NAME.KEY` into the profile name and key; any other key applies to the
/// profile in use.
fn target(ctx: &Ctx, key: &str) -> CliResult<(String, String)> {
    if let Some(rest) = key
        .strip_prefix("profile.")
        .or_else(|| key.strip_prefix("profiles."))
    {
        return match rest.rsplit_once('.') {
            Some((name, k)) if !name.is_empty() && !k.is_empty() => {
                Ok((name.to_owned(), k.to_owned()))
            }
            _ => Err(CliError::usage(format!(
                "expected `profile.NAME.KEY`, got `{key}`"
            ))),
        };
    }
    Ok((ctx.profile_name()?, key.to_owned()))
}

/// A key.
#[derive(Debug, Args)]
pub struct KeyArg {
    /// The setting
    pub key: String,
}

/// A key and value.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// The setting
    pub key: String,
    /// The new value
    pub value: String,
}

/// Runs `rostro config`.
pub fn run(ctx: &Ctx, cmd: ConfigCmd) -> CliResult {
    match cmd {
        ConfigCmd::Get(k) => {
            let config = ctx.config()?;
            let (value, default) = if k.key == "profile" {
                (
                    Some(config.active_profile_name(ctx.g.profile.as_deref())),
                    false,
                )
            } else {
                let (name, key) = target(ctx, &k.key)?;
                check_key(&key)?;
                let profile = config.profile(&name);
                match profile.get(&key) {
                    Some(v) => (Some(v), false),
                    // Not set: the value in effect.
                    None if key == "mimic_base_url" => (
                        Some(
                            profile
                                .base_url
                                .clone()
                                .unwrap_or_else(|| rostro_sdk::DEFAULT_BASE_URL.to_owned()),
                        ),
                        true,
                    ),
                    None => (crate::config::default_of(&key).map(str::to_owned), true),
                }
            };
            if default && value.is_some() && !ctx.out.json {
                ctx.out
                    .note(&format!("`{}` is not set; this is the default", k.key));
            }
            match value {
                Some(v) if ctx.out.json => ctx.out.json_value(&Value::String(v)),
                Some(v) => ctx.out.line(&v),
                None => Err(CliError::NotFound(format!(
                    "`{}` is not set and has no default",
                    k.key
                ))),
            }
        }
        ConfigCmd::Set(a) => update(ctx, &a.key, Some(a.value)),
        ConfigCmd::Unset(k) => update(ctx, &k.key, None),
        ConfigCmd::List => {
            let config = ctx.config()?;
            let active = config.active_profile_name(ctx.g.profile.as_deref());
            if ctx.out.json {
                let mut profiles = Map::new();
                for (name, p) in &config.profiles {
                    profiles.insert(name.clone(), serde_json::to_value(p)?);
                }
                return ctx.out.json_value(&json!({
                    "profile": active,
                    "path": config_path()?.display().to_string(),
                    "profiles": profiles,
                }));
            }
            let mut lines = vec![format!("profile = {active}")];
            for (name, p) in &config.profiles {
                lines.push(format!("[{name}]"));
                for (k, _) in PROFILE_KEYS.iter().filter(|k| k.0 != WALLET_PREFIX) {
                    if let Some(v) = p.get(k) {
                        lines.push(format!("  {k} = {v}"));
                    }
                }
                for k in p.extra.keys() {
                    if let Some(v) = p.get(k) {
                        lines.push(format!("  {k} = {v}"));
                    }
                }
            }
            ctx.out.line(&lines.join("\n"))
        }
        ConfigCmd::Path => ctx.out.line(&config_path()?.display().to_string()),
    }
}

fn check_key(key: &str) -> CliResult {
    if PROFILE_KEYS.iter().any(|k| k.0 == key) {
        Ok(())
    } else {
        Err(CliError::usage(format!(
            "unknown config key `{key}`; known keys: profile, {}",
            PROFILE_KEYS
                .iter()
                .map(|k| k.0)
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}

fn update(ctx: &Ctx, key: &str, value: Option<String>) -> CliResult {
    let mut config: Config = ctx.config()?.clone();
    if key == "profile" {
        config.profile = value.clone();
    } else {
        let (name, key) = target(ctx, key)?;
        check_key(&key)?;
        let mut p = config.profile(&name);
        p.set(&key, value.clone())?;
        config.profiles.insert(name, p);
    }
    let path = config.save()?;
    match value {
        Some(v) => ctx
            .out
            .success(&format!("{key} = {v} ({})", path.display())),
        None => ctx
            .out
            .success(&format!("{key} unset ({})", path.display())),
    }
    Ok(())
}
