//! Uploads from a path, bytes or an `AsyncRead`, streamed with a known length and a progress
//! callback.
//!
//! * Multipart endpoints: wrap any multipart builder in [`Client::upload`]; its form is sent as
//!   a streamed `multipart/form-data` body with `Content-Length`, files read chunk by chunk.
//! * The gallery (`POST /api/gallery/upload`, JSON with the image as base64):
//!   [`GalleryApi::upload_file`] streams `{"project_id": .., "image": "data:..;base64,` + the file
//!   encoded chunk by chunk + `"}`; a URL is passed through as is.
//!
//! ```no_run
//! use rostro_sdk::Client;
//! use rostro_sdk::media::Upload;
//!
//! # async fn run(client: Client, clip: tokio::fs::File, clip_len: u64) -> rostro_sdk::Result<()> {
//! // Multipart, from a reader of known length, with progress.
//! let item = client
//!     .upload(client.media().upload_video().text("name", "intro"))
//!     .file("file", Upload::reader(clip, clip_len).file_name("intro.mp4"))
//!     .on_progress(|p| eprintln!("{}/{:?} bytes", p.bytes, p.total))
//!     .send()
//!     .await?;
//!
//! // Base64 JSON, streamed from disk.
//! let cover = client
//!     .gallery()
//!     .upload_file(172700, Upload::path("cover.png"))
//!     .caption("The cover")
//!     .send()
//!     .await?;
//! # let _ = (item, cover);
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::io::AsyncRead;

use super::body::{self, Encoding, Segment, Source};
use super::{ProgressFn, TransferProgress};
use crate::generated::gallery::{GALLERY_UPLOAD, GalleryApi};
use crate::request::{
    Body, CallOptions, FilePart, FileSource, Part, Request, RequestOptions, escape_disposition,
};
use crate::{Client, Error, Result};

/// A file to upload: a path (re-opened on every attempt), bytes, a reader of known length
/// (read once, so never retried), or a URL (for endpoints that accept one).
///
/// ```no_run
/// use rostro_sdk::media::Upload;
///
/// # async fn run(client: rostro_sdk::Client) -> rostro_sdk::Result<()> {
/// let item = client
///     .gallery()
///     .upload_file(42, Upload::path("cover.png"))
///     .caption("the cover")
///     .on_progress(|p| eprintln!("{} bytes sent", p.bytes))
///     .send()
///     .await?;
/// let from_memory = Upload::bytes("notes.png", vec![0u8; 16]).content_type("image/png");
/// # let _ = (item, from_memory);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Upload {
    pub(crate) kind: UploadKind,
    file_name: Option<String>,
    content_type: Option<String>,
}

#[derive(Clone)]
pub(crate) enum UploadKind {
    File(Source),
    Url(String),
}

impl fmt::Debug for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match &self.kind {
            UploadKind::File(Source::Path(p)) => format!("path {}", p.display()),
            UploadKind::File(Source::Bytes(b)) => format!("{} bytes", b.len()),
            UploadKind::File(Source::Reader { len, .. }) => format!("reader of {len} bytes"),
            UploadKind::Url(u) => format!("url {u}"),
        };
        f.debug_struct("Upload")
            .field("source", &source)
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .finish()
    }
}

impl Upload {
    /// A file on disk, streamed (and re-opened on a retry). The file name defaults to the last
    /// path component, the content type is guessed from its extension.
    pub fn path(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        Upload {
            kind: UploadKind::File(Source::Path(path)),
            file_name,
            content_type: None,
        }
    }

    /// Bytes in memory, sent under `file_name`.
    pub fn bytes(file_name: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        Upload {
            kind: UploadKind::File(Source::Bytes(bytes.into())),
            file_name: Some(file_name.into()),
            content_type: None,
        }
    }

    /// Exactly `len` bytes read from `reader`, chunk by chunk. A reader can be read only once,
    /// so such a request is never retried; a reader that ends early fails the upload.
    pub fn reader(reader: impl AsyncRead + Send + Unpin + 'static, len: u64) -> Self {
        Upload {
            kind: UploadKind::File(Source::Reader {
                reader: Arc::new(Mutex::new(Some(Box::new(reader)))),
                len,
            }),
            file_name: None,
            content_type: None,
        }
    }

