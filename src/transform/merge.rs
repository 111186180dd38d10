//! Folding new rows into a rollup without recomputing its days.
//!
//! A rollup file that says how its columns merge (a `-- weblog:merge …` line) is brought up
//! to date from the rows committed since the last refresh alone (`B`):
//!
//! - `add(…)` columns (counts, sums) get the batch's q(B) added, `max(…)`/`min(…)` columns
//!   keep the extreme of the stored value and q(B);
//! - `distinct(client_addr: …)` and `distinct(client_addr, http_user_agent: …)` columns,
//!   distinct counts of the address or of the visitor, stay exact through a per-day key table
//!   `rollup_<name>__keys`: one row per group and visitor (64-bit hashes of the address and of
//!   address + agent) saying which distinct counts it is in. The query is run once per visitor
//!   of the batch (a LATERAL join), the keys it yields are looked up among the stored keys of
//!   the same groups and days only, and each count grows by the keys not seen before;
//! - `replace(client_addr)` (visits): each row describes one address's rows of one day; the
//!   rows of the addresses a batch brings are recomputed from all their rows of those days;
//! - `from(<rollup>)`, with `add(…)`: a rollup of a `replace` rollup's rows, folded from the
//!   rows a run replaced and those it made; alone: recomputed for the days those were of, from
//!   the base's rows of those days (a median cannot be added up).
//!
//! A rollup without the line is recomputed for whole days, as before. Distinct counts are
//! exact up to a collision of 64-bit hashes among one group's keys of one day (for a million
//! keys, a chance of about 3 in 100 million).

use super::keys::{define_key_rows, key_days_table, key_rows_sql, keys_table};
use super::layout::by_day;
use super::{sql_error, strip_sql};
use crate::error::{Error, ErrorKind, Result};

use duckdb::Connection;

/// How a rollup takes in new rows (its `-- weblog:merge` line).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Merge {
    add: Vec<String>,
    max: Vec<String>,
    min: Vec<String>,
    /// `distinct(client_addr: …)`
    by_addr: Vec<String>,
    /// `distinct(client_addr, http_user_agent: …)`
    by_visitor: Vec<String>,
    /// `replace(client_addr)`
    replace: bool,
    /// `from(<rollup>)`: reads that rollup's table instead of `source_logs`
    /// ([`super::derived`]).
    from: Option<String>,
}

impl Merge {
    pub(super) fn distinct(&self) -> impl Iterator<Item = &String> {
        self.by_addr.iter().chain(&self.by_visitor)
    }

    pub(super) fn measures(&self) -> impl Iterator<Item = &String> {
        self.add
            .iter()
            .chain(&self.max)
            .chain(&self.min)
            .chain(self.distinct())
    }

    /// Are its rows replaced per address (`replace(client_addr)`)?
    pub(super) fn replaces(&self) -> bool {
        self.replace
    }

    /// The rollup it is built from (`from(…)`), if any.
    pub(super) fn base(&self) -> Option<&str> {
        self.from.as_deref()
    }

    /// Is it recomputed for the days whose base rows changed (`from(…)` alone: what cannot
    /// be added up, such as a median)?
    pub(super) fn recomputes_days(&self) -> bool {
        self.from.is_some() && self.measures().next().is_none()
    }

    /// Does the rollup keep a key table (`rollup_<name>__keys`)?
    pub(super) fn has_keys(&self) -> bool {
        self.distinct().next().is_some()
    }
}

const MARK: &str = "-- weblog:merge";

