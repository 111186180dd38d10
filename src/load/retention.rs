//! Retention of raw rows (`weblog prune`, `retention_days`) and masking them in place
//! (`anonymize_after_days`): what the warehouse records of both (`weblog_meta`:
//! `pruned_before`, `masked_before`, `masked_batch`) and the deletions and rewrites, whole
//! days per transaction so that a killed prune leaves whole days and the next one goes on.
//!
//! The per-day rollups are never touched: every output reads them only, so pruning raw rows
//! changes no output. A day before the horizon is closed: lines for it that arrive later are
//! set aside as rejects (see `commit`), so a refresh never recomputes it from the few rows it
//! would hold then.

use chrono::NaiveDate;
use duckdb::{Connection, OptionalExt};

use super::Warehouse;
use crate::enrich::AnonymizeIp;
use crate::error::{Error, ErrorKind, Result, one_line};
use crate::summary::{Masked, RawPruned};

/// The level old rows are masked to: the strongest, whatever `--anonymize-ip` says (rows
/// stored under `high` are left as they are: masking is idempotent).
pub const MASK_LEVEL: AnonymizeIp = AnonymizeIp::High;

fn data_error(db: &std::path::Path, what: &str) -> impl Fn(duckdb::Error) -> Error {
    let prefix = format!("{what} ({})", db.display());
    move |e| {
        Error::new(
            ErrorKind::Data,
            format!("{prefix}: {}", one_line(&e.to_string())),
        )
    }
}

fn meta_date(conn: &Connection, key: &str) -> duckdb::Result<Option<NaiveDate>> {
    let v: Option<String> = conn
        .query_row("SELECT value FROM weblog_meta WHERE key = ?", [key], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(v.and_then(|v| NaiveDate::parse_from_str(&v, "%Y-%m-%d").ok()))
}

/// The rollups' key tables (64-bit hashes of addresses, per day).
fn key_tables(conn: &Connection) -> duckdb::Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT table_name FROM duckdb_tables()
         WHERE NOT temporary AND table_name LIKE 'rollup\\_%' ESCAPE '\\'
           AND (table_name LIKE '%\\_\\_keys' ESCAPE '\\' OR table_name LIKE '%\\_\\_key\\_days' ESCAPE '\\')
         ORDER BY table_name",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    rows.collect()
}

impl Warehouse {
    /// The retention horizon recorded: every raw row of a day before it was deleted.
    pub fn pruned_before(&self) -> Result<Option<NaiveDate>> {
        meta_date(&self.conn, "pruned_before")
            .map_err(data_error(&self.path, "cannot read the retention horizon"))
    }

    /// Remembered for the commits of this run (lines of closed days are set aside).
    pub(super) fn load_retention_state(&mut self) -> Result<()> {
        self.pruned_before = self.pruned_before()?;
        let masked = meta_date(&self.conn, "masked_before")
            .map_err(data_error(&self.path, "cannot read the masking horizon"))?;
        self.masked_in_place = masked.is_some();
        Ok(())
    }

    /// Refuse to prune or mask a warehouse `weblog run` has not brought to this schema, or
    /// whose rollups are not up to date (their pending days would be recomputed from rows
    /// about to go).
    pub fn check_ready_for_retention(&self) -> Result<()> {
        if self.stored_version < super::SCHEMA_VERSION {
            return Err(Error::new(
                ErrorKind::Data,
                format!(
                    "database {} is of an older schema: run `weblog run` once first",
                    self.path.display()
                ),
            ));
        }
        Ok(())
    }

