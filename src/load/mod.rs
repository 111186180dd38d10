//! Stage 3: the DuckDB warehouse. Opens (and locks) the database, keeps its schema, and
//! appends a parsed batch — new rows, rejects and checkpoints — in one transaction.

pub mod lock;
mod raw;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use duckdb::Connection;
use polars::prelude::{BooleanChunked, DataFrame, PolarsError};

use crate::enrich::Enricher;
use crate::error::{Context, Error, ErrorKind, Result, one_line};
use crate::export::sql_string;
use crate::parse::ParsedBatch;
use crate::source::Checkpoint;
use crate::source::fingerprint::Head;

pub use lock::LockFile;
use raw::{RawConnection, RawDatabase};

/// Bumped when the stored schema changes incompatibly; a database from a newer weblog is
/// refused rather than half-understood.
pub const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = include_str!("schema.sql");

/// Moves `data_version` on; part of every transaction that changes stored rows.
const BUMP_DATA_VERSION: &str = "INSERT OR REPLACE INTO weblog_meta
     SELECT 'data_version', (coalesce(max(value::BIGINT), 0) + 1)::VARCHAR
     FROM weblog_meta WHERE key = 'data_version'";

pub struct Warehouse {
    // Field order is drop order: both connections close before the database.
    /// For everything but loading: schema, rollups, outputs.
    conn: Connection,
    /// The loader's own connection: commits run here, through DuckDB's C++ Arrow scan.
    loader: RawConnection,
    _db: RawDatabase,
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
        let (db, conn, loader) = open_duckdb(path, false)?;
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
            loader,
            _db: db,
            path: path.to_path_buf(),
            _lock: Some(lock),
            stored_version: SCHEMA_VERSION,
        };
        let mut wh = wh;
        wh.stored_version = wh.migrate()?;
        Ok(wh)
    }

    /// Open an existing database to read (`status`, `sql`): no lock file, no schema change.
    /// DuckDB refuses while a run is writing to it (exit 75, try again).
    pub fn open_read_only(path: &Path) -> Result<Warehouse> {
        if !path.is_file() {
            return Err(Error::new(
                ErrorKind::NoInput,
                format!(
                    "database {} does not exist (run `weblog run` first)",
                    path.display()
                ),
            ));
        }
        let (db, conn, loader) = open_duckdb(path, true)?;
        Ok(Warehouse {
            conn,
            loader,
            _db: db,
            path: path.to_path_buf(),
            _lock: None,
            stored_version: SCHEMA_VERSION,
        })
    }

    /// A scratch in-memory database, e.g. to read outputs back.
    pub fn open_in_memory() -> Result<Warehouse> {
        let (db, conn, loader) = open_duckdb(Path::new(":memory:"), false)?;
        Ok(Warehouse {
            conn,
            loader,
            _db: db,
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
        let loader = &self.loader;
        let agents = loader.scan("weblog_agents", &mut frame).map_err(|e| {
            Error::new(
                ErrorKind::Data,
                format!("cannot upgrade stored rows ({db}): {e}"),
            )
        })?;
        let upgrade = || -> std::result::Result<(), (&'static str, String)> {
            loader
                .execute("BEGIN TRANSACTION")
                .map_err(|e| ("cannot begin the upgrade", e))?;
            loader
                .execute(&format!(
                    "UPDATE logs SET browser_family = u.browser_family, browser_major = u.browser_major,
                         os_family = u.os_family, device_family = u.device_family, is_bot = u.is_bot
                     FROM {} u
                     WHERE logs.browser_family IS NULL
                       AND logs.http_user_agent IS NOT DISTINCT FROM u.http_user_agent",
                    agents.table
                ))
                .map_err(|e| ("cannot upgrade stored rows", e))?;
            loader
                .execute(&format!(
                    "INSERT OR REPLACE INTO weblog_meta VALUES ('schema_version', '{SCHEMA_VERSION}')"
                ))
                .map_err(|e| ("cannot write schema version", e))?;
            loader
                .execute(BUMP_DATA_VERSION)
                .map_err(|e| ("cannot write the data version", e))?;
            loader
                .execute("COMMIT")
                .map_err(|e| ("cannot commit the upgrade", e))?;
            Ok(())
        };
        upgrade().map_err(|(what, e)| {
            let _ = loader.execute("ROLLBACK");
            Error::new(ErrorKind::Data, format!("{what} ({db}): {}", one_line(&e)))
        })?;
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

    /// Record a run in `runs` (its own small transaction, after the batches').
    pub fn record_run(
        &self,
        started_at: chrono::DateTime<chrono::Utc>,
        summary: &crate::pipeline::RunSummary,
        error: Option<&str>,
    ) -> Result<()> {
        let json = serde_json::to_string(summary).expect("summary serialises");
        self.conn
            .execute(
                "INSERT INTO runs VALUES (?::TIMESTAMPTZ, current_timestamp, ?, ?, ?, ?, ?, ?, ?, ?)",
                duckdb::params![
                    started_at.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string(),
                    summary.files.len() as i64,
                    summary.lines_read as i64,
                    summary.bytes_read as i64,
                    summary.inserted as i64,
                    summary.duplicates as i64,
                    summary.rejected as i64,
                    error,
                    json
                ],
            )
            .context(ErrorKind::Data, || {
                format!("cannot record the run in {}", self.path.display())
            })?;
        Ok(())
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
        let fail = |what: &str, e: String| {
            Error::new(
                ErrorKind::Failed,
                format!("{what} ({db}): {}", one_line(&e)),
            )
        };
        let sql = &self.loader;
        // Identical lines carry identical timestamps, so only batch rows inside the time span
        // of the stored rows that overlap the batch can be duplicates: only those are
        // anti-joined (hashing every raw line of a batch cost 17% of a backfill). DuckDB
        // prunes row groups by their min/max time for both queries. Read before the
        // transaction, like the views below: this process holds the write lock, nothing
        // else writes.
        let mut overlap = None;
        if let Some((lo, hi)) = batch.time_range {
            let span = sql
                .query(&format!(
                    "SELECT epoch_us(min(time_local)), epoch_us(max(time_local)) FROM logs
                     WHERE time_local BETWEEN {} AND {}",
                    timestamptz_literal(lo),
                    timestamptz_literal(hi)
                ))
                .map_err(|e| fail("cannot look for stored rows in the batch's time range", e))?;
            let bound = |i: usize| span.first()?.get(i)?.as_deref()?.parse::<i64>().ok();
            if let (Some(m), Some(n)) = (bound(0), bound(1)) {
                overlap = Some((m, n));
            }
        }
        let (mut fresh, mut maybe) = match overlap {
            Some(span) => {
                let (fresh, maybe) = split_by_time(&batch.logs, span)
                    .map_err(|e| fail("cannot split", e.message))?;
                (fresh, maybe)
            }
            None => (std::mem::take(&mut batch.logs), DataFrame::empty()),
        };
        let view = |name: &str, frame: &mut DataFrame| {
            (frame.height() > 0)
                .then(|| sql.scan(name, frame))
                .transpose()
                .map_err(|e| fail("cannot hand the batch to DuckDB", e))
        };
        // Declared before the transaction, dropped (views removed) after it.
        let fresh_view = view("weblog_fresh", &mut fresh)?;
        let maybe_view = view("weblog_maybe", &mut maybe)?;
        let rejects_view = view("weblog_rejects", &mut batch.rejects)?;

        sql.execute("BEGIN TRANSACTION")
            .map_err(|e| fail("cannot begin a transaction", e))?;
        let statements = || -> std::result::Result<Committed, (&'static str, String)> {
            let mut committed = Committed::default();
            let insert = |e| ("cannot insert into logs", e);
            if let (Some(v), Some((m, n))) = (&maybe_view, overlap) {
                sql.execute(&format!(
                    "INSERT INTO logs BY NAME
                     SELECT * FROM {} b
                     WHERE NOT EXISTS (
                         SELECT 1 FROM logs s
                         WHERE s.time_local BETWEEN {} AND {}
                           AND s.raw_log = b.raw_log)",
                    v.table,
                    timestamptz_literal(m),
                    timestamptz_literal(n)
                ))
                .map_err(insert)?;
            }
            if let Some(v) = &fresh_view {
                sql.execute(&format!(
                    "INSERT INTO logs BY NAME SELECT * FROM {}",
                    v.table
                ))
                .map_err(insert)?;
            }
            if batch.time_range.is_some() {
                // Fresh rows are all inserted; of the others, those the anti-join let through
                // are this batch's rows (its own ingested_at) in the overlap span.
                for (file, n) in rows_per_file(&fresh).map_err(|e| ("cannot count rows", e))? {
                    *committed.inserted.entry(file).or_default() += n;
                }
                let this_batch = format!(
                    "FROM logs WHERE ingested_at = {}",
                    timestamptz_literal(batch.ingested_at_us)
                );
                if let (Some(_), Some((m, n))) = (&maybe_view, overlap) {
                    let count = |e| ("cannot count inserted rows", e);
                    for row in sql
                        .query(&format!(
                            "SELECT source_file, count(*) {this_batch}
                               AND time_local BETWEEN {} AND {} GROUP BY ALL",
                            timestamptz_literal(m),
                            timestamptz_literal(n)
                        ))
                        .map_err(count)?
                    {
                        if let [Some(file), Some(n)] = &row[..] {
                            let n = n.parse::<u64>().map_err(|e| count(e.to_string()))?;
                            *committed.inserted.entry(file.clone()).or_default() += n;
                        }
                    }
                }
                sql.execute(&format!(
                    "INSERT OR IGNORE INTO rollup_pending SELECT DISTINCT day {this_batch}"
                ))
                .map_err(|e| ("cannot record the days to refresh", e))?;
            }
            if let Some(v) = &rejects_view {
                sql.execute(&format!(
                    "INSERT INTO rejects BY NAME SELECT * FROM {}",
                    v.table
                ))
                .map_err(|e| ("cannot insert into rejects", e))?;
                committed.rejects = batch.rejects.height() as u64;
            }
            if !checkpoints.is_empty() {
                let rows: Vec<String> = checkpoints
                    .iter()
                    .map(|cp| {
                        format!(
                            "({}, {}, {}, {}, {}, {}, {}, {}, current_timestamp)",
                            sql_string(&cp.path),
                            cp.offset,
                            cp.head.len,
                            cp.head.hash,
                            cp.marker,
                            cp.size,
                            cp.dev,
                            cp.inode
                        )
                    })
                    .collect();
                sql.execute(&format!(
                    "INSERT OR REPLACE INTO checkpoints VALUES {}",
                    rows.join(", ")
                ))
                .map_err(|e| ("cannot write checkpoints", e))?;
            }
            sql.execute(BUMP_DATA_VERSION)
                .map_err(|e| ("cannot write the data version", e))?;
            Ok(committed)
        };
        let committed = statements().map_err(|(what, e)| {
            let _ = sql.execute("ROLLBACK");
            fail(what, e)
        })?;
        crate::failpoint::hit("during-commit");
        sql.execute("COMMIT").map_err(|e| {
            let _ = sql.execute("ROLLBACK");
            Error::new(
                ErrorKind::Io,
                format!("cannot commit to {db}: {}", one_line(&e)),
            )
        })?;
        drop((fresh_view, maybe_view, rejects_view));
        crate::failpoint::hit("after-commit");
        Ok(committed)
    }
}

/// The database, a duckdb-rs connection to it, and the loader's raw connection.
fn open_duckdb(path: &Path, read_only: bool) -> Result<(RawDatabase, Connection, RawConnection)> {
    let opened = RawDatabase::open(path, read_only).and_then(|db| {
        // SAFETY: `db` is open, and outlives the connection (Warehouse's field order).
        let conn = unsafe { Connection::open_from_raw(db.handle()) }.map_err(|e| e.to_string())?;
        let loader = db.connect()?;
        Ok((db, conn, loader))
    });
    opened.map_err(|e| {
        let msg = one_line(&e);
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
    })
}

/// How many rows of `logs` came from each source file.
fn rows_per_file(logs: &DataFrame) -> std::result::Result<HashMap<String, u64>, String> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    if logs.height() == 0 {
        return Ok(counts);
    }
    let files = logs
        .column("source_file")
        .and_then(|c| c.str().cloned())
        .map_err(|e| e.to_string())?;
    // Runs of one file are long (a batch reads file after file): count runs, not rows.
    let mut run: Option<(&str, u64)> = None;
    for f in files.iter().flatten() {
        match &mut run {
            Some((name, n)) if *name == f => *n += 1,
            _ => {
                if let Some((name, n)) = run.replace((f, 1)) {
                    *counts.entry(name.to_string()).or_default() += n;
                }
            }
        }
    }
    if let Some((name, n)) = run {
        *counts.entry(name.to_string()).or_default() += n;
    }
    Ok(counts)
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
    t.format("'%Y-%m-%d %H:%M:%S%.6f+00'::TIMESTAMPTZ")
        .to_string()
}
