//! Generate an image, wait for it with progress, and download it.
//!
//! ```sh
//! cargo run -p rostro-examples --bin imagine
//! ```
//!
//! The request is checked before it is sent (a missing prompt, lyrics for sung music or an
//! init image for `image_to_*` fail right away), the generation is polled with a backoff from
//! 1 s to 10 s, and the file is streamed to a temporary directory, hashed on the way.

use std::time::Duration;

use rostro_sdk::media::GenerationSpec;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (client, _mock) = rostro_examples::connect().await?;

    let spec = GenerationSpec::text_to_image("a lighthouse at dusk, oil on canvas")
        .aspect_ratio("16:9")
        .negative_prompt("text, watermark");
    let generation = client.imagine().generate(spec).await?;
    println!("started generation {}", generation.generation_uuid());

    let done = generation
        .timeout(Duration::from_secs(600))
        .on_progress(|p| {
            println!(
                "  check {}: {:?} after {:.1}s",
                p.attempt,
                p.state,
                p.elapsed.as_secs_f64()
            );
        })
        .wait()
        .await?;
    println!("done: {}", done.primary_url().unwrap_or("(no url)"));

    let dir = tempfile::tempdir()?;
    let media = done
        .download(dir.path())
        .on_progress(|p| println!("  {}: {} of {:?} bytes", p.label, p.bytes, p.total))
        .await?;
    let file = &media.primary;
    println!(
        "saved {} ({} bytes, sha256 {})",
        file.path.display(),
        file.size,
        file.sha256
    );
    Ok(())
}
