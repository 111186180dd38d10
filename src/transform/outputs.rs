//! Making the outputs (`sql/<name>.sql`), each materialised and exported, unless the files an
//! earlier run wrote are still exactly what it would write: a run that found nothing new
//! rewrites nothing.

use std::collections::HashMap;
use std::path::Path;

use duckdb::Connection;

use xxhash_rust::xxh3::xxh3_64;

use super::{OUTPUT_TABLE, OutputFilter, RollupParams, SqlOutput, SqlSet, materialize};
use crate::error::Result;
use crate::export;
use crate::load::Warehouse;
use crate::summary::OutputSummary;

/// A digest of everything an output depends on besides its own SQL: the stored data (its
/// version moves with every commit), the rollups' and shared SQL, the filters and
/// parameters, the folder, weblog itself.
fn inputs_digest(
    wh: &Warehouse,
    sql: &SqlSet,
    filter: &OutputFilter,
    params: &RollupParams,
    out: &Path,
) -> Result<u64> {
    let mut key = format!(
        "{}\0{}\0{:?}\0{:?}\0{}",
        env!("CARGO_PKG_VERSION"),
        wh.data_version()?,
        filter,
        params,
        out.display()
    );
    for rollup in
        sql.rollups
            .iter()
            .chain([&sql.lib.macros, &sql.lib.source_logs, &sql.lib.own_site])
    {
        key.push('\0');
        key.push_str(&rollup.sql);
    }
    Ok(xxh3_64(key.as_bytes()))
}

/// Every output made or left as it is, and the site host `lib/own_site.sql` found. When
/// every output is already up to date nothing is queried at all, not even the macros are
/// defined (`prepare`): the common cron case costs one small read.
pub fn refresh_outputs(
    wh: &Warehouse,
    sql: &SqlSet,
    filter: &OutputFilter,
    params: &RollupParams,
    out: &Path,
    prepare: &mut dyn FnMut() -> Result<()>,
) -> Result<(Vec<OutputSummary>, Option<String>)> {
    let inputs = inputs_digest(wh, sql, filter, params, out)?;
    let states = wh.output_states()?;
    let fingerprint = |o: &SqlOutput| {
        format!(
            "{:016x}",
            xxh3_64(format!("{inputs:016x}\0{}", o.sql).as_bytes())
        )
    };
    let fresh = |o: &SqlOutput| -> Option<u64> {
        let (stored, rows) = states.get(&o.name)?;
        (*stored == fingerprint(o) && export::paths(out, &o.name).iter().all(|f| f.is_file()))
            .then_some(*rows)
    };
    let own_key = format!("{inputs:016x}");
    let cached_site = wh.own_site(&own_key)?;
    if let Some(site) = cached_site.clone()
        && sql.outputs.iter().all(|o| fresh(o).is_some())
    {
        let unchanged = sql
            .outputs
            .iter()
            .map(|o| unchanged(o, fresh(o).unwrap_or_default(), out))
            .collect();
        return Ok((unchanged, site));
    }
    prepare()?;
    let site = super::detect_own_site(wh.connection(), &sql.lib, filter)?;
    // Best effort: without the record the next run just looks again.
    let _ = wh.set_own_site(&own_key, site.as_deref());
    let stale: Vec<&SqlOutput> = sql.outputs.iter().filter(|o| fresh(o).is_none()).collect();
    // The outputs are small queries, each mostly waiting on one core: they are made on two
    // connections at once (one more, set up as the run's), in the order of the list.
    let mut site_filter = filter.clone();
    site_filter.site_hosts.extend(site.clone());
    let second = (stale.len() >= 4)
        .then(|| second_connection(wh, sql, &site_filter, params))
        .flatten();
    let mut made_now: HashMap<String, OutputSummary> = std::thread::scope(|scope| {
        let helper = second.map(|conn| {
            let odd: Vec<&SqlOutput> = stale.iter().skip(1).step_by(2).copied().collect();
            scope.spawn(move || {
                odd.into_iter()
                    .map(|o| make_output(&conn, o, out))
                    .collect::<Vec<_>>()
            })
        });
        let step = if helper.is_some() { 2 } else { 1 };
        let mut made: Vec<OutputSummary> = stale
            .iter()
            .step_by(step)
            .map(|o| make_output(wh.connection(), o, out))
            .collect();
        if let Some(h) = helper {
            made.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
        }
        made.into_iter().map(|m| (m.name.clone(), m)).collect()
    });
    let mut states = Vec::new();
    let made = sql
        .outputs
        .iter()
        .map(|o| match made_now.remove(&o.name) {
            None => unchanged(o, fresh(o).unwrap_or_default(), out),
            Some(made) => {
                if made.error.is_none() {
                    states.push((o.name.clone(), fingerprint(o), made.rows));
                }
                made
            }
        })
        .collect();
    // Best effort: without the records the next run just writes the files again.
    let _ = wh.set_output_states(&states);
    Ok((made, site))
}

/// An output whose files are already what it would write.
fn unchanged(output: &SqlOutput, rows: u64, out: &Path) -> OutputSummary {
    OutputSummary {
        name: output.name.clone(),
        rows,
        files: export::paths(out, &output.name)
            .iter()
            .map(|f| f.display().to_string())
            .collect(),
        unchanged: true,
        ..Default::default()
    }
}

/// Another connection to the warehouse with the run's variables and macros; None (the
/// outputs are then made on one) if it cannot be had.
fn second_connection(
    wh: &Warehouse,
    sql: &SqlSet,
    filter: &OutputFilter,
    params: &RollupParams,
) -> Option<Connection> {
    let conn = wh.connection().try_clone().ok()?;
    super::prepare(&conn, &sql.lib, filter, params).ok()?;
    Some(conn)
}

/// Materialise and export one output.
fn make_output(conn: &Connection, output: &SqlOutput, out: &Path) -> OutputSummary {
    let started = std::time::Instant::now();
    let mut s = OutputSummary {
        name: output.name.clone(),
        ..Default::default()
    };
    let result = materialize(conn, output).and_then(|rows| {
        s.rows = rows;
        export::write(conn, OUTPUT_TABLE, out, &output.name)
    });
    match result {
        Ok(files) => {
            s.files = files.iter().map(|f| f.display().to_string()).collect();
        }
        Err(e) => {
            s.error_kind = Some(e.kind);
            s.error = Some(e.message);
        }
    }
    s.ms = started.elapsed().as_millis() as u64;
    s
}
