//! Chunked uploads of large files (feature `engine`): `start-upload` -> `signed-urls` -> `PUT`
//! each part to its signed URL -> `complete-upload`.
//!
//! * Parts are sent in parallel ([`ChunkedUpload::concurrency`], default 4), each streamed from
//!   its offset in the file with `Content-Length`, and retried on its own
//!   ([`ChunkedUpload::part_retries`], default 3; an expired URL is re-signed).
//! * The progress is kept in an [`UploadState`] (serde). With
//!   [`state_file`](ChunkedUpload::state_file) it is saved after every part, so an upload
//!   interrupted by a crash, an error, a dropped future or a [`PauseSignal`] is continued with
//!   [`EngineUploadApi::resume`], which sends only the parts still missing.
//! * The file's SHA-256 is computed alongside and compared with what `complete-upload`
//!   reports (as is its size); each part's hash is compared with its `ETag` when the storage
//!   returns a SHA-256 there.
//!
//! * The file is a [`FilePart`] made from a path: its file name (default: the path's last
//!   component) and its content type (sent only when set) are the part's. Bytes or a reader are
//!   refused with [`Error::InvalidRequest`]: parts are read at their offsets, in parallel and
//!   again after a crash, which only a file on disk allows.
//!
//! Signed URLs are absolute (usually object storage on another host): the parts are sent
//! directly, without the API key.
//!
//! ```no_run
//! use rostro_sdk::Client;
//! use rostro_sdk::media::UploadState;
//! use rostro_sdk::request::FilePart;
//!
//! # async fn run(client: Client) -> rostro_sdk::Result<()> {
//! let result = client
//!     .engine_upload()
//!     .upload_file(FilePart::from_path("scene.glb").content_type("model/gltf-binary"))
//!     .part_size(16 * 1024 * 1024)
//!     .concurrency(6)
//!     .state_file("scene.glb.upload.json")
//!     .on_progress(|p| eprintln!("{} / {:?}", p.bytes, p.total))
//!     .send()
//!     .await;
//! match result {
//!     Ok(done) => println!("{} ({} bytes, sha256 {})", done.url, done.size, done.sha256),
//!     Err(err) => {
//!         eprintln!("interrupted: {err}");
//!         // Later, perhaps in another process: only the missing parts are sent.
//!         let state = UploadState::load("scene.glb.upload.json").await?;
//!         let done = client.engine_upload().resume(state).state_file("scene.glb.upload.json").send().await?;
//!         println!("{}", done.url);
//!     }
//! }
//! # Ok(())
//! # }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures::{StreamExt as _, TryStreamExt as _, stream};
use serde_json::{Map, Value, json};

use super::upload::progress_fn;
use super::{MediaError, ProgressFn, TransferProgress};
use crate::generated::engine_upload::{
    ENGINE_UPLOAD_COMPLETE, ENGINE_UPLOAD_START, EngineUploadApi,
};
use crate::request::{Base, CallOptions, FilePart, HttpMethod, Operation};
use crate::{Client, Error, Result};

/// Default part size (8 MiB); the server may choose another in `start-upload`.
pub const DEFAULT_PART_SIZE: u64 = 8 * 1024 * 1024;
/// Default number of parts in flight.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// Default retries per part.
pub const DEFAULT_PART_RETRIES: u32 = 3;
/// The operation name part uploads report in errors.
pub const PART_OPERATION: &str = "upload_part";
mod part;
mod state;

use part::{CancelOnDrop, Shared, hash_file};
pub use state::UploadState;

/// Signed URLs are asked for this many parts at a time.
const URL_BATCH: usize = 100;

/// A part `PUT` as an operation of the send path (the URL is the signed one, not `path`).
static PART_OP: Operation = Operation {
    id: PART_OPERATION,
    method: HttpMethod::Put,
    path: "{signed_url}",
    base: Base::Api,
};

/// A finished chunked upload.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ChunkedUploadResult {
    /// The server's upload id.
    pub upload_id: String,
    /// The stored item's uuid, when reported.
    pub uuid: Option<String>,
    /// The storage key, when reported.
    pub key: Option<String>,
    /// The stored file's URL, when reported.
    pub url: String,
    /// Size of the file.
    pub size: u64,
    /// Hex SHA-256 of the file (verified against the server's when it reports one).
    pub sha256: String,
    /// Number of parts.
    pub parts: u32,
    /// Parts sent by this call (fewer than `parts` after a resume).
    pub parts_sent: u32,
    /// The `complete-upload` answer as sent.
    pub response: Value,
}

