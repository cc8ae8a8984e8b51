//! `rostro stt FILE`: speech to text.

use std::path::PathBuf;

use clap::Args;
use rostro_sdk::types::SttResponse;

use crate::ctx::Ctx;
use crate::exit::CliResult;

/// `rostro stt`
#[derive(Debug, Args)]
pub struct SttArgs {
    /// The audio file (mp3, wav, ogg, m4a, mp4, ...)
    pub file: PathBuf,
}

/// Runs `rostro stt`.
pub fn run(ctx: &Ctx, a: SttArgs) -> CliResult {
    let (size, name) = super::file_info(&a.file)?;
    let v = ctx.block_on(async {
        let s = ctx.session(true).await?;
        let b = s.client.audio().transcribe().sample(&a.file);
        let (bar, progress) = super::transfer_bar(ctx, size, &name);
        let req = s.client.upload(b).on_progress(progress).into_request()?;
        let r = s.json(req).await;
        bar.finish_and_clear();
        r
    })?;
    if ctx.out.json {
        return ctx.out.json_value(&v);
    }
    let r: SttResponse = super::view(&v, "stt")?;
    match r.reference_text.as_deref() {
        Some(text) if !text.is_empty() => ctx.out.line(text),
        _ => {
            ctx.out.note("the transcript is empty");
            Ok(())
        }
    }
}
