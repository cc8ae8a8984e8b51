//! `rostro imagine ...`: media generation. Starts a generation, waits for it with a spinner
//! (status and elapsed time on stderr), and downloads the results with `--out`.
//! Ctrl-C while waiting leaves the generation running and prints how to resume.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use futures::TryStreamExt;
use indicatif::ProgressBar;
use rostro_sdk::media::{
    CompletedGeneration, Generation, GenerationSpec, GenerationState, ImageInput, MediaError,
    PollEndpoint, WaitProgress,
};
use rostro_sdk::types;
use serde_json::{Value, json};

use crate::ctx::{Ctx, Session, ctrl_c};
use crate::exit::{CliError, CliResult};
use crate::output::style;
use crate::util::{self, first_of};

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

/// `imagine speech`
#[derive(Debug, Args)]
pub struct SpeechArgs {
    /// The text to read out (`-` reads stdin)
    pub text: String,
    /// Voice: a built-in voice (e.g. calm_female_20s, resonant_male_40s) or a cloned voice id
    #[arg(long)]
    pub voice: Option<String>,
    #[arg(long)]
    /// Seed
    pub seed: Option<i64>,
    #[command(flatten)]
    pub wait: StartOpts,
}

/// `imagine music`
#[derive(Debug, Args)]
pub struct MusicArgs {
    /// Style description
    pub prompt: Option<String>,
    /// Lyrics file (`-` for stdin); sections start with tags such as `[verse]` or `[chorus]`
    #[arg(long, value_name = "FILE")]
    pub lyrics: Option<String>,
    /// Genre
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(types::MusicGenre::KNOWN))]
    pub genre: Option<String>,
    /// instrumental, vocals or mixed (vocals and mixed need --lyrics)
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(types::MusicGenType::KNOWN))]
    pub music_type: Option<String>,
    /// Seed
    #[arg(long)]
    pub seed: Option<i64>,
    #[command(flatten)]
    pub wait: StartOpts,
}

/// `imagine sfx`
#[derive(Debug, Args)]
pub struct SfxArgs {
    /// The sound
    pub prompt: String,
    /// Duration in seconds
    #[arg(long)]
    pub duration: Option<i64>,
    /// Seed
    #[arg(long)]
    pub seed: Option<i64>,
    #[command(flatten)]
    pub wait: StartOpts,
}

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

/// `imagine wait`
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// The generation uuid
    pub uuid: String,
    /// Poll `POST /check` (generations started by per-type endpoints such as upscale)
    #[arg(long)]
    pub timed: bool,
    #[command(flatten)]
    pub wait: WaitOpts,
}

/// `imagine history`
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// At most this many items
    #[arg(long, short = 'L', default_value_t = 20, allow_negative_numbers = true, value_parser = crate::util::positive::<usize>)]
    pub limit: usize,
    /// Only this type (repeatable): text_to_image, text_to_video, text_to_speech, ...
    #[arg(long = "type", value_parser = clap::builder::PossibleValuesParser::new(types::GenerationType::KNOWN))]
    pub types: Vec<String>,
    /// Oldest first
    #[arg(long)]
    pub asc: bool,
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

