//! Streamed request bodies: file sources opened per attempt, raw or base64 framing, progress.
//!
//! A body is a list of [`Segment`]s: literal bytes (JSON or multipart framing) and files. Files
//! are read [`CHUNK`] bytes at a time and never held whole; the exact body length is computed
//! from the files' lengths before anything is sent, so the request carries `Content-Length`.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use bytes::Bytes;
use futures::{StreamExt as _, TryStreamExt as _, stream};
use tokio::io::AsyncReadExt as _;

use super::{ProgressFn, TransferProgress};
use crate::request::{BoxReader, FileSource, OpenBody};

/// Raw file bytes are read this many at a time.
pub(crate) const CHUNK: usize = 256 * 1024;
/// Base64-encoded files are read this many bytes at a time (a multiple of 3, so only the last
/// chunk carries padding).
const B64_CHUNK: usize = 3 * 64 * 1024;

/// How a file is written into the body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// As is (multipart).
    Raw,
    /// Standard base64 with padding (inside a JSON string).
    Base64,
}

/// One piece of a streamed body.
#[derive(Clone)]
pub(crate) enum Segment {
    /// Literal bytes.
    Literal(Bytes),
    /// The bytes of a file.
    File {
        source: FileSource,
        encoding: Encoding,
        label: Arc<str>,
    },
}

impl Segment {
    pub(crate) fn literal(bytes: impl Into<Bytes>) -> Self {
        Segment::Literal(bytes.into())
    }
}

/// Length of the standard (padded) base64 encoding of `n` bytes.
pub(crate) fn base64_len(n: u64) -> u64 {
    n.div_ceil(3) * 4
}

/// Whether any segment's source can be read only once.
pub(crate) fn is_one_shot(segments: &[Segment]) -> bool {
    segments
        .iter()
        .any(|s| matches!(s, Segment::File { source, .. } if source.is_one_shot()))
}

/// Counts file bytes and reports them.
struct Tracker {
    callback: Option<ProgressFn>,
    bytes: AtomicU64,
    total: u64,
}

impl Tracker {
    fn add(&self, n: usize, label: &Arc<str>) {
        let bytes = self.bytes.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if let Some(cb) = &self.callback {
            cb(TransferProgress {
                bytes,
                total: Some(self.total),
                label: label.clone(),
            });
        }
    }
}

enum Opened {
    Literal(Bytes),
    File {
        reader: BoxReader,
        len: u64,
        encoding: Encoding,
        label: Arc<str>,
    },
}

/// The per-attempt opener of a body made of `segments`; `progress` sees the file bytes read.
pub(crate) fn opener(segments: Vec<Segment>, progress: Option<ProgressFn>) -> OpenBody {
    let segments: Arc<[Segment]> = segments.into();
    Arc::new(move || {
        let segments = segments.clone();
        let progress = progress.clone();
        Box::pin(async move {
            let (body, len) = open_stream(&segments, progress).await?;
            Ok((reqwest::Body::wrap_stream(body), Some(len)))
        })
    })
}

/// Opens every file of `segments` and returns the body as a stream with its exact length.
pub(crate) async fn open_stream(
    segments: &[Segment],
    progress: Option<ProgressFn>,
) -> io::Result<(futures::stream::BoxStream<'static, io::Result<Bytes>>, u64)> {
    let mut opened = Vec::with_capacity(segments.len());
    let mut body_len = 0u64;
    let mut file_len = 0u64;
    for segment in segments.iter() {
        match segment {
            Segment::Literal(bytes) => {
                body_len += bytes.len() as u64;
                opened.push(Opened::Literal(bytes.clone()));
            }
            Segment::File {
                source,
                encoding,
                label,
            } => {
                let (reader, len) = open_named(source).await?;
                file_len += len;
                body_len += match encoding {
                    Encoding::Raw => len,
                    Encoding::Base64 => base64_len(len),
                };
                opened.push(Opened::File {
                    reader,
                    len,
                    encoding: *encoding,
                    label: label.clone(),
                });
            }
        }
    }
    let tracker = Arc::new(Tracker {
        callback: progress,
        bytes: AtomicU64::new(0),
        total: file_len,
    });
    if let Some(cb) = &tracker.callback {
        let label = opened
            .iter()
            .find_map(|o| match o {
                Opened::File { label, .. } => Some(label.clone()),
                Opened::Literal(_) => None,
            })
            .unwrap_or_else(|| Arc::from(""));
        cb(TransferProgress {
            bytes: 0,
            total: Some(file_len),
            label,
        });
    }
    let body = stream::iter(opened)
        .map(move |piece| match piece {
            Opened::Literal(bytes) => stream::once(async move { Ok(bytes) }).boxed(),
            Opened::File {
                reader,
                len,
                encoding,
                label,
            } => file_stream(reader, len, encoding, label, tracker.clone()).boxed(),
        })
        .flatten();
    Ok((body.boxed(), body_len))
}

/// Opens `source` for one attempt; an error names the file it could not read.
async fn open_named(source: &FileSource) -> io::Result<(BoxReader, u64)> {
    source.open().await.map_err(|e| match source {
        FileSource::Path(path) => io::Error::new(e.kind(), format!("{}: {e}", path.display())),
        FileSource::Bytes(_) | FileSource::Reader { .. } => e,
    })
}

