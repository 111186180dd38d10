//! The key tables behind exact distinct counts of a folded rollup (see [`super::merge`]):
//! `rollup_<name>__keys`, one row per group, day and visitor with a flag per distinct count,
//! and `rollup_<name>__key_days`, the days whose keys it holds.

use super::merge::Merge;
use super::strip_sql;

use duckdb::Connection;

pub(super) fn keys_table(name: &str) -> String {
    format!("rollup_{name}__keys")
}

/// The days whose keys `rollup_<name>__keys` holds. A day's keys are built when a batch first
/// brings rows for it (from the rows stored before), so a backfill of many days builds none
/// but its last day's, the one cron appends to next.
pub(super) fn key_days_table(name: &str) -> String {
    format!("rollup_{name}__key_days")
}

/// SQL that (re)creates a rollup's key tables holding the last stored day's keys; defines
/// `weblog_key_rows` for it, over `logs`.
pub(super) fn create_keys_sql(
    conn: &Connection,
    name: &str,
    merge: &Merge,
    source: &str,
    query: &str,
) -> duckdb::Result<String> {
    let last = "day = (SELECT max(day) FROM logs)";
    define_key_rows(conn, source, &format!("WHERE {last}"))?;
    Ok(format!(
        "CREATE OR REPLACE TABLE \"{keys}\" AS {rows};
         CREATE OR REPLACE TABLE \"{days}\" AS SELECT DISTINCT day FROM logs WHERE {last};",
        keys = keys_table(name),
        days = key_days_table(name),
        rows = key_rows_sql(merge, query, false),
    ))
}

/// SQL that drops a rollup's key tables.
pub(super) fn drop_keys_sql(name: &str) -> String {
    format!(
        "DROP TABLE IF EXISTS \"{}\"; DROP TABLE IF EXISTS \"{}\";",
        keys_table(name),
        key_days_table(name)
    )
}

/// SQL that forgets the keys of `days` (a query of days): rebuilt when next needed.
pub(super) fn forget_keys_sql(name: &str, days: &str) -> String {
    format!(
        "DELETE FROM \"{}\" WHERE day IN ({days}); DELETE FROM \"{}\" WHERE day IN ({days});",
        keys_table(name),
        key_days_table(name)
    )
}

/// Point the view `weblog_key_rows` at the rows of `source` (lib/source_logs.sql) that
/// `filter` keeps (`WHERE …`, or empty): what [`key_rows_sql`] reads.
pub(super) fn define_key_rows(conn: &Connection, source: &str, filter: &str) -> duckdb::Result<()> {
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP VIEW weblog_key_rows AS SELECT * FROM ({}\n) AS everything {filter};",
        strip_sql(source)
    ))
}

/// The key rows of a rollup over `weblog_key_rows`: the query run once per visitor and day
/// (a LATERAL join, which DuckDB turns into one grouping), its distinct counts turned into
/// "is in it" flags. As stored (`with_measures` false): the other measures dropped, and rows
/// in no distinct count left out; for a fold, every row with its measures, which add up to
/// the query's own result.
pub(super) fn key_rows_sql(merge: &Merge, query: &str, with_measures: bool) -> String {
    let flags: Vec<String> = merge
        .distinct()
        .map(|c| format!("coalesce(\"{c}\" > 0, false) AS \"{c}\""))
        .collect();
    let rows = format!(
        "SELECT hash(v.client_addr) AS weblog_addr,
                hash(v.client_addr, v.http_user_agent) AS weblog_visitor, q.*
         FROM (SELECT DISTINCT day, client_addr, http_user_agent FROM weblog_key_rows) v,
         LATERAL (
             WITH source_logs AS (
                 SELECT * FROM weblog_key_rows s
                 WHERE s.day = v.day AND s.client_addr IS NOT DISTINCT FROM v.client_addr
                   AND s.http_user_agent IS NOT DISTINCT FROM v.http_user_agent)
             SELECT * FROM ({query}\n)) q",
        query = strip_sql(query),
    );
    if with_measures {
        return format!("SELECT * REPLACE ({}) FROM ({rows})", flags.join(", "));
    }
    let quoted = |c: &String| format!("\"{c}\"");
    let excluded: Vec<String> = merge.measures().map(quoted).collect();
    let any: Vec<String> = merge.distinct().map(|c| format!("\"{c}\" > 0")).collect();
    format!(
        "SELECT * EXCLUDE ({}), {} FROM ({rows}) WHERE {}",
        excluded.join(", "),
        flags.join(", "),
        any.join(" OR "),
    )
}
