//! Appending a sealed batch: new rows (anti-joined on `raw_log` against stored rows of the
//! same time span), new rejects, and the checkpoints, in one transaction. When the database
//! refuses rows for their content, those rows are found (by bisection, in transactions that
//! are rolled back), set aside as rejects with the database's reason, and the rest commits:
//! no line can stop ingestion.

use std::collections::HashMap;

use polars::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

use super::raw::{ArrowScan, RawConnection};
use super::{BUMP_DATA_VERSION, Warehouse};
use crate::enrich::visitor_id::{Salt, salt_hex};
use crate::error::{Error, ErrorKind, Result, one_line};
use crate::parse::Sealed;
use crate::source::Checkpoint;
use crate::sql_text::{string_literal, timestamptz};

/// What one committed batch did.
#[derive(Debug, Default)]
pub struct Committed {
    /// Rows inserted into `logs`, per source file.
    pub inserted: HashMap<String, u64>,
    /// Rows the database refused, set aside as rejects, per source file.
    pub refused: HashMap<String, u64>,
    /// Rows of days before the retention horizon, set aside as rejects, per source file.
    pub closed: HashMap<String, u64>,
    /// Rows inserted into `rejects` (lines already there are not stored twice).
    pub rejects: u64,
}

/// Why an attempt to commit failed: the content of the rows (isolate them), or anything else.
enum Failure {
    Content(String),
    Other(Error),
}

/// The batch's frames as one attempt commits them.
struct Parts {
    /// Rows outside the time span of any stored row: inserted as they are.
    fresh: DataFrame,
    /// Rows inside it, anti-joined against stored rows of the span.
    maybe: DataFrame,
    overlap: Option<Overlap>,
    rejects: DataFrame,
    /// The agents the rows add to `agents`.
    agents: DataFrame,
    /// Daily salts drawn for the batch's rows (`--visitor-id hashed`).
    salts: Vec<(i32, Salt)>,
}

/// The stored rows a batch's time span overlaps.
struct Overlap {
    /// Their first and last time (µs).
    span: (i64, i64),
    /// Some were stored before rows had a line hash (schema version 5).
    unhashed: bool,
}

/// At most this many distinct stored line hashes matching the batch's are listed in the
/// anti-join's SQL; more (a file read again whole) join on a temporary table instead.
const LISTED_HASHES: usize = 4096;

