//! `imagine model3d`: text or images to a 3D model.

use clap::Args;
use rostro_sdk::types;

use super::{Start, StartOpts, Started, image_input, spec_from};
use crate::exit::{CliError, CliResult};

/// `imagine model3d`
#[derive(Debug, Args)]
pub struct Model3dArgs {
    /// What to model (optional with --init-image)
    pub prompt: Option<String>,
    /// Reference image(s) (file or URL; repeatable): image-to-3D
    #[arg(long = "init-image", value_name = "FILE|URL")]
    pub init_images: Vec<String>,
    /// Output file type
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(types::Output3DType::KNOWN))]
    pub output_type: Option<String>,
    /// Generate a texture too
    #[arg(long)]
    pub texture: bool,
    /// Generate a rig too
    #[arg(long)]
    pub autorig: bool,
    /// Rig type
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(types::RigType::KNOWN))]
    pub rig_type: Option<String>,
    /// Octree resolution (lower is faster)
    #[arg(long)]
    pub octree_resolution: Option<i64>,
    /// Texture size in pixels
    #[arg(long)]
    pub texture_size: Option<i64>,
    /// turbo or normal
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(types::Speed::KNOWN))]
    pub speed: Option<String>,
    /// Seed
    #[arg(long)]
    pub seed: Option<i64>,
    #[command(flatten)]
    pub wait: StartOpts,
}

/// The generation `imagine model3d` starts.
pub(super) fn model3d(a: Model3dArgs) -> CliResult<Started> {
    if a.prompt.is_none() && a.init_images.is_empty() {
        return Err(CliError::usage("give a PROMPT or --init-image"));
    }
    let r = types::GenerationRequest {
        generation_type: Some(if a.init_images.is_empty() {
            types::GenerationType::TextTo3d
        } else {
            types::GenerationType::ImageTo3d
        }),
        prompt: a.prompt,
        output_type: a.output_type.map(types::Output3DType::from),
        do_texture: a.texture.then_some(true),
        do_autorig: a.autorig.then_some(true),
        autorig_type: a.rig_type.map(types::RigType::from),
        octree_resolution: a.octree_resolution,
        texture_size: a.texture_size,
        speed: a.speed.map(types::Speed::from),
        seed: a.seed,
        ..Default::default()
    };
    let mut spec = spec_from(r);
    for i in &a.init_images {
        spec = spec.add_init_image(image_input(i)?);
    }
    Ok(("3D model", Start::Imagine(Box::new(spec)), a.wait))
}
