//! Retention of raw rows: `retention_days` (applied at the end of every run) and
//! `weblog prune --older-than N`, and `anonymize_after_days`. Raw rows (`logs`, `rejects`,
//! the rollups' key tables, this warehouse's lake files) of the days before the horizon are
//! deleted, or masked in place; the per-day rollups, which every output reads, are kept, so
//! no output changes. The warehouse's part is in `load` (retention.rs), the lake's in
//! `export` (lake_retention.rs).

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;

use crate::error::{Error, ErrorKind, Result};
use crate::export::lake_retention;
use crate::load::Warehouse;
use crate::summary::{Rebuilt, Retained};
use crate::transform;

/// How long raw rows are kept as stored, in days (None: for ever).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Keep {
    /// `retention_days`: deleted after this many days.
    pub days: Option<u32>,
    /// `anonymize_after_days`: masked after this many days.
    pub anonymize_after: Option<u32>,
}

impl Keep {
    pub fn is_set(&self) -> bool {
        self.days.is_some() || self.anonymize_after.is_some()
    }
}

/// What `weblog prune` and `weblog forget` work on: the run's warehouse, SQL, outputs (with
/// their filters and parameters) and lake, from the same flags and config keys.
#[derive(Debug, Clone)]
pub struct Setup {
    pub db: PathBuf,
    pub sql: PathBuf,
    pub out: PathBuf,
    pub wait: Duration,
    pub memory_limit: String,
    pub lake: Option<PathBuf>,
    pub filter: transform::OutputFilter,
    pub rollups: transform::RollupParams,
    pub keep: Keep,
}

/// Today in the server's time zone (the logs' days are the server's local dates), moved as
/// the test clock moves batches' timestamps.
pub fn today() -> NaiveDate {
    crate::failpoint::now()
        .with_timezone(&chrono::Local)
        .date_naive()
}

/// The first day kept: rows of days before it are older than `days` days.
pub fn horizon(days: u32) -> NaiveDate {
    let today = today();
    today
        .checked_sub_days(chrono::Days::new(u64::from(days)))
        .unwrap_or(today)
}

/// Prune and mask as `keep` says, then delete this warehouse's lake files of pruned days
/// (in the lakes it has written to, and `lake`).
pub fn apply(wh: &mut Warehouse, keep: &Keep, lake: Option<&Path>) -> Result<Retained> {
    let mut done = Retained::default();
    if let Some(days) = keep.days {
        done.pruned = Some(wh.prune_raw(horizon(days))?);
    }
    // Also when this run prunes nothing: a prune killed before its lake files went.
    if let Some(before) = wh.pruned_before()? {
        let before = before.format("%Y-%m-%d").to_string();
        for l in lake_retention::lakes_of(wh, lake)? {
            lake_retention::prune(wh, &l, &before, &mut done.lake)?;
        }
    }
    if let Some(days) = keep.anonymize_after {
        let masked = wh.mask_raw(horizon(days))?;
        if let Some(before) = &masked.before {
            for l in lake_retention::lakes_of(wh, lake)? {
                lake_retention::mask(wh, &l, before, &mut done.lake_masked)?;
            }
        }
        done.masked = Some(masked);
    }
    Ok(done)
}

/// `weblog prune`: bring the rollups up to date (a pending day must be folded before its
/// rows go), then [`apply`] with `--older-than` in place of `retention_days`.
pub fn prune(opts: &Setup, keep: &Keep) -> Result<(Retained, Vec<String>)> {
    if !keep.is_set() {
        return Err(Error::new(
            ErrorKind::Usage,
            "nothing to prune: give --older-than (e.g. 30d), or set retention_days or anonymize_after_days",
        ));
    }
    let mut wh = open_existing(opts)?;
    wh.check_ready_for_retention()?;
    let sql = transform::load(&opts.sql)?;
    let rebuilt = refresh_rollups(&wh, &sql, opts)?;
    let warnings = rebuild_warnings(&rebuilt);
    let done = apply(&mut wh, keep, opts.lake.as_deref())?;
    Ok((done, warnings))
}

