//! Rollups and retention (`weblog prune`): a rollup rebuilt (new SQL, another visit
//! timeout) is built from `logs`, which holds no rows of the pruned days any more; their rows
//! are carried over from the old table instead, as the old definition computed them.

use super::sql_error;
use crate::error::Result;

use duckdb::Connection;

/// The retention horizon (`weblog prune`): the days before it have no raw rows left.
pub(super) fn pruned_before(conn: &Connection) -> Result<Option<String>> {
    conn.query_row(
        "SELECT max(value) FROM weblog_meta WHERE key = 'pruned_before'",
        [],
        |r| r.get(0),
    )
    .map_err(|e| sql_error("rollups", e))
}

/// Copy the rows of the pruned days (before `pruned`) of `table`, if it exists, aside into
/// `weblog_kept_days`: a rebuild reads `logs`, which has none of them any more, and would
/// lose those days. Returns whether there are any.
pub(super) fn stash_pruned_days(
    conn: &Connection,
    table: &str,
    pruned: &str,
) -> duckdb::Result<bool> {
    let exists: bool = conn.query_row(
        "SELECT count(*) > 0 FROM duckdb_tables() WHERE table_name = ? AND NOT temporary",
        [table],
        |r| r.get(0),
    )?;
    if !exists {
        return Ok(false);
    }
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE weblog_kept_days AS
             SELECT * FROM \"{table}\" WHERE day < DATE '{pruned}';"
    ))?;
    conn.query_row("SELECT count(*) > 0 FROM weblog_kept_days", [], |r| {
        r.get(0)
    })
}

/// Put the rows [`stash_pruned_days`] set aside into `table` (rebuilt), by the columns both
/// have; returns how many days they hold. Those days keep the old definition's values.
pub(super) fn restore_pruned_days(conn: &Connection, table: &str) -> duckdb::Result<u64> {
    let common: Vec<String> = conn
        .prepare(
            "SELECT n.column_name FROM duckdb_columns() n
             JOIN duckdb_columns() o ON o.column_name = n.column_name
                 AND o.table_name = 'weblog_kept_days' AND o.database_name = 'temp'
             WHERE n.table_name = ? AND n.database_name <> 'temp' ORDER BY n.column_index",
        )?
        .query_map([table], |r| r.get(0))?
        .collect::<duckdb::Result<_>>()?;
    let list: Vec<String> = common.iter().map(|c| format!("\"{c}\"")).collect();
    let list = list.join(", ");
    let days: i64 = conn.query_row(
        "SELECT count(DISTINCT day) FROM weblog_kept_days",
        [],
        |r| r.get(0),
    )?;
    conn.execute_batch(&format!(
        "INSERT INTO \"{table}\" ({list}) SELECT {list} FROM weblog_kept_days ORDER BY day;
         DROP TABLE weblog_kept_days;"
    ))?;
    Ok(days as u64)
}
