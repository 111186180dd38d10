//! The per-day rollups (`sql/rollups/*.sql`): the rows of each run's new batches folded in
//! ([`super::merge`]; recomputed for the days that received rows when a rollup has no merge
//! line); built whole, in bounded steps, when new or when their SQL changed.

use super::keys::{create_keys_sql, drop_keys_sql, key_days_table, keys_table};
use super::layout::{by_day, sort_once};
use super::merge::{Merge, merge_spec, without_merge_line};
use super::pending;
use super::pruned::{pruned_before, restore_pruned_days, stash_pruned_days};
use super::{RollupParams, SqlLib, SqlOutput, sql_error, strip_sql};
use crate::error::{Error, ErrorKind, Result};
use crate::parse::Progress;
use crate::summary::Rebuilt;
use std::collections::HashMap;

use duckdb::Connection;

/// Rows of `logs` a rebuild reads in one transaction (whole days, so a day may exceed it).
const REBUILD_ROWS: i64 = 2_000_000;

pub(super) fn rebuild_rows() -> i64 {
    std::env::var("WEBLOG_REBUILD_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &i64| n > 0)
        .unwrap_or(REBUILD_ROWS)
}

/// Bring every rollup up to date: first each new or changed one is rebuilt day by day
/// ([`rebuild`]), then the days that received rows are recomputed in every rollup, in one
/// transaction with emptying `rollup_pending`. `prepare` defines the macros of `lib/`
/// ([`super::prepare`]); it is called only when a rollup has something to do.
pub fn refresh_rollups(
    conn: &Connection,
    rollups: &[SqlOutput],
    merges: &[SqlOutput],
    lib: &SqlLib,
    params: &RollupParams,
    prepare: &mut dyn FnMut() -> Result<()>,
    progress: Option<&dyn Progress>,
) -> Result<Vec<Rebuilt>> {
    // The rollups built from another (`from(…)`) come after the others, and are rebuilt with
    // their base: their hash covers the base's.
    let mut specs = HashMap::new();
    for r in rollups {
        specs.insert(r.name.as_str(), merge_spec(&r.sql, &r.origin)?);
    }
    let base_of = |r: &SqlOutput| specs[r.name.as_str()].as_ref().and_then(|m| m.base());
    let mut ordered: Vec<&SqlOutput> = rollups.iter().filter(|r| base_of(r).is_none()).collect();
    for r in rollups.iter().filter(|r| base_of(r).is_some()) {
        let base = base_of(r).unwrap_or_default();
        if !ordered
            .iter()
            .any(|b| b.name == base && specs[base].as_ref().is_some_and(|m| m.replaces()))
        {
            return Err(Error::new(
                ErrorKind::Sql,
                format!(
                    "{}: from({base}) must name a rollup merged by replace(…)",
                    r.origin
                ),
            ));
        }
        ordered.push(r);
    }
    let rollups = &ordered[..];
    let own_hash = |r: &SqlOutput| rollup_hash(r, lib, params);
    let hash = |r: &SqlOutput| match base_of(r).and_then(|b| rollups.iter().find(|x| x.name == b)) {
        Some(base) => format!(
            "{:016x}",
            xxhash_rust::xxh3::xxh3_64(format!("{}\0{}", own_hash(r), own_hash(base)).as_bytes())
        ),
        None => own_hash(r),
    };
    // A second connection for builds and folds in two lanes: the run's macros and visit
    // timeout (rollups read no output filter).
    let second = || {
        let c2 = conn.try_clone().ok()?;
        super::prepare(&c2, lib, &super::OutputFilter::default(), params).ok()?;
        Some(c2)
    };
    sort_once(conn)?;
    let (hashes, tables) = rollup_state(conn)?;
    let mut stale: Vec<&SqlOutput> = Vec::new();
    for &r in rollups {
        let key = format!("rollup:{}", r.name);
        // A key table must be there for a rollup that merges through one (and must not
        // outlive its merge line: it would miss the rows stored meanwhile).
        let keys = [keys_table(&r.name), key_days_table(&r.name)];
        let has_keys = merge_spec(&r.sql, &r.origin)?.is_some_and(|m| m.has_keys());
        if !has_keys && keys.iter().any(|k| tables.contains(k)) {
            conn.execute_batch(&drop_keys_sql(&r.name))
                .map_err(|e| sql_error(&r.origin, e))?;
        }
        let exists = tables.contains(&format!("rollup_{}", r.name));
        let current = match hashes.get(&key) {
            Some(h) if exists && *h == hash(r) => true,
            Some(h) if exists && *h == former_rollup_hash(r, lib, params) => {
                conn.execute(
                    "INSERT OR REPLACE INTO weblog_meta VALUES (?, ?)",
                    [&key, &hash(r)],
                )
                .map_err(|e| sql_error("rollups", e))?;
                true
            }
            _ => false,
        };
        if !current {
            stale.push(r);
            continue;
        }
        // A current rollup without its key tables (written before weblog kept them, or
        // given a merge line since): they start empty, like a new rollup's.
        if let Some(merge) = specs[r.name.as_str()].as_ref().filter(|m| m.has_keys())
            && !keys.iter().all(|k| tables.contains(k))
        {
            prepare()?;
            let sql = create_keys_sql(conn, &r.name, merge, &lib.source_logs.sql, &r.sql)
                .map_err(|e| sql_error(&r.origin, e))?;
            conn.execute_batch(&sql)
                .map_err(|e| sql_error(&r.origin, e))?;
        }
    }
    let mut rebuilt = Vec::new();
    if !stale.is_empty() {
        prepare()?;
        let (rows, days): (i64, i64) = conn
            .query_row(
                "SELECT count(*), count(DISTINCT day) FROM log_rows",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| sql_error("rollups", e))?;
        // Steps pay only where there is an old table to keep serving and a lot of history: a
        // new rollup (no outputs read it yet) or little history is built in one step for all,
        // which is cheaper (15 new rollups over 5 M rows: 4.7 s at once, 7.3 s in 2 M-row steps;
        // over 500 k rows: 541 ms against 1,263 ms).
        // A rollup built from another reads that one's table: at once, after it.
        let in_steps = |r: &SqlOutput| {
            rows > rebuild_rows()
                && tables.contains(&format!("rollup_{}", r.name))
                && base_of(r).is_none()
        };
        let (derived, stale): (Vec<&SqlOutput>, Vec<&SqlOutput>) =
            stale.into_iter().partition(|r| base_of(r).is_some());
        let (stepped, at_once): (Vec<&SqlOutput>, Vec<&SqlOutput>) =
            stale.into_iter().partition(|r| in_steps(r));
        let whole = |r: &&SqlOutput, kept: &HashMap<String, u64>| Rebuilt {
            rollup: r.name.clone(),
            days: days as u64,
            resumed_after: None,
            kept_pruned_days: kept.get(&r.name).copied().unwrap_or(0),
        };
        if !at_once.is_empty() {
            let kept = build_at_once(conn, &at_once, lib, &hash, &second)?;
            rebuilt.extend(at_once.iter().map(|r| whole(r, &kept)));
        }
        for rollup in stepped {
            rebuilt.push(rebuild(conn, rollup, lib, &hash(rollup), progress)?);
        }
        if !derived.is_empty() {
            let kept = build_at_once(conn, &derived, lib, &hash, &second)?;
            rebuilt.extend(derived.iter().map(|r| whole(r, &kept)));
        }
    }
    // A rollup built in this run holds every stored row (a rebuild resumed from an earlier
    // run recomputed the days that received rows since, as it was put in place).
    let built: std::collections::HashSet<&str> =
        rebuilt.iter().map(|r| r.rollup.as_str()).collect();
    pending::refresh_pending(conn, rollups, merges, lib, &built, prepare, &second)?;
    Ok(rebuilt)
}

/// Recompute whole, in every rollup, the days in `rollup_pending`, in the caller's
/// transaction (which must have the macros defined: [`super::prepare`]): after rows were
/// deleted (`weblog forget`), which no fold can take back. Their keys go too, rebuilt from
/// the rows left when a batch next needs them.
pub fn recompute_pending(
    conn: &Connection,
    rollups: &[SqlOutput],
    merges: &[SqlOutput],
    lib: &SqlLib,
) -> Result<()> {
    let mut specs = Vec::new();
    for r in rollups {
        specs.push((r, merge_spec(&r.sql, &r.origin)?));
    }
    // A rollup built from another reads that one's table: after it.
    specs.sort_by_key(|(_, m)| m.as_ref().is_some_and(|m| m.base().is_some()));
    let (ordered, merge): (Vec<&SqlOutput>, Vec<Option<Merge>>) = specs.into_iter().unzip();
    pending::recompute_all_pending(conn, &ordered, &merge, merges, lib)
}

/// Build every rollup of `stale` over all stored rows (dropping any rebuild an earlier run
/// left unfinished). Each is put in place with the record of what it was built from, so a
/// set can be built in more than one transaction: with `second`'s connection, two lanes
/// take the next rollup in turn (a small build's statements keep one core each). Returns,
/// per rollup, the pruned days it kept.
fn build_at_once(
    conn: &Connection,
    stale: &[&SqlOutput],
    lib: &SqlLib,
    hash: &(dyn Fn(&SqlOutput) -> String + Sync),
    second: &dyn Fn() -> Option<Connection>,
) -> Result<HashMap<String, u64>> {
    let pruned = pruned_before(conn)?;
    let pool = pending::Pool::new(stale);
    let lane = |conn: &Connection| -> Result<HashMap<String, u64>> {
        let mut kept = HashMap::new();
        pending::in_transaction(conn, || {
            conn.execute_batch(&format!(
                "CREATE OR REPLACE TEMP VIEW source_logs AS {}\n;",
                strip_sql(&lib.source_logs.sql)
            ))
            .map_err(|e| sql_error("rollups", e))?;
            while let Some(rollup) = pool.take() {
                if let Some(days) = build_one(conn, rollup, lib, hash, pruned.as_deref())? {
                    kept.insert(rollup.name.clone(), days);
                }
            }
            Ok(())
        })?;
        Ok(kept)
    };
    let helper = (stale.len() > 1).then(second).flatten();
    std::thread::scope(|scope| {
        let other = helper.map(|c2| scope.spawn(move || lane(&c2)));
        let mine = lane(conn);
        let theirs = match other {
            Some(h) => h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)),
            None => Ok(HashMap::new()),
        };
        let mut kept = mine?;
        kept.extend(theirs?);
        Ok(kept)
    })
}

