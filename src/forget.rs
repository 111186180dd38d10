//! `weblog forget --ip ADDR|CIDR [--agent AGENT]`: erase one visitor. Their rows of `logs`
//! (client_addr, remote_addr or an X-Forwarded-For entry in the block, and the agent when
//! given, exactly) and their rejects (any address of the line in the block, the agent in the
//! line when given) are deleted and the days they were in recomputed whole in every rollup
//! (with their key tables), all in one transaction: a kill leaves the warehouse before or
//! after. Then this warehouse's lake files holding their rows are rewritten without them,
//! and the outputs refreshed. Every step looks for what is left, so running it again
//! completes a killed one and finds nothing after a finished one.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::net::IpAddr;

use duckdb::Connection;
use serde::Serialize;

use crate::enrich::client::Cidr;
use crate::error::{Error, ErrorKind, Result, one_line};
use crate::export::lake_retention;
use crate::retention::Setup;
use crate::sql_text::string_literal;
use crate::summary::LakeFiles;
use crate::transform;

/// Who to forget.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub ip: Cidr,
    pub ip_text: String,
    /// The exact user agent, when only that agent's rows are the visitor's.
    pub agent: Option<String>,
}

impl Visitor {
    fn address_matches(&self, value: &str) -> bool {
        value.split(',').any(|part| {
            part.trim()
                .parse::<IpAddr>()
                .is_ok_and(|ip| self.ip.contains(ip))
        })
    }
}

/// What was (or, with `--dry-run`, would be) removed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Forgotten {
    pub ip: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    pub dry_run: bool,
    /// Rows of `logs`, per day.
    pub logs: BTreeMap<String, u64>,
    /// Rejects, per day they were read.
    pub rejects: BTreeMap<String, u64>,
    /// Days recomputed in every rollup (and their key tables).
    pub rollup_days: Vec<String>,
    /// This warehouse's lake files rewritten, and rows taken out of them, per day.
    pub lake: LakeFiles,
    /// Raw rows of the days before it were pruned: their aggregates may count the visitor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pruned_before: Option<String>,
}

fn failed(db: &std::path::Path) -> impl Fn(duckdb::Error) -> Error {
    let db = db.display().to_string();
    move |e| {
        Error::new(
            ErrorKind::Data,
            format!(
                "cannot forget the visitor in {db}: {}",
                one_line(&e.to_string())
            ),
        )
    }
}

/// The distinct values of the address columns of `source` that hold an address of the
/// visitor (column, value).
fn matching_values(
    conn: &Connection,
    source: &str,
    who: &Visitor,
) -> duckdb::Result<Vec<(&'static str, String)>> {
    let mut out = Vec::new();
    for column in ["client_addr", "remote_addr", "x_forwarded_for"] {
        let mut stmt = conn.prepare(&format!(
            "SELECT DISTINCT {column} FROM {source} WHERE {column} IS NOT NULL"
        ))?;
        let values: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<duckdb::Result<_>>()?;
        out.extend(
            values
                .into_iter()
                .filter(|v| who.address_matches(v))
                .map(|v| (column, v)),
        );
    }
    Ok(out)
}

/// The SQL condition that picks the visitor's rows among those of `values`' columns, or
/// None when no value is theirs. `agents`: the rows hold an agent id (`log_rows`), not the
/// agent's text (a lake file).
fn condition(values: &[(&str, String)], who: &Visitor, agents: bool) -> Option<String> {
    if values.is_empty() {
        return None;
    }
    let mut by_column: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (c, v) in values {
        by_column.entry(c).or_default().push(string_literal(v));
    }
    let any: Vec<String> = by_column
        .iter()
        .map(|(c, vs)| format!("{c} IN ({})", vs.join(", ")))
        .collect();
    let agent = who.agent.as_ref().map_or(String::new(), |a| match agents {
        true => format!(
            " AND agent_id IN (SELECT agent_id FROM agents WHERE http_user_agent = {})",
            string_literal(a)
        ),
        false => format!(" AND http_user_agent = {}", string_literal(a)),
    });
    Some(format!("(({}){agent})", any.join(" OR ")))
}

