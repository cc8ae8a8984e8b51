//! `rostro imagine ...`: media generation. Starts a generation, waits for it with a spinner
//! (status and elapsed time on stderr), and downloads the results with `--out`.
//! Ctrl-C while waiting leaves the generation running and prints how to resume.

mod audio;
mod history;
mod image;
mod model3d;
mod video;
mod wait;

use std::path::Path;
use std::time::Instant;

use clap::{Args, Subcommand};
use rostro_sdk::media::{Generation, GenerationSpec, ImageInput, PollEndpoint};
use rostro_sdk::types;
use serde_json::json;

pub use audio::{MusicArgs, SfxArgs, SpeechArgs};
pub use history::HistoryArgs;
pub use image::{EditArgs, ImageArgs, UpscaleArgs};
pub use model3d::Model3dArgs;
pub use video::{AnimateArgs, VideoArgs};
pub use wait::WaitArgs;

use crate::ctx::{Ctx, Session, ctrl_c};
use crate::exit::{CliError, CliResult};
use wait::{check_out, finish, wait_for};

/// `rostro imagine ...`
#[derive(Debug, Subcommand)]
#[command(after_help = "Examples:
  rostro imagine image \"a lighthouse at dusk\" --aspect-ratio 16:9 --out lighthouse.png
  rostro imagine speech \"Hello there\" --voice calm_female_20s --out hello.wav
  rostro imagine music --lyrics song.txt --genre folk --out ./songs/
  rostro imagine edit photo.png \"make it winter\" --out winter.png
  rostro imagine image \"a fox\" --no-wait     # prints the generation uuid
  rostro imagine wait 3f2a... --out fox.png")]
pub enum ImagineCmd {
    /// Text to image (image to image with --init-image)
    Image(ImageArgs),
    /// Text to video (image to video with --init-image)
    Video(VideoArgs),
    /// Text to speech
    Speech(SpeechArgs),
    /// Text (and lyrics) to music
    Music(MusicArgs),
    /// Text to sound effect
    Sfx(SfxArgs),
    /// Text or images to a 3D model
    Model3d(Model3dArgs),
    /// Edit an image with a prompt (image to image)
    Edit(EditArgs),
    /// Animate an image (image to video)
    Animate(AnimateArgs),
    /// Upscale an image
    Upscale(UpscaleArgs),
    /// Wait for a generation started earlier (e.g. with --no-wait) and download it
    Wait(WaitArgs),
    /// List your past generations
    History(HistoryArgs),
}

/// Starting a generation: wait for it and download it (the default), or only start it.
#[derive(Debug, Args, Clone, Default)]
pub struct StartOpts {
    /// Start the generation and print its uuid without waiting
    #[arg(long, conflicts_with_all = ["out", "wait_timeout"])]
    pub no_wait: bool,
    #[command(flatten)]
    pub wait: WaitOpts,
}

/// Waiting and downloading, shared by every generation command and `imagine wait`.
#[derive(Debug, Args, Clone, Default)]
pub struct WaitOpts {
    /// Download the results: a file path (its directory must exist), a directory (existing, or
    /// ending in `/`: created), or `-` for stdout. Existing files are kept unless --force
    #[arg(long, short = 'o', value_name = "PATH|DIR")]
    pub out: Option<String>,
    /// Replace files that already exist at --out
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Give up waiting after this many seconds (exit 7; the generation keeps running)
    #[arg(long, value_name = "SECS")]
    pub wait_timeout: Option<f64>,
    /// Longest pause between status checks, in seconds
    #[arg(long, value_name = "SECS", default_value_t = 3.0)]
    pub poll_interval: f64,
}

/// Fields most generations take.
#[derive(Debug, Args, Clone, Default)]
pub struct Common {
    /// What to avoid
    #[arg(long, value_name = "TEXT")]
    pub negative: Option<String>,
    /// Seed for reproducible results
    #[arg(long)]
    pub seed: Option<i64>,
    /// Aspect ratio: 1:1, 16:9, 9:16, 4:3, 3:4, 3:2, 2:3, 21:9, 9:21, 5:4, 4:5, 2:1, 1:2
    #[arg(long, value_parser = parse_aspect)]
    pub aspect_ratio: Option<String>,
}

