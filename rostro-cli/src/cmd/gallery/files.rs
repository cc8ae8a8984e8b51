//! Which files an upload sends: the files named, and the images in the directories named.
//! Everything a directory holds that is not sent is reported with the reason.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::exit::{CliError, CliResult};

/// The extensions taken from directories (files named on the command line are sent
/// whatever they are called: the server decides).
pub(super) const MEDIA_EXTS: &[&str] = &["png", "jpg", "jpeg", "webp", "gif", "avif", "bmp"];

/// The files to upload, and what the directories held that is left out.
#[derive(Debug, Default)]
pub(super) struct Found {
    /// In order: the arguments' order, each directory's files sorted.
    pub files: Vec<PathBuf>,
    /// Left out, with why.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Expands files and directories (images only, recursively, sorted). A path that does not
/// exist is a usage error; an unreadable directory inside one is skipped and reported.
pub(super) fn expand(paths: &[PathBuf]) -> CliResult<Found> {
    let mut found = Found::default();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut found).map_err(|e| CliError::io(p.display(), e))?;
        } else if p.is_file() {
            found.files.push(p.clone());
        } else {
            return Err(CliError::usage(format!(
                "{}: no such file or directory",
                p.display()
            )));
        }
    }
    let mut seen = HashSet::new();
    found.files.retain(|p| seen.insert(p.clone()));
    Ok(found)
}

fn walk(dir: &Path, found: &mut Found) -> std::io::Result<()> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        match entry {
            Ok(e) => entries.push(e.path()),
            Err(e) => found
                .skipped
                .push((dir.to_path_buf(), format!("an entry cannot be read: {e}"))),
        }
    }
    entries.sort();
    for p in entries {
        let hidden = p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if p.is_dir() {
            if hidden {
                found.skipped.push((p, "hidden directory".into()));
            } else if let Err(e) = walk(&p, found) {
                found
                    .skipped
                    .push((p, format!("directory cannot be read: {e}")));
            }
        } else if hidden {
            found.skipped.push((p, "hidden file".into()));
        } else if is_image_name(&p) {
            found.files.push(p);
        } else {
            found.skipped.push((
                p,
                format!("not an image (by its extension: {})", MEDIA_EXTS.join(", ")),
            ));
        }
    }
    Ok(())
}

fn is_image_name(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| MEDIA_EXTS.contains(&e.to_ascii_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_directories_to_images_and_says_what_it_left_out() {
        let dir = std::env::temp_dir().join(format!("rostro-expand-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::create_dir_all(dir.join(".git")).unwrap();
        for f in ["b.png", "a.JPG", "notes.txt", ".hidden.png", "sub/c.webp"] {
            std::fs::write(dir.join(f), b"x").unwrap();
        }
        let got = expand(std::slice::from_ref(&dir)).unwrap();
        let rel = |p: &Path| p.strip_prefix(&dir).unwrap().display().to_string();
        let names: Vec<String> = got.files.iter().map(|p| rel(p)).collect();
        assert_eq!(names, vec!["a.JPG", "b.png", "sub/c.webp"]);
        let skipped: Vec<(String, &str)> = got
            .skipped
            .iter()
            .map(|(p, why)| (rel(p), why.as_str()))
            .collect();
        assert_eq!(skipped.len(), 3, "{skipped:?}");
        assert!(skipped.contains(&(".git".into(), "hidden directory")));
        assert!(skipped.contains(&(".hidden.png".into(), "hidden file")));
        assert!(
            skipped
                .iter()
                .any(|(p, why)| p == "notes.txt" && why.starts_with("not an image"))
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}
