//! The chat stream path without the network: SSE events decoded as chat chunks and assembled,
//! as `ChatStream` does. Never panics whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rostro_sdk::chat::{ChatAccumulator, ChatCompletionChunk, Completion, CompletionAccumulator, SseDecoder};

fuzz_target!(|input: &[u8]| {
    let mut decoder = SseDecoder::new(1 << 20);
    let mut chat = ChatAccumulator::new();
    let mut text = CompletionAccumulator::new();
    let mut events = Vec::new();
    for piece in input.chunks(7) {
        decoder.push(piece);
        while let Some(Ok(event)) = decoder.next_event() {
            events.push(event);
        }
    }
    events.extend(decoder.finish());
    for event in &events {
        if let Ok(chunk) = serde_json::from_str::<ChatCompletionChunk>(&event.data) {
            let _ = chunk.content();
            chat.push(&chunk);
        }
        if let Ok(chunk) = serde_json::from_str::<Completion>(&event.data) {
            text.push(&chunk);
        }
    }
    let _ = (chat.text(), chat.usage().and_then(|u| u.cost_msats()));
    let _ = chat.finish().content();
    let _ = (text.text(), text.finish());
});
