//! Gallery upload: JSON with base64 image data, decoded and hashed as it streams.

use super::*;

pub(super) const IMAGE_KEYS: &[&str] = &[
    "image",
    "image_data",
    "image_base64",
    "base64",
    "data",
    "file",
];

pub(super) fn b64_engine() -> GeneralPurpose {
    GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(true),
    )
}

pub(super) enum Phase {
    Prefix(Vec<u8>),
    Base64,
    Url(Vec<u8>),
}

pub(super) struct Capture {
    pub(super) key: String,
    pub(super) phase: Phase,
    pub(super) pending: Vec<u8>,
    pub(super) padded: bool,
    pub(super) mime: Option<String>,
    pub(super) sink: FileSink,
    pub(super) engine: GeneralPurpose,
}

impl Capture {
    pub(super) fn new(key: String, limit: u64) -> Capture {
        Capture {
            key,
            phase: Phase::Prefix(Vec::new()),
            pending: Vec::new(),
            padded: false,
            mime: None,
            sink: FileSink::new(limit),
            engine: b64_engine(),
        }
    }

    pub(super) fn feed(&mut self, run: &[u8]) -> Result<(), String> {
        match &mut self.phase {
            Phase::Prefix(buf) => {
                buf.extend_from_slice(run);
                let buf = std::mem::take(buf);
                self.decide(buf, false)
            }
            Phase::Url(buf) => {
                if buf.len() + run.len() > 8192 {
                    return Err("image URL too long".into());
                }
                buf.extend_from_slice(run);
                Ok(())
            }
            Phase::Base64 => self.feed_b64(run),
        }
    }

    pub(super) fn decide(&mut self, buf: Vec<u8>, at_end: bool) -> Result<(), String> {
        let lower: Vec<u8> = buf.iter().take(8).map(u8::to_ascii_lowercase).collect();
        let could_be = |p: &[u8]| lower.len() < p.len() && p.starts_with(&lower);
        if lower.starts_with(b"data:") {
            match buf.iter().position(|&b| b == b',') {
                Some(comma) => {
                    let header = String::from_utf8_lossy(&buf[5..comma]).into_owned();
                    self.mime = header
                        .split(';')
                        .next()
                        .map(|m| m.trim().to_string())
                        .filter(|m| !m.is_empty());
                    self.phase = Phase::Base64;
                    self.feed_b64(&buf[comma + 1..])
                }
                None if at_end || buf.len() > 1024 => Err("malformed data URL".into()),
                None => {
                    self.phase = Phase::Prefix(buf);
                    Ok(())
                }
            }
        } else if lower.starts_with(b"http://") || lower.starts_with(b"https://") {
            self.phase = Phase::Url(buf);
            Ok(())
        } else if !at_end && (could_be(b"data:") || could_be(b"https://")) {
            self.phase = Phase::Prefix(buf);
            Ok(())
        } else {
            self.phase = Phase::Base64;
            self.feed_b64(&buf)
        }
    }

    pub(super) fn feed_b64(&mut self, run: &[u8]) -> Result<(), String> {
        for &b in run {
            let c = match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' => b,
                b'-' => b'+',
                b'_' => b'/',
                b'=' => {
                    self.padded = true;
                    continue;
                }
                b' ' | b'\t' | b'\r' | b'\n' => continue,
                _ => return Err("image is not valid base64".into()),
            };
            if self.padded {
                return Err("image is not valid base64 (data after padding)".into());
            }
            self.pending.push(c);
        }
        if self.pending.len() >= 64 * 1024 {
            let n = self.pending.len() / 4 * 4;
            let decoded = self
                .engine
                .decode(&self.pending[..n])
                .map_err(|e| format!("image is not valid base64: {e}"))?;
            self.sink.write(&decoded);
            self.pending.drain(..n);
        }
        Ok(())
    }

    pub(super) fn finish(mut self) -> Result<Captured, String> {
        if let Phase::Prefix(buf) = &mut self.phase {
            let buf = std::mem::take(buf);
            self.decide(buf, true)?;
        }
        let url = match &self.phase {
            Phase::Url(u) => Some(String::from_utf8_lossy(u).into_owned()),
            _ => None,
        };
        if url.is_none() && !self.pending.is_empty() {
            if self.pending.len() % 4 == 1 {
                return Err("image is not valid base64 (truncated)".into());
            }
            let decoded = self
                .engine
                .decode(&self.pending)
                .map_err(|e| format!("image is not valid base64: {e}"))?;
            self.sink.write(&decoded);
        }
        Ok((self.key, self.mime, url, self.sink.finish()))
    }
}