/// The merge a rollup's SQL declares, if any.
pub(super) fn merge_spec(sql: &str, origin: &str) -> Result<Option<Merge>> {
    let Some(line) = sql.lines().map(str::trim).find(|l| l.starts_with(MARK)) else {
        return Ok(None);
    };
    let bad = |why: &str| {
        Error::new(
            ErrorKind::Sql,
            format!(
                "{origin}: `{line}`: {why} (expected e.g. `{MARK} add(requests) distinct(client_addr: visitors) max(max_seconds)`, or `{MARK} replace(client_addr)`)"
            ),
        )
    };
    let list = |text: &str| -> Vec<String> {
        text.split(',')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect()
    };
    let mut merge = Merge::default();
    let mut rest = line[MARK.len()..].trim();
    while !rest.is_empty() {
        let open = rest
            .find('(')
            .ok_or_else(|| bad("a list needs parentheses"))?;
        let close = rest.find(')').ok_or_else(|| bad("a list is not closed"))?;
        if close < open {
            return Err(bad("a list is not opened"));
        }
        let inner = &rest[open + 1..close];
        let (keys, columns) = match inner.split_once(':') {
            Some((keys, columns)) => (Some(list(keys)), list(columns)),
            None => (None, list(inner)),
        };
        if columns.is_empty() {
            return Err(bad("an empty list"));
        }
        match (rest[..open].trim(), keys.as_deref()) {
            ("add", None) => merge.add.extend(columns),
            ("max", None) => merge.max.extend(columns),
            ("min", None) => merge.min.extend(columns),
            ("distinct", Some([a])) if a == "client_addr" => merge.by_addr.extend(columns),
            ("distinct", Some([a, u])) if a == "client_addr" && u == "http_user_agent" => {
                merge.by_visitor.extend(columns)
            }
            ("distinct", _) => {
                return Err(bad(
                    "distinct counts are of `client_addr:` or `client_addr, http_user_agent:`",
                ));
            }
            ("replace", None) if columns == ["client_addr"] => merge.replace = true,
            ("from", None) if columns.len() == 1 && merge.from.is_none() => {
                merge.from = columns.into_iter().next()
            }
            ("from", _) => return Err(bad("from(…) names one rollup")),
            ("replace", _) => return Err(bad("rows can be replaced by client_addr only")),
            (other, _) => return Err(bad(&format!("unknown merge `{other}`"))),
        }
        rest = rest[close + 1..].trim();
    }
    let measureless = merge.measures().next().is_none();
    let only_added = merge.max.is_empty() && merge.min.is_empty() && !merge.has_keys();
    if merge.from.is_some() && (merge.replace || !only_added) {
        return Err(bad(
            "a rollup built from(…) another can only add(…), or name no measure",
        ));
    }
    match (merge.replace, measureless) {
        (true, false) => Err(bad("replace(…) cannot be combined with measures")),
        (false, true) if merge.from.is_none() => Err(bad("no column named")),
        _ => Ok(Some(merge)),
    }
}

