//! The file to upload: [`FilePart`], the one type every upload of the SDK takes, and the
//! multipart [`Part`] that carries one. [`FilePart`]'s docs say where it is taken and how its
//! source, file name and content type are used.

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::io::AsyncRead;

/// One field of a `multipart/form-data` body.
#[derive(Clone, Debug)]
pub enum Part {
    /// A plain text field.
    Text(String),
    /// A file field.
    File(FilePart),
}

impl Part {
    /// A text field.
    pub fn text(value: impl Into<String>) -> Self {
        Part::Text(value.into())
    }
}

impl From<FilePart> for Part {
    fn from(file: FilePart) -> Self {
        Part::File(file)
    }
}

/// A reader handed over by the caller.
pub(crate) type BoxReader = Box<dyn AsyncRead + Send + Unpin>;

/// Where the bytes of a [`FilePart`] come from.
#[derive(Clone)]
pub(crate) enum FileSource {
    /// Re-opened on every attempt; its length is read when it is opened.
    Path(PathBuf),
    /// Cheaply cloned on every attempt.
    Bytes(Bytes),
    /// Taken by the first attempt (clones share it): a second attempt fails.
    Reader {
        reader: Arc<Mutex<Option<BoxReader>>>,
        len: u64,
    },
}

impl fmt::Debug for FileSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileSource::Path(p) => f.debug_tuple("Path").field(p).finish(),
            FileSource::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
            FileSource::Reader { len, .. } => write!(f, "Reader({len} bytes)"),
        }
    }
}

impl FileSource {
    /// Opens the bytes for one attempt: a reader and the exact number of bytes it will give.
    pub(crate) async fn open(&self) -> io::Result<(BoxReader, u64)> {
        match self {
            FileSource::Path(path) => {
                let file = tokio::fs::File::open(path).await?;
                let len = file.metadata().await?.len();
                Ok((Box::new(file), len))
            }
            FileSource::Bytes(bytes) => {
                let len = bytes.len() as u64;
                Ok((Box::new(io::Cursor::new(bytes.clone())), len))
            }
            FileSource::Reader { reader, len } => {
                let taken = reader
                    .lock()
                    .map_err(|_| io::Error::other("reader lock poisoned"))?
                    .take();
                match taken {
                    Some(r) => Ok((r, *len)),
                    None => Err(io::Error::other(
                        "the reader was consumed by an earlier attempt and cannot be sent again",
                    )),
                }
            }
        }
    }

    /// Whether the bytes can be read only once (no retries possible).
    pub(crate) fn is_one_shot(&self) -> bool {
        matches!(self, FileSource::Reader { .. })
    }
}

/// A file to upload: the only place where a file's source, its file name and its content type
/// live.
///
/// The source is a path (opened again on every attempt and streamed, never read whole), bytes in
/// memory (cheaply cloned per attempt) or a reader of known length (read once). The file name
/// defaults to the path's last component; the content type, unless set, is guessed from the file
/// name (falling back to `application/octet-stream`). A file name is sent escaped in
/// `Content-Disposition` (`"`, CR and LF percent-encoded, as browsers do).
///
/// Every upload takes one, through `impl Into<FilePart>` (a `PathBuf`, `&Path` or `&PathBuf`
/// converts into a path source):
///
/// * the generated multipart builders (`.sample(..)`, `.file(..)`) and [`Part::File`];
/// * [`Client::upload`](crate::Client::upload)'s
///   [`MultipartUpload::file`](crate::media::MultipartUpload::file);
/// * the gallery's base64 JSON upload,
///   [`GalleryApi::upload_file`](crate::generated::gallery::GalleryApi::upload_file) (an image
///   the service fetches by URL has its own method, `upload_url`: a URL is not a file);
/// * the chunked upload `client.engine_upload().upload_file(..)` (feature `engine`), which needs
///   a file on disk: it reads each part at its offset and resumes from the path it saved;
/// * image inputs of a generation ([`ImageInput`](crate::media::ImageInput) converts from one).
///
/// A reader can be read only once, so a request carrying one is sent with no retries by
/// default; a retry forced with `max_retries` fails with [`Error::Io`](crate::Error::Io)
/// saying that the reader was consumed, instead of sending something else.
///
/// ```
/// use rostro_sdk::request::FilePart;
/// let avatar = FilePart::from_path("avatar.png"); // file name and content type inferred
/// let inline = FilePart::from_bytes("notes.txt", &b"hello"[..]).content_type("text/plain");
/// let piped = FilePart::from_reader(tokio::io::empty(), 0).file_name("empty.bin");
/// assert_eq!((avatar.name(), avatar.mime()), (Some("avatar.png"), "image/png"));
/// assert_eq!(inline.mime(), "text/plain");
/// assert_eq!(piped.mime(), "application/octet-stream");
/// ```
#[derive(Clone, Debug)]
pub struct FilePart {
    source: FileSource,
    file_name: Option<String>,
    content_type: Option<String>,
}

