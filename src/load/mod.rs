//! Stage 3: the DuckDB warehouse. Opens (and locks) the database, keeps its schema
//! ([`schema`]), appends sealed batches with their checkpoints in one transaction
//! ([`commit`]), and keeps the small state a run reads and writes ([`meta`]).

mod agents;
mod commit;
pub mod lock;
mod meta;
mod privacy;
mod raw;
mod retention;
mod schema;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use duckdb::Connection;

use crate::error::{Error, ErrorKind, Result, one_line};

pub(crate) use agents::DELETE_UNUSED_AGENTS;
pub use commit::Committed;
pub use lock::LockFile;
pub use meta::Retention;
pub use raw::library_version;
use raw::{RawConnection, RawDatabase};
pub use retention::{MASK_LEVEL, mask_table};
pub use schema::SCHEMA_VERSION;

/// Moves `data_version` on; part of every transaction that changes stored rows.
pub(crate) const BUMP_DATA_VERSION: &str = "INSERT OR REPLACE INTO weblog_meta
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
    /// DuckDB's memory limit for the SQL stages, as DuckDB spells it (empty: DuckDB's own).
    memory_limit: String,
    /// This run masks addresses (`--anonymize-ip`): a stored row is the same line as a batch
    /// row by line hash and time, its raw line being masked (see `commit`).
    anonymized: bool,
    /// How far back a reject is looked for before a line is set aside again (the checkpoint
    /// retention; None: all of them).
    reject_window: Option<std::time::Duration>,
    /// Raw rows of the days before it were pruned (`weblog prune`): lines of those days are
    /// set aside as rejects, not stored.
    pruned_before: Option<chrono::NaiveDate>,
    /// Some stored rows were masked in place (`anonymize_after_days`): a line read again is
    /// matched by hash, as with `--anonymize-ip`.
    masked_in_place: bool,
    /// The stored agents' ids, for the loader.
    agent_ids: agents::AgentIds,
}

/// DuckDB's memory limit while loading, when the run's is higher. Appending needs little
/// memory of its own; what a higher limit adds is a cache of the blocks just written, which
/// nothing reads again, on top of the parser's batches: peak RSS of a 2 M-line backfill
/// 1,239 → 986 MB, the load no slower (bench/NOTES.md §12).
const LOAD_MEMORY_LIMIT_KB: u64 = 128_000;

impl Warehouse {
    /// Open for writing: take the lock, open DuckDB, refuse a database this weblog cannot
    /// read (before writing anything to it), then bring the schema up to date.
    pub fn open(path: &Path, wait: Duration, memory_limit: &str) -> Result<Warehouse> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::new(
                    ErrorKind::CantCreate,
                    format!("cannot create database folder {}: {e}", dir.display()),
                )
            })?;
        }
        // One deadline for both locks: weblog's own, then DuckDB's file lock, which any other
        // process with the file open holds (an analyst's read-only connection too).
        let deadline = Instant::now().checked_add(wait);
        let lock = LockFile::acquire(path, wait)?;
        remove_unborn(path);
        let mut pause = Duration::from_millis(50);
        let (db, conn, loader) = loop {
            match open_duckdb(path, false) {
                Err(e)
                    if e.kind == ErrorKind::TempFail
                        && deadline.is_none_or(|d| Instant::now() < d) =>
                {
                    let left =
                        deadline.map_or(pause, |d| d.saturating_duration_since(Instant::now()));
                    std::thread::sleep(pause.min(left));
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
                Err(e) if e.kind == ErrorKind::TempFail && !wait.is_zero() => {
                    return Err(Error::new(
                        e.kind,
                        format!("{} (waited {:.0?}, --wait)", e.message, wait),
                    ));
                }
                other => break other?,
            }
        };
        let mut wh = Warehouse {
            conn,
            loader,
            _db: db,
            path: path.to_path_buf(),
            _lock: Some(lock),
            stored_version: SCHEMA_VERSION,
            memory_limit: memory_limit.to_string(),
            anonymized: false,
            reject_window: None,
            pruned_before: None,
            masked_in_place: false,
            agent_ids: agents::AgentIds::default(),
        };
        // The value was checked by the command line's parser; DuckDB has the last word.
        let set = format!("SET memory_limit = '{memory_limit}'; SET enable_progress_bar = false");
        wh.conn.execute_batch(&set).map_err(|e| {
            Error::new(
                ErrorKind::Failed,
                format!(
                    "DuckDB refuses memory limit {memory_limit:?}: {}",
                    one_line(&e.to_string())
                ),
            )
        })?;
        wh.stored_version = wh.check_versions()?;
        wh.apply_schema()?;
        wh.load_retention_state()?;
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
        let mut wh = Self::connect(path, true, None)?;
        wh.stored_version = wh.check_versions()?;
        Ok(wh)
    }

    /// A scratch in-memory database, e.g. to read outputs back.
    pub fn open_in_memory() -> Result<Warehouse> {
        Self::connect(Path::new(":memory:"), false, None)
    }

    fn connect(path: &Path, read_only: bool, lock: Option<LockFile>) -> Result<Warehouse> {
        let (db, conn, loader) = open_duckdb(path, read_only)?;
        Ok(Warehouse {
            conn,
            loader,
            _db: db,
            path: path.to_path_buf(),
            _lock: lock,
            stored_version: SCHEMA_VERSION,
            memory_limit: String::new(),
            anonymized: false,
            reject_window: None,
            pruned_before: None,
            masked_in_place: false,
            agent_ids: agents::AgentIds::default(),
        })
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Set DuckDB up for loading (one thread, beside the parser's; a small memory limit) or
    /// for the SQL stages (all threads, the run's memory limit).
    pub fn loading(&self, loading: bool) -> Result<()> {
        let sql = if loading {
            // The run's limit as `Warehouse::open` was given it ("<n>KB" from the command
            // line's parser); a smaller one is kept.
            let run_kb = self
                .memory_limit
                .strip_suffix("KB")
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(u64::MAX);
            format!(
                "SET threads = 1; SET memory_limit = '{}KB'",
                run_kb.min(LOAD_MEMORY_LIMIT_KB)
            )
        } else if self.memory_limit.is_empty() {
            "RESET threads; RESET memory_limit".to_string()
        } else {
            format!("RESET threads; SET memory_limit = '{}'", self.memory_limit)
        };
        self.conn.execute_batch(&sql).map_err(|e| {
            Error::new(
                ErrorKind::Failed,
                format!("cannot set DuckDB up for loading: {e}"),
            )
        })
    }

    /// Look for a batch's rejects among those stored within `window` (the checkpoint
    /// retention) only.
    pub fn set_reject_window(&mut self, window: Option<std::time::Duration>) {
        self.reject_window = window;
    }

    /// Write what a load of several batches committed into the database file before the SQL
    /// stages run. Left to the checkpoint on close, the same work came with the rollups'
    /// tables and left 10% of a backfill's file as free blocks (bench/NOTES.md §16); a run of
    /// one batch leaves it to DuckDB, whose WAL is then small.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn.execute_batch("CHECKPOINT").map_err(|e| {
            Error::new(
                ErrorKind::Failed,
                format!(
                    "cannot checkpoint {}: {}",
                    self.path.display(),
                    one_line(&e.to_string())
                ),
            )
        })
    }

    /// All DuckDB threads for the last batch, beside which nothing is parsed (the memory
    /// limit stays the loading one).
    pub fn all_threads(&self) -> Result<()> {
        self.conn
            .execute_batch("RESET threads")
            .map_err(|e| Error::new(ErrorKind::Failed, format!("cannot set DuckDB threads: {e}")))
    }
}

