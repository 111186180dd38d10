//! Every numeric, duration and size flag is checked by the command line's parser: a bad
//! value is a usage error (exit 2), one line naming the flag, before anything is created.

mod common;

use common::*;

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = walk(dir)
        .into_iter()
        .map(|p| p.strip_prefix(dir).unwrap().display().to_string())
        .collect();
    names.sort();
    names
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

#[test]
fn bad_flag_values_are_usage_errors_before_anything_is_touched() {
    let cases: &[(&[&str], &str)] = &[
        (&["run", "--wait", "inf"], "--wait"),
        (&["run", "--wait", "1e400"], "--wait"),
        (&["run", "--wait=-1"], "--wait"),
        (&["run", "--wait", "NaN"], "--wait"),
        (&["run", "--memory-limit", "lots"], "--memory-limit"),
        (&["run", "--memory-limit", "1KB"], "--memory-limit"),
        (
            &["run", "--memory-limit", "99999999999999TB"],
            "--memory-limit",
        ),
        (&["run", "--batch-bytes", "12"], "--batch-bytes"),
        (&["run", "--from", "2026-13-01"], "--from"),
        (&["run", "--to", "yesterday"], "--to"),
        (
            &["run", "--from", "2026-02-01", "--to", "2026-01-01"],
            "--from",
        ),
        (&["run", "--host", "a/b"], "--host"),
        (
            &["watch", "--interval", "99999999999999999999s"],
            "--interval",
        ),
        (&["watch", "--interval", "0s"], "--interval"),
        (&["watch", "--interval", "inf"], "--interval"),
        (&["watch", "--wait", "inf"], "--wait"),
        (&["generate", "--rate", "0"], "--rate"),
        (&["generate", "--rate", "inf"], "--rate"),
        (&["generate", "--rate=-3"], "--rate"),
        (&["generate", "--rotate-every", "0"], "--rotate-every"),
        (&["generate", "--lines=-5"], "--lines"),
        (
            &["generate", "--lines", "99999999999999999999999"],
            "--lines",
        ),
        (&["generate", "--seed", "x"], "--seed"),
        (&["generate", "--start", "yesterday"], "--start"),
        (&["sql", "SELECT 1", "--max-rows=-1"], "--max-rows"),
        (&["sql", "SELECT 1", "--format", "xml"], "--format"),
    ];
    for (args, flag) in cases {
        let env = Env::new();
        let out = env.weblog(args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line, got {err}");
        assert!(err.contains(flag), "{args:?} names {flag}: {err}");
        assert_eq!(
            files_in(env.dir.path()),
            Vec::<String>::new(),
            "{args:?} touched nothing"
        );
    }
}
