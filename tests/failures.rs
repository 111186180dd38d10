//! Crashes, a busy database and operator errors: each ends with a clear message, a distinct
//! exit code, and stored data intact.

mod common;

use std::os::unix::process::ExitStatusExt;

use common::*;

const LINES: [&str; 3] = [
    r#"10.0.0.1 - - [01/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 100 "-" "curl/8.0""#,
    r#"10.0.0.2 - - [01/Nov/2026:10:00:01 +0000] "GET /a HTTP/1.1" 200 200 "-" "curl/8.0""#,
    r#"10.0.0.3 - - [02/Nov/2026:11:00:00 +0000] "GET /b HTTP/1.1" 404 0 "-" "curl/8.0""#,
];

fn write_log(env: &Env, lines: &[&str]) {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(env.logs().join("access.log"), text).unwrap();
}

fn run_args(env: &Env) -> Vec<String> {
    env.run_args()
}

fn run_with(env: &Env, args: &[String], failpoint: Option<&str>) -> std::process::Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match failpoint {
        Some(fp) => env.weblog_env(&args, &[("WEBLOG_FAILPOINT", fp)]),
        None => env.weblog(&args),
    }
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn crash_before_commit_loses_nothing() {
    let env = Env::new();
    write_log(&env, &LINES[..2]);
    env.run(&[]);
    std::fs::write(
        env.logs().join("access.log"),
        format!("{}\n{}\n{}\n", LINES[0], LINES[1], LINES[2]),
    )
    .unwrap();
    for fp in ["before-commit", "during-commit"] {
        let out = run_with(&env, &run_args(&env), Some(fp));
        assert_eq!(
            out.status.signal(),
            Some(6),
            "{fp}: aborted like a crash: {}",
            stderr(&out)
        );
        assert_eq!(
            env.count("SELECT count(*) FROM logs"),
            2,
            "{fp}: nothing half-applied"
        );
    }
    let after = env.run(&[]);
    assert_eq!(
        num(&after, "inserted"),
        1,
        "the uncommitted line is read again"
    );
    assert_eq!(env.count("SELECT count(*) FROM logs"), 3);
}

#[test]
fn crash_after_commit_reads_nothing_twice() {
    let env = Env::new();
    write_log(&env, &LINES);
    let out = run_with(&env, &run_args(&env), Some("after-commit"));
    assert_eq!(out.status.signal(), Some(6), "{}", stderr(&out));
    assert_eq!(env.count("SELECT count(*) FROM logs"), 3);
    let again = env.run(&[]);
    assert_eq!(
        num(&again, "lines_read"),
        0,
        "checkpoint was committed with the rows"
    );
    assert_eq!(num(&again, "inserted"), 0);
    assert_eq!(env.count("SELECT count(*) FROM logs"), 3);
}

#[test]
fn crash_during_export_leaves_previous_outputs_whole() {
    let env = Env::new();
    write_log(&env, &LINES[..2]);
    env.run(&[]);
    let before = env.read_out("daily_visitors.csv");
    write_log(&env, &LINES);
    let out = run_with(&env, &run_args(&env), Some("during-export"));
    assert_eq!(out.status.signal(), Some(6), "{}", stderr(&out));
    // The killed export left the old file in place, not a half-written one.
    assert_eq!(env.read_out("daily_visitors.csv"), before);
    let temp_files = || {
        std::fs::read_dir(env.path("out"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains(".tmp-")
            })
            .count()
    };
    // Outputs are written two at a time: one temporary file each, when the failpoint hit.
    let left = temp_files();
    assert!(
        (1..=2).contains(&left),
        "the killed run's temporary files: {left}"
    );
    // And the writability probe of a run killed before it removed it (no process has a pid
    // above Linux's largest, 4,194,304).
    let probe = env.path("out").join(".weblog-probe-4194999");
    std::fs::write(&probe, "").unwrap();
    env.run(&[]);
    assert_eq!(temp_files(), 0, "cleaned up by the next run");
    assert!(
        !probe.exists(),
        "a killed run's probe is removed by the next run"
    );
    let days = daily_visitors_csv(&env.read_out("daily_visitors.csv"));
    let want: Vec<(String, (usize, usize))> =
        vec![("2026-11-01".into(), (2, 2)), ("2026-11-02".into(), (1, 1))];
    assert_eq!(days.into_iter().collect::<Vec<_>>(), want);
}

