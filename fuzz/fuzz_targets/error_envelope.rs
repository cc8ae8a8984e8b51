//! Error bodies as servers send them (OpenAI, FastAPI `detail`, Routstr's nested envelopes,
//! text): any bytes decode to an `ApiErrorBody` whose accessors and message never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rostro_sdk::ApiErrorBody;

fuzz_target!(|input: &[u8]| {
    let body = ApiErrorBody::parse(input);
    let _ = body.to_string();
    let _ = (body.code(), body.kind());
    let _ = format!("{body:?}");
    let _ = rostro_sdk::error::snippet(input);
    let _ = rostro_sdk::error::readable_text(input);
});
