//! A persistent sandbox: the mock's mutable state kept in a directory, so
//! separate processes (`rostro --mock ...` invocations, a `rostro-mock
//! --state-dir` server, a user's test suite) see one evolving API.
//!
//! Layout of the directory: `state.json` (the state) and `state.lock` (an
//! advisory lock file). Every request is served as one transaction: take the
//! in-process gate, take the exclusive file lock, load `state.json`, serve,
//! write `state.json` back atomically (temp file + rename) if it changed,
//! release. Two processes therefore never interleave mutations and never see
//! a half-written file.
//!
//! What is kept: generations, uploads (bytes only when retained), lore items,
//! personas, created characters and lorebooks (and edited copies of seeded
//! ones), chats and their messages, the id sequence (so uuids stay unique across processes) and a
//! Routstr node's keys, balances, spent proofs, invoices and refunds. What is
//! not: recorded requests, attempt counters, injected faults and chunked
//! uploads still in progress (they belong to one process).

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde_json::{Value, json};

use crate::media::MediaKind;
use crate::records::{GenerationRecord, PartRecord, UploadKind, UploadRecord};
use crate::state::{Shared, lock};

/// Name of the state file inside a sandbox directory.
pub const STATE_FILE: &str = "state.json";
const LOCK_FILE: &str = "state.lock";
/// Bumped when the layout of `state.json` changes incompatibly.
const FORMAT: u64 = 1;

/// The state directory of a running mock.
pub(crate) struct Sandbox {
    dir: PathBuf,
    /// Serializes this process's own requests before the file lock (the file
    /// lock alone would block a runtime worker thread on a sibling task).
    gate: tokio::sync::Mutex<()>,
}

/// Why a sandbox directory could not be used.
#[derive(Debug)]
pub struct SandboxError(String);

impl std::fmt::Display for SandboxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SandboxError {}

fn err(what: &str, path: &Path, e: impl std::fmt::Display) -> SandboxError {
    SandboxError(format!("{what} {}: {e}", path.display()))
}

/// Takes the directory's exclusive lock (blocking); released when the file drops.
fn lock_dir(dir: &Path) -> Result<File, SandboxError> {
    fs::create_dir_all(dir).map_err(|e| err("cannot create the sandbox directory", dir, e))?;
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| err("cannot open", &path, e))?;
    // fs4 rather than std's `File::lock` (Rust 1.89; our rust-version is
    // 1.88); called by path so the std method of newer toolchains never wins.
    fs4::FileExt::lock(&file).map_err(|e| err("cannot lock", &path, e))?;
    Ok(file)
}

/// Forgets everything stored in a sandbox directory (under its lock, so a
/// running mock never sees half a reset). Other files in it are kept.
pub fn reset(dir: &Path) -> Result<(), SandboxError> {
    let _lock = lock_dir(dir)?;
    let path = dir.join(STATE_FILE);
    match fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(err("cannot remove", &path, e)),
    }
}

impl Sandbox {
    /// Opens (creating) a sandbox directory and checks its state file reads.
    pub(crate) fn open(dir: PathBuf) -> Result<Sandbox, SandboxError> {
        let _lock = lock_dir(&dir)?;
        read_state(&dir)?;
        Ok(Sandbox {
            dir,
            gate: tokio::sync::Mutex::new(()),
        })
    }

    /// Serves one request as a transaction on the directory's state.
    pub(crate) async fn transaction<F, T>(&self, shared: &Shared, serve: F) -> T
    where
        F: std::future::Future<Output = T>,
    {
        let _gate = self.gate.lock().await;
        let dir = self.dir.clone();
        let file_lock = tokio::task::spawn_blocking(move || lock_dir(&dir))
            .await
            .unwrap_or_else(|e| Err(SandboxError(e.to_string())));
        let before = match &file_lock {
            Ok(_) => match read_state(&self.dir) {
                Ok(state) => {
                    let text = state.as_ref().map(Value::to_string);
                    import(shared, state.unwrap_or(Value::Null));
                    text
                }
                Err(e) => {
                    tracing::warn!("rostro-mock sandbox: {e}; serving from memory");
                    None
                }
            },
            Err(e) => {
                tracing::warn!("rostro-mock sandbox: {e}; serving from memory");
                None
            }
        };
        let out = serve.await;
        if file_lock.is_ok() {
            let after = export(shared).to_string();
            if before.as_deref() != Some(after.as_str())
                && let Err(e) = write_state(&self.dir, &after)
            {
                tracing::warn!("rostro-mock sandbox: {e}");
            }
        }
        out
    }
}

