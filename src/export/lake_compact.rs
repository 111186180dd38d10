//! Compaction of the lake's finished days: after each export, the files one warehouse wrote
//! to a (day, host) partition of a day before the newest it has exported become one file,
//! `part-<host>-<warehouse>-c<lo>-<hi>.parquet` (`lo`, `hi`: its smallest and largest batch),
//! so a day holds one file per host and warehouse however many cron runs fed it.
//!
//! **The reader rule** (spark/README.md, "The lake"): a file `part-P-<seq>.parquet` or
//! `part-P-c<a>-<b>.parquet` is superseded by a file `part-P-c<lo>-<hi>.parquet` of the same
//! partition and prefix `P` (host and warehouse) with `lo <= a`, `b <= hi` (a larger range
//! wins). The compacted file holds every row of the batches in its range for its partition
//! (all of them are exported: only batches up to the export mark are compacted, and batches
//! are exported in order), so a reader applying the rule sees each row once: before the
//! compacted file is renamed into place (the old files), between the rename and the
//! deletions, or after a crash there (the compacted file), and after.
//!
//! Crash-safety: the compacted file is written under a `.` name, synced and renamed like
//! every lake file; a killed compaction leaves only that temporary file, which the next run
//! removes. A rerun finds the compacted file and deletes what it supersedes, then compacts
//! again only what is left (a late batch for an old day: the new file covers the old
//! compacted file's range and the new batch).

use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result, one_line};
use crate::load::Warehouse;
use crate::sql_text::string_literal;

/// A lake data file's name, read by the reader rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LakeName {
    pub name: String,
    /// `<host>-<warehouse>` (or `<host>` for files written before warehouse ids).
    pub prefix: String,
    pub lo: i64,
    pub hi: i64,
    pub compacted: bool,
}

fn digits(s: &str) -> Option<i64> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Whether `s` is a warehouse id: 12 lower-case hex digits.
fn is_warehouse_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `part-P-<seq>.parquet` or `part-P-c<lo>-<hi>.parquet` (P ending in a warehouse id); None
/// for any other name (temporary files, other tools' files).
pub fn parse_name(name: &str) -> Option<LakeName> {
    let body = name.strip_prefix("part-")?.strip_suffix(".parquet")?;
    let (rest, last) = body.rsplit_once('-')?;
    let last = digits(last)?;
    if let Some((prefix, lo)) = rest.rsplit_once('-')
        && let Some(lo) = lo.strip_prefix('c').and_then(digits)
        && prefix
            .rsplit_once('-')
            .is_some_and(|(_, w)| is_warehouse_id(w))
        && lo <= last
    {
        return Some(LakeName {
            name: name.to_string(),
            prefix: prefix.to_string(),
            lo,
            hi: last,
            compacted: true,
        });
    }
    Some(LakeName {
        name: name.to_string(),
        prefix: rest.to_string(),
        lo: last,
        hi: last,
        compacted: false,
    })
}

/// Whether `a` is superseded by `b` (both of one partition): the reader rule.
pub fn supersedes(b: &LakeName, a: &LakeName) -> bool {
    b.compacted && b.name != a.name && b.prefix == a.prefix && b.lo <= a.lo && a.hi <= b.hi
}

/// The files of one partition a reader reads: those no other file supersedes.
pub fn live(files: &[LakeName]) -> Vec<&LakeName> {
    files
        .iter()
        .filter(|a| !files.iter().any(|b| supersedes(b, a)))
        .collect()
}

/// What a compaction did, for the run's log.
#[derive(Debug, Default)]
pub struct Compacted {
    /// Files written (one per partition compacted) and files removed.
    pub written: u64,
    pub removed: u64,
}

fn io(what: String) -> impl Fn(std::io::Error) -> Error {
    move |e| Error::new(ErrorKind::Io, format!("{what}: {e}"))
}

/// One (day, host) partition holding files of this warehouse.
pub(super) struct Partition {
    pub(super) day: String,
    pub(super) dir: PathBuf,
    pub(super) mine: Vec<LakeName>,
}

