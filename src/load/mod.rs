//! Stage 3: the DuckDB warehouse. Opens (and locks) the database, keeps its schema, and
//! appends a parsed batch — new rows, rejects and checkpoints — in one transaction.

mod arrow;
pub mod lock;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use duckdb::Connection;
use duckdb::vtab::arrow::ArrowVTab;
use polars::prelude::{BooleanChunked, DataFrame, PolarsError};

use crate::enrich::Enricher;
use crate::error::{Context, Error, ErrorKind, Result, one_line};
use crate::parse::ParsedBatch;
use crate::source::Checkpoint;
use crate::source::fingerprint::Head;

pub use lock::LockFile;

/// Bumped when the stored schema changes incompatibly; a database from a newer weblog is
/// refused rather than half-understood.
pub const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = include_str!("schema.sql");

/// Moves `data_version` on; part of every transaction that changes stored rows.
const BUMP_DATA_VERSION: &str = "INSERT OR REPLACE INTO weblog_meta
     SELECT 'data_version', (coalesce(max(value::BIGINT), 0) + 1)::VARCHAR
     FROM weblog_meta WHERE key = 'data_version'";

pub struct Warehouse {
    conn: Connection,
    path: PathBuf,
    _lock: Option<LockFile>,
    /// The stored schema version when opened (older ones are upgraded by [`Self::upgrade`]).
    stored_version: i64,
}

/// What one committed batch did.
#[derive(Debug, Default)]
pub struct Committed {
    /// Rows inserted into `logs`, per source file.
    pub inserted: HashMap<String, u64>,
    pub rejects: u64,
}

