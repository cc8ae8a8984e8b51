//! Where API keys live: `ROSTRO_API_KEY`, the OS keyring (service `rostro`, one entry per
//! profile), or — where no keyring service exists — a `0600` file
//! `<config dir>/credentials.toml`.
//!
//! `ROSTRO_KEYRING=off` skips the keyring (tests, containers); `ROSTRO_KEYRING=on` (the
//! default) tries it first.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::config_dir;
use crate::exit::{CliError, CliResult};

/// Keyring service name.
pub const SERVICE: &str = "rostro";
/// Environment variable turning the keyring off (`off`) or on (`on`, default).
pub const ENV_KEYRING: &str = "ROSTRO_KEYRING";
/// How long a keyring call may take before the keyring counts as unavailable.
const KEYRING_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a credential came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The `ROSTRO_API_KEY` environment variable.
    Env,
    /// The OS keyring.
    Keyring,
    /// The fallback file.
    File(PathBuf),
    /// The placeholder key sent to the in-process mock (`--mock`).
    Mock,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Env => f.write_str("ROSTRO_API_KEY"),
            Source::Keyring => f.write_str("the OS keyring"),
            Source::File(p) => write!(f, "{}", p.display()),
            Source::Mock => f.write_str("--mock (placeholder key)"),
        }
    }
}

/// A credential and its source.
#[derive(Clone)]
pub struct Credential {
    /// The key.
    pub token: String,
    /// Where it came from.
    pub source: Source,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("token", &"***")
            .field("source", &self.source)
            .finish()
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CredFile {
    #[serde(default)]
    profiles: BTreeMap<String, CredEntry>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CredEntry {
    token: String,
}

/// The fallback file.
pub fn credentials_path() -> CliResult<PathBuf> {
    Ok(config_dir()?.join("credentials.toml"))
}

fn keyring_enabled() -> bool {
    !matches!(
        crate::ambient::var(ENV_KEYRING)
            .unwrap_or_default()
            .to_ascii_lowercase()
            .as_str(),
        "off" | "0" | "false" | "no" | "file"
    )
}

/// Runs a keyring operation on its own thread (the secret-service backend must not run on
/// a thread that drives an async runtime) with a time limit.
fn with_keyring<T: Send + 'static>(
    profile: &str,
    op: impl FnOnce(keyring::Entry) -> keyring::Result<T> + Send + 'static,
) -> Result<T, String> {
    let profile = profile.to_owned();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let r = keyring::Entry::new(SERVICE, &profile).and_then(op);
        let _ = tx.send(r.map_err(|e| e.to_string()));
    });
    match rx.recv_timeout(KEYRING_TIMEOUT) {
        Ok(r) => r,
        Err(_) => Err("the keyring did not answer in time".into()),
    }
}

/// The stored credential of `profile`, ignoring `ROSTRO_API_KEY`.
pub fn load_stored(profile: &str) -> CliResult<Option<Credential>> {
    if keyring_enabled() {
        let r = with_keyring(profile, |e| match e.get_password() {
            Ok(p) => Ok(Some(p)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e),
        });
        if let Ok(Some(token)) = r {
            return Ok(Some(Credential {
                token,
                source: Source::Keyring,
            }));
        }
    }
    let path = credentials_path()?;
    let file = read_file(&path)?;
    Ok(file.profiles.get(profile).map(|e| Credential {
        token: e.token.clone(),
        source: Source::File(path),
    }))
}

/// The credential in effect: `ROSTRO_API_KEY`, else the stored one.
pub fn load(profile: &str) -> CliResult<Option<Credential>> {
    if let Some(k) = env_key() {
        return Ok(Some(Credential {
            token: k,
            source: Source::Env,
        }));
    }
    load_stored(profile)
}

/// `ROSTRO_API_KEY`, trimmed, if set and not empty.
pub fn env_key() -> Option<String> {
    crate::ambient::var(rostro_sdk::ENV_API_KEY)
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
}

