//! Routstr helpers shared by `chat`, `api`, `models` and `wallet`: Cashu token arguments
//! (`TOKEN`, `@FILE`, `-`), paying per request (`--pay-with`) and keeping the change
//! (`--change-out`), amounts in msat and sat.
//!
//! The rule for change tokens: never drop one. The node's change (or its refund of a failed
//! paid request) is appended to `--change-out FILE` as soon as the response headers arrive,
//! before the body is read and before anything else can fail; without `--change-out` (or
//! when the file cannot be written) the token is printed on stderr with a warning to keep it.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use clap::Args;
use rostro_sdk::response::ResponseMeta;
use rostro_sdk::routstr::{CashuToken, Msats, RoutstrErrorExt, RoutstrMeta};
use serde_json::{Value, json};

use crate::exit::{CliError, CliResult};
use crate::output::Output;

/// `--pay-with` and `--change-out`, for commands that can pay per request.
#[derive(Debug, Clone, Default, Args)]
pub struct PayArgs {
    /// Routstr: pay for this request with a Cashu token (`X-Cashu`), given as TOKEN or @FILE
    #[arg(long, value_name = "TOKEN|@FILE")]
    pub pay_with: Option<String>,
    /// Append the change token to FILE (created 0600, one token per line) instead of
    /// printing it on stderr
    #[arg(long, value_name = "FILE", requires = "pay_with")]
    pub change_out: Option<PathBuf>,
}

/// `a msat (b sat)`: an amount with both units, clearly labelled.
pub fn fmt_msats(m: Msats) -> String {
    format!("{} msat ({} sat)", m.0, sats_text(m.0))
}

/// An msat amount as exact decimal sats: `12345` -> `12.345`, `5000` -> `5`.
pub fn sats_text(msats: u64) -> String {
    let whole = msats / 1000;
    let frac = msats % 1000;
    if frac == 0 {
        return whole.to_string();
    }
    let f = format!("{frac:03}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}

/// An msat amount in sats as a JSON number (for display; the msat field is exact).
pub fn sats_json(msats: u64) -> Value {
    if msats.is_multiple_of(1000) {
        json!(msats / 1000)
    } else {
        json!(msats as f64 / 1000.0)
    }
}

/// Reads a Cashu token argument: the token itself, `@FILE`, or `-` (stdin, when
/// `allow_stdin`). The text must hold exactly one token. A malformed token is a usage
/// error, reported without echoing the token.
pub fn read_token(arg: &str, flag: &str, allow_stdin: bool) -> CliResult<CashuToken> {
    let (text, from) = if arg == "-" {
        if !allow_stdin {
            return Err(CliError::usage(format!(
                "{flag}: `-` (stdin) is not available here; give the token or @FILE"
            )));
        }
        let mut s = String::new();
        crate::ambient::read_stdin_string(&mut s).map_err(|e| CliError::io("stdin", e))?;
        (s, "stdin".to_owned())
    } else if let Some(path) = arg.strip_prefix('@') {
        let text = std::fs::read_to_string(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                CliError::usage(format!("{flag}: {path}: no such file"))
            } else {
                CliError::io(path, e)
            }
        })?;
        (text, path.to_owned())
    } else {
        (arg.to_owned(), "the argument".to_owned())
    };
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    match lines.len() {
        0 => Err(CliError::usage(format!("{flag}: no token in {from}"))),
        1 => CashuToken::parse(lines[0])
            .map_err(|e| CliError::usage(format!("{flag}: {}", e.reason()))),
        n => Err(CliError::usage(format!(
            "{flag}: {from} holds {n} lines; give exactly one token"
        ))),
    }
}

/// The value of a `cashuA` (V3, JSON) token, when it can be read: the sum of its proofs, in
/// its `unit` (`sat` by default, or `msat`). Best effort, for display only.
pub fn token_amount(token: &str) -> Option<Msats> {
    let payload = token.trim().strip_prefix("cashuA")?;
    let body = payload.trim_end_matches('=');
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(body))
        .ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    let mut total: u64 = 0;
    for entry in v.get("token")?.as_array()? {
        for proof in entry.get("proofs")?.as_array()? {
            total = total.checked_add(proof.get("amount")?.as_u64()?)?;
        }
    }
    match v.get("unit").and_then(Value::as_str).unwrap_or("sat") {
        "msat" => Some(Msats(total)),
        "sat" => Some(Msats(total.checked_mul(1000)?)),
        _ => None,
    }
}

/// A token's value for messages: ` (5000 msat (5 sat))`, or nothing when unknown.
fn value_suffix(token: &str) -> String {
    token_amount(token)
        .map(|m| format!(" worth {}", fmt_msats(m)))
        .unwrap_or_default()
}