impl Warehouse {
    /// Open for writing: take the lock, then open DuckDB and bring the schema up to date.
    pub fn open(path: &Path, wait: Duration, memory_limit: &str) -> Result<Warehouse> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).context(ErrorKind::CantCreate, || {
                format!("cannot create database folder {}", dir.display())
            })?;
        }
        let lock = LockFile::acquire(path, wait)?;
        let conn = open_duckdb(path, false)?;
        let size_like = memory_limit.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        let valid =
            !size_like.is_empty() && size_like.bytes().all(|c| c.is_ascii_digit() || c == b'.');
        let set = format!("SET memory_limit = '{memory_limit}'; SET enable_progress_bar = false");
        if !valid || conn.execute_batch(&set).is_err() {
            return Err(Error::new(
                ErrorKind::Failed,
                format!(
                    "invalid --memory-limit {memory_limit:?} (expected a size like 512MB or 2GB)"
                ),
            ));
        }
        let wh = Warehouse {
            conn,
            path: path.to_path_buf(),
            _lock: Some(lock),
            stored_version: SCHEMA_VERSION,
        };
        let mut wh = wh;
        wh.stored_version = wh.migrate()?;
        Ok(wh)
    }

    /// A scratch in-memory database, e.g. to read outputs back.
    pub fn open_in_memory() -> Result<Warehouse> {
        let conn = Connection::open_in_memory()
            .map_err(|e| Error::new(ErrorKind::Failed, format!("cannot start DuckDB: {e}")))?;
        Ok(Warehouse {
            conn,
            path: PathBuf::from(":memory:"),
            _lock: None,
            stored_version: SCHEMA_VERSION,
        })
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Apply the schema; returns the version the database had (the current one if new).
    fn migrate(&self) -> Result<i64> {
        let db = self.path.display().to_string();
        self.conn
            .execute_batch(&format!("BEGIN; {SCHEMA} COMMIT;"))
            .context(ErrorKind::Data, || format!("cannot set up schema in {db}"))?;
        let stored: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM weblog_meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .ok();
        match stored.as_deref().map(str::parse::<i64>) {
            None => {
                self.set_version()?;
                Ok(SCHEMA_VERSION)
            }
            Some(Ok(v)) if v <= SCHEMA_VERSION => Ok(v),
            Some(Ok(v)) => Err(Error::new(
                ErrorKind::Data,
                format!(
                    "database {db} has schema version {v}, written by a newer weblog (this one knows {SCHEMA_VERSION}); upgrade weblog"
                ),
            )),
            Some(Err(_)) => Err(Error::new(
                ErrorKind::Data,
                format!("database {db} has an unreadable schema version"),
            )),
        }
    }

    fn set_version(&self) -> Result<()> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO weblog_meta VALUES ('schema_version', ?)",
                [SCHEMA_VERSION.to_string()],
            )
            .context(ErrorKind::Data, || {
                format!("cannot write schema version to {}", self.path.display())
            })?;
        Ok(())
    }

    /// Bring rows stored by an older schema up to date: version 1 lacked the user-agent
    /// columns, filled here per distinct agent in one bulk UPDATE.
    pub fn upgrade(&mut self, enricher: &mut Enricher) -> Result<()> {
        if self.stored_version >= SCHEMA_VERSION {
            return Ok(());
        }
        let db = self.path.display().to_string();
        let fail = |what: &'static str| {
            let db = db.clone();
            move || format!("{what} ({db})")
        };
        let agents: Vec<Option<String>> = {
            let mut stmt = self
                .conn
                .prepare("SELECT DISTINCT http_user_agent FROM logs WHERE browser_family IS NULL")
                .context(ErrorKind::Data, fail("cannot read agents to upgrade"))?;
            let rows = stmt
                .query_map([], |r| r.get(0))
                .context(ErrorKind::Data, fail("cannot read agents to upgrade"))?;
            rows.collect::<duckdb::Result<_>>()
                .context(ErrorKind::Data, fail("cannot read agents to upgrade"))?
        };
        let mut frame = crate::parse::agent_frame(&agents, enricher)
            .map_err(|e| Error::new(ErrorKind::Failed, format!("cannot build agent frame: {e}")))?;
        let tx = self
            .conn
            .transaction()
            .context(ErrorKind::Data, fail("cannot begin the upgrade"))?;
        let reg = arrow::register(&mut frame)?;
        tx.execute(
            "UPDATE logs SET browser_family = u.browser_family, browser_major = u.browser_major,
                 os_family = u.os_family, device_family = u.device_family, is_bot = u.is_bot
             FROM arrow(?) u
             WHERE logs.browser_family IS NULL
               AND logs.http_user_agent IS NOT DISTINCT FROM u.http_user_agent",
            [&reg],
        )
        .context(ErrorKind::Data, fail("cannot upgrade stored rows"))?;
        drop(reg);
        tx.execute(
            "INSERT OR REPLACE INTO weblog_meta VALUES ('schema_version', ?)",
            [SCHEMA_VERSION.to_string()],
        )
        .context(ErrorKind::Data, fail("cannot write schema version"))?;
        tx.execute_batch(BUMP_DATA_VERSION)
            .context(ErrorKind::Data, fail("cannot write the data version"))?;
        tx.commit()
            .context(ErrorKind::Data, fail("cannot commit the upgrade"))?;
        self.stored_version = SCHEMA_VERSION;
        Ok(())
    }

    /// One DuckDB thread (while loading) or all of them (for the SQL stages).
    pub fn single_threaded(&self, single: bool) -> Result<()> {
        let sql = if single {
            "SET threads = 1"
        } else {
            "RESET threads"
        };
        self.conn
            .execute_batch(sql)
            .map_err(|e| Error::new(ErrorKind::Failed, format!("cannot set DuckDB threads: {e}")))
    }

    /// A number that changes whenever stored data does (each commit moves it on).
    pub fn data_version(&self) -> Result<i64> {
        let v: Option<String> = self
            .conn
            .query_row(
                "SELECT max(value) FROM weblog_meta WHERE key = 'data_version'",
                [],
                |r| r.get(0),
            )
            .context(ErrorKind::Data, || {
                format!("cannot read the data version of {}", self.path.display())
            })?;
        Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// The row count recorded for `output` when it was last written with `fingerprint`.
    pub fn output_state(&self, output: &str, fingerprint: &str) -> Option<u64> {
        let value: String = self
            .conn
            .query_row(
                "SELECT value FROM weblog_meta WHERE key = ?",
                [format!("output:{output}")],
                |r| r.get(0),
            )
            .ok()?;
        let (stored, rows) = value.split_once(' ')?;
        (stored == fingerprint).then(|| rows.parse().ok()).flatten()
    }

    pub fn set_output_state(&self, output: &str, fingerprint: &str, rows: u64) -> Result<()> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO weblog_meta VALUES (?, ?)",
                [format!("output:{output}"), format!("{fingerprint} {rows}")],
            )
            .context(ErrorKind::Data, || {
                format!("cannot record output {output} in {}", self.path.display())
            })?;
        Ok(())
    }

    pub fn checkpoints(&self) -> Result<HashMap<String, Checkpoint>> {
        let db = || format!("cannot read checkpoints from {}", self.path.display());
        let mut stmt = self
            .conn
            .prepare(
                r#"SELECT path, "offset", head_len, head_hash, marker, size, dev, inode FROM checkpoints"#,
            )
            .context(ErrorKind::Data, db)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Checkpoint {
                    path: r.get(0)?,
                    offset: r.get(1)?,
                    head: Head {
                        len: r.get(2)?,
                        hash: r.get(3)?,
                    },
                    marker: r.get(4)?,
                    size: r.get(5)?,
                    dev: r.get(6)?,
                    inode: r.get(7)?,
                })
            })
            .context(ErrorKind::Data, db)?;
        let mut out = HashMap::new();
        for row in rows {
            let cp = row.context(ErrorKind::Data, db)?;
            out.insert(cp.path.clone(), cp);
        }
        Ok(out)
    }

    /// Append the batch's new rows (its lines are distinct already; anti-joined here on
    /// `raw_log` against stored rows of the same time range), its rejects, and advance
    /// `checkpoints`, atomically.
    pub fn commit(
        &mut self,
        mut batch: ParsedBatch,
        checkpoints: &[Checkpoint],
    ) -> Result<Committed> {
        crate::failpoint::hit("before-commit");
        let db = self.path.display().to_string();
        let tx = self.conn.transaction().context(ErrorKind::Data, || {
            format!("cannot begin a transaction on {db}")
        })?;
        let fail = |what: &'static str| {
            let db = db.clone();
            move || format!("{what} ({db})")
        };
        let mut committed = Committed::default();

        if let Some((lo, hi)) = batch.time_range {
            // Identical lines carry identical timestamps, so only batch rows inside the time
            // span of the stored rows that overlap the batch can be duplicates: only those are
            // anti-joined (hashing every raw line of a batch cost 17% of a backfill). DuckDB
            // prunes row groups by their min/max time for both queries.
            let overlap: (Option<i64>, Option<i64>) = tx
                .query_row(
                    "SELECT epoch_us(min(time_local)), epoch_us(max(time_local)) FROM logs
                     WHERE time_local BETWEEN ?::TIMESTAMPTZ AND ?::TIMESTAMPTZ",
                    [timestamptz_literal(lo), timestamptz_literal(hi)],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .context(
                    ErrorKind::Failed,
                    fail("cannot look for stored rows in the batch's time range"),
                )?;
            let (mut fresh, maybe_stored) = match overlap {
                (Some(m), Some(n)) => {
                    let (fresh, maybe) = split_by_time(&batch.logs, (m, n))?;
                    (
                        fresh,
                        Some((maybe, timestamptz_literal(m), timestamptz_literal(n))),
                    )
                }
                _ => (std::mem::take(&mut batch.logs), None),
            };
            if let Some((mut maybe, m, n)) = maybe_stored {
                let rows = arrow::register(&mut maybe)?;
                tx.execute(
                    "INSERT INTO logs BY NAME
                     SELECT * FROM arrow(?) b
                     WHERE NOT EXISTS (
                         SELECT 1 FROM logs s
                         WHERE s.time_local BETWEEN ?::TIMESTAMPTZ AND ?::TIMESTAMPTZ
                           AND s.raw_log = b.raw_log)",
                    duckdb::params![&rows, m, n],
                )
                .context(ErrorKind::Failed, fail("cannot insert into logs"))?;
            }
            // Straight into `logs`: staging in a temp table first lost large batches
            // (DuckDB 2.0 dropped rows moved from an Arrow-fed temp table; see tests).
            if fresh.height() > 0 {
                let rows = arrow::register(&mut fresh)?;
                tx.execute("INSERT INTO logs BY NAME SELECT * FROM arrow(?)", [&rows])
                    .context(ErrorKind::Failed, fail("cannot insert into logs"))?;
            }
            // The batch's rows are exactly those with its ingested_at; the scan is pruned to
            // the row groups just written.
            let mut stmt = tx
                .prepare(
                    "SELECT source_file, count(*) FROM logs WHERE ingested_at = ?::TIMESTAMPTZ GROUP BY ALL",
                )
                .context(ErrorKind::Failed, fail("cannot count inserted rows"))?;
            let counts = stmt
                .query_map([timestamptz_literal(batch.ingested_at_us)], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
                })
                .context(ErrorKind::Failed, fail("cannot count inserted rows"))?;
            for c in counts {
                let (file, n) = c.context(ErrorKind::Failed, fail("cannot count inserted rows"))?;
                committed.inserted.insert(file, n as u64);
            }
            drop(stmt);
            tx.execute(
                "INSERT OR IGNORE INTO rollup_pending
                 SELECT DISTINCT day FROM logs WHERE ingested_at = ?::TIMESTAMPTZ",
                [timestamptz_literal(batch.ingested_at_us)],
            )
            .context(ErrorKind::Failed, fail("cannot record the days to refresh"))?;
        }

        let n_rejects = batch.rejects.height();
        if n_rejects > 0 {
            let rejects = arrow::register(&mut batch.rejects)?;
            tx.execute(
                "INSERT INTO rejects BY NAME SELECT * FROM arrow(?)",
                [&rejects],
            )
            .context(ErrorKind::Failed, fail("cannot insert into rejects"))?;
            committed.rejects = n_rejects as u64;
        }

        {
            let mut stmt = tx
                .prepare(
                    "INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?, ?, ?, ?, ?, ?, current_timestamp)",
                )
                .context(ErrorKind::Failed, fail("cannot write checkpoints"))?;
            for cp in checkpoints {
                stmt.execute(duckdb::params![
                    cp.path,
                    cp.offset,
                    cp.head.len,
                    cp.head.hash,
                    cp.marker,
                    cp.size,
                    cp.dev,
                    cp.inode
                ])
                .context(ErrorKind::Failed, fail("cannot write checkpoints"))?;
            }
        }
        tx.execute_batch(BUMP_DATA_VERSION)
            .context(ErrorKind::Failed, fail("cannot write the data version"))?;
        crate::failpoint::hit("during-commit");
        tx.commit().map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot commit to {db}: {}", one_line(&e.to_string())),
            )
        })?;
        crate::failpoint::hit("after-commit");
        Ok(committed)
    }
}

