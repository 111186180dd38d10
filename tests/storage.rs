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