/// Remove a database file that a run killed while DuckDB was creating it left empty or all
/// zeros (DuckDB writes its headers, with their magic bytes, right after creating the file):
/// it holds nothing, and DuckDB would refuse it as "not a valid DuckDB database file" on every
/// later run. Anything else (a file with any non-zero byte) is left for DuckDB to judge.
fn remove_unborn(path: &Path) {
    const HEADERS: u64 = 3 * 4096;
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    let wal = path.with_extension(format!(
        "{}.wal",
        path.extension()
            .map_or(String::new(), |e| e.to_string_lossy().into_owned())
    ));
    if !meta.is_file() || meta.len() > HEADERS || std::fs::metadata(&wal).is_ok_and(|w| w.len() > 0)
    {
        return;
    }
    let Ok(bytes) = std::fs::read(path) else {
        return;
    };
    if bytes.iter().all(|&b| b == 0) && std::fs::remove_file(path).is_ok() {
        tracing::warn!(path = %path.display(), "removed an empty database file left by a killed run");
    }
}

/// The database, a duckdb-rs connection to it, and the loader's raw connection.
fn open_duckdb(path: &Path, read_only: bool) -> Result<(RawDatabase, Connection, RawConnection)> {
    let opened = RawDatabase::open(path, read_only).and_then(|db| {
        // SAFETY: `db` is open, and outlives the connection (Warehouse's field order).
        let conn = unsafe { Connection::open_from_raw(db.handle()) }.map_err(|e| e.to_string())?;
        // Before the loader connects, so that it starts in UTC too.
        crate::sql_text::pin_utc(&conn).map_err(|e| e.to_string())?;
        let loader = db.connect()?;
        Ok((db, conn, loader))
    });
    opened.map_err(|e| {
        let msg = one_line(&e);
        if msg.contains("created with a newer version of DuckDB") {
            // weblog's builds before 2026-12-03 had DuckDB 2.0, whose files 1.5 cannot read.
            return Error::new(
                ErrorKind::Data,
                format!(
                    "database {} was written by a newer DuckDB than this weblog's ({}): \
                     `make migrate-warehouse DB={}` copies a weblog warehouse into a format it reads ({msg})",
                    path.display(),
                    library_version(),
                    path.display()
                ),
            );
        }
        let kind = if msg.contains("Could not set lock") {
            ErrorKind::TempFail
        } else {
            ErrorKind::Data
        };
        if kind == ErrorKind::TempFail {
            return Error::new(
                kind,
                format!(
                    "database {} is in use by {}: DuckDB lets no other program open it while one \
                     writes, nor write while another has it open (read the Parquet outputs instead)",
                    path.display(),
                    lock_holder(&msg)
                ),
            );
        }
        Error::new(
            kind,
            format!(
                "database {} cannot be opened (corrupt, or not a DuckDB database): {msg}",
                path.display()
            ),
        )
    })
}

/// The holder named in DuckDB's lock error ("… Conflicting lock is held in /usr/bin/python3.11
/// (PID 4242) by user …"): its program and pid, else DuckDB's whole message.
fn lock_holder(msg: &str) -> String {
    let held = msg
        .split_once("Conflicting lock is held in ")
        .map(|(_, rest)| rest);
    let Some((program, rest)) = held.and_then(|r| r.split_once(" (PID ")) else {
        return format!("another program ({msg})");
    };
    let pid = rest.split(')').next().unwrap_or_default();
    format!("another program ({program}, pid {pid})")
}