pub(super) enum ScanState {
    Normal,
    Str { escape: bool, buf: Vec<u8> },
    Img { escape: bool },
}

/// Copies a JSON body into a small "skeleton" while the value of the image key
/// (top level) is decoded and hashed instead of stored.
pub(super) struct JsonImageScanner {
    pub(super) skeleton: Vec<u8>,
    pub(super) depth: i32,
    pub(super) state: ScanState,
    pub(super) key_candidate: Option<Vec<u8>>,
    pub(super) current_key: Option<Vec<u8>>,
    pub(super) expecting_value: bool,
    pub(super) capture: Option<Capture>,
    pub(super) done: Option<Capture>,
    pub(super) limit: u64,
}

impl JsonImageScanner {
    pub(super) fn new(limit: u64) -> Self {
        JsonImageScanner {
            skeleton: Vec::new(),
            depth: 0,
            state: ScanState::Normal,
            key_candidate: None,
            current_key: None,
            expecting_value: false,
            capture: None,
            done: None,
            limit,
        }
    }

    pub(super) fn feed(&mut self, mut data: &[u8]) -> Result<(), String> {
        while !data.is_empty() {
            data = match self.state {
                ScanState::Img { escape } => self.feed_image(data, escape)?,
                ScanState::Str { .. } => {
                    self.string_byte(data[0]);
                    &data[1..]
                }
                ScanState::Normal => {
                    self.normal_byte(data[0]);
                    &data[1..]
                }
            };
            if self.skeleton.len() > SKELETON_LIMIT {
                return Err("JSON body too large outside of the image field".into());
            }
        }
        Ok(())
    }

