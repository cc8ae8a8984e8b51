//! `rostro api call OPERATION_ID --NAME VALUE ...`: any operation by id, its parameters
//! checked against the spec.

use rostro_sdk::request::{ParamLocation, Request};

use super::body::{apply_body, build_body, check_json_input};
use super::send::send_and_print;
use super::{BodyArgs, CallArgs};
use crate::ctx::Ctx;
use crate::exit::{CliError, CliResult};
use crate::ops;

/// Parsed `api call` arguments.
#[derive(Debug, Default)]
struct CallParams {
    params: Vec<(String, String)>,
    body: BodyArgs,
    body_file: Option<String>,
}

/// Global options, which `api call` cannot take after the operation id (everything there is
/// a parameter).
const GLOBAL_FLAGS: &[&str] = &[
    "jq",
    "json",
    "verbose",
    "no-color",
    "timeout",
    "retries",
    "idempotent",
    "profile",
    "base-url",
    "mock",
];

/// Global options given after `api call OPERATION_ID`, where clap hands every argument to
/// the operation: split `rest` into those (with their values) and the rest, so the command
/// line can be parsed again with them in front and they work as after any other command.
/// The walk follows [`parse_call_args`]: a value that belongs to a parameter (`--search
/// --json`) stays a value.
pub fn lift_globals(globals: &[clap::Arg], rest: &[String]) -> (Vec<String>, Vec<String>) {
    let (mut lifted, mut kept) = (Vec::new(), Vec::new());
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        let (name, inline) = match arg.strip_prefix("--") {
            Some(n) => match n.split_once('=') {
                Some((n, _)) => (n, true),
                None => (n, false),
            },
            None => (arg.as_str(), false),
        };
        let global = globals.iter().find(|g| {
            if arg.starts_with("--") {
                g.get_long() == Some(name)
            } else {
                arg.len() == 2 && g.get_short().is_some_and(|c| arg[1..] == *c.to_string())
            }
        });
        let takes_value = |a: &clap::Arg| a.get_action().takes_values();
        let into = match global {
            Some(_) => &mut lifted,
            None => &mut kept,
        };
        into.push(arg.clone());
        let has_value = match global {
            Some(g) => takes_value(g) && !inline,
            // `--form`, `--raw-body` and `--` stand alone; any other flag without `=` takes
            // the next argument (a parameter's or a body flag's value).
            None => {
                arg.starts_with('-')
                    && !inline
                    && !matches!(arg.as_str(), "--form" | "--raw-body" | "--")
            }
        };
        if has_value && let Some(v) = it.next() {
            into.push(v.clone());
        }
    }
    (lifted, kept)
}

fn parse_call_args(rest: &[String]) -> CliResult<CallParams> {
    let mut out = CallParams::default();
    let mut it = rest.iter().peekable();
    while let Some(arg) = it.next() {
        let mut take_value = |name: &str| -> CliResult<String> {
            it.next()
                .cloned()
                .ok_or_else(|| CliError::usage(format!("{name} needs a value")))
        };
        if let Some(v) = arg.strip_prefix("--body=") {
            out.body_file = Some(v.to_owned());
        } else if arg == "--body" || arg == "--input" {
            out.body_file = Some(take_value(arg)?);
        } else if arg == "-f" || arg == "--raw-field" {
            out.body.raw_fields.push(take_value(arg)?);
        } else if arg == "-F" || arg == "--field" {
            out.body.fields.push(take_value(arg)?);
        } else if arg == "--form" {
            out.body.form = true;
        } else if arg == "--raw-body" {
            out.body.raw_body = true;
        } else if let Some(name) = arg.strip_prefix("--") {
            if name.is_empty() {
                continue;
            }
            let flag = name.split('=').next().unwrap_or(name);
            if GLOBAL_FLAGS.contains(&flag) {
                return Err(CliError::usage(format!(
                    "--{flag} is a global option: put it before the operation id, e.g. \
                     `rostro api call --{flag} ... OPERATION_ID --param value`"
                )));
            }
            match name.split_once('=') {
                Some((k, v)) => out.params.push((k.to_owned(), v.to_owned())),
                None => {
                    let v = take_value(arg)?;
                    out.params.push((name.to_owned(), v));
                }
            }
        } else if let Some((k, v)) = arg.split_once('=') {
            out.params.push((k.to_owned(), v.to_owned()));
        } else {
            return Err(CliError::usage(format!(
                "unexpected argument `{arg}`: use --NAME VALUE for parameters"
            )));
        }
    }
    Ok(out)
}

