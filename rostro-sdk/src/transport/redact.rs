//! Keeping credentials and money out of error text and `Debug` output.

use std::borrow::Cow;

use reqwest::header::{self, HeaderMap, HeaderName};

const X_CASHU: HeaderName = HeaderName::from_static("x-cashu");

/// Response headers that carry credentials or money (Routstr change tokens) are hidden from
/// `Debug` output.
pub(crate) fn mark_sensitive(headers: &mut HeaderMap) {
    for name in [X_CASHU, header::SET_COOKIE] {
        // `contains_key` first: `entry` may grow the map even when the header is absent.
        if !headers.contains_key(&name) {
            continue;
        }
        if let header::Entry::Occupied(mut entry) = headers.entry(name) {
            for value in entry.iter_mut() {
                value.set_sensitive(true);
            }
        }
    }
}

/// Shortest API key that is redacted from error text. A shorter key (say `e`) cannot be told
/// apart from ordinary text: replacing it would mangle every message (`valu*** is not ...`)
/// while hiding nothing, since such a key is trivially guessed anyway.
pub(crate) const MIN_REDACTED_SECRET_LEN: usize = 8;

/// Replaces the API key by `***` wherever a server echoed it, byte for byte (nothing else is
/// touched, invalid UTF-8 included).
pub(crate) fn scrub<'a>(text: &'a [u8], secret: Option<&str>) -> Cow<'a, [u8]> {
    let Some(secret) = secret.map(str::as_bytes) else {
        return Cow::Borrowed(text);
    };
    if secret.len() < MIN_REDACTED_SECRET_LEN || !contains(text, secret) {
        return Cow::Borrowed(text);
    }
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = find(rest, secret) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(b"***");
        rest = &rest[at + secret.len()..];
    }
    out.extend_from_slice(rest);
    Cow::Owned(out)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle).is_some()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
