//! Generate media, wait for it, download it.
//!
//! * [`GenerationSpec`]: one constructor per generation type; [`GenerationSpec::validate`]
//!   checks before sending what the type needs (a prompt, a transcript, lyrics for sung music,
//!   an init image for `image_to_*`, enum values) and fails with
//!   [`Error::InvalidRequest`] naming the field. Image inputs
//!   are URLs or base64 strings (passed through) or local files (streamed into the request as
//!   base64 `data:` URLs).
//! * [`ImagineApi::generate`] (`POST /imagine`) and [`ImagineApi::generate_with`] (the
//!   per-type endpoints such as `POST /images/text2img`) return a [`Generation`];
//!   [`ImagineApi::resume`] / [`ImagineApi::resume_check`] rebuild one from a uuid.
//! * [`Generation::wait`] polls `POST /imagine/check` (or `POST /check` for per-type
//!   endpoints) with a backoff from 1 s to 10 s (configurable), an overall timeout and a
//!   progress callback. Dropping the future stops polling; the generation goes on server-side
//!   and can be resumed. `is_failed` becomes [`MediaError::GenerationFailed`] with the reason.
//!
//! ```no_run
//! use std::time::Duration;
//! use rostro_sdk::Client;
//! use rostro_sdk::media::{GenerationSpec, ImageInput};
//! use rostro_sdk::types::MusicGenType;
//!
//! # async fn run(client: Client) -> rostro_sdk::Result<()> {
//! // Animate a local picture (sent as a base64 data URL).
//! let spec = GenerationSpec::image_to_video()
//!     .init_image(ImageInput::path("still.png"))
//!     .prompt("the clouds drift by")
//!     .duration(4);
//! let generation = client.imagine().generate(spec).await?;
//! println!("started {}", generation.generation_uuid());
//! let done = generation
//!     .timeout(Duration::from_secs(600))
//!     .on_progress(|p| eprintln!("{:?}, {:?} elapsed", p.state, p.elapsed))
//!     .wait()
//!     .await?;
//! let files = done.download("./media").await?;
//! println!("{}", files.primary.path.display());
//!
//! // Sung music needs lyrics: this fails before anything is sent.
//! let err = client
//!     .imagine()
//!     .generate(GenerationSpec::text_to_music("sea shanty").music_type(MusicGenType::Vocals))
//!     .await
//!     .unwrap_err();
//! assert!(err.to_string().contains("lyrics"));
//!
//! // A per-type endpoint, polled with POST /check; later, from another process:
//! let g = client.imagine().generate_with(client.images().text_to_image().prompt("a fox")).await?;
//! let again = client.imagine().resume_check(g.generation_uuid()).wait().await?;
//! # let _ = again;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use tokio::io::AsyncRead;
use tokio::time::Instant;

use super::MediaError;
use super::body::{self, Encoding, Segment};
use super::download::Download;
use super::upload::{Upload, UploadKind};
use crate::generated::imagine::{IMAGINE_CHECK, IMAGINE_CREATE, ImagineApi};
use crate::generated::tasks::TASKS_CHECK;
use crate::request::{Body, CallOptions, Request, RequestOptions};
use crate::types::{
    AspectRatio, GenerationRejection, GenerationRequest, GenerationType, I2IType, ImaginedItem,
    MusicGenType, MusicGenre, Output3DType, RigType, Speed, Voice,
};
use crate::{Client, Error, Result};

/// First wait between two checks (then doubling).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Longest wait between two checks.
pub const DEFAULT_MAX_POLL_INTERVAL: Duration = Duration::from_secs(10);
/// How long [`Generation::wait`] waits by default before giving up (30 minutes).
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Consecutive transient check failures (429, 5xx, connection errors) tolerated while waiting.
pub const DEFAULT_MAX_CHECK_ERRORS: u32 = 3;

// ---------------------------------------------------------------------------------------------
// Image inputs.

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
pub struct ImageInput(ImageKind);

