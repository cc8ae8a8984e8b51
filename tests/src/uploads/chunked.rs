//! Chunked uploads: start, signed part URLs, part `PUT`s (in order or spooled) and
//! completion.

use super::*;

pub(super) enum Spool {
    Mem(Vec<u8>),
    File(tempfile::NamedTempFile),
}

impl Spool {
    pub(super) fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        if let Spool::Mem(buf) = self {
            if buf.len() + data.len() <= SPOOL_MEMORY_LIMIT {
                buf.extend_from_slice(data);
                return Ok(());
            }
            let mut file = tempfile::NamedTempFile::new()?;
            file.write_all(buf)?;
            *self = Spool::File(file);
        }
        match self {
            Spool::File(f) => f.write_all(data),
            Spool::Mem(_) => Ok(()),
        }
    }

    pub(super) fn feed_into(self, hasher: &mut Sha256) -> std::io::Result<()> {
        match self {
            Spool::Mem(buf) => {
                hasher.update(&buf);
                Ok(())
            }
            Spool::File(mut f) => {
                f.flush()?;
                let mut file = f.reopen()?;
                let mut chunk = vec![0u8; 1024 * 1024];
                loop {
                    let n = file.read(&mut chunk)?;
                    if n == 0 {
                        return Ok(());
                    }
                    hasher.update(&chunk[..n]);
                }
            }
        }
    }
}

pub(super) struct Assembly {
    pub(super) next: u32,
    pub(super) hasher: Option<Sha256>,
    pub(super) total: u64,
    pub(super) pending: BTreeMap<u32, (Spool, u64)>,
    pub(super) parts: BTreeMap<u32, PartRecord>,
    pub(super) in_flight: u32,
    pub(super) conflict: Option<String>,
    pub(super) completed: Option<Value>,
}

/// A chunked upload started with `start-upload`.
pub(crate) struct ChunkedUpload {
    pub(super) id: String,
    pub(super) filename: Option<String>,
    pub(super) content_type: Option<String>,
    pub(super) project_id: Option<i64>,
    pub(super) part_size: u64,
    pub(super) declared_parts: Option<u32>,
    pub(super) state: Mutex<Assembly>,
}

pub(super) fn body_str(body: &Value, keys: &[&str]) -> Option<String> {
    keys.iter()
        .find_map(|k| body.get(*k).and_then(Value::as_str))
        .map(str::to_string)
}

