//! What a run prints: a short summary (or one JSON object for cron logs) and the main
//! output tables. Every string that came from a log is escaped before it reaches a
//! terminal, so a crafted log line cannot move the cursor or rewrite the screen.

use std::fmt::Write as _;
use std::path::Path;

use duckdb::Connection;

use crate::error::Result;
use crate::summary::RunSummary;

/// Outputs shown after a run, when they exist.
pub const SHOWN_OUTPUTS: [(&str, &str); 3] = [
    ("daily_visitors", "Daily visitors"),
    ("visits", "Visits"),
    ("browser_counts", "Browsers"),
];

pub fn summary_json(summary: &RunSummary) -> String {
    serde_json::to_string(summary).expect("summary serialises")
}

pub fn summary_text(s: &RunSummary) -> String {
    let mut out = String::new();
    for f in &s.files {
        let start = f.start.map(|r| r.as_str()).unwrap_or("empty");
        let format = f
            .format
            .as_deref()
            .map_or(String::new(), |n| format!(", {}", short(n)));
        let _ = write!(
            out,
            "{}: {} ({start} at {}{format}), {} lines, {} inserted, {} duplicates, {} rejected",
            escape(&shown_path(&f.path)),
            human_bytes(f.bytes_read),
            f.start_offset,
            f.lines_read,
            f.inserted,
            f.duplicates,
            f.rejected
        );
        if f.pruned_days > 0 {
            let _ = write!(
                out,
                " ({} of days already pruned: set aside)",
                f.pruned_days
            );
        }
        if f.skipped > 0 {
            let _ = write!(out, ", {} not requests", f.skipped);
        }
        for c in &f.format_changes {
            let _ = write!(
                out,
                "; format changed at {} from {} to {}",
                c.offset,
                short(&c.from),
                short(&c.to)
            );
        }
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
    if !s.rollups_rebuilt.is_empty() {
        let each: Vec<String> = s
            .rollups_rebuilt
            .iter()
            .map(|r| match &r.resumed_after {
                Some(day) => format!("{} ({} days, resumed after {day})", r.rollup, r.days),
                None => format!("{} ({} days)", r.rollup, r.days),
            })
            .collect();
        let _ = writeln!(out, "rollups built over all history: {}", each.join(", "));
    }
    if let Some(lake) = &s.lake {
        match &lake.error {
            None => {
                let _ = writeln!(
                    out,
                    "lake: {} batches ({} rows, {} files) written to {}, up to batch {}",
                    lake.batches,
                    lake.rows,
                    lake.files,
                    escape(&shown_path(&lake.lake)),
                    lake.mark
                );
            }
            Some(e) => {
                let _ = writeln!(out, "lake: error: {}", escape(e));
            }
        }
    }
    if let Some(host) = &s.site_host_detected {
        let _ = writeln!(
            out,
            "referrers: {} taken as the site's own host (it refers most requests; --site-host to set it)",
            escape(host)
        );
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

/// A format as shown in a line of text: a pasted format string cut short.
fn short(format: &str) -> String {
    let one_line = crate::error::one_line(format);
    if one_line.chars().count() > 40 {
        let cut: String = one_line.chars().take(37).collect();
        escape(&format!("{cut}…"))
    } else {
        escape(&one_line)
    }
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
    let p = crate::export::preview(conn, path, limit)?;
    let fractional: Vec<bool> = p
        .columns
        .iter()
        .map(|(_, ty)| matches!(ty.as_str(), "DOUBLE" | "FLOAT"))
        .collect();
    let header: Vec<String> = p.columns.into_iter().map(|(name, _)| name).collect();
    let rows: Vec<Vec<String>> = p
        .rows
        .iter()
        .map(|r| {
            r.iter()
                .zip(&fractional)
                .map(|(v, &fractional)| match v.as_deref() {
                    None => "NULL".into(),
                    Some(v) if fractional => v.parse().map_or_else(|_| escape(v), shown_float),
                    Some(v) => escape(v),
                })
                .collect()
        })
        .collect();
    let mut table = format_table(&header, &rows);
    if p.total as usize > rows.len() {
        let _ = writeln!(table, "({} of {} rows shown)", rows.len(), p.total);
    }
    Ok(table)
}

/// A fraction as a terminal table shows it: three significant digits below 1 (0.389, 0.00512),
/// two decimals up to 100, one above (the files keep every digit).
fn shown_float(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return v.to_string();
    }
    let decimals = match v.abs() {
        a if a >= 100.0 => 1,
        a if a >= 1.0 => 2,
        a => (2 - a.log10().floor() as i32).clamp(0, 12) as usize,
    };
    format!("{v:.decimals$}")
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

#[cfg(test)]
mod tests {
    use super::shown_float;

    #[test]
    fn fractions_are_shown_with_a_few_significant_digits() {
        assert_eq!(shown_float(0.3892307692307692), "0.389");
        assert_eq!(shown_float(0.005123), "0.00512");
        assert_eq!(shown_float(2.7753846153846156), "2.78");
        assert_eq!(shown_float(492.7938461538462), "492.8");
        assert_eq!(shown_float(175.5), "175.5");
        assert_eq!(shown_float(0.0), "0");
        assert_eq!(shown_float(-0.25), "-0.250");
    }
}