/// Build one rollup over all stored rows, in the caller's transaction; the pruned days it
/// kept, if any.
fn build_one(
    conn: &Connection,
    rollup: &SqlOutput,
    lib: &SqlLib,
    hash: &dyn Fn(&SqlOutput) -> String,
    pruned: Option<&str>,
) -> Result<Option<u64>> {
    let started = std::time::Instant::now();
    let fail = |e| sql_error(&rollup.origin, e);
    let table = format!("rollup_{}", rollup.name);
    let derived = merge_spec(&rollup.sql, &rollup.origin)?.is_some_and(|m| m.base().is_some());
    let keeping = match (pruned, derived) {
        (Some(p), false) => stash_pruned_days(conn, &table, p).map_err(fail)?,
        _ => false,
    };
    conn.execute_batch(&format!(
        "DROP TABLE IF EXISTS \"{table}__rebuild\";
         CREATE OR REPLACE TABLE \"{table}\" AS {query};
         INSERT OR REPLACE INTO weblog_meta VALUES ('rollup:{name}', '{hash}');
         DELETE FROM weblog_meta WHERE key = 'rollup_rebuild:{name}';
         {mark}",
        query = by_day(strip_sql(&rollup.sql)),
        name = rollup.name,
        hash = hash(rollup),
        mark = if derived {
            String::new()
        } else {
            pending::built_mark_sql(&rollup.name)
        },
    ))
    .map_err(fail)?;
    require_day(conn, &table, rollup)?;
    let kept = match keeping {
        true => Some(restore_pruned_days(conn, &table).map_err(fail)?),
        false => None,
    };
    conn.execute_batch(&fresh_keys_sql(conn, rollup, lib)?)
        .map_err(fail)?;
    tracing::debug!(rollup = %rollup.name, ms = started.elapsed().as_millis() as u64, "rollup built");
    Ok(kept)
}

