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
/// brings rows for it (from the rows stored before), so a backfill builds none: a run that
/// next appends to its last day pays for that day's keys, and a backfill never followed by
/// one (or followed by days of their own) never does.
pub(super) fn key_days_table(name: &str) -> String {
    format!("rollup_{name}__key_days")
}

/// SQL that (re)creates a rollup's key tables, empty (keys are built when first needed, see
/// [`key_days_table`]; building the last day's up front was a third of a backfill's
/// rollups, bench/NOTES.md §17); defines `weblog_key_rows` for it, over no rows.
pub(super) fn create_keys_sql(
    conn: &Connection,
    name: &str,
    merge: &Merge,
    source: &str,
    query: &str,
) -> duckdb::Result<String> {
    define_key_rows(conn, source, "WHERE false")?;
    Ok(format!(
        "CREATE OR REPLACE TABLE \"{keys}\" AS {rows};
         CREATE OR REPLACE TABLE \"{days}\" (day DATE);",
        keys = keys_table(name),
        days = key_days_table(name),
        rows = super::layout::by_day(&key_rows_sql(merge, query, false)),
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

/// Build the keys of every pending day (`rollup_pending`) that has none, from the rows folded
/// already (`batch_id <= watermark`), whole days of at most `budget` rows per transaction,
/// before the fold's transaction: a batch may bring rows for many old days (a file that
/// interleaves in time with stored ones), and building them all inside the fold ran out of
/// memory (200,000 new lines over 58 days of 50 M stored rows, bench/NOTES.md §12).
pub(super) fn build_missing(
    conn: &Connection,
    name: &str,
    merge: &Merge,
    source: &str,
    query: &str,
    watermark: i64,
    budget: i64,
) -> duckdb::Result<()> {
    let days_table = key_days_table(name);
    // The common case (a cron run on a day whose keys exist) reads two small tables only.
    let missing = format!(
        "SELECT day FROM rollup_pending WHERE day NOT IN (SELECT day FROM \"{days_table}\")"
    );
    let any: bool = conn.query_row(&format!("SELECT count(*) > 0 FROM ({missing})"), [], |r| {
        r.get(0)
    })?;
    if !any {
        return Ok(());
    }
    let gaps: Vec<(String, i64)> = conn
        .prepare(&format!(
            "SELECT p.day::VARCHAR, count(l.day) FROM ({missing}) p
             LEFT JOIN log_rows l ON l.day = p.day AND l.batch_id <= {watermark}
             GROUP BY p.day ORDER BY p.day"
        ))?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<duckdb::Result<_>>()?;
    let mut rest = &gaps[..];
    while !rest.is_empty() {
        let mut rows = 0;
        let n = rest
            .iter()
            .take_while(|(_, n)| {
                rows += n;
                rows <= budget
            })
            .count()
            .max(1);
        let (step, after) = rest.split_at(n);
        rest = after;
        let days: Vec<String> = step.iter().map(|(d, _)| format!("DATE '{d}'")).collect();
        let days = days.join(", ");
        let built = || -> duckdb::Result<()> {
            conn.execute_batch("BEGIN TRANSACTION")?;
            define_key_rows(
                conn,
                source,
                &format!("WHERE day IN ({days}) AND batch_id <= {watermark}"),
            )?;
            conn.execute_batch(&format!(
                "INSERT INTO \"{keys}\" BY NAME {rows};
                 INSERT INTO \"{days_table}\" SELECT unnest([{days}]);
                 COMMIT;",
                keys = keys_table(name),
                rows = super::layout::by_day(&key_rows_sql(merge, query, false)),
            ))
        };
        built().inspect_err(|_| {
            let _ = conn.execute_batch("ROLLBACK");
        })?;
    }
    Ok(())
}