impl Warehouse {
    /// Append the batch's new rows, its rejects, and advance `checkpoints`, atomically.
    pub fn commit(&mut self, sealed: Sealed) -> Result<Committed> {
        crate::failpoint::hit("before-commit");
        let Sealed {
            mut parsed,
            checkpoints,
            salts,
            ..
        } = sealed;
        let db = self.path.display().to_string();
        let sql = &self.loader;
        // Identical lines carry identical timestamps, so only batch rows inside the time span
        // of the stored rows that overlap the batch can be duplicates: only those are
        // anti-joined (hashing every raw line of a batch cost 17% of a backfill). DuckDB
        // prunes row groups by their min/max time. Read before the transaction, like the
        // views: this process holds the write lock, nothing else writes.
        let mut overlap = None;
        if let Some((lo, hi)) = parsed.time_range {
            let span = sql
                .query(&format!(
                    "SELECT epoch_us(min(time_local)), epoch_us(max(time_local)),
                            count(*) FILTER (line_hash IS NULL) > 0
                     FROM log_rows WHERE time_local BETWEEN {} AND {}",
                    timestamptz(lo),
                    timestamptz(hi)
                ))
                .map_err(|e| {
                    failed(
                        &db,
                        "cannot look for stored rows in the batch's time range",
                        &e,
                    )
                })?;
            let bound = |i: usize| span.first()?.get(i)?.as_deref()?.parse::<i64>().ok();
            if let (Some(m), Some(n)) = (bound(0), bound(1)) {
                let unhashed = span.first().and_then(|r| r.get(2)?.as_deref()) == Some("true");
                overlap = Some(Overlap {
                    span: (m, n),
                    unhashed,
                });
            }
        }
        let mut logs = std::mem::take(&mut parsed.logs);
        crate::failpoint::poison(&mut logs);
        let mut closed_rows: HashMap<String, u64> = HashMap::new();
        if let Some(horizon) = self.pruned_before
            && let Some((closed, files)) =
                super::retention::set_aside_closed(&mut logs, horizon, parsed.ingested_at_us)
                    .map_err(|e| failed(&db, "cannot set aside lines of pruned days", &e))?
        {
            parsed.rejects = match parsed.rejects.height() {
                0 => closed,
                _ => parsed.rejects.vstack(&closed).map_err(|e| {
                    failed(&db, "cannot set aside lines of pruned days", &e.to_string())
                })?,
            };
            for f in files {
                *closed_rows.entry(f).or_insert(0) += 1;
            }
        }
        // Each agent as its id (the next ids for agents not stored yet): a sixth of the
        // columns to store.
        let mut encoded = match logs.height() {
            0 => None,
            _ => {
                let mut encoded = self
                    .agent_ids
                    .encode(&self.loader, &logs)
                    .map_err(|e| failed(&db, "cannot number the batch's agents", &e))?;
                logs = std::mem::take(&mut encoded.rows);
                Some(encoded)
            }
        };
        let (fresh, maybe) = match &overlap {
            Some(o) => split_by_time(&logs, o.span)
                .map_err(|e| failed(&db, "cannot split the batch", &e))?,
            None => (logs, DataFrame::empty()),
        };
        let mut parts = Parts {
            fresh,
            maybe,
            overlap,
            rejects: std::mem::take(&mut parsed.rejects),
            agents: encoded
                .as_mut()
                .map_or_else(DataFrame::empty, |e| std::mem::take(&mut e.agents)),
            salts,
        };
        let ingested_at = parsed.ingested_at_us;
        let mut refused = HashMap::new();
        let committed = match self.attempt(&mut parts, &checkpoints, ingested_at) {
            Ok(c) => c,
            Err(Failure::Other(e)) => return Err(e),
            Err(Failure::Content(reason)) => {
                tracing::warn!("the database refused rows of a batch ({reason}): isolating them");
                let refusals = self.isolate(&mut parts, ingested_at, &reason)?;
                for file in refusals {
                    *refused.entry(file).or_insert(0) += 1;
                }
                match self.attempt(&mut parts, &checkpoints, ingested_at) {
                    Ok(c) => c,
                    Err(Failure::Other(e)) => return Err(e),
                    Err(Failure::Content(e)) => {
                        return Err(failed(
                            &db,
                            "cannot insert into logs even without the refused rows",
                            &e,
                        ));
                    }
                }
            }
        };
        if let Some(encoded) = encoded {
            self.agent_ids.adopt(encoded);
        }
        crate::failpoint::hit("after-commit");
        Ok(Committed {
            refused,
            closed: closed_rows,
            ..committed
        })
    }

