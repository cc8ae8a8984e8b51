//! The golden-test harness: runs `rostro` in-process ([`rostro_cli::run_with`]) in a sandbox
//! of its own (temporary HOME, XDG dirs and `--mock` state; file credential store; no colour),
//! records each step's exit code, stdout and stderr in a transcript, and compares the
//! transcript with `tests/golden/NAME.txt`.
//!
//! `UPDATE_GOLDEN=1 cargo test -p rostro-cli --test golden` rewrites the files; without it a
//! difference fails with a line diff.
//!
//! The normaliser replaces only what differs from run to run, each with a marker:
//! - the sandbox directory -> `[TMP]`
//! - a port after `127.0.0.1:` or `localhost:` -> `[PORT]`
//! - a UUID (8-4-4-4-12 hex digits) -> `[UUID]`
//! - a duration printed by the CLI (`12 ms`, `0.4s`) -> `[TIME]`
//! - a time taken from the clock during the run -> `[NOW]`: Unix seconds within three days
//!   of now, an ISO 8601 date-time of yesterday, today or tomorrow (UTC), an HTTP `date:`
//!   header (fixed dates, such as the mock catalog's, stay as they are)

use std::path::{Path, PathBuf};

use rostro_cli::{Buffer, Io};

/// How one step runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// stdout, stderr and stdin are pipes.
    Pipe,
    /// stdout, stderr and stdin are terminals.
    Tty,
}

/// What one step printed.
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// One scenario: a sandbox, the steps run in it, and their transcript.
pub struct Golden {
    name: String,
    dir: tempfile::TempDir,
    transcript: String,
    env: Vec<(String, String)>,
}

impl Golden {
    /// A fresh sandbox for the scenario `name` (its golden file is `tests/golden/NAME.txt`;
    /// a sandbox that is never [`finish`](Self::finish)ed has none).
    pub fn new(name: &str) -> Golden {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path();
        let env = [
            ("HOME", p.to_path_buf()),
            ("XDG_CONFIG_HOME", p.join("config")),
            ("XDG_STATE_HOME", p.join("state")),
            ("XDG_DATA_HOME", p.join("data")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.display().to_string()))
        .chain([("ROSTRO_KEYRING", "off")].map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
        Golden {
            name: name.to_owned(),
            dir,
            transcript: String::new(),
            env,
        }
    }

    /// A path in the sandbox, as an argument.
    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// Writes a file in the sandbox; returns its path.
    pub fn file(&self, name: &str, bytes: &[u8]) -> String {
        let p: PathBuf = self.dir.path().join(name);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        std::fs::write(&p, bytes).expect("write");
        p.display().to_string()
    }

    /// Runs `rostro ARGS` in-process without recording it (setup steps).
    pub fn quiet(&self, args: &[&str]) -> Outcome {
        self.exec(args, Mode::Pipe, b"")
    }

    /// Runs and records a step with stdout/stderr as pipes.
    pub fn run(&mut self, args: &[&str]) -> Outcome {
        self.step(args, Mode::Pipe, b"")
    }

    /// Runs and records a step as on a terminal.
    pub fn tty(&mut self, args: &[&str]) -> Outcome {
        self.step(args, Mode::Tty, b"")
    }

    /// Runs and records a step with `stdin` piped in.
    pub fn stdin(&mut self, args: &[&str], stdin: &[u8]) -> Outcome {
        self.step(args, Mode::Pipe, stdin)
    }

    /// Runs and records a step, keeping only the first `n` lines of stdout (and its line
    /// count) in the transcript: for long generated texts (completion scripts).
    pub fn head(&mut self, args: &[&str], n: usize) -> Outcome {
        let o = self.exec(args, Mode::Pipe, b"");
        let total = o.stdout.lines().count();
        let head: String = o.stdout.lines().take(n).map(|l| format!("{l}\n")).collect();
        let shown = Outcome {
            code: o.code,
            stdout: format!("{head}[... {total} lines in all]\n"),
            stderr: o.stderr.clone(),
        };
        self.record(args, Mode::Pipe, &shown);
        o
    }

    /// Runs and records one step.
    pub fn step(&mut self, args: &[&str], mode: Mode, stdin: &[u8]) -> Outcome {
        let o = self.exec(args, mode, stdin);
        self.record(args, mode, &o);
        o
    }

    /// Runs the `rostro` binary as a process with the same environment (nothing else of
    /// the test's), stdin and pipes: what [`exec`](Self::exec) must match.
    pub fn spawn(&self, args: &[&str], stdin: &[u8]) -> Outcome {
        use std::io::Write as _;
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_rostro"));
        c.env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.dir.path())
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().expect("spawn rostro");
        let mut input = child.stdin.take().expect("stdin");
        input.write_all(stdin).expect("write stdin");
        drop(input);
        let o = child.wait_with_output().expect("rostro output");
        Outcome {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// [`normalise`] with this sandbox's directory.
    pub fn normalised(&self, text: &str) -> String {
        normalise(text, &[&self.dir.path().display().to_string()])
    }

    /// Runs `rostro ARGS` in-process without recording it.
    pub fn exec(&self, args: &[&str], mode: Mode, stdin: &[u8]) -> Outcome {
        let (out, err) = (Buffer::new(), Buffer::new());
        let mut io = Io::new(out.clone(), err.clone())
            .tty(mode == Mode::Tty)
            .stdin(std::io::Cursor::new(stdin.to_vec()));
        if !stdin.is_empty() {
            io = io.stdin_tty(false);
        }
        for (k, v) in &self.env {
            io = io.env(k.clone(), v.clone());
        }
        let argv = std::iter::once("rostro").chain(args.iter().copied());
        let code = rostro_cli::run_with(argv, io);
        Outcome {
            code,
            stdout: out.text(),
            stderr: err.text(),
        }
    }

    fn record(&mut self, args: &[&str], mode: Mode, o: &Outcome) {
        let line: Vec<String> = args.iter().map(|a| shell_word(a)).collect();
        let t = &mut self.transcript;
        t.push_str(&format!("$ rostro {}\n", line.join(" ")));
        t.push_str(&format!(
            "# command: {} · {} · exit {}\n",
            leaf(args),
            if mode == Mode::Tty { "tty" } else { "pipe" },
            o.code
        ));
        for (what, text) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
            if text.is_empty() {
                t.push_str(&format!("--- {what} (empty)\n"));
            } else {
                t.push_str(&format!("--- {what}\n{text}"));
                if !text.ends_with('\n') {
                    t.push_str("\n[no newline at end]\n");
                }
            }
        }
        t.push('\n');
    }

    /// Compares the transcript with the golden file (or rewrites it with `UPDATE_GOLDEN=1`).
    pub fn finish(self) {
        let tmp = self.dir.path().display().to_string();
        let canonical = self
            .dir
            .path()
            .canonicalize()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| tmp.clone());
        let got = normalise(&self.transcript, &[&canonical, &tmp]);
        let path = golden_dir().join(format!("{}.txt", self.name));
        if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
            std::fs::write(&path, &got).expect("write golden file");
            return;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
            panic!(
                "no golden file {}; create it with UPDATE_GOLDEN=1 cargo test -p rostro-cli \
                 --test golden\n--- got\n{got}",
                path.display()
            )
        });
        if want != got {
            panic!(
                "{} differs from this run (- golden, + now); if the change is intended, \
                 rewrite it with UPDATE_GOLDEN=1 cargo test -p rostro-cli --test golden\n{}",
                path.display(),
                diff(&want, &got)
            );
        }
    }
}

