//! Naming downloaded files: names from URLs and content types, made safe and unique.

use std::path::{Path, PathBuf};

/// Whether the target names a directory (an existing one, or a path ending in a separator).
pub(super) fn is_dir_target(target: &Path) -> bool {
    let text = target.as_os_str().to_string_lossy();
    target.is_dir() || text.ends_with('/') || text.ends_with(std::path::MAIN_SEPARATOR)
}

/// The last path segment of a URL, decoded and sanitized; `None` when nothing is left.
pub(super) fn url_file_name(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let last = parsed.path_segments()?.next_back()?.to_owned();
    let decoded = percent_decode(&last);
    let clean = sanitize(&decoded);
    (!clean.is_empty()).then_some(clean)
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_owned())
}

/// Keeps `A-Z a-z 0-9 . _ -`, replaces the rest, never starts with a dot.
pub(super) fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(200)
        .collect();
    while out.starts_with('.') {
        out.remove(0);
    }
    out
}

/// The file extension for a content type we know.
pub(super) fn extension_for(content_type: &str) -> Option<&'static str> {
    let mime = content_type.split(';').next()?.trim().to_ascii_lowercase();
    Some(match mime.as_str() {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/webp" => "webp",
        "image/gif" => "gif",
        "audio/wav" | "audio/x-wav" | "audio/wave" => "wav",
        "audio/mpeg" => "mp3",
        "audio/ogg" => "ogg",
        "video/mp4" => "mp4",
        "video/webm" => "webm",
        "model/gltf-binary" => "glb",
        "model/obj" => "obj",
        "application/json" => "json",
        _ => return None,
    })
}

/// The file name inside a target directory: the URL's, else `<name>-<label>.<ext>`; made
/// unique among the files of this download.
pub(super) fn file_name_for(
    name: &str,
    label: &str,
    url: &reqwest::Url,
    content_type: Option<&str>,
    taken: &[PathBuf],
    dir: &Path,
) -> String {
    let from_url = url_file_name(url.as_str()).filter(|n| n.contains('.'));
    let base = from_url.unwrap_or_else(|| {
        let ext = content_type.and_then(extension_for).unwrap_or("bin");
        format!("{}-{}.{ext}", sanitize(name), sanitize(label))
    });
    if !taken.contains(&dir.join(&base)) {
        return base;
    }
    format!("{}-{base}", sanitize(label))
}