    /// One transaction: rows, rejects, checkpoints, data version. Rolled back on failure.
    fn attempt(
        &self,
        parts: &mut Parts,
        checkpoints: &[Checkpoint],
        ingested_at: i64,
    ) -> std::result::Result<Committed, Failure> {
        let db = self.path.display().to_string();
        let sql = &self.loader;
        let other = |what: &str, e: String| Failure::Other(failed(&db, what, &e));
        // Declared before the transaction, dropped (views removed) after it.
        let fresh_view = view(sql, "weblog_fresh", &mut parts.fresh)
            .map_err(|e| other("cannot hand the batch to DuckDB", e))?;
        let maybe_view = view(sql, "weblog_maybe", &mut parts.maybe)
            .map_err(|e| other("cannot hand the batch to DuckDB", e))?;
        let rejects_view = view(sql, "weblog_rejects", &mut parts.rejects)
            .map_err(|e| other("cannot hand the batch to DuckDB", e))?;
        let agents_view = view(sql, "weblog_new_agents", &mut parts.agents)
            .map_err(|e| other("cannot hand the batch to DuckDB", e))?;
        // The overlapping rows' line hashes, scanned apart from the rows (a scan is read once).
        let mut keys = match &parts.overlap {
            Some(o) if !o.unhashed && parts.maybe.height() > 0 => parts
                .maybe
                .select(["line_hash"])
                .map_err(|e| other("cannot hand the batch to DuckDB", e.to_string()))?,
            _ => DataFrame::empty(),
        };
        let keys_view = view(sql, "weblog_maybe_keys", &mut keys)
            .map_err(|e| other("cannot hand the batch to DuckDB", e))?;

        sql.execute("BEGIN TRANSACTION")
            .map_err(|e| other("cannot begin a transaction", e))?;
        let statements = || -> std::result::Result<Committed, Failure> {
            let mut committed = Committed::default();
            // The batch's number, if it stores rows: one writer at a time (the lock file),
            // so the next number is free until this transaction commits.
            let batch_id: i64 = sql
                .query("SELECT coalesce(max(seq), 0) + 1 FROM batches")
                .ok()
                .and_then(|rows| rows.into_iter().next())
                .and_then(|row| row.into_iter().next().flatten())
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| other("cannot number the batch", "no next number".into()))?;
            if let Some(v) = &agents_view {
                sql.execute(&format!(
                    "INSERT INTO agents BY NAME SELECT * FROM {}",
                    v.table
                ))
                .map_err(|e| other("cannot store the batch's agents", e))?;
            }
            if let (Some(v), Some(o)) = (&maybe_view, &parts.overlap) {
                let (m, n) = o.span;
                let span = format!(
                    "s.time_local BETWEEN {} AND {}",
                    timestamptz(m),
                    timestamptz(n)
                );
                // Only stored rows whose line hash is one of the batch's can be its lines:
                // those hashes are found reading two narrow columns of the span, and the
                // raw lines are compared for them only. Rows without a hash (stored before
                // schema 5) are compared by their raw line, as they were.
                let stored = match &keys_view {
                    Some(keys) if !o.unhashed => stored_hashes(sql, &span, &keys.table)
                        .map_err(|e| other("cannot look up stored lines", e))?,
                    _ => Some(String::new()),
                };
                // With --anonymize-ip (or rows masked in place since) the stored raw line is
                // masked: two lines that differ only in masked bits are two rows, so the line
                // as read is compared through its hash, with the time (exact up to a 64-bit
                // collision between lines of one second). Rows stored before hashes existed
                // were never masked.
                let same_line = if (self.anonymized || self.masked_in_place) && !o.unhashed {
                    "s.line_hash = b.line_hash AND s.time_local = b.time_local"
                } else {
                    "s.raw_log = b.raw_log"
                };
                let insert = match stored {
                    // No stored line shares a hash with the batch's: all are new.
                    None => format!(
                        "INSERT INTO log_rows BY NAME SELECT *, {batch_id} AS batch_id FROM {}",
                        v.table
                    ),
                    Some(candidates) => format!(
                        "INSERT INTO log_rows BY NAME
                         SELECT *, {batch_id} AS batch_id FROM {} b
                         WHERE NOT EXISTS (
                             SELECT 1 FROM log_rows s
                             WHERE {span}{candidates}
                               AND {same_line}
                               AND s.host IS NOT DISTINCT FROM b.host)",
                        v.table
                    ),
                };
                sql.execute(&insert).map_err(Failure::Content)?;
                sql.execute("DROP TABLE IF EXISTS weblog_stored_hashes")
                    .map_err(|e| other("cannot look up stored lines", e))?;
            }
            if let Some(v) = &fresh_view {
                sql.execute(&format!(
                    "INSERT INTO log_rows BY NAME SELECT *, {batch_id} AS batch_id FROM {}",
                    v.table
                ))
                .map_err(Failure::Content)?;
            }
            // Fresh rows are all inserted; of the others, those the anti-join let through
            // are this batch's rows in the overlap span.
            for (file, n) in
                rows_per_file(&parts.fresh).map_err(|e| other("cannot count rows", e))?
            {
                *committed.inserted.entry(file).or_default() += n;
            }
            let this_batch = format!("FROM log_rows WHERE batch_id = {batch_id}");
            if let (Some(_), Some(Overlap { span: (m, n), .. })) = (&maybe_view, &parts.overlap) {
                let rows = sql
                    .query(&format!(
                        "SELECT source_file, count(*) {this_batch}
                           AND time_local BETWEEN {} AND {} GROUP BY ALL",
                        timestamptz(*m),
                        timestamptz(*n)
                    ))
                    .map_err(|e| other("cannot count inserted rows", e))?;
                for row in rows {
                    if let [Some(file), Some(n)] = &row[..] {
                        let n = n
                            .parse::<u64>()
                            .map_err(|e| other("cannot count inserted rows", e.to_string()))?;
                        *committed.inserted.entry(file.clone()).or_default() += n;
                    }
                }
            }
            let stored: u64 = committed.inserted.values().sum();
            if stored > 0 {
                sql.execute(&format!(
                    "INSERT OR IGNORE INTO rollup_pending SELECT DISTINCT day {this_batch}"
                ))
                .map_err(|e| other("cannot record the days to refresh", e))?;
                sql.execute(&format!(
                    "INSERT INTO batches VALUES ({batch_id}, {}, {stored}, current_timestamp)",
                    timestamptz(ingested_at)
                ))
                .map_err(|e| other("cannot number the batch", e))?;
            }
            if let Some(v) = &rejects_view {
                // A line set aside once (e.g. read again from a replaced file) is not stored
                // twice. The IN pre-filter lets the scan of stored rejects read only their
                // hashes and drop all but the batch's: 8 ms instead of 37 ms against 2 M
                // stored rejects (bench/NOTES.md §11).
                // (The Arrow scan can be read once: the batch's rejects are copied first.)
                sql.execute(&format!(
                    "CREATE OR REPLACE TEMP TABLE weblog_new_rejects AS SELECT * FROM {}",
                    v.table
                ))
                .map_err(|e| other("cannot insert into rejects", e))?;
                // Compared with the rejects stored within the checkpoint retention only: a
                // line is read again while its file's checkpoint is kept (a rotation's copy,
                // a replaced file), so older rejects cannot repeat it, and `ingested_at`
                // grows with the table: DuckDB skips the older row groups by their min/max.
                let recent = match self.reject_window {
                    Some(window) => format!(
                        "AND s.ingested_at >= current_timestamp - INTERVAL {} SECOND",
                        window.as_secs()
                    ),
                    None => String::new(),
                };
                // A reject masked in place is the line as read if its hash is.
                let masked = self.masked_in_place;
                committed.rejects = sql
                    .execute(&format!(
                        "INSERT INTO rejects BY NAME SELECT * FROM weblog_new_rejects b
                         WHERE NOT EXISTS (SELECT 1 FROM rejects s
                                           WHERE s.line_hash IN (SELECT line_hash FROM weblog_new_rejects)
                                             {recent}
                                             AND s.line_hash = b.line_hash
                                             AND (s.raw_line = b.raw_line OR {masked}))",
                    ))
                    .map_err(|e| other("cannot insert into rejects", e))?;
                sql.execute("DROP TABLE weblog_new_rejects")
                    .map_err(|e| other("cannot insert into rejects", e))?;
            }
            if !parts.salts.is_empty() {
                let rows: Vec<String> = parts
                    .salts
                    .iter()
                    .map(|(day, salt)| format!("(DATE '1970-01-01' + {day}, '{}')", salt_hex(salt)))
                    .collect();
                sql.execute(&format!(
                    "INSERT OR IGNORE INTO visitor_salts VALUES {}",
                    rows.join(", ")
                ))
                .map_err(|e| other("cannot store the daily salts", e))?;
            }
            if !checkpoints.is_empty() {
                sql.execute(&upsert_checkpoints(checkpoints))
                    .map_err(|e| other("cannot write checkpoints", e))?;
                // Kept checkpoints of content that left its path are bounded in number.
                sql.execute(&format!(
                    "DELETE FROM checkpoints WHERE starts_with(path, {})
                       AND updated_at < current_timestamp - INTERVAL {} DAY",
                    string_literal(crate::source::RETIRED),
                    crate::source::RETIRED_KEEP_DAYS
                ))
                .map_err(|e| other("cannot prune kept checkpoints", e))?;
            }
            sql.execute(BUMP_DATA_VERSION)
                .map_err(|e| other("cannot write the data version", e))?;
            Ok(committed)
        };
        let committed = statements().inspect_err(|_| {
            let _ = sql.execute("ROLLBACK");
        })?;
        crate::failpoint::hit("during-commit");
        sql.execute("COMMIT").map_err(|e| {
            let _ = sql.execute("ROLLBACK");
            Failure::Other(Error::new(
                ErrorKind::Io,
                format!("cannot commit to {db}: {}", one_line(&e)),
            ))
        })?;
        drop((fresh_view, maybe_view, rejects_view, agents_view, keys_view));
        Ok(committed)
    }

    /// Find the rows of `parts` that the database refuses on their own, move them to the
    /// rejects with its reason, and return their files. Each probe is an insert in a
    /// transaction that is rolled back. Refuses to blame rows when the database refuses even
    /// a harmless write (then the fault is not the content).
    fn isolate(
        &self,
        parts: &mut Parts,
        ingested_at: i64,
        first_reason: &str,
    ) -> Result<Vec<String>> {
        let db = self.path.display().to_string();
        let polars = |e: PolarsError| failed(&db, "cannot isolate rows", &e.to_string());
        let mut all = match (parts.fresh.height(), parts.maybe.height()) {
            (_, 0) => parts.fresh.clone(),
            (0, _) => parts.maybe.clone(),
            _ => parts.fresh.vstack(&parts.maybe).map_err(polars)?,
        };
        all.rechunk_mut();
        let mut bad: Vec<(usize, String)> = Vec::new();
        let mut pending = vec![(0usize, all.height())];
        while let Some((start, len)) = pending.pop() {
            match self.probe(&all.slice(start as i64, len)) {
                Ok(()) => {}
                Err(reason) if len == 1 => bad.push((start, reason)),
                Err(_) => {
                    let half = len / 2;
                    pending.push((start + half, len - half));
                    pending.push((start, half));
                }
            }
        }
        if bad.is_empty() {
            return Err(failed(
                &db,
                "cannot insert into logs (no single row is at fault)",
                first_reason,
            ));
        }
        self.probe_health().map_err(|e| {
            let why = format!("{first_reason}; and the database refuses any write: {e}");
            failed(&db, "cannot insert into logs", &why)
        })?;
        let mut mask = vec![false; all.height()];
        for (i, _) in &bad {
            mask[*i] = true;
        }
        let is_bad: BooleanChunked = mask.into_iter().collect();
        let good = all.filter(&!&is_bad).map_err(polars)?;
        let raw = all
            .column("raw_log")
            .and_then(|c| c.str().cloned())
            .map_err(polars)?;
        let files = all
            .column("source_file")
            .and_then(|c| c.str().cloned())
            .map_err(polars)?;
        let offsets = all
            .column("source_offset")
            .and_then(|c| c.i64().cloned())
            .map_err(polars)?;
        let mut refused_files = Vec::with_capacity(bad.len());
        let mut f = Vec::new();
        let mut o = Vec::new();
        let mut l = Vec::new();
        let mut h = Vec::new();
        let mut r = Vec::new();
        for (i, reason) in &bad {
            let line = raw.get(*i).unwrap_or_default();
            let file = files.get(*i).unwrap_or_default();
            refused_files.push(file.to_string());
            f.push(file.to_string());
            o.push(offsets.get(*i).unwrap_or_default());
            l.push(line.to_string());
            h.push(xxh3_64(line.as_bytes()));
            r.push(format!(
                "the database refused the row: {}",
                one_line(reason)
            ));
        }
        let n = bad.len();
        let extra = DataFrame::new(
            n,
            vec![
                Column::new("source_file".into(), f),
                Column::new("source_offset".into(), o),
                Column::new("raw_line".into(), l),
                Column::new("line_hash".into(), h),
                Column::new("reason".into(), r),
                Int64Chunked::from_vec("ingested_at".into(), vec![ingested_at; n])
                    .into_datetime(TimeUnit::Microseconds, None)
                    .into_column(),
            ],
        )
        .and_then(|extra| match parts.rejects.height() {
            0 => Ok(extra),
            _ => parts.rejects.vstack(&extra),
        })
        .map_err(polars)?;
        parts.rejects = extra;
        // Split again as `commit` split them: the rows outside the overlap span are counted
        // as inserted from the frame, those inside by the query over the span. (All rows as
        // `maybe` stored the outside ones uncounted: no `batches` row, no day to refresh.)
        match &parts.overlap {
            Some(o) => {
                (parts.fresh, parts.maybe) = split_by_time(&good, o.span)
                    .map_err(|e| failed(&db, "cannot split the batch", &e))?;
            }
            None => parts.fresh = good,
        }
        Ok(refused_files)
    }

    /// Insert `rows` into `log_rows` and roll back: Err(reason) when the database refuses them.
    fn probe(&self, rows: &DataFrame) -> std::result::Result<(), String> {
        let sql = &self.loader;
        let mut rows = rows.clone();
        let scan = view(sql, "weblog_probe", &mut rows)?;
        let Some(scan) = scan else { return Ok(()) };
        sql.execute("BEGIN TRANSACTION")?;
        let result = sql.execute(&format!(
            "INSERT INTO log_rows BY NAME SELECT * FROM {}",
            scan.table
        ));
        let _ = sql.execute("ROLLBACK");
        result.map(|_| ())
    }

    /// A harmless write, rolled back: does the database accept writes at all?
    fn probe_health(&self) -> std::result::Result<(), String> {
        let sql = &self.loader;
        sql.execute("BEGIN TRANSACTION")?;
        let result = sql.execute(BUMP_DATA_VERSION);
        let _ = sql.execute("ROLLBACK");
        result.map(|_| ())
    }
}

