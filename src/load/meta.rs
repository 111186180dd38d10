//! The small state a run reads and writes beside the rows: checkpoints, the data version,
//! each output's freshness, and the `runs` record.

use std::collections::HashMap;

use super::Warehouse;
use crate::error::{Context, ErrorKind, Result};
use crate::source::Checkpoint;
use crate::source::fingerprint::Head;
use crate::summary::{Pruned, RunSummary};

impl Warehouse {
    /// Every stored checkpoint, by path. A database not yet upgraded (opened read-only by
    /// `status`) is read as its version wrote it.
    pub fn checkpoints(&self) -> Result<HashMap<String, Checkpoint>> {
        let db = || format!("cannot read checkpoints from {}", self.path.display());
        let v3 = if self.stored_version >= 3 {
            "marker_len, format, format_state"
        } else {
            "64, NULL, NULL"
        };
        let mut stmt = self
            .conn
            .prepare(&format!(
                r#"SELECT path, "offset", head_len, head_hash, marker, size, dev, inode, {v3} FROM checkpoints"#
            ))
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
                    marker_len: r.get(8)?,
                    format: r.get(9)?,
                    format_state: r.get(10)?,
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

    /// This warehouse's id (random) and, when it had to take a new one, the id it had: it
    /// names the lake files it writes, so no two warehouses (two containers with one host
    /// name, a warehouse rebuilt from its logs, a copy of a warehouse) can overwrite or
    /// duplicate each other's files. The id belongs to a *home* — the machine and the
    /// database's path: a warehouse opened in another home (copied or moved there) takes a
    /// new id, which is harmless for a move (its later batches get new names, its mark stays)
    /// and necessary for a copy (the original goes on under the old names).
    pub fn warehouse_id(&self) -> Result<(String, Option<String>)> {
        let what = || format!("cannot read the warehouse id of {}", self.path.display());
        let read = |key: &str| -> duckdb::Result<Option<String>> {
            self.conn.query_row(
                "SELECT max(value) FROM weblog_meta WHERE key = ?",
                [key],
                |r| r.get(0),
            )
        };
        let here = self.home();
        let id = read("warehouse_id").context(ErrorKind::Data, what)?;
        let home = read("warehouse_home").context(ErrorKind::Data, what)?;
        if let Some(id) = &id
            && home.as_deref().is_none_or(|h| h == here)
        {
            if home.is_none() {
                // An id made before homes were recorded: this is its home.
                self.conn
                    .execute(
                        "INSERT OR REPLACE INTO weblog_meta VALUES ('warehouse_home', ?)",
                        [&here],
                    )
                    .context(ErrorKind::Data, what)?;
            }
            return Ok((id.clone(), None));
        }
        self.conn
            .execute(
                "INSERT OR REPLACE INTO weblog_meta
                 SELECT 'warehouse_id', substr(replace(gen_random_uuid()::VARCHAR, '-', ''), 1, 12)
                 UNION ALL SELECT 'warehouse_home', ?",
                [&here],
            )
            .context(ErrorKind::Data, what)?;
        let new = read("warehouse_id")
            .context(ErrorKind::Data, what)?
            .ok_or_else(|| crate::error::Error::new(ErrorKind::Data, what()))?;
        Ok((new, id))
    }

    /// Where this warehouse lives: the machine (its systemd/D-Bus machine id, else its host
    /// name) and the database's absolute path.
    pub fn home(&self) -> String {
        let machine = ["/etc/machine-id", "/var/lib/dbus/machine-id"]
            .iter()
            .find_map(|p| std::fs::read_to_string(p).ok())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .or_else(|| {
                std::fs::read_to_string("/proc/sys/kernel/hostname")
                    .ok()
                    .map(|s| s.trim().to_string())
            })
            .unwrap_or_default();
        let path = std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        format!("{machine}:{}", path.display())
    }

    /// The latest `ingested_at` of the stored batches (µs), 0 for none.
    pub fn last_ingested_at_us(&self) -> Result<i64> {
        let latest: Option<i64> = self
            .conn
            .query_row("SELECT epoch_us(max(ingested_at)) FROM batches", [], |r| {
                r.get(0)
            })
            .context(ErrorKind::Data, || {
                format!("cannot read the last batch time of {}", self.path.display())
            })?;
        Ok(latest.unwrap_or(0))
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

    /// Per output: the fingerprint it was last written with and its row count.
    pub fn output_states(&self) -> Result<HashMap<String, (String, u64)>> {
        let what = || format!("cannot read the outputs' state in {}", self.path.display());
        let mut stmt = self
            .conn
            .prepare("SELECT key, value FROM weblog_meta WHERE key LIKE 'output:%'")
            .context(ErrorKind::Data, what)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .context(ErrorKind::Data, what)?;
        let mut states = HashMap::new();
        for row in rows {
            let (key, value) = row.context(ErrorKind::Data, what)?;
            if let (Some(name), Some((fingerprint, n))) =
                (key.strip_prefix("output:"), value.split_once(' '))
                && let Ok(n) = n.parse()
            {
                states.insert(name.to_string(), (fingerprint.to_string(), n));
            }
        }
        Ok(states)
    }

    /// The site host found for the outputs' inputs `digest` (Some(None): none was found).
    pub fn own_site(&self, digest: &str) -> Result<Option<Option<String>>> {
        let value: Option<String> = self
            .conn
            .query_row(
                "SELECT max(value) FROM weblog_meta WHERE key = 'own_site'",
                [],
                |r| r.get(0),
            )
            .context(ErrorKind::Data, || {
                format!("cannot read {}", self.path.display())
            })?;
        Ok(value.and_then(|v| {
            let (stored, host) = v.split_once(' ')?;
            (stored == digest).then(|| (!host.is_empty()).then(|| host.to_string()))
        }))
    }

    pub fn set_own_site(&self, digest: &str, host: Option<&str>) -> Result<()> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO weblog_meta VALUES ('own_site', ?)",
                [format!("{digest} {}", host.unwrap_or(""))],
            )
            .context(ErrorKind::Data, || {
                format!("cannot write to {}", self.path.display())
            })?;
        Ok(())
    }