#[test]
fn busy_database_exits_75_with_one_clear_line() {
    let env = Env::new();
    write_log(&env, &LINES);
    env.run(&[]);
    // Another weblog holding the lock: take it from this process.
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .open(env.path("w.duckdb.lock"))
        .unwrap();
    lock.lock().unwrap();
    let out = run_with(&env, &run_args(&env), None);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("is busy"), "{err}");
    let mut waiting = run_args(&env);
    waiting.extend(["--wait".to_string(), "0.5".to_string()]);
    let started = std::time::Instant::now();
    let out = run_with(&env, &waiting, None);
    assert_eq!(out.status.code(), Some(75));
    assert!(started.elapsed() >= std::time::Duration::from_millis(500));
    drop(lock);
    assert_eq!(num(&env.run(&[]), "inserted"), 0);
}

#[test]
fn missing_log_file_is_an_error_but_an_empty_glob_only_warns() {
    let env = Env::new();
    let out = env.run_replacing("--logs", Some(&env.path("nope.log").display().to_string()));
    assert_eq!(out.status.code(), Some(66), "{}", stderr(&out));
    assert!(stderr(&out).contains("does not exist"));
    assert_eq!(stderr(&out).lines().count(), 1);

    let empty_glob = env.path("nothing-here/*.log").display().to_string();
    let out = env.run_replacing("--logs", Some(&empty_glob));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("warning: no log file matches"));
}

#[test]
fn unwritable_output_folder_fails_before_anything_changes() {
    let env = Env::new();
    write_log(&env, &LINES[..2]);
    env.run(&[]);
    write_log(&env, &LINES);
    // A regular file where the folder should be: no permission tricks, fails even as root.
    std::fs::write(env.path("blocked"), "").unwrap();
    let out = env.run_replacing(
        "--out",
        Some(&env.path("blocked/out").display().to_string()),
    );
    assert_eq!(out.status.code(), Some(73), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1);
    assert_eq!(
        env.count("SELECT count(*) FROM logs"),
        2,
        "nothing ingested"
    );
    assert_eq!(num(&env.run(&[]), "inserted"), 1);
}

#[test]
fn corrupt_database_is_refused_and_left_untouched() {
    let env = Env::new();
    write_log(&env, &LINES);
    let garbage: Vec<u8> = (0..64 * 1024u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(env.db_path(), &garbage).unwrap();
    let out = run_with(&env, &run_args(&env), None);
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert_eq!(std::fs::read(env.db_path()).unwrap(), garbage);
}

#[test]
fn database_from_a_newer_weblog_is_refused() {
    let env = Env::new();
    write_log(&env, &LINES);
    env.run(&[]);
    {
        // A newer weblog's database: a later version, and (say) its runs table gone.
        let conn = duckdb::Connection::open(env.db_path()).unwrap();
        conn.execute_batch(
            "UPDATE weblog_meta SET value = '999' WHERE key = 'schema_version'; DROP TABLE runs;",
        )
        .unwrap();
    }
    let out = run_with(&env, &run_args(&env), None);
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    assert!(stderr(&out).contains("newer weblog"));
    assert_eq!(env.count("SELECT count(*) FROM logs"), 3);
    // Refused before anything was written: this weblog's schema was not applied to it.
    assert_eq!(
        env.count("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'runs'"),
        0,
        "the refused database was written to"
    );
    // Likewise a newer checkpoint format.
    {
        let conn = duckdb::Connection::open(env.db_path()).unwrap();
        conn.execute_batch(
            "UPDATE weblog_meta SET value = '3' WHERE key = 'schema_version';
             INSERT OR REPLACE INTO weblog_meta VALUES ('checkpoint_format', '99');",
        )
        .unwrap();
    }
    let out = run_with(&env, &run_args(&env), None);
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("checkpoint format 99"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_database_that_is_not_weblogs_is_refused_untouched() {
    let env = Env::new();
    write_log(&env, &LINES);
    {
        let conn = duckdb::Connection::open(env.db_path()).unwrap();
        conn.execute_batch("CREATE TABLE invoices (id INTEGER); INSERT INTO invoices VALUES (1);")
            .unwrap();
    }
    let out = run_with(&env, &run_args(&env), None);
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a weblog database"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.count("SELECT count(*) FROM duckdb_tables()"), 1);
}

#[test]
fn a_lock_file_left_by_a_dead_run_never_names_it() {
    let env = Env::new();
    write_log(&env, &LINES);
    env.run(&[]);
    let lock = env.path("w.duckdb.lock");
    // A finished run leaves no name behind.
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), "");
    // A killed run's pid (long gone), while another program holds the lock.
    std::fs::write(&lock, "pid 4194000").unwrap();
    let held = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&lock)
        .unwrap();
    held.lock().unwrap();
    let out = run_with(&env, &run_args(&env), None);
    drop(held);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("another process holds it"),
        "{}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains("4194000"),
        "named a dead pid: {}",
        stderr(&out)
    );
}

