//! Sending one part: its `PUT` through the client's send path, checked and recorded.

use std::collections::HashMap;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures::StreamExt as _;
use reqwest::header;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};

use super::{PART_OP, PART_OPERATION, UploadState};
use crate::generated::engine_upload::ENGINE_UPLOAD_SIGNED_URLS;
use crate::media::{MediaError, ProgressFn, TransferProgress, sha256_hex};
use crate::request::{CallOptions, OpenBody};
use crate::retry::RetryBudget;
use crate::transport::ForeignRequest;
use crate::{Client, Error, Result};

/// Stops the background hashing when the upload future is dropped.
pub(super) struct CancelOnDrop(pub(super) Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

pub(super) fn hash_file(path: &Path, cancel: &AtomicBool) -> std::io::Result<String> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1024 * 1024];
    loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(std::io::Error::other("cancelled"));
        }
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(sha256_hex(hasher));
        }
        hasher.update(&buf[..n]);
    }
}

/// What the part tasks share.
pub(super) struct Shared {
    pub(super) client: Client,
    pub(super) path: PathBuf,
    pub(super) upload_id: String,
    pub(super) urls: Mutex<HashMap<u32, String>>,
    pub(super) state: Mutex<UploadState>,
    pub(super) save_lock: tokio::sync::Mutex<()>,
    pub(super) state_file: Option<PathBuf>,
    pub(super) sent: AtomicU64,
    pub(super) total: u64,
    pub(super) progress: Option<ProgressFn>,
    pub(super) label: Arc<str>,
    pub(super) part_retries: u32,
}

impl Shared {
    pub(super) fn report(&self, delta: i64) {
        let bytes = if delta >= 0 {
            self.sent.fetch_add(delta as u64, Ordering::Relaxed) + delta as u64
        } else {
            let d = delta.unsigned_abs();
            self.sent.fetch_sub(d, Ordering::Relaxed).saturating_sub(d)
        };
        if let Some(cb) = &self.progress {
            cb(TransferProgress {
                bytes,
                total: Some(self.total),
                label: self.label.clone(),
            });
        }
    }

