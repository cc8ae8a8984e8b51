//! Upload a picture to a project's gallery with progress, then list the gallery page by page.
//!
//! ```sh
//! cargo run -p rostro-examples --bin gallery_upload
//! ```
//!
//! The gallery endpoint takes the image as base64 inside JSON; the SDK streams the file into
//! the request body chunk by chunk (`Content-Length` known up front), so a large file is never
//! held in memory, encoded or not.

use futures::TryStreamExt;

/// The project whose gallery receives the picture.
const PROJECT_ID: i64 = 172700;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (client, _mock) = rostro_examples::connect().await?;

    // A 2 MiB stand-in for a picture, in a temporary directory.
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("cover.png");
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend((0..2 * 1024 * 1024u32).map(|i| (i % 251) as u8));
    std::fs::write(&path, &bytes)?;

    let item = client
        .gallery()
        .upload_file(PROJECT_ID, &path)
        .caption("The cover")
        .on_progress(|p| {
            let percent = p.fraction().unwrap_or(0.0) * 100.0;
            println!("  {}: {} bytes ({percent:.0}%)", p.label, p.bytes);
        })
        .send()
        .await?;
    println!(
        "uploaded {} -> {}",
        item.uuid.as_deref().unwrap_or("?"),
        item.primary_image_path.as_deref().unwrap_or("?")
    );

    let items: Vec<_> = client
        .gallery()
        .list_for_project(PROJECT_ID)
        .limit(10)
        .stream_limit(30)
        .try_collect()
        .await?;
    println!(
        "the gallery of project {PROJECT_ID} has {} item(s)",
        items.len()
    );
    for item in &items {
        println!(
            "  {} {}",
            item.uuid.as_deref().unwrap_or("?"),
            item.description.as_deref().unwrap_or("")
        );
    }
    Ok(())
}
