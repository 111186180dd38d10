//! `weblog status`: where each log file stands (position, lag, when last read), what the
//! warehouse holds, the last run and the lines it set aside. Read-only.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use duckdb::Connection;
use serde::Serialize;

use crate::error::{Context, ErrorKind, Result};
use crate::load::Warehouse;
use crate::report::{escape, human_bytes, shown_path};
use crate::source;

#[derive(Debug, Serialize)]
pub struct FileStatus {
    pub path: String,
    /// `dev:inode` when read, and the hash of its first line (how rotation is recognised).
    pub identity: Option<String>,
    pub offset: Option<u64>,
    /// Size on disk now; None when the file is gone.
    pub size: Option<u64>,
    /// Bytes the next run will read.
    pub lag_bytes: u64,
    /// What the next run will do: "continue", "new", "moved" (continues the checkpoint of
    /// `moved_from`), "truncated", "replaced" or "rewritten" (read from the start),
    /// "waiting" (no complete line yet) or "missing".
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<String>,
    /// The log format the file was read with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The most frequent reasons its lines were set aside, with their counts (the byte
    /// where each line failed left out, so that alike lines group).
    pub top_rejects: Vec<(String, i64)>,
    pub last_read: Option<String>,
    pub seconds_since_read: Option<i64>,
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub database: String,
    pub database_bytes: u64,
    pub rows: i64,
    pub days: i64,
    pub first_day: Option<String>,
    pub last_day: Option<String>,
    pub rejects: i64,
    pub runs: i64,
    pub files: Vec<FileStatus>,
    /// Each Parquet lake the warehouse feeds (`run --lake`).
    pub lakes: Vec<LakeStatus>,
    pub last_run: Option<LastRun>,
}

#[derive(Debug, Serialize)]
pub struct LakeStatus {
    pub lake: String,
    /// The last committed batch the lake holds.
    pub mark: i64,
    /// Committed batches, and their rows, not in the lake yet (the next `--lake` run's).
    pub pending_batches: u64,
    pub pending_rows: u64,
}

#[derive(Debug, Serialize)]
pub struct LastRun {
    pub started_at: String,
    pub finished_at: String,
    pub files: i64,
    pub lines: i64,
    pub inserted: i64,
    pub duplicates: i64,
    pub rejects: i64,
    pub error: Option<String>,
    /// Up to five of the lines the run rejected: file, offset, reason, line.
    pub reject_sample: Vec<(String, i64, String, String)>,
}

pub fn gather(db: &Path, sources: &[crate::source::SourceSpec]) -> Result<Status> {
    let wh = Warehouse::open_read_only(db)?;
    let conn = wh.connection();
    let what = || format!("cannot read {}", db.display());
    let (rows, days, first_day, last_day): (i64, i64, Option<String>, Option<String>) = conn
        .query_row(
            "SELECT count(*), count(DISTINCT day), min(day)::VARCHAR, max(day)::VARCHAR FROM logs",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .context(ErrorKind::Data, what)?;
    let rejects: i64 = conn
        .query_row("SELECT count(*) FROM rejects", [], |r| r.get(0))
        .context(ErrorKind::Data, what)?;
    let has_runs: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM duckdb_tables() WHERE table_name = 'runs'",
            [],
            |r| r.get(0),
        )
        .context(ErrorKind::Data, what)?;
    let runs: i64 = if has_runs {
        conn.query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
            .context(ErrorKind::Data, what)?
    } else {
        0
    };
    Ok(Status {
        database: db.display().to_string(),
        database_bytes: std::fs::metadata(db).map_or(0, |m| m.len()),
        rows,
        days,
        first_day,
        last_day,
        rejects,
        runs,
        files: files(&wh, sources)?,
        lakes: wh
            .lakes()?
            .into_iter()
            .map(|(lake, mark, pending_batches, pending_rows)| LakeStatus {
                lake,
                mark,
                pending_batches,
                pending_rows,
            })
            .collect(),
        last_run: if runs > 0 { last_run(conn)? } else { None },
    })
}