#[derive(Clone)]
enum ImageKind {
    Text(String),
    File(Upload),
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
        ImageInput(ImageKind::File(Upload::path(path)))
    }

    /// Image bytes with their content type (e.g. `image/png`).
    pub fn bytes(content_type: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        ImageInput(ImageKind::File(
            Upload::bytes("image", bytes).content_type(content_type),
        ))
    }

    /// `len` bytes of an image read from `reader` (read once: the request is not retried).
    pub fn reader(
        content_type: impl Into<String>,
        reader: impl AsyncRead + Send + Unpin + 'static,
        len: u64,
    ) -> Self {
        ImageInput(ImageKind::File(
            Upload::reader(reader, len).content_type(content_type),
        ))
    }

    /// The value as a string for the request: the URL or base64 string as is, a file read
    /// and encoded as a `data:` URL. For builders that take image strings, e.g. the per-type
    /// endpoints used with [`ImagineApi::generate_with`].
    pub async fn to_request_string(&self) -> Result<String> {
        match &self.0 {
            ImageKind::Text(t) => Ok(t.clone()),
            ImageKind::File(upload) => {
                let source = upload.file_source(IMAGINE_CREATE.id, "image")?;
                body::data_url(&source, &upload.mime())
                    .await
                    .map_err(|source| Error::Io {
                        operation: IMAGINE_CREATE.id,
                        path: None,
                        source,
                    })
            }
        }
    }

    fn is_empty(&self) -> bool {
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

impl From<Upload> for ImageInput {
    fn from(u: Upload) -> Self {
        match u.kind {
            UploadKind::Url(url) => ImageInput::url(url),
            UploadKind::File(_) => ImageInput(ImageKind::File(u)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The request.

/// A checked `POST /imagine` request: pick the generation type with its constructor, set
/// options, then [`ImagineApi::generate`].
///
/// ```no_run
/// use rostro_sdk::media::{GenerationSpec, ImageInput};
///
/// # async fn run(client: rostro_sdk::Client) -> rostro_sdk::Result<()> {
/// let spec = GenerationSpec::image_to_image("the same scene in watercolour")
///     .init_image(ImageInput::path("photo.png")) // read and sent as a data: URL
///     .remove_background(true);
/// let generation = client.imagine().generate(spec).await?;
/// # let _ = generation;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
#[must_use = "a generation spec does nothing until passed to `client.imagine().generate(..)`"]
pub struct GenerationSpec {
    request: GenerationRequest,
    init_image: Option<ImageInput>,
    init_images: Vec<ImageInput>,
    end_image: Option<ImageInput>,
    mask_image: Option<ImageInput>,
    return_immediate: bool,
    options: RequestOptions,
}

impl CallOptions for GenerationSpec {
    fn options_mut(&mut self) -> &mut RequestOptions {
        &mut self.options
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty;)*) => {$(
        $(#[$doc])*
        pub fn $name(mut self, v: impl Into<$ty>) -> Self {
            self.request.$name = Some(v.into());
            self
        }
    )*};
}

impl GenerationSpec {
    /// A request of any generation type; prefer the typed constructors.
    pub fn new(generation_type: impl Into<GenerationType>) -> Self {
        GenerationSpec {
            request: GenerationRequest {
                generation_type: Some(generation_type.into()),
                ..GenerationRequest::default()
            },
            init_image: None,
            init_images: Vec::new(),
            end_image: None,
            mask_image: None,
            return_immediate: true,
            options: RequestOptions::default(),
        }
    }

    /// An image from a text prompt.
    pub fn text_to_image(prompt: impl Into<String>) -> Self {
        Self::new(GenerationType::TextToImage).prompt(prompt)
    }

    /// A video from a text prompt.
    pub fn text_to_video(prompt: impl Into<String>) -> Self {
        Self::new(GenerationType::TextToVideo).prompt(prompt)
    }

    /// Speech reading `transcript` out (pick a [`voice`](Self::voice)).
    pub fn text_to_speech(transcript: impl Into<String>) -> Self {
        Self::new(GenerationType::TextToSpeech).transcript(transcript)
    }

    /// Music described by `prompt`. Sung music (`vocals`, or `mixed`, the server's default
    /// [`music_type`](Self::music_type)) also needs [`lyrics`](Self::lyrics).
    pub fn text_to_music(prompt: impl Into<String>) -> Self {
        Self::new(GenerationType::TextToMusic).prompt(prompt)
    }

    /// A sound effect from a text prompt.
    pub fn text_to_sfx(prompt: impl Into<String>) -> Self {
        Self::new(GenerationType::TextToSfx).prompt(prompt)
    }

    /// A 3D model from a text prompt.
    pub fn text_to_3d(prompt: impl Into<String>) -> Self {
        Self::new(GenerationType::TextTo3d).prompt(prompt)
    }

    /// An edit of an image; set the [`init_image`](Self::init_image).
    pub fn image_to_image(prompt: impl Into<String>) -> Self {
        Self::new(GenerationType::ImageToImage).prompt(prompt)
    }

    /// A video from an image; set the [`init_image`](Self::init_image).
    pub fn image_to_video() -> Self {
        Self::new(GenerationType::ImageToVideo)
    }

    /// A 3D model from one or more images; set [`init_image`](Self::init_image) or
    /// [`add_init_image`](Self::add_init_image).
    pub fn image_to_3d() -> Self {
        Self::new(GenerationType::ImageTo3d)
    }

    /// The generation type.
    pub fn generation_type(&self) -> Option<&GenerationType> {
        self.request.generation_type.as_ref()
    }

    setters! {
        /// What to generate; descriptive and fairly detailed.
        prompt: String;
        /// What the result should not contain.
        negative_prompt: String;
        /// The text to read out (speech).
        transcript: String;
        /// The voice (speech).
        voice: Voice;
        /// The song's lyrics, each part starting with a structure tag such as `[verse]`.
        lyrics: String;
        /// Instrumental, vocals only, or mixed (the server's default).
        music_type: MusicGenType;
        /// The musical genre.
        genre: MusicGenre;
        /// Duration in seconds of a video or sound effect.
        duration: i64;
        /// Frames per second of a video.
        fps: i64;
        /// Seed, for reproducible results.
        seed: i64;
        /// Inference steps.
        num_inference_steps: i64;
        /// Strength of an image-to-image transformation, `0.0..=1.0`.
        strength: f64;
        /// How strongly the prompt affects the output.
        guidance_scale: f64;
        /// Edit, canny or face image-to-image.
        i2i_type: I2IType;
        /// 3D output file type.
        output_type: Output3DType;
        /// Normal or turbo.
        speed: Speed;
        /// Rig type of a rigged 3D model.
        autorig_type: RigType;
        /// Octree resolution of a 3D model.
        octree_resolution: i64;
        /// Texture size of a 3D model.
        texture_size: i64;
    }

    /// The aspect ratio: an [`AspectRatio`], its wire name (`"w16h9"`) or `"16:9"` /
    /// `"16x9"`. A value outside the enum fails [`validate`](Self::validate).
    pub fn aspect_ratio(mut self, v: impl Into<AspectRatio>) -> Self {
        self.request.aspect_ratio = Some(normalize_aspect_ratio(v.into()));
        self
    }

    /// Whether to remove the background of the image(s) before/after.
    pub fn remove_background(mut self, on: bool) -> Self {
        self.request.remove_background = Some(on);
        self
    }

    /// Whether to keep the transparency of the input image(s).
    pub fn preserve_transparency(mut self, on: bool) -> Self {
        self.request.preserve_transparency = Some(on);
        self
    }

    /// Whether to texture a 3D model.
    pub fn do_texture(mut self, on: bool) -> Self {
        self.request.do_texture = Some(on);
        self
    }

    /// Whether to rig a 3D model.
    pub fn do_autorig(mut self, on: bool) -> Self {
        self.request.do_autorig = Some(on);
        self
    }

    /// The input image of `image_to_*` types.
    pub fn init_image(mut self, image: impl Into<ImageInput>) -> Self {
        self.init_image = Some(image.into());
        self
    }

    /// Adds a reference image (`init_images`, e.g. several views for `image_to_3d`).
    pub fn add_init_image(mut self, image: impl Into<ImageInput>) -> Self {
        self.init_images.push(image.into());
        self
    }

    /// The last frame of an image-to-video (the same as the init image loops).
    pub fn end_image(mut self, image: impl Into<ImageInput>) -> Self {
        self.end_image = Some(image.into());
        self
    }

    /// The mask image.
    pub fn mask_image(mut self, image: impl Into<ImageInput>) -> Self {
        self.mask_image = Some(image.into());
        self
    }

    /// By default the SDK asks for `return_immediate=true` and polls; `false` lets the server
    /// hold the request until the generation is done (within the request timeout).
    pub fn return_immediate(mut self, on: bool) -> Self {
        self.return_immediate = on;
        self
    }

    /// Any other field of the body.
    pub fn request_mut(&mut self) -> &mut GenerationRequest {
        &mut self.request
    }

    /// Checks what the generation type needs, before anything is sent.
    pub fn validate(&self) -> Result<()> {
        let r = &self.request;
        let kind = r
            .generation_type
            .as_ref()
            .ok_or_else(|| invalid("`generation_type` is required"))?;
        check_enum(
            "generation_type",
            Some(kind),
            GenerationType::KNOWN,
            GenerationType::is_known,
        )?;
        check_enum(
            "aspect_ratio",
            r.aspect_ratio.as_ref(),
            ASPECT_RATIOS,
            AspectRatio::is_known,
        )?;
        check_enum(
            "music_type",
            r.music_type.as_ref(),
            MusicGenType::KNOWN,
            MusicGenType::is_known,
        )?;
        check_enum(
            "genre",
            r.genre.as_ref(),
            MusicGenre::KNOWN,
            MusicGenre::is_known,
        )?;
        check_enum(
            "i2i_type",
            r.i2i_type.as_ref(),
            I2IType::KNOWN,
            I2IType::is_known,
        )?;
        check_enum(
            "output_type",
            r.output_type.as_ref(),
            Output3DType::KNOWN,
            Output3DType::is_known,
        )?;
        check_enum("speed", r.speed.as_ref(), Speed::KNOWN, Speed::is_known)?;
        check_enum(
            "autorig_type",
            r.autorig_type.as_ref(),
            RigType::KNOWN,
            RigType::is_known,
        )?;

        let text = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        let need = |field: &str, ok: bool| {
            if ok {
                Ok(())
            } else {
                Err(invalid(format!("`{field}` is required for {kind}")))
            }
        };
        let has_image = self.init_image.is_some() || !self.init_images.is_empty();
        match kind {
            GenerationType::TextToImage
            | GenerationType::TextToVideo
            | GenerationType::TextToSfx
            | GenerationType::TextTo3d => need("prompt", text(&r.prompt))?,
            GenerationType::TextToSpeech => need("transcript", text(&r.transcript))?,
            GenerationType::TextToMusic => match r.music_type.as_ref() {
                Some(MusicGenType::Instrumental) => {
                    if !text(&r.prompt) && r.genre.is_none() {
                        return Err(invalid(
                            "`prompt` (or `genre`) is required for instrumental text_to_music",
                        ));
                    }
                }
                sung => {
                    if !text(&r.lyrics) {
                        let music_type = sung.map_or("mixed (the server default)", |m| m.as_str());
                        return Err(invalid(format!(
                            "`lyrics` is required when `music_type` is {music_type}; use `instrumental` for music without lyrics"
                        )));
                    }
                }
            },
            GenerationType::ImageToImage => {
                need("init_image", has_image)?;
                need("prompt", text(&r.prompt))?;
            }
            GenerationType::ImageToVideo | GenerationType::ImageTo3d => {
                need("init_image", has_image)?;
            }
            GenerationType::Unknown(_) => {}
        }
        for (field, image) in [
            ("init_image", self.init_image.as_ref()),
            ("end_image", self.end_image.as_ref()),
            ("mask_image", self.mask_image.as_ref()),
        ]
        .into_iter()
        .chain(self.init_images.iter().map(|i| ("init_images", Some(i))))
        {
            if image.is_some_and(ImageInput::is_empty) {
                return Err(invalid(format!("`{field}` is empty")));
            }
        }
        let positive = |field: &str, v: Option<i64>| match v {
            Some(n) if n <= 0 => Err(invalid(format!("`{field}` must be positive, not {n}"))),
            _ => Ok(()),
        };
        positive("duration", r.duration)?;
        positive("fps", r.fps)?;
        positive("num_inference_steps", r.num_inference_steps)?;
        positive("octree_resolution", r.octree_resolution)?;
        positive("texture_size", r.texture_size)?;
        if let Some(s) = r.strength
            && !(0.0..=1.0).contains(&s)
        {
            return Err(invalid(format!(
                "`strength` must be between 0 and 1, not {s}"
            )));
        }
        if let Some(g) = r.guidance_scale
            && !(g >= 0.0 && g.is_finite())
        {
            return Err(invalid(format!(
                "`guidance_scale` must be zero or positive, not {g}"
            )));
        }
        Ok(())
    }

    /// Validates and builds the `POST /imagine` request (local images become a streamed body).
    pub fn into_request(self, imagine: &ImagineApi) -> Result<Request> {
        self.validate()?;
        let GenerationSpec {
            mut request,
            init_image,
            init_images,
            end_image,
            mask_image,
            return_immediate,
            options,
        } = self;
        // Files are streamed: their fields get a placeholder that is cut out of the JSON.
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let mut files: Vec<(String, Upload)> = Vec::new();
        let mut slot = |image: ImageInput| match image.0 {
            ImageKind::Text(t) => t,
            ImageKind::File(upload) => {
                let placeholder = format!("rostro-media-{tag}-{}", files.len());
                files.push((placeholder.clone(), upload));
                placeholder
            }
        };
        request.init_image = init_image.map(&mut slot);
        if !init_images.is_empty() {
            request.init_images = Some(init_images.into_iter().map(&mut slot).collect());
        }
        request.end_image = end_image.map(&mut slot);
        request.mask_image = mask_image.map(&mut slot);

        let mut req = imagine
            .create()
            .body(request)
            .return_immediate(return_immediate)
            .into_request()?;
        if !files.is_empty() {
            let Body::Json(json) = std::mem::take(&mut req.body) else {
                return Err(invalid("the request body is not json"));
            };
            let segments = splice_files(&json, &files)?;
            if body::is_one_shot(&segments) {
                req.options(RequestOptions::default().max_retries(0));
            }
            req.stream_body("application/json", body::opener(segments, None));
        }
        req.options(options);
        Ok(req)
    }
}

/// `AspectRatio`'s values as the error message lists them.
const ASPECT_RATIOS: &[&str] = AspectRatio::KNOWN;

fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidRequest {
        operation: IMAGINE_CREATE.id,
        message: message.into(),
    }
}

fn check_enum<T: fmt::Display>(
    field: &str,
    value: Option<&T>,
    known: &[&str],
    is_known: fn(&T) -> bool,
) -> Result<()> {
    match value {
        Some(v) if !is_known(v) => Err(invalid(format!(
            "`{field}` `{v}` is not one of {}",
            known.join(", ")
        ))),
        _ => Ok(()),
    }
}

/// `16:9`, `16x9` and `16/9` mean `w16h9`.
fn normalize_aspect_ratio(v: AspectRatio) -> AspectRatio {
    let AspectRatio::Unknown(raw) = &v else {
        return v;
    };
    let lower = raw.trim().to_ascii_lowercase();
    let Some((w, h)) = lower.split_once([':', 'x', '/']) else {
        return v;
    };
    match (w.trim().parse::<u32>(), h.trim().parse::<u32>()) {
        (Ok(w), Ok(h)) => match AspectRatio::from(format!("w{w}h{h}")) {
            AspectRatio::Unknown(_) => v,
            known => known,
        },
        _ => v,
    }
}

/// Cuts each `"placeholder"` out of `json` and puts the file there as a base64 data URL.
fn splice_files(json: &[u8], files: &[(String, Upload)]) -> Result<Vec<Segment>> {
    let mut found: Vec<(usize, usize, &Upload)> = Vec::with_capacity(files.len());
    for (placeholder, upload) in files {
        let quoted = format!("\"{placeholder}\"");
        let at = json
            .windows(quoted.len())
            .position(|w| w == quoted.as_bytes())
            .ok_or_else(|| invalid("could not place an image file in the request body"))?;
        found.push((at, at + quoted.len(), upload));
    }
    found.sort_by_key(|f| f.0);
    let mut segments = Vec::with_capacity(found.len() * 3 + 1);
    let mut pos = 0;
    for (start, end, upload) in found {
        let mime = upload.mime();
        let mut head = json[pos..start].to_vec();
        head.extend_from_slice(format!("\"data:{mime};base64,").as_bytes());
        segments.push(Segment::literal(head));
        segments.push(Segment::File {
            source: upload.file_source(IMAGINE_CREATE.id, "image")?,
            encoding: Encoding::Base64,
            label: upload.label(),
        });
        segments.push(Segment::literal(&b"\""[..]));
        pos = end;
    }
    segments.push(Segment::literal(json[pos..].to_vec()));
    Ok(segments)
}

// ---------------------------------------------------------------------------------------------
// Per-type endpoints.

mod sealed {
    pub trait Sealed {}
}

/// A generated builder of a per-type generation endpoint (`POST /images/text2img`, `/video`,
/// `/tts`, ...: operations marked `polling = "check"`), accepted by
/// [`ImagineApi::generate_with`]. They answer a `TimedResponse` polled with `POST /check`.
pub trait TimedOperation: sealed::Sealed {
    /// The builder's request.
    #[doc(hidden)]
    fn into_timed_request(self) -> Result<Request>;
}

macro_rules! timed_operations {
    ($($builder:ty),* $(,)?) => {$(
        impl sealed::Sealed for $builder {}
        impl TimedOperation for $builder {
            fn into_timed_request(self) -> Result<Request> {
                self.into_request()
            }
        }
    )*};
}

timed_operations!(
    crate::generated::images::ImagesTextToImage,
    crate::generated::images::ImagesImageToImage,
    crate::generated::images::ImagesAnimate,
    crate::generated::images::ImagesInpaint,
    crate::generated::images::ImagesRemoveBackground,
    crate::generated::images::ImagesUpscale,
    crate::generated::images::ImagesExpressions,
    crate::generated::audio::AudioMusic,
    crate::generated::audio::AudioSpeech,
    crate::generated::audio::AudioSoundEffect,
    crate::generated::video::VideoCreate,
    crate::generated::models3d::Models3dCreate,
);

// ---------------------------------------------------------------------------------------------
// Status.

/// Which endpoint a generation is checked with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PollEndpoint {
    /// `POST /imagine/check` (generations started with `POST /imagine`).
    Imagine,
    /// `POST /check` (per-type endpoints answering a `TimedResponse`).
    Check,
}

impl PollEndpoint {
    fn operation(self) -> &'static str {
        match self {
            PollEndpoint::Imagine => IMAGINE_CHECK.id,
            PollEndpoint::Check => TASKS_CHECK.id,
        }
    }
}

/// Where a generation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GenerationState {
    /// Queued or running.
    Pending,
    /// Finished; the media URLs are set.
    Done,
    /// Finished with an error (`error.reason`).
    Failed,
}

/// One answer about a generation, normalised to an [`ImaginedItem`] for both endpoints.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct GenerationStatus {
    /// Pending, done or failed.
    pub state: GenerationState,
    /// The item (for `/check` answers: `primary_image_path` becomes `primary_media_url`).
    pub item: ImaginedItem,
    /// Place in the queue, when reported.
    pub queue_length: Option<i64>,
}