    /// Inside the image string: its bytes go to the capture, not the skeleton. Returns the
    /// bytes left to scan.
    fn feed_image<'d>(&mut self, data: &'d [u8], escape: bool) -> Result<&'d [u8], String> {
        if escape {
            self.state = ScanState::Img { escape: false };
            let cap = self.capture.as_mut().expect("capturing");
            match data[0] {
                b'/' => cap.feed(b"/")?,
                b'n' | b'r' | b't' => {}
                _ => return Err("unsupported escape in image data".into()),
            }
            return Ok(&data[1..]);
        }
        let stop = data.iter().position(|&b| b == b'"' || b == b'\\');
        let (run, mut rest) = match stop {
            Some(i) => data.split_at(i),
            None => (data, &data[data.len()..]),
        };
        self.capture.as_mut().expect("capturing").feed(run)?;
        if let Some(&b) = rest.first() {
            rest = &rest[1..];
            if b == b'\\' {
                self.state = ScanState::Img { escape: true };
            } else {
                self.skeleton.push(b'"');
                self.done = self.capture.take();
                self.state = ScanState::Normal;
            }
        }
        Ok(rest)
    }

    /// One byte inside an ordinary string (a key is remembered, up to 64 bytes of it).
    fn string_byte(&mut self, b: u8) {
        self.skeleton.push(b);
        let ScanState::Str { escape, buf } = &mut self.state else {
            unreachable!("called in a string")
        };
        if *escape {
            *escape = false;
        } else if b == b'\\' {
            *escape = true;
        } else if b == b'"' {
            let key = std::mem::take(buf);
            if self.depth == 1 && !self.expecting_value {
                self.key_candidate = Some(key);
            }
            self.state = ScanState::Normal;
        } else if buf.len() < 64 {
            buf.push(b);
        }
    }

    /// One byte outside any string: structure, and which top-level key a value belongs to.
    fn normal_byte(&mut self, b: u8) {
        match b {
            b'"' => self.open_string(),
            b'{' | b'[' => {
                self.depth += 1;
                self.skeleton.push(b);
            }
            b'}' | b']' => {
                self.depth -= 1;
                self.skeleton.push(b);
            }
            b':' => {
                if self.depth == 1 {
                    self.current_key = self.key_candidate.take();
                    self.expecting_value = true;
                }
                self.skeleton.push(b);
            }
            b',' => {
                if self.depth == 1 {
                    self.expecting_value = false;
                    self.current_key = None;
                    self.key_candidate = None;
                }
                self.skeleton.push(b);
            }
            _ => self.skeleton.push(b),
        }
    }

    /// A string starts: the image value (captured) or any other string.
    fn open_string(&mut self) {
        let is_image = self.depth == 1
            && self.expecting_value
            && self.done.is_none()
            && self
                .current_key
                .as_deref()
                .is_some_and(|k| IMAGE_KEYS.iter().any(|i| i.as_bytes() == k));
        self.skeleton.push(b'"');
        if is_image {
            let key = String::from_utf8_lossy(self.current_key.as_deref().unwrap_or_default())
                .into_owned();
            self.capture = Some(Capture::new(key, self.limit));
            self.state = ScanState::Img { escape: false };
        } else {
            self.state = ScanState::Str {
                escape: false,
                buf: Vec::new(),
            };
        }
    }

    pub(super) fn finish(self) -> Result<(Value, Option<Capture>), String> {
        if !matches!(self.state, ScanState::Normal) || self.depth != 0 {
            return Err("truncated JSON body".into());
        }
        let v: Value = if self.skeleton.iter().all(u8::is_ascii_whitespace) {
            Value::Object(Map::new())
        } else {
            serde_json::from_slice(&self.skeleton).map_err(|e| format!("JSON decode error: {e}"))?
        };
        Ok((v, self.done))
    }
}

