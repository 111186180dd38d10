//! Stage 4: the outputs. Two kinds of SQL file, both plain SELECTs:
//!
//! - `sql/rollups/<name>.sql` reads `source_logs` (the `logs` rows of the days to refresh,
//!   plus `is_human`) and must return a `day` column. weblog keeps its result in the table
//!   `rollup_<name>`, recomputing only the days that received rows since the last run (the
//!   whole table when it is new or its SQL changed), so outputs never rescan all history.
//! - `sql/<name>.sql` makes the output `<name>`, usually from the rollups, filtered with the
//!   macros `in_range(day)`, `pick(all, humans)` and `site_host()` that reflect `--from`,
//!   `--to`, `--humans-only` and `--site-host`.
//!
//! Adding either kind needs no Rust.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use duckdb::Connection;

use crate::error::{Error, ErrorKind, Result, one_line};

include!(concat!(env!("OUT_DIR"), "/builtin_sql.rs"));

/// The temp table an output is materialised into before it is exported.
pub const OUTPUT_TABLE: &str = "weblog_output";

#[derive(Debug, Clone)]
pub struct SqlOutput {
    pub name: String,
    pub sql: String,
    /// Where the SQL came from: a file path, or "built-in".
    pub origin: String,
}

#[derive(Debug, Clone)]
pub struct SqlSet {
    pub outputs: Vec<SqlOutput>,
    pub rollups: Vec<SqlOutput>,
}

/// Filters the outputs honour, handed to SQL as typed session variables.
#[derive(Debug, Clone, Default)]
pub struct OutputFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub humans_only: bool,
    pub site_host: Option<String>,
}

/// The SQL in `dir` (`*.sql` and `rollups/*.sql`), or the built-in SQL for whichever of the
/// two folders does not exist.
pub fn load(dir: &Path) -> Result<SqlSet> {
    Ok(SqlSet {
        outputs: read_dir_or(dir, BUILTIN_SQL)?,
        rollups: read_dir_or(&dir.join("rollups"), BUILTIN_ROLLUPS)?,
    })
}

fn read_dir_or(dir: &Path, builtin: &[(&str, &str)]) -> Result<Vec<SqlOutput>> {
    if !dir.exists() {
        return Ok(builtin
            .iter()
            .map(|(name, sql)| SqlOutput {
                name: name.to_string(),
                sql: sql.to_string(),
                origin: "built-in".into(),
            })
            .collect());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::new(
            ErrorKind::NoInput,
            format!("cannot read SQL folder {}: {e}", dir.display()),
        )
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sql") && p.is_file())
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(Error::new(
                ErrorKind::Sql,
                format!(
                    "{}: SQL file names may hold only letters, digits and _",
                    path.display()
                ),
            ));
        }
        let sql = std::fs::read_to_string(&path).map_err(|e| {
            Error::new(
                ErrorKind::NoInput,
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        out.push(SqlOutput {
            name: name.to_string(),
            sql,
            origin: path.display().to_string(),
        });
    }
    Ok(out)
}

fn sql_error(origin: &str, e: duckdb::Error) -> Error {
    Error::new(
        ErrorKind::Sql,
        format!("{origin}: {}", one_line(&e.to_string())),
    )
}

/// Bring every rollup up to date, in one transaction with emptying `rollup_pending`.
pub fn refresh_rollups(conn: &Connection, rollups: &[SqlOutput]) -> Result<()> {
    // Nothing pending and every rollup current: no transaction at all (the no-op run's case).
    let pending: i64 = conn
        .query_row("SELECT count(*) FROM rollup_pending", [], |r| r.get(0))
        .map_err(|e| sql_error("rollups", e))?;
    if pending == 0 {
        let (hashes, tables) = rollup_state(conn)?;
        let current = rollups.iter().all(|r| {
            tables.contains(&format!("rollup_{}", r.name))
                && hashes.get(&format!("rollup:{}", r.name)) == Some(&rollup_hash(r))
        });
        if current {
            return Ok(());
        }
    }
    conn.execute_batch("BEGIN TRANSACTION")
        .map_err(|e| sql_error("rollups", e))?;
    match refresh_in_transaction(conn, rollups) {
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

fn refresh_in_transaction(conn: &Connection, rollups: &[SqlOutput]) -> Result<()> {
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
                "CREATE OR REPLACE TEMP VIEW source_logs AS
                     SELECT *, NOT coalesce(is_bot, false) AS is_human FROM logs;
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
                     SELECT *, NOT coalesce(is_bot, false) AS is_human FROM logs
                     WHERE day BETWEEN getvariable('weblog_pending_min') AND getvariable('weblog_pending_max')
                       AND day IN (SELECT day FROM rollup_pending);
                 DELETE FROM \"{table}\" WHERE day IN (SELECT day FROM rollup_pending);
                 INSERT INTO \"{table}\" BY NAME {query}\n;"
            ))
            .map_err(fail)?;
        }
    }
    conn.execute_batch("DELETE FROM rollup_pending")
        .map_err(|e| sql_error("rollups", e))
}

