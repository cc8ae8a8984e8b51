//! CharX: the V3 zip container, `card.json` at the root and asset files under `assets/`,
//! referenced from `data.assets` as `embeded://assets/...` (sic, the spec's spelling).

use std::io::{Cursor, Read, Write};

use super::{Card, CardAsset, CardError, CardV3};

/// The URI scheme of files inside a CharX.
pub const EMBEDDED_SCHEME: &str = "embeded://";

/// Largest entry we unpack (a zip bomb must not exhaust memory).
const MAX_ENTRY: u64 = 256 * 1024 * 1024;

/// A card read from a CharX with the files its assets point to.
#[derive(Debug, Clone, PartialEq)]
pub struct CharX {
    /// `card.json`.
    pub card: Card,
    /// `(path in the zip, bytes)` of every `embeded://` asset the card names, in the order of
    /// `data.assets`.
    pub files: Vec<(String, Vec<u8>)>,
}

impl CharX {
    /// The main icon's bytes: the asset of type `icon` named `main`, else the first icon.
    pub fn main_icon(&self) -> Option<&[u8]> {
        let Card::V3(card) = &self.card else {
            return None;
        };
        let assets = card.data.assets.as_deref().unwrap_or_default();
        let icon = assets
            .iter()
            .find(|a| a.kind == "icon" && a.name == "main")
            .or_else(|| assets.iter().find(|a| a.kind == "icon"))?;
        let path = icon.uri.strip_prefix(EMBEDDED_SCHEME)?;
        self.files
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, b)| b.as_slice())
    }
}

fn zip_error(e: zip::result::ZipError) -> CardError {
    CardError::Zip {
        message: e.to_string(),
    }
}

fn read_entry(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
) -> Result<Vec<u8>, CardError> {
    let file = archive.by_name(name).map_err(zip_error)?;
    if file.size() > MAX_ENTRY {
        return Err(CardError::Zip {
            message: format!("`{name}` is {} bytes, more than we unpack", file.size()),
        });
    }
    let mut out = Vec::with_capacity(file.size() as usize);
    // `take` bounds the read even if the header lies about the size.
    file.take(MAX_ENTRY + 1)
        .read_to_end(&mut out)
        .map_err(|e| CardError::Zip {
            message: format!("`{name}`: {e}"),
        })?;
    Ok(out)
}

/// Reads a CharX. A zip without `card.json` is [`CardError::NoCardJson`]; an asset the card
/// names but the zip lacks is [`CardError::MissingAsset`].
pub fn read_charx(bytes: &[u8]) -> Result<CharX, CardError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(zip_error)?;
    let has_card = archive
        .file_names()
        .any(|n| n.as_deref().is_ok_and(|n| n == "card.json"));
    if !has_card {
        return Err(CardError::NoCardJson);
    }
    let card = Card::from_json(&read_entry(&mut archive, "card.json")?)?;
    let mut files = Vec::new();
    if let Card::V3(c) = &card {
        for asset in c.data.assets.as_deref().unwrap_or_default() {
            if let Some(path) = asset.uri.strip_prefix(EMBEDDED_SCHEME) {
                if files.iter().any(|(p, _)| p == path) {
                    continue;
                }
                let bytes = match read_entry(&mut archive, path) {
                    Err(CardError::Zip { .. }) => {
                        return Err(CardError::MissingAsset {
                            uri: asset.uri.clone(),
                        });
                    }
                    other => other?,
                };
                files.push((path.to_owned(), bytes));
            }
        }
    }
    Ok(CharX { card, files })
}

/// The extension of an image, from its first bytes.
fn image_ext(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"\x89PNG") {
        "png"
    } else if bytes.starts_with(b"\xff\xd8\xff") {
        "jpeg"
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "webp"
    } else if bytes.starts_with(b"GIF8") {
        "gif"
    } else {
        "bin"
    }
}

/// Writes a CharX of `card` with `icon` (image bytes) as the main icon at
/// `assets/icon/image/main.<ext>`. The card's `assets` are set to name it; other assets that
/// point outside the zip are kept.
pub fn write_charx(card: &CardV3, icon: Option<&[u8]>) -> Result<Vec<u8>, CardError> {
    let mut card = card.clone();
    let mut files: Vec<(String, &[u8])> = Vec::new();
    let mut assets: Vec<CardAsset> = card
        .data
        .assets
        .take()
        .unwrap_or_default()
        .into_iter()
        .filter(|a| {
            let main_icon = a.kind == "icon" && a.name == "main";
            let local = a.uri.starts_with(EMBEDDED_SCHEME) || a.uri == "ccdefault:";
            // Replaced by the icon written below, or pointing at files this zip will not hold.
            !(main_icon || local)
        })
        .collect();
    if let Some(icon) = icon {
        let ext = image_ext(icon);
        let path = format!("assets/icon/image/main.{ext}");
        assets.insert(
            0,
            CardAsset {
                kind: "icon".into(),
                uri: format!("{EMBEDDED_SCHEME}{path}"),
                name: "main".into(),
                ext: ext.into(),
                extra: Default::default(),
            },
        );
        files.push((path, icon));
    }
    card.data.assets = Some(assets);
    let json = serde_json::to_vec_pretty(&card).map_err(|e| CardError::Json {
        message: e.to_string(),
    })?;
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    // Images are compressed already: store them.
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let io = |e: std::io::Error| CardError::Zip {
        message: e.to_string(),
    };
    zip.start_file("card.json", deflated).map_err(zip_error)?;
    zip.write_all(&json).map_err(io)?;
    for (path, bytes) in files {
        zip.start_file(path, stored).map_err(zip_error)?;
        zip.write_all(bytes).map_err(io)?;
    }
    Ok(zip.finish().map_err(zip_error)?.into_inner())
}
