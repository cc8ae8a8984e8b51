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
