//! The upload manifest: one NDJSON record per file (its path losslessly, even when it is
//! not UTF-8), appended as files finish and read back by `--resume`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::exit::{CliError, CliResult};

/// One manifest line (its JSON form is [`RecordLine`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(into = "RecordLine", try_from = "RecordLine")]
pub struct Record {
    /// The file.
    pub path: PathBuf,
    /// Its size.
    pub size: u64,
    /// Hex SHA-256 of its bytes.
    #[serde(default)]
    pub sha256: String,
    /// `ok` or `error`.
    pub status: String,
    /// The new gallery item's uuid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A [`Record`] as written: the path as text when it is UTF-8, else as its raw bytes, so that
/// every file is recorded, whatever its name, and `--resume` finds it again.
#[derive(Debug, Serialize, Deserialize)]
struct RecordLine {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    /// Base64 of the raw path (Unix bytes; Windows UTF-16LE code units).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path_bytes: Option<String>,
    /// With `path_bytes`: a lossy rendering for people, never read back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    path_display: Option<String>,
    size: u64,
    #[serde(default)]
    sha256: String,
    status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uuid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl From<Record> for RecordLine {
    fn from(r: Record) -> Self {
        let (path, path_bytes, path_display) = match r.path.to_str() {
            Some(p) => (Some(p.to_owned()), None, None),
            None => (
                None,
                Some(B64.encode(path_to_bytes(&r.path))),
                Some(r.path.to_string_lossy().into_owned()),
            ),
        };
        RecordLine {
            path,
            path_bytes,
            path_display,
            size: r.size,
            sha256: r.sha256,
            status: r.status,
            uuid: r.uuid,
            error: r.error,
        }
    }
}

impl TryFrom<RecordLine> for Record {
    type Error = String;

    fn try_from(l: RecordLine) -> Result<Self, String> {
        let path = match (l.path, l.path_bytes) {
            (Some(p), _) => PathBuf::from(p),
            (None, Some(b)) => {
                let raw = B64
                    .decode(b.trim())
                    .map_err(|e| format!("`path_bytes` is not base64: {e}"))?;
                path_from_bytes(raw)?
            }
            (None, None) => return Err("a record needs `path` or `path_bytes`".into()),
        };
        Ok(Record {
            path,
            size: l.size,
            sha256: l.sha256,
            status: l.status,
            uuid: l.uuid,
            error: l.error,
        })
    }
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[cfg(unix)]
fn path_to_bytes(p: &Path) -> Vec<u8> {
    std::os::unix::ffi::OsStrExt::as_bytes(p.as_os_str()).to_vec()
}

#[cfg(unix)]
fn path_from_bytes(b: Vec<u8>) -> Result<PathBuf, String> {
    Ok(PathBuf::from(
        <std::ffi::OsString as std::os::unix::ffi::OsStringExt>::from_vec(b),
    ))
}

#[cfg(windows)]
fn path_to_bytes(p: &Path) -> Vec<u8> {
    std::os::windows::ffi::OsStrExt::encode_wide(p.as_os_str())
        .flat_map(u16::to_le_bytes)
        .collect()
}

#[cfg(windows)]
fn path_from_bytes(b: Vec<u8>) -> Result<PathBuf, String> {
    if b.len() % 2 != 0 {
        return Err("`path_bytes` is not UTF-16LE (odd length)".into());
    }
    let wide: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    Ok(PathBuf::from(
        <std::ffi::OsString as std::os::windows::ffi::OsStringExt>::from_wide(&wide),
    ))
}

#[cfg(not(any(unix, windows)))]
fn path_to_bytes(p: &Path) -> Vec<u8> {
    p.to_string_lossy().into_owned().into_bytes()
}

#[cfg(not(any(unix, windows)))]
fn path_from_bytes(b: Vec<u8>) -> Result<PathBuf, String> {
    String::from_utf8(b)
        .map(PathBuf::from)
        .map_err(|_| "`path_bytes` is not UTF-8 on this platform".into())
}

/// The last record of every path in a manifest.
pub(super) fn read_manifest(path: &Path) -> CliResult<BTreeMap<PathBuf, Record>> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::io(path.display(), e))?;
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let r: Record = serde_json::from_str(line).map_err(|e| {
            CliError::usage(format!(
                "{}:{}: not a manifest record: {e}",
                path.display(),
                i + 1
            ))
        })?;
        out.insert(r.path.clone(), r);
    }
    Ok(out)
}

pub(super) fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(hex::encode(h.finalize()))
}

/// Appends records to the manifest as files finish (so a crash loses nothing).
pub(super) struct ManifestWriter {
    file: Option<std::fs::File>,
}

impl ManifestWriter {
    pub(super) fn open(path: Option<&Path>, append: bool) -> CliResult<ManifestWriter> {
        let file = match path {
            Some(p) => {
                if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| CliError::io(dir.display(), e))?;
                }
                Some(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(append)
                        .write(true)
                        .truncate(!append)
                        .open(p)
                        .map_err(|e| CliError::io(p.display(), e))?,
                )
            }
            None => None,
        };
        Ok(ManifestWriter { file })
    }

    pub(super) fn write(&mut self, r: &Record) -> CliResult {
        if let Some(f) = &mut self.file {
            let line = serde_json::to_string(r)?;
            writeln!(f, "{line}").map_err(|e| CliError::io("manifest", e))?;
            f.flush().map_err(|e| CliError::io("manifest", e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_last_record_wins() {
        let dir = std::env::temp_dir().join(format!("rostro-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let m = dir.join("m.ndjson");
        let mut w = ManifestWriter::open(Some(&m), false).unwrap();
        let mut r = Record {
            path: "a.png".into(),
            size: 1,
            sha256: "x".into(),
            status: "error".into(),
            uuid: None,
            error: Some("boom".into()),
        };
        w.write(&r).unwrap();
        r.status = "ok".into();
        r.error = None;
        r.uuid = Some("u".into());
        w.write(&r).unwrap();
        let got = read_manifest(&m).unwrap();
        assert_eq!(got[Path::new("a.png")].status, "ok");
        let _ = std::fs::remove_dir_all(dir);
    }
}