impl FilePart {
    /// A file on disk. Its name defaults to the path's last component and its content type is
    /// guessed from the extension. The file is opened (and its length taken) when the request is
    /// sent, and again on every retry.
    pub fn from_path(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        FilePart {
            source: FileSource::Path(path),
            file_name,
            content_type: None,
        }
    }

    /// In-memory bytes sent under `file_name`.
    pub fn from_bytes(file_name: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        FilePart {
            source: FileSource::Bytes(bytes.into()),
            file_name: Some(file_name.into()),
            content_type: None,
        }
    }

    /// Exactly `len` bytes read from `reader`, chunk by chunk, with no file name until
    /// [`file_name`](Self::file_name) sets one. A reader can be read only once, so the request
    /// is not retried; a reader that ends early fails the upload.
    pub fn from_reader(reader: impl AsyncRead + Send + Unpin + 'static, len: u64) -> Self {
        FilePart {
            source: FileSource::Reader {
                reader: Arc::new(Mutex::new(Some(Box::new(reader)))),
                len,
            },
            file_name: None,
            content_type: None,
        }
    }

    /// Overrides the file name sent with the bytes.
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = Some(name.into());
        self
    }

    /// Overrides the content type (otherwise guessed from the file name, falling back to
    /// `application/octet-stream`).
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// The file name that will be sent, if any.
    pub fn name(&self) -> Option<&str> {
        self.file_name.as_deref()
    }

    /// The content type that will be sent.
    pub fn mime(&self) -> &str {
        match &self.content_type {
            Some(ct) => ct,
            None => guess_mime(self.file_name.as_deref().unwrap_or("")),
        }
    }

    /// The file on disk, for a part made from a path.
    pub fn path(&self) -> Option<&Path> {
        match &self.source {
            FileSource::Path(p) => Some(p),
            FileSource::Bytes(_) | FileSource::Reader { .. } => None,
        }
    }

    /// The content type only when it was set (the chunked upload sends no guess).
    pub(crate) fn explicit_content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    pub(crate) fn source(&self) -> &FileSource {
        &self.source
    }

    /// Names the file in progress reports and errors.
    pub(crate) fn label(&self) -> Arc<str> {
        Arc::from(self.file_name.as_deref().unwrap_or("upload"))
    }

    pub(crate) fn is_one_shot(&self) -> bool {
        self.source.is_one_shot()
    }

    /// Builds the reqwest part for one attempt, re-opening a path source.
    pub(crate) async fn to_reqwest(&self) -> Result<reqwest::multipart::Part, FilePartError> {
        let part = match &self.source {
            FileSource::Bytes(bytes) => {
                reqwest::multipart::Part::stream_with_length(bytes.clone(), bytes.len() as u64)
            }
            FileSource::Path(_) | FileSource::Reader { .. } => {
                let (reader, len) = self.source.open().await.map_err(FilePartError::Io)?;
                let body = crate::media::body::exact_stream(reader, len, self.label());
                reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(body), len)
            }
        };
        let part = match &self.file_name {
            Some(name) => part.file_name(escape_disposition(name).into_owned()),
            None => part,
        };
        part.mime_str(self.mime())
            .map_err(|_| FilePartError::InvalidMime)
    }
}

impl From<PathBuf> for FilePart {
    fn from(path: PathBuf) -> Self {
        FilePart::from_path(path)
    }
}

impl From<&Path> for FilePart {
    fn from(path: &Path) -> Self {
        FilePart::from_path(path)
    }
}

impl From<&PathBuf> for FilePart {
    fn from(path: &PathBuf) -> Self {
        FilePart::from_path(path)
    }
}

/// Why a file part could not be built for an attempt.
pub(crate) enum FilePartError {
    Io(io::Error),
    InvalidMime,
}

/// Escapes `"`, CR and LF in a `Content-Disposition` parameter the way browsers do.
pub(crate) fn escape_disposition(s: &str) -> Cow<'_, str> {
    if !s.contains(['"', '\r', '\n']) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.replace('"', "%22")
            .replace('\r', "%0D")
            .replace('\n', "%0A"),
    )
}

pub(super) fn guess_mime(name: &str) -> &'static str {
    let ext = match name.rsplit_once('.') {
        Some((_, ext)) => ext,
        None => return "application/octet-stream",
    };
    let lower = ext.to_ascii_lowercase();
    match lower.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "ogg" => "audio/ogg",
        "flac" => "audio/flac",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "json" => "application/json",
        "txt" => "text/plain",
        "md" => "text/markdown",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}
