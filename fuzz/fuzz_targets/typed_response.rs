//! Typed response decoding (chat, completions, usage and cost, media, Routstr) on any bytes:
//! an error or a value, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rostro_sdk::chat::{ChatCompletion, ChatCompletionChunk, Completion};
use rostro_sdk::routstr::{BalanceInfo, Model, NodeInfo};
use rostro_sdk::types::ImaginedItem;

fn decode<T: serde::de::DeserializeOwned + std::fmt::Debug>(input: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<T>(input) {
        let _ = format!("{value:?}");
    }
}

fuzz_target!(|input: &[u8]| {
    if let Ok(c) = serde_json::from_slice::<ChatCompletion>(input) {
        let _ = (c.content(), c.usage.as_ref().and_then(|u| u.cost_msats()));
    }
    decode::<ChatCompletionChunk>(input);
    decode::<Completion>(input);
    decode::<ImaginedItem>(input);
    decode::<NodeInfo>(input);
    decode::<Model>(input);
    decode::<BalanceInfo>(input);
});