/// Opens `path` for appending, creating it with mode `0600` (an existing file is narrowed
/// to `0600` too: it holds money).
pub fn open_private_append(path: &Path) -> CliResult<File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let f = opts
        .open(path)
        .map_err(|e| CliError::io(path.display(), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| CliError::io(path.display(), e))?;
    }
    Ok(f)
}

/// Appends one token line to an open file and syncs it to disk.
pub fn append_token(f: &mut File, token: &str) -> std::io::Result<()> {
    f.write_all(token.as_bytes())?;
    f.write_all(b"\n")?;
    f.flush()?;
    f.sync_data()
}

/// A per-request payment: the token to send in `X-Cashu` and where its change goes.
///
/// The change is written from the SDK's response-headers hook ([`Payment::headers_hook`]),
/// before the body is read, so it survives a body that cannot be read, a cut stream and
/// Ctrl-C; [`keep`](Payment::keep) then announces it (and keeps any change the hook did not
/// see).
pub struct Payment {
    /// The token paying for the request.
    pub token: CashuToken,
    /// `--pay-with` as given (`@FILE` or the token), for the refund command.
    arg: String,
    sink: Arc<Mutex<Sink>>,
    /// Set once the node's response headers (or its error) were read for change.
    settled: Arc<AtomicBool>,
    /// Set when the body of the node's answer could not be read.
    reply_lost: AtomicBool,
}

/// Where change goes, shared with the headers hook.
struct Sink {
    out: Option<(PathBuf, File)>,
    /// Change tokens received, in order.
    kept: Vec<Kept>,
    /// A change token that could not be written to `--change-out` (it was printed).
    write_failed: Option<String>,
}

struct Kept {
    token: String,
    /// Appended to `--change-out` (else it must be printed).
    written: bool,
    /// Reported to the user.
    announced: bool,
}

impl Sink {
    /// Records (and writes) a change token once; returns its index.
    fn record(&mut self, token: &str) -> usize {
        if let Some(i) = self.kept.iter().position(|k| k.token == token) {
            return i;
        }
        let mut written = false;
        if let Some((path, f)) = &mut self.out {
            match append_token(f, token) {
                Ok(()) => written = true,
                Err(e) => {
                    self.write_failed = Some(format!(
                        "the change token could not be written to {}: {e} (it was printed \
                         above)",
                        path.display()
                    ));
                }
            }
        }
        self.kept.push(Kept {
            token: token.to_owned(),
            written,
            announced: false,
        });
        self.kept.len() - 1
    }
}

