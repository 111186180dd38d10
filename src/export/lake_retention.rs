//! This warehouse's lake files under retention and erasure: the files of pruned days
//! deleted (`weblog prune`), and files holding a forgotten visitor's rows rewritten without
//! them (`weblog forget`), each under a temporary name then renamed over the old one, as
//! every lake file is written. Only files named with this warehouse's id are touched: the
//! other warehouses of a shared lake prune and forget their own.

use std::path::{Path, PathBuf};

use super::lake_compact::{partitions, remove};
use crate::error::{Error, ErrorKind, Result, one_line};
use crate::load::Warehouse;
use crate::sql_text::string_literal;
use crate::summary::LakeFiles;

/// The lakes this warehouse has written to (recorded marks), and `also` (this run's
/// `--lake`), each once.
pub fn lakes_of(wh: &Warehouse, also: Option<&Path>) -> Result<Vec<PathBuf>> {
    let mut lakes: Vec<PathBuf> = wh
        .lakes()?
        .into_iter()
        .map(|(l, ..)| PathBuf::from(l))
        .collect();
    if let Some(l) = also {
        let key = PathBuf::from(super::lake::lake_key(l));
        if !lakes.contains(&key) {
            lakes.push(key);
        }
    }
    Ok(lakes)
}

/// The partitions holding files named with this warehouse's id (and its former id, when it
/// was moved: those files are its rows too).
fn my_partitions(wh: &Warehouse, lake: &Path) -> Result<Vec<super::lake_compact::Partition>> {
    let (id, previous) = wh.warehouse_id()?;
    let mut out = partitions(&lake.join("logs"), &id)?;
    if let Some(p) = previous {
        out.extend(partitions(&lake.join("logs"), &p)?);
    }
    Ok(out)
}

/// Delete this warehouse's files of the days before `before` from `lake`.
pub fn prune(wh: &Warehouse, lake: &Path, before: &str, done: &mut LakeFiles) -> Result<()> {
    for p in my_partitions(wh, lake)? {
        if p.day.as_str() >= before {
            continue;
        }
        for f in &p.mine {
            remove(&p.dir.join(&f.name))?;
            *done.files.entry(p.day.clone()).or_default() += 1;
        }
        // An emptied partition folder goes too (its day folder, once empty, with it).
        let _ = std::fs::remove_dir(&p.dir);
        if let Some(day_dir) = p.dir.parent() {
            let _ = std::fs::remove_dir(day_dir);
        }
    }
    Ok(())
}

/// Rewrite every file of this warehouse in `lake` holding rows `matches` (a condition on
/// the lake's columns) without them. A file left with no rows is written empty rather than
/// removed: a reader (the Spark job) then recomputes its day instead of keeping what it
/// had computed with the rows. `dry_run`: count only.
pub fn forget(
    wh: &Warehouse,
    lake: &Path,
    matches: &dyn Fn(&str) -> Result<Option<String>>,
    dry_run: bool,
    done: &mut LakeFiles,
) -> Result<()> {
    let conn = wh.connection();
    let fail = |path: &Path| {
        let path = path.display().to_string();
        move |e: duckdb::Error| {
            Error::new(
                ErrorKind::Io,
                format!(
                    "cannot rewrite lake file {path}: {}",
                    one_line(&e.to_string())
                ),
            )
        }
    };
    for p in my_partitions(wh, lake)? {
        for f in &p.mine {
            let path = p.dir.join(&f.name);
            let lit = string_literal(&path.to_string_lossy());
            let source = format!("read_parquet({lit}, hive_partitioning = false)");
            let Some(condition) = matches(&source)? else {
                continue;
            };
            let n: i64 = conn
                .query_row(
                    &format!("SELECT count(*) FROM {source} WHERE {condition}"),
                    [],
                    |r| r.get(0),
                )
                .map_err(fail(&path))?;
            if n == 0 {
                continue;
            }
            *done.files.entry(p.day.clone()).or_default() += 1;
            *done.rows.entry(p.day.clone()).or_default() += n as u64;
            if dry_run {
                continue;
            }
            // The file's own metadata (warehouse id, batches) is written again as it was:
            // compaction reads it.
            let kv = kv_metadata(conn, &lit).map_err(fail(&path))?;
            let metadata = metadata_clause(&kv);
            super::write_atomically(&path, |tmp| {
                conn.execute_batch(&format!(
                    "SET preserve_insertion_order = true;
                     COPY (SELECT * FROM {source} WHERE NOT coalesce({condition}, false))
                     TO {} (FORMAT parquet, COMPRESSION zstd{metadata})",
                    string_literal(&tmp.to_string_lossy())
                ))
                .map_err(fail(&path))
            })?;
            crate::failpoint::hit("forget-lake-after-rename");
        }
    }
    Ok(())
}