/// Accepts `16:9`, `16x9` or the API's `w16h9`.
fn parse_aspect(v: &str) -> Result<String, String> {
    let api = if v.starts_with('w') {
        v.to_owned()
    } else {
        match v.split_once([':', 'x', '/']) {
            Some((w, h)) => format!("w{}h{}", w.trim(), h.trim()),
            None => v.to_owned(),
        }
    };
    if types::AspectRatio::KNOWN.contains(&api.as_str()) {
        Ok(api)
    } else {
        Err(format!(
            "unknown aspect ratio `{v}`; one of {}",
            types::AspectRatio::KNOWN
                .iter()
                .map(|a| a.trim_start_matches('w').replace('h', ":"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

/// What to start.
enum Start {
    /// `POST /imagine` (polled with `/imagine/check`).
    Imagine(Box<GenerationSpec>),
    /// `POST /images/upscale` (polled with `/check`).
    Upscale {
        image: ImageInput,
        prompt: Option<String>,
        seed: Option<i64>,
    },
}

/// A file path or a URL (`http(s)://`, `data:`) given as an image.
fn image_input(arg: &str) -> CliResult<ImageInput> {
    if arg.starts_with("http://") || arg.starts_with("https://") || arg.starts_with("data:") {
        return Ok(ImageInput::url(arg));
    }
    let p = Path::new(arg);
    if !p.is_file() {
        return Err(CliError::usage(format!(
            "{arg}: no such file (give a file or an http(s) URL)"
        )));
    }
    Ok(ImageInput::path(p))
}

fn spec_from(r: types::GenerationRequest) -> GenerationSpec {
    let t = r
        .generation_type
        .clone()
        .unwrap_or(types::GenerationType::TextToImage);
    let mut spec = GenerationSpec::new(t);
    *spec.request_mut() = r;
    spec
}

/// What a generation command starts: its label, the request, and how to wait.
type Started = (&'static str, Start, StartOpts);

/// Runs `rostro imagine`: one function per verb builds the request; starting, waiting and
/// downloading are shared.
pub fn run(ctx: &Ctx, cmd: ImagineCmd) -> CliResult {
    let (label, start, wait) = match cmd {
        ImagineCmd::Wait(a) => return wait::resume(ctx, a),
        ImagineCmd::History(a) => return history::history(ctx, a),
        ImagineCmd::Image(a) => image::image(a)?,
        ImagineCmd::Video(a) => video::video(a)?,
        ImagineCmd::Speech(a) => audio::speech(a)?,
        ImagineCmd::Music(a) => audio::music(a)?,
        ImagineCmd::Sfx(a) => audio::sfx(a)?,
        ImagineCmd::Model3d(a) => model3d::model3d(a)?,
        ImagineCmd::Edit(a) => image::edit(a)?,
        ImagineCmd::Animate(a) => video::animate(a)?,
        ImagineCmd::Upscale(a) => image::upscale(a)?,
    };
    if let Start::Imagine(spec) = &start {
        // Checked locally: nothing is sent when the spec is incomplete.
        spec.validate()
            .map_err(|e| CliError::usage(e.to_string()))?;
    }
    generate(ctx, label, start, wait)
}

fn base(c: &Common) -> types::GenerationRequest {
    types::GenerationRequest {
        negative_prompt: c.negative.clone(),
        seed: c.seed,
        aspect_ratio: c.aspect_ratio.clone().map(types::AspectRatio::from),
        ..Default::default()
    }
}

/// Starts the generation, then waits for it and downloads it (or, with `--no-wait`, prints
/// its uuid and how to wait for it).
fn generate(ctx: &Ctx, label: &str, start: Start, opts: StartOpts) -> CliResult {
    let StartOpts { no_wait, wait } = opts;
    check_out(&wait)?;
    ctx.block_on(async {
        let s = ctx.session(true).await?;
        let started = Instant::now();
        let spinner = ctx.out.spinner(format!("starting {label}"));
        let generation = tokio::select! {
            r = send_start(&s, start) => r,
            _ = ctrl_c() => {
                spinner.finish_and_clear();
                ctx.out.eprint("interrupted before the generation started");
                return Err(CliError::Interrupted);
            }
        };
        let generation = match generation {
            Ok(g) => g,
            Err(e) => {
                spinner.finish_and_clear();
                return Err(e.into());
            }
        };
        let timed = generation.endpoint() == PollEndpoint::Check;
        if no_wait {
            spinner.finish_and_clear();
            return print_started(ctx, &generation, timed);
        }
        let done = wait_for(ctx, generation, &wait, &spinner, label, timed).await;
        spinner.finish_and_clear();
        finish(ctx, done?, &wait, label, started).await
    })
}

/// Sends the request that starts a generation.
async fn send_start(s: &Session, start: Start) -> Result<Generation, rostro_sdk::Error> {
    let imagine = s.client.imagine();
    match start {
        Start::Imagine(spec) => imagine.generate(*spec).await,
        Start::Upscale {
            image,
            prompt,
            seed,
        } => {
            let mut b = s
                .client
                .images()
                .upscale()
                .init_image(image.to_request_string().await?);
            if let Some(p) = prompt {
                b = b.prompt(p);
            }
            if let Some(x) = seed {
                b = b.seed(x);
            }
            imagine.generate_with(b).await
        }
    }
}

/// `--no-wait`: the generation's status (`--json`) or its uuid, and how to wait for it.
fn print_started(ctx: &Ctx, generation: &Generation, timed: bool) -> CliResult {
    let uuid = generation.generation_uuid().to_owned();
    if ctx.out.json {
        let item = generation
            .last_status()
            .map(|st| serde_json::to_value(&st.item))
            .transpose()?
            .unwrap_or_else(|| json!({ "generation_uuid": uuid }));
        return ctx.out.json_value(&item);
    }
    ctx.out.line(&uuid)?;
    let mut args = vec!["imagine", "wait", &uuid];
    if timed {
        args.push("--timed");
    }
    ctx.out.note(&format!(
        "wait for it with: {}",
        crate::rerun::command(&ctx.g, &args)
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aspect_ratios() {
        assert_eq!(parse_aspect("16:9").unwrap(), "w16h9");
        assert_eq!(parse_aspect("1x1").unwrap(), "w1h1");
        assert_eq!(parse_aspect("w9h16").unwrap(), "w9h16");
        assert!(parse_aspect("7:5").is_err());
    }
}
