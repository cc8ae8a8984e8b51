//! Project automation for rostro: `cargo xtask <command>`.
//!
//! - `import-reference [PATH] [--check]`: parse the rendered API reference into
//!   `openapi/rostro.openapi.json` (default PATH: `../shared/reference/rostro-api-reference.md`).
//! - `generate [--check]`: write `rostro-sdk/src/generated/` from openapi/ and the tuning table.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

use xtask::{import, root};

fn main() {
    if let Err(e) = run() {
        eprintln!("xtask: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let check = args.iter().any(|a| a == "--check");
    let positional: Vec<&String> = args
        .iter()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    match args.first().map(String::as_str) {
        Some("import-reference") => {
            let src = positional
                .first()
                .map(PathBuf::from)
                .unwrap_or_else(xtask::default_reference);
            let md = std::fs::read_to_string(&src)
                .with_context(|| format!("reading {}", src.display()))?;
            let doc = import::import(&md)?;
            let text = xtask::to_pretty_json(&doc);
            write_or_check(&root().join("openapi/rostro.openapi.json"), &text, check)
        }
        Some("generate") => generate(check),
        Some(other) => bail!("unknown command `{other}` (try import-reference or generate)"),
        None => bail!("usage: cargo xtask <import-reference [PATH] | generate> [--check]"),
    }
}

/// Writes `text` to `path`, or with `--check` fails when the file differs.
fn write_or_check(path: &Path, text: &str, check: bool) -> Result<()> {
    if check {
        let current = std::fs::read_to_string(path).unwrap_or_default();
        if current != text {
            bail!(
                "{} is out of date: run the command without --check and commit the result",
                path.display()
            );
        }
        println!("{} is up to date", path.display());
    } else {
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// `cargo xtask generate [--check]`.
fn generate(check: bool) -> Result<()> {
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("openapi/rostro.openapi.json"))
            .context("reading the OpenAPI document")?,
    )?;
    let tuning = xtask::tuning::Tuning::parse(
        &std::fs::read_to_string(root().join("openapi/tuning.toml"))
            .context("reading openapi/tuning.toml")?,
    )?;
    let files = xtask::generate::generate(&doc, &tuning)?;
    let dir = root().join("rostro-sdk/src/generated");
    std::fs::create_dir_all(&dir)?;
    let mut stale = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if !files.contains_key(&name) && !name.starts_with("..") {
            stale.push(name);
        }
    }
    let mut differ = Vec::new();
    let mut lines = 0;
    for (name, code) in &files {
        let code = xtask::rustfmt(code).with_context(|| format!("formatting {name}"))?;
        lines += code.lines().count();
        let path = dir.join(name);
        if check {
            if std::fs::read_to_string(&path).unwrap_or_default() != code {
                differ.push(name.clone());
            }
        } else {
            std::fs::write(&path, code)?;
        }
    }
    if check {
        if !differ.is_empty() || !stale.is_empty() {
            bail!(
                "rostro-sdk/src/generated is out of date (differs: {differ:?}, stale: {stale:?}): run `cargo xtask generate` and commit"
            );
        }
        println!(
            "rostro-sdk/src/generated is up to date ({} files, {lines} lines)",
            files.len()
        );
    } else {
        for name in stale {
            std::fs::remove_file(dir.join(name))?;
        }
        println!(
            "wrote rostro-sdk/src/generated ({} files, {lines} lines)",
            files.len()
        );
    }
    Ok(())
}