    /// Record each output written (name, fingerprint, rows) in one transaction: a commit per
    /// output was a third of a small run's output stage.
    pub fn set_output_states(&self, states: &[(String, String, u64)]) -> Result<()> {
        if states.is_empty() {
            return Ok(());
        }
        let what = || format!("cannot record the outputs in {}", self.path.display());
        self.conn
            .execute_batch("BEGIN TRANSACTION")
            .context(ErrorKind::Data, what)?;
        let written = (|| {
            let mut stmt = self
                .conn
                .prepare("INSERT OR REPLACE INTO weblog_meta VALUES (?, ?)")?;
            for (output, fingerprint, rows) in states {
                stmt.execute([format!("output:{output}"), format!("{fingerprint} {rows}")])?;
            }
            self.conn.execute_batch("COMMIT")
        })();
        if written.is_err() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        written.context(ErrorKind::Data, what)
    }

    /// Record a run in `runs` (its own small transaction, after the batches').
    pub fn record_run(
        &self,
        started_at_us: i64,
        summary: &RunSummary,
        error: Option<&str>,
    ) -> Result<()> {
        let json = serde_json::to_string(summary).expect("summary serialises");
        self.conn
            .execute(
                "INSERT INTO runs VALUES (make_timestamp(?::BIGINT)::TIMESTAMPTZ, current_timestamp, ?, ?, ?, ?, ?, ?, ?, ?)",
                duckdb::params![
                    started_at_us,
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

    /// Forget what is kept only for bookkeeping, past its retention: the checkpoints of files
    /// that no longer exist and were last read before `checkpoints` ago, and the `runs`
    /// rows older than `runs`. One transaction; returns how many of each went.
    pub fn prune(&self, retention: &Retention) -> Result<Pruned> {
        let what = || format!("cannot prune {}", self.path.display());
        let ago = |d: std::time::Duration| {
            format!(
                "current_timestamp - to_microseconds({}::BIGINT)",
                d.as_micros().min(i64::MAX as u128)
            )
        };
        let mut pruned = Pruned::default();
        let mut gone: Vec<String> = Vec::new();
        if let Some(d) = retention.checkpoints {
            let mut stmt = self
                .conn
                .prepare(&format!(
                    "SELECT path FROM checkpoints WHERE updated_at < {}
                       AND NOT starts_with(path, {})",
                    ago(d),
                    crate::sql_text::string_literal(crate::source::RETIRED)
                ))
                .context(ErrorKind::Data, what)?;
            let old: Vec<String> = stmt
                .query_map([], |r| r.get(0))
                .and_then(|rows| rows.collect())
                .context(ErrorKind::Data, what)?;
            // Idle is not gone: a file still there keeps its checkpoint, or it would be read
            // again from its start.
            gone = old
                .into_iter()
                .filter(|p| std::fs::symlink_metadata(p).is_err())
                .collect();
        }
        if gone.is_empty() && retention.runs.is_none() {
            return Ok(pruned);
        }
        let mut sql = String::from("BEGIN TRANSACTION;");
        if !gone.is_empty() {
            let list: Vec<String> = gone
                .iter()
                .map(|p| crate::sql_text::string_literal(p))
                .collect();
            sql.push_str(&format!(
                "DELETE FROM checkpoints WHERE path IN ({});",
                list.join(", ")
            ));
            pruned.checkpoints = gone.len() as u64;
        }
        if let Some(d) = retention.runs {
            pruned.runs = self
                .conn
                .query_row(
                    &format!("SELECT count(*) FROM runs WHERE started_at < {}", ago(d)),
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .context(ErrorKind::Data, what)? as u64;
            if pruned.runs > 0 {
                sql.push_str(&format!("DELETE FROM runs WHERE started_at < {};", ago(d)));
            }
        }
        if pruned.checkpoints + pruned.runs == 0 {
            return Ok(pruned);
        }
        sql.push_str("COMMIT;");
        self.conn.execute_batch(&sql).map_err(|e| {
            let _ = self.conn.execute_batch("ROLLBACK");
            crate::error::Error::new(
                ErrorKind::Data,
                format!("{}: {}", what(), crate::error::one_line(&e.to_string())),
            )
        })?;
        Ok(pruned)
    }

    /// The last batch the lake `lake` holds (0: none yet).
    pub fn lake_mark(&self, lake: &str) -> Result<i64> {
        let seq: Option<i64> = self
            .conn
            .query_row(
                "SELECT max(seq) FROM lake_exports WHERE lake = ?",
                [lake],
                |r| r.get(0),
            )
            .context(ErrorKind::Data, || {
                format!("cannot read the lake mark in {}", self.path.display())
            })?;
        Ok(seq.unwrap_or(0))
    }

    /// Committed batches after `seq`, in order.
    pub fn batches_after(&self, seq: i64) -> Result<Vec<i64>> {
        let what = || format!("cannot read the batches of {}", self.path.display());
        let mut stmt = self
            .conn
            .prepare("SELECT seq FROM batches WHERE seq > ? ORDER BY seq")
            .context(ErrorKind::Data, what)?;
        let rows = stmt
            .query_map([seq], |r| r.get(0))
            .context(ErrorKind::Data, what)?;
        rows.collect::<duckdb::Result<_>>()
            .context(ErrorKind::Data, what)
    }

    /// Rows stored by batch `seq`.
    pub fn batch_rows(&self, seq: i64) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row(
                "SELECT coalesce(max(rows), 0) FROM batches WHERE seq = ?",
                [seq],
                |r| r.get(0),
            )
            .context(ErrorKind::Data, || {
                format!("cannot read the batches of {}", self.path.display())
            })?;
        Ok(n.max(0) as u64)
    }

    /// Record that the lake holds every batch up to `seq` (after its files are in place).
    pub fn set_lake_mark(&self, lake: &str, seq: i64) -> Result<()> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO lake_exports VALUES (?, ?, current_timestamp)",
                duckdb::params![lake, seq],
            )
            .context(ErrorKind::Data, || {
                format!("cannot record the lake mark in {}", self.path.display())
            })?;
        Ok(())
    }

    /// Every lake this warehouse feeds: (path, last batch in it, batches and rows not yet).
    pub fn lakes(&self) -> Result<Vec<(String, i64, u64, u64)>> {
        if self.stored_version < 3 {
            return Ok(Vec::new());
        }
        let what = || format!("cannot read the lake marks of {}", self.path.display());
        let mut stmt = self
            .conn
            .prepare(
                "SELECT l.lake, l.seq, count(b.seq), coalesce(sum(b.rows), 0)::BIGINT
                 FROM lake_exports l LEFT JOIN batches b ON b.seq > l.seq
                 GROUP BY l.lake, l.seq ORDER BY l.lake",
            )
            .context(ErrorKind::Data, what)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get::<_, i64>(2)? as u64,
                    r.get::<_, i64>(3)? as u64,
                ))
            })
            .context(ErrorKind::Data, what)?;
        rows.collect::<duckdb::Result<_>>()
            .context(ErrorKind::Data, what)
    }
}

/// How long bookkeeping is kept (None: for ever).
#[derive(Debug, Clone, Copy, Default)]
pub struct Retention {
    /// The checkpoint of a file that no longer exists, counted from its last read.
    pub checkpoints: Option<std::time::Duration>,
    /// A row of `runs`.
    pub runs: Option<std::time::Duration>,
}