impl Sandbox {
    /// The same transaction for a library call made outside any request
    /// (blocking on the file lock; no in-process gate, calls are short).
    pub(crate) fn transaction_sync<T>(&self, shared: &Shared, f: impl FnOnce() -> T) -> T {
        let file_lock = match lock_dir(&self.dir) {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!("rostro-mock sandbox: {e}; serving from memory");
                return f();
            }
        };
        let before = match read_state(&self.dir) {
            Ok(state) => {
                let text = state.as_ref().map(Value::to_string);
                import(shared, state.unwrap_or(Value::Null));
                text
            }
            Err(e) => {
                tracing::warn!("rostro-mock sandbox: {e}; serving from memory");
                return f();
            }
        };
        let out = f();
        let after = export(shared).to_string();
        if before.as_deref() != Some(after.as_str())
            && let Err(e) = write_state(&self.dir, &after)
        {
            tracing::warn!("rostro-mock sandbox: {e}");
        }
        drop(file_lock);
        out
    }
}

impl Shared {
    /// Runs a library call on the current state: inside a sandbox
    /// transaction when the mock has a state directory, directly otherwise.
    pub(crate) fn txn<T>(&self, f: impl FnOnce() -> T) -> T {
        match &self.sandbox {
            Some(s) => s.transaction_sync(self, f),
            None => f(),
        }
    }
}

fn read_state(dir: &Path) -> Result<Option<Value>, SandboxError> {
    let path = dir.join(STATE_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(err("cannot read", &path, e)),
    };
    let v: Value = serde_json::from_str(&text).map_err(|e| {
        err(
            "is not a sandbox state file (run `rostro mock reset`):",
            &path,
            e,
        )
    })?;
    match v.get("format").and_then(Value::as_u64) {
        Some(FORMAT) => Ok(Some(v)),
        other => Err(err(
            &format!("has state format {other:?}, expected {FORMAT} (run `rostro mock reset`):"),
            &path,
            "unsupported",
        )),
    }
}

fn write_state(dir: &Path, text: &str) -> Result<(), SandboxError> {
    let path = dir.join(STATE_FILE);
    let tmp = dir.join(format!("{STATE_FILE}.{}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, &path)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        err("cannot write", &path, e)
    })
}

// ---------------------------------------------------------------------------
// State <-> JSON. Media URLs are stored relative to the base URL, which
// changes with every process (a new port).

fn kind_name(k: MediaKind) -> &'static str {
    k.extension()
}

fn kind_from(s: &str) -> MediaKind {
    [
        MediaKind::Image,
        MediaKind::Audio,
        MediaKind::Video,
        MediaKind::Model3d,
    ]
    .into_iter()
    .find(|k| k.extension() == s)
    .unwrap_or(MediaKind::Image)
}

fn upload_kind_name(k: UploadKind) -> &'static str {
    match k {
        UploadKind::Multipart => "multipart",
        UploadKind::Base64Json => "base64_json",
        UploadKind::Chunked => "chunked",
    }
}

fn upload_kind_from(s: &str) -> UploadKind {
    match s {
        "base64_json" => UploadKind::Base64Json,
        "chunked" => UploadKind::Chunked,
        _ => UploadKind::Multipart,
    }
}

fn generation_to(g: &GenerationRecord) -> Value {
    json!({
        "generation_uuid": g.generation_uuid,
        "media_uuid": g.media_uuid,
        "generation_type": g.generation_type,
        "kind": kind_name(g.kind),
        "prompt": g.prompt,
        "route": g.route,
        "checks": g.checks,
        "checks_needed": g.checks_needed,
        "failure": g.failure,
        "cost": g.cost,
        "size": [g.size.0, g.size.1],
        "seq": g.seq,
        "deleted": g.deleted,
    })
}

fn s(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or_default().into()
}

