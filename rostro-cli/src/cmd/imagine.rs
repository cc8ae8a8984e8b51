//! `rostro imagine ...`: media generation. Starts a generation, waits for it with a spinner
//! (status and elapsed time on stderr), and downloads the results with `--out`.
//! Ctrl-C while waiting leaves the generation running and prints how to resume.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use futures::StreamExt;
use rostro_sdk::types;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::ctx::{Ctx, Session, ctrl_c};
use crate::exit::{CliError, CliResult};
use crate::output::style;
use crate::util::{self, first_of, items_of, s};

/// `rostro imagine ...`
#[derive(Debug, Subcommand)]
#[command(after_help = "Examples:
  rostro imagine image \"a lighthouse at dusk\" --aspect-ratio 16:9 --out lighthouse.png
  rostro imagine speech \"Hello there\" --voice calm_female_20s --out hello.mp3
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

/// Waiting and downloading, shared by every generation command.
#[derive(Debug, Args, Clone, Default)]
pub struct WaitOpts {
    /// Start the generation and print its uuid without waiting
    #[arg(long)]
    pub no_wait: bool,
    /// Download the results: a file path, a directory (existing, or ending in `/`), or `-` for stdout
    #[arg(long, short = 'o', value_name = "PATH|DIR")]
    pub out: Option<String>,
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
    pub wait: WaitOpts,
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
    pub wait: WaitOpts,
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
    pub wait: WaitOpts,
}

/// `imagine music`
#[derive(Debug, Args)]
pub struct MusicArgs {
    /// Style description
    pub prompt: Option<String>,
    /// Lyrics file (`-` for stdin); sections start with tags like [verse], [chorus]
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
    pub wait: WaitOpts,
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
    pub wait: WaitOpts,
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
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(types::Output3Dtype::KNOWN))]
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
    pub wait: WaitOpts,
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
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(types::I2Itype::KNOWN))]
    pub i2i_type: Option<String>,
    /// Strength (0-1)
    #[arg(long)]
    pub strength: Option<f64>,
    /// Keep the transparency of the input
    #[arg(long)]
    pub preserve_transparency: bool,
    #[command(flatten)]
    pub wait: WaitOpts,
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
    pub wait: WaitOpts,
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
    pub wait: WaitOpts,
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
    #[arg(long, short = 'L', default_value_t = 20)]
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
    /// `POST /imagine` with this body, polled with `/imagine/check`.
    Imagine(types::GenerationRequest),
    /// `POST /images/upscale`, polled with `/check`.
    Upscale {
        image: String,
        prompt: Option<String>,
        seed: Option<i64>,
    },
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
            r.generation_type = Some(types::GenerationType::TextToImage);
            if let Some(i) = &a.init_image {
                r.init_image = Some(util::media_arg(i)?);
                r.generation_type = Some(types::GenerationType::ImageToImage);
            }
            ("image", Start::Imagine(r), a.wait)
        }
        ImagineCmd::Video(a) => {
            let mut r = base(&a.common);
            r.prompt = Some(a.prompt);
            r.duration = a.duration;
            r.fps = a.fps;
            r.generation_type = Some(types::GenerationType::TextToVideo);
            if let Some(i) = &a.init_image {
                r.init_image = Some(util::media_arg(i)?);
                r.generation_type = Some(types::GenerationType::ImageToVideo);
            }
            if let Some(i) = &a.end_image {
                r.end_image = Some(util::media_arg(i)?);
            }
            ("video", Start::Imagine(r), a.wait)
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
            ("speech", Start::Imagine(r), a.wait)
        }
        ImagineCmd::Music(a) => {
            let lyrics = a.lyrics.as_deref().map(util::read_text).transpose()?;
            if a.prompt.is_none() && lyrics.is_none() {
                return Err(CliError::usage("give a PROMPT, --lyrics, or both"));
            }
            if matches!(a.music_type.as_deref(), Some("vocals" | "mixed")) && lyrics.is_none() {
                return Err(CliError::usage("--music-type vocals/mixed needs --lyrics"));
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
            ("music", Start::Imagine(r), a.wait)
        }
        ImagineCmd::Sfx(a) => {
            let r = types::GenerationRequest {
                prompt: Some(a.prompt),
                duration: a.duration,
                seed: a.seed,
                generation_type: Some(types::GenerationType::TextToSfx),
                ..Default::default()
            };
            ("sound effect", Start::Imagine(r), a.wait)
        }
        ImagineCmd::Model3d(a) => {
            if a.prompt.is_none() && a.init_images.is_empty() {
                return Err(CliError::usage("give a PROMPT or --init-image"));
            }
            let images = a
                .init_images
                .iter()
                .map(|i| util::media_arg(i))
                .collect::<CliResult<Vec<_>>>()?;
            let r = types::GenerationRequest {
                generation_type: Some(if images.is_empty() {
                    types::GenerationType::TextTo3d
                } else {
                    types::GenerationType::ImageTo3d
                }),
                prompt: a.prompt,
                init_images: (!images.is_empty()).then_some(images),
                output_type: a.output_type.map(types::Output3Dtype::from),
                do_texture: a.texture.then_some(true),
                do_autorig: a.autorig.then_some(true),
                autorig_type: a.rig_type.map(types::RigType::from),
                octree_resolution: a.octree_resolution,
                texture_size: a.texture_size,
                speed: a.speed.map(types::Speed::from),
                seed: a.seed,
                ..Default::default()
            };
            ("3D model", Start::Imagine(r), a.wait)
        }
        ImagineCmd::Edit(a) => {
            let mut r = base(&a.common);
            r.prompt = Some(a.prompt);
            r.init_image = Some(util::media_arg(&a.image)?);
            r.mask_image = a.mask.as_deref().map(util::media_arg).transpose()?;
            r.i2i_type = a.i2i_type.map(types::I2Itype::from);
            r.strength = a.strength;
            r.preserve_transparency = a.preserve_transparency.then_some(true);
            r.generation_type = Some(types::GenerationType::ImageToImage);
            ("edit", Start::Imagine(r), a.wait)
        }
        ImagineCmd::Animate(a) => {
            let mut r = base(&a.common);
            r.prompt = a.prompt;
            r.init_image = Some(util::media_arg(&a.image)?);
            r.end_image = a.end_image.as_deref().map(util::media_arg).transpose()?;
            r.duration = a.duration;
            r.fps = a.fps;
            r.generation_type = Some(types::GenerationType::ImageToVideo);
            ("animation", Start::Imagine(r), a.wait)
        }
        ImagineCmd::Upscale(a) => (
            "upscale",
            Start::Upscale {
                image: util::media_arg(&a.image)?,
                prompt: a.prompt,
                seed: a.seed,
            },
            a.wait,
        ),
    };
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

