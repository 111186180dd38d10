//! Making the outputs (`sql/<name>.sql`), each materialised and exported, unless the files an
//! earlier run wrote are still exactly what it would write: a run that found nothing new
//! rewrites nothing.

use std::path::Path;

use xxhash_rust::xxh3::xxh3_64;

use super::{OUTPUT_TABLE, OutputFilter, RollupParams, SqlOutput, SqlSet, materialize};
use crate::error::Result;
use crate::export;
use crate::load::Warehouse;
use crate::summary::OutputSummary;

/// A digest of everything an output depends on besides its own SQL: the stored data (its
/// version moves with every commit), the rollups' and shared SQL, the filters and
/// parameters, the folder, weblog itself.
pub fn inputs_digest(
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

/// Materialise and export one output, unless it is already up to date.
pub fn make_output(wh: &Warehouse, output: &SqlOutput, out: &Path, inputs: u64) -> OutputSummary {
    let mut s = OutputSummary {
        name: output.name.clone(),
        ..Default::default()
    };
    let fingerprint = format!(
        "{:016x}",
        xxh3_64(format!("{inputs:016x}\0{}", output.sql).as_bytes())
    );
    let files = export::paths(out, &output.name);
    if let Some(rows) = wh.output_state(&output.name, &fingerprint)
        && files.iter().all(|f| f.is_file())
    {
        s.rows = rows;
        s.files = files.iter().map(|f| f.display().to_string()).collect();
        s.unchanged = true;
        return s;
    }
    let result = materialize(wh.connection(), output).and_then(|rows| {
        s.rows = rows;
        export::write(wh.connection(), OUTPUT_TABLE, out, &output.name)
    });
    match result {
        Ok(files) => {
            s.files = files.iter().map(|f| f.display().to_string()).collect();
            // Best effort: without the record the next run just writes the files again.
            let _ = wh.set_output_state(&output.name, &fingerprint, s.rows);
        }
        Err(e) => {
            s.error_kind = Some(e.kind);
            s.error = Some(e.message);
        }
    }
    s
}
