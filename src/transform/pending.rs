//! The days that received rows since the last run (`rollup_pending`), brought into every
//! rollup: one with a merge line takes in the new batches' rows ([`super::merge`]), one
//! without has those days recomputed whole.
//!
//! Each rollup records the last batch it took in (`rollups:batch:<name>` in weblog_meta; the
//! warehouse's `rollups:batch` stands in for a rollup without a record of its own). A fold is
//! a dozen small statements that keep one core busy, so the folds run on two connections at
//! once, each lane in a transaction of its own: the second lane (folds that need nothing from
//! the others) commits first, then the first, which also empties `rollup_pending`. A run
//! stopped between the two commits leaves the second lane's rollups a batch ahead: each takes
//! in the batches after its own record, so none is folded twice or missed, and the days stay
//! pending until both lanes are done.

use std::collections::{BTreeMap, HashMap, HashSet};

use duckdb::Connection;

use super::derived;
use super::keys::{self, forget_keys_sql};
use super::layout::by_day;
use super::merge::{self, Fold, Merge, merge_spec};
use super::{SqlLib, SqlOutput, sql_error, strip_sql};
use crate::error::Result;

const MARK: &str = "rollups:batch";

/// Whether `rollup` is folded (once a batch has been): not built in this run; a rollup built
/// from another, whenever its base is folded, even if it was built in this run itself: it was
/// built from the base's table as it stood before the fold, so it takes the fold's changes.
pub(super) fn folded(built: &HashSet<&str>, rollup: &SqlOutput, merge: &Option<Merge>) -> bool {
    !built.contains(follows(rollup, merge))
}

/// The rollup whose rows `rollup` takes in: its base (`from(…)`), else itself.
fn follows<'a>(rollup: &'a SqlOutput, merge: &'a Option<Merge>) -> &'a str {
    merge
        .as_ref()
        .and_then(|m| m.base())
        .unwrap_or(&rollup.name)
}