impl EngineUploadApi {
    /// A chunked upload of `file`, which must be a file on disk ([`FilePart::from_path`], or a
    /// `PathBuf`/`&Path`); its file name and content type are sent to `start-upload`.
    pub fn upload_file(&self, file: impl Into<FilePart>) -> ChunkedUpload {
        ChunkedUpload::new(self.client.clone(), file.into(), None)
    }

    /// Continues an upload from a saved [`UploadState`]: only the missing parts are sent.
    /// Fails with [`MediaError::ResumeMismatch`] if the file changed since.
    pub fn resume(&self, state: UploadState) -> ChunkedUpload {
        let mut file = FilePart::from_path(state.file.clone()).file_name(state.file_name.clone());
        if let Some(ct) = &state.content_type {
            file = file.content_type(ct.clone());
        }
        ChunkedUpload::new(self.client.clone(), file, Some(state))
    }
}

/// A configured chunked upload, from [`EngineUploadApi::upload_file`] or
/// [`EngineUploadApi::resume`].
///
/// ```no_run
/// use std::path::Path;
/// use rostro_sdk::media::UploadState;
///
/// # async fn run(client: rostro_sdk::Client) -> rostro_sdk::Result<()> {
/// let done = client.engine_upload().upload_file(Path::new("level.glb")).send().await?;
/// println!("{:?}", done);
/// // After a crash: carry on from the saved state (only missing parts are sent).
/// let state = UploadState::load("level.glb.upload.json").await?;
/// let done = client.engine_upload().resume(state).send().await?;
/// # let _ = done;
/// # Ok(())
/// # }
/// ```
#[must_use = "an upload does nothing until `.send().await`"]
pub struct ChunkedUpload {
    client: Client,
    file: FilePart,
    resume: Option<UploadState>,
    part_size: u64,
    concurrency: usize,
    part_retries: u32,
    progress: Option<ProgressFn>,
    state_file: Option<PathBuf>,
    project_id: Option<Value>,
    pause: Option<PauseSignal>,
}

/// Asks a running [`ChunkedUpload`] to stop after the parts in flight (e.g. on Ctrl-C).
/// Cheap to clone; all clones control the same upload(s).
#[derive(Clone, Debug, Default)]
pub struct PauseSignal(Arc<AtomicBool>);

impl PauseSignal {
    /// A signal not paused yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stops starting new parts.
    pub fn pause(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`pause`](Self::pause) was called.
    pub fn is_paused(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

impl fmt::Debug for ChunkedUpload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkedUpload")
            .field("file", &self.file)
            .field("resume", &self.resume.as_ref().map(|s| &s.upload_id))
            .field("part_size", &self.part_size)
            .field("concurrency", &self.concurrency)
            .field("part_retries", &self.part_retries)
            .field("state_file", &self.state_file)
            .finish_non_exhaustive()
    }
}

impl ChunkedUpload {
    fn new(client: Client, file: FilePart, resume: Option<UploadState>) -> Self {
        ChunkedUpload {
            client,
            file,
            resume,
            part_size: DEFAULT_PART_SIZE,
            concurrency: DEFAULT_CONCURRENCY,
            part_retries: DEFAULT_PART_RETRIES,
            progress: None,
            state_file: None,
            project_id: None,
            pause: None,
        }
    }