/// Forget `who` in the warehouse of `opts`, its lakes and its outputs.
pub fn forget(opts: &Setup, who: &Visitor, dry_run: bool) -> Result<Forgotten> {
    crate::export::check_writable(&opts.out)?;
    let sql = transform::load(&opts.sql)?;
    let wh = crate::retention::open_existing(opts)?;
    wh.check_ready_for_retention()?;
    // Pending days folded first: the recompute below must start from current rollups.
    crate::retention::refresh_rollups(&wh, &sql, opts)?;
    let conn = wh.connection();
    let fail = failed(wh.path());
    let mut done = Forgotten {
        ip: who.ip_text.clone(),
        agent: who.agent.clone(),
        dry_run,
        pruned_before: wh
            .pruned_before()?
            .map(|d| d.format("%Y-%m-%d").to_string()),
        ..Default::default()
    };
    let keys = hashed_keys(&wh, who)?;
    let mut values = matching_values(conn, "log_rows", who).map_err(&fail)?;
    values.extend(keys.iter().cloned());
    let rows = condition(&values, who, true);
    let rejects = matching_rejects(conn, who).map_err(&fail)?;
    if rows.is_some() || !rejects.is_empty() {
        transform::prepare(conn, &sql.lib, &opts.filter, &opts.rollups)?;
        conn.execute_batch("BEGIN TRANSACTION").map_err(&fail)?;
        let mut step = || -> Result<()> {
            if let Some(cond) = &rows {
                let mut stmt = conn
                    .prepare(&format!(
                        "SELECT day::VARCHAR, count(*) FROM log_rows WHERE {cond} GROUP BY 1 ORDER BY 1"
                    ))
                    .map_err(&fail)?;
                done.logs = stmt
                    .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))
                    .and_then(|rows| rows.collect())
                    .map_err(&fail)?;
                done.rollup_days = done.logs.keys().cloned().collect();
                conn.execute_batch(&format!(
                    "INSERT OR IGNORE INTO rollup_pending SELECT DISTINCT day FROM log_rows WHERE {cond};
                     DELETE FROM log_rows WHERE {cond};
                     {}",
                    crate::load::DELETE_UNUSED_AGENTS
                ))
                .map_err(&fail)?;
            }
            for (rowid, day) in &rejects {
                conn.execute("DELETE FROM rejects WHERE rowid = ?", [rowid])
                    .map_err(&fail)?;
                *done.rejects.entry(day.clone()).or_default() += 1;
            }
            transform::recompute_pending(conn, &sql.rollups, &sql.rollup_merges, &sql.lib)?;
            conn.execute_batch(crate::load::BUMP_DATA_VERSION)
                .map_err(&fail)?;
            crate::failpoint::hit("during-forget");
            Ok(())
        };
        let end = if dry_run { "ROLLBACK" } else { "COMMIT" };
        match step().and_then(|()| conn.execute_batch(end).map_err(&fail)) {
            Ok(()) => {}
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        }
    }
    for lake in lake_retention::lakes_of(&wh, opts.lake.as_deref())? {
        let matches = |source: &str| -> Result<Option<String>> {
            let mut values = matching_values(conn, source, who).map_err(&fail)?;
            values.extend(keys.iter().cloned());
            Ok(condition(&values, who, false))
        };
        lake_retention::forget(&wh, &lake, &matches, dry_run, &mut done.lake)?;
    }
    if !dry_run {
        let mut prepare = transform::prepare_once(conn, &sql.lib, &opts.filter, &opts.rollups);
        transform::refresh_outputs(
            &wh,
            &sql,
            &opts.filter,
            &opts.rollups,
            &opts.out,
            &mut prepare,
        )?;
    }
    Ok(done)
}

/// With `--visitor-id hashed` rows hold the address's key of their day, not the address:
/// the keys of one address under each salt still kept (days already over have no salt, and
/// nothing in them leads back to the address). A block of addresses has no keys to compute.
fn hashed_keys(wh: &crate::load::Warehouse, who: &Visitor) -> Result<Vec<(&'static str, String)>> {
    let Some(ip) = who.ip.single() else {
        return Ok(Vec::new());
    };
    let salts = wh.visitor_salts()?;
    let days: Vec<i32> = salts.keys().copied().collect();
    let mut keyed = crate::enrich::DailySalts::new(salts);
    Ok(days
        .into_iter()
        .map(|day| ("client_addr", keyed.key(day, &ip.to_string())))
        .collect())
}

/// The rejects holding an address of the visitor (and their agent, when given): rowid and
/// the day they were read. Rejects are few and unparsed: each line is scanned for addresses.
fn matching_rejects(conn: &Connection, who: &Visitor) -> duckdb::Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare(
        "SELECT rowid, raw_line, strftime(ingested_at, '%Y-%m-%d') FROM rejects ORDER BY rowid",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let line: String = row.get(1)?;
        let theirs = crate::enrich::anonymize::addresses(&line)
            .into_iter()
            .any(|ip| who.ip.contains(ip))
            && who.agent.as_ref().is_none_or(|a| line.contains(a.as_str()));
        if theirs {
            out.push((row.get(0)?, row.get(2)?));
        }
    }
    Ok(out)
}

/// What forget removed, for people: per table, per day.
pub fn text(f: &Forgotten) -> String {
    let mut out = String::new();
    let verb = if f.dry_run { "would remove" } else { "removed" };
    let who = match &f.agent {
        Some(a) => format!("{} with agent {a:?}", f.ip),
        None => f.ip.clone(),
    };
    let total = |m: &BTreeMap<String, u64>| m.values().sum::<u64>();
    let _ = writeln!(out, "forget {who}: {verb}");
    let _ = writeln!(out, "  logs: {} rows", total(&f.logs));
    for (day, n) in &f.logs {
        let _ = writeln!(out, "    {day}: {n}");
    }
    let _ = writeln!(out, "  rejects: {} lines", total(&f.rejects));
    for (day, n) in &f.rejects {
        let _ = writeln!(out, "    read {day}: {n}");
    }
    let _ = writeln!(
        out,
        "  lake: {} rows from {} files of this warehouse",
        total(&f.lake.rows),
        total(&f.lake.files)
    );
    for (day, n) in &f.lake.rows {
        let _ = writeln!(out, "    {day}: {n}");
    }
    if !f.rollup_days.is_empty() {
        let _ = writeln!(
            out,
            "  rollups (and their key tables) {} for {} days: {}",
            if f.dry_run {
                "would be recomputed"
            } else {
                "recomputed"
            },
            f.rollup_days.len(),
            f.rollup_days.join(", ")
        );
    }
    if let Some(p) = &f.pruned_before {
        let _ = writeln!(
            out,
            "  days before {p} were pruned: no raw rows are left of them, but their aggregates may still count this visitor, anonymously"
        );
    }
    out
}