fn generate(ctx: &Ctx, label: &str, start: Start, wait: WaitOpts) -> CliResult {
    check_out(&wait)?;
    ctx.block_on(async {
        let s = ctx.session(true).await?;
        let started = Instant::now();
        let spinner = ctx.out.spinner(format!("starting {label}"));
        let timed = matches!(start, Start::Upscale { .. });
        let req = match start {
            Start::Imagine(body) => s
                .client
                .imagine()
                .create()
                .body(body)
                .return_immediate(true)
                .into_request()?,
            Start::Upscale {
                image,
                prompt,
                seed,
            } => {
                let mut b = s.client.images().upscale().init_image(image);
                if let Some(p) = prompt {
                    b = b.prompt(p);
                }
                if let Some(x) = seed {
                    b = b.seed(x);
                }
                b.into_request()?
            }
        };
        let first = tokio::select! {
            r = s.json(req) => r,
            _ = ctrl_c() => {
                spinner.finish_and_clear();
                ctx.out.eprint("interrupted before the generation started");
                return Err(CliError::Interrupted);
            }
        };
        let first = match first {
            Ok(v) => v,
            Err(e) => {
                spinner.finish_and_clear();
                return Err(e);
            }
        };
        let uuid = first_of(&first, &["generation_uuid", "uuid"]);
        if uuid.is_empty() {
            spinner.finish_and_clear();
            return Err(CliError::msg(format!(
                "the API did not return a generation uuid: {first}"
            )));
        }
        if wait.no_wait {
            spinner.finish_and_clear();
            if ctx.out.json {
                return ctx.out.json_value(&first);
            }
            ctx.out.line(&uuid)?;
            let flag = if timed { " --timed" } else { "" };
            ctx.out
                .note(&format!("wait for it with: rostro imagine wait {uuid}{flag}"));
            return Ok(());
        }
        let item = if is_done(&first) || is_failed(&first) {
            check_failed(&first, &uuid)?;
            first
        } else {
            wait_for(ctx, &s, &uuid, timed, &wait, &spinner, label, started).await?
        };
        spinner.finish_and_clear();
        finish(ctx, &s, &uuid, item, &wait, label, started).await
    })
}