impl GenerationStatus {
    /// Reads an `ImaginedItem` (`/imagine`, `/imagine/check`) or a `TimedResponse`
    /// (per-type endpoints, `/check`).
    fn from_value(value: Value, endpoint: PollEndpoint, operation: &'static str) -> Result<Self> {
        let decode_error = |e: serde_json::Error| Error::Decode {
            operation,
            path: ".".into(),
            message: e.to_string(),
            snippet: crate::error::snippet(value.to_string().as_bytes()),
            response: None,
        };
        let Some(map) = value.as_object() else {
            return Err(Error::Decode {
                operation,
                path: ".".into(),
                message: "expected a json object".into(),
                snippet: crate::error::snippet(value.to_string().as_bytes()),
                response: None,
            });
        };
        let flag = |k: &str| map.get(k).and_then(Value::as_bool);
        let text = |k: &str| {
            map.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let queue_length = map.get("queue_length").and_then(Value::as_i64);
        let item: ImaginedItem = match endpoint {
            PollEndpoint::Imagine => serde_json::from_value(value.clone()).map_err(decode_error)?,
            PollEndpoint::Check => {
                let error: Option<GenerationRejection> = match map.get("error") {
                    Some(e) if e.is_object() => {
                        Some(serde_json::from_value(e.clone()).map_err(decode_error)?)
                    }
                    _ => None,
                };
                ImaginedItem {
                    generation_uuid: text("generation_uuid"),
                    cost: map.get("cost").and_then(Value::as_f64),
                    primary_media_url: text("primary_media_url")
                        .or_else(|| text("primary_image_path")),
                    description: text("description"),
                    prompt: map.get("prompt").filter(|p| !p.is_null()).cloned(),
                    is_done: flag("is_done"),
                    is_failed: flag("is_failed"),
                    uuid: text("uuid"),
                    info: match map.get("info") {
                        Some(i) if i.is_object() => serde_json::from_value(i.clone()).ok(),
                        _ => None,
                    },
                    secondary_media_urls: match map.get("secondary_media_urls") {
                        Some(s) if s.is_object() => serde_json::from_value(s.clone()).ok(),
                        _ => None,
                    },
                    error,
                    note: text("note"),
                }
            }
        };
        let state = if item.is_failed == Some(true) {
            GenerationState::Failed
        } else if item.is_done == Some(true)
            || (item.is_done.is_none() && item.primary_media_url.is_some())
        {
            GenerationState::Done
        } else {
            GenerationState::Pending
        };
        Ok(GenerationStatus {
            state,
            item,
            queue_length,
        })
    }
}

/// What the progress callback of [`Generation::wait`] sees after every check.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct WaitProgress {
    /// The state after this check.
    pub state: GenerationState,
    /// Time since [`Generation::wait`] started.
    pub elapsed: Duration,
    /// The number of this check (1 for the first).
    pub attempt: u32,
    /// Place in the queue, when reported.
    pub queue_length: Option<i64>,
}

