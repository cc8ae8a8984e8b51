//! Loopback upload sink for the `upload` benchmark, run as a separate process.
//!
//! ```sh
//! cargo run --release -p rostro-bench --bin upload_sink
//! ```
//!
//! Prints its base URL as the first line of stdout, then serves until killed (or until stdin
//! closes, so it never outlives the benchmark that spawned it). Plain HTTP/1.1 over tokio,
//! keep-alive, bodies with `Content-Length` (anything else gets 411).
//!
//! Every request body is read in 256 KiB pieces, hashed and discarded; nothing is kept. The
//! uploaded file is found in the body as it streams: the first file part of a
//! `multipart/form-data` body, the base64 `data:` URL of a JSON body (decoded on the fly), or
//! the whole body otherwise. The answer is JSON:
//! `{"size", "sha256", "body_bytes", "body_sha256", "uuid"}` where `size` and `sha256` are those
//! of the file.

use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const READ_CHUNK: usize = 256 * 1024;
const MAX_HEAD: usize = 64 * 1024;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    println!("http://{}", listener.local_addr()?);
    // Exit when the parent closes our stdin.
    std::thread::spawn(|| {
        use std::io::Read as _;
        let mut buf = [0u8; 64];
        while std::io::stdin().read(&mut buf).is_ok_and(|n| n > 0) {}
        std::process::exit(0);
    });
    loop {
        let (socket, _) = listener.accept().await?;
        tokio::spawn(async move {
            if let Err(e) = serve(socket).await {
                eprintln!("upload_sink: {e}");
            }
        });
    }
}

async fn serve(socket: TcpStream) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut reader = BufReader::with_capacity(READ_CHUNK, read);
    loop {
        // Request line and headers.
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        if line.trim().is_empty() {
            continue;
        }
        let mut content_length: Option<u64> = None;
        let mut content_type = String::new();
        let mut head_len = line.len();
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).await? == 0 {
                return Ok(());
            }
            head_len += header.len();
            if head_len > MAX_HEAD {
                return respond(&mut write, 431, "{\"error\":\"headers too large\"}").await;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let value = value.trim();
                match name.trim().to_ascii_lowercase().as_str() {
                    "content-length" => content_length = value.parse().ok(),
                    "content-type" => content_type = value.to_owned(),
                    _ => {}
                }
            }
        }
        let Some(len) = content_length else {
            return respond(&mut write, 411, "{\"error\":\"content-length required\"}").await;
        };

        let mut extractor = Extractor::for_content_type(&content_type);
        let mut body_hasher = Sha256::new();
        let mut remaining = len;
        let mut buf = vec![0u8; READ_CHUNK];
        while remaining > 0 {
            let want = remaining.min(READ_CHUNK as u64) as usize;
            let n = reader.read(&mut buf[..want]).await?;
            if n == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "body ended early",
                ));
            }
            body_hasher.update(&buf[..n]);
            extractor.feed(&buf[..n]);
            remaining -= n as u64;
        }
        let (size, sha256) = extractor.finish();
        let answer = format!(
            "{{\"size\":{size},\"sha256\":\"{sha256}\",\"body_bytes\":{len},\"body_sha256\":\"{}\",\"uuid\":\"sink\"}}",
            hex::encode(body_hasher.finalize())
        );
        respond(&mut write, 200, &answer).await?;
    }
}

async fn respond(
    write: &mut tokio::net::tcp::OwnedWriteHalf,
    status: u16,
    body: &str,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        411 => "Length Required",
        _ => "Request Header Fields Too Large",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    write.write_all(head.as_bytes()).await?;
    write.write_all(body.as_bytes()).await?;
    write.flush().await
}

/// Finds the uploaded file's bytes in a body streamed through it.
enum Extractor {
    /// The whole body is the file.
    Raw { hasher: Sha256, size: u64 },
    /// The first file part of a multipart body.
    Multipart(Multipart),
    /// The base64 data after `;base64,` in a JSON body, up to the closing quote.
    Base64(Base64Json),
}

impl Extractor {
    fn for_content_type(content_type: &str) -> Extractor {
        let lower = content_type.to_ascii_lowercase();
        if lower.starts_with("multipart/form-data")
            && let Some(b) = content_type
                .split(';')
                .find_map(|p| p.trim().strip_prefix("boundary="))
        {
            return Extractor::Multipart(Multipart::new(b.trim_matches('"')));
        }
        if lower.starts_with("application/json") {
            return Extractor::Base64(Base64Json::default());
        }
        Extractor::Raw {
            hasher: Sha256::new(),
            size: 0,
        }
    }

    fn feed(&mut self, data: &[u8]) {
        match self {
            Extractor::Raw { hasher, size } => {
                hasher.update(data);
                *size += data.len() as u64;
            }
            Extractor::Multipart(m) => m.feed(data),
            Extractor::Base64(b) => b.feed(data),
        }
    }

    fn finish(self) -> (u64, String) {
        match self {
            Extractor::Raw { hasher, size } => (size, hex::encode(hasher.finalize())),
            Extractor::Multipart(m) => (m.size, hex::encode(m.hasher.finalize())),
            Extractor::Base64(b) => b.finish(),
        }
    }
}

