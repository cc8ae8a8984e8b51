//! Downloads of generated media: streamed to disk, hashed on the way, atomically renamed.
//!
//! Each file is written to a hidden temporary file (`.<name>.<random>.part`) in the target
//! directory and renamed to its final name only once every byte announced arrived; a failed,
//! interrupted or cancelled download removes its temporary file and leaves nothing under the
//! final name. Media URLs are absolute and often on another host (a CDN): they are fetched
//! directly, with the API key only when the URL is on the API's own origin.
//! [`Download::stream`] hands the primary file's bytes over as they arrive instead (e.g. for
//! stdout), through the same send path.
//!
//! ```no_run
//! use rostro_sdk::Client;
//! use rostro_sdk::media::Download;
//!
//! # async fn run(client: Client) -> rostro_sdk::Result<()> {
//! let done = client.imagine().resume("b9ae-6f64957f986a").wait().await?;
//! let media = done
//!     .download("./out/") // a directory: files keep their names from the URLs
//!     .on_progress(|p| eprintln!("{}: {} / {:?}", p.label, p.bytes, p.total))
//!     .await?;
//! for file in std::iter::once(&media.primary).chain(&media.secondary) {
//!     println!("{} {} {} bytes sha256 {}", file.label, file.path.display(), file.size, file.sha256);
//! }
//!
//! // Any URL, to a file path.
//! let one = Download::url(&client, "https://cdn.example/a.png", "a.png").await?;
//! # let _ = one;
//! # Ok(())
//! # }
//! ```

mod names;
mod stream;

use std::fmt;
use std::future::{Future, IntoFuture};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use reqwest::header::{self, HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt as _;
use tokio::time::timeout;

use super::upload::progress_fn;
use super::{MediaError, ProgressFn, TransferProgress, sha256_hex};
use crate::retry::RetryBudget;
use crate::transport::{ForeignRequest, body_error};
use crate::{Client, Error, Result};
use names::{file_name_for, is_dir_target, sanitize, url_file_name};
pub use stream::MediaStream;

/// The operation name downloads report in errors.
pub const DOWNLOAD_OPERATION: &str = "download_media";

/// The download as an operation of the send path (the URL is absolute, not `path`).
static DOWNLOAD_OP: crate::request::Operation = crate::request::Operation {
    id: DOWNLOAD_OPERATION,
    method: crate::request::HttpMethod::Get,
    path: "{media_url}",
    base: crate::request::Base::Api,
};

/// One downloaded file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadedFile {
    /// `primary`, or the secondary media's name (`texture`, ...).
    pub label: String,
    /// Where it came from.
    pub url: String,
    /// Where it is now.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Hex SHA-256 of its bytes.
    pub sha256: String,
    /// The `Content-Type` it was served with.
    pub content_type: Option<String>,
}

/// The files of a generation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadedMedia {
    /// The primary media.
    pub primary: DownloadedFile,
    /// Secondary media (textures, ...), in name order.
    pub secondary: Vec<DownloadedFile>,
}

/// A pending download of one or more media files; `.await` it (or call
/// [`send`](Self::send)).
///
/// ```no_run
/// use rostro_sdk::media::Download;
///
/// # async fn run(client: rostro_sdk::Client) -> rostro_sdk::Result<()> {
/// let saved = Download::url(&client, "https://cdn.example/media/a.png", "a.png")
///     .on_progress(|p| eprintln!("{} of {:?} bytes", p.bytes, p.total))
///     .await?;
/// println!("{}", saved.primary.sha256);
/// # Ok(())
/// # }
/// ```
#[must_use = "a download does nothing until awaited"]
pub struct Download {
    client: Client,
    name: String,
    files: Vec<(String, String)>,
    target: PathBuf,
    progress: Option<ProgressFn>,
    max_retries: Option<u32>,
    overwrite: bool,
}

impl fmt::Debug for Download {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Download")
            .field("files", &self.files)
            .field("target", &self.target)
            .field("max_retries", &self.max_retries)
            .field("overwrite", &self.overwrite)
            .finish_non_exhaustive()
    }
}

impl Download {
    pub(crate) fn new(
        client: &Client,
        name: String,
        files: Vec<(String, String)>,
        target: PathBuf,
    ) -> Self {
        Download {
            client: client.clone(),
            name,
            files,
            target,
            progress: None,
            max_retries: None,
            overwrite: false,
        }
    }

    /// A download of any URL to `target` (a directory or a file path).
    pub fn url(client: &Client, url: impl Into<String>, target: impl Into<PathBuf>) -> Self {
        Download::new(
            client,
            "download".into(),
            vec![("primary".into(), url.into())],
            target.into(),
        )
    }

    /// Called as bytes arrive (per file: `label` names it).
    pub fn on_progress(mut self, f: impl Fn(TransferProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(progress_fn(f));
        self
    }

    /// Retries per file after connection errors, broken transfers, 408, 429 and 5xx
    /// (default: the client's `max_retries`). A retry starts the file over.
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = Some(n);
        self
    }

