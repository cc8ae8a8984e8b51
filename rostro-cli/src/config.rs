//! `$XDG_CONFIG_HOME/rostro/config.toml`: profiles (base URLs, auth header style, default
//! model, provider) and the default profile.
//!
//! ```toml
//! profile = "default"          # used when neither --profile nor ROSTRO_PROFILE is given
//!
//! [profiles.default]
//! base_url = "https://api.rostro.dev"
//! mimic_base_url = "https://api.rostro.dev"
//! auth_header = "bearer"       # bearer | ch-api-key | none
//! default_model = "mobile"
//! provider = "rostro"          # rostro (default) | routstr
//!
//! [profiles.node]              # a Routstr node (OpenAI-compatible, paid with Cashu eCash)
//! provider = "routstr"
//! base_url = "https://node.example"
//! balance_prefix = "balance"   # balance (/v1/balance/*) | wallet (/v1/wallet/*, older nodes)
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::exit::{CliError, CliResult};

/// Environment variable selecting the profile.
pub const ENV_PROFILE: &str = "ROSTRO_PROFILE";
/// The profile used when none is configured.
pub const DEFAULT_PROFILE: &str = "default";

/// The whole config file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Config {
    /// The default profile's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Profiles by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub profiles: BTreeMap<String, Profile>,
}

/// One profile: where to connect and how.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Profile {
    /// Which service this profile talks to: `rostro` (the default) or `routstr` (an
    /// OpenAI-compatible router paid with Cashu eCash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// API base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// OpenAI-compatible ("mimic") base URL, default: the API base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mimic_base_url: Option<String>,
    /// How the key is sent: `bearer` (default), `ch-api-key` or `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_header: Option<String>,
    /// Model for `rostro chat` when `--model` is not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_model: Option<String>,
    /// Routstr: where the node mounts its balance endpoints, `balance` (`/v1/balance/*`,
    /// default) or `wallet` (`/v1/wallet/*`, older nodes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_prefix: Option<String>,
    /// Keys this version does not know, kept as they are.
    #[serde(flatten)]
    pub extra: BTreeMap<String, toml::Value>,
}

/// Keys of a profile that `rostro config set` accepts.
pub const PROFILE_KEYS: &[(&str, &str)] = &[
    ("base_url", "API base URL (default https://api.rostro.dev)"),
    (
        "mimic_base_url",
        "OpenAI-compatible base URL (default: base_url)",
    ),
    ("auth_header", "bearer | ch-api-key | none"),
    ("default_model", "model for `rostro chat`"),
    (
        "provider",
        "rostro (default) | routstr (a Routstr node, paid with Cashu)",
    ),
    (
        "balance_prefix",
        "routstr: balance (/v1/balance/*, default) | wallet (/v1/wallet/*, older nodes)",
    ),
    (
        WALLET_PREFIX,
        "routstr: true = balance_prefix wallet, false = balance_prefix balance",
    ),
];

/// `wallet_prefix`: a boolean view of `balance_prefix` (not stored on its own).
pub const WALLET_PREFIX: &str = "wallet_prefix";

/// Known providers.
pub const PROVIDERS: &[&str] = &["rostro", "routstr"];

/// The provider of Routstr nodes.
pub const ROUTSTR: &str = "routstr";