fn files(wh: &Warehouse, sources: &[crate::source::SourceSpec]) -> Result<Vec<FileStatus>> {
    let stored = wh.checkpoints()?;
    let mut top_rejects: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    {
        let what = || "cannot read the rejects".to_string();
        let mut stmt = wh
            .connection()
            .prepare(
                "SELECT source_file, why, n FROM (
                     SELECT source_file, why, n,
                            row_number() OVER (PARTITION BY source_file ORDER BY n DESC, why) AS rank
                     FROM (SELECT source_file, regexp_replace(reason, ' at byte [0-9]+', '', 'g') AS why,
                                  count(*) AS n
                           FROM rejects GROUP BY 1, 2))
                 WHERE rank <= 3 ORDER BY source_file, n DESC, why",
            )
            .context(ErrorKind::Data, what)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .context(ErrorKind::Data, what)?;
        for row in rows {
            let (file, why, n) = row.context(ErrorKind::Data, what)?;
            top_rejects.entry(file).or_default().push((why, n));
        }
    }
    let read_at: BTreeMap<String, (String, i64)> = {
        let mut stmt = wh
            .connection()
            .prepare(
                "SELECT path, epoch_us(updated_at), epoch_us(current_timestamp) FROM checkpoints",
            )
            .context(ErrorKind::Data, || "cannot read checkpoints".into())?;
        let rows = stmt
            .query_map([], |r| {
                let (at, now): (i64, i64) = (r.get(1)?, r.get(2)?);
                Ok((r.get::<_, String>(0)?, (utc(at), (now - at) / 1_000_000)))
            })
            .context(ErrorKind::Data, || "cannot read checkpoints".into())?;
        rows.collect::<duckdb::Result<_>>()
            .context(ErrorKind::Data, || "cannot read checkpoints".into())?
    };
    // The files the patterns match now, then those only the checkpoints remember.
    let (found, _) = source::discover(sources).unwrap_or_default();
    let mut paths: Vec<String> = found.iter().map(|f| source::key(&f.path)).collect();
    let mut remembered: Vec<&String> = stored
        .keys()
        .filter(|k| !paths.contains(k) && !source::is_retired(k))
        .collect();
    remembered.sort();
    paths.extend(remembered.into_iter().cloned());

    Ok(paths
        .into_iter()
        .map(|path| {
            let cp = stored.get(&path);
            let size = std::fs::metadata(&path).ok().map(|m| m.len());
            // The decision the next run will make (source::identify), not a guess from sizes.
            let next = size
                .is_some()
                .then(|| source::identify(Path::new(&path), &stored).ok().flatten())
                .flatten();
            let (state, lag) = match (&next, size) {
                (_, None) => ("missing", 0),
                (None, Some(_)) => ("waiting", 0),
                (Some(r), Some(_)) => (r.reason.as_str(), r.lag()),
            };
            let (last_read, since) = read_at
                .get(&path)
                .map_or((None, None), |(t, s)| (Some(t.clone()), Some(*s)));
            FileStatus {
                identity: cp.map(|c| format!("{}:{} head {:016x}", c.dev, c.inode, c.head.hash)),
                offset: cp.map(|c| c.offset),
                size,
                lag_bytes: lag,
                state,
                moved_from: next.and_then(|r| r.moved_from),
                format: cp.and_then(|c| c.format.clone()),
                top_rejects: top_rejects.remove(&path).unwrap_or_default(),
                last_read,
                seconds_since_read: since,
                path,
            }
        })
        .collect())
}