    /// Replace files that already exist. By default a file already at the target path is an
    /// error ([`std::io::ErrorKind::AlreadyExists`], before anything is downloaded) and a file
    /// put there while downloading is never replaced (the final rename refuses too).
    pub fn overwrite(mut self, yes: bool) -> Self {
        self.overwrite = yes;
        self
    }

    /// Downloads every file, one after the other.
    ///
    /// A directory target (one that exists, or a path ending in `/`) is created if missing;
    /// a file target's directory must exist already, so a mistyped path creates nothing.
    pub async fn send(self) -> Result<DownloadedMedia> {
        let Some(((primary_label, primary_url), rest)) = self.files.split_first() else {
            return Err(MediaError::NoMedia {
                generation_uuid: self.name.clone(),
            }
            .into_error(DOWNLOAD_OPERATION));
        };
        let into_dir = is_dir_target(&self.target);
        let (dir, primary_path) = if into_dir {
            (self.target.clone(), None)
        } else {
            let dir = match self.target.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            (dir, Some(self.target.clone()))
        };
        if into_dir {
            tokio::fs::create_dir_all(&dir)
                .await
                .map_err(|source| io_error(&dir, source))?;
        } else if !dir.is_dir() {
            return Err(io_error(
                &dir,
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "the directory to download into does not exist",
                ),
            ));
        }
        if let Some(path) = &primary_path
            && !self.overwrite
            && path.exists()
        {
            return Err(exists_error(path));
        }
        let mut taken: Vec<PathBuf> = Vec::new();
        let primary = self
            .fetch(primary_label, primary_url, &dir, primary_path, &mut taken)
            .await?;
        let mut secondary = Vec::with_capacity(rest.len());
        for (label, url) in rest {
            let path = if into_dir {
                None
            } else {
                let stem = self
                    .target
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "media".into());
                let ext = url_file_name(url)
                    .and_then(|n| n.rsplit_once('.').map(|(_, e)| e.to_owned()))
                    .map(|e| format!(".{e}"))
                    .unwrap_or_default();
                Some(dir.join(format!("{stem}-{}{ext}", sanitize(label))))
            };
            secondary.push(self.fetch(label, url, &dir, path, &mut taken).await?);
        }
        Ok(DownloadedMedia { primary, secondary })
    }

    /// Downloads one file. The send path retries what fails before the response headers;
    /// a body that breaks off after them can only be retried here (the send path hands the
    /// response over with its headers), with the same backoff and one shared
    /// [`RetryBudget`]: at most `max_retries + 1` attempts in all.
    async fn fetch(
        &self,
        label: &str,
        url: &str,
        dir: &Path,
        path: Option<PathBuf>,
        taken: &mut Vec<PathBuf>,
    ) -> Result<DownloadedFile> {
        let url = resolve_url(&self.client, url)?;
        let mut budget = RetryBudget::new(self.max_retries.unwrap_or(self.client.max_retries()));
        let label: Arc<str> = Arc::from(label);
        loop {
            let (resp, attempts) = self
                .client
                .execute_foreign_raw(media_request(&self.client, url.clone(), &budget))
                .await;
            budget.spend_send(attempts);
            match self
                .save(resp?, &label, &url, dir, path.as_deref(), taken)
                .await
            {
                Ok(file) => {
                    taken.push(file.path.clone());
                    return Ok(file);
                }
                Err((error, retryable)) => {
                    let wait = retryable
                        .then(|| budget.next_wait(&self.client.inner.backoff))
                        .flatten();
                    let Some(wait) = wait else { return Err(error) };
                    tracing::debug!(operation = DOWNLOAD_OPERATION, reason = %error, wait_ms = wait.as_millis() as u64, "retrying rostro request");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Streams one response body to its file; the flag says whether another attempt may
    /// succeed.
    async fn save(
        &self,
        mut resp: reqwest::Response,
        label: &Arc<str>,
        url: &reqwest::Url,
        dir: &Path,
        path: Option<&Path>,
        taken: &[PathBuf],
    ) -> std::result::Result<DownloadedFile, (Error, bool)> {
        let content_type = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let total = resp.content_length();
        let final_path = match path {
            Some(p) => p.to_path_buf(),
            None => dir.join(file_name_for(
                &self.name,
                label,
                url,
                content_type.as_deref(),
                taken,
                dir,
            )),
        };
        let final_name = final_path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "media".into());
        let temp_path = final_path.with_file_name(format!(
            ".{final_name}.{}.part",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        ));
        let mut guard = TempFile(Some(temp_path.clone()));
        let mut file = tokio::fs::File::create(&temp_path)
            .await
            .map_err(|e| (io_error(&temp_path, e), false))?;
        let (size, hasher) = self
            .copy_body(&mut resp, &mut file, &temp_path, label, total)
            .await?;
        if let Some(expected) = total
            && expected != size
        {
            return Err((
                MediaError::SizeMismatch {
                    what: url.to_string(),
                    expected,
                    actual: size,
                }
                .into_error(DOWNLOAD_OPERATION),
                true,
            ));
        }
        file.flush()
            .await
            .map_err(|e| (io_error(&temp_path, e), false))?;
        file.sync_all()
            .await
            .map_err(|e| (io_error(&temp_path, e), false))?;
        drop(file);
        place(&temp_path, &final_path, self.overwrite)
            .await
            .map_err(|e| (e, false))?;
        guard.disarm();
        Ok(DownloadedFile {
            label: label.to_string(),
            url: url.to_string(),
            path: final_path,
            size,
            sha256: sha256_hex(hasher),
            content_type,
        })
    }
}

impl Download {
    /// Writes the body to `file` chunk by chunk (each read bounded by the client's timeout),
    /// hashing and reporting progress: its size and hash.
    async fn copy_body(
        &self,
        resp: &mut reqwest::Response,
        file: &mut tokio::fs::File,
        temp_path: &Path,
        label: &Arc<str>,
        total: Option<u64>,
    ) -> std::result::Result<(u64, Sha256), (Error, bool)> {
        let timeout_after = self.client.inner.timeout;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let report = |bytes| {
            if let Some(cb) = &self.progress {
                cb(TransferProgress {
                    bytes,
                    total,
                    label: label.clone(),
                });
            }
        };
        report(0);
        loop {
            let chunk = match timeout(timeout_after, resp.chunk()).await {
                Err(_) => return Err((timeout_error(timeout_after), true)),
                Ok(Err(e)) => {
                    let error = body_error(DOWNLOAD_OPERATION, e, timeout_after);
                    return Err((error, true));
                }
                Ok(Ok(None)) => return Ok((size, hasher)),
                Ok(Ok(Some(chunk))) => chunk,
            };
            hasher.update(&chunk);
            file.write_all(&chunk)
                .await
                .map_err(|e| (io_error(temp_path, e), false))?;
            size += chunk.len() as u64;
            report(size);
        }
    }
}

impl IntoFuture for Download {
    type Output = Result<DownloadedMedia>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<DownloadedMedia>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// Puts the finished temporary file at its final path. Without `overwrite` a hard link does
/// it, which fails if the path exists (no check-then-rename race); where the file system has
/// no hard links, the existence check and a rename do.
async fn place(temp: &Path, target: &Path, overwrite: bool) -> Result<()> {
    if overwrite {
        return tokio::fs::rename(temp, target)
            .await
            .map_err(|e| io_error(target, e));
    }
    match tokio::fs::hard_link(temp, target).await {
        Ok(()) => {
            let _ = tokio::fs::remove_file(temp).await;
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(exists_error(target)),
        Err(_) if target.exists() => Err(exists_error(target)),
        Err(_) => tokio::fs::rename(temp, target)
            .await
            .map_err(|e| io_error(target, e)),
    }
}

fn exists_error(path: &Path) -> Error {
    io_error(
        path,
        std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "a file is already there (choose another path, or allow overwriting)",
        ),
    )
}

/// Removes the temporary file unless disarmed (also when the future is dropped).
struct TempFile(Option<PathBuf>);

impl TempFile {
    fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// An absolute URL, or a path relative to the API base (`/img.png`).
fn resolve_url(client: &Client, url: &str) -> Result<reqwest::Url> {
    let invalid = |e: url::ParseError| Error::InvalidRequest {
        operation: DOWNLOAD_OPERATION,
        message: format!("invalid media url `{url}`: {e}"),
    };
    match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(u),
        Ok(u) => Err(Error::InvalidRequest {
            operation: DOWNLOAD_OPERATION,
            message: format!("unsupported media url scheme `{}`", u.scheme()),
        }),
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            let base = reqwest::Url::parse(&format!("{}/", client.base_url())).map_err(invalid)?;
            base.join(url.trim_start_matches('/')).map_err(invalid)
        }
        Err(e) => Err(invalid(e)),
    }
}

/// Headers for a media GET: the client's defaults (with the key) only on the API's own
/// origin, else just `User-Agent` (a CDN must not see the key).
fn media_headers(client: &Client, url: &reqwest::Url) -> HeaderMap {
    let inner = &*client.inner;
    let mut headers = HeaderMap::new();
    let same_origin =
        reqwest::Url::parse(&inner.api_base).is_ok_and(|base| base.origin() == url.origin());
    if same_origin {
        headers = inner.default_headers.clone();
    }
    headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
    headers
}

/// The GET of a media URL, with the retries left in `budget`.
fn media_request(client: &Client, url: reqwest::Url, budget: &RetryBudget) -> ForeignRequest {
    ForeignRequest {
        op: &DOWNLOAD_OP,
        headers: media_headers(client, &url),
        url,
        body: None,
        stream: None,
        max_retries: Some(budget.remaining()),
    }
}

fn io_error(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        operation: DOWNLOAD_OPERATION,
        path: Some(path.to_path_buf()),
        source,
    }
}

fn timeout_error(timeout: std::time::Duration) -> Error {
    Error::Timeout {
        operation: DOWNLOAD_OPERATION,
        timeout,
        response: None,
    }
}

#[cfg(test)]
mod tests;