fn rollup_hash(rollup: &SqlOutput) -> String {
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(rollup.sql.as_bytes()))
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

/// Set the filter variables and the macros output SQL uses.
pub fn prepare_outputs(conn: &Connection, filter: &OutputFilter) -> Result<()> {
    let date = |d: Option<NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
    let fail = |e| sql_error("output parameters", e);
    conn.execute("SET VARIABLE weblog_from = ?::DATE", [date(filter.from)])
        .map_err(fail)?;
    conn.execute("SET VARIABLE weblog_to = ?::DATE", [date(filter.to)])
        .map_err(fail)?;
    conn.execute(
        "SET VARIABLE weblog_humans_only = ?::BOOLEAN",
        [filter.humans_only],
    )
    .map_err(fail)?;
    let host = filter.site_host.as_ref().map(|h| h.to_lowercase());
    conn.execute("SET VARIABLE weblog_site_host = ?::VARCHAR", [host])
        .map_err(fail)?;
    conn.execute_batch(
        "CREATE OR REPLACE TEMP MACRO in_range(d) AS
             d BETWEEN coalesce(getvariable('weblog_from'), DATE '0001-01-01')
                   AND coalesce(getvariable('weblog_to'), DATE '9999-12-31');
         CREATE OR REPLACE TEMP MACRO humans_only() AS coalesce(getvariable('weblog_humans_only'), false);
         CREATE OR REPLACE TEMP MACRO pick(all_traffic, humans) AS
             CASE WHEN humans_only() THEN humans ELSE all_traffic END;
         CREATE OR REPLACE TEMP MACRO site_host() AS getvariable('weblog_site_host');",
    )
    .map_err(fail)
}

/// Run the output's query into [`OUTPUT_TABLE`]; returns its row count.
pub fn materialize(conn: &Connection, output: &SqlOutput) -> Result<u64> {
    let query = strip_sql(&output.sql);
    let sql = format!("CREATE OR REPLACE TEMP TABLE {OUTPUT_TABLE} AS {query}\n");
    conn.execute_batch(&sql)
        .map_err(|e| sql_error(&output.origin, e))?;
    let rows: i64 = conn
        .query_row(&format!("SELECT count(*) FROM {OUTPUT_TABLE}"), [], |r| {
            r.get(0)
        })
        .map_err(|e| sql_error(&output.origin, e))?;
    Ok(rows as u64)
}

/// A query file may end in `;` and comments; CREATE … AS needs the bare SELECT.
fn strip_sql(sql: &str) -> &str {
    let mut s = sql.trim_end();
    loop {
        let before = s;
        s = s.trim_end().trim_end_matches(';').trim_end();
        if s == before {
            return s;
        }
    }
}