type WaitCallback = Arc<dyn Fn(&WaitProgress) + Send + Sync>;

// ---------------------------------------------------------------------------------------------
// The handle.

impl ImagineApi {
    /// Validates `spec`, starts the generation (`POST /imagine?return_immediate=true`) and
    /// returns a handle to [`wait`](Generation::wait) for it. Nothing is sent when validation
    /// fails.
    pub async fn generate(&self, spec: GenerationSpec) -> Result<Generation> {
        let req = spec.into_request(self)?;
        let value = self.client.execute::<Value>(req).await?.into_inner();
        let status = GenerationStatus::from_value(value, PollEndpoint::Imagine, IMAGINE_CREATE.id)?;
        Generation::started(
            &self.client,
            PollEndpoint::Imagine,
            status,
            IMAGINE_CREATE.id,
        )
    }

    /// Starts a generation on a per-type endpoint (e.g.
    /// `client.images().text_to_image().prompt(..)`) and returns a handle polled with
    /// `POST /check`.
    pub async fn generate_with<B: TimedOperation>(&self, builder: B) -> Result<Generation> {
        let req = builder.into_timed_request()?;
        let operation = req.operation().id;
        let value = self.client.execute::<Value>(req).await?.into_inner();
        let status = GenerationStatus::from_value(value, PollEndpoint::Check, operation)?;
        Generation::started(&self.client, PollEndpoint::Check, status, operation)
    }

