//! `rostro voices list|clone|delete`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use rostro_sdk::types::{VoiceClone, Voices};
use serde_json::Value;

use super::cell;
use crate::ctx::Ctx;
use crate::exit::CliResult;

/// The voices of a `Voices` answer as they came (its `voices` member), for `--json`.
fn raw_voices(answer: &Value) -> Option<&[Value]> {
    answer
        .get("voices")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
}

/// The typed voices of a `Voices` answer.
fn voices(v: &Voices) -> &[VoiceClone] {
    v.voices.as_deref().unwrap_or_default()
}

/// `rostro voices ...`
#[derive(Debug, Subcommand)]
pub enum VoicesCmd {
    /// List voices
    List,
    /// Clone a voice from an audio sample
    Clone(CloneArgs),
    /// Delete a cloned voice
    Delete(DeleteArgs),
}

/// `voices clone`
#[derive(Debug, Args)]
pub struct CloneArgs {
    /// The audio sample (mp3, wav, ogg, m4a, ...)
    pub file: PathBuf,
    /// Name of the new voice
    #[arg(long)]
    pub name: Option<String>,
    /// What the sample says (improves the clone)
    #[arg(long)]
    pub transcript: Option<String>,
    /// Model (`all`, or the default)
    #[arg(long)]
    pub model: Option<String>,
    /// Attach the voice to this character id
    #[arg(long, value_name = "ID")]
    pub character: Option<String>,
}

/// `voices delete`
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Voice id
    pub id: String,
}

/// Runs `rostro voices`.
pub fn run(ctx: &Ctx, cmd: VoicesCmd) -> CliResult {
    match cmd {
        VoicesCmd::List => {
            let v = ctx.block_on(async {
                let s = ctx.session(false).await?;
                s.json(s.client.voices().list().into_request()?).await
            })?;
            super::print_page(
                ctx,
                &v,
                "voices list",
                raw_voices,
                voices,
                &[
                    ("ID", &|v: &VoiceClone| v.uuid.clone()),
                    ("NAME", &|v: &VoiceClone| v.name.clone()),
                    ("MODEL", &|v: &VoiceClone| cell(&v.model)),
                ],
            )
        }
        VoicesCmd::Clone(a) => {
            let (size, name) = super::file_info(&a.file)?;
            let v = ctx.block_on(async {
                let s = ctx.session(true).await?;
                let mut b = s.client.voices().clone_voice().sample(&a.file);
                if let Some(n) = &a.name {
                    b = b.name(n);
                }
                if let Some(t) = &a.transcript {
                    b = b.transcript(t);
                }
                if let Some(m) = &a.model {
                    b = b.model(m);
                }
                if let Some(c) = &a.character {
                    b = b.character_id_str(c);
                }
                let (bar, progress) = super::transfer_bar(ctx, size, &name);
                let req = s.client.upload(b).on_progress(progress).into_request()?;
                let r = s.json(req).await;
                bar.finish_and_clear();
                r
            })?;
            if ctx.out.json {
                return ctx.out.json_value(&v);
            }
            let voice: VoiceClone = super::view(&v, "voices clone")?;
            ctx.out
                .success(&format!("Cloned voice {} ({})", voice.name, voice.uuid));
            Ok(())
        }
        VoicesCmd::Delete(a) => {
            let v = ctx.block_on(async {
                let s = ctx.session(true).await?;
                s.json(s.client.voices().delete(&a.id).into_request()?)
                    .await
            })?;
            super::print_done(ctx, &v, &format!("Deleted voice {}", a.id))
        }
    }
}
