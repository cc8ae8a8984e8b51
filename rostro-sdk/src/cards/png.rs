//! Cards inside PNG images: the card JSON, base64-encoded, in a text chunk named `chara`
//! (V2) or `ccv3` (V3). Read from `tEXt`, `zTXt` and `iTXt`; written as `tEXt`, which every
//! front-end reads.

use std::io::Cursor;

use base64::Engine;

use super::{Card, CardError, CardV3};

/// Keyword of the V2 (and V1) card chunk.
pub const CHUNK_V2: &str = "chara";
/// Keyword of the V3 card chunk.
pub const CHUNK_V3: &str = "ccv3";

/// Standard base64, padding optional: writers differ on padding.
const LENIENT: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// Largest decompressed text chunk we accept (a card with a big lorebook is a few MB).
const MAX_TEXT: usize = 32 * 1024 * 1024;

/// The card chunks found in a PNG.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PngCardChunks {
    /// The `ccv3` chunk's card.
    pub v3: Option<Card>,
    /// The `chara` chunk's card (V2 or V1).
    pub v2: Option<Card>,
}

impl PngCardChunks {
    /// The card a front-end should use: `ccv3` when present (V3 is preferred), else `chara`.
    pub fn preferred(self) -> Option<Card> {
        self.v3.or(self.v2)
    }
}

fn png_error(e: png::DecodingError) -> CardError {
    CardError::Png {
        message: e.to_string(),
    }
}

/// Reads the card chunks of a PNG. A valid PNG without either chunk is
/// [`CardError::NoCardChunk`]; a chunk whose base64 or JSON is broken is an error naming the
/// chunk, even when the other chunk is fine, so a damaged card is never silently half-read.
pub fn read_png_chunks(bytes: &[u8]) -> Result<PngCardChunks, CardError> {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_ignore_text_chunk(false);
    let mut reader = decoder.read_info().map_err(png_error)?;
    // Cards put the chunk anywhere, often after the image data: read to the end. `finish`
    // skips the pixels without decoding them.
    reader.finish().map_err(png_error)?;
    let info = reader.info();
    let mut texts: Vec<(String, String)> = Vec::new();
    for t in &info.uncompressed_latin1_text {
        texts.push((t.keyword.clone(), t.text.clone()));
    }
    for t in &info.compressed_latin1_text {
        let mut t = t.clone();
        t.decompress_text_with_limit(MAX_TEXT).map_err(png_error)?;
        texts.push((t.keyword.clone(), t.get_text().map_err(png_error)?));
    }
    for t in &info.utf8_text {
        let mut t = t.clone();
        t.decompress_text_with_limit(MAX_TEXT).map_err(png_error)?;
        texts.push((t.keyword.clone(), t.get_text().map_err(png_error)?));
    }
    let mut out = PngCardChunks::default();
    for (keyword, text) in texts {
        let slot = if keyword.eq_ignore_ascii_case(CHUNK_V3) {
            &mut out.v3
        } else if keyword.eq_ignore_ascii_case(CHUNK_V2) {
            &mut out.v2
        } else {
            continue;
        };
        if slot.is_none() {
            *slot = Some(decode_chunk(&keyword, &text)?);
        }
    }
    if out.v2.is_none() && out.v3.is_none() {
        return Err(CardError::NoCardChunk);
    }
    Ok(out)
}

fn decode_chunk(keyword: &str, text: &str) -> Result<Card, CardError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let raw = LENIENT
        .decode(compact.as_bytes())
        .map_err(|e| CardError::Base64 {
            chunk: keyword.to_owned(),
            message: e.to_string(),
        })?;
    Card::from_json(&raw).map_err(|e| match e {
        CardError::Json { message } => CardError::Json {
            message: format!("in the `{keyword}` chunk: {message}"),
        },
        other => other,
    })
}

/// Writes `card` into `image` (a PNG; any existing `chara`/`ccv3` chunks are replaced, other
/// text chunks and the colour information are kept): a `ccv3` chunk with the V3 card and a
/// `chara` chunk with its V2 form, for older readers. With `v2_only`, only `chara` with the V2
/// card is written.
pub fn write_png(image: &[u8], card: &CardV3, v2_only: bool) -> Result<Vec<u8>, CardError> {
    let mut decoder = png::Decoder::new(Cursor::new(image));
    decoder.set_ignore_text_chunk(false);
    let mut reader = decoder.read_info().map_err(png_error)?;
    let mut pixels = vec![
        0;
        reader.output_buffer_size().ok_or_else(|| CardError::Png {
            message: "the image is too large".into(),
        })?
    ];
    // The identity transform gives the samples as stored (palette indices, 16-bit, ...), so
    // the image is written back exactly, only deinterlaced.
    let frame = reader.next_frame(&mut pixels).map_err(png_error)?;
    pixels.truncate(frame.buffer_size());
    reader.finish().map_err(png_error)?;
    let mut info = reader.info().clone();
    info.interlaced = false;
    // Only the first frame of an animated PNG is kept: a card is a still image.
    info.animation_control = None;
    info.frame_control = None;
    let is_card = |k: &str| k.eq_ignore_ascii_case(CHUNK_V2) || k.eq_ignore_ascii_case(CHUNK_V3);
    info.uncompressed_latin1_text
        .retain(|t| !is_card(&t.keyword));
    info.compressed_latin1_text.retain(|t| !is_card(&t.keyword));
    info.utf8_text.retain(|t| !is_card(&t.keyword));

    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(v).unwrap_or_default())
    };
    let v2 = serde_json::to_value(card.to_v2()).map_err(|e| CardError::Json {
        message: e.to_string(),
    })?;
    let v3 = serde_json::to_value(card).map_err(|e| CardError::Json {
        message: e.to_string(),
    })?;

    let mut out = Vec::with_capacity(image.len() + 4 * v3.to_string().len());
    {
        let mut encoder = png::Encoder::with_info(&mut out, info).map_err(|e| CardError::Png {
            message: e.to_string(),
        })?;
        let enc = |e: png::EncodingError| CardError::Png {
            message: e.to_string(),
        };
        encoder
            .add_text_chunk(CHUNK_V2.into(), b64(&v2))
            .map_err(enc)?;
        if !v2_only {
            encoder
                .add_text_chunk(CHUNK_V3.into(), b64(&v3))
                .map_err(enc)?;
        }
        let mut writer = encoder.write_header().map_err(enc)?;
        writer.write_image_data(&pixels).map_err(enc)?;
        writer.finish().map_err(enc)?;
    }
    Ok(out)
}

/// A 256x256 placeholder image, for characters without an avatar: a soft vertical gradient.
pub fn placeholder_png() -> Vec<u8> {
    let (w, h) = (256u32, 256u32);
    let mut pixels = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let t = (y * 255 / (h - 1)) as u8;
            let s = (x * 40 / (w - 1)) as u8;
            pixels.extend_from_slice(&[70 + t / 3, 80 + s, 120 + t / 2]);
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        // Writing to a Vec cannot fail and the sizes match: an error here is a bug, and the
        // empty result makes `write_png` report it as a PNG error.
        if let Ok(mut writer) = encoder.write_header() {
            let _ = writer.write_image_data(&pixels);
        }
    }
    out
}
