//! Tiny but valid media files, generated in memory: PNG (stored-deflate zlib
//! with real CRCs), WAV (PCM sine tone), MP4 (ISO BMFF `ftyp` + `free` +
//! `mdat`) and GLB (glTF 2.0 binary container).

/// The kind of media a generation produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    /// `image/png`.
    Image,
    /// `audio/wav`.
    Audio,
    /// `video/mp4`.
    Video,
    /// `model/gltf-binary` (GLB).
    Model3d,
}

impl MediaKind {
    /// The kind produced by a `GenerationType` value (`text_to_image`, ...).
    pub fn for_generation_type(generation_type: &str) -> MediaKind {
        match generation_type {
            "text_to_speech" | "text_to_music" | "text_to_sfx" => MediaKind::Audio,
            "text_to_video" | "image_to_video" => MediaKind::Video,
            "text_to_3d" | "image_to_3d" => MediaKind::Model3d,
            _ => MediaKind::Image,
        }
    }

    /// File extension used in media URLs.
    pub fn extension(self) -> &'static str {
        match self {
            MediaKind::Image => "png",
            MediaKind::Audio => "wav",
            MediaKind::Video => "mp4",
            MediaKind::Model3d => "glb",
        }
    }

    /// The `content-type` the media is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            MediaKind::Image => "image/png",
            MediaKind::Audio => "audio/wav",
            MediaKind::Video => "video/mp4",
            MediaKind::Model3d => "model/gltf-binary",
        }
    }

    /// Generates the file bytes; `seed` varies colours/tones deterministically.
    pub fn render(self, seed: u64) -> Vec<u8> {
        match self {
            MediaKind::Image => png(16, 16, seed),
            MediaKind::Audio => wav(seed),
            MediaKind::Video => mp4(),
            MediaKind::Model3d => glb(),
        }
    }
}

/// Content type for a file extension (uploads and generated media).
pub(crate) fn content_type_for_ext(ext: &str) -> &'static str {
    match ext.to_ascii_lowercase().as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "wav" => "audio/wav",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "glb" => "model/gltf-binary",
        "json" => "application/json",
        "txt" => "text/plain",
        _ => "application/octet-stream",
    }
}

/// Guesses an extension from a file's first bytes.
pub(crate) fn sniff_ext(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("jpg")
    } else if head.starts_with(b"GIF8") {
        Some("gif")
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some("webp")
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WAVE" {
        Some("wav")
    } else if head.len() >= 8 && &head[4..8] == b"ftyp" {
        Some("mp4")
    } else if head.starts_with(b"glTF") {
        Some("glb")
    } else {
        None
    }
}

/// Extension for a MIME type (`image/png` -> `png`).
pub(crate) fn ext_for_mime(mime: &str) -> Option<&'static str> {
    Some(match mime.trim().to_ascii_lowercase().as_str() {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "audio/wav" | "audio/x-wav" | "audio/wave" => "wav",
        "audio/mpeg" => "mp3",
        "video/mp4" => "mp4",
        "video/webm" => "webm",
        "model/gltf-binary" => "glb",
        _ => return None,
    })
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + u32::from(x)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

/// zlib stream using only stored (uncompressed) deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let mut chunks = data.chunks(65_535).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xFF, 0xFF]);
    }
    while let Some(chunk) = chunks.next() {
        out.push(u8::from(chunks.peek().is_none()));
        let len = chunk.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(data);
    out.extend_from_slice(&crc_input);
    out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
}

/// An RGB PNG of `w`×`h` pixels: a diagonal gradient tinted by `seed`.
pub(crate) fn png(w: u32, h: u32, seed: u64) -> Vec<u8> {
    let tint = seed.to_le_bytes();
    let mut raw = Vec::with_capacity(((w * 3 + 1) * h) as usize);
    for y in 0..h {
        raw.push(0);
        for x in 0..w {
            raw.push(tint[0] ^ (x * 255 / w.max(1)) as u8);
            raw.push(tint[1] ^ (y * 255 / h.max(1)) as u8);
            raw.push(tint[2]);
        }
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    png_chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// 0.25 s of a 16-bit mono 8 kHz sine tone in a RIFF/WAVE container.
pub(crate) fn wav(seed: u64) -> Vec<u8> {
    let rate = 8_000u32;
    let samples = rate / 4;
    let freq = 220.0 + (seed % 8) as f64 * 55.0;
    let data_len = samples * 2;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..samples {
        let t = f64::from(i) / f64::from(rate);
        let v = (t * freq * std::f64::consts::TAU).sin() * 8_000.0;
        out.extend_from_slice(&(v as i16).to_le_bytes());
    }
    out
}

fn mp4_box(out: &mut Vec<u8>, kind: &[u8; 4], payload: &[u8]) {
    out.extend_from_slice(&(8 + payload.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(payload);
}

/// A minimal ISO base media file: `ftyp` (isom, compatible isom/iso2/avc1/mp41),
/// a `free` box and a small `mdat`.
pub(crate) fn mp4() -> Vec<u8> {
    let mut out = Vec::new();
    let mut ftyp = b"isom".to_vec();
    ftyp.extend_from_slice(&0x200u32.to_be_bytes());
    ftyp.extend_from_slice(b"isomiso2avc1mp41");
    mp4_box(&mut out, b"ftyp", &ftyp);
    mp4_box(&mut out, b"free", &[]);
    mp4_box(&mut out, b"mdat", b"rostro-mock video payload");
    out
}

/// A glTF 2.0 binary container holding one empty scene.
pub(crate) fn glb() -> Vec<u8> {
    let mut json =
        br#"{"asset":{"version":"2.0","generator":"rostro-mock"},"scene":0,"scenes":[{"nodes":[]}]}"#
            .to_vec();
    while !json.len().is_multiple_of(4) {
        json.push(b' ');
    }
    let total = 12 + 8 + json.len() as u32;
    let mut out = Vec::with_capacity(total as usize);
    out.extend_from_slice(b"glTF");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(b"JSON");
    out.extend_from_slice(&json);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_and_adler_match_known_values() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    }

    #[test]
    fn png_structure_is_valid() {
        let p = png(16, 16, 3);
        assert_eq!(&p[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&p[12..16], b"IHDR");
        assert_eq!(&p[p.len() - 8..p.len() - 4], b"IEND");
        // Walk the chunks and verify every CRC.
        let mut i = 8;
        while i < p.len() {
            let len = u32::from_be_bytes(p[i..i + 4].try_into().unwrap()) as usize;
            let body = &p[i + 4..i + 8 + len];
            let crc = u32::from_be_bytes(p[i + 8 + len..i + 12 + len].try_into().unwrap());
            assert_eq!(crc32(body), crc);
            i += 12 + len;
        }
        assert_eq!(i, p.len());
    }

    #[test]
    fn stored_zlib_handles_many_blocks() {
        let data = vec![7u8; 140_000];
        let z = zlib_stored(&data);
        assert_eq!(z.len(), 2 + 3 * 5 + data.len() + 4);
    }

    #[test]
    fn containers_have_their_magic() {
        assert_eq!(sniff_ext(&wav(1)), Some("wav"));
        assert_eq!(sniff_ext(&mp4()), Some("mp4"));
        let g = glb();
        assert_eq!(sniff_ext(&g), Some("glb"));
        assert_eq!(
            u32::from_le_bytes(g[8..12].try_into().unwrap()) as usize,
            g.len()
        );
        assert_eq!(sniff_ext(&png(1, 1, 0)), Some("png"));
    }
}