impl Profile {
    /// Reads one key.
    pub fn get(&self, key: &str) -> Option<String> {
        match key {
            "base_url" => self.base_url.clone(),
            "mimic_base_url" => self.mimic_base_url.clone(),
            "auth_header" => self.auth_header.clone(),
            "default_model" => self.default_model.clone(),
            "provider" => self.provider.clone(),
            "balance_prefix" => self.balance_prefix.clone(),
            WALLET_PREFIX => self
                .balance_prefix
                .as_deref()
                .map(|p| (p == "wallet").to_string()),
            other => self.extra.get(other).map(|v| match v {
                toml::Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
        }
    }

    /// Sets (or with `None`, removes) one key after validating the value.
    pub fn set(&mut self, key: &str, value: Option<String>) -> CliResult {
        if let Some(v) = &value {
            validate(key, v)?;
        }
        match key {
            "base_url" => self.base_url = value,
            "mimic_base_url" => self.mimic_base_url = value,
            "auth_header" => self.auth_header = value.map(|v| v.to_ascii_lowercase()),
            "default_model" => self.default_model = value,
            "provider" => self.provider = value.map(|v| v.to_ascii_lowercase()),
            "balance_prefix" => self.balance_prefix = value.map(|v| v.to_ascii_lowercase()),
            WALLET_PREFIX => {
                self.balance_prefix = match value {
                    Some(v) => Some(if parse_bool(&v)? { "wallet" } else { "balance" }.to_owned()),
                    None => None,
                }
            }
            other => {
                return Err(CliError::usage(format!(
                    "unknown config key `{other}`; known keys: profile, {}",
                    PROFILE_KEYS
                        .iter()
                        .map(|k| k.0)
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        Ok(())
    }

    /// The auth style, validated.
    pub fn auth_style(&self) -> CliResult<rostro_sdk::AuthStyle> {
        parse_auth_style(self.auth_header.as_deref().unwrap_or("bearer"))
    }

    /// Whether this profile talks to a Routstr node.
    pub fn is_routstr(&self) -> bool {
        self.provider.as_deref() == Some(ROUTSTR)
    }

    /// The Routstr balance prefix, validated.
    pub fn routstr_prefix(&self) -> CliResult<rostro_sdk::routstr::BalancePrefix> {
        parse_balance_prefix(self.balance_prefix.as_deref().unwrap_or("balance"))
    }

    /// Checks the provider.
    pub fn check_provider(&self) -> CliResult {
        match self.provider.as_deref() {
            None => Ok(()),
            Some(p) if PROVIDERS.contains(&p) => Ok(()),
            Some(p) => Err(CliError::usage(format!(
                "provider `{p}` is not supported by this version of rostro (supported: {})",
                PROVIDERS.join(", ")
            ))),
        }
    }
}

/// Parses an `auth_header` value.
pub fn parse_auth_style(v: &str) -> CliResult<rostro_sdk::AuthStyle> {
    match v.to_ascii_lowercase().as_str() {
        "bearer" | "authorization" => Ok(rostro_sdk::AuthStyle::Bearer),
        "ch-api-key" | "chub" | "ch_api_key" => Ok(rostro_sdk::AuthStyle::ChubHeaders),
        "none" => Ok(rostro_sdk::AuthStyle::None),
        other => Err(CliError::usage(format!(
            "invalid auth_header `{other}`: expected bearer, ch-api-key or none"
        ))),
    }
}

/// Parses a `balance_prefix` value.
pub fn parse_balance_prefix(v: &str) -> CliResult<rostro_sdk::routstr::BalancePrefix> {
    use rostro_sdk::routstr::BalancePrefix;
    match v.trim().trim_matches('/').to_ascii_lowercase().as_str() {
        "balance" | "v1/balance" => Ok(BalancePrefix::Balance),
        "wallet" | "v1/wallet" => Ok(BalancePrefix::Wallet),
        other => Err(CliError::usage(format!(
            "invalid balance_prefix `{other}`: expected balance or wallet"
        ))),
    }
}

fn parse_bool(v: &str) -> CliResult<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        other => Err(CliError::usage(format!(
            "invalid boolean `{other}`: expected true or false"
        ))),
    }
}

fn validate(key: &str, v: &str) -> CliResult {
    match key {
        "base_url" | "mimic_base_url" => {
            let u = url::Url::parse(v)
                .map_err(|e| CliError::usage(format!("invalid {key} `{v}`: {e}")))?;
            if !matches!(u.scheme(), "http" | "https") {
                return Err(CliError::usage(format!(
                    "invalid {key} `{v}`: expected an http or https url"
                )));
            }
            Ok(())
        }
        "auth_header" => parse_auth_style(v).map(|_| ()),
        "balance_prefix" => parse_balance_prefix(v).map(|_| ()),
        WALLET_PREFIX => parse_bool(v).map(|_| ()),
        "provider" => Profile {
            provider: Some(v.to_ascii_lowercase()),
            ..Profile::default()
        }
        .check_provider(),
        _ => Ok(()),
    }
}

/// The config directory: `$XDG_CONFIG_HOME/rostro` when set (on every platform, like gh),
/// else the platform's config dir (`$HOME/.config/rostro` on Linux).
pub fn config_dir() -> CliResult<PathBuf> {
    if let Some(x) = crate::ambient::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(x).join("rostro"));
    }
    directories::ProjectDirs::from("dev", "rostro", "rostro")
        .map(|d| d.config_dir().to_path_buf())
        .ok_or_else(|| CliError::msg("cannot find a home directory for the config file"))
}

/// The state directory (REPL history): `$XDG_STATE_HOME/rostro`, else the platform's
/// local data dir.
pub fn state_dir() -> Option<PathBuf> {
    if let Some(x) = crate::ambient::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(x).join("rostro"));
    }
    directories::ProjectDirs::from("dev", "rostro", "rostro").map(|d| {
        d.state_dir()
            .unwrap_or_else(|| d.data_local_dir())
            .to_path_buf()
    })
}

/// The config file path.
pub fn config_path() -> CliResult<PathBuf> {
    Ok(config_dir()?.join("config.toml"))
}

impl Config {
    /// Loads the config file; a missing file is an empty config.
    pub fn load() -> CliResult<Config> {
        Self::load_from(&config_path()?)
    }