    /// Delete every raw row of the days before `horizon` (or before the horizon recorded, if
    /// later): `logs` and the rollups' key tables one day per transaction, and the rejects
    /// read before it. The horizon is recorded first, so a prune killed midway already sets
    /// aside late lines of those days, and the next one deletes what is left.
    pub fn prune_raw(&mut self, horizon: NaiveDate) -> Result<RawPruned> {
        let fail = data_error(&self.path, "cannot prune raw rows");
        let conn = &self.conn;
        let horizon = match meta_date(conn, "pruned_before").map_err(&fail)? {
            Some(recorded) if recorded > horizon => recorded,
            _ => horizon,
        };
        let h = horizon.format("%Y-%m-%d").to_string();
        conn.execute(
            "INSERT OR REPLACE INTO weblog_meta VALUES ('pruned_before', ?)",
            [&h],
        )
        .map_err(&fail)?;
        self.pruned_before = Some(horizon);
        let mut pruned = RawPruned {
            before: Some(h.clone()),
            ..Default::default()
        };
        let keys = key_tables(conn).map_err(&fail)?;
        let mut days: Vec<String> = Vec::new();
        for table in std::iter::once("log_rows".to_string()).chain(keys.iter().cloned()) {
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT DISTINCT day::VARCHAR FROM \"{table}\" WHERE day < ?::DATE"
                ))
                .map_err(&fail)?;
            let found: Vec<String> = stmt
                .query_map([&h], |r| r.get(0))
                .and_then(|rows| rows.collect())
                .map_err(&fail)?;
            days.extend(found);
        }
        days.sort();
        days.dedup();
        for day in &days {
            let step = || -> duckdb::Result<(usize, usize)> {
                conn.execute_batch("BEGIN TRANSACTION")?;
                let logs = conn.execute("DELETE FROM log_rows WHERE day = ?::DATE", [day])?;
                let mut key_rows = 0;
                for table in &keys {
                    let n = conn.execute(
                        &format!("DELETE FROM \"{table}\" WHERE day = ?::DATE"),
                        [day],
                    )?;
                    if table.ends_with("__keys") {
                        key_rows += n;
                    }
                }
                // A day pending a refresh is recomputed from what is left: nothing to do.
                conn.execute("DELETE FROM rollup_pending WHERE day = ?::DATE", [day])?;
                conn.execute_batch("COMMIT")?;
                Ok((logs, key_rows))
            };
            let (logs, key_rows) = step().map_err(|e| {
                let _ = conn.execute_batch("ROLLBACK");
                fail(e)
            })?;
            if logs > 0 {
                pruned.logs.insert(day.clone(), logs as u64);
            }
            if key_rows > 0 {
                pruned.key_rows.insert(day.clone(), key_rows as u64);
            }
            crate::failpoint::hit("during-prune");
        }
        if !days.is_empty() {
            in_transaction(conn, || {
                conn.execute_batch(super::agents::DELETE_UNUSED_AGENTS)
            })
            .map_err(&fail)?;
        }
        pruned.rollup_addresses =
            in_transaction(conn, || mask_rollup_addresses(conn, &h)).map_err(&fail)?;
        // Rejects have no day of their own (the line could not be read): they go by when
        // they were read.
        pruned.rejects = conn
            .execute(
                "DELETE FROM rejects WHERE ingested_at < ?::DATE::TIMESTAMP AT TIME ZONE 'UTC'",
                [&h],
            )
            .map_err(&fail)? as u64;
        Ok(pruned)
    }

    /// Mask (at [`MASK_LEVEL`]) every address in the raw rows of the days before `horizon`,
    /// in place, one day per transaction: the columns `--anonymize-ip` masks, and the raw
    /// line of rejects read before it. `line_hash` stays the hash of the line as read, so a
    /// file read again is still recognised. Rows stored since the last masking are found by
    /// their batch, so a late line for an old day is masked too.
    pub fn mask_raw(&mut self, horizon: NaiveDate) -> Result<Masked> {
        let fail = data_error(&self.path, "cannot mask old rows");
        let conn = &self.conn;
        let before = meta_date(conn, "masked_before").map_err(&fail)?;
        let horizon = before.filter(|b| *b > horizon).unwrap_or(horizon);
        let h = horizon.format("%Y-%m-%d").to_string();
        let last_batch: Option<i64> = conn
            .query_row(
                "SELECT max(value)::BIGINT FROM weblog_meta WHERE key = 'masked_batch'",
                [],
                |r| r.get(0),
            )
            .map_err(&fail)?;
        let now_batch: i64 = conn
            .query_row("SELECT coalesce(max(seq), 0) FROM batches", [], |r| {
                r.get(0)
            })
            .map_err(&fail)?;
        // Where this masking started (the horizon before it; empty: none), kept until it has
        // done every day: a masking killed midway has already moved `masked_before`, and
        // the next one must still take the days from the old horizon on.
        let unfinished: Option<String> = conn
            .query_row(
                "SELECT max(value) FROM weblog_meta WHERE key = 'masked_from'",
                [],
                |r| r.get(0),
            )
            .map_err(&fail)?;
        let from = match &unfinished {
            Some(f) => (!f.is_empty()).then(|| f.clone()),
            None => before.map(|b| b.format("%Y-%m-%d").to_string()),
        };
        // Recorded first: from now on a re-read is matched by hash (see `commit`).
        conn.execute_batch(&format!(
            "BEGIN TRANSACTION;
             INSERT OR REPLACE INTO weblog_meta VALUES ('masked_before', '{h}'),
                 ('masked_from', '{}');
             COMMIT;",
            from.as_deref().unwrap_or_default()
        ))
        .map_err(&fail)?;
        self.masked_in_place = true;
        let days: Vec<String> = {
            let mut stmt = conn
                .prepare(
                    "SELECT DISTINCT day::VARCHAR FROM log_rows WHERE day < ?::DATE
                       AND (?::DATE IS NULL OR day >= ?::DATE OR batch_id > ?)
                     ORDER BY 1",
                )
                .map_err(&fail)?;
            stmt.query_map(
                duckdb::params![&h, &from, &from, last_batch.unwrap_or(0)],
                |r| r.get(0),
            )
            .and_then(|rows| rows.collect())
            .map_err(&fail)?
        };
        let mut masked = Masked {
            before: Some(h.clone()),
            ..Default::default()
        };
        let keys = key_tables(conn).map_err(&fail)?;
        for day in &days {
            let (n, k) = in_transaction(conn, || {
                let n = mask_logs_day(conn, day)?;
                // Unsalted 64-bit hashes of IPv4 addresses are reversed by trying them all:
                // they go with the addresses (rebuilt from the masked rows if a late line
                // for the day ever needs them).
                let mut k = 0;
                for table in &keys {
                    let gone = conn.execute(
                        &format!("DELETE FROM \"{table}\" WHERE day = ?::DATE"),
                        [day],
                    )?;
                    if table.ends_with("__keys") {
                        k += gone as u64;
                    }
                }
                Ok((n, k))
            })
            .map_err(&fail)?;
            if n > 0 {
                masked.logs.insert(day.clone(), n);
            }
            masked.key_rows += k;
            crate::failpoint::hit("during-mask");
        }
        masked.rollup_addresses =
            in_transaction(conn, || mask_rollup_addresses(conn, &h)).map_err(&fail)?;
        masked.rejects = in_transaction(conn, || mask_rejects(conn, &h)).map_err(&fail)?;
        in_transaction(conn, || {
            conn.execute(
                "INSERT OR REPLACE INTO weblog_meta VALUES ('masked_batch', ?::VARCHAR)",
                [now_batch],
            )?;
            conn.execute("DELETE FROM weblog_meta WHERE key = 'masked_from'", [])
        })
        .map_err(&fail)?;
        Ok(masked)
    }
}