    /// A URL the service fetches itself (only where the endpoint accepts URLs, like the
    /// gallery upload); multipart endpoints reject it with [`Error::InvalidRequest`].
    pub fn url(url: impl Into<String>) -> Self {
        Upload {
            kind: UploadKind::Url(url.into()),
            file_name: None,
            content_type: None,
        }
    }

    /// Sets the file name sent with the bytes.
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = Some(name.into());
        self
    }

    /// Sets the content type (otherwise guessed from the file name, falling back to
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
    pub fn mime(&self) -> String {
        match &self.content_type {
            Some(ct) => ct.clone(),
            None => FilePart::from_bytes(self.file_name.clone().unwrap_or_default(), Bytes::new())
                .mime()
                .to_owned(),
        }
    }

    /// The URL, for an upload made with [`Upload::url`].
    pub fn as_url(&self) -> Option<&str> {
        match &self.kind {
            UploadKind::Url(u) => Some(u),
            UploadKind::File(_) => None,
        }
    }

    pub(crate) fn label(&self) -> Arc<str> {
        Arc::from(self.file_name.as_deref().unwrap_or("upload"))
    }

    /// The bytes' source, or an error naming `field` for a URL.
    pub(crate) fn file_source(&self, operation: &'static str, field: &str) -> Result<Source> {
        match &self.kind {
            UploadKind::File(s) => Ok(s.clone()),
            UploadKind::Url(_) => Err(Error::InvalidRequest {
                operation,
                message: format!(
                    "`{field}` needs the file's bytes; this endpoint does not take a URL"
                ),
            }),
        }
    }
}

impl From<FilePart> for Upload {
    fn from(part: FilePart) -> Self {
        let mut upload = match part.source() {
            FileSource::Path(p) => Upload::path(p.clone()),
            FileSource::Bytes(b) => Upload::bytes("", b.clone()),
        };
        upload.file_name = part.name().map(str::to_owned);
        upload.content_type = Some(part.mime().to_owned());
        upload
    }
}

impl From<PathBuf> for Upload {
    fn from(path: PathBuf) -> Self {
        Upload::path(path)
    }
}

impl From<&Path> for Upload {
    fn from(path: &Path) -> Self {
        Upload::path(path)
    }
}

/// Wraps a progress closure.
pub(crate) fn progress_fn(f: impl Fn(TransferProgress) + Send + Sync + 'static) -> ProgressFn {
    Arc::new(f)
}

// ---------------------------------------------------------------------------------------------
// Multipart.

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// A generated builder of a `multipart/form-data` endpoint, accepted by [`Client::upload`].
///
/// Implemented for every operation marked `upload = "multipart"` in `openapi/tuning.toml`.
pub trait MultipartOperation: sealed::Sealed {
    /// What the endpoint answers.
    type Output: DeserializeOwned;

    /// The builder's request (its form fields as multipart parts).
    #[doc(hidden)]
    fn into_multipart_request(self) -> Result<Request>;
}