/// Build `rollup` over every stored day into `rollup_<name>__rebuild`, a few million rows'
/// worth of days per transaction, each step recorded in `weblog_meta` so that a run stopped
/// midway goes on from there; then put it in place of the old table in one transaction.
/// Until then the outputs read the old table, consistent with the old SQL. Days that receive
/// rows meanwhile are in `rollup_pending`, which is emptied only after every rebuild is in
/// place, so they are recomputed in the new table.
fn rebuild(
    conn: &Connection,
    rollup: &SqlOutput,
    lib: &SqlLib,
    hash: &str,
    progress: Option<&dyn Progress>,
) -> Result<Rebuilt> {
    let fail = |e| sql_error(&rollup.origin, e);
    let table = format!("rollup_{}", rollup.name);
    let building = format!("{table}__rebuild");
    let marker = format!("rollup_rebuild:{}", rollup.name);
    let source = strip_sql(&lib.source_logs.sql);
    let query = strip_sql(&rollup.sql);
    let ordered = by_day(query);
    let state: Option<String> = conn
        .query_row(
            "SELECT max(value) FROM weblog_meta WHERE key = ?",
            [&marker],
            |r| r.get(0),
        )
        .map_err(fail)?;
    let (_, tables) = rollup_state(conn)?;
    // "<hash> <last day built>" (no day: none yet) of a rebuild still going on.
    let resumed_after = match state.as_deref().and_then(|s| s.split_once(' ')) {
        Some((h, day)) if h == hash && tables.contains(&building) => Some(day.to_string()),
        _ => None,
    };
    if resumed_after.is_none() {
        conn.execute_batch(&format!(
            "BEGIN TRANSACTION;
             DROP TABLE IF EXISTS \"{building}\";
             CREATE OR REPLACE TEMP VIEW source_logs AS SELECT * FROM ({source}\n) AS everything WHERE false;
             CREATE TABLE \"{building}\" AS SELECT * FROM ({query}\n) LIMIT 0;
             INSERT OR REPLACE INTO weblog_meta VALUES ('{marker}', '{hash} ');
             COMMIT;"
        ))
        .map_err(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            fail(e)
        })?;
        if let Err(e) = require_day(conn, &building, rollup) {
            let _ = conn.execute_batch(&format!("DROP TABLE IF EXISTS \"{building}\""));
            return Err(e);
        }
    }
    let after = resumed_after.as_deref().filter(|d| !d.is_empty());
    let days: Vec<(String, i64)> = {
        let mut stmt = conn
            .prepare(
                "SELECT day::VARCHAR, count(*) FROM log_rows
                 WHERE ?::VARCHAR IS NULL OR day > ?::DATE GROUP BY day ORDER BY day",
            )
            .map_err(fail)?;
        stmt.query_map([after, after], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
            .map_err(fail)?
    };
    let total = days.len();
    if total > 0 {
        tracing::info!(rollup = %rollup.name, days = total, resumed = after.is_some(), "rebuilding");
    }
    let limit = rebuild_rows();
    let mut done = 0usize;
    while done < days.len() {
        // Whole days up to the row budget, at least one.
        let mut end = done;
        let mut rows = 0;
        while end < days.len() && (end == done || rows + days[end].1 <= limit) {
            rows += days[end].1;
            end += 1;
        }
        let (first, last) = (&days[done].0, &days[end - 1].0);
        conn.execute_batch(&format!(
            "BEGIN TRANSACTION;
             CREATE OR REPLACE TEMP VIEW source_logs AS SELECT * FROM ({source}\n) AS everything
                 WHERE day BETWEEN DATE '{first}' AND DATE '{last}';
             INSERT INTO \"{building}\" BY NAME {ordered};
             INSERT OR REPLACE INTO weblog_meta VALUES ('{marker}', '{hash} {last}');
             COMMIT;"
        ))
        .map_err(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            fail(e)
        })?;
        done = end;
        tracing::info!(rollup = %rollup.name, through = %last, done, total, "rebuilt");
        if let Some(p) = progress {
            p.note(&format!(
                "rebuilding rollup {} (new, or its SQL changed): {done}/{total} days, through {last}",
                rollup.name
            ));
        }
        crate::failpoint::hit("during-rebuild");
    }
    // The key tables start again, empty (keys are built when needed).
    let keys_swap = fresh_keys_sql(conn, rollup, lib)?;
    let pruned = pruned_before(conn)?;
    // Days built by an earlier run may have received rows since: recomputed in the same
    // transaction as the swap, so that the table put in place holds every stored batch.
    let late = match after {
        Some(through) => format!(
            "CREATE OR REPLACE TEMP VIEW source_logs AS SELECT * FROM ({source}\n) AS everything
                 WHERE day <= DATE '{through}' AND day IN (SELECT day FROM rollup_pending);
             DELETE FROM \"{building}\"
                 WHERE day <= DATE '{through}' AND day IN (SELECT day FROM rollup_pending);
             INSERT INTO \"{building}\" BY NAME {ordered};"
        ),
        None => String::new(),
    };
    let swap = || -> duckdb::Result<u64> {
        conn.execute_batch("BEGIN TRANSACTION")?;
        conn.execute_batch(&late)?;
        let kept = match &pruned {
            Some(p) if stash_pruned_days(conn, &table, p)? => restore_pruned_days(conn, &building)?,
            _ => 0,
        };
        conn.execute_batch(&format!(
            "{keys_swap}
             DROP TABLE IF EXISTS \"{table}\";
             ALTER TABLE \"{building}\" RENAME TO \"{table}\";
             INSERT OR REPLACE INTO weblog_meta VALUES ('rollup:{name}', '{hash}');
             DELETE FROM weblog_meta WHERE key = '{marker}';
             {mark}
             COMMIT;",
            name = rollup.name,
            mark = pending::built_mark_sql(&rollup.name),
        ))?;
        Ok(kept)
    };
    let kept = swap().map_err(|e| {
        let _ = conn.execute_batch("ROLLBACK");
        fail(e)
    })?;
    Ok(Rebuilt {
        rollup: rollup.name.clone(),
        days: total as u64,
        resumed_after: after.map(str::to_string),
        kept_pruned_days: kept,
    })
}

