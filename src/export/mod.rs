//! Stage 5: write a materialised output as Parquet and CSV. Each file is written under a
//! temporary name, synced, and renamed over the old one, so a reader sees the old file or
//! the new one, never half of either.

use std::fs::File;
use std::path::{Path, PathBuf};

use duckdb::Connection;

use crate::error::{Error, ErrorKind, Result, one_line};

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

/// Remove temporary files left in `dir` by a run that was killed mid-export (their writer's
/// process is gone). A live run's temporary files are left alone.
pub fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix('.')
            .and_then(|n| n.rsplit_once(".tmp-"))
            .map(|(_, p)| p)
        else {
            continue;
        };
        let alive = pid
            .parse::<u32>()
            .is_ok_and(|p| Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let _ = std::fs::remove_file(entry.path());
        }
    }
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
        let tmp = dir.join(format!(".{name}.{ext}.tmp-{}", std::process::id()));
        let result = copy_to(conn, &source, &tmp, options).and_then(|()| {
            crate::failpoint::hit("during-export");
            File::open(&tmp)
                .and_then(|f| f.sync_all())
                .and_then(|()| std::fs::rename(&tmp, &target))
                .map_err(|e| {
                    Error::new(
                        ErrorKind::Io,
                        format!("cannot write {}: {e}", target.display()),
                    )
                })
        });
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        written.push(target);
    }
    // The renames are durable once the folder itself is synced.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(written)
}

fn copy_to(conn: &Connection, table: &str, path: &Path, options: &str) -> Result<()> {
    let sql = format!(
        "COPY {table} TO {} ({options})",
        sql_string(&path.to_string_lossy())
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

/// A SQL string literal (COPY takes no parameter for its target).
pub fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