    /// Bytes per part asked for (default 8 MiB; at least 1). The server's choice wins.
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.part_size = bytes.max(1);
        self
    }

    /// Parts in flight at once (default 4; at least 1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Retries per part after a failed `PUT` (default 3).
    pub fn part_retries(mut self, n: u32) -> Self {
        self.part_retries = n;
        self
    }

    /// Called as part bytes are sent (all parts together; a failed attempt's bytes are taken
    /// back).
    pub fn on_progress(mut self, f: impl Fn(TransferProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(progress_fn(f));
        self
    }

    /// Stops the upload gracefully when `signal` is [paused](PauseSignal::pause): parts in
    /// flight finish and are saved, no new part starts, and [`send`](Self::send) returns
    /// [`MediaError::Paused`]. Resume later from the saved [`UploadState`].
    pub fn pause_signal(mut self, signal: PauseSignal) -> Self {
        self.pause = Some(signal);
        self
    }

    /// Saves the [`UploadState`] to this file after every part (and removes it on success).
    pub fn state_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.state_file = Some(path.into());
        self
    }

    /// The project the file belongs to.
    pub fn project_id(mut self, id: impl Into<Value>) -> Self {
        self.project_id = Some(id.into());
        self
    }

    /// Uploads the (missing) parts and completes the upload.
    pub async fn send(self) -> Result<ChunkedUploadResult> {
        let path = self.path()?.to_path_buf();
        let meta = tokio::fs::metadata(&path)
            .await
            .map_err(|source| Error::Io {
                operation: ENGINE_UPLOAD_START.id,
                path: Some(path.clone()),
                source,
            })?;
        let size = meta.len();
        let modified_ms = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as u64);

        // The whole file's hash, computed alongside the parts.
        let cancel = CancelOnDrop(Arc::new(AtomicBool::new(false)));
        let hashing = {
            let path = path.clone();
            let cancel = cancel.0.clone();
            tokio::task::spawn_blocking(move || hash_file(&path, &cancel))
        };

        let state = match self.resume.clone() {
            Some(state) => {
                check_resume(&state, size, modified_ms)?;
                state
            }
            None => self.start(&path, size, modified_ms).await?,
        };
        if let Some(path) = &self.state_file {
            state.save(path).await?;
        }
        let parts_sent = state.missing_parts().len() as u32;
        let state = self.send_parts(&path, state, size).await?;
        let response = self.complete(&state).await?;

        let local_sha = match hashing.await {
            Ok(Ok(sha)) => sha,
            Ok(Err(source)) => return Err(complete_io(&path, source)),
            Err(e) => return Err(complete_io(&path, std::io::Error::other(e))),
        };
        drop(cancel);
        verify(&state, &response, size, &local_sha)?;
        if let Some(path) = &self.state_file {
            let _ = tokio::fs::remove_file(path).await;
        }
        let text = |k: &str| response.get(k).and_then(Value::as_str).map(str::to_owned);
        Ok(ChunkedUploadResult {
            upload_id: state.upload_id.clone(),
            uuid: text("uuid"),
            key: text("key").or(state.key.clone()),
            url: text("url").unwrap_or_default(),
            size,
            sha256: local_sha,
            parts: state.part_count,
            parts_sent,
            response,
        })
    }

    /// Signs and sends the missing parts, `concurrency` at a time: the state once every part
    /// is stored, [`MediaError::Paused`] when a pause stopped it first.
    async fn send_parts(&self, path: &Path, state: UploadState, size: u64) -> Result<UploadState> {
        let missing = state.missing_parts();
        let shared = Arc::new(Shared {
            client: self.client.clone(),
            path: path.to_path_buf(),
            upload_id: state.upload_id.clone(),
            urls: Mutex::new(HashMap::new()),
            sent: AtomicU64::new(state.completed_bytes()),
            label: Arc::from(state.file_name.as_str()),
            state: Mutex::new(state),
            save_lock: tokio::sync::Mutex::new(()),
            state_file: self.state_file.clone(),
            total: size,
            progress: self.progress.clone(),
            part_retries: self.part_retries,
        });
        shared.report(0);

        for batch in missing.chunks(URL_BATCH) {
            let urls = shared.sign(batch).await?;
            shared.urls.lock().expect("urls lock").extend(urls);
        }
        let pause = self.pause.clone();
        stream::iter(missing.into_iter().map(|n| {
            let shared = shared.clone();
            let pause = pause.clone();
            async move {
                // A pause lets the parts in flight finish but starts no new one.
                if pause.as_ref().is_some_and(PauseSignal::is_paused) {
                    return Ok(());
                }
                shared.upload_part(n).await
            }
        }))
        .buffer_unordered(self.concurrency)
        .try_for_each(|()| async { Ok(()) })
        .await?;

        let state = shared.state.lock().expect("state lock").clone();
        if !state.missing_parts().is_empty() {
            return Err(MediaError::Paused {
                upload_id: state.upload_id.clone(),
                parts_done: state.completed.len() as u32,
                part_count: state.part_count,
            }
            .into_error(PART_OPERATION));
        }
        Ok(state)
    }

    /// `complete-upload` with every part's `ETag`: the server's answer.
    async fn complete(&self, state: &UploadState) -> Result<Value> {
        let parts: Vec<Value> = state
            .completed
            .iter()
            .map(|(n, etag)| json!({"part_number": n, "etag": etag}))
            .collect();
        let mut body = Map::new();
        body.insert("upload_id".into(), Value::from(state.upload_id.clone()));
        body.insert("parts".into(), Value::from(parts));
        let req = self
            .client
            .engine_upload()
            .complete()
            .body(body)
            .idempotent_retries(true)
            // 409 while parts of an interrupted run are still arriving: retried with backoff.
            .max_retries(6)
            .into_request()?;
        Ok(self.client.execute::<Value>(req).await?.into_inner())
    }

    /// The file on disk the parts are read from; bytes or a reader cannot be split into
    /// parts read at their offsets (nor resumed after a crash).
    fn path(&self) -> Result<&Path> {
        self.file.path().ok_or_else(|| Error::InvalidRequest {
            operation: ENGINE_UPLOAD_START.id,
            message: "a chunked upload reads its parts from a file on disk: make the FilePart \
                      with `FilePart::from_path`, not from bytes or a reader"
                .into(),
        })
    }

    async fn start(&self, path: &Path, size: u64, modified_ms: Option<u64>) -> Result<UploadState> {
        let file_name = self.file.name().unwrap_or("upload.bin").to_owned();
        let content_type = self.file.explicit_content_type().map(str::to_owned);
        let mut body = Map::new();
        body.insert("filename".into(), Value::from(file_name.clone()));
        body.insert("size".into(), Value::from(size));
        body.insert("part_size".into(), Value::from(self.part_size));
        body.insert(
            "parts".into(),
            Value::from(size.div_ceil(self.part_size).max(1)),
        );
        if let Some(ct) = &content_type {
            body.insert("content_type".into(), Value::from(ct.clone()));
        }
        if let Some(id) = &self.project_id {
            body.insert("project_id".into(), id.clone());
        }
        let req = self
            .client
            .engine_upload()
            .start()
            .body(body)
            .into_request()?;
        let answer = self.client.execute::<Value>(req).await?.into_inner();
        let upload_id = answer
            .get("upload_id")
            .or_else(|| answer.get("uploadId"))
            .or_else(|| answer.get("id"))
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .ok_or_else(|| Error::Decode {
                operation: ENGINE_UPLOAD_START.id,
                path: "upload_id".into(),
                message: "the answer has no upload_id".into(),
                snippet: crate::error::snippet(answer.to_string().as_bytes()),
                response: None,
            })?;
        let part_size = answer
            .get("part_size")
            .and_then(Value::as_u64)
            .filter(|p| *p > 0)
            .unwrap_or(self.part_size);
        Ok(UploadState {
            version: 1,
            upload_id,
            key: answer.get("key").and_then(Value::as_str).map(str::to_owned),
            file: path.to_path_buf(),
            file_size: size,
            modified_ms,
            file_name,
            content_type,
            part_size,
            part_count: size.div_ceil(part_size).max(1) as u32,
            completed: BTreeMap::new(),
        })
    }
}