fn failed(db: &str, what: &str, e: &str) -> Error {
    Error::new(ErrorKind::Failed, format!("{what} ({db}): {}", one_line(e)))
}

/// A DuckDB view of `frame`, or None when it has no rows.
fn view<'a>(
    sql: &'a RawConnection,
    name: &str,
    frame: &mut DataFrame,
) -> std::result::Result<Option<ArrowScan<'a>>, String> {
    (frame.height() > 0)
        .then(|| sql.scan(name, frame))
        .transpose()
}

fn upsert_checkpoints(checkpoints: &[Checkpoint]) -> String {
    let text = |v: &Option<String>| v.as_deref().map_or("NULL".to_string(), string_literal);
    let rows: Vec<String> = checkpoints
        .iter()
        .map(|cp| {
            format!(
                "({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, current_timestamp)",
                string_literal(&cp.path),
                cp.offset,
                cp.head.len,
                cp.head.hash,
                cp.marker,
                cp.marker_len,
                cp.size,
                cp.dev,
                cp.inode,
                text(&cp.format),
                text(&cp.format_state),
            )
        })
        .collect();
    format!(
        r#"INSERT OR REPLACE INTO checkpoints
               (path, "offset", head_len, head_hash, marker, marker_len, size, dev, inode, format, format_state, updated_at)
           VALUES {}"#,
        rows.join(", ")
    )
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
/// The condition that narrows the anti-join to stored rows of `span` whose line hash is one
/// of the batch's (`keys`), or None when there are none (every row of the batch is new).
/// Leaves the hashes in the temporary table `weblog_stored_hashes`.
fn stored_hashes(
    sql: &RawConnection,
    span: &str,
    keys: &str,
) -> std::result::Result<Option<String>, String> {
    sql.execute(&format!(
        "CREATE OR REPLACE TEMP TABLE weblog_stored_hashes AS
         SELECT DISTINCT s.line_hash FROM log_rows s
         WHERE {span} AND s.line_hash IN (SELECT line_hash FROM {keys})"
    ))?;
    let found = sql.query(&format!(
        "SELECT count(*), CASE WHEN count(*) <= {LISTED_HASHES}
                               THEN string_agg(line_hash::VARCHAR, ', ') END
         FROM weblog_stored_hashes"
    ))?;
    let row = found.into_iter().next().unwrap_or_default();
    Ok(
        match (
            row.first().cloned().flatten().as_deref(),
            row.get(1).cloned().flatten(),
        ) {
            (Some("0") | None, _) => None,
            // A short list is a filter DuckDB applies while scanning: the raw lines of other
            // rows are not read.
            (_, Some(list)) => Some(format!(" AND s.line_hash IN ({list})")),
            _ => Some(" AND s.line_hash IN (SELECT line_hash FROM weblog_stored_hashes)".into()),
        },
    )
}

fn split_by_time(
    logs: &DataFrame,
    (lo, hi): (i64, i64),
) -> std::result::Result<(DataFrame, DataFrame), String> {
    let times = logs
        .column("time_local")
        .and_then(|c| c.datetime().cloned())
        .map_err(|e| e.to_string())?;
    let inside: BooleanChunked = times
        .physical()
        .iter()
        .map(|t| t.is_some_and(|t| (lo..=hi).contains(&t)))
        .collect();
    let outside = !&inside;
    Ok((
        logs.filter(&outside).map_err(|e| e.to_string())?,
        logs.filter(&inside).map_err(|e| e.to_string())?,
    ))
}