/// The last batch taken in: the warehouse's record and each rollup's own.
fn marks(conn: &Connection) -> Result<(Option<i64>, HashMap<String, i64>)> {
    let fail = |e| sql_error("rollups", e);
    let mut stmt = conn
        .prepare(&format!(
            "SELECT key, value::BIGINT FROM weblog_meta
             WHERE key = '{MARK}' OR starts_with(key, '{MARK}:')"
        ))
        .map_err(fail)?;
    let rows: Vec<(String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(fail)?
        .collect::<duckdb::Result<_>>()
        .map_err(fail)?;
    let mut global = None;
    let mut own = HashMap::new();
    for (key, batch) in rows {
        match key.strip_prefix(&format!("{MARK}:")) {
            Some(name) => {
                own.insert(name.to_string(), batch);
            }
            None => global = Some(batch),
        }
    }
    Ok((global, own))
}

/// Bring every rollup up to date with the days in `rollup_pending` (see the module's doc).
/// `second` gives another connection with the macros defined, for the second lane.
pub(super) fn refresh_pending(
    conn: &Connection,
    rollups: &[&SqlOutput],
    merges: &[SqlOutput],
    lib: &SqlLib,
    built: &HashSet<&str>,
    prepare: &mut dyn FnMut() -> Result<()>,
    second: &dyn Fn() -> Option<Connection>,
) -> Result<()> {
    // Nothing pending: no transaction at all (the no-op run's case).
    let pending: i64 = conn
        .query_row("SELECT count(*) FROM rollup_pending", [], |r| r.get(0))
        .map_err(|e| sql_error("rollups", e))?;
    if pending == 0 {
        return Ok(());
    }
    prepare()?;
    let specs = rollups
        .iter()
        .map(|r| merge_spec(&r.sql, &r.origin))
        .collect::<Result<Vec<_>>>()?;
    // The batch after which each rollup folds (None: recomputed for whole days: not folded,
    // or a warehouse written before folds, recomputed whole this once).
    let (global, own) = marks(conn)?;
    let after: Vec<Option<i64>> = rollups
        .iter()
        .zip(&specs)
        .map(|(r, m)| {
            folded(built, r, m)
                .then(|| own.get(follows(r, m)).copied().or(global))
                .flatten()
        })
        .collect();
    // Keys the folds will need, for days that have none, built first in transactions of
    // their own (bounded: a batch may bring rows for many old days).
    for ((rollup, merge), after) in rollups.iter().zip(&specs).zip(&after) {
        if let (Some(m), Some(w)) = (merge.as_ref().filter(|m| m.has_keys()), after) {
            keys::build_missing(
                conn,
                &rollup.name,
                m,
                &lib.source_logs.sql,
                &rollup.sql,
                *w,
                super::rollups::rebuild_rows(),
            )
            .map_err(|e| sql_error(&rollup.origin, e))?;
        }
    }
    // A second connection only when there are folds to share.
    let lanes = Lanes::new(rollups, &specs, &after, true);
    let helper = (!lanes.shared.is_empty()).then(second).flatten();
    let lanes = match helper {
        Some(_) => lanes,
        None => Lanes::new(rollups, &specs, &after, false),
    };
    let pool = Pool::new(&lanes.shared);
    let ended = std::thread::scope(|scope| {
        let second_lane = helper.map(|c2| {
            let pool = &pool;
            scope.spawn(move || {
                in_transaction(&c2, || {
                    let took = refresh_in_transaction(&c2, &[], Some(pool), merges, lib, built)?;
                    record(&c2, &took, false)
                })
            })
        });
        conn.execute_batch("BEGIN TRANSACTION")
            .map_err(|e| sql_error("rollups", e))?;
        let done = refresh_in_transaction(conn, &lanes.first, Some(&pool), merges, lib, built)
            .and_then(|took| {
                if let Some(h) = second_lane {
                    h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))?;
                    crate::failpoint::hit("between-rollup-lanes");
                }
                let mut mine: Vec<&SqlOutput> = lanes.first.iter().map(|(r, _, _)| *r).collect();
                mine.extend(took);
                record(conn, &mine, true)
            });
        Ok::<_, crate::error::Error>(done)
    })?;
    match ended {
        Ok(()) => {
            crate::failpoint::hit("during-rollup");
            let started = std::time::Instant::now();
            let committed = conn
                .execute_batch("COMMIT")
                .map_err(|e| sql_error("rollups", e));
            tracing::debug!(
                ms = started.elapsed().as_millis() as u64,
                "rollups committed"
            );
            committed
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// Recompute whole, in every rollup, the days in `rollup_pending`, in the caller's
/// transaction (see [`super::rollups::recompute_pending`]).
pub(super) fn recompute_all_pending(
    conn: &Connection,
    rollups: &[&SqlOutput],
    specs: &[Option<Merge>],
    merges: &[SqlOutput],
    lib: &SqlLib,
) -> Result<()> {
    let lanes = Lanes::new(rollups, specs, &vec![None; rollups.len()], false);
    refresh_in_transaction(conn, &lanes.first, None, merges, lib, &HashSet::new())?;
    record(conn, rollups, true)
}

/// A rollup in a lane: its SQL, its merge line, the batch after which it folds.
type Member<'a> = (&'a SqlOutput, &'a Option<Merge>, Option<i64>);

/// The folds that keep key tables of their own (the costly ones, 20–50 ms each) are shared:
/// each lane takes the next one when it is free, so that the lanes end together however the
/// machine is loaded. The first lane does the rest first: the visits and the rollups built
/// from them (which read what the visits' fold leaves on its connection), the cheap folds and
/// the rollups recomputed whole.
struct Lanes<'a> {
    first: Vec<Member<'a>>,
    shared: Vec<Member<'a>>,
}

impl<'a> Lanes<'a> {
    fn new(
        rollups: &[&'a SqlOutput],
        specs: &'a [Option<Merge>],
        after: &[Option<i64>],
        share: bool,
    ) -> Lanes<'a> {
        let mut lanes = Lanes {
            first: Vec::new(),
            shared: Vec::new(),
        };
        for ((r, merge), after) in rollups.iter().zip(specs).zip(after) {
            let own_keys = merge
                .as_ref()
                .is_some_and(|m| m.has_keys() && !m.replaces() && m.base().is_none());
            match share && after.is_some() && own_keys {
                true => lanes.shared.push((*r, merge, *after)),
                false => lanes.first.push((*r, merge, *after)),
            }
        }
        lanes
    }
}

/// The next of a list of work, for whichever lane asks first.
pub(super) struct Pool<'a, T> {
    members: &'a [T],
    next: std::sync::atomic::AtomicUsize,
}