/// Compact this warehouse's files of every finished day (before the newest day it has
/// files for) whose partition holds two or more of them up to `mark`.
pub fn compact(wh: &Warehouse, lake: &Path, warehouse: &str, mark: i64) -> Result<Compacted> {
    let mut done = Compacted::default();
    let partitions = partitions(&lake.join("logs"), warehouse)?;
    let Some(newest) = partitions.iter().map(|p| p.day.clone()).max() else {
        return Ok(done);
    };
    for p in partitions.iter().filter(|p| p.day < newest) {
        compact_partition(wh, p, warehouse, mark, &mut done)?;
    }
    Ok(done)
}

pub(super) fn partitions(logs: &Path, warehouse: &str) -> Result<Vec<Partition>> {
    let list = |dir: &Path| -> Result<Vec<(String, PathBuf)>> {
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(io(format!("cannot list {}", dir.display()))(e)),
        };
        for entry in entries {
            let entry = entry.map_err(io(format!("cannot list {}", dir.display())))?;
            out.push((
                entry.file_name().to_string_lossy().into_owned(),
                entry.path(),
            ));
        }
        out.sort();
        Ok(out)
    };
    let mut out = Vec::new();
    for (day_name, day_dir) in list(logs)? {
        let Some(day) = day_name.strip_prefix("day=") else {
            continue;
        };
        for (host_name, dir) in list(&day_dir)? {
            let Some(host) = host_name.strip_prefix("host=") else {
                continue;
            };
            let prefix = format!("{host}-{warehouse}");
            let mine: Vec<LakeName> = list(&dir)?
                .into_iter()
                .filter_map(|(name, _)| parse_name(&name))
                .filter(|f| f.prefix == prefix)
                .collect();
            if !mine.is_empty() {
                out.push(Partition {
                    day: day.to_string(),
                    dir,
                    mine,
                });
            }
        }
    }
    Ok(out)
}

