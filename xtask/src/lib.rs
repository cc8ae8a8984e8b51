//! Shared pieces of the xtask binary that its tests also use.

pub mod generate;
pub mod import;
pub mod tuning;

use serde_json::Value;
use std::path::{Path, PathBuf};

/// The workspace root (xtask's parent directory).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// Where the rendered reference sits by default: `../shared/reference/` beside the repo.
pub fn default_reference() -> PathBuf {
    root().join("../shared/reference/rostro-api-reference.md")
}

/// Pretty-prints a JSON document the way every committed JSON file is written:
/// two-space indent, keys in document order, a final newline.
pub fn to_pretty_json(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("JSON values always serialize");
    s.push('\n');
    s
}

/// Every operation of an OpenAPI document: (path, method, operation object), in order.
pub fn operations(doc: &Value) -> impl Iterator<Item = (&str, &str, &Value)> {
    doc["paths"].as_object().into_iter().flat_map(|paths| {
        paths.iter().flat_map(|(path, methods)| {
            methods.as_object().into_iter().flat_map(move |m| {
                m.iter()
                    .map(move |(method, op)| (path.as_str(), method.as_str(), op))
            })
        })
    })
}

/// Formats Rust source with the toolchain's rustfmt (edition 2024), so generated code passes
/// `cargo fmt --check` like the rest of the tree.
pub fn rustfmt(code: &str) -> anyhow::Result<String> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| anyhow::anyhow!("running rustfmt: {e}"))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = code.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output()?;
    writer
        .join()
        .expect("writer thread")
        .map_err(|e| anyhow::anyhow!("writing to rustfmt: {e}"))?;
    anyhow::ensure!(
        out.status.success(),
        "rustfmt failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}