fn lock(sink: &Mutex<Sink>) -> std::sync::MutexGuard<'_, Sink> {
    // A panic elsewhere must not cost the change: the data stays usable.
    sink.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Payment {
    /// Validates `--pay-with` and opens `--change-out` (both before anything is sent).
    pub fn from_args(a: &PayArgs) -> CliResult<Option<Payment>> {
        let Some(arg) = &a.pay_with else {
            return Ok(None);
        };
        let token = read_token(arg, "--pay-with", false)?;
        let out = match &a.change_out {
            Some(p) => Some((p.clone(), open_private_append(p)?)),
            None => None,
        };
        Ok(Some(Payment {
            token,
            arg: arg.clone(),
            sink: Arc::new(Mutex::new(Sink {
                out,
                kept: Vec::new(),
                write_failed: None,
            })),
            settled: Arc::new(AtomicBool::new(false)),
            reply_lost: AtomicBool::new(false),
        }))
    }

    /// A flag set once the node answered (change kept, or known to be absent).
    pub fn settled_flag(&self) -> Arc<AtomicBool> {
        self.settled.clone()
    }

    /// For [`CallOptions::on_response_headers`](rostro_sdk::CallOptions::on_response_headers):
    /// writes the `X-Cashu` change of a response to `--change-out` as soon as its headers
    /// arrive, before the body is read.
    pub fn headers_hook(&self) -> impl Fn(&ResponseMeta) + Send + Sync + 'static {
        let sink = self.sink.clone();
        let settled = self.settled.clone();
        move |meta: &ResponseMeta| {
            if let Some(t) = RoutstrMeta::from_response(meta).change_token {
                let t = t.expose();
                if !t.is_empty() {
                    lock(&sink).record(t);
                }
            }
            settled.store(true, Ordering::SeqCst);
        }
    }

    /// Keeps the change of a response: appended to `--change-out`, else printed on stderr.
    /// A token the headers hook already wrote is only announced.
    pub fn keep(&mut self, out: &Output, change: Option<&CashuToken>) {
        self.settled.store(true, Ordering::SeqCst);
        if let Some(t) = change.map(CashuToken::expose).filter(|t| !t.is_empty()) {
            lock(&self.sink).record(t);
        }
        self.announce(out);
    }

    /// Keeps the change (or refund) carried by an error response.
    pub fn keep_from_error(&mut self, out: &Output, e: &rostro_sdk::Error) {
        // Only an error that came with a response settles the payment.
        if e.headers().is_some() {
            self.keep(out, e.change_token().as_ref());
        } else {
            self.announce(out);
        }
    }

    /// Reports every change token not reported yet (written to the file, or printed).
    pub fn announce(&self, out: &Output) {
        let mut sink = lock(&self.sink);
        let path = sink.out.as_ref().map(|(p, _)| p.display().to_string());
        for k in sink.kept.iter_mut().filter(|k| !k.announced) {
            k.announced = true;
            let value = value_suffix(&k.token);
            match (&path, k.written) {
                (Some(p), true) => out.success(&format!("change token{value} appended to {p}")),
                (Some(p), false) => {
                    out.warn(&format!(
                        "cannot write the change token to {p}; keep this Cashu token{value}, \
                         it is money:"
                    ));
                    out.eprint(&k.token);
                }
                (None, _) => {
                    out.warn(&format!(
                        "the node returned change: keep this Cashu token{value}, it is money \
                         (--change-out FILE saves it):"
                    ));
                    out.eprint(&k.token);
                }
            }
        }
    }

    /// Records that the body of the node's answer could not be read.
    pub fn mark_reply_lost(&self) {
        self.reply_lost.store(true, Ordering::SeqCst);
    }

    /// Whether a change token was received.
    pub fn has_change(&self) -> bool {
        !lock(&self.sink).kept.is_empty()
    }

    /// The last change token received, as JSON (`null` when none).
    pub fn change_json(&self) -> Value {
        lock(&self.sink)
            .kept
            .last()
            .map_or(Value::Null, |k| Value::String(k.token.clone()))
    }

    /// The command that asks the node for the change of this payment (with the global
    /// options that chose the node, so it re-runs as printed).
    pub fn refund_command(&self, g: &crate::cli::Global, profile: &str) -> String {
        let token = if self.arg.starts_with('@') {
            self.arg.clone()
        } else {
            "TOKEN".to_owned()
        };
        let note = if token == "TOKEN" {
            " (TOKEN: the token given to --pay-with)"
        } else {
            ""
        };
        let cmd = crate::rerun::command_as(g, profile, &["wallet", "refund", "--token", &token]);
        format!("{cmd}{note}")
    }

    /// After a failed paid request: says plainly where the change is, or how to ask the
    /// node for it, and with `--json` prints `{"error", "change_token", "refund_command"}`.
    pub fn report_failure(
        &self,
        ctx: &crate::ctx::Ctx,
        err: &CliError,
        profile: &str,
        json_record: bool,
    ) -> CliResult {
        let out = &ctx.out;
        self.announce(out);
        let reply_lost = matches!(
            err,
            CliError::Interrupted
                | CliError::Sdk(
                    rostro_sdk::Error::Decode { .. }
                        | rostro_sdk::Error::Transport { .. }
                        | rostro_sdk::Error::Timeout { .. }
                        | rostro_sdk::Error::Stream { .. }
                )
                | CliError::Routstr(
                    rostro_sdk::Error::Decode { .. }
                        | rostro_sdk::Error::Transport { .. }
                        | rostro_sdk::Error::Timeout { .. }
                        | rostro_sdk::Error::Stream { .. }
                )
        ) || self.reply_lost.load(Ordering::SeqCst);
        // A payment the node rejected (4xx) was not redeemed: no refund to ask for.
        let server_failed = match err {
            CliError::Routstr(e) | CliError::Sdk(e) => {
                e.status().is_some_and(|s| s.is_server_error())
            }
            _ => false,
        };
        let refund = (!self.has_change() && (reply_lost || server_failed))
            .then(|| self.refund_command(&ctx.g, profile));
        {
            let sink = lock(&self.sink);
            let last = sink.kept.last();
            let path = sink.out.as_ref().map(|(p, _)| p.display().to_string());
            let what = if matches!(err, CliError::Interrupted) {
                "the request was interrupted"
            } else {
                "the node's reply could not be read"
            };
            match (last, &refund) {
                (Some(k), _) if reply_lost => match (&path, k.written) {
                    (Some(p), true) => out.warn(&format!("{what}; your change was saved to {p}")),
                    _ => out.warn(&format!(
                        "{what}; your change was printed above: keep it, it is money"
                    )),
                },
                (None, Some(cmd)) => out.warn(&format!(
                    "no change arrived from the node; ask the node for it with:\n  {cmd}"
                )),
                _ => {}
            }
        }
        if !out.json || !json_record {
            return Ok(());
        }
        let kind = match err {
            CliError::Routstr(e) | CliError::Sdk(e) => {
                e.routstr_kind().map(|k| k.as_str().to_owned())
            }
            _ => None,
        };
        out.json_value(&json!({
            "error": {"message": err.to_string(), "kind": kind},
            "change_token": self.change_json(),
            "refund_command": refund,
        }))
    }

    /// Fails when a change token could not be written where asked (it was printed).
    pub fn finish(&self) -> CliResult {
        match &lock(&self.sink).write_failed {
            Some(m) => Err(CliError::msg(m.clone())),
            None => Ok(()),
        }
    }
}