/// The SQL without its merge line: the line says how to update the table, not what is in it,
/// so it is not part of what a rollup is rebuilt on.
pub(super) fn without_merge_line(sql: &str) -> String {
    if !sql.contains(MARK) {
        return sql.to_string();
    }
    sql.lines()
        .filter(|l| !l.trim().starts_with(MARK))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The rows a fold reads, in temp tables: `weblog_batch`, the rows of batches after
/// `watermark`; for `replace` rollups (`keys`) also `weblog_batch_keys`, their (day,
/// client_addr); and for a `replace` rollup without a merge query (`touched`),
/// `weblog_touched`: every stored row of those days and addresses, `weblog_new` set on the
/// batches' own.
pub(super) fn gather(
    conn: &Connection,
    watermark: i64,
    (lo, hi): (&str, &str),
    keys: bool,
    touched: bool,
) -> Result<()> {
    let days = format!("day BETWEEN DATE '{lo}' AND DATE '{hi}'");
    let mut sql = format!(
        "CREATE OR REPLACE TEMP TABLE weblog_batch AS
             SELECT * FROM logs WHERE batch_id > {watermark} AND {days};"
    );
    if keys || touched {
        sql.push_str(
            "CREATE OR REPLACE TEMP TABLE weblog_batch_keys AS
                 SELECT DISTINCT day, client_addr FROM weblog_batch;",
        );
    }
    if touched {
        sql.push_str(&format!(
            "CREATE OR REPLACE TEMP TABLE weblog_touched AS
                 SELECT l.*, l.batch_id > {watermark} AS weblog_new FROM logs l
                 WHERE l.{days} AND EXISTS (
                     SELECT 1 FROM weblog_batch_keys k
                     WHERE k.day = l.day AND k.client_addr IS NOT DISTINCT FROM l.client_addr);"
        ));
    }
    conn.execute_batch(&sql)
        .map_err(|e| sql_error("rollups", e))
}

pub(super) fn drop_gathered(conn: &Connection) -> Result<()> {
    let mut sql = String::from("DROP VIEW IF EXISTS weblog_key_rows;");
    let saved: Vec<String> = {
        let mut stmt = conn
            .prepare(
                "SELECT table_name FROM duckdb_tables() WHERE temporary
                   AND (starts_with(table_name, 'weblog_old_') OR starts_with(table_name, 'weblog_new_'))",
            )
            .map_err(|e| sql_error("rollups", e))?;
        stmt.query_map([], |r| r.get(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| sql_error("rollups", e))?
    };
    for t in saved {
        sql.push_str(&format!("DROP TABLE IF EXISTS \"{t}\";"));
    }
    for t in [
        "weblog_batch",
        "weblog_batch_keys",
        "weblog_touched",
        "weblog_after",
        "weblog_before",
        "weblog_kb",
        "weblog_key_gap",
        "weblog_inc_weblog_addr",
        "weblog_inc_weblog_visitor",
        "weblog_kmerged",
        "weblog_delta",
        "weblog_merged",
    ] {
        sql.push_str(&format!("DROP TABLE IF EXISTS {t};"));
    }
    conn.execute_batch(&sql)
        .map_err(|e| sql_error("rollups", e))
}

/// What a fold works on.
pub(super) struct Fold<'a> {
    pub name: &'a str,
    pub origin: &'a str,
    pub merge: &'a Merge,
    /// lib/source_logs.sql
    pub source: &'a str,
    pub query: &'a str,
    /// `rollups/merge/<name>.sql`, for a `replace` rollup: how the batch's rows join the
    /// stored rows (without one, the stored rows of the addresses are recomputed).
    pub merge_query: Option<&'a str>,
    /// The last batch folded before: the batches after it are being folded.
    pub watermark: i64,
    /// The first and last day the batches brought rows for.
    pub days: (&'a str, &'a str),
}

/// Fold the gathered rows into `rollup_<name>` (see the module's doc). The rollup's queries
/// read `logs`, which a temp view shadows meanwhile.
pub(super) fn fold(conn: &Connection, f: &Fold) -> Result<()> {
    let result = match (f.merge.replace, f.merge.base()) {
        (true, _) => fold_replace(conn, f),
        (false, Some(base)) if f.merge.recomputes_days() => {
            super::derived::refold_days(conn, f, base)
        }
        (false, Some(base)) => super::derived::fold_derived(conn, f, base),
        (false, None) => fold_measures(conn, f),
    };
    // Whatever happened, `logs` must name the table again.
    let restored = conn
        .execute_batch("DROP VIEW IF EXISTS temp.main.logs; DROP VIEW IF EXISTS stored_rows;")
        .map_err(|e| sql_error("rollups", e));
    result.and(restored)
}

/// Run the rollup's query over `rows` (a query over the gathered tables) into `into`.
fn run_over(conn: &Connection, f: &Fold, rows: &str, into: &str) -> Result<()> {
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP VIEW logs AS {rows};
         CREATE OR REPLACE TEMP VIEW source_logs AS {source}\n;
         CREATE OR REPLACE TEMP TABLE {into} AS {query}\n;",
        source = strip_sql(f.source),
        query = strip_sql(f.query),
    ))
    .map_err(|e| sql_error(f.origin, e))
}

fn fold_replace(conn: &Connection, f: &Fold) -> Result<()> {
    let (lo, hi) = f.days;
    let of_the_addresses = format!(
        "t.day BETWEEN DATE '{lo}' AND DATE '{hi}' AND EXISTS (
             SELECT 1 FROM weblog_batch_keys k
             WHERE k.day = t.day AND k.client_addr IS NOT DISTINCT FROM t.client_addr)"
    );
    let table = format!("rollup_{}", f.name);
    // The rows it replaces, read once: what the merge query joins to, and what the rollups
    // built from it take away.
    let (old, new) = super::derived::saved_rows(f.name);
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE {old} AS SELECT * FROM \"{table}\" t WHERE {of_the_addresses};"
    ))
    .map_err(|e| sql_error(f.origin, e))?;
    match f.merge_query {
        Some(merge_query) => {
            conn.execute_batch(&format!(
                "CREATE OR REPLACE TEMP VIEW stored_rows AS SELECT * FROM {old};"
            ))
            .map_err(|e| sql_error(f.origin, e))?;
            let merging = Fold {
                query: merge_query,
                ..*f
            };
            run_over(conn, &merging, "SELECT * FROM weblog_batch", "weblog_after")?;
        }
        None => run_over(
            conn,
            f,
            "SELECT * EXCLUDE (weblog_new) FROM weblog_touched",
            "weblog_after",
        )?,
    }
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE {new} AS SELECT * FROM weblog_after;
         DELETE FROM \"{table}\" t WHERE {of_the_addresses};
         INSERT INTO \"{table}\" BY NAME SELECT * FROM weblog_after ORDER BY day;"
    ))
    .map_err(|e| sql_error(f.origin, e))
}