#[derive(PartialEq)]
enum PartPhase {
    /// Reading a part's headers (after a delimiter).
    Headers,
    /// Skipping a text part's value.
    Skip,
    /// Inside the file part.
    File,
    /// The file part ended: ignore the rest.
    Done,
}

struct Multipart {
    delimiter: Vec<u8>,
    phase: PartPhase,
    pending: Vec<u8>,
    hasher: Sha256,
    size: u64,
}

impl Multipart {
    fn new(boundary: &str) -> Self {
        Multipart {
            delimiter: format!("\r\n--{boundary}").into_bytes(),
            phase: PartPhase::Headers,
            // The body starts with `--boundary`, as if after a CRLF.
            pending: b"\r\n".to_vec(),
            hasher: Sha256::new(),
            size: 0,
        }
    }

    fn feed(&mut self, data: &[u8]) {
        if self.phase == PartPhase::Done {
            return;
        }
        self.pending.extend_from_slice(data);
        loop {
            match self.phase {
                PartPhase::Headers => {
                    let Some(end) = find(&self.pending, b"\r\n\r\n") else {
                        if self.pending.len() > MAX_HEAD {
                            self.phase = PartPhase::Done;
                        }
                        return;
                    };
                    let head = String::from_utf8_lossy(&self.pending[..end]).to_ascii_lowercase();
                    self.pending.drain(..end + 4);
                    self.phase = if head.contains("filename=") {
                        PartPhase::File
                    } else {
                        PartPhase::Skip
                    };
                }
                PartPhase::Skip | PartPhase::File => {
                    match find(&self.pending, &self.delimiter) {
                        Some(at) => {
                            if self.phase == PartPhase::File {
                                self.hasher.update(&self.pending[..at]);
                                self.size += at as u64;
                                self.phase = PartPhase::Done;
                                self.pending = Vec::new();
                                return;
                            }
                            self.pending.drain(..at + self.delimiter.len());
                            self.phase = PartPhase::Headers;
                        }
                        None => {
                            // Keep what could be the start of a delimiter.
                            let keep = self.delimiter.len() - 1;
                            if self.pending.len() > keep {
                                let take = self.pending.len() - keep;
                                if self.phase == PartPhase::File {
                                    self.hasher.update(&self.pending[..take]);
                                    self.size += take as u64;
                                }
                                self.pending.drain(..take);
                            }
                            return;
                        }
                    }
                }
                PartPhase::Done => return,
            }
        }
    }
}

#[derive(Default)]
struct Base64Json {
    /// Before the data: bytes until `;base64,` (bounded).
    head: Vec<u8>,
    in_data: bool,
    done: bool,
    quad: [u8; 4],
    quad_len: usize,
    hasher: Sha256,
    size: u64,
    out: Vec<u8>,
}

impl Base64Json {
    fn feed(&mut self, data: &[u8]) {
        if self.done {
            return;
        }
        if !self.in_data {
            self.head.extend_from_slice(data);
            let Some(at) = find(&self.head, b";base64,") else {
                if self.head.len() > MAX_HEAD {
                    self.done = true;
                }
                return;
            };
            let rest = self.head.split_off(at + 8);
            self.in_data = true;
            self.decode(&rest);
            return;
        }
        self.decode(data);
    }

    fn decode(&mut self, data: &[u8]) {
        let data = match data.iter().position(|&b| b == b'"') {
            Some(end) => {
                self.done = true;
                &data[..end]
            }
            None => data,
        };
        self.out.clear();
        for &c in data {
            let v = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                _ => continue, // padding, escapes' backslashes, whitespace
            };
            self.quad[self.quad_len] = v;
            self.quad_len += 1;
            if self.quad_len == 4 {
                let q = self.quad;
                self.out.push((q[0] << 2) | (q[1] >> 4));
                self.out.push((q[1] << 4) | (q[2] >> 2));
                self.out.push((q[2] << 6) | q[3]);
                self.quad_len = 0;
            }
        }
        self.hasher.update(&self.out);
        self.size += self.out.len() as u64;
    }

    fn finish(mut self) -> (u64, String) {
        // A final group of 2 or 3 characters (padding dropped).
        let q = self.quad;
        let tail: Vec<u8> = match self.quad_len {
            2 => vec![(q[0] << 2) | (q[1] >> 4)],
            3 => vec![(q[0] << 2) | (q[1] >> 4), (q[1] << 4) | (q[2] >> 2)],
            _ => Vec::new(),
        };
        self.hasher.update(&tail);
        self.size += tail.len() as u64;
        (self.size, hex::encode(self.hasher.finalize()))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    // memchr-free search on the first byte, then compare.
    let first = needle[0];
    let mut i = 0;
    while let Some(off) = haystack[i..=haystack.len() - needle.len()]
        .iter()
        .position(|&b| b == first)
    {
        let at = i + off;
        if &haystack[at..at + needle.len()] == needle {
            return Some(at);
        }
        i = at + 1;
    }
    None
}
