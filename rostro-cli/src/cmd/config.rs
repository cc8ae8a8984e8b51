//! `rostro config get|set|unset|list|path`.

use clap::{Args, Subcommand};
use serde_json::{Map, Value, json};

use crate::config::{Config, PROFILE_KEYS, config_path};
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
    s.push_str("  profile         (global) the profile used by default");
    s
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
            let value = if k.key == "profile" {
                Some(config.active_profile_name(ctx.g.profile.as_deref()))
            } else {
                check_key(&k.key)?;
                config.profile(&ctx.profile_name()?).get(&k.key)
            };
            match value {
                Some(v) if ctx.out.json => ctx.out.json_value(&Value::String(v)),
                Some(v) => ctx.out.line(&v),
                None => Err(CliError::NotFound(format!("`{}` is not set", k.key))),
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
                for (k, _) in PROFILE_KEYS {
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
        check_key(key)?;
        let name = ctx.profile_name()?;
        let mut p = config.profile(&name);
        p.set(key, value.clone())?;
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
