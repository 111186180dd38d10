//! Stage 4: the outputs. Three kinds of SQL file, all plain SQL for DuckDB (and, through
//! the Spark job's translation, for Spark):
//!
//! - `sql/lib/`: what the others share: `macros.sql` (functions such as `in_range(day)`,
//!   `pick(all, humans)`, `in_vhost(…)`, `is_static_path(p)`, reading the run's flags),
//!   `source_logs.sql` (the rows the rollups read) and `own_site.sql` (the site's own host
//!   when no flag or virtual host says it).
//! - `sql/rollups/<name>.sql` reads `source_logs` and must return a `day` column. weblog
//!   keeps its result in the table `rollup_<name>`, recomputing only the days that received
//!   rows since the last run (rebuilt over all history, day by day, when new or its SQL changed), so outputs
//!   never rescan all history.
//!   A rollup may say how a batch's rows merge into it (a `-- weblog:merge` line, see
//!   [`merge`]); it is then updated from the batch's rows alone, not recomputed per day.
//!   `sql/rollups/merge/<name>.sql`, where present, is how rows join a `replace` rollup.
//! - `sql/<name>.sql` makes the output `<name>`, usually from the rollups.
//!
//! Adding a rollup or an output needs no Rust. [`rollups`] keeps the per-day tables current;
//! [`outputs`] makes each output, or leaves it alone when nothing it depends on changed.

mod derived;
mod keys;
mod layout;
mod merge;
mod outputs;
mod pending;
mod pruned;
mod rollups;

pub use outputs::refresh_outputs;
pub use rollups::{recompute_pending, refresh_rollups};

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use duckdb::Connection;

use crate::error::{Error, ErrorKind, Result, one_line};

include!(concat!(env!("OUT_DIR"), "/builtin_sql.rs"));

/// The temp table an output is materialised into before it is exported.
pub const OUTPUT_TABLE: &str = "weblog_output";

/// A visit ends after this long without a request from its visitor, unless told otherwise.
pub const DEFAULT_VISIT_TIMEOUT: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, Clone)]
pub struct SqlOutput {
    pub name: String,
    pub sql: String,
    /// Where the SQL came from: a file path, or "built-in".
    pub origin: String,
}

/// `sql/lib/`: the macros, the rollups' source rows, the own-site query.
#[derive(Debug, Clone)]
pub struct SqlLib {
    pub macros: SqlOutput,
    pub source_logs: SqlOutput,
    pub own_site: SqlOutput,
}

#[derive(Debug, Clone)]
pub struct SqlSet {
    pub outputs: Vec<SqlOutput>,
    pub rollups: Vec<SqlOutput>,
    /// `rollups/merge/<name>.sql`: how a batch's rows join the stored rows of rollup `<name>`
    /// (see [`merge`]).
    pub rollup_merges: Vec<SqlOutput>,
    pub lib: SqlLib,
}

/// Filters the outputs honour, handed to SQL as typed session variables.
#[derive(Debug, Clone, Default)]
pub struct OutputFilter {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub humans_only: bool,
    /// The site's own host names (referrers from them are internal).
    pub site_hosts: Vec<String>,
    /// One virtual host's traffic only.
    pub vhost: Option<String>,
}

/// What the rollups' results depend on besides the rows and their SQL.
#[derive(Debug, Clone)]
pub struct RollupParams {
    pub visit_timeout: Duration,
}

impl Default for RollupParams {
    fn default() -> Self {
        RollupParams {
            visit_timeout: DEFAULT_VISIT_TIMEOUT,
        }
    }
}

/// The SQL in `dir` (`*.sql`, `rollups/*.sql`, `lib/*.sql`), or the built-in SQL for
/// whichever of the three folders does not exist.
pub fn load(dir: &Path) -> Result<SqlSet> {
    let lib = read_dir_or(&dir.join("lib"), BUILTIN_LIB)?;
    let take = |name: &str| {
        lib.iter().find(|f| f.name == name).cloned().ok_or_else(|| {
            Error::new(
                ErrorKind::Sql,
                format!("{}: lib/{name}.sql is missing", dir.display()),
            )
        })
    };
    Ok(SqlSet {
        outputs: read_dir_or(dir, BUILTIN_SQL)?,
        rollups: read_dir_or(&dir.join("rollups"), BUILTIN_ROLLUPS)?,
        // A folder of one's own rollups takes its merges from its own `merge/` only: a
        // built-in merge would not fit a rollup of the same name that differs.
        rollup_merges: match dir.join("rollups") {
            rollups if !rollups.exists() => {
                read_dir_or(&rollups.join("merge"), BUILTIN_ROLLUP_MERGES)?
            }
            rollups if rollups.join("merge").exists() => read_dir_or(&rollups.join("merge"), &[])?,
            _ => Vec::new(),
        },
        lib: SqlLib {
            macros: take("macros")?,
            source_logs: take("source_logs")?,
            own_site: take("own_site")?,
        },
    })
}