fn complete_io(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        operation: ENGINE_UPLOAD_COMPLETE.id,
        path: Some(path.to_path_buf()),
        source,
    }
}

/// The size and SHA-256 the server reports (when it does) match the local file's.
fn verify(state: &UploadState, response: &Value, size: u64, local_sha: &str) -> Result<()> {
    let what = || state.file_name.clone();
    if let Some(reported) = response.get("size").and_then(Value::as_u64)
        && reported != size
    {
        return Err(MediaError::SizeMismatch {
            what: what(),
            expected: size,
            actual: reported,
        }
        .into_error(ENGINE_UPLOAD_COMPLETE.id));
    }
    if let Some(reported) = response.get("sha256").and_then(Value::as_str)
        && !reported.eq_ignore_ascii_case(local_sha)
    {
        return Err(MediaError::ChecksumMismatch {
            what: what(),
            expected: local_sha.to_owned(),
            actual: reported.to_owned(),
        }
        .into_error(ENGINE_UPLOAD_COMPLETE.id));
    }
    Ok(())
}

fn check_resume(state: &UploadState, size: u64, modified_ms: Option<u64>) -> Result<()> {
    let mismatch = |message: String| {
        Err(MediaError::ResumeMismatch { message }.into_error(ENGINE_UPLOAD_START.id))
    };
    if state.version != 1 {
        return mismatch(format!("unknown state version {}", state.version));
    }
    if state.file_size != size {
        return mismatch(format!(
            "{} is {size} bytes, the upload started with {}",
            state.file.display(),
            state.file_size
        ));
    }
    if let (Some(then), Some(now)) = (state.modified_ms, modified_ms)
        && then != now
    {
        return mismatch(format!(
            "{} was modified since the upload started",
            state.file.display()
        ));
    }
    if state.part_size == 0 || state.part_count as u64 != size.div_ceil(state.part_size).max(1) {
        return mismatch("the part layout does not match the file".into());
    }
    Ok(())
}