fn last_run(conn: &Connection) -> Result<Option<LastRun>> {
    let what = || "cannot read the runs table".to_string();
    let run = conn
        .query_row(
            "SELECT files, lines, inserted, duplicates, rejects, error,
                    epoch_us(started_at), epoch_us(finished_at)
             FROM runs ORDER BY started_at DESC LIMIT 1",
            [],
            |r| {
                Ok((
                    LastRun {
                        started_at: utc(r.get(6)?),
                        finished_at: utc(r.get(7)?),
                        files: r.get(0)?,
                        lines: r.get(1)?,
                        inserted: r.get(2)?,
                        duplicates: r.get(3)?,
                        rejects: r.get(4)?,
                        error: r.get(5)?,
                        reject_sample: Vec::new(),
                    },
                    r.get::<_, i64>(6)?,
                    r.get::<_, i64>(7)?,
                ))
            },
        )
        .context(ErrorKind::Data, what)?;
    let (mut run, from, to) = run;
    // A run's rejects carry its batches' ingested_at, which falls within the run.
    let mut stmt = conn
        .prepare(
            "SELECT source_file, source_offset, reason, raw_line FROM rejects
             WHERE epoch_us(ingested_at) BETWEEN ? AND ?
             ORDER BY source_file, source_offset LIMIT 5",
        )
        .context(ErrorKind::Data, what)?;
    let rows = stmt
        .query_map([from, to], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .context(ErrorKind::Data, what)?;
    run.reject_sample = rows
        .collect::<duckdb::Result<_>>()
        .context(ErrorKind::Data, what)?;
    Ok(Some(run))
}

pub fn text(s: &Status) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "database: {} ({}): {} rows over {} days{}, {} rejects, {} runs",
        escape(&s.database),
        human_bytes(s.database_bytes),
        s.rows,
        s.days,
        match (&s.first_day, &s.last_day) {
            (Some(a), Some(b)) => format!(" ({a} to {b})"),
            _ => String::new(),
        },
        s.rejects,
        s.runs
    );
    let _ = writeln!(out, "\nfiles:");
    for f in &s.files {
        let _ = writeln!(
            out,
            "  {}\n    {}{}, offset {}, size {}, lag {}, last read {}{}",
            escape(&shown_path(&f.path)),
            f.state,
            f.moved_from.as_ref().map_or(String::new(), |m| format!(
                " (from {})",
                escape(&shown_path(m))
            )),
            f.offset.map_or("-".into(), |o| o.to_string()),
            f.size.map_or("-".into(), human_bytes),
            human_bytes(f.lag_bytes),
            f.seconds_since_read
                .map_or("never".into(), |s| format!("{} ago", ago(s))),
            f.identity
                .as_ref()
                .map_or(String::new(), |i| format!(", identity {i}"))
        );
        if let Some(format) = &f.format {
            let _ = writeln!(out, "    format {}", escape(format));
        }
        for (why, n) in &f.top_rejects {
            let _ = writeln!(out, "    {n} rejected: {}", escape(why));
        }
    }
    for l in &s.lakes {
        let _ = writeln!(
            out,
            "\nlake: {}\n    batches up to {} written; {} batches ({} rows) not yet",
            escape(&shown_path(&l.lake)),
            l.mark,
            l.pending_batches,
            l.pending_rows
        );
    }
    match &s.last_run {
        None => {
            let _ = writeln!(out, "\nlast run: none recorded");
        }
        Some(r) => {
            let _ = writeln!(
                out,
                "\nlast run: {} to {}: {} files, {} lines, {} inserted, {} duplicates, {} rejected, {}",
                r.started_at,
                r.finished_at,
                r.files,
                r.lines,
                r.inserted,
                r.duplicates,
                r.rejects,
                r.error
                    .as_ref()
                    .map_or("ok".to_string(), |e| format!("error: {}", escape(e)))
            );
            if !r.reject_sample.is_empty() {
                let _ = writeln!(out, "rejects in the last run (sample):");
                for (file, offset, reason, line) in &r.reject_sample {
                    let shown: String = line.chars().take(100).collect();
                    let _ = writeln!(
                        out,
                        "  {}:{offset}: {}\n    {}",
                        escape(file),
                        escape(reason),
                        escape(&shown)
                    );
                }
            }
        }
    }
    out
}

fn utc(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros).map_or_else(
        || micros.to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

fn ago(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}
