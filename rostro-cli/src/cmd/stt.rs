//! `rostro stt FILE`: speech to text.

use std::path::PathBuf;

use clap::Args;
use rostro_sdk::request::FilePart;

use crate::ctx::Ctx;
use crate::exit::{CliError, CliResult};
use crate::util::first_of;

/// `rostro stt`
#[derive(Debug, Args)]
pub struct SttArgs {
    /// The audio file (mp3, wav, ogg, m4a, mp4, ...)
    pub file: PathBuf,
}

/// Runs `rostro stt`.
pub fn run(ctx: &Ctx, a: SttArgs) -> CliResult {
    if !a.file.is_file() {
        return Err(CliError::usage(format!("{}: no such file", a.file.display())));
    }
    let v = ctx.block_on(async {
        let s = ctx.session(true).await?;
        let req = s
            .client
            .audio()
            .transcribe()
            .sample(FilePart::from_path(&a.file))
            .into_request()?;
        let pb = ctx.out.spinner(format!("transcribing {}", a.file.display()));
        let r = s.json(req).await;
        pb.finish_and_clear();
        r
    })?;
    if ctx.out.json {
        return ctx.out.json_value(&v);
    }
    ctx.out
        .line(&first_of(&v, &["reference_text", "text", "transcript"]))
}