/// A Parquet file's key-value metadata (`lit`: its path as a SQL literal).
fn kv_metadata(conn: &duckdb::Connection, lit: &str) -> duckdb::Result<Vec<(String, String)>> {
    conn.prepare(&format!(
        "SELECT decode(key), decode(value) FROM parquet_kv_metadata({lit})"
    ))
    .and_then(|mut s| {
        s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<duckdb::Result<Vec<_>>>()
    })
}

/// `, KV_METADATA {…}` writing `kv` again (nothing when empty).
fn metadata_clause(kv: &[(String, String)]) -> String {
    let kv: Vec<String> = kv
        .iter()
        .map(|(k, v)| format!("{}: {}", quoted_key(k), string_literal(v)))
        .collect();
    if kv.is_empty() {
        String::new()
    } else {
        format!(", KV_METADATA {{{}}}", kv.join(", "))
    }
}

/// Marks a lake file whose addresses are masked (`anonymize_after_days`).
const MASKED_KEY: &str = "weblog_masked";

/// `anonymize_after_days` for the lake: every address in this warehouse's files of the days
/// before `before` masked at [`crate::load::MASK_LEVEL`], each file rewritten under a
/// temporary name and renamed over itself (same name, same rows in the same order, its
/// metadata kept and `weblog_masked` added), so the reader rule and exactly-once are as
/// they were. What a pass finished is recorded (`lake_masked:<lake>`: the horizon and the
/// export mark then): the next pass looks only at files of days newly before the horizon
/// or holding batches exported since (a late line of an old day, or a compaction that took
/// one in); a file already marked is skipped. A pass killed midway is done again from the
/// last record: masking a masked file changes nothing.
pub fn mask(wh: &Warehouse, lake: &Path, before: &str, done: &mut LakeFiles) -> Result<()> {
    let conn = wh.connection();
    let key = super::lake::lake_key(lake);
    let state_key = format!("lake_masked:{key}");
    let recorded: Option<String> = conn
        .query_row(
            "SELECT max(value) FROM weblog_meta WHERE key = ?",
            [&state_key],
            |r| r.get(0),
        )
        .map_err(|e| lake_error(lake, e))?;
    let (done_before, done_mark) = recorded
        .as_deref()
        .and_then(|r| r.split_once(' '))
        .and_then(|(d, m)| Some((d.to_string(), m.parse::<i64>().ok()?)))
        .unwrap_or_default();
    let mark = wh.lake_mark(&key)?;
    for p in my_partitions(wh, lake)? {
        if p.day.as_str() >= before {
            continue;
        }
        for f in &p.mine {
            if p.day.as_str() < done_before.as_str() && f.hi <= done_mark {
                continue;
            }
            let path = p.dir.join(&f.name);
            let lit = string_literal(&path.to_string_lossy());
            let fail = |e: duckdb::Error| {
                Error::new(
                    ErrorKind::Io,
                    format!(
                        "cannot mask lake file {}: {}",
                        path.display(),
                        one_line(&e.to_string())
                    ),
                )
            };
            let mut kv = kv_metadata(conn, &lit).map_err(fail)?;
            if kv.iter().any(|(k, _)| k == MASKED_KEY) {
                continue;
            }
            kv.push((
                MASKED_KEY.to_string(),
                crate::load::MASK_LEVEL.name().to_string(),
            ));
            super::write_atomically(&path, |tmp| {
                // The scratch copy and its masking are rolled back: only the file stays.
                let masked = || -> duckdb::Result<()> {
                    conn.execute_batch(&format!(
                        "BEGIN TRANSACTION;
                         SET preserve_insertion_order = true;
                         CREATE OR REPLACE TEMP TABLE weblog_lake_file AS
                             SELECT * FROM read_parquet({lit}, hive_partitioning = false);"
                    ))?;
                    crate::load::mask_table(conn, "weblog_lake_file")?;
                    conn.execute_batch(&format!(
                        "COPY weblog_lake_file TO {} (FORMAT parquet, COMPRESSION zstd{});",
                        string_literal(&tmp.to_string_lossy()),
                        metadata_clause(&kv)
                    ))
                };
                let result = masked();
                let _ = conn.execute_batch("ROLLBACK");
                result.map_err(fail)
            })?;
            *done.files.entry(p.day.clone()).or_default() += 1;
            crate::failpoint::hit("during-lake-mask");
        }
    }
    conn.execute(
        "INSERT OR REPLACE INTO weblog_meta VALUES (?, ?)",
        [state_key, format!("{before} {mark}")],
    )
    .map_err(|e| lake_error(lake, e))?;
    Ok(())
}

fn lake_error(lake: &Path, e: duckdb::Error) -> Error {
    Error::new(
        ErrorKind::Data,
        format!(
            "cannot mask the lake {}: {}",
            lake.display(),
            one_line(&e.to_string())
        ),
    )
}

/// A KV_METADATA key as DuckDB reads it (an identifier, quoted).
fn quoted_key(k: &str) -> String {
    format!("\"{}\"", k.replace('"', "\"\""))
}
