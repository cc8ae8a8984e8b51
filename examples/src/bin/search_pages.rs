//! Search the catalog across pages: `.stream()` fetches the next page only when needed, and a
//! limit (or `.take(n)`) stops fetching.
//!
//! ```sh
//! cargo run -p rostro-examples --bin search_pages
//! ```

use futures::{StreamExt, TryStreamExt};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (client, _mock) = rostro_examples::connect().await?;

    // The first 25 results, 10 per page: three requests.
    let nodes: Vec<_> = client
        .search()
        .list()
        .first(10)
        .sort("star_count")
        .stream_limit(25)
        .try_collect()
        .await?;
    println!("{} characters:", nodes.len());
    for (i, node) in nodes.iter().enumerate() {
        println!(
            "  {:>2}. {} ({})",
            i + 1,
            node.name.as_deref().unwrap_or("?"),
            node.full_path.as_deref().unwrap_or("")
        );
    }

    // Item by item, stopping at the first match; `paginate` also reads results that the
    // service wraps under `data`.
    let mut stream = client.paginate(client.search().list().first(20));
    let mut seen = 0;
    while let Some(node) = stream.next().await {
        let node = node?;
        seen += 1;
        if node.nsfw == Some(false) && node.star_count.unwrap_or(0) > 0 {
            println!(
                "first starred sfw result after {seen} item(s): {}",
                node.name.as_deref().unwrap_or("?")
            );
            break;
        }
        if seen >= 200 {
            println!("no match in the first {seen} results");
            break;
        }
    }
    Ok(())
}
