//! Uploads of a [`FilePart`] (a path, bytes or an `AsyncRead`), streamed with a known length
//! and a progress callback. The file's name, content type and source are the [`FilePart`]'s;
//! nothing here keeps its own.
//!
//! * Multipart endpoints: wrap any multipart builder in [`Client::upload`]; its form is sent as
//!   a streamed `multipart/form-data` body with `Content-Length`, files read chunk by chunk.
//! * The gallery (`POST /api/gallery/upload`, JSON with the image as base64):
//!   [`GalleryApi::upload_file`] streams `{"project_id": .., "image": "data:..;base64,` + the file
//!   encoded chunk by chunk + `"}`; [`GalleryApi::upload_url`] sends a URL for the service to
//!   fetch instead.
//!
//! ```no_run
//! use std::path::Path;
//! use rostro_sdk::Client;
//! use rostro_sdk::request::FilePart;
//!
//! # async fn run(client: Client, clip: tokio::fs::File, clip_len: u64) -> rostro_sdk::Result<()> {
//! // Multipart, from a reader of known length, with progress.
//! let item = client
//!     .upload(client.media().upload_video().text("name", "intro"))
//!     .file("file", FilePart::from_reader(clip, clip_len).file_name("intro.mp4"))
//!     .on_progress(|p| eprintln!("{}/{:?} bytes", p.bytes, p.total))
//!     .send()
//!     .await?;
//!
//! // Base64 JSON, streamed from disk.
//! let cover = client
//!     .gallery()
//!     .upload_file(172700, Path::new("cover.png"))
//!     .caption("The cover")
//!     .send()
//!     .await?;
//!
//! // An image the service fetches itself.
//! let linked = client
//!     .gallery()
//!     .upload_url(172700, "https://example.com/cover.png")
//!     .send()
//!     .await?;
//! # let _ = (item, cover, linked);
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::body::{self, Encoding, Segment};
use super::{ProgressFn, TransferProgress};
use crate::generated::gallery::{GALLERY_UPLOAD, GalleryApi};
use crate::request::{
    Body, CallOptions, FilePart, Part, Request, RequestOptions, escape_disposition,
};
use crate::{Client, Error, Result};

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
    files: Vec<(String, FilePart)>,
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
    pub fn file(mut self, name: impl Into<String>, file: impl Into<FilePart>) -> Self {
        self.files.push((name.into(), file.into()));
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
        let mut fields: Vec<(String, Part)> = match std::mem::take(&mut req.body) {
            Body::Multipart(parts) => parts,
            Body::Empty => Vec::new(),
            _ => {
                return Err(Error::InvalidRequest {
                    operation: op,
                    message: "not a multipart request".into(),
                });
            }
        };
        for (name, file) in self.files {
            fields.retain(|(n, _)| *n != name);
            fields.push((name, Part::File(file)));
        }
        for (name, text) in self.texts {
            fields.push((name, Part::Text(text)));
        }
        let boundary = format!("rostro-{}", uuid::Uuid::new_v4().simple());
        let segments = multipart_segments(&boundary, fields);
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

/// The segments of a `multipart/form-data` body.
fn multipart_segments(boundary: &str, fields: Vec<(String, Part)>) -> Vec<Segment> {
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
            Part::Text(text) => {
                head.push_str("\r\n\r\n");
                head.push_str(&text);
                head.push_str("\r\n");
            }
            Part::File(file) => {
                let file_name = file.name().unwrap_or(&name).to_owned();
                head.push_str("; filename=\"");
                head.push_str(&escape_disposition(&file_name));
                head.push_str("\"\r\nContent-Type: ");
                head.push_str(file.mime());
                head.push_str("\r\n\r\n");
                segments.push(Segment::literal(std::mem::take(&mut head)));
                segments.push(Segment::File {
                    source: file.source().clone(),
                    encoding: Encoding::Raw,
                    label: file.label(),
                });
                head.push_str("\r\n");
            }
        }
    }
    head.push_str("--");
    head.push_str(boundary);
    head.push_str("--\r\n");
    segments.push(Segment::literal(head));
    segments
}

// ---------------------------------------------------------------------------------------------
// Gallery: base64 inside JSON.

impl GalleryApi {
    /// Uploads an image to a project's gallery (`POST /api/gallery/upload`). The file is sent as
    /// a base64 `data:` URL streamed into the JSON body chunk by chunk (never held whole).
    pub fn upload_file(&self, project_id: i64, image: impl Into<FilePart>) -> GalleryUploadFile {
        self.upload_image(project_id, GalleryImage::File(image.into()))
    }

    /// Adds an image the service fetches itself from `url` to a project's gallery (the same
    /// `POST /api/gallery/upload`, the URL passed through as the `image` field).
    pub fn upload_url(&self, project_id: i64, url: impl Into<String>) -> GalleryUploadFile {
        self.upload_image(project_id, GalleryImage::Url(url.into()))
    }

    fn upload_image(&self, project_id: i64, image: GalleryImage) -> GalleryUploadFile {
        GalleryUploadFile {
            client: self.client.clone(),
            project_id,
            image,
            fields: Map::new(),
            progress: None,
            options: RequestOptions::default(),
        }
    }
}

/// The image of a gallery upload: a file's bytes, or a URL (not a file: it has no bytes,
/// name or content type of its own).
#[derive(Debug)]
enum GalleryImage {
    File(FilePart),
    Url(String),
}

/// A gallery upload with a streamed base64 body, from [`GalleryApi::upload_file`] (or with a
/// URL, from [`GalleryApi::upload_url`]).
#[must_use = "an upload does nothing until `.send().await`"]
pub struct GalleryUploadFile {
    client: Client,
    project_id: i64,
    image: GalleryImage,
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
        match &self.image {
            GalleryImage::Url(url) => {
                fields.insert("image".into(), Value::from(url.clone()));
                req.json_body(&fields)?;
            }
            GalleryImage::File(file) => {
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
                let mime = serde_json::to_string(file.mime()).map_err(invalid)?;
                head.push_str(&format!("\"data:{};base64,", mime.trim_matches('"')));
                let segments = vec![
                    Segment::literal(head),
                    Segment::File {
                        source: file.source().clone(),
                        encoding: Encoding::Base64,
                        label: file.label(),
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
