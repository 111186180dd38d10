//! What a run prints: a short summary (or one JSON object for cron logs) and the main
//! output tables. Every string that came from a log is escaped before it reaches a
//! terminal, so a crafted log line cannot move the cursor or rewrite the screen.

use std::fmt::Write as _;
use std::path::Path;

use duckdb::Connection;

use crate::error::{Error, ErrorKind, Result};
use crate::export::sql_string;
use crate::pipeline::RunSummary;

/// Outputs shown after a run, when they exist.
pub const SHOWN_OUTPUTS: [(&str, &str); 2] = [
    ("daily_visitors", "Daily visitors"),
    ("browser_counts", "Browsers"),
];

pub fn summary_json(summary: &RunSummary) -> String {
    serde_json::to_string(summary).expect("summary serialises")
}

pub fn summary_text(s: &RunSummary) -> String {
    let mut out = String::new();
    for f in &s.files {
        let start = f.start.map(|r| r.as_str()).unwrap_or("empty");
        let _ = write!(
            out,
            "{}: {} ({start} at {}), {} lines, {} inserted, {} duplicates, {} rejected",
            escape(&shown_path(&f.path)),
            human_bytes(f.bytes_read),
            f.start_offset,
            f.lines_read,
            f.inserted,
            f.duplicates,
            f.rejected
        );
        if let Some(e) = &f.error {
            let _ = write!(out, " — error: {}", escape(e));
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "total: {} lines ({}) read, {} inserted, {} duplicates skipped, {} rejected in {:.2}s ({:.0} lines/s, {:.1} MB/s)",
        s.lines_read,
        human_bytes(s.bytes_read),
        s.inserted,
        s.duplicates,
        s.rejected,
        s.elapsed_ms as f64 / 1000.0,
        s.lines_per_sec,
        s.mb_per_sec
    );
    for o in &s.outputs {
        match &o.error {
            None => {}
            Some(e) => {
                let _ = writeln!(out, "output {}: error: {}", o.name, escape(e));
            }
        }
    }
    if let Some(credit) = &s.geoip_attribution {
        let _ = writeln!(out, "countries: {credit}");
    }
    let ok = s.outputs.iter().filter(|o| o.error.is_none()).count();
    let unchanged = s.outputs.iter().filter(|o| o.unchanged).count();
    if unchanged == ok && ok > 0 {
        let _ = writeln!(out, "outputs: {ok} up to date in {}", s.out_dir.display());
    } else {
        let _ = writeln!(out, "outputs: {ok} written to {}", s.out_dir.display());
    }
    out
}

/// The shown outputs as text tables, read back from their Parquet files.
pub fn output_tables(conn: &Connection, summary: &RunSummary) -> Result<String> {
    let mut out = String::new();
    for (name, title) in SHOWN_OUTPUTS {
        let Some(o) = summary
            .outputs
            .iter()
            .find(|o| o.name == name && o.error.is_none())
        else {
            continue;
        };
        let Some(parquet) = o.files.iter().find(|f| f.ends_with(".parquet")) else {
            continue;
        };
        let _ = writeln!(out, "\n{title}");
        out.push_str(&parquet_table(conn, Path::new(parquet), 20)?);
    }
    Ok(out)
}

/// Up to `limit` rows of a Parquet file as an aligned text table.
pub fn parquet_table(conn: &Connection, path: &Path, limit: usize) -> Result<String> {
    let fail = |e: duckdb::Error| {
        Error::new(
            ErrorKind::Io,
            format!("cannot read {}: {e}", path.display()),
        )
    };
    let source = format!("read_parquet({})", sql_string(&path.to_string_lossy()));
    let total: i64 = conn
        .query_row(&format!("SELECT count(*) FROM {source}"), [], |r| r.get(0))
        .map_err(fail)?;
    let mut stmt = conn
        .prepare(&format!(
            "SELECT COLUMNS(*)::VARCHAR FROM {source} LIMIT {limit}"
        ))
        .map_err(fail)?;
    let mut rows_iter = stmt.query([]).map_err(fail)?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    while let Some(row) = rows_iter.next().map_err(fail)? {
        let n = row.as_ref().column_count();
        let mut cells = Vec::with_capacity(n);
        for i in 0..n {
            let v: Option<String> = row.get(i).map_err(fail)?;
            cells.push(v.map(|v| escape(&v)).unwrap_or_else(|| "NULL".into()));
        }
        rows.push(cells);
    }
    let header: Vec<String> = rows_iter
        .as_ref()
        .map(|s| s.column_names())
        .unwrap_or_default();
    let mut table = format_table(&header, &rows);
    if total as usize > rows.len() {
        let _ = writeln!(table, "({} of {total} rows shown)", rows.len());
    }
    Ok(table)
}

pub fn format_table(header: &[String], rows: &[Vec<String>]) -> String {
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain(std::iter::once(header[i].chars().count()))
            .max()
            .unwrap_or(0)
            .min(60)
    };
    let widths: Vec<usize> = (0..header.len()).map(width).collect();
    let numeric: Vec<bool> = (0..header.len())
        .map(|i| !rows.is_empty() && rows.iter().all(|r| r[i].parse::<f64>().is_ok()))
        .collect();
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let c: String = c.chars().take(60).collect();
                if numeric[i] {
                    format!("{c:>w$}", w = widths[i])
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect();
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(header, &mut out);
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.push_str(&rule.join("  "));
    out.push('\n');
    for r in rows {
        line(r, &mut out);
    }
    out
}

/// Control characters (ESC, CR, BEL, …) shown as `\x1b`-style escapes.
pub fn escape(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// Paths under the working folder are shown relative to it, as the user typed them.
pub fn shown_path(path: &str) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| {
            Path::new(path)
                .strip_prefix(cwd)
                .ok()
                .map(|p| p.display().to_string())
        })
        .unwrap_or_else(|| path.to_string())
}

pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
