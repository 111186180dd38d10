//! Rollups of a rollup: a rollup whose merge line says `from(<base>)` reads `rollup_<base>`
//! (the visits, one row each) instead of `source_logs`, so that outputs about visits read a
//! few rows a day instead of every visit. It is built after its base, and kept up to date
//! from the base's rows a run replaced and the ones it put in their place: for each group,
//! `m := m + q(new) − q(old)`; a group whose counts all come to 0 is removed. One that names
//! no measure (a median cannot be added up) is recomputed for the days of those rows instead,
//! from the base's rows of those days: bounded by a day's visits, not by history.

use super::merge::{Fold, columns_and_group, merge_delta, same_group};
use super::{sql_error, strip_sql};
use crate::error::Result;

use duckdb::Connection;

/// The temp tables a `replace` rollup's fold leaves for the rollups built from it: its rows
/// the run replaced, and those it put in their place.
pub(super) fn saved_rows(base: &str) -> (String, String) {
    (format!("weblog_old_{base}"), format!("weblog_new_{base}"))
}

/// Fold the base's replaced and new rows (see the module's doc).
pub(super) fn fold_derived(conn: &Connection, f: &Fold, base: &str) -> Result<()> {
    let (old, new) = saved_rows(base);
    let result = (|| {
        over_base(conn, f, base, &new, "weblog_after")?;
        over_base(conn, f, base, &old, "weblog_before")?;
        Ok(())
    })();
    restore(conn, base).and(result)?;
    let (columns, group) = columns_and_group(conn, f)?;
    let group: Vec<&str> = group.iter().map(String::as_str).collect();
    let mut select: Vec<String> = group
        .iter()
        .map(|k| format!("CASE WHEN a.weblog_side THEN a.\"{k}\" ELSE b.\"{k}\" END AS \"{k}\""))
        .collect();
    for (c, _) in &columns {
        if !group.contains(&c.as_str()) {
            select.push(format!(
                "coalesce(a.\"{c}\", 0) - coalesce(b.\"{c}\", 0) AS \"{c}\""
            ));
        }
    }
    let delta = format!(
        "SELECT {} FROM weblog_after a FULL OUTER JOIN weblog_before b ON {}",
        select.join(", "),
        same_group(&group, "a", "b")
    );
    merge_delta(conn, f, &columns, &group, &delta, true)
}

/// Recompute the days the base's replaced and new rows are of (a rollup built `from(…)` its
/// base without measures: its rows cannot be added up).
pub(super) fn refold_days(conn: &Connection, f: &Fold, base: &str) -> Result<()> {
    let (old, new) = saved_rows(base);
    let days = format!("SELECT day FROM {old} UNION SELECT day FROM {new}");
    recompute_days(conn, f.name, f.origin, f.query, base, &days)
}

/// Recompute `days` (a query of days) of a derived rollup from its base's rows of those days.
pub(super) fn recompute_days(
    conn: &Connection,
    name: &str,
    origin: &str,
    query: &str,
    base: &str,
    days: &str,
) -> Result<()> {
    let result = conn
        .execute_batch(&format!(
            "CREATE OR REPLACE TEMP TABLE weblog_base_days AS
                 SELECT * FROM \"rollup_{base}\" WHERE day IN ({days});
             CREATE OR REPLACE TEMP VIEW \"rollup_{base}\" AS SELECT * FROM weblog_base_days;
             DELETE FROM \"rollup_{name}\" WHERE day IN ({days});
             INSERT INTO \"rollup_{name}\" BY NAME {query};",
            query = super::layout::by_day(strip_sql(query))
        ))
        .map_err(|e| sql_error(origin, e));
    restore(conn, base).and(result)
}

/// The rollup's query over `rows` (a table) standing in for `rollup_<base>`, into `into`,
/// each row marked (`weblog_side`) so a full join can tell which side it came from.
fn over_base(conn: &Connection, f: &Fold, base: &str, rows: &str, into: &str) -> Result<()> {
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP VIEW \"rollup_{base}\" AS SELECT * FROM {rows};
         CREATE OR REPLACE TEMP TABLE {into} AS SELECT *, true AS weblog_side FROM ({}\n);",
        strip_sql(f.query)
    ))
    .map_err(|e| sql_error(f.origin, e))
}

/// `rollup_<base>` names the table again.
fn restore(conn: &Connection, base: &str) -> Result<()> {
    conn.execute_batch(&format!(
        "DROP VIEW IF EXISTS temp.main.\"rollup_{base}\"; DROP TABLE IF EXISTS weblog_base_days;"
    ))
    .map_err(|e| sql_error("rollups", e))
}
