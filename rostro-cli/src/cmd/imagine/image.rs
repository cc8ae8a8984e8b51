//! `imagine image`, `imagine edit`, `imagine upscale`: generations that make an image.

use clap::Args;
use rostro_sdk::types;

use super::{Common, Start, StartOpts, Started, base, image_input, spec_from};
use crate::exit::CliResult;

/// `imagine image`
#[derive(Debug, Args)]
pub struct ImageArgs {
    /// What to generate
    pub prompt: String,
    #[command(flatten)]
    pub common: Common,
    /// Reference image (file or URL): image-to-image
    #[arg(long, value_name = "FILE|URL")]
    pub init_image: Option<String>,
    /// Inference steps (more: slower, sometimes better)
    #[arg(long)]
    pub steps: Option<i64>,
    /// How strongly the prompt steers the result
    #[arg(long)]
    pub guidance: Option<f64>,
    /// Strength of the image-to-image transformation (0-1)
    #[arg(long)]
    pub strength: Option<f64>,
    /// Remove the background
    #[arg(long)]
    pub remove_background: bool,
    #[command(flatten)]
    pub wait: StartOpts,
}

/// `imagine edit`
#[derive(Debug, Args)]
pub struct EditArgs {
    /// The image to edit (file or URL)
    pub image: String,
    /// What to change
    pub prompt: String,
    #[command(flatten)]
    pub common: Common,
    /// Mask image (file or URL): only the masked area changes
    #[arg(long, value_name = "FILE|URL")]
    pub mask: Option<String>,
    /// edit (keeps most), canny (keeps structure) or face (keeps identity)
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(types::I2IType::KNOWN))]
    pub i2i_type: Option<String>,
    /// Strength (0-1)
    #[arg(long)]
    pub strength: Option<f64>,
    /// Keep the transparency of the input
    #[arg(long)]
    pub preserve_transparency: bool,
    #[command(flatten)]
    pub wait: StartOpts,
}

/// `imagine upscale`
#[derive(Debug, Args)]
pub struct UpscaleArgs {
    /// The image (file or URL)
    pub image: String,
    /// Optional guidance prompt
    #[arg(long)]
    pub prompt: Option<String>,
    /// Seed
    #[arg(long)]
    pub seed: Option<i64>,
    #[command(flatten)]
    pub wait: StartOpts,
}

/// The generation `imagine image` starts.
pub(super) fn image(a: ImageArgs) -> CliResult<Started> {
    let mut r = base(&a.common);
    r.prompt = Some(a.prompt);
    r.num_inference_steps = a.steps;
    r.guidance_scale = a.guidance;
    r.strength = a.strength;
    r.remove_background = a.remove_background.then_some(true);
    r.generation_type = Some(if a.init_image.is_some() {
        types::GenerationType::ImageToImage
    } else {
        types::GenerationType::TextToImage
    });
    let mut spec = spec_from(r);
    if let Some(i) = &a.init_image {
        spec = spec.init_image(image_input(i)?);
    }
    Ok(("image", Start::Imagine(Box::new(spec)), a.wait))
}

/// The generation `imagine edit` starts.
pub(super) fn edit(a: EditArgs) -> CliResult<Started> {
    let mut r = base(&a.common);
    r.prompt = Some(a.prompt);
    r.i2i_type = a.i2i_type.map(types::I2IType::from);
    r.strength = a.strength;
    r.preserve_transparency = a.preserve_transparency.then_some(true);
    r.generation_type = Some(types::GenerationType::ImageToImage);
    let mut spec = spec_from(r).init_image(image_input(&a.image)?);
    if let Some(m) = &a.mask {
        spec = spec.mask_image(image_input(m)?);
    }
    Ok(("edit", Start::Imagine(Box::new(spec)), a.wait))
}

/// The generation `imagine upscale` starts (`POST /images/upscale`, polled with `/check`).
pub(super) fn upscale(a: UpscaleArgs) -> CliResult<Started> {
    Ok((
        "upscale",
        Start::Upscale {
            image: image_input(&a.image)?,
            prompt: a.prompt,
            seed: a.seed,
        },
        a.wait,
    ))
}