fn fold_measures(conn: &Connection, f: &Fold) -> Result<()> {
    let fail = |e| sql_error(f.origin, e);
    let m = f.merge;
    let keys_table = keys_table(f.name);
    let (lo, hi) = f.days;
    let in_days = format!("t.day BETWEEN DATE '{lo}' AND DATE '{hi}'");
    let (columns, group) = columns_and_group(conn, f)?;
    let group: Vec<&str> = group.iter().map(String::as_str).collect();
    let same = |x: &str, y: &str| same_group(&group, x, y);
    let listed = |prefix: &str| {
        group
            .iter()
            .map(|k| format!("{prefix}\"{k}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let each = |cols: &[String], template: &dyn Fn(&str) -> String| {
        cols.iter()
            .map(|c| template(c))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // The distinct counts' increments: keys of the batch that no stored key of the same
    // group and day had.
    let mut increments = Vec::new();
    if !m.has_keys() {
        run_over(conn, f, "SELECT * FROM weblog_batch", "weblog_after")?;
    } else {
        // The batch's sums and extremes are those of its key rows: the query runs once.
        let measures: Vec<String> = m
            .add
            .iter()
            .map(|c| format!("sum(\"{c}\") AS \"{c}\""))
            .chain(m.max.iter().map(|c| format!("max(\"{c}\") AS \"{c}\"")))
            .chain(m.min.iter().map(|c| format!("min(\"{c}\") AS \"{c}\"")))
            .collect();
        // Keys for the batch's days that have none yet, from the rows stored before it.
        let days_table = key_days_table(f.name);
        conn.execute_batch(&format!(
            "CREATE OR REPLACE TEMP TABLE weblog_key_gap AS
                 SELECT DISTINCT day FROM weblog_batch WHERE day NOT IN (SELECT day FROM \"{days_table}\");"
        ))
        .map_err(fail)?;
        let gaps: i64 = conn
            .query_row("SELECT count(*) FROM weblog_key_gap", [], |r| r.get(0))
            .map_err(fail)?;
        if gaps > 0 {
            define_key_rows(
                conn,
                f.source,
                &format!(
                    "WHERE day IN (SELECT day FROM weblog_key_gap) AND batch_id <= {}",
                    f.watermark
                ),
            )
            .map_err(fail)?;
            conn.execute_batch(&format!(
                "INSERT INTO \"{keys_table}\" BY NAME {};
                 INSERT INTO \"{days_table}\" SELECT day FROM weblog_key_gap;",
                by_day(&key_rows_sql(m, f.query, false))
            ))
            .map_err(fail)?;
        }
        conn.execute_batch("CREATE OR REPLACE TEMP VIEW logs AS SELECT * FROM weblog_batch;")
            .map_err(fail)?;
        define_key_rows(conn, f.source, "").map_err(fail)?;
        let mut sql = format!(
            "CREATE OR REPLACE TEMP TABLE weblog_kb AS {};
             CREATE OR REPLACE TEMP TABLE weblog_after AS
                 SELECT {g}{comma}{measures} FROM weblog_kb GROUP BY {g};",
            key_rows_sql(m, f.query, true),
            g = listed(""),
            comma = if measures.is_empty() { "" } else { ", " },
            measures = measures.join(", "),
        );
        for (level, cols) in [
            ("weblog_addr", &m.by_addr),
            ("weblog_visitor", &m.by_visitor),
        ] {
            if cols.is_empty() {
                continue;
            }
            increments.push((level, cols));
            sql.push_str(&format!(
                "CREATE OR REPLACE TEMP TABLE weblog_inc_{level} AS
                 WITH nb AS (SELECT {g}, {level}, {any} FROM weblog_kb GROUP BY ALL),
                      ob AS (SELECT {g}, {level}, {any} FROM \"{keys_table}\" t
                             WHERE {in_days} AND {level} IN (SELECT {level} FROM weblog_kb)
                             GROUP BY ALL)
                 SELECT {nb_g}, {new} FROM nb LEFT JOIN ob ON {same_nb_ob} AND nb.{level} = ob.{level}
                 GROUP BY ALL;",
                g = listed(""),
                nb_g = listed("nb."),
                any = each(cols, &|c| format!("bool_or(\"{c}\") AS \"{c}\"")),
                new = each(cols, &|c| format!(
                    "count(*) FILTER (WHERE nb.\"{c}\" AND NOT coalesce(ob.\"{c}\", false)) AS \"{c}\""
                )),
                same_nb_ob = same("nb", "ob"),
            ));
        }
        // New keys are inserted; a stored key is updated only where it gains a flag (a
        // visitor seen before, now also as a human, say), never rewritten as it was.
        let distinct: Vec<String> = m.distinct().cloned().collect();
        sql.push_str(&format!(
            "CREATE OR REPLACE TEMP TABLE weblog_kmerged AS
                 SELECT {kb_g}, kb.weblog_addr, kb.weblog_visitor, {kb_flags},
                        t.weblog_visitor IS NOT NULL AS weblog_stored
                 FROM (SELECT * FROM weblog_kb WHERE {any_flag}) kb
                 LEFT JOIN (SELECT * FROM \"{keys_table}\" t WHERE {in_days}) t
                     ON {same_kb_t} AND kb.weblog_visitor = t.weblog_visitor;
             INSERT INTO \"{keys_table}\" BY NAME
                 SELECT * EXCLUDE (weblog_stored) FROM weblog_kmerged WHERE NOT weblog_stored ORDER BY day;
             UPDATE \"{keys_table}\" AS t SET {ored}
                 FROM weblog_kmerged kb
                 WHERE kb.weblog_stored AND ({gains}) AND {in_days}
                   AND {same_kb_t} AND kb.weblog_visitor = t.weblog_visitor;",
            kb_g = listed("kb."),
            kb_flags = each(&distinct, &|c| format!("kb.\"{c}\"")),
            any_flag = each(&distinct, &|c| format!("\"{c}\"")).replace(", ", " OR "),
            ored = each(&distinct, &|c| format!("\"{c}\" = t.\"{c}\" OR kb.\"{c}\"")),
            gains = each(&distinct, &|c| format!("(kb.\"{c}\" AND NOT t.\"{c}\")"))
                .replace(", ", " OR "),
            same_kb_t = same("kb", "t"),
        ));
        conn.execute_batch(&sql).map_err(fail)?;
    }
    // The batch's contribution per group: its sums and extremes, and the increments.
    let mut delta = String::from("SELECT a.*");
    let replaced: Vec<String> = increments
        .iter()
        .flat_map(|(level, cols)| {
            cols.iter()
                .map(move |c| format!("coalesce(i_{level}.\"{c}\", 0) AS \"{c}\""))
        })
        .collect();
    if !replaced.is_empty() {
        // (weblog_after, summed from the key rows, has no distinct counts.)
        delta = format!("SELECT a.*, {}", replaced.join(", "));
    }
    delta.push_str(" FROM weblog_after a");
    for (level, _) in &increments {
        delta.push_str(&format!(
            " LEFT JOIN weblog_inc_{level} i_{level} ON {}",
            same("a", &format!("i_{level}"))
        ));
    }
    merge_delta(conn, f, &columns, &group, &delta, false)
}

/// Merge `delta` (a query of the group's columns and each measure's change) into the rollup's
/// table: added, or the extreme kept; with `drop_empty`, a group whose added measures all come
/// to 0 is removed (a derived rollup's group whose last visit went elsewhere).
pub(super) fn merge_delta(
    conn: &Connection,
    f: &Fold,
    columns: &[(String, String)],
    group: &[&str],
    delta: &str,
    drop_empty: bool,
) -> Result<()> {
    let m = f.merge;
    let table = format!("rollup_{}", f.name);
    let (lo, hi) = f.days;
    let in_days = format!("t.day BETWEEN DATE '{lo}' AND DATE '{hi}'");
    let at = same_group(group, "a", "t");
    let mut select: Vec<String> = group.iter().map(|k| format!("a.\"{k}\"")).collect();
    for (c, ty) in columns {
        let (a, t) = (format!("a.\"{c}\""), format!("t.\"{c}\""));
        if m.add.contains(c) || m.distinct().any(|d| d == c) {
            // A stored NULL is an overflow (a sum past BIGINT) and stays NULL; a group not
            // stored yet starts from 0.
            let old = format!("CASE WHEN t.weblog_present THEN {t} ELSE 0 END");
            let integer = ["TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"]
                .contains(&ty.as_str())
                || ty.starts_with('U');
            select.push(if integer {
                format!("TRY_CAST(({old})::HUGEINT + {a}::HUGEINT AS {ty}) AS \"{c}\"")
            } else {
                format!("({old}) + {a} AS \"{c}\"")
            });
        } else if m.max.contains(c) {
            select.push(format!("greatest({t}, {a}) AS \"{c}\""));
        } else if m.min.contains(c) {
            select.push(format!("least({t}, {a}) AS \"{c}\""));
        }
    }
    let kept = if drop_empty && !m.add.is_empty() {
        let empty: Vec<String> = m.add.iter().map(|c| format!("\"{c}\" = 0")).collect();
        format!("WHERE NOT ({})", empty.join(" AND "))
    } else {
        String::new()
    };
    conn.execute_batch(&format!(
        "CREATE OR REPLACE TEMP TABLE weblog_delta AS {delta};
         CREATE OR REPLACE TEMP TABLE weblog_merged AS
             SELECT {select} FROM weblog_delta a
             LEFT JOIN (SELECT *, true AS weblog_present FROM \"{table}\" t WHERE {in_days}) t ON {at};
         DELETE FROM \"{table}\" t WHERE {in_days}
             AND EXISTS (SELECT 1 FROM weblog_delta a WHERE {at});
         INSERT INTO \"{table}\" BY NAME SELECT * FROM weblog_merged {kept} ORDER BY day;",
        select = select.join(", "),
    ))
    .map_err(|e| sql_error(f.origin, e))
}

/// `x.k IS NOT DISTINCT FROM y.k` for every column k of the group.
pub(super) fn same_group(group: &[&str], x: &str, y: &str) -> String {
    group
        .iter()
        .map(|k| format!("{x}.\"{k}\" IS NOT DISTINCT FROM {y}.\"{k}\""))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// A table's columns with their types.
pub(super) type Columns = Vec<(String, String)>;

/// The rollup's columns, checked against its merge line, and its group (the others).
pub(super) fn columns_and_group(conn: &Connection, f: &Fold) -> Result<(Columns, Vec<String>)> {
    let m = f.merge;
    let columns =
        table_columns(conn, &format!("rollup_{}", f.name)).map_err(|e| sql_error(f.origin, e))?;
    for c in m.measures() {
        if !columns.iter().any(|(n, _)| n == c) || c == "day" {
            return Err(Error::new(
                ErrorKind::Sql,
                format!(
                    "{}: the merge line names `{c}`, which is not a measure the rollup returns",
                    f.origin
                ),
            ));
        }
    }
    let group = columns
        .iter()
        .map(|(n, _)| n.clone())
        .filter(|n| !m.measures().any(|c| c == n))
        .collect();
    Ok((columns, group))
}

/// A table's columns and their types, in order.
fn table_columns(conn: &Connection, table: &str) -> duckdb::Result<Columns> {
    let mut stmt = conn.prepare(
        "SELECT column_name, data_type FROM duckdb_columns()
         WHERE table_name = ? AND database_name <> 'temp' ORDER BY column_index",
    )?;
    let rows = stmt.query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_lines_are_read_and_bad_ones_named() {
        let spec = |s: &str| merge_spec(&format!("-- x\n{s}\nSELECT 1"), "r.sql");
        assert_eq!(spec("SELECT").unwrap(), None);
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            spec("-- weblog:merge add(requests) distinct(client_addr: visitors, human_visitors) max(m) distinct(client_addr, http_user_agent: v)").unwrap(),
            Some(Merge {
                add: strings(&["requests"]),
                max: strings(&["m"]),
                by_addr: strings(&["visitors", "human_visitors"]),
                by_visitor: strings(&["v"]),
                ..Merge::default()
            })
        );
        assert_eq!(
            spec("  -- weblog:merge replace(client_addr)").unwrap(),
            Some(Merge {
                replace: true,
                ..Merge::default()
            })
        );
        for bad in [
            "-- weblog:merge",
            "-- weblog:merge add requests",
            "-- weblog:merge add()",
            "-- weblog:merge sum(x)",
            "-- weblog:merge replace(path)",
            "-- weblog:merge replace(client_addr) add(x)",
            "-- weblog:merge distinct(visitors)",
            "-- weblog:merge distinct(path: visitors)",
            "-- weblog:merge add(x: y)",
        ] {
            let e = spec(bad).unwrap_err().to_string();
            assert!(e.starts_with("r.sql: `"), "{bad}: {e}");
        }
    }

    #[test]
    fn the_merge_line_is_not_part_of_the_rollup() {
        let a = "-- a\n-- weblog:merge add(n)\nSELECT day, count(*) AS n FROM t";
        assert_eq!(
            without_merge_line(a),
            "-- a\nSELECT day, count(*) AS n FROM t"
        );
        assert_eq!(without_merge_line("SELECT 1\n"), "SELECT 1\n");
    }
}