    /// A handle to a generation started earlier with `POST /imagine` (e.g. by another
    /// process), checked with `POST /imagine/check`.
    pub fn resume(&self, generation_uuid: impl Into<String>) -> Generation {
        Generation::new(
            self.client.clone(),
            generation_uuid.into(),
            PollEndpoint::Imagine,
        )
    }

    /// A handle to a generation started earlier on a per-type endpoint, checked with
    /// `POST /check`.
    pub fn resume_check(&self, generation_uuid: impl Into<String>) -> Generation {
        Generation::new(
            self.client.clone(),
            generation_uuid.into(),
            PollEndpoint::Check,
        )
    }
}

/// A running (or finished) generation. Cheap to clone; keep a clone (or its uuid) to wait
/// again or [`resume`](ImagineApi::resume) later.
///
/// ```no_run
/// use std::time::Duration;
/// use rostro_sdk::media::GenerationSpec;
///
/// # async fn run(client: rostro_sdk::Client) -> rostro_sdk::Result<()> {
/// let generation = client
///     .imagine()
///     .generate(GenerationSpec::text_to_image("a red fox"))
///     .await?;
/// let uuid = generation.generation_uuid().to_owned();
/// let done = generation.timeout(Duration::from_secs(300)).wait().await?;
/// // Another process (or a retry after a timeout) picks it up by its uuid.
/// let again = client.imagine().resume(uuid).wait().await?;
/// # let _ = (done, again);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
#[must_use = "a generation handle does nothing until you `.wait()` for it"]
pub struct Generation {
    client: Client,
    generation_uuid: String,
    endpoint: PollEndpoint,
    last: Option<GenerationStatus>,
    initial_interval: Duration,
    max_interval: Duration,
    timeout: Option<Duration>,
    max_check_errors: u32,
    progress: Option<WaitCallback>,
}

