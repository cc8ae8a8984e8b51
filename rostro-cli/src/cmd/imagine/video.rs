//! `imagine video`, `imagine animate`: generations that make a video.

use clap::Args;
use rostro_sdk::types;

use super::{Common, Start, StartOpts, Started, base, image_input, spec_from};
use crate::exit::CliResult;

/// `imagine video`
#[derive(Debug, Args)]
pub struct VideoArgs {
    /// What to generate
    pub prompt: String,
    #[command(flatten)]
    pub common: Common,
    /// First frame (file or URL): image-to-video
    #[arg(long, value_name = "FILE|URL")]
    pub init_image: Option<String>,
    /// Last frame (file or URL); the same as --init-image loops
    #[arg(long, value_name = "FILE|URL")]
    pub end_image: Option<String>,
    /// Duration in seconds
    #[arg(long)]
    pub duration: Option<i64>,
    /// Frames per second
    #[arg(long)]
    pub fps: Option<i64>,
    #[command(flatten)]
    pub wait: StartOpts,
}

/// `imagine animate`
#[derive(Debug, Args)]
pub struct AnimateArgs {
    /// The first frame (file or URL)
    pub image: String,
    /// How it moves
    pub prompt: Option<String>,
    #[command(flatten)]
    pub common: Common,
    /// Last frame (file or URL)
    #[arg(long, value_name = "FILE|URL")]
    pub end_image: Option<String>,
    /// Duration in seconds
    #[arg(long)]
    pub duration: Option<i64>,
    /// Frames per second
    #[arg(long)]
    pub fps: Option<i64>,
    #[command(flatten)]
    pub wait: StartOpts,
}

/// The generation `imagine video` starts.
pub(super) fn video(a: VideoArgs) -> CliResult<Started> {
    let mut r = base(&a.common);
    r.prompt = Some(a.prompt);
    r.duration = a.duration;
    r.fps = a.fps;
    r.generation_type = Some(if a.init_image.is_some() {
        types::GenerationType::ImageToVideo
    } else {
        types::GenerationType::TextToVideo
    });
    let mut spec = spec_from(r);
    if let Some(i) = &a.init_image {
        spec = spec.init_image(image_input(i)?);
    }
    if let Some(i) = &a.end_image {
        spec = spec.end_image(image_input(i)?);
    }
    Ok(("video", Start::Imagine(Box::new(spec)), a.wait))
}

/// The generation `imagine animate` starts.
pub(super) fn animate(a: AnimateArgs) -> CliResult<Started> {
    let mut r = base(&a.common);
    r.prompt = a.prompt;
    r.duration = a.duration;
    r.fps = a.fps;
    r.generation_type = Some(types::GenerationType::ImageToVideo);
    let mut spec = spec_from(r).init_image(image_input(&a.image)?);
    if let Some(i) = &a.end_image {
        spec = spec.end_image(image_input(i)?);
    }
    Ok(("animation", Start::Imagine(Box::new(spec)), a.wait))
}
