//! Stage 4: the outputs. Each `sql/<name>.sql` holds one SELECT over the warehouse and
//! makes the output `<name>`; adding an output needs no Rust.

use std::path::{Path, PathBuf};

use duckdb::Connection;

use crate::error::{Error, ErrorKind, Result, one_line};

include!(concat!(env!("OUT_DIR"), "/builtin_sql.rs"));

/// The temp table an output is materialised into before it is exported.
pub const OUTPUT_TABLE: &str = "weblog_output";

#[derive(Debug, Clone)]
pub struct SqlOutput {
    pub name: String,
    pub sql: String,
    /// Where the SQL came from: a file path, or "built-in".
    pub origin: String,
}

/// The outputs in `dir` (sorted by name), or the built-in ones when `dir` does not exist.
pub fn outputs(dir: &Path) -> Result<Vec<SqlOutput>> {
    if !dir.exists() {
        return Ok(BUILTIN_SQL
            .iter()
            .map(|(name, sql)| SqlOutput {
                name: name.to_string(),
                sql: sql.to_string(),
                origin: "built-in".into(),
            })
            .collect());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::new(
            ErrorKind::NoInput,
            format!("cannot read SQL folder {}: {e}", dir.display()),
        )
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sql") && p.is_file())
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(Error::new(
                ErrorKind::Sql,
                format!(
                    "{}: output names may hold only letters, digits, _ and -",
                    path.display()
                ),
            ));
        }
        let sql = std::fs::read_to_string(&path).map_err(|e| {
            Error::new(
                ErrorKind::NoInput,
                format!("cannot read {}: {e}", path.display()),
            )
        })?;
        out.push(SqlOutput {
            name: name.to_string(),
            sql,
            origin: path.display().to_string(),
        });
    }
    Ok(out)
}

/// Run the output's query into [`OUTPUT_TABLE`]; returns its row count.
pub fn materialize(conn: &Connection, output: &SqlOutput) -> Result<u64> {
    let query = strip_sql(&output.sql);
    let sql = format!("CREATE OR REPLACE TEMP TABLE {OUTPUT_TABLE} AS {query}\n");
    conn.execute_batch(&sql).map_err(|e| {
        Error::new(
            ErrorKind::Sql,
            format!("{}: {}", output.origin, one_line(&e.to_string())),
        )
    })?;
    let rows: i64 = conn
        .query_row(&format!("SELECT count(*) FROM {OUTPUT_TABLE}"), [], |r| {
            r.get(0)
        })
        .map_err(|e| Error::new(ErrorKind::Sql, format!("{}: {e}", output.origin)))?;
    Ok(rows as u64)
}

/// A query file may end in `;` and comments; CREATE … AS needs the bare SELECT.
fn strip_sql(sql: &str) -> &str {
    let mut s = sql.trim_end();
    loop {
        let before = s;
        s = s.trim_end().trim_end_matches(';').trim_end();
        if s == before {
            return s;
        }
    }
}