impl fmt::Debug for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generation")
            .field("generation_uuid", &self.generation_uuid)
            .field("endpoint", &self.endpoint)
            .field("state", &self.last.as_ref().map(|s| s.state))
            .field("poll_interval", &(self.initial_interval, self.max_interval))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Generation {
    fn new(client: Client, generation_uuid: String, endpoint: PollEndpoint) -> Self {
        Generation {
            client,
            generation_uuid,
            endpoint,
            last: None,
            initial_interval: DEFAULT_POLL_INTERVAL,
            max_interval: DEFAULT_MAX_POLL_INTERVAL,
            timeout: Some(DEFAULT_WAIT_TIMEOUT),
            max_check_errors: DEFAULT_MAX_CHECK_ERRORS,
            progress: None,
        }
    }

    fn started(
        client: &Client,
        endpoint: PollEndpoint,
        status: GenerationStatus,
        operation: &'static str,
    ) -> Result<Self> {
        let Some(uuid) = status.item.generation_uuid.clone() else {
            return Err(Error::Decode {
                operation,
                path: "generation_uuid".into(),
                message: "the answer has no generation_uuid to poll".into(),
                snippet: String::new(),
                response: None,
            });
        };
        let mut generation = Generation::new(client.clone(), uuid, endpoint);
        generation.last = Some(status);
        Ok(generation)
    }

    /// The generation's uuid (keep it to [`resume`](ImagineApi::resume) later).
    pub fn generation_uuid(&self) -> &str {
        &self.generation_uuid
    }

    /// The endpoint it is checked with.
    pub fn endpoint(&self) -> PollEndpoint {
        self.endpoint
    }

    /// The latest known status (from the start request or the last check).
    pub fn last_status(&self) -> Option<&GenerationStatus> {
        self.last.as_ref()
    }

    /// The wait before the first check and its cap: the wait doubles after every check, from
    /// `initial` up to `max` (defaults 1 s and 10 s).
    pub fn poll_interval(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_interval = initial;
        self.max_interval = max.max(initial);
        self
    }

    /// Gives up after this long (default 30 minutes) with [`MediaError::WaitTimedOut`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Waits without a time limit.
    pub fn no_timeout(mut self) -> Self {
        self.timeout = None;
        self
    }

    /// How many transient check failures in a row are tolerated (default 3).
    pub fn max_check_errors(mut self, n: u32) -> Self {
        self.max_check_errors = n;
        self
    }

    /// Called after every check with the state, the time waited and the check's number.
    pub fn on_progress(mut self, f: impl Fn(&WaitProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Checks once.
    pub async fn check(&self) -> Result<GenerationStatus> {
        let operation = self.endpoint.operation();
        let req = match self.endpoint {
            PollEndpoint::Imagine => self
                .client
                .imagine()
                .check()
                .generation_uuid(self.generation_uuid.clone())
                .into_request()?,
            PollEndpoint::Check => self
                .client
                .tasks()
                .check()
                .generation_uuid(self.generation_uuid.clone())
                .into_request()?,
        };
        let value = self.client.execute::<Value>(req).await?.into_inner();
        GenerationStatus::from_value(value, self.endpoint, operation)
    }

    /// Polls until the generation is done (then returns it) or failed (then
    /// [`MediaError::GenerationFailed`] with the reason), within the timeout. Cancel-safe:
    /// dropping the future stops polling.
    ///
    /// Takes the handle by value so the future is `'static` (spawnable); clone the handle
    /// first to keep it.
    pub async fn wait(self) -> Result<CompletedGeneration> {
        let operation = self.endpoint.operation();
        let start = Instant::now();
        let deadline = self.timeout.map(crate::transport::deadline_after);
        let mut interval = self.initial_interval;
        let mut checks: u32 = 0;
        let mut errors: u32 = 0;
        let mut status = self.last.clone();
        loop {
            if let Some(s) = &status {
                match s.state {
                    GenerationState::Done => {
                        return Ok(CompletedGeneration {
                            client: self.client.clone(),
                            item: s.item.clone(),
                            generation_uuid: self.generation_uuid.clone(),
                        });
                    }
                    GenerationState::Failed => {
                        let error = s.item.error.clone().unwrap_or_default();
                        return Err(MediaError::GenerationFailed {
                            generation_uuid: self.generation_uuid.clone(),
                            reason: error.reason,
                            location: error.location,
                        }
                        .into_error(operation));
                    }
                    GenerationState::Pending => {
                        // Wait before the next check, within the deadline.
                        let now = Instant::now();
                        if deadline.is_some_and(|d| now >= d) {
                            return Err(self.timed_out(start, checks));
                        }
                        let sleep = match deadline {
                            Some(d) => interval.min(d - now),
                            None => interval,
                        };
                        tokio::time::sleep(sleep).await;
                        interval = interval.saturating_mul(2).min(self.max_interval);
                    }
                }
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(self.timed_out(start, checks));
            }
            checks += 1;
            match self.check().await {
                Ok(s) => {
                    errors = 0;
                    if let Some(cb) = &self.progress {
                        cb(&WaitProgress {
                            state: s.state,
                            elapsed: start.elapsed(),
                            attempt: checks,
                            queue_length: s.queue_length,
                        });
                    }
                    status = Some(s);
                }
                Err(e) if e.is_retryable() && errors < self.max_check_errors => {
                    errors += 1;
                    tracing::debug!(
                        generation_uuid = %self.generation_uuid,
                        error = %e,
                        "check failed, will check again"
                    );
                    // Keep the previous state (pending) so the loop waits before retrying.
                    if status
                        .as_ref()
                        .is_none_or(|s| s.state != GenerationState::Pending)
                    {
                        status = Some(GenerationStatus {
                            state: GenerationState::Pending,
                            item: ImaginedItem::default(),
                            queue_length: None,
                        });
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn timed_out(&self, start: Instant, checks: u32) -> Error {
        MediaError::WaitTimedOut {
            generation_uuid: self.generation_uuid.clone(),
            waited: start.elapsed(),
            checks,
        }
        .into_error(self.endpoint.operation())
    }
}

/// A finished generation: its item and its media, ready to [`download`](Self::download).
///
/// ```no_run
/// # async fn run(done: rostro_sdk::media::CompletedGeneration) -> rostro_sdk::Result<()> {
/// println!("{:?}", done.primary_url());
/// let saved = done.download("renders/").overwrite(true).await?;
/// println!("{} ({} bytes, sha256 {})", saved.primary.path.display(), saved.primary.size, saved.primary.sha256);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct CompletedGeneration {
    client: Client,
    item: ImaginedItem,
    generation_uuid: String,
}

impl fmt::Debug for CompletedGeneration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompletedGeneration")
            .field("generation_uuid", &self.generation_uuid)
            .field("item", &self.item)
            .finish_non_exhaustive()
    }
}

impl CompletedGeneration {
    /// The generation's uuid.
    pub fn generation_uuid(&self) -> &str {
        &self.generation_uuid
    }

    /// The finished item.
    pub fn item(&self) -> &ImaginedItem {
        &self.item
    }

    /// The finished item, by value.
    pub fn into_item(self) -> ImaginedItem {
        self.item
    }

    /// URL of the primary media.
    pub fn primary_url(&self) -> Option<&str> {
        self.item.primary_media_url.as_deref()
    }

    /// Every media URL with its label: `("primary", url)` first, then the secondary media
    /// (`texture`, ...) in name order.
    pub fn media_urls(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(url) = self.primary_url() {
            out.push(("primary".to_owned(), url.to_owned()));
        }
        if let Some(secondary) = &self.item.secondary_media_urls {
            out.extend(
                secondary
                    .iter()
                    .filter(|(_, url)| !url.is_empty())
                    .map(|(label, url)| (label.clone(), url.clone())),
            );
        }
        out
    }

    /// Downloads the primary and secondary media into a directory (an existing one, or a path
    /// ending with `/`), or the primary media to a file path with the secondary media beside
    /// it. Files are streamed to a temporary file in the target directory and renamed when
    /// complete; each comes back with its size and SHA-256.
    pub fn download(&self, target: impl Into<PathBuf>) -> Download {
        Download::new(
            &self.client,
            self.generation_uuid.clone(),
            self.media_urls(),
            target.into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aspect_ratios_accept_the_usual_spellings() {
        assert_eq!(normalize_aspect_ratio("16:9".into()), AspectRatio::W16h9);
        assert_eq!(normalize_aspect_ratio("1x1".into()), AspectRatio::W1h1);
        assert_eq!(normalize_aspect_ratio("w2h3".into()), AspectRatio::W2h3);
        assert!(matches!(
            normalize_aspect_ratio("7:5".into()),
            AspectRatio::Unknown(_)
        ));
        let err = GenerationSpec::text_to_image("x")
            .aspect_ratio("7:5")
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("aspect_ratio"), "{err}");
    }

    #[test]
    fn each_type_checks_what_it_needs() {
        let msg = |s: GenerationSpec| s.validate().unwrap_err().to_string();
        assert!(msg(GenerationSpec::text_to_image("  ")).contains("`prompt`"));
        assert!(msg(GenerationSpec::text_to_speech("")).contains("`transcript`"));
        assert!(msg(GenerationSpec::text_to_music("shanty")).contains("`lyrics`"));
        assert!(
            msg(GenerationSpec::text_to_music("shanty").music_type(MusicGenType::Vocals))
                .contains("`lyrics`")
        );
        GenerationSpec::text_to_music("shanty")
            .music_type(MusicGenType::Instrumental)
            .validate()
            .unwrap();
        GenerationSpec::text_to_music("shanty")
            .lyrics("[verse]\nyo ho\n\n")
            .validate()
            .unwrap();
        assert!(msg(GenerationSpec::image_to_video()).contains("`init_image`"));
        assert!(msg(GenerationSpec::image_to_3d()).contains("`init_image`"));
        assert!(msg(GenerationSpec::image_to_image("x")).contains("`init_image`"));
        GenerationSpec::image_to_3d()
            .add_init_image("https://x/a.png")
            .validate()
            .unwrap();
        assert!(msg(GenerationSpec::new("text_to_smell")).contains("`generation_type`"));
        assert!(msg(GenerationSpec::text_to_video("x").duration(0)).contains("`duration`"));
        assert!(
            msg(GenerationSpec::image_to_image("x")
                .init_image("u")
                .strength(1.5))
            .contains("`strength`")
        );
        assert!(msg(GenerationSpec::image_to_video().init_image("")).contains("`init_image`"));
    }

    #[test]
    fn files_are_spliced_as_data_urls() {
        let files = vec![("ph0".to_owned(), Upload::bytes("a.png", &b"abc"[..]))];
        let segments = splice_files(br#"{"a":1,"init_image":"ph0","z":2}"#, &files).unwrap();
        let Segment::Literal(head) = &segments[0] else {
            panic!()
        };
        assert_eq!(&head[..], br#"{"a":1,"init_image":"data:image/png;base64,"#);
        let Segment::Literal(tail) = &segments[3] else {
            panic!()
        };
        assert_eq!(&tail[..], br#","z":2}"#);
    }
}
