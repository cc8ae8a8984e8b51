//! `rostro mock reset|path`: the persistent sandbox behind `--mock`, and the sandbox's
//! own credentials (so `--mock` never reads or writes the real stored key).
//!
//! The sandbox lives in `$ROSTRO_MOCK_DIR` when set, else `sandbox/` in the state
//! directory (`$XDG_STATE_HOME/rostro`, or the platform's). Every `rostro --mock` command
//! serves that directory (`state.json`, locked per request), and so can a standalone
//! `rostro-mock --state-dir DIR`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Subcommand;
use serde_json::json;

use crate::credentials::{Credential, Source};
use crate::ctx::Ctx;
use crate::exit::{CliError, CliResult};

/// Overrides where the `--mock` sandbox keeps its state.
pub const ENV_MOCK_DIR: &str = "ROSTRO_MOCK_DIR";

/// `rostro mock ...`
#[derive(Debug, Subcommand)]
pub enum MockCmd {
    /// Forget everything the `--mock` sandbox stored (generations, uploads, lore,
    /// personas, balances, sandbox keys)
    Reset,
    /// Print the sandbox directory (serve it with `rostro-mock --state-dir DIR`)
    Path,
}

/// The sandbox directory: `$ROSTRO_MOCK_DIR`, else `<state dir>/sandbox`.
pub fn sandbox_dir() -> CliResult<PathBuf> {
    if let Some(d) = crate::ambient::var_os(ENV_MOCK_DIR).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    crate::config::state_dir()
        .map(|d| d.join("sandbox"))
        .ok_or_else(|| {
            CliError::msg(format!(
                "cannot find a home directory for the --mock sandbox; set {ENV_MOCK_DIR}"
            ))
        })
}

fn credentials_path() -> CliResult<PathBuf> {
    Ok(sandbox_dir()?.join("credentials.json"))
}

fn read_keys() -> CliResult<BTreeMap<String, String>> {
    let path = credentials_path()?;
    match std::fs::read_to_string(&path) {
        Ok(t) => serde_json::from_str(&t).map_err(|e| {
            CliError::msg(format!(
                "{} is not a sandbox credentials file ({e}); run `rostro mock reset`",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(CliError::io(path.display(), e)),
    }
}

fn write_keys(keys: &BTreeMap<String, String>) -> CliResult<PathBuf> {
    let path = credentials_path()?;
    let dir = sandbox_dir()?;
    std::fs::create_dir_all(&dir).map_err(|e| CliError::io(dir.display(), e))?;
    let tmp = dir.join(format!("credentials.json.{}.tmp", std::process::id()));
    let text = serde_json::to_string_pretty(keys).unwrap_or_else(|_| "{}".into());
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| CliError::io(path.display(), e))?;
    Ok(path)
}

/// The sandbox's stored key of `profile`, if `rostro --mock auth login` stored one.
pub fn load_key(profile: &str) -> CliResult<Option<Credential>> {
    let path = credentials_path()?;
    Ok(read_keys()?.remove(profile).map(|token| Credential {
        token,
        source: Source::File(path),
    }))
}

/// Stores a sandbox key for `profile`; returns where.
pub fn store_key(profile: &str, token: &str) -> CliResult<PathBuf> {
    let mut keys = read_keys()?;
    keys.insert(profile.to_owned(), token.to_owned());
    write_keys(&keys)
}

/// Removes the sandbox key of `profile`; returns where it was, if there was one.
pub fn remove_key(profile: &str) -> CliResult<Option<PathBuf>> {
    let mut keys = read_keys()?;
    if keys.remove(profile).is_none() {
        return Ok(None);
    }
    write_keys(&keys).map(Some)
}

/// Runs `rostro mock`.
pub fn run(ctx: &Ctx, cmd: MockCmd) -> CliResult {
    let dir = sandbox_dir()?;
    match cmd {
        MockCmd::Path => {
            if ctx.out.json {
                return ctx.out.json_value(&json!({ "path": dir }));
            }
            ctx.out.line(&dir.display().to_string())
        }
        MockCmd::Reset => {
            reset(&dir)?;
            if ctx.out.json {
                return ctx.out.json_value(&json!({ "path": dir, "reset": true }));
            }
            ctx.out
                .success(&format!("Reset the --mock sandbox in {}", dir.display()));
            Ok(())
        }
    }
}

#[cfg(feature = "mock")]
fn reset(dir: &std::path::Path) -> CliResult {
    rostro_mock::sandbox::reset(dir).map_err(|e| CliError::msg(e.to_string()))?;
    match std::fs::remove_file(dir.join("credentials.json")) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(CliError::io(dir.display(), e)),
    }
}

#[cfg(not(feature = "mock"))]
fn reset(_dir: &std::path::Path) -> CliResult {
    Err(CliError::usage(
        "this rostro was built without the `mock` feature; there is no sandbox to reset",
    ))
}