/// SQL that gives a rollup just (re)built its key tables, empty (built when needed), or drops
/// them when it counts nothing distinct.
fn fresh_keys_sql(conn: &Connection, rollup: &SqlOutput, lib: &SqlLib) -> Result<String> {
    match merge_spec(&rollup.sql, &rollup.origin)?.filter(Merge::has_keys) {
        Some(merge) => create_keys_sql(
            conn,
            &rollup.name,
            &merge,
            &lib.source_logs.sql,
            &rollup.sql,
        )
        .map_err(|e| sql_error(&rollup.origin, e)),
        None => Ok(drop_keys_sql(&rollup.name)),
    }
}

/// A rollup's table (`table`, just built from its query) must have a `day` column.
fn require_day(conn: &Connection, table: &str, rollup: &SqlOutput) -> Result<()> {
    let has_day: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM duckdb_columns() WHERE table_name = ? AND column_name = 'day'",
            [table],
            |r| r.get(0),
        )
        .map_err(|e| sql_error(&rollup.origin, e))?;
    if has_day {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Sql,
            format!("{}: a rollup must return a `day` column", rollup.origin),
        ))
    }
}

/// What a rollup table was built from: its SQL, the shared SQL it reads through, the macros
/// these call (not the others: a change to a macro only the outputs use rebuilds nothing),
/// and the parameters it uses (the visit timeout, for the rollups that name it).
fn rollup_hash(rollup: &SqlOutput, lib: &SqlLib, params: &RollupParams) -> String {
    let sql = without_merge_line(&rollup.sql);
    let used = macros_used(&[&sql, &lib.source_logs.sql], &lib.macros.sql);
    let mut key = format!("{}\0{}", sql, lib.source_logs.sql);
    for definition in used.values() {
        key.push('\0');
        key.push_str(definition);
    }
    if used.iter().any(|(name, _)| *name == "visit_timeout_us")
        || rollup.sql.contains("visit_timeout_us")
    {
        key.push_str(&format!("\0{}", params.visit_timeout.as_micros()));
    }
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(key.as_bytes()))
}