fn read_dir_or(dir: &Path, builtin: &[(&str, &str)]) -> Result<Vec<SqlOutput>> {
    if !dir.exists() {
        return Ok(builtin
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
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(Error::new(
                ErrorKind::Sql,
                format!(
                    "{}: SQL file names may hold only letters, digits and _",
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

pub(crate) fn sql_error(origin: &str, e: duckdb::Error) -> Error {
    Error::new(
        ErrorKind::Sql,
        format!("{origin}: {}", one_line(&e.to_string())),
    )
}

/// Set the run's variables (filters, visit timeout) and define the macros of
/// `lib/macros.sql`, which read them.
pub fn prepare(
    conn: &Connection,
    lib: &SqlLib,
    filter: &OutputFilter,
    params: &RollupParams,
) -> Result<()> {
    let date = |d: Option<NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
    let fail = |e| sql_error("the run's parameters", e);
    conn.execute("SET VARIABLE weblog_from = ?::DATE", [date(filter.from)])
        .map_err(fail)?;
    conn.execute("SET VARIABLE weblog_to = ?::DATE", [date(filter.to)])
        .map_err(fail)?;
    conn.execute(
        "SET VARIABLE weblog_humans_only = ?::BOOLEAN",
        [filter.humans_only],
    )
    .map_err(fail)?;
    conn.execute("SET VARIABLE weblog_vhost = ?::VARCHAR", [&filter.vhost])
        .map_err(fail)?;
    set_site_hosts(conn, &filter.site_hosts)?;
    conn.execute(
        "SET VARIABLE weblog_visit_timeout_us = ?::BIGINT",
        [params.visit_timeout.as_micros() as i64],
    )
    .map_err(fail)?;
    conn.execute_batch(&lib.macros.sql)
        .map_err(|e| sql_error(&lib.macros.origin, e))
}

/// [`prepare`] the first time it is called, nothing after: the macros are defined once, and
/// only if a rollup or an output has work to do.
pub fn prepare_once<'a>(
    conn: &'a Connection,
    lib: &'a SqlLib,
    filter: &'a OutputFilter,
    params: &'a RollupParams,
) -> impl FnMut() -> Result<()> + 'a {
    let mut prepared = false;
    move || {
        if !prepared {
            prepare(conn, lib, filter, params)?;
            prepared = true;
        }
        Ok(())
    }
}

/// The site's own hosts as the one pattern `is_site_host` matches (subdomains included).
fn set_site_hosts(conn: &Connection, hosts: &[String]) -> Result<()> {
    let pattern = (!hosts.is_empty()).then(|| {
        let names: Vec<String> = hosts
            .iter()
            .map(|h| regex::escape(&h.to_lowercase()))
            .collect();
        format!("^(.*\\.)?({})$", names.join("|"))
    });
    conn.execute("SET VARIABLE weblog_site_hosts_re = ?::VARCHAR", [pattern])
        .map_err(|e| sql_error("the run's parameters", e))?;
    Ok(())
}

/// When no site host is known, the host `lib/own_site.sql` finds is taken as the site's
/// own (and returned, for the run summary).
pub fn detect_own_site(
    conn: &Connection,
    lib: &SqlLib,
    filter: &OutputFilter,
) -> Result<Option<String>> {
    if !filter.site_hosts.is_empty() {
        return Ok(None);
    }
    let found: Option<String> = conn
        .query_row(strip_sql(&lib.own_site.sql), [], |r| r.get(0))
        .map(Some)
        .or_else(|e| match e {
            duckdb::Error::QueryReturnedNoRows => Ok(None),
            e => Err(sql_error(&lib.own_site.origin, e)),
        })?;
    if let Some(host) = &found {
        set_site_hosts(conn, std::slice::from_ref(host))?;
    }
    Ok(found)
}

/// Run the output's query into [`OUTPUT_TABLE`]; returns its row count.
pub fn materialize(conn: &Connection, output: &SqlOutput) -> Result<u64> {
    let query = strip_sql(&output.sql);
    let sql = format!("CREATE OR REPLACE TEMP TABLE {OUTPUT_TABLE} AS {query}\n");
    conn.execute_batch(&sql)
        .map_err(|e| sql_error(&output.origin, e))?;
    let rows: i64 = conn
        .query_row(&format!("SELECT count(*) FROM {OUTPUT_TABLE}"), [], |r| {
            r.get(0)
        })
        .map_err(|e| sql_error(&output.origin, e))?;
    Ok(rows as u64)
}

/// A query file may end in `;` and comments; CREATE … AS needs the bare SELECT.
pub(crate) fn strip_sql(sql: &str) -> &str {
    let mut s = sql.trim_end();
    loop {
        let before = s;
        s = s.trim_end().trim_end_matches(';').trim_end();
        if s == before {
            return s;
        }
    }
}
