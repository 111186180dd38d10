//! Stage 5: write a materialised output as Parquet and CSV ([`lake`]: the rows themselves,
//! to a shared Parquet lake). Each file is written under a
//! temporary name, synced, and renamed over the old one, so a reader sees the old file or
//! the new one, never half of either.

use std::fs::File;
use std::path::{Path, PathBuf};

use duckdb::Connection;

pub mod lake;
pub mod lake_compact;
pub mod lake_retention;

use crate::error::{Error, ErrorKind, Result, one_line};
use crate::sql_text::string_literal;

pub const FORMATS: [(&str, &str); 2] = [
    ("parquet", "FORMAT parquet, COMPRESSION zstd"),
    ("csv", "FORMAT csv, HEADER true"),
];

/// CSV cells a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) get a
/// leading `'`, as OWASP advises: paths, referers and agents come from strangers. Only text
/// columns are touched (a negative number stays a number); Parquet keeps exact values.
fn csv_safe_select(conn: &Connection, table: &str) -> Result<String> {
    let describe = |e: duckdb::Error| {
        Error::new(
            ErrorKind::Failed,
            format!("cannot describe {table}: {}", one_line(&e.to_string())),
        )
    };
    let mut stmt = conn
        .prepare(
            "SELECT column_name, data_type FROM duckdb_columns()
             WHERE table_name = ? AND database_name = 'temp' ORDER BY column_index",
        )
        .map_err(describe)?;
    let columns: Vec<(String, String)> = stmt
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))
        .and_then(|rows| rows.collect())
        .map_err(describe)?;
    let exprs: Vec<String> = columns
        .iter()
        .map(|(name, ty)| {
            let col = format!("\"{}\"", name.replace('"', "\"\""));
            if ty == "VARCHAR" {
                format!(
                    r"CASE WHEN regexp_matches({col}, '^[=+\-@\t\r]') THEN '''' || {col} ELSE {col} END AS {col}"
                )
            } else {
                col
            }
        })
        .collect();
    Ok(format!("(SELECT {} FROM {table})", exprs.join(", ")))
}

/// Make sure `dir` exists and can be written, before any work depends on it.
pub fn check_writable(dir: &Path) -> Result<()> {
    let fail = |e: std::io::Error| {
        Error::new(
            ErrorKind::CantCreate,
            format!("output folder {} is not writable: {e}", dir.display()),
        )
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = dir.join(format!(".weblog-probe-{}", std::process::id()));
    File::create(&probe).map_err(fail)?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Remove temporary files left in `dir` by a run that was killed mid-export, or between
/// creating and removing its writability probe (their writer's process is gone). A live
/// run's temporary files are left alone.
pub fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix('.').and_then(|n| {
            n.strip_prefix("weblog-probe-")
                .or_else(|| n.rsplit_once(".tmp-").map(|(_, p)| p))
        }) else {
            continue;
        };
        if writer_gone(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether the process that named a temporary file `pid` is gone (so the file is stale).
pub(crate) fn writer_gone(pid: &str) -> bool {
    !pid.parse::<u32>()
        .is_ok_and(|p| Path::new(&format!("/proc/{p}")).exists())
}

/// Where output `name` is written: `<dir>/<name>.parquet` and `<dir>/<name>.csv`.
pub fn paths(dir: &Path, name: &str) -> Vec<PathBuf> {
    FORMATS
        .iter()
        .map(|(ext, _)| dir.join(format!("{name}.{ext}")))
        .collect()
}

/// Export `table` to `<dir>/<name>.parquet` and `<dir>/<name>.csv`.
pub fn write(conn: &Connection, table: &str, dir: &Path, name: &str) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (ext, options) in FORMATS {
        let source = if ext == "csv" {
            csv_safe_select(conn, table)?
        } else {
            table.to_string()
        };
        let target = dir.join(format!("{name}.{ext}"));
        write_atomically(&target, |tmp| {
            copy_to(conn, &source, tmp, options)?;
            crate::failpoint::hit("during-export");
            Ok(())
        })?;
        written.push(target);
    }
    Ok(written)
}

/// Write `target` so that a reader sees the old file or the new one, never half of either:
/// `fill` writes a temporary file beside it (`.<name>.tmp-<pid>`, removed by the next run if
/// this process dies first), which is synced, renamed over `target`, and the folder synced.
pub fn write_atomically(target: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let io = |e: std::io::Error| {
        Error::new(
            ErrorKind::Io,
            format!("cannot write {}: {e}", target.display()),
        )
    };
    let result = fill(&tmp).and_then(|()| {
        File::open(&tmp)
            .and_then(|f| f.sync_all())
            .and_then(|()| std::fs::rename(&tmp, target))
            .map_err(io)
    });
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    // The rename is durable once the folder itself is synced.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// [`write_atomically`] with the bytes to write.
pub fn write_bytes_atomically(target: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically(target, |tmp| {
        std::fs::write(tmp, bytes).map_err(|e| {
            let kind = match e.kind() {
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
                    ErrorKind::CantCreate
                }
                _ => ErrorKind::Io,
            };
            Error::new(kind, format!("cannot write {}: {e}", target.display()))
        })
    })
}

/// The first rows of an output file (every value as text, NULL as None), its columns with
/// their DuckDB types, and its row count: what `run`, `watch` and the dashboard show.
#[derive(Debug, Default)]
pub struct Preview {
    pub columns: Vec<(String, String)>,
    pub rows: Vec<Vec<Option<String>>>,
    pub total: u64,
}

/// Up to `limit` rows of the Parquet file at `path`, read by `conn` (any DuckDB).
pub fn preview(conn: &Connection, path: &Path, limit: usize) -> Result<Preview> {
    let fail = |e: duckdb::Error| {
        Error::new(
            ErrorKind::Io,
            format!(
                "cannot read {}: {}",
                path.display(),
                one_line(&e.to_string())
            ),
        )
    };
    let source = format!("read_parquet({})", string_literal(&path.to_string_lossy()));
    let mut stmt = conn
        .prepare(&format!("DESCRIBE SELECT * FROM {source}"))
        .map_err(fail)?;
    let columns: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .and_then(|rows| rows.collect())
        .map_err(fail)?;
    let total: i64 = conn
        .query_row(&format!("SELECT count(*) FROM {source}"), [], |r| r.get(0))
        .map_err(fail)?;
    let mut rows = Vec::new();
    if !columns.is_empty() {
        let mut stmt = conn
            .prepare(&format!(
                "SELECT COLUMNS(*)::VARCHAR FROM {source} LIMIT {limit}"
            ))
            .map_err(fail)?;
        let mut it = stmt.query([]).map_err(fail)?;
        while let Some(row) = it.next().map_err(fail)? {
            let cells = (0..columns.len())
                .map(|i| row.get::<_, Option<String>>(i))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(fail)?;
            rows.push(cells);
        }
    }
    Ok(Preview {
        columns,
        rows,
        total: total.max(0) as u64,
    })
}

fn copy_to(conn: &Connection, table: &str, path: &Path, options: &str) -> Result<()> {
    let sql = format!(
        "COPY {table} TO {} ({options})",
        string_literal(&path.to_string_lossy())
    );
    conn.execute_batch(&sql).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!(
                "cannot write {}: {}",
                path.display(),
                one_line(&e.to_string())
            ),
        )
    })
}
