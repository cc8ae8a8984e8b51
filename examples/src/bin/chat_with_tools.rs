//! Tool calling: the model asks for a function call (streamed in fragments and assembled by
//! the SDK), the example runs it locally and sends the result back for the final answer.
//!
//! ```sh
//! cargo run -p rostro-examples --bin chat_with_tools                # in-process mock
//! ROSTRO_BASE_URL=https://api.rostro.dev ROSTRO_API_KEY=... \
//!     cargo run -p rostro-examples --bin chat_with_tools            # the real service
//! ```

use rostro_sdk::chat::{ChatCompletionRequest, Message, Tool, ToolChoice};
use serde_json::{Value, json};

/// The "tool": a made-up weather report.
fn get_weather(args: &Value) -> Value {
    let city = args["city"].as_str().unwrap_or("somewhere");
    json!({"city": city, "temperature_c": 17, "sky": "clear"})
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (client, _mock) = rostro_examples::connect().await?;

    let weather = Tool::function(
        "get_weather",
        "Current weather for a city",
        json!({
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name"}},
            "required": ["city"]
        }),
    );
    let mut request = ChatCompletionRequest::new(
        "mixtral",
        vec![Message::user("Lisbon")], // the mock passes the user text as the argument
    )
    .tool(weather)
    .tool_choice(ToolChoice::Auto);

    // 1. Stream the first answer; the stream joins the tool-call fragments by index.
    let first = client
        .chat()
        .stream(request.clone())
        .await?
        .collect_completion()
        .await?;
    let Some(choice) = first.choices.first() else {
        anyhow::bail!("no choice in the answer");
    };
    if choice.message.tool_calls.is_empty() {
        println!(
            "the model answered directly: {}",
            first.content().unwrap_or_default()
        );
        return Ok(());
    }

    // 2. Run every call and append the results to the conversation.
    request = request.message(Message::from(choice.message.clone()));
    for call in &choice.message.tool_calls {
        let args: Value = call.function.parse_arguments()?;
        let result = get_weather(&args);
        println!(
            "tool call {} -> {}({args}) = {result}",
            call.id, call.function.name
        );
        request = request.message(Message::tool(call.id.clone(), result.to_string()));
    }

    // 3. The final answer uses the tool results.
    let answer = client.chat().create(request).await?;
    println!("assistant: {}", answer.content().unwrap_or_default());
    Ok(())
}
