//! The SSE decoder on any bytes, in any split: never panics, and the events (or the error)
//! do not depend on how the body was cut into reads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rostro_sdk::chat::{SseDecoder, SseEvent};
use rostro_sdk::StreamErrorKind;

type Decoded = (Vec<Result<SseEvent, StreamErrorKind>>, Option<SseEvent>);

fn decode<'a>(cap: usize, pieces: impl Iterator<Item = &'a [u8]>) -> Decoded {
    let mut decoder = SseDecoder::new(cap);
    let mut out = Vec::new();
    for piece in pieces {
        decoder.push(piece);
        while let Some(item) = decoder.next_event() {
            out.push(item);
        }
    }
    let trailing = decoder.finish();
    while let Some(item) = decoder.next_event() {
        out.push(item);
    }
    (out, trailing)
}

fuzz_target!(|input: &[u8]| {
    let Some((&control, body)) = input.split_first() else {
        return;
    };
    // A small cap now and then so the size limit is exercised too.
    let cap = if control & 0x80 != 0 { 1 + (control & 0x3f) as usize } else { 1 << 20 };
    let whole = decode(cap, std::iter::once(body));
    let size = 1 + (control & 0x0f) as usize;
    let split = decode(cap, body.chunks(size));
    assert_eq!(whole, split, "split into {size}-byte reads");
});