impl<'a, T> Pool<'a, T> {
    pub(super) fn new(members: &'a [T]) -> Pool<'a, T> {
        Pool {
            members,
            next: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    pub(super) fn take(&self) -> Option<&'a T> {
        let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.members.get(i)
    }
}

pub(super) fn in_transaction(conn: &Connection, work: impl FnOnce() -> Result<()>) -> Result<()> {
    conn.execute_batch("BEGIN TRANSACTION")
        .map_err(|e| sql_error("rollups", e))?;
    match work().and_then(|()| {
        conn.execute_batch("COMMIT")
            .map_err(|e| sql_error("rollups", e))
    }) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

/// SQL recording that a rollup just built holds every stored batch, in the transaction that
/// puts it in place: a run stopped before the pending days are done must not fold those
/// batches into it again.
pub(super) fn built_mark_sql(name: &str) -> String {
    format!(
        "INSERT OR REPLACE INTO weblog_meta
             SELECT '{MARK}:{name}', coalesce(max(seq), 0)::VARCHAR FROM batches;"
    )
}

/// Record that the lane's rollups took in every stored batch; the last lane (`last`) also
/// empties `rollup_pending` and sets the warehouse's record.
fn record(conn: &Connection, lane: &[&SqlOutput], last: bool) -> Result<()> {
    let names: Vec<String> = lane
        .iter()
        .map(|r| format!("('{MARK}:{}')", r.name.replace('\'', "''")))
        .collect();
    let mut sql = String::new();
    if last {
        sql.push_str(&format!(
            "DELETE FROM rollup_pending;
             INSERT OR REPLACE INTO weblog_meta
                 SELECT '{MARK}', coalesce(max(seq), 0)::VARCHAR FROM batches;"
        ));
    }
    if !names.is_empty() {
        sql.push_str(&format!(
            "INSERT OR REPLACE INTO weblog_meta
                 SELECT k.key, (SELECT coalesce(max(seq), 0)::VARCHAR FROM batches)
                 FROM (VALUES {}) AS k(key);",
            names.join(", ")
        ));
    }
    conn.execute_batch(&sql)
        .map_err(|e| sql_error("rollups", e))
}

/// The lane's rollups brought up to date with the pending days, in the caller's transaction:
/// its own folds, grouped by the batch they fold after (one group, unless a run was stopped
/// between two lanes' commits), then folds taken from the pool until it is empty, then its
/// rollups recomputed for whole days. Returns the rollups it took from the pool.
fn refresh_in_transaction<'a>(
    conn: &Connection,
    lane: &[Member],
    pool: Option<&Pool<'a, Member<'a>>>,
    merges: &[SqlOutput],
    lib: &SqlLib,
    built: &HashSet<&str>,
) -> Result<Vec<&'a SqlOutput>> {
    let source = strip_sql(&lib.source_logs.sql);
    let (lo, hi): (Option<String>, Option<String>) = conn
        .query_row(
            "SELECT min(day)::VARCHAR, max(day)::VARCHAR FROM rollup_pending",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(|e| sql_error("rollups", e))?;
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Ok(Vec::new());
    };
    conn.execute("SET VARIABLE weblog_pending_min = ?::DATE", [&lo])
        .and_then(|_| conn.execute("SET VARIABLE weblog_pending_max = ?::DATE", [&hi]))
        .map_err(|e| sql_error("rollups", e))?;
    let merge_query = |r: &SqlOutput| {
        merges
            .iter()
            .find(|m| m.name == r.name)
            .map(|m| m.sql.as_str())
    };
    let fold = |rollup: &SqlOutput, merge: &Merge, w: i64| -> Result<()> {
        let started = std::time::Instant::now();
        merge::fold(
            conn,
            &Fold {
                name: &rollup.name,
                origin: &rollup.origin,
                merge,
                source: &lib.source_logs.sql,
                query: &rollup.sql,
                merge_query: merge_query(rollup),
                watermark: w,
                days: (&lo, &hi),
            },
        )?;
        tracing::debug!(rollup = %rollup.name, ms = started.elapsed().as_millis() as u64, "rollup folded");
        Ok(())
    };
    let gather = |w: i64, replaces: bool, touched: bool| -> Result<()> {
        let started = std::time::Instant::now();
        merge::gather(conn, w, (&lo, &hi), replaces, touched)?;
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            "rows to fold gathered"
        );
        Ok(())
    };
    let mut groups: BTreeMap<i64, Vec<(&SqlOutput, &Merge)>> = BTreeMap::new();
    for (r, m, after) in lane {
        if let (Some(m), Some(w)) = (m.as_ref(), after) {
            groups.entry(*w).or_default().push((r, m));
        }
    }
    let mut gathered = None;
    for (w, folds) in &groups {
        let replaces = folds.iter().any(|(_, m)| m.replaces());
        let touched = folds
            .iter()
            .any(|(r, m)| m.replaces() && merge_query(r).is_none());
        if gathered.is_some() {
            merge::drop_gathered(conn)?;
        }
        gather(*w, replaces, touched)?;
        gathered = Some(*w);
        for (rollup, merge) in folds {
            fold(rollup, merge, *w)?;
        }
    }
    let mut took = Vec::new();
    while let Some((rollup, Some(merge), Some(w))) = pool.and_then(Pool::take) {
        if gathered != Some(*w) {
            if gathered.is_some() {
                merge::drop_gathered(conn)?;
            }
            gather(*w, false, false)?;
            gathered = Some(*w);
        }
        fold(rollup, merge, *w)?;
        took.push(*rollup);
    }
    if gathered.is_some() {
        merge::drop_gathered(conn)?;
    }
    for (rollup, merge, after) in lane {
        if after.is_some() {
            continue;
        }
        let started = std::time::Instant::now();
        // Built in this run (or its base, for a rollup built from another): it holds every
        // stored batch already.
        if built.contains(follows(rollup, merge)) {
            continue;
        }
        let days = "SELECT day FROM rollup_pending";
        if let Some(base) = merge.as_ref().and_then(|m| m.base()) {
            derived::recompute_days(conn, &rollup.name, &rollup.origin, &rollup.sql, base, days)?;
            continue;
        }
        let table = format!("rollup_{}", rollup.name);
        let query = strip_sql(&rollup.sql);
        let in_days = format!(
            "WHERE day BETWEEN getvariable('weblog_pending_min') AND getvariable('weblog_pending_max')
               AND day IN ({days})"
        );
        // Keys of recomputed days are built again when a batch next needs them.
        let keys = match merge.as_ref().filter(|m| m.has_keys()) {
            Some(_) => forget_keys_sql(&rollup.name, days),
            None => String::new(),
        };
        conn.execute_batch(&format!(
            "CREATE OR REPLACE TEMP VIEW source_logs AS
                 SELECT * FROM ({source}\n) AS everything {in_days};
             DELETE FROM \"{table}\" WHERE day IN ({days});
             INSERT INTO \"{table}\" BY NAME {ordered};
             {keys}",
            ordered = by_day(query)
        ))
        .map_err(|e| sql_error(&rollup.origin, e))?;
        tracing::debug!(rollup = %rollup.name, ms = started.elapsed().as_millis() as u64, "rollup");
    }
    Ok(took)
}