/// The directory of the golden files.
pub fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("golden")
}

/// The leaf command (`imagine image`) that `args` run, from the clap tree.
pub fn leaf(args: &[&str]) -> String {
    let argv = std::iter::once("rostro").chain(args.iter().copied());
    let Ok(m) = rostro_cli::command().try_get_matches_from(argv) else {
        return "(no command: help, version or a usage error)".to_owned();
    };
    let mut words = Vec::new();
    let mut m = &m;
    while let Some((name, sub)) = m.subcommand() {
        words.push(name.to_owned());
        m = sub;
    }
    words.join(" ")
}

/// Every command a user can run: the leaves of the clap tree, and the commands that also
/// run without a subcommand (`api METHOD PATH`).
pub fn leaf_commands() -> Vec<String> {
    fn walk(c: &clap::Command, path: &str, out: &mut Vec<String>) {
        let subs: Vec<&clap::Command> = c
            .get_subcommands()
            .filter(|s| s.get_name() != "help")
            .collect();
        if !path.is_empty() && (subs.is_empty() || !c.is_subcommand_required_set()) {
            out.push(path.to_owned());
        }
        for s in subs {
            let p = if path.is_empty() {
                s.get_name().to_owned()
            } else {
                format!("{path} {}", s.get_name())
            };
            walk(s, &p, out);
        }
    }
    let mut out = Vec::new();
    walk(&rostro_cli::command(), "", &mut out);
    out
}