/// Runs `rostro api call`.
pub(super) fn run(ctx: &Ctx, c: CallArgs) -> CliResult {
    let op = ops::find(&c.operation).ok_or_else(|| {
        CliError::usage(format!(
            "unknown operation `{}`; list them with `rostro api operations`",
            c.operation
        ))
    })?;
    let spec = op.operation();
    let parsed = parse_call_args(&c.rest)?;
    let mut req = Request::new(spec);
    let declared = op.parameters();
    // Names are checked against the spec, so a typo is a usage error, not a silent extra
    // query parameter.
    for (k, _) in &parsed.params {
        if !declared.iter().any(|p| p.name == k) {
            let known: Vec<String> = declared.iter().map(|p| format!("--{}", p.name)).collect();
            return Err(CliError::usage(format!(
                "{} has no parameter `{k}`; it takes: {}",
                spec.id,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(" ")
                }
            )));
        }
    }
    let missing: Vec<String> = declared
        .iter()
        .filter(|p| p.required && !parsed.params.iter().any(|(k, _)| k == p.name))
        .map(|p| format!("--{}", p.name))
        .collect();
    if !missing.is_empty() {
        return Err(CliError::usage(format!(
            "{} needs the parameter(s): {}",
            spec.id,
            missing.join(" ")
        )));
    }
    for (k, v) in &parsed.params {
        match declared.iter().find(|p| p.name == k).map(|p| p.location) {
            Some(ParamLocation::Path) => req.path_param(k, v),
            _ => req.query(k, v.clone()),
        }
    }
    let body = match &parsed.body_file {
        Some(f) => build_body(&BodyArgs {
            input: Some(f.clone()),
            ..BodyArgs::default()
        })?,
        None => build_body(&parsed.body)?,
    };
    if parsed.body.raw_body && parsed.body_file.is_none() {
        return Err(CliError::usage("--raw-body applies to --body FILE|-"));
    }
    check_json_input(
        &body,
        parsed.body_file.as_deref(),
        &[],
        parsed.body.raw_body,
    )?;
    apply_body(&mut req, &body, &[])?;
    ctx.block_on(async {
        let s = ctx.session(false).await?;
        send_and_print(ctx, &s, req, false, None).await?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globals_after_the_operation_are_lifted_and_values_stay() {
        let cmd = crate::cli::command();
        let globals: Vec<clap::Arg> = cmd
            .get_arguments()
            .filter(|a| a.is_global_set())
            .cloned()
            .collect();
        let args = |s: &[&str]| s.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        let (lifted, kept) = lift_globals(
            &globals,
            &args(&[
                "--search",
                "--json",
                "--jq",
                ".name",
                "-v",
                "--first=3",
                "--timeout=5",
                "-f",
                "-v",
                "--form",
                "--retries",
                "1",
            ]),
        );
        assert_eq!(
            lifted,
            args(&["--jq", ".name", "-v", "--timeout=5", "--retries", "1"])
        );
        assert_eq!(
            kept,
            args(&["--search", "--json", "--first=3", "-f", "-v", "--form"])
        );
    }

    #[test]
    fn call_args() {
        let p = parse_call_args(&[
            "--project_id".into(),
            "42".into(),
            "--page=2".into(),
            "--body".into(),
            "b.json".into(),
            "q=1".into(),
        ])
        .unwrap();
        assert_eq!(
            p.params,
            vec![
                ("project_id".into(), "42".into()),
                ("page".into(), "2".into()),
                ("q".into(), "1".into())
            ]
        );
        assert_eq!(p.body_file.as_deref(), Some("b.json"));
        assert!(parse_call_args(&["--x".into()]).is_err());
    }
}