fn compact_partition(
    wh: &Warehouse,
    p: &Partition,
    warehouse: &str,
    mark: i64,
    done: &mut Compacted,
) -> Result<()> {
    // A compaction killed here before left its temporary file.
    super::remove_stale_temp_files(&p.dir);
    // What an earlier compaction superseded but did not get to delete (killed in between).
    let live = live(&p.mine);
    for f in p.mine.iter().filter(|f| !live.contains(f)) {
        remove(&p.dir.join(&f.name))?;
        done.removed += 1;
    }
    // Only whole batches: every file of a batch up to the mark is in place.
    let mut inputs: Vec<&LakeName> = live.into_iter().filter(|f| f.hi <= mark).collect();
    if inputs.len() < 2 {
        return Ok(());
    }
    inputs.sort_by_key(|f| f.lo);
    let (lo, hi) = (inputs[0].lo, inputs.iter().map(|f| f.hi).max().unwrap_or(0));
    let prefix = &inputs[0].prefix;
    let target = p.dir.join(format!("part-{prefix}-c{lo}-{hi}.parquet"));
    let paths: Vec<String> = inputs
        .iter()
        .map(|f| string_literal(&p.dir.join(&f.name).to_string_lossy()))
        .collect();
    let list = format!("[{}]", paths.join(", "));
    let fail = |e: duckdb::Error| {
        Error::new(
            ErrorKind::Io,
            format!(
                "cannot compact {} into {}: {}",
                p.dir.display(),
                target.display(),
                one_line(&e.to_string())
            ),
        )
    };
    let conn = wh.connection();
    // The batches the inputs hold: a plain file's own, a compacted file's from its metadata.
    let mut batches: Vec<i64> = inputs
        .iter()
        .filter(|f| !f.compacted)
        .map(|f| f.lo)
        .collect();
    for f in inputs.iter().filter(|f| f.compacted) {
        let path = string_literal(&p.dir.join(&f.name).to_string_lossy());
        let listed: Option<String> = conn
            .query_row(
                &format!(
                    "SELECT decode(value) FROM parquet_kv_metadata({path}) WHERE decode(key) = 'weblog_batches'"
                ),
                [],
                |r| r.get(0),
            )
            .map_err(fail)?;
        match listed {
            Some(l) => batches.extend(l.split(',').filter_map(|b| b.trim().parse::<i64>().ok())),
            None => batches.extend(f.lo..=f.hi),
        }
    }
    batches.sort_unstable();
    batches.dedup();
    let batch_list = batches
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let expected: i64 = conn
        .query_row(
            &format!(
                "SELECT coalesce(sum(num_rows), 0)::BIGINT FROM parquet_file_metadata({list})"
            ),
            [],
            |r| r.get(0),
        )
        .map_err(fail)?;
    let columns: Vec<&str> = super::lake::COLUMNS.iter().map(|(n, _, _)| *n).collect();
    super::write_atomically(&target, |tmp| {
        let tmp_lit = string_literal(&tmp.to_string_lossy());
        // Rows in batch order, each file's in its own order: the same rows in the same
        // order however often (and after whatever crash) the compaction runs. DuckDB reads
        // the files in the list's order and keeps it (preserve_insertion_order, its default,
        // set here in case a session turned it off): a stream, where an ORDER BY would hold
        // a busy day's rows in memory to sort them (518 k rows: 721 MB peak against 255 MB).
        let sql = format!(
            "SET preserve_insertion_order = true;
             COPY (SELECT {} FROM read_parquet({list}, hive_partitioning = false, union_by_name = true))
             TO {tmp_lit} (FORMAT parquet, COMPRESSION zstd,
                           KV_METADATA {{weblog_warehouse_id: {}, weblog_batches: '{batch_list}',
                                        weblog_batch_lo: '{lo}', weblog_batch_hi: '{hi}'}})",
            columns.join(", "),
            string_literal(warehouse),
        );
        conn.execute_batch(&sql).map_err(fail)?;
        let written: i64 = conn
            .query_row(
                &format!("SELECT coalesce(sum(num_rows), 0)::BIGINT FROM parquet_file_metadata({tmp_lit})"),
                [],
                |r| r.get(0),
            )
            .map_err(fail)?;
        if written != expected {
            return Err(Error::new(
                ErrorKind::Io,
                format!(
                    "compacting {}: wrote {written} rows of {expected}; nothing removed",
                    p.dir.display()
                ),
            ));
        }
        Ok(())
    })?;
    done.written += 1;
    crate::failpoint::hit("lake-compact-after-rename");
    for f in &inputs {
        remove(&p.dir.join(&f.name))?;
        done.removed += 1;
    }
    Ok(())
}

pub(super) fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(format!("cannot remove {}", path.display()))(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_the_reader_rule() {
        let plain = parse_name("part-web-1-0123456789ab-7.parquet").unwrap();
        assert_eq!(
            (plain.prefix.as_str(), plain.lo, plain.hi, plain.compacted),
            ("web-1-0123456789ab", 7, 7, false)
        );
        let c = parse_name("part-web-1-0123456789ab-c3-9.parquet").unwrap();
        assert_eq!(
            (c.prefix.as_str(), c.lo, c.hi, c.compacted),
            ("web-1-0123456789ab", 3, 9, true)
        );
        // Before warehouse ids: a host ending in `-c1` is not a compacted file.
        let legacy = parse_name("part-web-c1-5.parquet").unwrap();
        assert_eq!(
            (legacy.prefix.as_str(), legacy.compacted),
            ("web-c1", false)
        );
        assert!(parse_name(".part-web-1-0123456789ab-7.parquet.tmp-12").is_none());
        assert!(supersedes(&c, &plain));
        assert!(!supersedes(&plain, &c));
        let bigger = parse_name("part-web-1-0123456789ab-c1-12.parquet").unwrap();
        assert!(supersedes(&bigger, &c) && !supersedes(&c, &bigger));
        let other = parse_name("part-web-1-ffffffffffff-8.parquet").unwrap();
        assert!(!supersedes(&c, &other));
        let later = parse_name("part-web-1-0123456789ab-10.parquet").unwrap();
        let files = vec![plain, c.clone(), other.clone(), later.clone()];
        let names: Vec<&str> = live(&files).iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [c.name.as_str(), other.name.as_str(), later.name.as_str()]
        );
    }
}