/// Exactly `len` raw bytes of `reader` with no progress (a multipart part built by reqwest):
/// a reader that ends early fails the stream.
pub(crate) fn exact_stream(
    reader: BoxReader,
    len: u64,
    label: Arc<str>,
) -> impl futures::Stream<Item = io::Result<Bytes>> + Send + 'static {
    let tracker = Arc::new(Tracker {
        callback: None,
        bytes: AtomicU64::new(0),
        total: len,
    });
    file_stream(reader, len, Encoding::Raw, label, tracker)
}

struct FileState {
    reader: BoxReader,
    remaining: u64,
    len: u64,
    encoding: Encoding,
    label: Arc<str>,
    tracker: Arc<Tracker>,
}

/// Exactly `len` bytes of `reader`, raw or base64-encoded, chunk by chunk. A reader that ends
/// early fails the stream (and thus the request).
fn file_stream(
    reader: BoxReader,
    len: u64,
    encoding: Encoding,
    label: Arc<str>,
    tracker: Arc<Tracker>,
) -> impl futures::Stream<Item = io::Result<Bytes>> + Send {
    let state = FileState {
        reader,
        remaining: len,
        len,
        encoding,
        label,
        tracker,
    };
    stream::try_unfold(state, |mut st| async move {
        if st.remaining == 0 {
            return Ok(None);
        }
        let chunk = match st.encoding {
            Encoding::Raw => CHUNK,
            Encoding::Base64 => B64_CHUNK,
        };
        let want = st.remaining.min(chunk as u64) as usize;
        let mut buf = vec![0u8; want];
        let mut filled = 0;
        while filled < want {
            let n = st.reader.read(&mut buf[filled..]).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "{}: ended after {} of {} bytes",
                        st.label,
                        st.len - st.remaining + filled as u64,
                        st.len
                    ),
                ));
            }
            filled += n;
        }
        st.remaining -= want as u64;
        st.tracker.add(want, &st.label);
        let out = match st.encoding {
            Encoding::Raw => Bytes::from(buf),
            Encoding::Base64 => {
                // Every chunk but the last is a multiple of 3 bytes: no padding mid-stream.
                let mut encoded = vec![0u8; base64_len(want as u64) as usize];
                let written = base64::engine::general_purpose::STANDARD
                    .encode_slice(&buf, &mut encoded)
                    .map_err(io::Error::other)?;
                encoded.truncate(written);
                Bytes::from(encoded)
            }
        };
        Ok(Some((out, st)))
    })
    .into_stream()
}

/// Base64 of a whole source, as a `data:` URL (for small JSON fields that cannot be streamed).
pub(crate) async fn data_url(source: &FileSource, mime: &str) -> io::Result<String> {
    let (mut reader, len) = open_named(source).await?;
    let prefix = format!("data:{mime};base64,");
    let mut out = String::with_capacity(prefix.len() + base64_len(len) as usize);
    out.push_str(&prefix);
    let mut buf = vec![0u8; B64_CHUNK];
    let mut remaining = len;
    while remaining > 0 {
        let want = remaining.min(B64_CHUNK as u64) as usize;
        reader.read_exact(&mut buf[..want]).await?;
        base64::engine::general_purpose::STANDARD.encode_string(&buf[..want], &mut out);
        remaining -= want as u64;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    async fn collect(segments: Vec<Segment>) -> (Vec<u8>, u64) {
        let (mut s, len) = open_stream(&segments, None).await.unwrap();
        let mut out = Vec::new();
        while let Some(chunk) = s.next().await {
            out.extend_from_slice(&chunk.unwrap());
        }
        (out, len)
    }

    #[tokio::test]
    async fn base64_segments_match_a_one_shot_encoding() {
        for size in [
            0usize,
            1,
            2,
            3,
            4,
            B64_CHUNK - 1,
            B64_CHUNK,
            B64_CHUNK + 1,
            3 * B64_CHUNK + 2,
        ] {
            let data: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
            let segments = vec![
                Segment::literal(&b"{\"image\":\""[..]),
                Segment::File {
                    source: FileSource::Bytes(Bytes::from(data.clone())),
                    encoding: Encoding::Base64,
                    label: Arc::from("x"),
                },
                Segment::literal(&b"\"}"[..]),
            ];
            let (out, len) = collect(segments).await;
            let expected = format!(
                "{{\"image\":\"{}\"}}",
                base64::engine::general_purpose::STANDARD.encode(&data)
            );
            assert_eq!(out, expected.as_bytes(), "size {size}");
            assert_eq!(len, expected.len() as u64);
        }
    }

    #[tokio::test]
    async fn short_reader_fails_the_body() {
        let reader: BoxReader = Box::new(io::Cursor::new(vec![1u8; 10]));
        let segments = vec![Segment::File {
            source: FileSource::Reader {
                reader: Arc::new(Mutex::new(Some(reader))),
                len: 20,
            },
            encoding: Encoding::Raw,
            label: Arc::from("short"),
        }];
        let (mut s, _) = open_stream(&segments, None).await.unwrap();
        let mut failed = false;
        while let Some(chunk) = s.next().await {
            if chunk.is_err() {
                failed = true;
            }
        }
        assert!(failed);
        // The reader is gone: a second attempt cannot replay it.
        assert!(open_stream(&segments, None).await.is_err());
    }
}