#[test]
fn an_analysts_open_connection_is_waited_for_then_named() {
    let env = Env::new();
    write_log(&env, &LINES[..2]);
    env.run(&[]);
    write_log(&env, &LINES);
    // An analyst's read-only DuckDB connection, held by this (test) process: DuckDB's file lock,
    // not weblog's lock file.
    let analyst = env.db();
    let mut args = run_args(&env);
    args.extend(["--wait".to_string(), "1".to_string()]);
    let started = std::time::Instant::now();
    let out = run_with(&env, &args, None);
    assert_eq!(out.status.code(), Some(75), "{}", stderr(&out));
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(900),
        "waited for --wait"
    );
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("pid {}", std::process::id())),
        "names the holder: {err}"
    );

    // Within --wait: the run waits until the connection closes, then stores the new line.
    args.pop();
    args.push("30".to_string());
    let run = std::thread::spawn({
        let env_dir = env.dir.path().to_path_buf();
        move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_weblog"))
                .args(&args)
                .current_dir(env_dir)
                .output()
                .unwrap()
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(1500));
    drop(analyst);
    let out = run.join().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(num(&summary, "inserted"), 1);
    assert_eq!(env.count("SELECT count(*) FROM logs"), 3);
}

#[test]
fn overlapping_runs_the_second_waits_or_exits_75_naming_the_first() {
    let env = Env::new();
    write_log(&env, &LINES);
    let args = run_args(&env);
    // The first run holds the database for 3 s just before committing.
    let first = std::process::Command::new(env!("CARGO_BIN_EXE_weblog"))
        .args(&args)
        .current_dir(env.dir.path())
        .env("WEBLOG_FAILPOINT", "before-commit:pause=3000")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lock = env.path("w.duckdb.lock");
    let started = std::time::Instant::now();
    while !std::fs::read_to_string(&lock)
        .unwrap_or_default()
        .starts_with("pid")
    {
        assert!(
            started.elapsed().as_secs() < 10,
            "first run never took the lock"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let second = run_with(&env, &args, None);
    assert_eq!(second.status.code(), Some(75), "{}", stderr(&second));
    let err = stderr(&second);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&format!("pid {}", first.id())),
        "names the holder: {err}"
    );
    assert!(
        !err.contains("Conflicting lock"),
        "not DuckDB's raw error: {err}"
    );
    // A third run that may wait gets its turn once the first is done, and finds nothing new.
    let mut waiting = args.clone();
    waiting.extend(["--wait".to_string(), "30".to_string()]);
    let third = run_with(&env, &waiting, None);
    assert!(third.status.success(), "{}", stderr(&third));
    let first = first.wait_with_output().unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let third: serde_json::Value = serde_json::from_slice(&third.stdout).unwrap();
    assert_eq!(
        num(&third, "inserted"),
        0,
        "nothing half-applied, nothing twice"
    );
    assert_eq!(env.count("SELECT count(*) FROM logs"), 3);
}

#[test]
fn an_unreadable_log_fails_that_file_only() {
    let env = Env::new();
    write_log(&env, &LINES);
    // A directory where a log file is named: opening works, reading fails (EISDIR), even as root.
    let bad = env.logs().join("dir.log");
    std::fs::create_dir(&bad).unwrap();
    let mut args = run_args(&env);
    args.extend(["--logs".to_string(), bad.display().to_string()]);
    let out = run_with(&env, &args, None);
    assert_eq!(out.status.code(), Some(66), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("dir.log"), "{err}");
    assert_eq!(
        env.count("SELECT count(*) FROM logs"),
        3,
        "the readable file was ingested"
    );
}

#[test]
fn disk_full_while_exporting_fails_cleanly_and_keeps_the_data() {
    let env = Env::new();
    write_log(&env, &LINES);
    let out_dir = env.path("tiny");
    std::fs::create_dir_all(&out_dir).unwrap();
    // A 64 KiB tmpfs: the outputs do not fit. Needs root and mount rights (CI has both).
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&out_dir)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        tool_missing("cannot mount a tmpfs here (needs root); disk-full export untested");
        return;
    }
    let out = env.run_replacing("--out", Some(&out_dir.display().to_string()));
    let leftovers: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    let _ = std::process::Command::new("umount").arg(&out_dir).status();
    assert_eq!(out.status.code(), Some(74), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        leftovers.is_empty(),
        "temporary files left behind: {leftovers:?}"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM logs"),
        3,
        "the data is stored"
    );
    assert_eq!(num(&env.run(&[]), "inserted"), 0);
}
