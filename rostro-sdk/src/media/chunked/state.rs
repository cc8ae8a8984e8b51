//! [`UploadState`]: where a chunked upload stands, saved to continue it later.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::generated::engine_upload::ENGINE_UPLOAD_START;
use crate::media::MediaError;
use crate::{Error, Result};

/// Where a chunked upload stands: saved after every part, enough to continue it later.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UploadState {
    /// Format version of this state (1).
    pub version: u32,
    /// The server's upload id.
    pub upload_id: String,
    /// The storage key, when the server gave one.
    pub key: Option<String>,
    /// The file being uploaded.
    pub file: PathBuf,
    /// Its size when the upload started.
    pub file_size: u64,
    /// Its modification time when the upload started (milliseconds since the Unix epoch).
    pub modified_ms: Option<u64>,
    /// The file name sent to the server.
    pub file_name: String,
    /// The content type sent to the server.
    pub content_type: Option<String>,
    /// Bytes per part (the last part may be shorter).
    pub part_size: u64,
    /// Number of parts.
    pub part_count: u32,
    /// Parts stored so far: part number -> `ETag`.
    pub completed: BTreeMap<u32, String>,
}

impl UploadState {
    /// Part numbers not uploaded yet, in order.
    pub fn missing_parts(&self) -> Vec<u32> {
        (1..=self.part_count)
            .filter(|n| !self.completed.contains_key(n))
            .collect()
    }

    /// Bytes of the parts uploaded so far.
    pub fn completed_bytes(&self) -> u64 {
        self.completed.keys().map(|n| self.part_len(*n)).sum()
    }

    pub(super) fn part_len(&self, n: u32) -> u64 {
        let offset = u64::from(n - 1) * self.part_size;
        self.part_size.min(self.file_size.saturating_sub(offset))
    }

    /// Reads a state saved by [`save`](Self::save) or by an upload's
    /// [`state_file`](super::ChunkedUpload::state_file).
    pub async fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|source| state_io(path, source))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            MediaError::ResumeMismatch {
                message: format!("{} is not an upload state: {e}", path.display()),
            }
            .into_error(ENGINE_UPLOAD_START.id)
        })
    }

    /// Writes the state atomically (a temporary file renamed over `path`).
    pub async fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let json = serde_json::to_vec_pretty(self).map_err(|e| Error::InvalidRequest {
            operation: ENGINE_UPLOAD_START.id,
            message: format!("could not serialize the upload state: {e}"),
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "upload-state".into());
        let temp = path.with_file_name(format!(".{name}.tmp"));
        tokio::fs::write(&temp, json)
            .await
            .map_err(|source| state_io(&temp, source))?;
        tokio::fs::rename(&temp, path)
            .await
            .map_err(|source| state_io(path, source))
    }
}

fn state_io(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        operation: ENGINE_UPLOAD_START.id,
        path: Some(path.to_path_buf()),
        source,
    }
}