/// Stores `token` for `profile`: in the keyring when one is available, else in the fallback
/// file (the returned warning says why).
pub fn store(profile: &str, token: &str) -> CliResult<(Source, Option<String>)> {
    let mut why = String::from("the keyring is turned off (ROSTRO_KEYRING=off)");
    if keyring_enabled() {
        let t = token.to_owned();
        match with_keyring(profile, move |e| e.set_password(&t)) {
            Ok(()) => {
                // Do not leave an older copy in the file.
                let _ = remove_from_file(profile);
                return Ok((Source::Keyring, None));
            }
            Err(e) => why = format!("no OS keyring is available ({e})"),
        }
    }
    let path = credentials_path()?;
    write_to_file(&path, profile, token)?;
    Ok((
        Source::File(path.clone()),
        Some(format!(
            "{why}; the key was stored in plain text in {} (mode 0600)",
            path.display()
        )),
    ))
}

/// Removes the stored credential of `profile` from the keyring and the file. Returns
/// where something was removed.
pub fn remove(profile: &str) -> CliResult<Vec<Source>> {
    let mut removed = Vec::new();
    if keyring_enabled() {
        let r = with_keyring(profile, |e| match e.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(e),
        });
        if let Ok(true) = r {
            removed.push(Source::Keyring);
        }
    }
    if let Some(p) = remove_from_file(profile)? {
        removed.push(Source::File(p));
    }
    Ok(removed)
}

fn read_file(path: &Path) -> CliResult<CredFile> {
    match std::fs::read_to_string(path) {
        Ok(t) => toml::from_str(&t).map_err(|e| {
            CliError::msg(format!("invalid credentials file {}: {e}", path.display()))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(CredFile::default()),
        Err(e) => Err(CliError::io(path.display(), e)),
    }
}

fn write_file(path: &Path, file: &CredFile) -> CliResult {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| CliError::io(dir.display(), e))?;
    }
    let text = toml::to_string_pretty(file)
        .map_err(|e| CliError::msg(format!("cannot encode credentials: {e}")))?;
    let tmp = path.with_extension("toml.tmp");
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts
            .open(&tmp)
            .map_err(|e| CliError::io(tmp.display(), e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // The file may have existed with wider permissions.
            f.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(|e| CliError::io(tmp.display(), e))?;
        }
        std::io::Write::write_all(&mut f, text.as_bytes())
            .map_err(|e| CliError::io(tmp.display(), e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| CliError::io(path.display(), e))?;
    Ok(())
}

fn write_to_file(path: &Path, profile: &str, token: &str) -> CliResult {
    let mut file = read_file(path)?;
    file.profiles.insert(
        profile.to_owned(),
        CredEntry {
            token: token.to_owned(),
        },
    );
    write_file(path, &file)
}

fn remove_from_file(profile: &str) -> CliResult<Option<PathBuf>> {
    let path = credentials_path()?;
    let mut file = read_file(&path)?;
    if file.profiles.remove(profile).is_none() {
        return Ok(None);
    }
    write_file(&path, &file)?;
    Ok(Some(path))
}

/// Masks a key for display: `ch-1…f3a9` (never the whole key).
pub fn mask(token: &str) -> String {
    let chars: Vec<char> = token.chars().collect();
    if chars.len() <= 8 {
        return "****".into();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_never_shows_the_key() {
        assert_eq!(mask("short"), "****");
        let m = mask("ch-secret-key-123456");
        assert_eq!(m, "ch-…3456");
        assert!(!m.contains("secret"));
    }

    #[test]
    fn keyring_mock_store_roundtrip() {
        // keyring's in-memory mock store: exercises the Entry calls used above without
        // touching a real keyring.
        keyring::set_default_credential_builder(keyring::mock::default_credential_builder());
        let e = keyring::Entry::new(SERVICE, "unit-test").unwrap();
        e.set_password("tok-123").unwrap();
        assert_eq!(e.get_password().unwrap(), "tok-123");
        e.delete_credential().unwrap();
        assert!(matches!(e.get_password(), Err(keyring::Error::NoEntry)));
    }

    #[test]
    fn file_roundtrip_is_private() {
        let dir = std::env::temp_dir().join(format!("rostro-cred-test-{}", std::process::id()));
        let path = dir.join("credentials.toml");
        write_to_file(&path, "p1", "tok-1").unwrap();
        write_to_file(&path, "p2", "tok-2").unwrap();
        let f = read_file(&path).unwrap();
        assert_eq!(f.profiles["p1"].token, "tok-1");
        assert_eq!(f.profiles["p2"].token, "tok-2");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
