//! The per-day rollups (`sql/rollups/*.sql`): recomputed for the days that received rows
//! since the last run, or whole when new or when their SQL changed.

use duckdb::Connection;

use super::{RollupParams, SqlLib, SqlOutput, sql_error, strip_sql};
use crate::error::{Error, ErrorKind, Result};

/// Bring every rollup up to date, in one transaction with emptying `rollup_pending`.
/// `prepare` defines the macros of `lib/` ([`super::prepare`]); it is called only when a
/// rollup has something to do.
pub fn refresh_rollups(
    conn: &Connection,
    rollups: &[SqlOutput],
    lib: &SqlLib,
    params: &RollupParams,
    prepare: &mut dyn FnMut() -> Result<()>,
) -> Result<()> {
    let hash = |r: &SqlOutput| rollup_hash(r, lib, params);
    // Nothing pending and every rollup current: no transaction at all (the no-op run's case).
    let pending: i64 = conn
        .query_row("SELECT count(*) FROM rollup_pending", [], |r| r.get(0))
        .map_err(|e| sql_error("rollups", e))?;
    if pending == 0 {
        let (hashes, tables) = rollup_state(conn)?;
        let current = rollups.iter().all(|r| {
            tables.contains(&format!("rollup_{}", r.name))
                && hashes.get(&format!("rollup:{}", r.name)) == Some(&hash(r))
        });
        if current {
            return Ok(());
        }
    }
    prepare()?;
    conn.execute_batch("BEGIN TRANSACTION")
        .map_err(|e| sql_error("rollups", e))?;
    match refresh_in_transaction(conn, rollups, lib, &hash) {
        Ok(()) => {
            crate::failpoint::hit("during-rollup");
            conn.execute_batch("COMMIT")
                .map_err(|e| sql_error("rollups", e))
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

fn refresh_in_transaction(
    conn: &Connection,
    rollups: &[SqlOutput],
    lib: &SqlLib,
    rollup_hash: &dyn Fn(&SqlOutput) -> String,
) -> Result<()> {
    let source = strip_sql(&lib.source_logs.sql);
    let pending: (i64, Option<String>, Option<String>) = conn
        .query_row(
            "SELECT count(*), min(day)::VARCHAR, max(day)::VARCHAR FROM rollup_pending",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(|e| sql_error("rollups", e))?;
    if let (Some(lo), Some(hi)) = (&pending.1, &pending.2) {
        conn.execute("SET VARIABLE weblog_pending_min = ?::DATE", [lo])
            .and_then(|_| conn.execute("SET VARIABLE weblog_pending_max = ?::DATE", [hi]))
            .map_err(|e| sql_error("rollups", e))?;
    }
    let (stored_hashes, tables) = rollup_state(conn)?;
    for rollup in rollups {
        let started = std::time::Instant::now();
        let table = format!("rollup_{}", rollup.name);
        let key = format!("rollup:{}", rollup.name);
        let hash = rollup_hash(rollup);
        let stored = stored_hashes.get(&key);
        let exists = tables.contains(&table);
        let query = strip_sql(&rollup.sql);
        let fail = |e| sql_error(&rollup.origin, e);
        if !exists || stored != Some(&hash) {
            // New or changed: compute every day.
            conn.execute_batch(&format!(
                "CREATE OR REPLACE TEMP VIEW source_logs AS {source}\n;
                 CREATE OR REPLACE TABLE \"{table}\" AS {query}\n;"
            ))
            .map_err(fail)?;
            conn.execute(
                "INSERT OR REPLACE INTO weblog_meta VALUES (?, ?)",
                [&key, &hash],
            )
            .map_err(fail)?;
            let has_day: bool = conn
                .query_row(
                    "SELECT count(*) > 0 FROM duckdb_columns() WHERE table_name = ? AND column_name = 'day'",
                    [&table],
                    |r| r.get(0),
                )
                .map_err(fail)?;
            if !has_day {
                return Err(Error::new(
                    ErrorKind::Sql,
                    format!("{}: a rollup must return a `day` column", rollup.origin),
                ));
            }
        } else if pending.0 > 0 {
            conn.execute_batch(&format!(
                "CREATE OR REPLACE TEMP VIEW source_logs AS
                     SELECT * FROM ({source}\n) AS everything
                     WHERE day BETWEEN getvariable('weblog_pending_min') AND getvariable('weblog_pending_max')
                       AND day IN (SELECT day FROM rollup_pending);
                 DELETE FROM \"{table}\" WHERE day IN (SELECT day FROM rollup_pending);
                 INSERT INTO \"{table}\" BY NAME {query}\n;"
            ))
            .map_err(fail)?;
        }
        tracing::debug!(rollup = %rollup.name, ms = started.elapsed().as_millis() as u64, "rollup");
    }
    conn.execute_batch("DELETE FROM rollup_pending")
        .map_err(|e| sql_error("rollups", e))
}

/// What a rollup table was built from: its SQL, the shared SQL it reads through, and the
/// parameters it uses (the visit timeout, for the rollups that name it).
fn rollup_hash(rollup: &SqlOutput, lib: &SqlLib, params: &RollupParams) -> String {
    let mut key = format!(
        "{}\0{}\0{}",
        rollup.sql, lib.source_logs.sql, lib.macros.sql
    );
    if rollup.sql.contains("visit_timeout_us") {
        key.push_str(&format!("\0{}", params.visit_timeout.as_micros()));
    }
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(key.as_bytes()))
}

type RollupState = (
    std::collections::HashMap<String, String>,
    std::collections::HashSet<String>,
);

/// The SQL hash each rollup table was built from (`rollup:<name>` in weblog_meta), and the
/// tables that exist: read once, not per rollup (those catalog queries were most of a
/// no-op run).
fn rollup_state(conn: &Connection) -> Result<RollupState> {
    let fail = |e| sql_error("rollups", e);
    let mut stmt = conn
        .prepare("SELECT key, value FROM weblog_meta WHERE key LIKE 'rollup:%'")
        .map_err(fail)?;
    let hashes = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(fail)?
        .collect::<duckdb::Result<_>>()
        .map_err(fail)?;
    let mut stmt = conn
        .prepare("SELECT table_name FROM duckdb_tables() WHERE NOT temporary")
        .map_err(fail)?;
    let tables = stmt
        .query_map([], |r| r.get(0))
        .map_err(fail)?
        .collect::<duckdb::Result<_>>()
        .map_err(fail)?;
    Ok((hashes, tables))
}