    /// Signed URLs for `parts`.
    pub(super) async fn sign(&self, parts: &[u32]) -> Result<HashMap<u32, String>> {
        let mut body = Map::new();
        body.insert("upload_id".into(), Value::from(self.upload_id.clone()));
        body.insert("part_numbers".into(), Value::from(parts.to_vec()));
        body.insert("parts".into(), Value::from(parts.len()));
        let req = self
            .client
            .engine_upload()
            .signed_urls()
            .body(body)
            .idempotent_retries(true)
            .into_request()?;
        let answer = self.client.execute::<Value>(req).await?.into_inner();
        let list = answer.get("urls").unwrap_or(&answer);
        let mut out = HashMap::new();
        match list {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(url) => {
                            if let Some(n) = parts.get(i) {
                                out.insert(*n, url.clone());
                            }
                        }
                        Value::Object(o) => {
                            let n = ["part_number", "partNumber", "PartNumber"]
                                .iter()
                                .find_map(|k| o.get(*k).and_then(Value::as_u64));
                            let url = ["url", "signed_url", "signedUrl"]
                                .iter()
                                .find_map(|k| o.get(*k).and_then(Value::as_str));
                            if let (Some(n), Some(url)) = (n, url) {
                                out.insert(n as u32, url.to_owned());
                            }
                        }
                        _ => {}
                    }
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    if let (Ok(n), Some(url)) = (k.parse::<u32>(), v.as_str()) {
                        out.insert(n, url.to_owned());
                    }
                }
            }
            _ => {}
        }
        if let Some(missing) = parts.iter().find(|n| !out.contains_key(n)) {
            return Err(Error::Decode {
                operation: ENGINE_UPLOAD_SIGNED_URLS.id,
                path: "urls".into(),
                message: format!("no signed url for part {missing}"),
                snippet: crate::error::snippet(answer.to_string().as_bytes()),
                response: None,
            });
        }
        Ok(out)
    }

    /// Uploads part `n`. The send path retries what fails before the response headers
    /// (connect errors, timeouts, 5xx, 429 with its `Retry-After`); what only shows after
    /// them is retried here from the same [`RetryBudget`] and backoff: an expired signed
    /// URL (400/401/403: re-signed) or a part the storage did not get whole.
    pub(super) async fn upload_part(self: Arc<Self>, n: u32) -> Result<()> {
        let (offset, len) = {
            let st = self.state.lock().expect("state lock");
            (u64::from(n - 1) * st.part_size, st.part_len(n))
        };
        // When this future is dropped (the upload was cancelled), the body fails at its next
        // chunk so the connection is closed instead of left half-sent.
        let cancelled = CancelOnDrop(Arc::new(AtomicBool::new(false)));
        let attempt = Arc::new(PartAttempt::default());
        let open = self.open_part(offset, len, &attempt, &cancelled.0);
        let mut budget = RetryBudget::new(self.part_retries);
        loop {
            let url = self.urls.lock().expect("urls lock").get(&n).cloned();
            let url = reqwest::Url::parse(url.as_deref().unwrap_or_default()).map_err(|e| {
                Error::InvalidRequest {
                    operation: PART_OPERATION,
                    message: format!("invalid signed url for part {n}: {e}"),
                }
            })?;
            let (resp, attempts) = self
                .client
                .execute_foreign_raw(ForeignRequest {
                    op: &PART_OP,
                    url,
                    headers: header::HeaderMap::new(),
                    body: None,
                    stream: Some(open.clone()),
                    max_retries: Some(budget.remaining()),
                })
                .await;
            budget.spend_send(attempts);
            let failure = match resp {
                Ok(resp) => match self.check_part(n, len, &resp, &attempt) {
                    Ok(etag) => return self.record(n, etag).await,
                    Err(error) => PartFailure::Garbled(error),
                },
                Err(error) => match error.status().map(|s| s.as_u16()) {
                    Some(400 | 401 | 403) => PartFailure::Expired(error),
                    _ => return Err(self.with_path(error)),
                },
            };
            // This attempt's bytes were not stored: take them back from the progress.
            self.report(-(attempt.counted.swap(0, Ordering::Relaxed) as i64));
            let error = match &failure {
                PartFailure::Expired(e) | PartFailure::Garbled(e) => e,
            };
            let Some(wait) = budget.next_wait(&self.client.inner.backoff) else {
                return Err(failure.into_error());
            };
            tracing::debug!(
                operation = PART_OPERATION,
                part = n,
                reason = %error,
                wait_ms = wait.as_millis() as u64,
                "retrying rostro request"
            );
            tokio::time::sleep(wait).await;
            if let PartFailure::Expired(_) = failure {
                let urls = self.sign(&[n]).await?;
                self.urls.lock().expect("urls lock").extend(urls);
            }
        }
    }

    /// Opens part `n`'s bytes for one attempt (a retry starts the part over).
    fn open_part(
        self: &Arc<Self>,
        offset: u64,
        len: u64,
        attempt: &Arc<PartAttempt>,
        cancelled: &Arc<AtomicBool>,
    ) -> OpenBody {
        let (shared, attempt, cancelled) = (self.clone(), attempt.clone(), cancelled.clone());
        Arc::new(move || {
            let (shared, attempt, cancelled) = (shared.clone(), attempt.clone(), cancelled.clone());
            Box::pin(async move {
                shared.report(-(attempt.counted.swap(0, Ordering::Relaxed) as i64));
                *attempt.hasher.lock().expect("hasher lock") = Sha256::new();
                let mut file = tokio::fs::File::open(&shared.path).await?;
                file.seek(SeekFrom::Start(offset)).await?;
                let chunks = tokio_util::io::ReaderStream::with_capacity(
                    file.take(len),
                    crate::media::body::CHUNK,
                );
                let body = chunks.map(move |chunk| {
                    if cancelled.load(Ordering::Relaxed) {
                        return Err(std::io::Error::other("the upload was cancelled"));
                    }
                    let chunk = chunk?;
                    attempt.hasher.lock().expect("hasher lock").update(&chunk);
                    attempt
                        .counted
                        .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                    shared.report(chunk.len() as i64);
                    Ok(chunk)
                });
                Ok((reqwest::Body::wrap_stream(body), Some(len)))
            })
        })
    }

    /// Checks a stored part: all its bytes went out, and an `ETag` that is a SHA-256 matches
    /// them. Its `ETag` (or its SHA-256 when the storage sends none).
    fn check_part(
        &self,
        n: u32,
        len: u64,
        resp: &reqwest::Response,
        attempt: &PartAttempt,
    ) -> Result<String> {
        let sent = attempt.counted.load(Ordering::Relaxed);
        if sent != len {
            return Err(MediaError::SizeMismatch {
                what: format!("part {n}"),
                expected: len,
                actual: sent,
            }
            .into_error(PART_OPERATION));
        }
        let sha = {
            let hasher = std::mem::take(&mut *attempt.hasher.lock().expect("hasher lock"));
            sha256_hex(hasher)
        };
        let etag = resp
            .headers()
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.trim()
                    .trim_start_matches("W/")
                    .trim_matches('"')
                    .to_owned()
            })
            .filter(|v| !v.is_empty());
        match etag {
            // Storage that reports the part's SHA-256 as its ETag: verify it.
            Some(etag) if etag.len() == 64 && etag.bytes().all(|b| b.is_ascii_hexdigit()) => {
                if etag.eq_ignore_ascii_case(&sha) {
                    Ok(etag)
                } else {
                    Err(MediaError::ChecksumMismatch {
                        what: format!("part {n}"),
                        expected: sha,
                        actual: etag,
                    }
                    .into_error(PART_OPERATION))
                }
            }
            Some(etag) => Ok(etag),
            None => Ok(sha),
        }
    }

    /// An I/O error of the send path names the file it read.
    fn with_path(&self, error: Error) -> Error {
        match error {
            Error::Io {
                operation,
                path: None,
                source,
            } => Error::Io {
                operation,
                path: Some(self.path.clone()),
                source,
            },
            other => other,
        }
    }

    /// Marks part `n` done and saves the state.
    async fn record(&self, n: u32, etag: String) -> Result<()> {
        let snapshot = {
            let mut st = self.state.lock().expect("state lock");
            st.completed.insert(n, etag);
            st.clone()
        };
        if let Some(path) = &self.state_file {
            let _guard = self.save_lock.lock().await;
            // Save the newest state (another part may have finished meanwhile).
            let newest = self.state.lock().expect("state lock").clone();
            let newest = if newest.completed.len() >= snapshot.completed.len() {
                newest
            } else {
                snapshot
            };
            newest.save(path).await?;
        }
        Ok(())
    }
}

/// What one part attempt sent: counted and hashed as the bytes go out.
#[derive(Default)]
struct PartAttempt {
    counted: AtomicU64,
    hasher: Mutex<Sha256>,
}

/// A part failure that only shows after the response headers.
enum PartFailure {
    /// 400/401/403: the signed URL expired; re-signed before the retry.
    Expired(Error),
    /// The storage acknowledged a part that did not match what was sent.
    Garbled(Error),
}

impl PartFailure {
    fn into_error(self) -> Error {
        match self {
            PartFailure::Expired(e) | PartFailure::Garbled(e) => e,
        }
    }
}
