//! Golden tests: every command run in-process against the `--mock` server, human and
//! `--json`, as a pipe and (where output differs) as a terminal; stdout and stderr compared
//! with `tests/golden/*.txt`. Refresh with `UPDATE_GOLDEN=1 cargo test -p rostro-cli --test
//! golden`. `every_command_has_a_golden_test` walks the clap tree: a command no golden file
//! runs fails it.

#[path = "golden/harness.rs"]
mod harness;

use harness::Golden;

#[test]
fn search() {
    let mut g = Golden::new("search");
    g.run(&["--mock", "search", "dragon", "--limit", "3"]);
    g.tty(&["--mock", "search", "dragon", "--limit", "3"]);
    g.run(&["--mock", "--json", "search", "dragon", "--limit", "2"]);
    g.tty(&["--mock", "--json", "search", "dragon", "--limit", "1"]);
    g.finish();
}

#[test]
fn models() {
    let mut g = Golden::new("models");
    g.run(&["--mock", "models"]);
    g.run(&["--mock", "--json", "models"]);
    g.finish();
}