pub(super) fn body_u64(body: &Value, keys: &[&str]) -> Option<u64> {
    keys.iter().find_map(|k| match body.get(*k) {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// A 422 on the upload's parts: the chunked-upload operations declare only
/// 200 and 422, so their failures use FastAPI's shape.
pub(super) fn parts_error(msg: &str) -> Reply {
    Reply::validation(&["body", "parts"], msg, "value_error")
}

pub(super) fn find_upload(shared: &Shared, body: &Value) -> Result<Arc<ChunkedUpload>, Reply> {
    // The document does not define `upload_id`: without one, the only upload
    // in progress is meant; with none or several, there is nothing to go on.
    let only = || {
        let chunked = lock(&shared.chunked);
        (chunked.len() == 1)
            .then(|| chunked.values().next().map(|u| u.id.clone()))
            .flatten()
    };
    let Some(id) = body_str(body, &["upload_id", "uploadId", "id"]).or_else(only) else {
        return Err(Reply::validation(
            &["body", "upload_id"],
            "Field required",
            "missing",
        ));
    };
    lock(&shared.chunked).get(&id).cloned().ok_or_else(|| {
        Reply::validation(
            &["body", "upload_id"],
            &format!("No upload with id {id}."),
            "value_error",
        )
    })
}

/// `POST /engine/api/upload/start-upload`.
pub(crate) fn start(shared: &Shared, body: &Value) -> Reply {
    let id = shared.new_uuid();
    let filename = body_str(body, &["filename", "file_name", "fileName", "name"]);
    let size = body_u64(body, &["size", "file_size", "fileSize", "total_size"]);
    let part_size = body_u64(body, &["part_size", "partSize", "chunk_size"])
        .filter(|p| *p > 0)
        .unwrap_or(DEFAULT_PART_SIZE);
    let declared_parts = body_u64(body, &["parts", "part_count", "num_parts"])
        .map(|p| p as u32)
        .or_else(|| size.map(|s| s.div_ceil(part_size).max(1) as u32));
    let upload = ChunkedUpload {
        id: id.clone(),
        filename: filename.clone(),
        content_type: body_str(body, &["content_type", "contentType", "mime_type", "type"]),
        project_id: parse_project_id(body.get("project_id")),
        part_size,
        declared_parts,
        state: Mutex::new(Assembly {
            next: 1,
            hasher: Some(Sha256::new()),
            total: 0,
            pending: BTreeMap::new(),
            parts: BTreeMap::new(),
            in_flight: 0,
            conflict: None,
            completed: None,
        }),
    };
    lock(&shared.chunked).insert(id.clone(), Arc::new(upload));
    let name = filename.unwrap_or_else(|| "upload.bin".into());
    Reply::ok(json!({
        "upload_id": id,
        "key": format!("uploads/{id}/{name}"),
        "part_size": part_size,
        "parts": declared_parts,
    }))
}

pub(super) fn part_url(shared: &Shared, id: &str, n: u32) -> String {
    format!(
        "{}{}/{id}/{n}?X-Mock-Signature=sig{n}",
        shared.base_url,
        crate::router::PART_PREFIX
    )
}

/// `POST /engine/api/upload/signed-urls`.
pub(crate) fn signed_urls(shared: &Shared, body: &Value) -> Reply {
    let upload = match find_upload(shared, body) {
        Ok(u) => u,
        Err(e) => return e,
    };
    let numbers: Vec<u32> = match body.get("part_numbers").and_then(Value::as_array) {
        Some(list) => list
            .iter()
            .filter_map(Value::as_u64)
            .map(|n| n as u32)
            .filter(|n| *n >= 1)
            .collect(),
        None => {
            let count = body_u64(body, &["parts", "part_count", "num_parts", "count"])
                .map(|p| p as u32)
                .or(upload.declared_parts)
                .unwrap_or(1);
            if count == 0 || count > 10_000 {
                return parts_error("parts must be between 1 and 10000.");
            }
            (1..=count).collect()
        }
    };
    let urls: Vec<Value> = numbers
        .iter()
        .map(|n| json!({"part_number": n, "url": part_url(shared, &upload.id, *n)}))
        .collect();
    Reply::ok(json!({"upload_id": upload.id, "part_size": upload.part_size, "urls": urls}))
}

impl ChunkedUpload {
    /// Folds spooled parts into the running hash while they are next in line.
    pub(super) fn drain(&self) -> std::io::Result<()> {
        loop {
            let (mut hasher, spool, size) = {
                let mut st = lock(&self.state);
                let next = st.next;
                if st.hasher.is_none() || !st.pending.contains_key(&next) {
                    return Ok(());
                }
                let (spool, size) = st.pending.remove(&next).expect("checked");
                (st.hasher.take().expect("checked"), spool, size)
            };
            let res = spool.feed_into(&mut hasher);
            let mut st = lock(&self.state);
            st.hasher = Some(hasher);
            st.next += 1;
            st.total += size;
            res?;
        }
    }
}

/// Releases a part upload that ended without reaching its bookkeeping (the client went away).
pub(super) struct InFlight<'a> {
    pub(super) upload: &'a ChunkedUpload,
    pub(super) snapshot: Option<Sha256>,
    pub(super) armed: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if self.armed {
            let mut st = lock(&self.upload.state);
            st.in_flight -= 1;
            if let Some(h) = self.snapshot.take() {
                st.hasher = Some(h);
            }
        }
    }
}

/// `PUT /_mock/upload/{upload_id}/{part_number}`: one part, streamed.
pub(crate) async fn put_part(
    shared: &Shared,
    path_params: &[(String, String)],
    body: Incoming,
) -> Streamed {
    let param = |k: &str| {
        path_params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let upload = match lock(&shared.chunked).get(&param("upload_id")).cloned() {
        Some(u) => u,
        None => {
            return Streamed {
                reply: Reply::user_error(404, "No such upload."),
                received: 0,
            };
        }
    };
    let Some(k) = param("part_number").parse::<u32>().ok().filter(|k| *k >= 1) else {
        return Streamed {
            reply: Reply::user_error(400, "Part numbers start at 1."),
            received: 0,
        };
    };
    let mut mode = match claim_part(&upload, k) {
        Ok(m) => m,
        Err(refused) => return refused,
    };
    // A client that drops the connection mid-part drops this future: the guard still
    // releases the in-flight count and puts the whole-file hasher back.
    let mut guard = InFlight {
        upload: &upload,
        snapshot: match &mode {
            PartMode::Direct(_, snapshot) => Some(snapshot.clone()),
            _ => None,
        },
        armed: true,
    };
    let (sha, size, error) = receive(body, &mut mode).await;
    let record = PartRecord {
        part_number: k,
        size,
        sha256: sha.clone(),
    };
    guard.armed = false;
    settle(&upload, k, mode, record, error.is_some());
    if let Some(e) = error {
        return Streamed {
            reply: Reply::user_error(400, &format!("Part upload failed: {e}")),
            received: size,
        };
    }
    if let Err(e) = upload.drain() {
        return Streamed {
            reply: Reply::api_error(500, &format!("Spool read failed: {e}")),
            received: size,
        };
    }
    Streamed {
        reply: Reply::bytes(200, "application/octet-stream", Bytes::new())
            .header("etag", format!("\"{sha}\"")),
        received: size,
    }
}

/// `POST /engine/api/upload/complete-upload`.
pub(crate) fn complete(shared: &Shared, route_key: &str, body: &Value) -> Reply {
    let upload = match find_upload(shared, body) {
        Ok(u) => u,
        Err(e) => return e,
    };
    if let Err(e) = upload.drain() {
        return Reply::api_error(500, &format!("Spool read failed: {e}"));
    }
    let mut st = lock(&upload.state);
    if let Some(done) = &st.completed {
        return Reply::ok(done.clone());
    }
    if let Err(e) = check_parts(&upload, &st, body) {
        return e;
    }
    let sha = hex::encode(st.hasher.clone().expect("not in flight").finalize());
    let sink = SinkResult {
        size: st.total,
        sha256: sha,
        bytes: None,
        head: Vec::new(),
    };
    let parts: Vec<PartRecord> = st.parts.values().cloned().collect();
    let record = register(
        shared,
        Draft {
            route: route_key.to_string(),
            kind: UploadKind::Chunked,
            field: None,
            filename: upload.filename.clone(),
            content_type: upload.content_type.clone(),
            project_id: upload.project_id,
            fields: Vec::new(),
            in_gallery: false,
            nsfw: false,
            external_url: None,
        },
        sink,
        parts,
    );
    let out = json!({
        "success": true,
        "upload_id": upload.id,
        "uuid": record.uuid,
        "key": format!("uploads/{}/{}", upload.id, upload.filename.as_deref().unwrap_or("upload.bin")),
        "url": record.url,
        "size": record.size,
        "sha256": record.sha256,
        "parts": record.parts.len(),
    });
    st.completed = Some(out.clone());
    Reply::ok(out)
}

/// Refuses to complete an upload whose parts are not all in, in order, and as the client
/// lists them (part numbers and ETags).
fn check_parts(upload: &ChunkedUpload, st: &Assembly, body: &Value) -> Result<(), Reply> {
    if let Some(c) = &st.conflict {
        return Err(parts_error(c));
    }
    if st.in_flight > 0 {
        return Err(parts_error("Parts are still being uploaded."));
    }
    let received = st.parts.len() as u32;
    if received == 0 {
        return Err(parts_error("No parts were uploaded."));
    }
    if !st.pending.is_empty() || st.next != received + 1 {
        let missing: Vec<u32> = (1..st.next + st.pending.len() as u32 + 1)
            .filter(|n| !st.parts.contains_key(n))
            .collect();
        return Err(parts_error(&format!("Missing parts: {missing:?}.")));
    }
    if let Some(expected) = upload
        .declared_parts
        .filter(|_| body.get("parts").is_none())
        && expected != received
    {
        return Err(parts_error(&format!(
            "Expected {expected} parts, received {received}."
        )));
    }
    if let Some(list) = body.get("parts").and_then(Value::as_array) {
        for p in list {
            let n = body_u64(p, &["part_number", "PartNumber", "partNumber"]);
            let etag = body_str(p, &["etag", "ETag", "eTag"]);
            let (Some(n), Some(etag)) = (n, etag) else {
                continue;
            };
            match st.parts.get(&(n as u32)) {
                Some(rec) if rec.sha256 == etag.trim_matches('"') => {}
                Some(_) => return Err(parts_error(&format!("ETag mismatch for part {n}."))),
                None => return Err(parts_error(&format!("Part {n} was never uploaded."))),
            }
        }
    }
    Ok(())
}

/// How a part's bytes are taken in.
enum PartMode {
    /// The next part in order: straight into the whole-file hash (and a snapshot of it to
    /// restore if the part fails).
    Direct(Sha256, Sha256),
    /// A part ahead of a gap: spooled until the gap closes.
    Spool(Spool),
    /// A part already stored (with this hash): only compared.
    Duplicate(String),
}

/// Decides how part `k` is taken in and counts it in flight; an upload already completed
/// refuses it.
fn claim_part(upload: &ChunkedUpload, k: u32) -> Result<PartMode, Streamed> {
    let mut st = lock(&upload.state);
    if st.completed.is_some() {
        return Err(Streamed {
            reply: Reply::user_error(409, "Upload already completed."),
            received: 0,
        });
    }
    st.in_flight += 1;
    Ok(if let Some(existing) = st.parts.get(&k) {
        PartMode::Duplicate(existing.sha256.clone())
    } else if st.next == k && st.hasher.is_some() {
        let h = st.hasher.take().expect("checked");
        PartMode::Direct(h.clone(), h)
    } else {
        PartMode::Spool(Spool::Mem(Vec::new()))
    })
}

/// Reads a part's body into `mode`; returns its hash, size and the error that ended it.
async fn receive(mut body: Incoming, mode: &mut PartMode) -> (String, u64, Option<String>) {
    let mut part_hasher = Sha256::new();
    let mut size = 0u64;
    let mut error: Option<String> = None;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                if let Ok(d) = f.into_data() {
                    size += d.len() as u64;
                    part_hasher.update(&d);
                    match mode {
                        PartMode::Direct(h, _) => h.update(&d),
                        PartMode::Spool(s) => {
                            if let Err(e) = s.write(&d) {
                                error = Some(e.to_string());
                                break;
                            }
                        }
                        PartMode::Duplicate(_) => {}
                    }
                }
            }
            Err(e) => {
                error = Some(e.to_string());
                break;
            }
        }
    }
    (hex::encode(part_hasher.finalize()), size, error)
}

/// Records a received part (unless it failed) and ends its flight.
fn settle(upload: &ChunkedUpload, k: u32, mode: PartMode, record: PartRecord, failed: bool) {
    let mut st = lock(&upload.state);
    st.in_flight -= 1;
    match mode {
        PartMode::Direct(h, snapshot) => {
            if failed {
                st.hasher = Some(snapshot);
            } else {
                st.hasher = Some(h);
                st.next += 1;
                st.total += record.size;
                st.parts.insert(k, record);
            }
        }
        PartMode::Spool(spool) => {
            if !failed {
                st.pending.insert(k, (spool, record.size));
                st.parts.insert(k, record);
            }
        }
        PartMode::Duplicate(previous) => {
            if !failed && previous != record.sha256 {
                st.conflict = Some(format!(
                    "Part {k} was uploaded twice with different content."
                ));
            }
        }
    }
}
