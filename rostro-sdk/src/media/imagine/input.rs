//! Image inputs of a generation: passed through, or local bytes sent as `data:` URLs.

use std::fmt;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use tokio::io::AsyncRead;

use crate::generated::imagine::IMAGINE_CREATE;
use crate::media::body;
use crate::request::FilePart;
use crate::{Error, Result};

/// An image given to a generation: a URL or base64 string (passed through as is) or a local
/// file, bytes or reader (sent as a base64 `data:` URL, encoded while the request streams).
///
/// ```
/// use rostro_sdk::media::ImageInput;
///
/// let from_disk = ImageInput::path("photo.png");
/// let from_web: ImageInput = "https://example.com/photo.png".into();
/// let in_memory = ImageInput::bytes("image/png", vec![0x89, b'P', b'N', b'G']);
/// # let _ = (from_disk, from_web, in_memory);
/// ```
#[derive(Clone)]
pub struct ImageInput(pub(super) ImageKind);

#[derive(Clone)]
pub(super) enum ImageKind {
    Text(String),
    File(FilePart),
}

impl fmt::Debug for ImageInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            ImageKind::Text(t) if t.len() > 80 => write!(f, "ImageInput({} chars)", t.len()),
            ImageKind::Text(t) => write!(f, "ImageInput({t:?})"),
            ImageKind::File(u) => write!(f, "ImageInput({u:?})"),
        }
    }
}

impl ImageInput {
    /// An image URL the service fetches.
    pub fn url(url: impl Into<String>) -> Self {
        ImageInput(ImageKind::Text(url.into()))
    }

    /// A base64 string or `data:` URL, sent as is.
    pub fn base64(data: impl Into<String>) -> Self {
        ImageInput(ImageKind::Text(data.into()))
    }

    /// A local file, streamed into the request as a base64 `data:` URL (content type from the
    /// extension).
    pub fn path(path: impl Into<PathBuf>) -> Self {
        ImageInput(ImageKind::File(FilePart::from_path(path)))
    }

    /// Image bytes with their content type (e.g. `image/png`).
    pub fn bytes(content_type: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        ImageInput(ImageKind::File(
            FilePart::from_bytes("image", bytes).content_type(content_type),
        ))
    }

    /// `len` bytes of an image read from `reader` (read once: the request is not retried).
    pub fn reader(
        content_type: impl Into<String>,
        reader: impl AsyncRead + Send + Unpin + 'static,
        len: u64,
    ) -> Self {
        ImageInput(ImageKind::File(
            FilePart::from_reader(reader, len).content_type(content_type),
        ))
    }

    /// The value as a string for the request: the URL or base64 string as is, a file read
    /// and encoded as a `data:` URL. For builders that take image strings, e.g. the per-type
    /// endpoints used with [`ImagineApi::generate_with`](crate::generated::imagine::ImagineApi::generate_with).
    pub async fn to_request_string(&self) -> Result<String> {
        match &self.0 {
            ImageKind::Text(t) => Ok(t.clone()),
            ImageKind::File(file) => {
                body::data_url(file.source(), file.mime())
                    .await
                    .map_err(|source| Error::Io {
                        operation: IMAGINE_CREATE.id,
                        path: None,
                        source,
                    })
            }
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        matches!(&self.0, ImageKind::Text(t) if t.trim().is_empty())
    }
}

impl From<&str> for ImageInput {
    /// A URL or base64 string, sent as is.
    fn from(s: &str) -> Self {
        ImageInput::url(s)
    }
}

impl From<String> for ImageInput {
    /// A URL or base64 string, sent as is.
    fn from(s: String) -> Self {
        ImageInput::url(s)
    }
}

impl From<PathBuf> for ImageInput {
    fn from(p: PathBuf) -> Self {
        ImageInput::path(p)
    }
}

impl From<&Path> for ImageInput {
    fn from(p: &Path) -> Self {
        ImageInput::path(p)
    }
}

impl From<FilePart> for ImageInput {
    /// A local file, sent as a base64 `data:` URL with the file's content type.
    fn from(file: FilePart) -> Self {
        ImageInput(ImageKind::File(file))
    }
}
