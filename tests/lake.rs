//! The lake's compaction, with the real binary: many small cron-like runs leave one file per
//! finished (day, host); a late batch for an old day is compacted again; a run killed between
//! a compacted file's rename and the deletions leaves a lake that the reader rule (read with
//! the documented DuckDB macro, examples/lake_files.sql) still reads exactly once, and the
//! next run completes the compaction. Each time the lake's rows are compared with the
//! warehouse's `logs`, as multisets of lines.

mod common;

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};

use common::*;

const SIGABRT: i32 = 6;

/// `weblog generate` lines spanning about four days (from 2026-11-01), in order.
fn generated(env: &Env, lines: u64) -> Vec<String> {
    let dir = env.path("gen");
    let n = lines.to_string();
    let rate = format!("{}", lines as f64 / (4.0 * 86_400.0));
    let out = env.weblog(&[
        "generate",
        "--dir",
        &dir.display().to_string(),
        "--lines",
        &n,
        "--rotate-every",
        "1000000",
        "--rate",
        &rate,
        "--seed",
        "11",
        "--start",
        "2026-11-01T00:00:00+00:00",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    complete_lines(&dir.join("log_a.txt"))
}

fn lake_args(env: &Env) -> Vec<String> {
    let mut args = env.run_args();
    args.extend([
        "--lake".into(),
        env.path("lake").display().to_string(),
        "--host".into(),
        "web-1".into(),
    ]);
    args
}

fn run_ok(env: &Env, args: &[String], failpoint: Option<&str>) -> std::process::Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = match failpoint {
        Some(f) => env.weblog_env(&args, &[("WEBLOG_FAILPOINT", f)]),
        None => env.weblog(&args),
    };
    if failpoint.is_none() {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// Every data file of the lake (names starting `.` are not data), by partition folder.
fn lake_files(lake: &Path) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let logs = lake.join("logs");
    for day in std::fs::read_dir(&logs).unwrap().map(Result::unwrap) {
        for host in std::fs::read_dir(day.path()).unwrap().map(Result::unwrap) {
            let key = format!(
                "{}/{}",
                day.file_name().to_string_lossy(),
                host.file_name().to_string_lossy()
            );
            for f in std::fs::read_dir(host.path()).unwrap().map(Result::unwrap) {
                let name = f.file_name().to_string_lossy().into_owned();
                if !name.starts_with('.') {
                    out.entry(key.clone()).or_default().push(name);
                }
            }
        }
    }
    for names in out.values_mut() {
        names.sort();
    }
    out
}

/// The lake's lines as a multiset, read by the documented reader (examples/lake_files.sql).
fn lake_lines_by_rule(lake: &Path) -> BTreeMap<String, i64> {
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let macro_sql = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/lake_files.sql"),
    )
    .unwrap();
    conn.execute_batch(&macro_sql).unwrap();
    conn.execute_batch(&format!(
        "SET VARIABLE lake_files = (SELECT list(file ORDER BY file) FROM lake_files('{}'))",
        lake.display()
    ))
    .unwrap();
    conn.prepare(
        "SELECT raw_log, count(*) FROM read_parquet(getvariable('lake_files'), hive_partitioning = true,
             hive_types = {'day': DATE, 'host': VARCHAR}, union_by_name = true) GROUP BY ALL",
    )
    .unwrap()
    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// Every file of the lake read, no rule applied.
fn lake_rows_all_files(lake: &Path) -> i64 {
    let conn = duckdb::Connection::open_in_memory().unwrap();
    conn.query_row(
        &format!(
            "SELECT count(*) FROM read_parquet('{}/logs/*/*/part-*.parquet')",
            lake.display()
        ),
        [],
        |r| r.get(0),
    )
    .unwrap()
}

/// The warehouse's lines as a multiset.
fn warehouse_lines(env: &Env) -> BTreeMap<String, i64> {
    env.db()
        .prepare("SELECT raw_log, count(*) FROM logs GROUP BY ALL")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Every file's rows in batch order, each batch's in insertion order: the runs read one
/// growing file, so `source_offset` grows with the row's place in the file.
fn assert_rows_in_order(lake: &Path) {
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let out_of_order: i64 = conn
        .query_row(
            &format!(
                "SELECT count(*) FILTER (WHERE previous >= source_offset) FROM (
                     SELECT source_offset, lag(source_offset) OVER (PARTITION BY filename ORDER BY file_row_number) AS previous
                     FROM read_parquet('{}/logs/*/*/part-*.parquet', filename = true, file_row_number = true))",
                lake.display()
            ),
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(out_of_order, 0, "rows out of batch order");
}

fn newest_partition(files: &BTreeMap<String, Vec<String>>) -> String {
    files.keys().max().unwrap().clone()
}

/// One file per finished (day, host), compacted: `part-web-1-<id>-c<lo>-<hi>.parquet`.
fn assert_one_file_per_finished_day(files: &BTreeMap<String, Vec<String>>) {
    let newest = newest_partition(files);
    for (partition, names) in files {
        if *partition == newest {
            continue;
        }
        assert_eq!(names.len(), 1, "{partition}: {names:?}");
        let name = &names[0];
        let range = name
            .strip_prefix("part-web-1-")
            .and_then(|n| n.strip_suffix(".parquet"))
            .and_then(|n| n.split_once("-c"))
            .map(|(_, r)| r.to_string());
        assert!(
            range.is_some_and(|r| r.split('-').all(|n| n.parse::<u64>().is_ok())),
            "{partition}: {name} is a compacted file"
        );
    }
}

#[test]
fn many_small_runs_leave_one_file_per_finished_day_holding_the_rows_of_logs() {
    let env = Env::new();
    let lines = generated(&env, 4000);
    let live = env.logs().join("access.log");
    let args = lake_args(&env);
    for (from, to) in random_cuts(lines.len(), 24, 7) {
        append(&live, &lines[from..to]);
        run_ok(&env, &args, None);
    }
    let lake = env.path("lake");
    let files = lake_files(&lake);
    assert!(files.len() >= 4, "{files:?}");
    assert_one_file_per_finished_day(&files);
    let expected = warehouse_lines(&env);
    assert_eq!(lake_lines_by_rule(&lake), expected);
    // Nothing superseded is left: every file read, the rows are still each once.
    let total: i64 = expected.values().sum();
    assert_eq!(lake_rows_all_files(&lake), total);
    assert_rows_in_order(&lake);

    // A late batch for the first day: a small file, compacted again with the old one.
    let first = files.keys().next().unwrap().clone();
    let old = files[&first][0].clone();
    let late: Vec<String> = lines[..40]
        .iter()
        .map(|l| l.replacen("HTTP/1.1", "HTTP/1.0", 1))
        .collect();
    append(&live, &late);
    run_ok(&env, &args, None);
    let files = lake_files(&lake);
    assert_one_file_per_finished_day(&files);
    assert_ne!(files[&first][0], old, "{first}: compacted again");
    let expected = warehouse_lines(&env);
    assert_eq!(expected.values().sum::<i64>(), total + 40);
    assert_eq!(lake_lines_by_rule(&lake), expected);
    assert_eq!(lake_rows_all_files(&lake), total + 40);
}

#[test]
fn a_compaction_killed_after_its_rename_is_completed_by_the_next_run() {
    let env = Env::new();
    let lines = generated(&env, 3000);
    let live = env.logs().join("access.log");
    let args = lake_args(&env);
    let lake = env.path("lake");
    // Runs that never compact (each run's newest day is the only one with two files at most
    // until the day turns), then one that crosses into the next days and is killed right after
    // its first compacted file is renamed into place.
    let cuts = random_cuts(lines.len(), 12, 3);
    let mut aborted = 0;
    for (i, (from, to)) in cuts.iter().enumerate() {
        append(&live, &lines[*from..*to]);
        let out = run_ok(&env, &args, Some("lake-compact-after-rename"));
        if out.status.success() {
            continue;
        }
        assert_eq!(
            out.status.signal(),
            Some(SIGABRT),
            "run {i}: {:?}",
            out.status
        );
        aborted += 1;
        // Killed in the window: the compacted file and the files it supersedes are both
        // there. Read with the rule, every row of logs is in the lake exactly once.
        let files = lake_files(&lake);
        let expected = warehouse_lines(&env);
        let total: i64 = expected.values().sum();
        assert!(
            lake_rows_all_files(&lake) > total,
            "the window is open: superseded files are still there ({files:?})"
        );
        assert_eq!(
            lake_lines_by_rule(&lake),
            expected,
            "after the kill of run {i}"
        );
        // The next run (no failpoint) completes it: the superseded files go.
        run_ok(&env, &args, None);
        let files = lake_files(&lake);
        assert_one_file_per_finished_day(&files);
        let expected = warehouse_lines(&env);
        assert_eq!(lake_lines_by_rule(&lake), expected);
        assert_eq!(lake_rows_all_files(&lake), expected.values().sum::<i64>());
    }
    assert!(aborted >= 2, "{aborted} runs killed in a compaction");
    // No temporary file is left behind.
    let stray: Vec<PathBuf> = files_under(&lake.join("logs"))
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}
