//! Runs every example binary against its in-process mock and checks it exits with 0.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Every binary in `src/bin/`.
const EXAMPLES: &[(&str, &str)] = &[
    ("imagine", env!("CARGO_BIN_EXE_imagine")),
    ("gallery_upload", env!("CARGO_BIN_EXE_gallery_upload")),
    ("chunked_upload", env!("CARGO_BIN_EXE_chunked_upload")),
    ("search_pages", env!("CARGO_BIN_EXE_search_pages")),
    ("streaming_chat", env!("CARGO_BIN_EXE_streaming_chat")),
    ("chat_with_tools", env!("CARGO_BIN_EXE_chat_with_tools")),
    ("error_handling", env!("CARGO_BIN_EXE_error_handling")),
];

const TIMEOUT: Duration = Duration::from_secs(120);

fn run(name: &str, exe: &str) -> Result<(), String> {
    let mut child = Command::new(exe)
        .env_remove("ROSTRO_BASE_URL")
        .env_remove("ROSTRO_API_KEY")
        .env_remove("ROSTRO_MIMIC_BASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{name}: could not start {exe}: {e}"))?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{name}: still running after {TIMEOUT:?}"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(format!("{name}: {e}")),
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{name}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{name}: {}\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[test]
fn every_example_runs_against_the_mock() {
    // Two at a time: the examples are independent (each starts its own mock).
    let failures: Vec<String> = EXAMPLES
        .chunks(2)
        .flat_map(|pair| {
            let handles: Vec<_> = pair
                .iter()
                .map(|(name, exe)| std::thread::spawn(move || run(name, exe)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("runner thread"))
                .collect::<Vec<_>>()
        })
        .filter_map(Result::err)
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_list_covers_every_binary() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bin");
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".rs").map(str::to_owned)
        })
        .collect();
    found.sort();
    let mut listed: Vec<String> = EXAMPLES.iter().map(|(n, _)| (*n).to_owned()).collect();
    listed.sort();
    assert_eq!(found, listed, "add new examples to EXAMPLES");
}