fn resume(ctx: &Ctx, a: WaitArgs) -> CliResult {
    check_out(&a.wait)?;
    ctx.block_on(async {
        let s = ctx.session(true).await?;
        let started = Instant::now();
        let spinner = ctx.out.spinner("waiting");
        let item = wait_for(ctx, &s, &a.uuid, a.timed, &a.wait, &spinner, "generation", started).await;
        spinner.finish_and_clear();
        finish(ctx, &s, &a.uuid, item?, &a.wait, "generation", started).await
    })
}

fn check_out(w: &WaitOpts) -> CliResult {
    if w.no_wait && w.out.is_some() {
        return Err(CliError::usage("--out needs waiting; drop --no-wait"));
    }
    if !(w.poll_interval.is_finite() && w.poll_interval > 0.0) {
        return Err(CliError::usage("--poll-interval must be positive"));
    }
    Ok(())
}

fn is_done(v: &Value) -> bool {
    v.get("is_done").and_then(Value::as_bool) == Some(true)
}

fn is_failed(v: &Value) -> bool {
    v.get("is_failed").and_then(Value::as_bool) == Some(true)
}

fn check_failed(v: &Value, uuid: &str) -> CliResult {
    if is_failed(v) {
        let reason = v
            .get("error")
            .and_then(|e| e.get("reason"))
            .and_then(Value::as_str)
            .unwrap_or("unknown reason")
            .to_owned();
        return Err(CliError::GenerationFailed {
            uuid: uuid.to_owned(),
            reason,
        });
    }
    Ok(())
}

