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
            "SELECT compression, count(*) FROM pragma_storage_info('logs')
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
            "SELECT count(DISTINCT block_id) * 262144 FROM pragma_storage_info('logs')
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
