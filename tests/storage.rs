//! How the warehouse stores rows: raw lines compressed (zstd needs DuckDB's storage format
//! of 1.2 or later, which a new warehouse is created in).

mod common;

use common::{Env, fixture};

#[test]
fn a_new_warehouse_stores_raw_lines_with_zstd() {
    let env = Env::new();
    let sample = fixture("apache_logs");
    std::fs::copy(&sample, env.logs().join("access.log")).unwrap();
    env.run(&[]);
    let conn = env.db();
    let version: String = conn
        .query_row(
            "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = current_database()",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(version, "v1.2.0+");
    let compressions: Vec<(String, i64)> = conn
        .prepare(
            "SELECT compression, count(*) FROM pragma_storage_info('log_rows')
             WHERE column_name = 'raw_log' AND segment_type = 'VARCHAR' GROUP BY ALL",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        compressions
            .iter()
            .map(|(c, _)| c.as_str())
            .collect::<Vec<_>>(),
        ["ZSTD"],
        "{compressions:?}"
    );
    // The raw lines take a fraction of the file they came from.
    let raw = std::fs::metadata(&sample).unwrap().len();
    let stored: i64 = conn
        .query_row(
            "SELECT count(DISTINCT block_id) * 262144 FROM pragma_storage_info('log_rows')
             WHERE column_name = 'raw_log' AND block_id >= 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        (stored as u64) < raw / 2,
        "raw_log takes {stored} bytes for {raw} bytes of log"
    );
}

/// A run killed while DuckDB was creating the database leaves an empty (or all-zero) file;
/// the next run starts a new warehouse there instead of refusing it for ever. A file with
/// content that is not a database is still refused, untouched.
#[test]
fn a_database_file_left_empty_by_a_killed_run_is_started_again() {
    for size in [0usize, 4096, 12_288] {
        let env = Env::new();
        std::fs::copy(fixture("apache_logs"), env.logs().join("access.log")).unwrap();
        std::fs::write(env.db_path(), vec![0u8; size]).unwrap();
        let summary = env.run(&[]);
        assert!(
            common::num(&summary, "inserted") > 9_000,
            "{size}: {summary}"
        );
    }
    let env = Env::new();
    std::fs::copy(fixture("apache_logs"), env.logs().join("access.log")).unwrap();
    std::fs::write(env.db_path(), b"not a database\0\0\0").unwrap();
    let out = env.weblog(
        &env.run_args()
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(!out.status.success());
    assert_eq!(
        std::fs::read(env.db_path()).unwrap(),
        b"not a database\0\0\0"
    );
}

/// A backfill's batches are cut at whole DuckDB row groups (so no checkpoint merges part-full
/// ones), the rows after a cut going into the next batch with checkpoints that lag behind
/// them: a run killed after its first commit has stored rows past its checkpoint, and the
/// next run, reading them again, still stores each distinct line once.
#[test]
fn batches_are_whole_row_groups_and_a_kill_after_a_cut_stores_each_line_once() {
    const ROW_GROUP: i64 = 122_880;
    let env = Env::new();
    let generated = env.generated(300_000, &["--seed", "41"]);
    // Every fifth line logged twice (the second is the same request, stored once).
    let mut lines = Vec::with_capacity(generated.len() * 6 / 5);
    for (i, l) in generated.iter().enumerate() {
        lines.push(l.clone());
        if i % 5 == 0 {
            lines.push(l.clone());
        }
    }
    let log = env.logs().join("access.log");
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let distinct: std::collections::BTreeSet<&String> = lines.iter().collect();

    let args = env.run_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let killed = env.weblog_env(&args, &[("WEBLOG_FAILPOINT", "after-commit")]);
    assert!(!killed.status.success(), "the failpoint aborts the run");
    let stored = env.count("SELECT count(*) FROM logs");
    assert!(
        stored > 0 && stored % ROW_GROUP == 0,
        "{stored} rows stored"
    );
    let checkpoint = env.count(r#"SELECT "offset" FROM checkpoints"#);
    let stored_to = env.count("SELECT max(source_offset) FROM logs");
    assert!(
        stored_to > checkpoint,
        "rows past the checkpoint ({checkpoint}) were stored, up to {stored_to}"
    );

    env.run(&[]);
    assert_eq!(
        env.count("SELECT count(*) FROM logs"),
        distinct.len() as i64
    );
    assert_eq!(
        env.count(
            "SELECT count(*) FROM (SELECT raw_log FROM logs GROUP BY ALL HAVING count(*) > 1)"
        ),
        0
    );
    let conn = env.db();
    let groups: Vec<i64> = conn
        .prepare(
            "SELECT sum(count) FROM pragma_storage_info('log_rows')
             WHERE column_name = 'time_local' AND segment_type <> 'VALIDITY'
             GROUP BY row_group_id ORDER BY row_group_id",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(groups.len() >= 3, "{groups:?}");
    assert!(
        groups[..groups.len() - 1].iter().all(|&n| n == ROW_GROUP),
        "every row group but the last is full: {groups:?}"
    );
}