/// The hash weblog before 2026-12-03 recorded (all of `macros.sql` in it): a table built
/// under it from the same SQL is current, not rebuilt because the hash's recipe changed.
fn former_rollup_hash(rollup: &SqlOutput, lib: &SqlLib, params: &RollupParams) -> String {
    let mut key = format!(
        "{}\0{}\0{}",
        without_merge_line(&rollup.sql),
        lib.source_logs.sql,
        lib.macros.sql
    );
    if rollup.sql.contains("visit_timeout_us") {
        key.push_str(&format!("\0{}", params.visit_timeout.as_micros()));
    }
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(key.as_bytes()))
}

/// The macros of `macros` that `texts` call, directly or through other macros, each with its
/// definition (comments and spacing as written), by name.
fn macros_used<'a>(
    texts: &[&str],
    macros: &'a str,
) -> std::collections::BTreeMap<&'a str, &'a str> {
    // Each definition runs from its CREATE to the next one.
    let starts: Vec<(usize, &str)> = {
        let upper = macros.to_ascii_uppercase();
        let mut out = Vec::new();
        let mut from = 0;
        while let Some(i) = upper[from..].find("MACRO ") {
            let at = from + i;
            let name_start = at + "MACRO ".len();
            let name: &str = macros[name_start..]
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap_or_default();
            let create = upper[..at].rfind("CREATE").unwrap_or(at);
            if !name.is_empty() {
                out.push((create, name));
            }
            from = name_start;
        }
        out
    };
    let definitions: Vec<(&str, &str)> = starts
        .iter()
        .enumerate()
        .map(|(i, (at, name))| {
            let end = starts.get(i + 1).map_or(macros.len(), |(next, _)| *next);
            (*name, &macros[*at..end])
        })
        .collect();
    let calls = |text: &str, name: &str| {
        text.match_indices(name).any(|(i, _)| {
            let before = text[..i].chars().next_back();
            let after = text[i + name.len()..].trim_start().chars().next();
            before.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_')) && after == Some('(')
        })
    };
    let mut used = std::collections::BTreeMap::new();
    let mut scan: Vec<&str> = texts.to_vec();
    while let Some(text) = scan.pop() {
        for (name, definition) in &definitions {
            if !used.contains_key(name) && calls(text, name) {
                used.insert(*name, *definition);
                scan.push(definition);
            }
        }
    }
    used
}

type RollupState = (
    std::collections::HashMap<String, String>,
    std::collections::HashSet<String>,
);

/// The SQL hash each rollup table was built from (`rollup:<name>` in weblog_meta), and the
/// tables that exist: read once, not per rollup (those catalog queries were most of a
/// no-op run).
fn rollup_state(conn: &Connection) -> Result<RollupState> {
    let fail = |e| sql_error("rollups", e);
    let mut stmt = conn
        .prepare("SELECT key, value FROM weblog_meta WHERE key LIKE 'rollup:%'")
        .map_err(fail)?;
    let hashes = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(fail)?
        .collect::<duckdb::Result<_>>()
        .map_err(fail)?;
    let mut stmt = conn
        .prepare("SELECT table_name FROM duckdb_tables() WHERE NOT temporary")
        .map_err(fail)?;
    let tables = stmt
        .query_map([], |r| r.get(0))
        .map_err(fail)?
        .collect::<duckdb::Result<_>>()
        .map_err(fail)?;
    Ok((hashes, tables))
}
