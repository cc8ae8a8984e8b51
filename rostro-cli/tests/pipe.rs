//! Writing into a closed pipe ends quietly with status 0 (no panic, no error message).

mod common;

use common::*;

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn broken_pipe_exits_quietly() {
    let env = Env::new();
    let bin = assert_cmd::cargo::cargo_bin("rostro");
    for args in [
        "--mock --json search --limit 500",
        "--mock search --limit 500",
        "api operations",
        "--mock chat --no-stream hello",
        "completion bash",
    ] {
        let script = format!(
            "{} {args} | head -c1 > /dev/null; echo \"status=${{PIPESTATUS[0]}}\"",
            bin.display()
        );
        let template = env.std_cmd(Vec::<&str>::new());
        let mut cmd = std::process::Command::new("bash");
        cmd.arg("-c")
            .arg(&script)
            .env_clear()
            .current_dir(env.path());
        // The same isolated environment as the other tests.
        for (k, v) in template.get_envs() {
            if let Some(v) = v {
                cmd.env(k, v);
            }
        }
        let o = tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap();
        let out = stdout(&o);
        let err = stderr(&o);
        assert!(out.contains("status=0"), "{args}: {out} {err}");
        assert!(!err.contains("panicked"), "{args}: {err}");
        assert!(!err.contains("error"), "{args}: {err}");
    }
}
