//! [`Download::stream`]: the primary file's bytes as they arrive, for a caller that writes
//! them somewhere other than a file (stdout, a socket, a hasher).

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use futures::stream::{self, BoxStream, StreamExt as _};
use reqwest::header;
use tokio::time::timeout;

use super::{DOWNLOAD_OPERATION, Download, media_request, resolve_url, timeout_error};
use crate::media::{MediaError, ProgressFn, TransferProgress};
use crate::retry::RetryBudget;
use crate::transport::body_error;
use crate::{Client, Result};

/// The bytes of one media file as they arrive, from [`Download::stream`].
///
/// Each item is the next chunk, or the error that ended the transfer (nothing follows an
/// error). Each read waits at most the client's [`timeout`](Client::timeout): a stall is
/// [`Error::Timeout`](crate::Error::Timeout). A body that ends before its announced length
/// is [`MediaError::SizeMismatch`].
///
/// ```no_run
/// use futures::StreamExt;
/// use tokio::io::AsyncWriteExt;
///
/// # async fn run(done: rostro_sdk::media::CompletedGeneration) -> rostro_sdk::Result<()> {
/// let mut media = done.download("-").stream().await?;
/// let mut out = tokio::io::stdout();
/// while let Some(chunk) = media.next().await {
///     out.write_all(&chunk?).await.expect("stdout");
/// }
/// # Ok(())
/// # }
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct MediaStream {
    url: String,
    content_type: Option<String>,
    content_length: Option<u64>,
    inner: BoxStream<'static, Result<Bytes>>,
}

impl fmt::Debug for MediaStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaStream")
            .field("url", &self.url)
            .field("content_type", &self.content_type)
            .field("content_length", &self.content_length)
            .finish_non_exhaustive()
    }
}

impl MediaStream {
    /// The URL being read, safe to show: without its query (where signed URLs keep their
    /// signature), fragment or credentials.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `Content-Type` the file is served with.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The size the server announced (`Content-Length`), if it did.
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }
}

impl Stream for MediaStream {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes>>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl Download {
    /// Streams the primary file instead of saving it (the target, `overwrite` and any
    /// secondary media are not used). The GET goes through the client's send path (retries
    /// of connection errors and retryable statuses, `Retry-After`, the per-attempt timeout,
    /// tracing, the bounded error read): a non-2xx status is [`Error::Api`](crate::Error::Api).
    /// A body that fails before its first byte is fetched again within the same retry budget
    /// ([`max_retries`](Self::max_retries)); once bytes were handed out, a failure ends the
    /// stream. Progress is reported as for a saved file.
    pub async fn stream(self) -> Result<MediaStream> {
        let Some((label, url)) = self.files.into_iter().next() else {
            return Err(MediaError::NoMedia {
                generation_uuid: self.name,
            }
            .into_error(DOWNLOAD_OPERATION));
        };
        let url = resolve_url(&self.client, &url)?;
        let max = self.max_retries.unwrap_or(self.client.max_retries());
        let mut st = Reading {
            resp: None,
            client: self.client,
            url,
            budget: RetryBudget::new(max),
            progress: self.progress,
            label: Arc::from(label),
            total: None,
            bytes: 0,
        };
        let resp = st.open().await?;
        st.total = resp.content_length();
        let content_type = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        st.resp = Some(resp);
        st.report();
        Ok(MediaStream {
            url: shown_url(&st.url),
            content_type,
            content_length: st.total,
            // Fused: polling again after the end (or an error) keeps answering `None`.
            inner: stream::unfold(st, Reading::next).fuse().boxed(),
        })
    }
}

/// The URL without anything secret: no query, fragment or credentials.
fn shown_url(url: &reqwest::Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    // Only fails for URLs that cannot have credentials, which then have none.
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

/// The state of a streamed download between chunks.
struct Reading {
    client: Client,
    url: reqwest::Url,
    budget: RetryBudget,
    resp: Option<reqwest::Response>,
    progress: Option<ProgressFn>,
    label: Arc<str>,
    total: Option<u64>,
    bytes: u64,
}

impl Reading {
    /// One GET through the send path, spending its retries from the budget.
    async fn open(&mut self) -> Result<reqwest::Response> {
        let req = media_request(&self.client, self.url.clone(), &self.budget);
        let (resp, attempts) = self.client.execute_foreign_raw(req).await;
        self.budget.spend_send(attempts);
        resp
    }

    fn report(&self) {
        if let Some(cb) = &self.progress {
            cb(TransferProgress {
                bytes: self.bytes,
                total: self.total,
                label: self.label.clone(),
            });
        }
    }

    /// The next chunk (a body that fails before its first byte is fetched again while the
    /// budget allows), or the error that ends the stream.
    async fn next(mut self) -> Option<(Result<Bytes>, Reading)> {
        let limit = self.client.inner.timeout;
        loop {
            // `None` once an error was handed out.
            let resp = self.resp.as_mut()?;
            let error = match timeout(limit, resp.chunk()).await {
                Ok(Ok(Some(chunk))) => {
                    self.bytes += chunk.len() as u64;
                    self.report();
                    return Some((Ok(chunk), self));
                }
                Ok(Ok(None)) => return self.end(),
                Ok(Err(e)) => body_error(DOWNLOAD_OPERATION, e, limit),
                Err(_) => timeout_error(limit),
            };
            let wait = (self.bytes == 0)
                .then(|| self.budget.next_wait(&self.client.inner.backoff))
                .flatten();
            let Some(wait) = wait else {
                return self.fail(error);
            };
            pause(wait, &error).await;
            match self.open().await {
                Ok(resp) => self.resp = Some(resp),
                Err(error) => return self.fail(error),
            }
        }
    }

    /// The end of the body: fine when every announced byte arrived.
    fn end(self) -> Option<(Result<Bytes>, Reading)> {
        match self.total {
            Some(expected) if expected != self.bytes => {
                let error = MediaError::SizeMismatch {
                    what: shown_url(&self.url),
                    expected,
                    actual: self.bytes,
                };
                self.fail(error.into_error(DOWNLOAD_OPERATION))
            }
            _ => None,
        }
    }

    /// Hands out the error that ends the stream.
    fn fail(mut self, error: crate::Error) -> Option<(Result<Bytes>, Reading)> {
        self.resp = None;
        Some((Err(error), self))
    }
}

/// Waits before fetching the body again, saying why (as the send path's retries do).
async fn pause(wait: Duration, error: &crate::Error) {
    tracing::debug!(operation = DOWNLOAD_OPERATION, reason = %error, wait_ms = wait.as_millis() as u64, "retrying rostro request");
    tokio::time::sleep(wait).await;
}