    /// Loads from a path.
    pub fn load_from(path: &Path) -> CliResult<Config> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| CliError::msg(format!("invalid config file {}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(CliError::io(path.display(), e)),
        }
    }

    /// Writes the config file (creating its directory).
    pub fn save(&self) -> CliResult<PathBuf> {
        let path = config_path()?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| CliError::io(dir.display(), e))?;
        }
        let text = toml::to_string_pretty(self)
            .map_err(|e| CliError::msg(format!("cannot write the config: {e}")))?;
        std::fs::write(&path, text).map_err(|e| CliError::io(path.display(), e))?;
        Ok(path)
    }

    /// The active profile name: `--profile`, else `ROSTRO_PROFILE`, else the file's
    /// `profile`, else `default`.
    pub fn active_profile_name(&self, flag: Option<&str>) -> String {
        flag.map(str::to_owned)
            .or_else(|| crate::ambient::var(ENV_PROFILE).filter(|v| !v.trim().is_empty()))
            .or_else(|| self.profile.clone())
            .unwrap_or_else(|| DEFAULT_PROFILE.to_owned())
    }

    /// A profile by name (an unknown name is an empty profile).
    pub fn profile(&self, name: &str) -> Profile {
        self.profiles.get(name).cloned().unwrap_or_default()
    }

    /// Fails (exit 2) when `name` is a profile nobody made: not in the config file, no key
    /// stored under it, and not `default`. A mistyped `--profile` would otherwise run on the
    /// defaults, against another account.
    pub fn check_profile(&self, name: &str) -> CliResult {
        if name == DEFAULT_PROFILE || self.profiles.contains_key(name) {
            return Ok(());
        }
        if crate::credentials::load_stored(name)?.is_some() {
            return Ok(());
        }
        let known: Vec<&str> = self.profiles.keys().map(String::as_str).collect();
        let known = if known.is_empty() {
            "there are none yet".to_owned()
        } else {
            format!("known: {}", known.join(", "))
        };
        Err(CliError::usage(format!(
            "no profile `{name}` ({known}); create it with `rostro config set profile.{name}.base_url URL` \
             or `rostro --profile {name} auth login`"
        )))
    }
}

/// The value a profile key has when it is not set (`None`: no default; `mimic_base_url`
/// follows `base_url`).
pub fn default_of(key: &str) -> Option<&'static str> {
    match key {
        "base_url" => Some(rostro_sdk::DEFAULT_BASE_URL),
        "auth_header" => Some("bearer"),
        "provider" => Some("rostro"),
        "balance_prefix" => Some("balance"),
        WALLET_PREFIX => Some("false"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_keeps_unknown_keys() {
        let text = r#"
profile = "work"

[profiles.work]
base_url = "https://example.test"
auth_header = "ch-api-key"
future_key = 3
"#;
        let c: Config = toml::from_str(text).unwrap();
        assert_eq!(c.profile.as_deref(), Some("work"));
        let p = c.profile("work");
        assert_eq!(p.base_url.as_deref(), Some("https://example.test"));
        assert_eq!(p.get("future_key").as_deref(), Some("3"));
        assert_eq!(p.auth_style().unwrap(), rostro_sdk::AuthStyle::ChubHeaders);
        let again: Config = toml::from_str(&toml::to_string_pretty(&c).unwrap()).unwrap();
        assert_eq!(again, c);
    }

    #[test]
    fn validation() {
        let mut p = Profile::default();
        assert!(p.set("base_url", Some("not a url".into())).is_err());
        assert!(p.set("auth_header", Some("cookie".into())).is_err());
        assert!(p.set("provider", Some("openai".into())).is_err());
        assert!(p.set("nope", Some("x".into())).is_err());
        assert!(p.set("balance_prefix", Some("v2".into())).is_err());
        assert!(p.set("wallet_prefix", Some("maybe".into())).is_err());
        p.set("provider", Some("Routstr".into())).unwrap();
        assert!(p.is_routstr());
        p.set("wallet_prefix", Some("true".into())).unwrap();
        assert_eq!(p.get("balance_prefix").as_deref(), Some("wallet"));
        assert_eq!(p.get("wallet_prefix").as_deref(), Some("true"));
        assert_eq!(
            p.routstr_prefix().unwrap(),
            rostro_sdk::routstr::BalancePrefix::Wallet
        );
        p.set("balance_prefix", Some("balance".into())).unwrap();
        assert_eq!(p.get("wallet_prefix").as_deref(), Some("false"));
        p.set("provider", Some("rostro".into())).unwrap();
        p.set("default_model", Some("asha".into())).unwrap();
        assert_eq!(p.get("default_model").as_deref(), Some("asha"));
        p.set("default_model", None).unwrap();
        assert_eq!(p.get("default_model"), None);
    }
}
