//! One module per command: an options struct (clap derive) and a `run` function.

pub mod account;
pub mod api;
pub mod assets;
pub mod auth;
pub mod characters;
pub mod chat;
pub mod chats;
pub mod completion;
pub mod config;
pub mod follow;
pub mod gallery;
pub mod imagine;
pub mod lore;
pub mod mock;
pub mod models;
pub mod personas;
pub mod search;
pub mod stt;
pub mod voices;
pub mod wallet;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::ctx::Ctx;
use crate::exit::{CliError, CliResult};
use crate::output::table;

/// The typed view of an answer, for human output; `--json` prints the answer itself (`raw`),
/// so what the server sent is shown whatever this view knows of it. An answer of another
/// shape is an error that says so, never empty columns.
pub fn view<T: DeserializeOwned>(raw: &Value, what: &str) -> CliResult<T> {
    T::deserialize(raw).map_err(|e| {
        CliError::msg(format!(
            "{what}: the answer does not have the documented shape ({e}); `--json` prints it as it came"
        ))
    })
}

/// A table column over typed items: its header and how to show an item's cell.
pub type Column<'a, T> = (&'a str, &'a dyn Fn(&T) -> String);

/// Prints a list answer: with `--json` its own items as NDJSON, as they came (`raw_items`
/// finds them where the typed wrapper does), or the whole answer when it holds no list;
/// else a table of the typed items of the wrapper `W`.
pub fn print_page<W: DeserializeOwned, T>(
    ctx: &Ctx,
    raw: &Value,
    what: &str,
    raw_items: fn(&Value) -> Option<&[Value]>,
    items: fn(&W) -> &[T],
    columns: &[Column<'_, T>],
) -> CliResult {
    if ctx.out.json {
        let Some(list) = raw_items(raw) else {
            return ctx.out.json_value(raw);
        };
        for it in list {
            ctx.out.json_line(it)?;
        }
        return Ok(());
    }
    let page: W = view(raw, what)?;
    print_table(ctx, items(&page), columns)
}

/// Prints typed items as a table (a note when there are none).
pub fn print_table<T>(ctx: &Ctx, items: &[T], columns: &[Column<'_, T>]) -> CliResult {
    if items.is_empty() {
        ctx.out.note("no results");
        return Ok(());
    }
    let headers: Vec<&str> = columns.iter().map(|c| c.0).collect();
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|it| columns.iter().map(|c| (c.1)(it)).collect())
        .collect();
    let width = if ctx.out.stdout_tty { 48 } else { 200 };
    ctx.out
        .line(&table(&headers, &rows, width, ctx.out.color()))
}

/// Prints a list of JSON items (NDJSON with `--json`, else a table): for lists the CLI
/// builds itself, or answers of other APIs it shows as they are.
pub fn print_list(ctx: &Ctx, items: &[Value], columns: &[Column<'_, Value>]) -> CliResult {
    if ctx.out.json {
        for it in items {
            ctx.out.json_line(it)?;
        }
        return Ok(());
    }
    print_table(ctx, items, columns)
}

/// Prints one answer: as it came with `--json`, else `human` (a note when it is empty: the
/// server said nothing worth a line).
pub fn print_answer(ctx: &Ctx, raw: &Value, human: &str) -> CliResult {
    if ctx.out.json {
        return ctx.out.json_value(raw);
    }
    if human.is_empty() {
        ctx.out
            .note("the server answered with no details (use --json to see the raw answer)");
        return Ok(());
    }
    ctx.out.line(human)
}

/// Prints the answer to a change: as it came with `--json`, else the success line `what`
/// (which says what changed).
pub fn print_done(ctx: &Ctx, raw: &Value, what: &str) -> CliResult {
    if ctx.out.json {
        return ctx.out.json_value(raw);
    }
    ctx.out.success(what);
    Ok(())
}

/// `Label  value` lines for the typed fields that are present, labels aligned.
pub fn key_values(rows: &[(&str, Option<String>)]) -> String {
    let present: Vec<(&str, &str)> = rows
        .iter()
        .filter_map(|(k, v)| v.as_deref().filter(|v| !v.is_empty()).map(|v| (*k, v)))
        .collect();
    let width = present
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    present
        .iter()
        .map(|(k, v)| format!("{k:<width$}  {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The members of an answer no field of its type names (`extra()`), as `key  value` lines:
/// shown after the typed ones so nothing the server said is hidden.
pub fn extra_lines(extra: &serde_json::Map<String, Value>) -> String {
    human_lines(&Value::Object(extra.clone())).unwrap_or_default()
}

/// Joins blocks of lines, leaving out empty ones.
pub fn blocks(parts: &[String]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join("\n")
}

/// A cell or value from an optional typed field (`""` when absent).
pub fn cell<T: std::fmt::Display>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// An optional field as text, for [`key_values`].
pub fn text<T: std::fmt::Display>(v: &Option<T>) -> Option<String> {
    v.as_ref().map(ToString::to_string)
}

/// A generic readable rendering for an answer no document describes (one `key  value` line
/// per member, nested objects as dotted keys, lists of plain values joined, lists of
/// objects shown one block each). `None` when there is nothing to show (`{}`, `[]`, `null`).
pub fn human_lines(v: &Value) -> Option<String> {
    let mut rows: Vec<(String, String)> = Vec::new();
    flatten_into(&mut rows, "", v, 0);
    if rows.is_empty() {
        return None;
    }
    let width = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0)
        .min(28);
    let mut out = String::new();
    for (k, val) in rows {
        if k.is_empty() {
            out.push_str(&val);
        } else {
            out.push_str(&format!("{k:<width$}  {val}"));
        }
        out.push('\n');
    }
    out.pop();
    Some(out)
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

fn flatten_into(rows: &mut Vec<(String, String)>, prefix: &str, v: &Value, depth: usize) {
    let key = |k: &str| {
        if prefix.is_empty() {
            k.to_owned()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Value::Object(map) => {
            for (k, item) in map {
                if let Some(s) = scalar(item) {
                    if !s.is_empty() {
                        rows.push((key(k), s));
                    }
                } else {
                    flatten_into(rows, &key(k), item, depth + 1);
                }
            }
        }
        Value::Array(items) if items.is_empty() => {
            if !prefix.is_empty() {
                rows.push((prefix.to_owned(), "(none)".to_owned()));
            }
        }
        Value::Array(items) => {
            let plain: Option<Vec<String>> = items.iter().map(scalar).collect();
            match plain {
                Some(p) => rows.push((prefix.to_owned(), p.join(", "))),
                // Deep nesting is summarised rather than dumped.
                None if depth >= 3 => {
                    rows.push((prefix.to_owned(), format!("({} items)", items.len())))
                }
                None => {
                    for (i, item) in items.iter().enumerate() {
                        let k = if prefix.is_empty() {
                            format!("[{i}]")
                        } else {
                            format!("{prefix}[{i}]")
                        };
                        match scalar(item) {
                            Some(s) => rows.push((k, s)),
                            None => flatten_into(rows, &k, item, depth + 1),
                        }
                    }
                }
            }
        }
        other => {
            if let Some(s) = scalar(other).filter(|s| !s.is_empty()) {
                rows.push((prefix.to_owned(), s));
            }
        }
    }
}

/// A JSON body from `--from FILE|-` plus `-F key=value` fields (typed like `rostro api -F`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BodyOpts {
    /// Start from this JSON file (`-` for stdin)
    #[arg(long = "from", value_name = "FILE|-")]
    pub from: Option<String>,
    /// Set a field (`key=value`, typed; `a.b=` and `tags[]=` nest; `@file` reads a file)
    #[arg(short = 'F', long = "field", value_name = "KEY=VALUE")]
    pub fields: Vec<String>,
}

impl BodyOpts {
    /// Builds the body; `extra` fields (from dedicated flags) are set first.
    pub fn build(&self, extra: &[(&str, Option<Value>)]) -> CliResult<Value> {
        let mut obj = match &self.from {
            Some(f) => match crate::util::read_json(f)? {
                Value::Object(m) => m,
                _ => {
                    return Err(crate::exit::CliError::usage(format!(
                        "{f}: expected a JSON object"
                    )));
                }
            },
            None => serde_json::Map::new(),
        };
        for (k, v) in extra {
            if let Some(v) = v {
                obj.insert((*k).to_owned(), v.clone());
            }
        }
        for f in &self.fields {
            let (k, v) = crate::util::split_kv(f)?;
            crate::util::set_path(&mut obj, k, crate::util::typed_value(v)?);
        }
        Ok(Value::Object(obj))
    }
}

/// Confirms a destructive action: `--yes` skips; without a terminal it is a usage error.
pub fn confirm(ctx: &Ctx, what: &str, yes: bool) -> CliResult {
    if yes {
        return Ok(());
    }
    ctx.out.require_interactive(what, "--yes")?;
    let ok = dialoguer::Confirm::new()
        .with_prompt(what)
        .default(false)
        .interact()
        .map_err(|e| crate::exit::CliError::msg(format!("prompt failed: {e}")))?;
    if ok {
        Ok(())
    } else {
        Err(crate::exit::CliError::Interrupted)
    }
}

/// A byte bar on stderr and a progress callback for the SDK's transfers that drives it.
pub fn transfer_bar(
    ctx: &Ctx,
    size: u64,
    name: &str,
) -> (
    indicatif::ProgressBar,
    impl Fn(rostro_sdk::media::TransferProgress) + Send + Sync + 'static,
) {
    let bar = ctx.out.byte_bar(Some(size), name.to_owned());
    let b = bar.clone();
    let f = move |p: rostro_sdk::media::TransferProgress| {
        if let Some(t) = p.total {
            b.set_length(t);
        }
        b.set_position(p.bytes);
    };
    (bar, f)
}

/// The size and display name of a file to upload.
pub fn file_info(path: &std::path::Path) -> CliResult<(u64, String)> {
    let meta = std::fs::metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            crate::exit::CliError::usage(format!("{}: no such file", path.display()))
        } else {
            crate::exit::CliError::io(path.display(), e)
        }
    })?;
    if !meta.is_file() {
        return Err(crate::exit::CliError::usage(format!(
            "{}: not a file",
            path.display()
        )));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok((meta.len(), name))
}

#[cfg(test)]
mod tests {
    use super::human_lines;
    use serde_json::json;

    #[test]
    fn empty_answers_have_no_human_rendering() {
        assert_eq!(human_lines(&json!({})), None);
        assert_eq!(human_lines(&json!([])), None);
        assert_eq!(human_lines(&json!(null)), None);
    }

    #[test]
    fn answers_render_as_key_value_lines_never_json() {
        let v = json!({
            "username": "sera", "credits": 12, "pro": true, "bio": null,
            "plan": {"name": "free", "limits": {"chats": 3}},
            "tags": ["sea", "fog"],
            "tokens": [{"id": 1, "name": "ci"}, {"id": 2, "name": "laptop"}],
            "none": []
        });
        let text = human_lines(&v).unwrap();
        assert!(!text.contains('{') && !text.contains('"'), "{text}");
        for line in [
            "username",
            "credits",
            "plan.name",
            "plan.limits.chats",
            "tags",
            "tokens[1].name",
        ] {
            assert!(
                text.lines().any(|l| l.starts_with(line)),
                "{line} in {text}"
            );
        }
        assert!(text.contains("sea, fog"));
        assert!(text.contains("laptop"));
        assert!(
            text.lines()
                .any(|l| l.starts_with("none") && l.ends_with("(none)"))
        );
        assert!(!text.contains("bio"), "null members are left out: {text}");
    }
}