/// Makes generated builders [`MultipartOperation`]s: `generated/wiring.rs` invokes it with one
/// `builder => output;` line per `upload = "multipart"` entry of `openapi/tuning.toml`.
macro_rules! multipart_operations {
    ($($(#[$meta:meta])* $builder:ty => $output:ty;)*) => {$(
        $(#[$meta])*
        impl $crate::media::upload::sealed::Sealed for $builder {}
        $(#[$meta])*
        impl $crate::media::upload::MultipartOperation for $builder {
            type Output = $output;
            fn into_multipart_request(self) -> $crate::Result<$crate::request::Request> {
                self.into_request()
            }
        }
    )*};
}
pub(crate) use multipart_operations;

impl Client {
    /// Sends a multipart builder's form as a streamed body: every file (the builder's
    /// [`FilePart`]s and those added with [`MultipartUpload::file`]) is read chunk by chunk
    /// with progress, and the body carries `Content-Length`.
    pub fn upload<B: MultipartOperation>(&self, builder: B) -> MultipartUpload<B::Output> {
        MultipartUpload {
            client: self.clone(),
            request: builder.into_multipart_request(),
            files: Vec::new(),
            texts: Vec::new(),
            progress: None,
            options: RequestOptions::default(),
            output: PhantomData,
        }
    }
}

/// A multipart upload with streamed files and progress, from [`Client::upload`].
#[must_use = "an upload does nothing until `.send().await`"]
pub struct MultipartUpload<T> {
    client: Client,
    request: Result<Request>,
    files: Vec<(String, Upload)>,
    texts: Vec<(String, String)>,
    progress: Option<ProgressFn>,
    options: RequestOptions,
    output: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for MultipartUpload<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultipartUpload")
            .field("request", &self.request)
            .field("files", &self.files)
            .field("texts", &self.texts)
            .finish_non_exhaustive()
    }
}

impl<T> CallOptions for MultipartUpload<T> {
    fn options_mut(&mut self) -> &mut RequestOptions {
        &mut self.options
    }
}

impl<T: DeserializeOwned> MultipartUpload<T> {
    /// Adds a file field, replacing a field of the same name set on the builder.
    pub fn file(mut self, name: impl Into<String>, upload: impl Into<Upload>) -> Self {
        self.files.push((name.into(), upload.into()));
        self
    }

    /// Adds a text field.
    pub fn text(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.texts.push((name.into(), value.into()));
        self
    }

    /// Called as file bytes are sent (all files of the form together).
    pub fn on_progress(mut self, f: impl Fn(TransferProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(progress_fn(f));
        self
    }

    /// Builds the request with its streamed body, without sending it.
    pub fn into_request(self) -> Result<Request> {
        let mut req = self.request?;
        let op = req.operation().id;
        let mut fields: Vec<(String, MultipartField)> = match std::mem::take(&mut req.body) {
            Body::Multipart(parts) => parts
                .into_iter()
                .map(|(name, part)| {
                    let field = match part {
                        Part::Text(text) => MultipartField::Text(text),
                        Part::File(file) => MultipartField::File(Upload::from(file)),
                    };
                    (name, field)
                })
                .collect(),
            Body::Empty => Vec::new(),
            _ => {
                return Err(Error::InvalidRequest {
                    operation: op,
                    message: "not a multipart request".into(),
                });
            }
        };
        for (name, upload) in self.files {
            fields.retain(|(n, _)| *n != name);
            fields.push((name, MultipartField::File(upload)));
        }
        for (name, text) in self.texts {
            fields.push((name, MultipartField::Text(text)));
        }
        let boundary = format!("rostro-{}", uuid::Uuid::new_v4().simple());
        let segments = multipart_segments(op, &boundary, fields)?;
        if body::is_one_shot(&segments) {
            req.options(RequestOptions::default().max_retries(0));
        }
        req.options(self.options);
        req.stream_body(
            &format!("multipart/form-data; boundary={boundary}"),
            body::opener(segments, self.progress),
        );
        Ok(req)
    }

    /// Uploads and decodes the endpoint's answer.
    pub async fn send(self) -> Result<T> {
        self.send_as::<T>().await
    }

    /// Uploads and decodes the answer as `U` (e.g. `serde_json::Value`).
    pub async fn send_as<U: DeserializeOwned>(self) -> Result<U> {
        let client = self.client.clone();
        let req = self.into_request()?;
        Ok(client.execute::<U>(req).await?.into_inner())
    }
}

enum MultipartField {
    Text(String),
    File(Upload),
}

/// The segments of a `multipart/form-data` body.
fn multipart_segments(
    operation: &'static str,
    boundary: &str,
    fields: Vec<(String, MultipartField)>,
) -> Result<Vec<Segment>> {
    let mut segments = Vec::with_capacity(fields.len() * 3 + 1);
    let mut head = String::new();
    for (name, field) in fields {
        let name = escape_disposition(&name).into_owned();
        head.push_str("--");
        head.push_str(boundary);
        head.push_str("\r\nContent-Disposition: form-data; name=\"");
        head.push_str(&name);
        head.push('"');
        match field {
            MultipartField::Text(text) => {
                head.push_str("\r\n\r\n");
                head.push_str(&text);
                head.push_str("\r\n");
            }
            MultipartField::File(upload) => {
                let source = upload.file_source(operation, &name)?;
                let file_name = upload.name().unwrap_or(&name).to_owned();
                head.push_str("; filename=\"");
                head.push_str(&escape_disposition(&file_name));
                head.push_str("\"\r\nContent-Type: ");
                head.push_str(&upload.mime());
                head.push_str("\r\n\r\n");
                segments.push(Segment::literal(std::mem::take(&mut head)));
                segments.push(Segment::File {
                    source,
                    encoding: Encoding::Raw,
                    label: upload.label(),
                });
                head.push_str("\r\n");
            }
        }
    }
    head.push_str("--");
    head.push_str(boundary);
    head.push_str("--\r\n");
    segments.push(Segment::literal(head));
    Ok(segments)
}

// ---------------------------------------------------------------------------------------------
// Gallery: base64 inside JSON.

impl GalleryApi {
    /// Uploads an image to a project's gallery (`POST /api/gallery/upload`). A file is sent as a
    /// base64 `data:` URL streamed into the JSON body chunk by chunk (never held whole); an
    /// [`Upload::url`] is passed through for the service to fetch.
    pub fn upload_file(&self, project_id: i64, image: impl Into<Upload>) -> GalleryUploadFile {
        GalleryUploadFile {
            client: self.client.clone(),
            project_id,
            image: image.into(),
            fields: Map::new(),
            progress: None,
            options: RequestOptions::default(),
        }
    }
}

/// A gallery upload with a streamed base64 body, from [`GalleryApi::upload_file`].
#[must_use = "an upload does nothing until `.send().await`"]
pub struct GalleryUploadFile {
    client: Client,
    project_id: i64,
    image: Upload,
    fields: Map<String, Value>,
    progress: Option<ProgressFn>,
    options: RequestOptions,
}

impl fmt::Debug for GalleryUploadFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GalleryUploadFile")
            .field("project_id", &self.project_id)
            .field("image", &self.image)
            .field("fields", &self.fields)
            .finish_non_exhaustive()
    }
}

impl CallOptions for GalleryUploadFile {
    fn options_mut(&mut self) -> &mut RequestOptions {
        &mut self.options
    }
}

impl GalleryUploadFile {
    /// An optional caption.
    pub fn caption(self, caption: impl Into<String>) -> Self {
        self.field("caption", caption.into())
    }

    /// Any other JSON field of the body.
    pub fn field(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.fields.insert(name.into(), value.into());
        self
    }

    /// Called as the image's bytes are sent.
    pub fn on_progress(mut self, f: impl Fn(TransferProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(progress_fn(f));
        self
    }

    /// Builds the request with its streamed body, without sending it.
    pub fn into_request(self) -> Result<Request> {
        let mut req = Request::new(&GALLERY_UPLOAD);
        let mut fields = Map::new();
        fields.insert("project_id".into(), Value::from(self.project_id));
        fields.extend(self.fields);
        fields.remove("image");
        match &self.image.kind {
            UploadKind::Url(url) => {
                fields.insert("image".into(), Value::from(url.clone()));
                req.json_body(&fields)?;
            }
            UploadKind::File(source) => {
                let invalid = |e: serde_json::Error| Error::InvalidRequest {
                    operation: GALLERY_UPLOAD.id,
                    message: format!("could not serialize the request body: {e}"),
                };
                let mut head = serde_json::to_string(&fields).map_err(invalid)?;
                head.pop(); // the closing `}`
                if fields.is_empty() {
                    head.push_str("\"image\":");
                } else {
                    head.push_str(",\"image\":");
                }
                let mime = serde_json::to_string(&self.image.mime()).map_err(invalid)?;
                head.push_str(&format!("\"data:{};base64,", mime.trim_matches('"')));
                let segments = vec![
                    Segment::literal(head),
                    Segment::File {
                        source: source.clone(),
                        encoding: Encoding::Base64,
                        label: self.image.label(),
                    },
                    Segment::literal(&b"\"}"[..]),
                ];
                if body::is_one_shot(&segments) {
                    req.options(RequestOptions::default().max_retries(0));
                }
                req.stream_body("application/json", body::opener(segments, self.progress));
            }
        }
        req.options(self.options);
        Ok(req)
    }

    /// Uploads and returns the new gallery item.
    pub async fn send(self) -> Result<crate::types::GalleryItem> {
        self.send_as().await
    }

    /// Uploads and decodes the answer as `T` (e.g. `serde_json::Value`).
    pub async fn send_as<T: DeserializeOwned>(self) -> Result<T> {
        let client = self.client.clone();
        let req = self.into_request()?;
        Ok(client.execute::<T>(req).await?.into_inner())
    }
}