/// Runs `rostro imagine`.
pub fn run(ctx: &Ctx, cmd: ImagineCmd) -> CliResult {
    let (label, start, wait) = match cmd {
        ImagineCmd::Wait(a) => return resume(ctx, a),
        ImagineCmd::History(a) => return history(ctx, a),
        ImagineCmd::Image(a) => {
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
            ("image", Start::Imagine(Box::new(spec)), a.wait)
        }
        ImagineCmd::Video(a) => {
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
            ("video", Start::Imagine(Box::new(spec)), a.wait)
        }
        ImagineCmd::Speech(a) => {
            let text = if a.text == "-" {
                util::read_text("-")?
            } else {
                a.text
            };
            let r = types::GenerationRequest {
                transcript: Some(text),
                voice: a.voice.map(types::Voice::from),
                seed: a.seed,
                generation_type: Some(types::GenerationType::TextToSpeech),
                ..Default::default()
            };
            ("speech", Start::Imagine(Box::new(spec_from(r))), a.wait)
        }
        ImagineCmd::Music(a) => {
            let lyrics = a.lyrics.as_deref().map(util::read_text).transpose()?;
            if a.prompt.is_none() && lyrics.is_none() {
                return Err(CliError::usage("give a PROMPT, --lyrics, or both"));
            }
            let r = types::GenerationRequest {
                prompt: a.prompt,
                lyrics,
                genre: a.genre.map(types::MusicGenre::from),
                music_type: a.music_type.map(types::MusicGenType::from),
                seed: a.seed,
                generation_type: Some(types::GenerationType::TextToMusic),
                ..Default::default()
            };
            ("music", Start::Imagine(Box::new(spec_from(r))), a.wait)
        }
        ImagineCmd::Sfx(a) => {
            let r = types::GenerationRequest {
                prompt: Some(a.prompt),
                duration: a.duration,
                seed: a.seed,
                generation_type: Some(types::GenerationType::TextToSfx),
                ..Default::default()
            };
            (
                "sound effect",
                Start::Imagine(Box::new(spec_from(r))),
                a.wait,
            )
        }
        ImagineCmd::Model3d(a) => {
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
            ("3D model", Start::Imagine(Box::new(spec)), a.wait)
        }
        ImagineCmd::Edit(a) => {
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
            ("edit", Start::Imagine(Box::new(spec)), a.wait)
        }
        ImagineCmd::Animate(a) => {
            let mut r = base(&a.common);
            r.prompt = a.prompt;
            r.duration = a.duration;
            r.fps = a.fps;
            r.generation_type = Some(types::GenerationType::ImageToVideo);
            let mut spec = spec_from(r).init_image(image_input(&a.image)?);
            if let Some(i) = &a.end_image {
                spec = spec.end_image(image_input(i)?);
            }
            ("animation", Start::Imagine(Box::new(spec)), a.wait)
        }
        ImagineCmd::Upscale(a) => (
            "upscale",
            Start::Upscale {
                image: image_input(&a.image)?,
                prompt: a.prompt,
                seed: a.seed,
            },
            a.wait,
        ),
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

fn generate(ctx: &Ctx, label: &str, start: Start, opts: StartOpts) -> CliResult {
    let StartOpts { no_wait, wait } = opts;
    check_out(&wait)?;
    ctx.block_on(async {
        let s = ctx.session(true).await?;
        let started = Instant::now();
        let spinner = ctx.out.spinner(format!("starting {label}"));
        let imagine = s.client.imagine();
        let starting = async {
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
        };
        let generation = tokio::select! {
            r = starting => r,
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
        let uuid = generation.generation_uuid().to_owned();
        let timed = generation.endpoint() == PollEndpoint::Check;
        if no_wait {
            spinner.finish_and_clear();
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
            return Ok(());
        }
        let done = wait_for(ctx, generation, &wait, &spinner, label, timed).await;
        spinner.finish_and_clear();
        finish(ctx, &s, done?, &wait, label, started).await
    })
}

fn resume(ctx: &Ctx, a: WaitArgs) -> CliResult {
    check_out(&a.wait)?;
    ctx.block_on(async {
        let s = ctx.session(true).await?;
        let started = Instant::now();
        let spinner = ctx.out.spinner("waiting");
        let generation = if a.timed {
            s.client.imagine().resume_check(&a.uuid)
        } else {
            s.client.imagine().resume(&a.uuid)
        };
        let done = wait_for(ctx, generation, &a.wait, &spinner, "generation", a.timed).await;
        spinner.finish_and_clear();
        finish(ctx, &s, done?, &a.wait, "generation", started).await
    })
}

fn check_out(w: &WaitOpts) -> CliResult {
    if !(w.poll_interval.is_finite() && w.poll_interval > 0.0) {
        return Err(CliError::usage("--poll-interval must be positive"));
    }
    if w.wait_timeout.is_some_and(|t| !(t.is_finite() && t >= 0.0)) {
        return Err(CliError::usage(
            "--wait-timeout must be a number of seconds",
        ));
    }
    Ok(())
}

/// Waits with the SDK's poller (first check after 250 ms, doubling up to `--poll-interval`),
/// showing state and elapsed time on the spinner. Ctrl-C prints how to resume and exits 130;
/// `--wait-timeout` exits 7 with the same hint.
async fn wait_for(
    ctx: &Ctx,
    generation: Generation,
    w: &WaitOpts,
    spinner: &ProgressBar,
    label: &str,
    timed: bool,
) -> CliResult<CompletedGeneration> {
    let uuid = generation.generation_uuid().to_owned();
    let max = crate::cli::capped_secs(w.poll_interval);
    let mut generation = generation.poll_interval(Duration::from_millis(250).min(max), max);
    if let Some(t) = w.wait_timeout {
        generation = generation.timeout(crate::cli::capped_secs(t));
    }
    let pb = spinner.clone();
    let tag = format!("{label} {uuid}");
    pb.set_message(format!("{tag}: queued"));
    let generation = generation.on_progress(move |p: &WaitProgress| {
        let state = match (p.state, p.queue_length) {
            (GenerationState::Pending, Some(q)) if q > 0 => format!("queued (position {q})"),
            (GenerationState::Pending, _) => "generating".to_owned(),
            (GenerationState::Done, _) => "done".to_owned(),
            (GenerationState::Failed, _) => "failed".to_owned(),
            _ => "checking".to_owned(),
        };
        pb.set_message(format!("{tag}: {state} (check {})", p.attempt));
    });
    let mut args = vec!["imagine", "wait", uuid.as_str()];
    if timed {
        args.push("--timed");
    }
    if let Some(o) = &w.out {
        args.extend(["--out", o.as_str()]);
    }
    let hint = crate::rerun::command(&ctx.g, &args);
    let r = tokio::select! {
        r = generation.wait() => r,
        _ = ctrl_c() => {
            spinner.finish_and_clear();
            ctx.out.eprint(&format!(
                "{}interrupted:{} generation {uuid} keeps running on the server.\nResume with: {hint}",
                style::YELLOW,
                style::RESET
            ));
            return Err(CliError::Interrupted);
        }
    };
    r.map_err(|e| {
        spinner.finish_and_clear();
        if let rostro_sdk::Error::Media { source, .. } = &e
            && matches!(**source, MediaError::WaitTimedOut { .. })
        {
            return CliError::Timeout(format!(
                "gave up waiting for generation {uuid} (it keeps running); resume with: {hint}"
            ));
        }
        e.into()
    })
}

async fn finish(
    ctx: &Ctx,
    s: &Session,
    done: CompletedGeneration,
    w: &WaitOpts,
    label: &str,
    started: Instant,
) -> CliResult {
    let uuid = done.generation_uuid().to_owned();
    let urls = done.media_urls();
    let mut files: Vec<Value> = Vec::new();
    if let Some(out) = &w.out {
        if urls.is_empty() {
            return Err(CliError::msg(format!(
                "generation {uuid} finished without a media URL"
            )));
        }
        if out == "-" {
            return download_to_stdout(ctx, s, &urls[0].1).await;
        }
        let multi = ctx.out.multi();
        let bars: Arc<Mutex<HashMap<String, ProgressBar>>> = Arc::default();
        let (m, b) = (multi.clone(), bars.clone());
        let download = done
            .download(PathBuf::from(out))
            .overwrite(w.force)
            .on_progress(move |p| {
                let mut bars = b.lock().unwrap_or_else(|e| e.into_inner());
                let bar = bars.entry(p.label.to_string()).or_insert_with(|| {
                    let bar = m.add(ProgressBar::new(p.total.unwrap_or(0)));
                    bar.set_style(crate::output::bytes_style(p.total.is_some()));
                    bar.set_message(p.label.to_string());
                    bar
                });
                if let Some(t) = p.total {
                    bar.set_length(t);
                }
                bar.set_position(p.bytes);
            });
        let media = tokio::select! {
            r = download.send() => r,
            _ = ctrl_c() => return Err(CliError::Interrupted),
        };
        for bar in bars.lock().unwrap_or_else(|e| e.into_inner()).values() {
            bar.finish_and_clear();
        }
        let media = media?;
        for f in std::iter::once(&media.primary).chain(&media.secondary) {
            if let Some(warning) = format_mismatch(&f.path, f.content_type.as_deref()) {
                ctx.out.warn(&warning);
            }
            files.push(json!({
                "name": f.label,
                "url": f.url,
                "path": f.path.display().to_string(),
                "size": f.size,
                "sha256": f.sha256,
            }));
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    if ctx.out.json {
        let mut v = serde_json::to_value(done.item())?;
        if let Value::Object(m) = &mut v
            && !files.is_empty()
        {
            m.insert("files".into(), Value::Array(files));
        }
        return ctx.out.json_value(&v);
    }
    ctx.out
        .success(&format!("{label} {uuid} done in {elapsed:.1}s"));
    if files.is_empty() {
        for (name, url) in &urls {
            if urls.len() > 1 {
                ctx.out.line(&format!("{name}: {url}"))?;
            } else {
                ctx.out.line(url)?;
            }
        }
    } else {
        for f in &files {
            ctx.out.line(&util::s(f, "path"))?;
        }
    }
    Ok(())
}

/// `--out -`: the primary media to stdout.
async fn download_to_stdout(ctx: &Ctx, s: &Session, url: &str) -> CliResult {
    // The SDK's media send path: retries, Retry-After, connect/headers timeout, and no API
    // key for a CDN. Each body read is bounded by the same timeout, so a stall is exit 7.
    let mut resp = s.client.open_media(url).await?;
    let limit = s.client.timeout();
    loop {
        let chunk = match tokio::time::timeout(limit, resp.chunk()).await {
            Err(_) => {
                return Err(CliError::Timeout(format!(
                    "download {url}: no data for {}s",
                    limit.as_secs_f64()
                )));
            }
            Ok(Err(e)) => return Err(CliError::msg(format!("download {url}: {e}"))),
            Ok(Ok(None)) => return Ok(()),
            Ok(Ok(Some(chunk))) => chunk,
        };
        ctx.out.bytes(&chunk)?;
    }
}

fn history(ctx: &Ctx, a: HistoryArgs) -> CliResult {
    let items = ctx.block_on(async {
        let s = ctx.session(true).await?;
        let mut b = s
            .client
            .imagine()
            .history()
            .first(a.limit.clamp(1, 100) as i64);
        if !a.types.is_empty() {
            b = b.media_types(
                a.types
                    .iter()
                    .map(|t| types::GenerationType::from(t.as_str()))
                    .collect(),
            );
        }
        if a.asc {
            b = b.asc(true);
        }
        let items: Vec<types::ImaginedItem> = b.stream_limit(a.limit).try_collect().await?;
        items
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(CliError::from)
    })?;
    let done = |v: &Value| v.get("is_done").and_then(Value::as_bool) == Some(true);
    let failed = |v: &Value| v.get("is_failed").and_then(Value::as_bool) == Some(true);
    super::print_list(
        ctx,
        &items,
        &[
            ("UUID", &|v| first_of(v, &["uuid", "generation_uuid"])),
            ("TYPE", &|v| {
                v.get("prompt")
                    .and_then(|p| p.get("generation_type"))
                    .and_then(Value::as_str)
                    .unwrap_or("upload")
                    .to_owned()
            }),
            ("STATUS", &|v| {
                if failed(v) {
                    "failed".into()
                } else if done(v) {
                    "done".into()
                } else {
                    "running".into()
                }
            }),
            ("PROMPT", &|v| {
                v.get("prompt")
                    .and_then(|p| p.get("prompt"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            }),
            ("URL", &|v| util::s(v, "primary_media_url")),
        ],
    )
}

/// File extensions for the media types the service sends.
const EXTENSIONS: &[(&str, &[&str])] = &[
    ("image/png", &["png"]),
    ("image/jpeg", &["jpg", "jpeg"]),
    ("image/webp", &["webp"]),
    ("image/gif", &["gif"]),
    ("audio/wav", &["wav"]),
    ("audio/x-wav", &["wav"]),
    ("audio/wave", &["wav"]),
    ("audio/mpeg", &["mp3"]),
    ("audio/ogg", &["ogg", "oga"]),
    ("audio/flac", &["flac"]),
    ("video/mp4", &["mp4", "m4v"]),
    ("video/webm", &["webm"]),
    ("model/gltf-binary", &["glb"]),
];

/// A warning when a file's name says one format and its content type another (the service
/// picks the format; a `.mp3` name does not make WAV data MP3).
fn format_mismatch(path: &std::path::Path, content_type: Option<&str>) -> Option<String> {
    let ct = content_type?.split(';').next()?.trim().to_ascii_lowercase();
    let (_, exts) = EXTENSIONS.iter().find(|(t, _)| *t == ct)?;
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    let known = EXTENSIONS.iter().any(|(_, e)| e.contains(&ext.as_str()));
    if !known || exts.contains(&ext.as_str()) {
        return None;
    }
    Some(format!(
        "{} holds {ct} data, not .{ext}: the service chose the format; rename it to .{} (or convert it)",
        path.display(),
        exts[0]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn aspect_ratios() {
        assert_eq!(parse_aspect("16:9").unwrap(), "w16h9");
        assert_eq!(parse_aspect("1x1").unwrap(), "w1h1");
        assert_eq!(parse_aspect("w9h16").unwrap(), "w9h16");
        assert!(parse_aspect("7:5").is_err());
    }

    #[test]
    fn extension_and_content_type_must_agree() {
        let w = format_mismatch(Path::new("hello.mp3"), Some("audio/wav")).unwrap();
        assert!(w.contains("audio/wav") && w.contains(".wav"), "{w}");
        assert_eq!(
            format_mismatch(Path::new("hello.wav"), Some("audio/x-wav")),
            None
        );
        assert_eq!(
            format_mismatch(Path::new("a.JPG"), Some("image/jpeg; q=1")),
            None
        );
        // Unknown on either side: nothing to say.
        assert_eq!(format_mismatch(Path::new("a.dat"), Some("audio/wav")), None);
        assert_eq!(
            format_mismatch(Path::new("a.png"), Some("application/x-foo")),
            None
        );
        assert_eq!(format_mismatch(Path::new("a.png"), None), None);
    }
}
