//! Commands the CLI prints for the user to run next ("resume with: ..."). They carry the
//! global options that chose the account and the server (`--profile`, `--base-url`, `--mock`,
//! and the request settings), so each one re-runs as printed, in the same shell.

use std::borrow::Cow;

use crate::cli::Global;

/// `rostro [the globals that matter] ARGS...`, each word quoted for a POSIX shell.
pub fn command<S: AsRef<str>>(g: &Global, args: &[S]) -> String {
    let mut words: Vec<String> = vec!["rostro".into()];
    if let Some(p) = &g.profile {
        words.extend(["--profile".into(), p.clone()]);
    }
    if let Some(u) = &g.base_url {
        words.extend(["--base-url".into(), u.clone()]);
    }
    if g.mock {
        words.push("--mock".into());
    }
    if let Some(t) = g.timeout {
        words.extend(["--timeout".into(), t.as_secs_f64().to_string()]);
    }
    if let Some(r) = g.retries {
        words.extend(["--retries".into(), r.to_string()]);
    }
    if let Some(d) = g.retry_delay {
        words.extend(["--retry-delay".into(), d.as_secs_f64().to_string()]);
    }
    if g.idempotent {
        words.push("--idempotent".into());
    }
    words.extend(args.iter().map(|a| a.as_ref().to_owned()));
    words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
}

/// Like [`command`], naming the profile in effect (`--profile NAME`) even when it came from
/// `ROSTRO_PROFILE` or the config file: for commands about one account's money and keys
/// (refunds, balances), which must not run against another profile in another shell.
pub fn command_as<S: AsRef<str>>(g: &Global, profile: &str, args: &[S]) -> String {
    let mut g = g.clone();
    g.profile = Some(profile.to_owned());
    command(&g, args)
}

/// `word` as one POSIX shell word: as it is when it holds only safe characters, else in
/// single quotes (a quote inside written as `'\''`).
pub fn quote(word: &str) -> Cow<'_, str> {
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        Cow::Borrowed(word)
    } else {
        Cow::Owned(format!("'{}'", word.replace('\'', r"'\''")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn globals(args: &[&str]) -> Global {
        let mut argv = vec!["rostro"];
        argv.extend_from_slice(args);
        argv.extend_from_slice(&["models"]);
        crate::cli::Cli::try_parse_from(argv).unwrap().global
    }

    #[test]
    fn carries_the_account_and_server_options() {
        let g = globals(&[
            "--profile",
            "work",
            "--base-url",
            "http://127.0.0.1:9",
            "--json",
        ]);
        assert_eq!(
            command(&g, &["imagine", "wait", "u-1", "--out", "t.png"]),
            "rostro --profile work --base-url http://127.0.0.1:9 imagine wait u-1 --out t.png"
        );
        let g = globals(&[
            "--mock",
            "--timeout",
            "30",
            "--retries",
            "5",
            "--retry-delay",
            "0.25",
        ]);
        assert_eq!(
            command(&g, &["imagine", "wait", "u-1"]),
            "rostro --mock --timeout 30 --retries 5 --retry-delay 0.25 imagine wait u-1"
        );
    }

    #[test]
    fn names_the_profile_in_effect_for_money_commands() {
        let g = globals(&["--base-url", "http://127.0.0.1:9"]);
        assert_eq!(
            command_as(
                &g,
                "node",
                &["wallet", "refund", "--token", "@my token.txt"]
            ),
            "rostro --profile node --base-url http://127.0.0.1:9 wallet refund --token \
             '@my token.txt'"
        );
        let g = globals(&["--profile", "work", "--mock"]);
        assert_eq!(
            command_as(&g, "work", &["wallet", "info"]),
            "rostro --profile work --mock wallet info"
        );
    }

    #[test]
    fn quotes_what_a_shell_would_split() {
        assert_eq!(quote("plain-file_1.png"), "plain-file_1.png");
        assert_eq!(quote("my file.png"), "'my file.png'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("$HOME"), "'$HOME'");
    }
}
