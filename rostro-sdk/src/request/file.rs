//! Files in multipart bodies: [`FilePart`] and where its bytes come from.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

use bytes::Bytes;

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

/// Where the bytes of a [`FilePart`] come from.
#[derive(Clone)]
#[non_exhaustive]
pub enum FileSource {
    /// A file on disk, re-opened and streamed on every attempt (never read whole into memory).
    Path(PathBuf),
    /// Bytes in memory (cheaply cloned on every attempt).
    Bytes(Bytes),
}

impl fmt::Debug for FileSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileSource::Path(p) => f.debug_tuple("Path").field(p).finish(),
            FileSource::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
        }
    }
}

/// A file uploaded as one field of a multipart body.
///
/// ```
/// use rostro_sdk::request::FilePart;
/// let avatar = FilePart::from_path("avatar.png"); // file name and content type inferred
/// let inline = FilePart::from_bytes("notes.txt", &b"hello"[..]).content_type("text/plain");
/// # let _ = (avatar, inline);
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

    /// Overrides the file name sent in `Content-Disposition`.
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = Some(name.into());
        self
    }

    /// Overrides the part's `Content-Type` (otherwise guessed from the file name, falling back to
    /// `application/octet-stream`).
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// Where the bytes come from.
    pub fn source(&self) -> &FileSource {
        &self.source
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

    /// Builds the reqwest part for one attempt, re-opening a path source.
    pub(crate) async fn to_reqwest(&self) -> Result<reqwest::multipart::Part, FilePartError> {
        let part = match &self.source {
            FileSource::Path(path) => {
                let file = tokio::fs::File::open(path)
                    .await
                    .map_err(FilePartError::Io)?;
                let len = file.metadata().await.map_err(FilePartError::Io)?.len();
                reqwest::multipart::Part::stream_with_length(file, len)
            }
            FileSource::Bytes(bytes) => {
                reqwest::multipart::Part::stream_with_length(bytes.clone(), bytes.len() as u64)
            }
        };
        let part = match &self.file_name {
            Some(name) => part.file_name(escape_disposition(name).into_owned()),
            None => part,
        };
        part.mime_str(self.mime())
            .map_err(|_| FilePartError::InvalidMime)
    }

    pub(crate) fn path(&self) -> Option<&Path> {
        match &self.source {
            FileSource::Path(p) => Some(p),
            FileSource::Bytes(_) => None,
        }
    }
}

/// Why a file part could not be built for an attempt.
pub(crate) enum FilePartError {
    Io(std::io::Error),
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