/// `POST /api/gallery/upload`.
pub(crate) async fn gallery_upload(
    shared: &Shared,
    route_key: &str,
    query: &[(String, String)],
    headers: &HeaderMap,
    body: Incoming,
) -> Streamed {
    if boundary_of(headers).is_some() {
        return multipart(
            shared,
            route_key,
            "/api/gallery/upload",
            &[],
            query,
            headers,
            body,
        )
        .await;
    }
    let (received, scanned) = scan(body, shared.config.retain_upload_bytes).await;
    let (obj, capture) = match scanned {
        Ok(x) => x,
        Err(reply) => return Streamed { reply, received },
    };
    let Some(capture) = capture else {
        return Streamed {
            reply: Reply::validation(&["body", "image"], "Field required", "missing"),
            received,
        };
    };
    let (key, mime, url, sink) = match capture.finish() {
        Ok(x) => x,
        Err(e) => {
            return Streamed {
                reply: Reply::validation(&["body", "image"], &e, "value_error"),
                received,
            };
        }
    };
    let project_id = parse_project_id(obj.get("project_id")).or_else(|| {
        query
            .iter()
            .find(|(k, _)| k == "project_id")
            .and_then(|(_, v)| v.parse().ok())
    });
    let fields = text_fields(&obj, &key);
    let nsfw = obj
        .get("nsfw")
        .or_else(|| obj.get("nsfw_image"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let filename = obj
        .get("filename")
        .or_else(|| obj.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let record = register(
        shared,
        Draft {
            route: route_key.to_string(),
            kind: UploadKind::Base64Json,
            field: Some(key),
            filename,
            content_type: mime,
            project_id,
            fields,
            in_gallery: true,
            nsfw,
            external_url: url,
        },
        sink,
        Vec::new(),
    );
    Streamed {
        reply: Reply::ok(gallery_item(&record)),
        received,
    }
}

/// Reads a JSON gallery upload, decoding and hashing its image as it streams: the bytes
/// received, and the object without the image with its capture (or the error reply).
async fn scan(mut body: Incoming, limit: u64) -> (u64, Result<(Value, Option<Capture>), Reply>) {
    let mut scanner = JsonImageScanner::new(limit);
    let mut received = 0u64;
    let mut failure: Option<String> = None;
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => {
                if let Ok(d) = f.into_data() {
                    received += d.len() as u64;
                    if failure.is_none()
                        && let Err(e) = scanner.feed(&d)
                    {
                        failure = Some(e);
                    }
                }
            }
            Err(e) => {
                let reply = Reply::user_error(400, &format!("Body read failed: {e}"));
                return (received, Err(reply));
            }
        }
    }
    let invalid = |msg: &str| Reply::validation(&["body", "image"], msg, "value_error");
    if let Some(e) = failure {
        let reply = if e.contains("JSON") {
            Reply::validation(&["body", "0"], &e, "json_invalid")
        } else {
            invalid(&e)
        };
        return (received, Err(reply));
    }
    let scanned = scanner
        .finish()
        .map_err(|e| Reply::validation(&["body", "0"], &e, "json_invalid"));
    (received, scanned)
}

/// The upload's other fields as text, for the record.
fn text_fields(obj: &Value, key: &str) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    if let Some(map) = obj.as_object() {
        for (k, v) in map {
            if k == key {
                continue;
            }
            let s = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            fields.push((k.clone(), s));
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(chunks: &[&[u8]]) -> Result<(Value, Option<Captured>), String> {
        let mut s = JsonImageScanner::new(1 << 20);
        for c in chunks {
            s.feed(c)?;
        }
        let (v, cap) = s.finish()?;
        Ok((v, cap.map(|c| c.finish()).transpose()?))
    }

    #[test]
    fn scanner_decodes_image_split_anywhere() {
        let data: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&data);
        let body = format!(
            r#"{{"project_id": 7, "caption": "a \"quoted\" image:", "image": "data:image/png;base64,{b64}", "nsfw": false}}"#
        );
        let bytes = body.as_bytes();
        for split in [1, 3, 7, 64, 1000, bytes.len()] {
            let chunks: Vec<&[u8]> = bytes.chunks(split).collect();
            let (v, cap) = scan(&chunks).unwrap();
            assert_eq!(v["project_id"], 7);
            assert_eq!(v["image"], "");
            let (key, mime, url, sink) = cap.unwrap();
            assert_eq!(key, "image");
            assert_eq!(mime.as_deref(), Some("image/png"));
            assert!(url.is_none());
            assert_eq!(sink.size, 5000);
            assert_eq!(sink.sha256, crate::util::sha256_hex(&data));
        }
    }

    #[test]
    fn scanner_handles_plain_base64_urls_and_escapes() {
        let (_, cap) = scan(&[br#"{"image": "aGk\/Pg==", "x": [1, {"image": "no"}]}"#]).unwrap();
        let (_, _, _, sink) = cap.unwrap();
        let expected = base64::engine::general_purpose::STANDARD
            .decode("aGk/Pg==")
            .unwrap();
        assert_eq!(sink.bytes.as_deref(), Some(&expected[..]));
        let (_, cap) = scan(&[br#"{"image": "https://example.com/a.png"}"#]).unwrap();
        assert_eq!(cap.unwrap().2.as_deref(), Some("https://example.com/a.png"));
        let (_, cap) = scan(&[br#"{"caption": "image"}"#]).unwrap();
        assert!(cap.is_none());
        assert!(scan(&[br#"{"image": "@@@"}"#]).is_err());
    }
}