fn in_transaction<T>(
    conn: &Connection,
    f: impl FnOnce() -> duckdb::Result<T>,
) -> duckdb::Result<T> {
    conn.execute_batch("BEGIN TRANSACTION")?;
    match f().and_then(|v| conn.execute_batch("COMMIT").map(|()| v)) {
        Ok(v) => Ok(v),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// The text columns of `logs` that may hold an address (those `--anonymize-ip` masks): all
/// but the last are columns of `log_rows`, the last is of `agents`.
pub(crate) const ADDRESS_COLUMNS: &[&str] = &[
    "raw_log",
    "remote_addr",
    "client_addr",
    "x_forwarded_for",
    "remote_user",
    "request_path",
    "http_referer",
    "http_user_agent",
];

/// Mask one day's rows: read in one scan, masked in Rust by `mask_text`, the rows that
/// change appended to a scratch table and written back by one UPDATE joined on rowid. The
/// scratch table lives in the caller's transaction (a kill leaves none), so rowids are
/// stable and nothing of it outlives the day. Their agents are masked apart (an agent's
/// text is in its raw line too: the count is of rows whose raw line changed, or another
/// of their columns).
fn mask_logs_day(conn: &Connection, day: &str) -> duckdb::Result<u64> {
    let filter = format!("day = DATE '{day}'");
    let (agent, row_columns) = ADDRESS_COLUMNS.split_last().expect("columns");
    debug_assert_eq!(*agent, "http_user_agent");
    let changed = mask_rows(conn, "log_rows", &filter, row_columns)?;
    super::agents::mask_agents(conn, &filter, MASK_LEVEL)?;
    Ok(changed)
}

/// Mask every address of the rows of `table` (a copy of a lake file: every row) that hold
/// one; returns how many changed.
pub fn mask_table(conn: &Connection, table: &str) -> duckdb::Result<u64> {
    mask_rows(conn, table, "true", ADDRESS_COLUMNS)
}

/// [`mask_logs_day`] for the rows of `table` matching `filter`.
fn mask_rows(conn: &Connection, table: &str, filter: &str, cols: &[&str]) -> duckdb::Result<u64> {
    let list: Vec<String> = cols.iter().map(|c| format!("{c} VARCHAR")).collect();
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TABLE weblog_masked (rid BIGINT, {})",
        list.join(", ")
    ))?;
    let mut changed = 0u64;
    {
        let mut appender = conn.appender("weblog_masked")?;
        let mut stmt = conn.prepare(&format!(
            "SELECT rowid, {} FROM \"{table}\" WHERE {filter}",
            cols.join(", ")
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let rid: i64 = row.get(0)?;
            let mut values: Vec<Option<String>> = Vec::with_capacity(cols.len());
            let mut any = false;
            for i in 0..cols.len() {
                let v: Option<String> = row.get(i + 1)?;
                values.push(v.map(|s| match MASK_LEVEL.mask_text(&s) {
                    std::borrow::Cow::Borrowed(_) => s,
                    std::borrow::Cow::Owned(m) => {
                        any = true;
                        m
                    }
                }));
            }
            if any {
                let mut params: Vec<&dyn duckdb::ToSql> = vec![&rid];
                params.extend(values.iter().map(|v| v as &dyn duckdb::ToSql));
                appender.append_row(params.as_slice())?;
                changed += 1;
            }
        }
        appender.flush()?;
    }
    if changed > 0 {
        let set: Vec<String> = cols.iter().map(|c| format!("{c} = m.{c}")).collect();
        conn.execute_batch(&format!(
            "UPDATE \"{table}\" AS t SET {} FROM weblog_masked m WHERE t.rowid = m.rid",
            set.join(", ")
        ))?;
    }
    conn.execute_batch("DROP TABLE weblog_masked")?;
    Ok(changed)
}

/// Mask the address columns of the rollups (a rollup may keep the visitor's address, as
/// `rollup_visits` does to replace a visitor's visits) in their rows of the days before
/// `horizon`. No output reads them: outputs stay as they are.
fn mask_rollup_addresses(conn: &Connection, horizon: &str) -> duckdb::Result<u64> {
    let columns: Vec<(String, String)> = conn
        .prepare(
            "SELECT c.table_name, c.column_name FROM duckdb_columns() c
             WHERE c.table_name LIKE 'rollup\\_%' ESCAPE '\\'
               AND c.table_name NOT LIKE '%\\_\\_key%' ESCAPE '\\'
               AND c.data_type = 'VARCHAR'
               AND c.column_name IN ('client_addr', 'remote_addr', 'x_forwarded_for')
               AND c.database_name <> 'temp'
               AND EXISTS (SELECT 1 FROM duckdb_columns() d WHERE d.table_name = c.table_name
                             AND d.column_name = 'day' AND d.database_name = c.database_name)",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<duckdb::Result<_>>()?;
    let mut changed = 0u64;
    for (table, column) in columns {
        let values: Vec<(String, String)> = conn
            .prepare(&format!(
                "SELECT DISTINCT \"{column}\" FROM \"{table}\"
                 WHERE day < ?::DATE AND \"{column}\" IS NOT NULL"
            ))?
            .query_map([horizon], |r| r.get::<_, String>(0))?
            .filter_map(|v| {
                v.map(|v| match MASK_LEVEL.mask_text(&v) {
                    std::borrow::Cow::Owned(m) => Some((v, m)),
                    std::borrow::Cow::Borrowed(_) => None,
                })
                .transpose()
            })
            .collect::<duckdb::Result<_>>()?;
        if values.is_empty() {
            continue;
        }
        conn.execute_batch("CREATE OR REPLACE TABLE weblog_masked (v VARCHAR, m VARCHAR)")?;
        {
            let mut appender = conn.appender("weblog_masked")?;
            for (v, m) in &values {
                appender.append_row(duckdb::params![v, m])?;
            }
            appender.flush()?;
        }
        changed += conn.execute(
            &format!(
                "UPDATE \"{table}\" SET \"{column}\" = w.m FROM weblog_masked w
                 WHERE \"{table}\".\"{column}\" = w.v AND \"{table}\".day < ?::DATE"
            ),
            [horizon],
        )? as u64;
        conn.execute_batch("DROP TABLE weblog_masked")?;
    }
    Ok(changed)
}

/// Mask the raw line of every reject read before `horizon`.
fn mask_rejects(conn: &Connection, horizon: &str) -> duckdb::Result<u64> {
    let mut changed: Vec<(i64, String)> = Vec::new();
    {
        let mut stmt = conn.prepare(
            "SELECT rowid, raw_line FROM rejects
             WHERE ingested_at < ?::DATE::TIMESTAMP AT TIME ZONE 'UTC'",
        )?;
        let mut rows = stmt.query([horizon])?;
        while let Some(row) = rows.next()? {
            let line: String = row.get(1)?;
            if let std::borrow::Cow::Owned(m) = MASK_LEVEL.mask_text(&line) {
                changed.push((row.get(0)?, m));
            }
        }
    }
    if changed.is_empty() {
        return Ok(0);
    }
    conn.execute_batch("CREATE OR REPLACE TABLE weblog_masked (rid BIGINT, raw_line VARCHAR)")?;
    {
        let mut appender = conn.appender("weblog_masked")?;
        for (rid, line) in &changed {
            appender.append_row(duckdb::params![rid, line])?;
        }
        appender.flush()?;
    }
    conn.execute_batch(
        "UPDATE rejects SET raw_line = m.raw_line FROM weblog_masked m WHERE rejects.rowid = m.rid;
         DROP TABLE weblog_masked;",
    )?;
    Ok(changed.len() as u64)
}

/// The rows of `logs` whose day is before `horizon` (pruned: the day is closed), taken out
/// of it as rejects that say so, with how many per source file. None when there are none.
pub(super) fn set_aside_closed(
    logs: &mut polars::prelude::DataFrame,
    horizon: NaiveDate,
    ingested_at_us: i64,
) -> std::result::Result<Option<(polars::prelude::DataFrame, Vec<String>)>, String> {
    use polars::prelude::*;
    let s = |e: PolarsError| e.to_string();
    if logs.height() == 0 {
        return Ok(None);
    }
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date");
    let limit = (horizon - epoch).num_days() as i32;
    let days = logs
        .column("day")
        .and_then(|c| c.date().cloned())
        .map_err(s)?;
    let closed: BooleanChunked = days
        .physical()
        .iter()
        .map(|d| d.is_some_and(|d| d < limit))
        .collect();
    let n = closed.sum().unwrap_or(0) as usize;
    if n == 0 {
        return Ok(None);
    }
    let old = logs.filter(&closed).map_err(s)?;
    *logs = logs.filter(&!&closed).map_err(s)?;
    let files: Vec<String> = old
        .column("source_file")
        .and_then(|c| c.str().cloned())
        .map_err(s)?
        .iter()
        .map(|f| f.unwrap_or_default().to_string())
        .collect();
    let reasons: Vec<String> = old
        .column("day")
        .and_then(|c| c.date().cloned())
        .map_err(s)?
        .physical()
        .iter()
        .map(|d| {
            let day = d.map_or_else(String::new, |d| {
                (epoch + chrono::Days::new(d.max(0) as u64)).format("%Y-%m-%d").to_string()
            });
            format!(
                "its day {day} is before the retention horizon {}: its raw rows were pruned and its aggregates are closed",
                horizon.format("%Y-%m-%d")
            )
        })
        .collect();
    let raw = old
        .column("raw_log")
        .map_err(s)?
        .cast(&DataType::String)
        .map_err(s)?;
    let hash = old
        .column("line_hash")
        .map_err(s)?
        .cast(&DataType::UInt64)
        .map_err(s)?;
    let rejects = DataFrame::new(
        n,
        vec![
            Column::new("source_file".into(), files.clone()),
            old.column("source_offset").map_err(s)?.clone(),
            raw.with_name("raw_line".into()),
            hash,
            Column::new("reason".into(), reasons),
            Int64Chunked::from_vec("ingested_at".into(), vec![ingested_at_us; n])
                .into_datetime(TimeUnit::Microseconds, None)
                .into_column(),
        ],
    )
    .map_err(s)?;
    Ok(Some((rejects, files)))
}