fn opt_s(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

fn u(v: &Value, k: &str) -> u64 {
    v.get(k).and_then(Value::as_u64).unwrap_or_default()
}

fn b(v: &Value, k: &str) -> bool {
    v.get(k).and_then(Value::as_bool).unwrap_or_default()
}

fn generation_from(v: &Value) -> GenerationRecord {
    let size = |i: usize| {
        v["size"]
            .get(i)
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0)
    };
    GenerationRecord {
        generation_uuid: s(v, "generation_uuid"),
        media_uuid: s(v, "media_uuid"),
        generation_type: s(v, "generation_type"),
        kind: kind_from(&s(v, "kind")),
        prompt: s(v, "prompt"),
        route: s(v, "route"),
        checks: u32::try_from(u(v, "checks")).unwrap_or(u32::MAX),
        checks_needed: u32::try_from(u(v, "checks_needed")).unwrap_or(0),
        failure: opt_s(v, "failure"),
        cost: v.get("cost").and_then(Value::as_f64).unwrap_or_default(),
        size: (size(0), size(1)),
        seq: u(v, "seq"),
        deleted: b(v, "deleted"),
    }
}

fn upload_to(x: &UploadRecord, base: &str) -> Value {
    json!({
        "uuid": x.uuid,
        "route": x.route,
        "kind": upload_kind_name(x.kind),
        "field": x.field,
        "filename": x.filename,
        "content_type": x.content_type,
        "size": x.size,
        "sha256": x.sha256,
        "project_id": x.project_id,
        "fields": x.fields.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
        "parts": x.parts.iter().map(|p| json!([p.part_number, p.size, p.sha256])).collect::<Vec<_>>(),
        "bytes": x.bytes.as_ref().map(|b| STANDARD.encode(b)),
        "url": x.url.strip_prefix(base).map_or_else(|| x.url.clone(), |rest| format!("{{base}}{rest}")),
        "in_gallery": x.in_gallery,
        "nsfw": x.nsfw,
        "seq": x.seq,
        "deleted": x.deleted,
    })
}

fn upload_from(v: &Value, base: &str) -> UploadRecord {
    let pairs = |k: &str| -> Vec<Value> {
        v.get(k)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    UploadRecord {
        uuid: s(v, "uuid"),
        route: s(v, "route"),
        kind: upload_kind_from(&s(v, "kind")),
        field: opt_s(v, "field"),
        filename: opt_s(v, "filename"),
        content_type: opt_s(v, "content_type"),
        size: u(v, "size"),
        sha256: s(v, "sha256"),
        project_id: v.get("project_id").and_then(Value::as_i64),
        fields: pairs("fields")
            .iter()
            .map(|p| {
                let text = |i: usize| {
                    p.get(i)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string()
                };
                (text(0), text(1))
            })
            .collect(),
        parts: pairs("parts")
            .iter()
            .map(|p| PartRecord {
                part_number: p
                    .get(0)
                    .and_then(Value::as_u64)
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(0),
                size: p.get(1).and_then(Value::as_u64).unwrap_or(0),
                sha256: p.get(2).and_then(Value::as_str).unwrap_or_default().into(),
            })
            .collect(),
        bytes: v
            .get("bytes")
            .and_then(Value::as_str)
            .and_then(|t| STANDARD.decode(t).ok())
            .map(Bytes::from),
        url: s(v, "url").replace("{base}", base),
        in_gallery: b(v, "in_gallery"),
        nsfw: b(v, "nsfw"),
        seq: u(v, "seq"),
        deleted: b(v, "deleted"),
    }
}

/// The persistent part of a mock's state as JSON.
pub(crate) fn export(shared: &Shared) -> Value {
    let base = &shared.base_url;
    json!({
        "format": FORMAT,
        "seq": shared.seq.load(Ordering::Relaxed),
        "generations": lock(&shared.generations).iter().map(generation_to).collect::<Vec<_>>(),
        "uploads": lock(&shared.uploads).iter().map(|x| upload_to(x, base)).collect::<Vec<_>>(),
        "collections": Value::Object(lock(&shared.collections).clone()),
        "routstr": shared.routstr.as_ref().map(crate::routstr::Node::export_state),
    })
}

/// Replaces the persistent part of a mock's state (`Null`: a fresh sandbox).
pub(crate) fn import(shared: &Shared, v: Value) {
    let base = &shared.base_url;
    shared.seq.store(u(&v, "seq"), Ordering::Relaxed);
    let list = |k: &str| {
        v.get(k)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    *lock(&shared.generations) = list("generations").iter().map(generation_from).collect();
    *lock(&shared.uploads) = list("uploads")
        .iter()
        .map(|x| upload_from(x, base))
        .collect();
    *lock(&shared.collections) = v
        .get("collections")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(node) = &shared.routstr {
        node.import_state(v.get("routstr").unwrap_or(&Value::Null));
    }
}
