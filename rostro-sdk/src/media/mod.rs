//! The hand-tuned media layer: generate media and wait for it, download it, upload files, and
//! walk paginated lists.
//!
//! * [`imagine`]: [`GenerationSpec`] (one checked constructor per generation type),
//!   [`ImagineApi::generate`](crate::generated::imagine::ImagineApi::generate) ->
//!   [`Generation`] -> [`wait`](Generation::wait) (polling with backoff, timeout, progress) ->
//!   [`CompletedGeneration::download`].
//! * [`upload`]: multipart uploads ([`Client::upload`](crate::Client::upload)) and the gallery's
//!   base64 JSON upload, both streamed from a [`FilePart`](crate::request::FilePart) (a path,
//!   bytes or an `AsyncRead`: every upload takes that one type), with progress.
//! * `chunked` (feature `engine`): large files in parallel parts, resumable after a crash.
//! * [`paginate`]: `.stream()` on every paginated builder, items across pages.
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use rostro_sdk::Client;
//! use std::path::Path;
//! use rostro_sdk::media::GenerationSpec;
//!
//! # async fn run(client: Client) -> rostro_sdk::Result<()> {
//! // Generate an image, wait for it with progress, download it.
//! let spec = GenerationSpec::text_to_image("a lighthouse at dusk").aspect_ratio("16:9");
//! let done = client
//!     .imagine()
//!     .generate(spec)
//!     .await?
//!     .on_progress(|p| eprintln!("{:?} after {:?} (check {})", p.state, p.elapsed, p.attempt))
//!     .wait()
//!     .await?;
//! let files = done.download("./out").await?;
//! println!("{} ({} bytes, sha256 {})", files.primary.path.display(), files.primary.size, files.primary.sha256);
//!
//! // Upload a picture to a project's gallery (base64 JSON, streamed).
//! let item = client.gallery().upload_file(172700, Path::new("cover.png")).send().await?;
//! println!("uploaded {:?}", item.uuid);
//!
//! // The first 50 search results, across pages.
//! let nodes: Vec<_> = client.search().list().search("wizard").stream_limit(50).try_collect().await?;
//! println!("{} characters", nodes.len());
//! # Ok(())
//! # }
//! ```

pub(crate) mod body;
#[cfg(feature = "engine")]
pub mod chunked;
pub mod download;
pub mod imagine;
pub mod paginate;
pub mod upload;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

#[cfg(feature = "engine")]
pub use chunked::{ChunkedUpload, ChunkedUploadResult, PauseSignal, UploadState};
pub use download::{Download, DownloadedFile, DownloadedMedia, MediaStream};
pub use imagine::{
    CompletedGeneration, Generation, GenerationSpec, GenerationState, GenerationStatus, ImageInput,
    PollEndpoint, TimedOperation, WaitProgress,
};
pub use paginate::{ItemStream, Paginated};
pub use upload::{GalleryUploadFile, MultipartOperation, MultipartUpload};

use crate::types::RejectionReason;

/// A media workflow failure that is not an HTTP error, carried by
/// [`Error::Media`](crate::Error::Media).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The generation finished with `is_failed: true`.
    #[error("generation {generation_uuid} failed: {}", FmtReason(.reason, .location))]
    #[non_exhaustive]
    GenerationFailed {
        /// The generation's uuid.
        generation_uuid: String,
        /// `error.reason` as the service reported it (`explicit_text`, `out_of_credits`, ...).
        reason: Option<RejectionReason>,
        /// `error.location`, when reported.
        location: Option<String>,
    },
    /// [`Generation::wait`] gave up; the generation may still finish, resume it with
    /// [`ImagineApi::resume`](crate::generated::imagine::ImagineApi::resume).
    #[error("generation {generation_uuid} still running after {waited:?} ({checks} checks)")]
    #[non_exhaustive]
    WaitTimedOut {
        /// The generation's uuid.
        generation_uuid: String,
        /// How long [`Generation::wait`] waited.
        waited: Duration,
        /// How many checks it made.
        checks: u32,
    },
    /// The generation finished but reported no media URL to download.
    #[error("generation {generation_uuid} finished without a media url")]
    #[non_exhaustive]
    NoMedia {
        /// The generation's uuid.
        generation_uuid: String,
    },
    /// What arrived does not hash to what was expected.
    #[error("{what}: sha256 {actual} does not match the expected {expected}")]
    #[non_exhaustive]
    ChecksumMismatch {
        /// The file or part concerned.
        what: String,
        /// Expected hex SHA-256.
        expected: String,
        /// Hex SHA-256 found.
        actual: String,
    },
    /// A transfer ended with a different number of bytes than announced.
    #[error("{what}: {actual} bytes instead of {expected}")]
    #[non_exhaustive]
    SizeMismatch {
        /// The file or part concerned.
        what: String,
        /// Bytes announced.
        expected: u64,
        /// Bytes seen.
        actual: u64,
    },
    /// A saved chunked-upload state does not fit the file or the server's answer.
    #[error("cannot resume the upload: {message}")]
    #[non_exhaustive]
    ResumeMismatch {
        /// What does not match.
        message: String,
    },
    /// A chunked upload stopped at a [`PauseSignal`]: the parts in
    /// flight were finished and saved, the others wait for a resume.
    #[error("upload {upload_id} paused after {parts_done} of {part_count} parts")]
    #[non_exhaustive]
    Paused {
        /// The server's upload id.
        upload_id: String,
        /// Parts stored so far.
        parts_done: u32,
        /// All parts.
        part_count: u32,
    },
}

impl MediaError {
    /// Wraps this error into the SDK's [`Error`](crate::Error) for `operation`.
    pub(crate) fn into_error(self, operation: &'static str) -> crate::Error {
        crate::Error::Media {
            operation,
            source: Box::new(self),
        }
    }
}

struct FmtReason<'a>(&'a Option<RejectionReason>, &'a Option<String>);

impl fmt::Display for FmtReason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(reason) => f.write_str(reason.as_str())?,
            None => f.write_str("no reason given")?,
        }
        match self.1 {
            Some(location) => write!(f, " (at {location})"),
            None => Ok(()),
        }
    }
}

/// Progress of one transfer (an upload, a download, or a chunked upload as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransferProgress {
    /// Bytes of the file(s) sent or received so far (before any base64 or multipart framing).
    pub bytes: u64,
    /// Total bytes, when known.
    pub total: Option<u64>,
    /// What is transferred: the file name for uploads, the media label (`primary`, `texture`,
    /// ...) for downloads.
    pub label: Arc<str>,
}

impl TransferProgress {
    /// `bytes / total` in `0.0..=1.0`, when the total is known.
    pub fn fraction(&self) -> Option<f64> {
        match self.total {
            Some(0) => Some(1.0),
            Some(total) => Some((self.bytes as f64 / total as f64).min(1.0)),
            None => None,
        }
    }
}

/// A progress callback shared by the tasks of a transfer.
pub(crate) type ProgressFn = Arc<dyn Fn(TransferProgress) + Send + Sync>;

/// Hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(hasher: sha2::Sha256) -> String {
    use sha2::Digest;
    hex::encode(hasher.finalize())
}