/// Open the warehouse to change it; one it would create is refused (a typo in --db).
pub fn open_existing(opts: &Setup) -> Result<Warehouse> {
    if !opts.db.is_file() {
        return Err(Error::new(
            ErrorKind::NoInput,
            format!(
                "database {} does not exist (run `weblog run` first)",
                opts.db.display()
            ),
        ));
    }
    Warehouse::open(&opts.db, opts.wait, &opts.memory_limit)
}

/// The rollups brought up to date as a run would (pending days, rebuilds).
pub fn refresh_rollups(
    wh: &Warehouse,
    sql: &transform::SqlSet,
    opts: &Setup,
) -> Result<Vec<Rebuilt>> {
    let conn = wh.connection();
    let mut prepare = transform::prepare_once(conn, &sql.lib, &opts.filter, &opts.rollups);
    transform::refresh_rollups(
        conn,
        &sql.rollups,
        &sql.rollup_merges,
        &sql.lib,
        &opts.rollups,
        &mut prepare,
        None,
    )
}

/// What a rebuild of a rollup with pruned days must say: those days were not rebuilt.
pub fn rebuild_warnings(rebuilt: &[Rebuilt]) -> Vec<String> {
    rebuilt
        .iter()
        .filter(|r| r.kept_pruned_days > 0)
        .map(|r| {
            format!(
                "rollup {} was rebuilt with its new definition, except its {} days before the retention horizon: their raw rows were pruned, so they keep the values the old definition computed",
                r.rollup, r.kept_pruned_days
            )
        })
        .collect()
}

/// What retention did, for people: per table, rows and days.
pub fn text(r: &Retained) -> String {
    let mut out = String::new();
    let per_day = |m: &std::collections::BTreeMap<String, u64>, what: &str| -> String {
        let total: u64 = m.values().sum();
        match (m.keys().next(), m.keys().next_back()) {
            (Some(a), Some(b)) if a == b => format!("{total} {what} of {a}"),
            (Some(a), Some(b)) => format!("{total} {what} of {} days, {a} to {b}", m.len()),
            _ => format!("no {what}"),
        }
    };
    if let Some(p) = &r.pruned {
        let before = p.before.as_deref().unwrap_or("?");
        let _ = writeln!(out, "pruned raw rows of the days before {before}:");
        let _ = writeln!(out, "  logs: {}", per_day(&p.logs, "rows"));
        let _ = writeln!(
            out,
            "  rollup key tables (address hashes): {}",
            per_day(&p.key_rows, "rows")
        );
        let _ = writeln!(out, "  rejects (read before {before}): {} rows", p.rejects);
        let _ = writeln!(
            out,
            "  addresses kept in rollups (rollup_visits): {} masked",
            p.rollup_addresses
        );
    }
    if !r.lake.files.is_empty() {
        let _ = writeln!(
            out,
            "  lake: {} of this warehouse",
            per_day(&r.lake.files, "files")
        );
    }
    if r.pruned.is_some() {
        let _ = writeln!(
            out,
            "  per-day rollups (and so every output) kept as they were"
        );
    }
    if let Some(m) = &r.masked {
        let before = m.before.as_deref().unwrap_or("?");
        let _ = writeln!(
            out,
            "masked addresses ({} level) in the raw rows of the days before {before}:",
            crate::load::MASK_LEVEL.name()
        );
        let _ = writeln!(out, "  logs: {}", per_day(&m.logs, "rows"));
        let _ = writeln!(out, "  rejects: {} rows", m.rejects);
        let _ = writeln!(
            out,
            "  rollup key tables (address hashes): {} rows deleted; addresses kept in rollups: {} masked",
            m.key_rows, m.rollup_addresses
        );
        if !r.lake_masked.files.is_empty() {
            let _ = writeln!(
                out,
                "  lake: {} of this warehouse rewritten masked",
                per_day(&r.lake_masked.files, "files")
            );
        }
    }
    out
}
