//! The `POST /imagine` request: image inputs and the checked [`GenerationSpec`].

use std::fmt;

use super::input::{ImageInput, ImageKind};
use crate::generated::imagine::{IMAGINE_CREATE, ImagineApi};
use crate::media::body::{self, Encoding, Segment};
use crate::request::FilePart;
use crate::request::{Body, CallOptions, Request, RequestOptions};
use crate::types::{
    AspectRatio, GenerationRequest, GenerationType, I2IType, MusicGenType, MusicGenre,
    Output3DType, RigType, Speed,
};
use crate::{Error, Result};

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

    // Every other field of the body: setters generated from the `GenerationRequest` schema
    // (`[setters]` in openapi/tuning.toml), with the spec's descriptions as docs.
    crate::generated::setters::generation_request_setters!(request);

    /// The aspect ratio: an [`AspectRatio`], its wire name (`"w16h9"`) or `"16:9"` /
    /// `"16x9"`. A value outside the enum fails [`validate`](Self::validate).
    pub fn aspect_ratio(mut self, v: impl Into<AspectRatio>) -> Self {
        self.request.aspect_ratio = Some(normalize_aspect_ratio(v.into()));
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
        let kind = self
            .request
            .generation_type
            .as_ref()
            .ok_or_else(|| invalid("`generation_type` is required"))?;
        self.check_enums(kind)?;
        self.check_needs(kind)?;
        self.check_images()?;
        self.check_ranges()
    }

    /// Every enum field holds one of the API's values.
    fn check_enums(&self, kind: &GenerationType) -> Result<()> {
        let r = &self.request;
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
        )
    }

    /// The inputs the generation type cannot do without.
    fn check_needs(&self, kind: &GenerationType) -> Result<()> {
        let r = &self.request;
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
            | GenerationType::TextTo3d => need("prompt", text(&r.prompt)),
            GenerationType::TextToSpeech => need("transcript", text(&r.transcript)),
            GenerationType::TextToMusic => match r.music_type.as_ref() {
                Some(MusicGenType::Instrumental) if !text(&r.prompt) && r.genre.is_none() => Err(
                    invalid("`prompt` (or `genre`) is required for instrumental text_to_music"),
                ),
                Some(MusicGenType::Instrumental) => Ok(()),
                sung if !text(&r.lyrics) => {
                    let music_type = sung.map_or("mixed (the server default)", |m| m.as_str());
                    Err(invalid(format!(
                        "`lyrics` is required when `music_type` is {music_type}; use `instrumental` for music without lyrics"
                    )))
                }
                _ => Ok(()),
            },
            GenerationType::ImageToImage => {
                need("init_image", has_image)?;
                need("prompt", text(&r.prompt))
            }
            GenerationType::ImageToVideo | GenerationType::ImageTo3d => {
                need("init_image", has_image)
            }
            GenerationType::Unknown(_) => Ok(()),
        }
    }

    /// No image input is an empty string.
    fn check_images(&self) -> Result<()> {
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
        Ok(())
    }

    /// Numbers within what the API accepts.
    fn check_ranges(&self) -> Result<()> {
        let r = &self.request;
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
        let mut files: Vec<(String, FilePart)> = Vec::new();
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
fn splice_files(json: &[u8], files: &[(String, FilePart)]) -> Result<Vec<Segment>> {
    let mut found: Vec<(usize, usize, &FilePart)> = Vec::with_capacity(files.len());
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
            source: upload.source().clone(),
            encoding: Encoding::Base64,
            label: upload.label(),
        });
        segments.push(Segment::literal(&b"\""[..]));
        pos = end;
    }
    segments.push(Segment::literal(json[pos..].to_vec()));
    Ok(segments)
}

#[cfg(test)]
mod tests;