/// Polls until the generation is done or failed, with a growing pause (250 ms, x1.5, up to
/// `--poll-interval`). Ctrl-C prints how to resume and exits 130.
#[allow(clippy::too_many_arguments)]
async fn wait_for(
    ctx: &Ctx,
    s: &Session,
    uuid: &str,
    timed: bool,
    w: &WaitOpts,
    spinner: &indicatif::ProgressBar,
    label: &str,
    started: Instant,
) -> CliResult<Value> {
    let max = Duration::from_secs_f64(w.poll_interval);
    let mut pause = Duration::from_millis(250).min(max);
    let deadline = w
        .wait_timeout
        .map(|t| started + Duration::from_secs_f64(t.max(0.0)));
    let flag = if timed { " --timed" } else { "" };
    let out_flag = match &w.out {
        Some(o) => format!(" --out {o}"),
        None => String::new(),
    };
    let resume_hint = format!("rostro imagine wait {uuid}{flag}{out_flag}");
    spinner.set_message(format!("{label} {uuid}: queued"));
    loop {
        let req = if timed {
            s.client
                .tasks()
                .check()
                .generation_uuid(uuid)
                .into_request()?
        } else {
            s.client
                .imagine()
                .check()
                .generation_uuid(uuid)
                .into_request()?
        };
        let interrupted = |spinner: &indicatif::ProgressBar| {
            spinner.finish_and_clear();
            ctx.out.eprint(&format!(
                "{}interrupted:{} generation {uuid} keeps running on the server.\nResume with: {resume_hint}",
                style::YELLOW,
                style::RESET
            ));
            CliError::Interrupted
        };
        let v = tokio::select! {
            r = s.json(req) => r?,
            _ = ctrl_c() => return Err(interrupted(spinner)),
        };
        if is_failed(&v) {
            spinner.finish_and_clear();
            check_failed(&v, uuid)?;
        }
        if is_done(&v) {
            return Ok(v);
        }
        let status = status_text(&v);
        spinner.set_message(format!("{label} {uuid}: {status}"));
        if let Some(d) = deadline {
            if Instant::now() + pause > d {
                spinner.finish_and_clear();
                return Err(CliError::Timeout(format!(
                    "gave up waiting for generation {uuid} after {:.1}s (it keeps running); resume with: {resume_hint}",
                    started.elapsed().as_secs_f64()
                )));
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = ctrl_c() => return Err(interrupted(spinner)),
        }
        pause = (pause.mul_f64(1.5)).min(max);
    }
}

fn status_text(v: &Value) -> String {
    if let Some(q) = v.get("queue_length").and_then(Value::as_i64) {
        if q > 0 {
            return format!("queued (position {q})");
        }
    }
    "generating".to_owned()
}

/// The result URLs of a finished item: `(name, url)`, primary first.
fn result_urls(v: &Value, base: &str) -> Vec<(String, String)> {
    let abs = |u: &str| -> String {
        if u.starts_with("http://") || u.starts_with("https://") || u.starts_with("data:") {
            u.to_owned()
        } else {
            format!("{base}/{}", u.trim_start_matches('/'))
        }
    };
    let mut out = Vec::new();
    let primary = first_of(v, &["primary_media_url", "primary_image_path", "url"]);
    if !primary.is_empty() {
        out.push(("primary".to_owned(), abs(&primary)));
    }
    if let Some(Value::Object(m)) = v.get("secondary_media_urls") {
        for (k, u) in m {
            if let Some(u) = u.as_str().filter(|u| !u.is_empty()) {
                out.push((k.clone(), abs(u)));
            }
        }
    }
    out
}

async fn finish(
    ctx: &Ctx,
    s: &Session,
    uuid: &str,
    item: Value,
    w: &WaitOpts,
    label: &str,
    started: Instant,
) -> CliResult {
    let urls = result_urls(&item, s.client.base_url());
    let mut files: Vec<Value> = Vec::new();
    if let Some(out) = &w.out {
        if urls.is_empty() {
            return Err(CliError::msg(format!(
                "generation {uuid} finished without a media URL"
            )));
        }
        let media_id = first_of(&item, &["uuid", "generation_uuid"]);
        let media_id = if media_id.is_empty() {
            uuid.to_owned()
        } else {
            media_id
        };
        if out == "-" {
            download_to_stdout(ctx, s, &urls[0].1).await?;
            return Ok(());
        }
        let dir_mode = out.ends_with('/') || out.ends_with('\\') || Path::new(out).is_dir();
        for (i, (name, url)) in urls.iter().enumerate() {
            let dest = if dir_mode {
                let stem = if i == 0 {
                    media_id.clone()
                } else {
                    format!("{media_id}-{name}")
                };
                Dest::Dir(PathBuf::from(out), stem)
            } else if i == 0 {
                Dest::File(PathBuf::from(out))
            } else {
                let p = Path::new(out);
                let stem = p
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| media_id.clone());
                let dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
                Dest::Dir(dir, format!("{stem}-{name}"))
            };
            let (path, size) = download(ctx, s, url, dest).await?;
            files.push(json!({"name": name, "url": url, "path": path.display().to_string(), "size": size}));
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    if ctx.out.json {
        let mut v = item;
        if let Value::Object(m) = &mut v {
            if !files.is_empty() {
                m.insert("files".into(), Value::Array(files));
            }
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

enum Dest {
    File(PathBuf),
    /// Directory and file stem; the extension comes from the URL or content type.
    Dir(PathBuf, String),
}

fn url_ext(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let last = path.rsplit('/').next()?;
    let (_, ext) = last.rsplit_once('.')?;
    (!ext.is_empty() && ext.len() <= 5 && ext.chars().all(|c| c.is_ascii_alphanumeric()))
        .then(|| ext.to_ascii_lowercase())
}

async fn fetch(s: &Session, url: &str) -> CliResult<reqwest::Response> {
    // Media URLs may point at a CDN: sent without the API key.
    let resp = s
        .client
        .http_client()
        .get(url)
        .send()
        .await
        .map_err(|e| CliError::msg(format!("download {url}: {e}")))?;
    let status = resp.status();
    if status.as_u16() == 404 {
        return Err(CliError::NotFound(format!("download {url}: 404 not found")));
    }
    if !status.is_success() {
        return Err(CliError::msg(format!("download {url}: HTTP {status}")));
    }
    Ok(resp)
}

async fn download_to_stdout(ctx: &Ctx, s: &Session, url: &str) -> CliResult {
    let resp = fetch(s, url).await?;
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| CliError::msg(format!("download {url}: {e}")))?;
        ctx.out.bytes(&chunk)?;
    }
    Ok(())
}

/// Downloads `url` with a progress bar (to `<file>.part`, renamed when complete).
async fn download(ctx: &Ctx, s: &Session, url: &str, dest: Dest) -> CliResult<(PathBuf, u64)> {
    let resp = fetch(s, url).await?;
    let path = match dest {
        Dest::File(p) => p,
        Dest::Dir(dir, stem) => {
            let ext = url_ext(url)
                .or_else(|| {
                    resp.headers()
                        .get(reqwest::header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .and_then(util::ext_for_mime)
                        .map(str::to_owned)
                })
                .unwrap_or_else(|| "bin".to_owned());
            dir.join(format!("{stem}.{ext}"))
        }
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| CliError::io(parent.display(), e))?;
    }
    let bar = ctx.out.byte_bar(
        resp.content_length(),
        format!(
            "{}",
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ),
    );
    let part = path.with_extension(match path.extension() {
        Some(e) => format!("{}.part", e.to_string_lossy()),
        None => "part".to_owned(),
    });
    let mut file = tokio::fs::File::create(&part)
        .await
        .map_err(|e| CliError::io(part.display(), e))?;
    let mut stream = resp.bytes_stream();
    let mut size = 0u64;
    let result: CliResult = async {
        loop {
            let next = tokio::select! {
                n = stream.next() => n,
                _ = ctrl_c() => return Err(CliError::Interrupted),
            };
            let Some(chunk) = next else { break };
            let chunk = chunk.map_err(|e| CliError::msg(format!("download {url}: {e}")))?;
            file.write_all(&chunk)
                .await
                .map_err(|e| CliError::io(part.display(), e))?;
            size += chunk.len() as u64;
            bar.inc(chunk.len() as u64);
        }
        file.flush()
            .await
            .map_err(|e| CliError::io(part.display(), e))?;
        Ok(())
    }
    .await;
    bar.finish_and_clear();
    if let Err(e) = result {
        let _ = tokio::fs::remove_file(&part).await;
        return Err(e);
    }
    drop(file);
    tokio::fs::rename(&part, &path)
        .await
        .map_err(|e| CliError::io(path.display(), e))?;
    Ok((path, size))
}

fn history(ctx: &Ctx, a: HistoryArgs) -> CliResult {
    let items = ctx.block_on(async {
        let s = ctx.session(true).await?;
        let mut out: Vec<Value> = Vec::new();
        let mut cursor: Option<String> = None;
        while out.len() < a.limit {
            let want = (a.limit - out.len()).min(100) as i64;
            let mut b = s.client.imagine().history().first(want);
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
            if let Some(c) = &cursor {
                b = b.cursor(c);
            }
            let page = s.json(b.into_request()?).await?;
            let got = items_of(&page, &["items"]);
            let n = got.len();
            out.extend(got);
            cursor = page
                .get("cursor")
                .and_then(Value::as_str)
                .filter(|c| !c.is_empty())
                .map(str::to_owned);
            if n == 0 || cursor.is_none() {
                break;
            }
        }
        out.truncate(a.limit);
        Ok(out)
    })?;
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
                if is_failed(v) {
                    "failed".into()
                } else if is_done(v) {
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
            ("URL", &|v| s(v, "primary_media_url")),
        ],
    )
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

    #[test]
    fn urls_and_extensions() {
        let v = json!({
            "primary_media_url": "/media/a.png",
            "secondary_media_urls": {"texture": "https://cdn/x-texture.png?sig=1"}
        });
        let u = result_urls(&v, "http://h:1");
        assert_eq!(u[0], ("primary".into(), "http://h:1/media/a.png".into()));
        assert_eq!(u[1].0, "texture");
        assert_eq!(url_ext(&u[1].1).as_deref(), Some("png"));
        assert_eq!(url_ext("https://x/y"), None);
    }
}