fn shell_word(w: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./-_[]".contains(c);
    if !w.is_empty() && w.chars().all(safe) {
        w.to_owned()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

/// Replaces what varies between runs with markers (see the module docs).
pub fn normalise(text: &str, tmp_dirs: &[&str]) -> String {
    let mut s = text.to_owned();
    for d in tmp_dirs {
        s = s.replace(d, "[TMP]");
    }
    for host in ["127.0.0.1:", "localhost:"] {
        s = replace_after(&s, host, |rest| {
            let n = rest.bytes().take_while(u8::is_ascii_digit).count();
            (n > 0).then(|| (n, "[PORT]".to_owned()))
        });
    }
    s = replace_uuids(&s);
    s = replace_durations(&s);
    replace_clock_times(&s, unix_now())
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `YYYY-MM-DD` of a Unix time (UTC), by the days-to-civil algorithm.
fn civil_date(unix: i64) -> String {
    let z = unix.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Times read from the clock during the run -> `[NOW]` (see the module docs).
fn replace_clock_times(s: &str, now: i64) -> String {
    let days: Vec<String> = [-86_400, 0, 86_400]
        .iter()
        .map(|d| civil_date(now + d))
        .collect();
    let mut out = String::with_capacity(s.len());
    for line in s.split_inclusive('\n') {
        if line.to_ascii_lowercase().starts_with("date: ") {
            out.push_str("date: [NOW]\n");
            continue;
        }
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let boundary = i == 0 || !b[i - 1].is_ascii_alphanumeric();
            // ISO date-time: the date, `T`, then time characters.
            if boundary
                && i + 19 <= b.len()
                && days.iter().any(|d| line[i..].starts_with(d.as_str()))
                && b[i + 10] == b'T'
            {
                let mut j = i + 11;
                while j < b.len() && (b[j].is_ascii_digit() || b":.+-Z".contains(&b[j])) {
                    j += 1;
                }
                out.push_str("[NOW]");
                i = j;
                continue;
            }
            // Unix seconds: ten digits, not part of a longer number or word.
            if boundary
                && i + 10 <= b.len()
                && b[i..i + 10].iter().all(u8::is_ascii_digit)
                && !b.get(i + 10).is_some_and(u8::is_ascii_alphanumeric)
            {
                let n: i64 = line[i..i + 10].parse().unwrap_or(0);
                if (n - now).abs() < 3 * 86_400 {
                    out.push_str("[NOW]");
                    i += 10;
                    continue;
                }
            }
            let c = line[i..].chars().next().expect("char");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Replaces, after each `marker`, what `f` recognises at the start of the rest.
fn replace_after(s: &str, marker: &str, f: impl Fn(&str) -> Option<(usize, String)>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(marker) {
        let (head, tail) = rest.split_at(i + marker.len());
        out.push_str(head);
        match f(tail) {
            Some((n, with)) => {
                out.push_str(&with);
                rest = &tail[n..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

fn replace_uuids(s: &str) -> String {
    const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
    let b = s.as_bytes();
    let is_uuid_at = |i: usize| -> bool {
        let mut j = i;
        for (g, len) in GROUPS.iter().enumerate() {
            if g > 0 {
                if b.get(j) != Some(&b'-') {
                    return false;
                }
                j += 1;
            }
            for _ in 0..*len {
                if !b.get(j).is_some_and(u8::is_ascii_hexdigit) {
                    return false;
                }
                j += 1;
            }
        }
        !b.get(j).is_some_and(u8::is_ascii_hexdigit)
    };
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        let boundary = i == 0 || !b[i - 1].is_ascii_hexdigit();
        if boundary && is_uuid_at(i) {
            out.push_str("[UUID]");
            i += 36;
        } else {
            let c = s[i..].chars().next().expect("char");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// A duration: a number (not part of a word or a longer number), then `ms` or ` ms` or
/// `s`, then no letter or digit (`3 sat`, `msat` stay) -> `[TIME]` and the unit.
fn replace_durations(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        let boundary = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.');
        if boundary && b[i].is_ascii_digit() {
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'.') {
                j += 1;
            }
            let rest = &s[j..];
            let unit = ["ms", " ms", "s"].into_iter().find(|u| {
                rest.starts_with(u)
                    && !rest[u.len()..]
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_alphanumeric())
            });
            if let Some(u) = unit {
                out.push_str("[TIME]");
                out.push_str(u);
                i = j + u.len();
                continue;
            }
            out.push_str(&s[i..j]);
            i = j;
            continue;
        }
        let c = s[i..].chars().next().expect("char");
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// A line diff (`-` golden, `+` now), from the longest common subsequence of lines, with two
/// lines of context around each change.
pub fn diff(want: &str, got: &str) -> String {
    let a: Vec<&str> = want.lines().collect();
    let b: Vec<&str> = got.lines().collect();
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            ops.push(('+', b[j]));
            j += 1;
        } else {
            ops.push(('-', a[i]));
            i += 1;
        }
    }
    let near = |k: usize| {
        let lo = k.saturating_sub(2);
        let hi = (k + 3).min(ops.len());
        ops[lo..hi].iter().any(|(c, _)| *c != ' ')
    };
    let mut out = String::new();
    let mut skipped = false;
    for (k, (c, l)) in ops.iter().enumerate() {
        if near(k) {
            if skipped {
                out.push_str("   ...\n");
                skipped = false;
            }
            out.push_str(&format!("{c}  {l}\n"));
        } else {
            skipped = true;
        }
    }
    out
}
