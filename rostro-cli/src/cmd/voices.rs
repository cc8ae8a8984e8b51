//! `rostro voices list|clone|delete`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use rostro_sdk::request::FilePart;

use crate::ctx::Ctx;
use crate::exit::CliResult;
use crate::util::{first_of, items_of, s};

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
            let items = items_of(&v, &["voices", "items", "nodes"]);
            super::print_list(
                ctx,
                &items,
                &[
                    ("ID", &|v| first_of(v, &["uuid", "id", "voice_id"])),
                    ("NAME", &|v| s(v, "name")),
                    ("MODEL", &|v| s(v, "model")),
                ],
            )
        }
        VoicesCmd::Clone(a) => {
            let (size, name) = super::file_info(&a.file)?;
            let v = ctx.block_on(async {
                let s = ctx.session(true).await?;
                let mut b = s
                    .client
                    .voices()
                    .clone_voice()
                    .sample(FilePart::from_path(&a.file));
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
            ctx.out.success(&format!(
                "Cloned voice {} ({})",
                s(&v, "name"),
                first_of(&v, &["uuid", "id"])
            ));
            Ok(())
        }
        VoicesCmd::Delete(a) => {
            let v = ctx.block_on(async {
                let s = ctx.session(true).await?;
                s.json(s.client.voices().delete(&a.id).into_request()?)
                    .await
            })?;
            if ctx.out.json {
                return ctx.out.json_value(&v);
            }
            ctx.out.success(&format!("Deleted voice {}", a.id));
            Ok(())
        }
    }
}
