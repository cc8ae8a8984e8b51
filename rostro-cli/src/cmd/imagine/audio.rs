//! `imagine speech`, `imagine music`, `imagine sfx`: generations that make sound.

use clap::Args;
use rostro_sdk::types;

use super::{Start, StartOpts, Started, spec_from};
use crate::exit::{CliError, CliResult};
use crate::util;

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

/// The generation `imagine speech` starts.
pub(super) fn speech(a: SpeechArgs) -> CliResult<Started> {
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
    Ok(("speech", Start::Imagine(Box::new(spec_from(r))), a.wait))
}

/// The generation `imagine music` starts.
pub(super) fn music(a: MusicArgs) -> CliResult<Started> {
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
    Ok(("music", Start::Imagine(Box::new(spec_from(r))), a.wait))
}

/// The generation `imagine sfx` starts.
pub(super) fn sfx(a: SfxArgs) -> CliResult<Started> {
    let r = types::GenerationRequest {
        prompt: Some(a.prompt),
        duration: a.duration,
        seed: a.seed,
        generation_type: Some(types::GenerationType::TextToSfx),
        ..Default::default()
    };
    Ok((
        "sound effect",
        Start::Imagine(Box::new(spec_from(r))),
        a.wait,
    ))
}
