//! Upload a large file in parallel parts, pause it half-way, and resume it from its saved
//! state.
//!
//! ```sh
//! cargo run -p rostro-examples --bin chunked_upload
//! ```
//!
//! The upload state is saved to a file after every part. A pause (as a CLI would do on
//! Ctrl-C) lets the parts in flight finish and starts no new one; after a pause, an error or a
//! crash, `resume` sends only the parts still missing, and the file's SHA-256 is checked
//! against the server's at the end.

use rostro_sdk::Error;
use rostro_sdk::media::{MediaError, PauseSignal, UploadState};

const MIB: u64 = 1024 * 1024;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (client, _mock) = rostro_examples::connect().await?;

    // A 24 MiB file in a temporary directory.
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("scene.glb");
    let data: Vec<u8> = (0..24 * MIB).map(|i| (i * 31 % 253) as u8).collect();
    std::fs::write(&path, &data)?;
    let state_file = dir.path().join("scene.glb.upload.json");

    // First run: pause once a third of the bytes went out.
    let pause = PauseSignal::new();
    let pause2 = pause.clone();
    let first = client
        .engine_upload()
        .upload_file(&path)
        .part_size(4 * MIB)
        .concurrency(2)
        .state_file(&state_file)
        .pause_signal(pause.clone())
        .on_progress(move |p| {
            if p.bytes >= 8 * MIB {
                pause2.pause();
            }
        })
        .send()
        .await;
    match first {
        Ok(done) => {
            println!("finished before the pause: {}", done.url);
            return Ok(());
        }
        Err(Error::Media { source, .. }) if matches!(*source, MediaError::Paused { .. }) => {
            println!("{source}");
        }
        Err(other) => return Err(other.into()),
    }

    let state = UploadState::load(&state_file).await?;
    println!(
        "saved state: upload {}, {} of {} parts stored, missing {:?}",
        state.upload_id,
        state.completed.len(),
        state.part_count,
        state.missing_parts()
    );

    let done = client
        .engine_upload()
        .resume(state)
        .concurrency(4)
        .state_file(&state_file)
        .on_progress(|p| {
            if p.bytes % (4 * MIB) == 0 {
                println!("  {} / {} MiB", p.bytes / MIB, p.total.unwrap_or(0) / MIB);
            }
        })
        .send()
        .await?;
    println!(
        "uploaded {} ({} bytes, {} parts, {} sent after the pause), sha256 {}",
        done.url, done.size, done.parts, done.parts_sent, done.sha256
    );
    Ok(())
}