/// Runs a paid request so that Ctrl-C cannot cost the change: once the node's headers
/// arrived (the change is on disk) Ctrl-C stops at once; before that it asks for a second
/// Ctrl-C (quitting then gives up the change, and the refund command is printed).
pub async fn paid_with_ctrl_c<T>(
    out: &Output,
    settled: Option<Arc<AtomicBool>>,
    fut: impl std::future::Future<Output = CliResult<T>>,
) -> CliResult<T> {
    tokio::pin!(fut);
    tokio::select! {
        r = &mut fut => r,
        _ = crate::ctx::ctrl_c() => {
            if let Some(flag) = &settled
                && !flag.load(Ordering::SeqCst)
            {
                out.warn(
                    "waiting for the node's answer to keep the change of the payment; \
                     press Ctrl-C again to quit without it",
                );
                // Stop as soon as the headers (and so the change) arrived.
                let change_kept = async {
                    while !flag.load(Ordering::SeqCst) {
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    }
                };
                tokio::select! {
                    r = &mut fut => return r.and(Err(CliError::Interrupted)),
                    _ = change_kept => {}
                    _ = crate::ctx::ctrl_c() => {}
                }
            }
            if !out.json {
                let _ = out.write("\n");
            }
            Err(CliError::Interrupted)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sats_are_exact() {
        assert_eq!(sats_text(0), "0");
        assert_eq!(sats_text(5000), "5");
        assert_eq!(sats_text(12_345), "12.345");
        assert_eq!(sats_text(1_500), "1.5");
        assert_eq!(sats_text(7), "0.007");
        assert_eq!(fmt_msats(Msats(1500)), "1500 msat (1.5 sat)");
        assert_eq!(sats_json(2000), json!(2));
        assert_eq!(sats_json(2500), json!(2.5));
    }

    #[test]
    fn token_values() {
        let v3 = |j: &str| {
            format!(
                "cashuA{}",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(j)
            )
        };
        let t = v3(r#"{"token":[{"mint":"m","proofs":[{"amount":2},{"amount":8}]}]}"#);
        assert_eq!(token_amount(&t), Some(Msats(10_000)));
        let t = v3(r#"{"token":[{"mint":"m","proofs":[{"amount":1500}]}],"unit":"msat"}"#);
        assert_eq!(token_amount(&t), Some(Msats(1500)));
        assert_eq!(token_amount("cashuBxyz"), None);
        assert_eq!(token_amount("cashuA!!"), None);
    }

    #[test]
    fn token_arguments() {
        let good = "cashuAeyJ0b2tlbiI6W3sibWludCI6Imh0dHA6Ly9taW50In1dfQ";
        assert_eq!(read_token(good, "--token", false).unwrap().expose(), good);
        let e = read_token("cashuAnope", "--token", false).unwrap_err();
        assert_eq!(e.code(), 2);
        assert!(!e.to_string().contains("nope"));
        assert_eq!(read_token("-", "--pay-with", false).unwrap_err().code(), 2);
        let dir = tempfile_dir();
        let p = dir.join("t.txt");
        std::fs::write(&p, format!("\n{good}\n\n")).unwrap();
        let arg = format!("@{}", p.display());
        assert_eq!(read_token(&arg, "--token", false).unwrap().expose(), good);
        std::fs::write(&p, format!("{good}\n{good}\n")).unwrap();
        assert_eq!(read_token(&arg, "--token", false).unwrap_err().code(), 2);
        let missing = format!("@{}", dir.join("missing").display());
        assert_eq!(
            read_token(&missing, "--token", false).unwrap_err().code(),
            2
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "rostro-routstr-test-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
