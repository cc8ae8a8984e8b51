//! Streams a chat completion chunk by chunk, then shows the usage, the request id and the
//! whole answer assembled by the stream.
//!
//! ```sh
//! cargo run -p rostro-examples --bin streaming_chat                 # in-process mock
//! ROSTRO_BASE_URL=https://api.rostro.dev ROSTRO_API_KEY=... \
//!     cargo run -p rostro-examples --bin streaming_chat             # the real service
//! ```

use std::io::Write;

use futures::StreamExt;
use rostro_sdk::Error;
use rostro_sdk::chat::{ChatCompletionRequest, Message};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (client, _mock) = rostro_examples::connect().await?;

    let request = ChatCompletionRequest::new(
        "mixtral",
        vec![
            Message::system("You are a concise storyteller."),
            Message::user("Tell me a two-line story about a lighthouse keeper."),
        ],
    )
    .temperature(0.7)
    .max_tokens(200)
    .include_usage(true); // ask for a final chunk with token usage (and cost, on Routstr)

    let mut stream = client.chat().stream(request).await?;
    println!("request id: {}", stream.request_id().unwrap_or("-"));
    print!("assistant: ");
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(chunk) => print!("{}", chunk.content().unwrap_or_default()),
            // The stream broke: `partial` holds everything received until then.
            Err(Error::Stream {
                message, partial, ..
            }) => {
                println!("\n[stream failed: {message}; kept {} chars]", partial.len());
                return Ok(());
            }
            Err(other) => return Err(other.into()),
        }
        std::io::stdout().flush()?;
    }
    println!();

    if let Some(usage) = stream.usage() {
        println!(
            "usage: {} prompt + {} completion = {} tokens",
            usage.prompt_tokens, usage.completion_tokens, usage.total_tokens
        );
    }
    if let Some(msats) = stream.cost_msats() {
        println!("cost: {msats} msats");
    }
    let completion = stream.completion();
    println!(
        "assembled: {} chunks, finish reason {:?}, {} chars",
        stream.accumulator().chunk_count(),
        completion.finish_reason().map(|r| r.as_str()),
        completion.content().map_or(0, str::len)
    );
    Ok(())
}