fn open_duckdb(path: &Path, read_only: bool) -> Result<Connection> {
    let config = duckdb::Config::default()
        .access_mode(if read_only {
            duckdb::AccessMode::ReadOnly
        } else {
            duckdb::AccessMode::ReadWrite
        })
        .map_err(|e| Error::new(ErrorKind::Failed, e.to_string()))?;
    let conn = Connection::open_with_flags(path, config).map_err(|e| {
        let msg = one_line(&e.to_string());
        let kind = if msg.contains("Could not set lock") {
            ErrorKind::TempFail
        } else {
            ErrorKind::Data
        };
        let what = if kind == ErrorKind::TempFail {
            "is in use by another program"
        } else {
            "cannot be opened (corrupt, or not a DuckDB database)"
        };
        Error::new(kind, format!("database {} {what}: {msg}", path.display()))
    })?;
    conn.register_table_function::<ArrowVTab>("arrow")
        .map_err(|e| {
            Error::new(
                ErrorKind::Failed,
                format!("cannot register arrow scan: {e}"),
            )
        })?;
    Ok(conn)
}

/// Rows of `logs` whose time_local is outside `[lo, hi]` (µs), and those inside it.
fn split_by_time(logs: &DataFrame, (lo, hi): (i64, i64)) -> Result<(DataFrame, DataFrame)> {
    let failed =
        |e: PolarsError| Error::new(ErrorKind::Failed, format!("cannot split the batch: {e}"));
    let times = logs
        .column("time_local")
        .and_then(|c| c.datetime().cloned())
        .map_err(failed)?;
    let inside: BooleanChunked = times
        .physical()
        .iter()
        .map(|t| t.is_some_and(|t| (lo..=hi).contains(&t)))
        .collect();
    let outside = !&inside;
    Ok((
        logs.filter(&outside).map_err(failed)?,
        logs.filter(&inside).map_err(failed)?,
    ))
}

/// A UTC instant as a literal DuckDB casts to TIMESTAMPTZ without the ICU extension.
fn timestamptz_literal(micros: i64) -> String {
    let t =
        chrono::DateTime::from_timestamp_micros(micros).expect("parsed timestamps are in range");
    t.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()
}
