//! `weblog report`: `<out>/report.html`, one self-contained page (inline CSS and SVG, no
//! script, nothing fetched) drawn from the Parquet outputs of the last run. The warehouse is
//! never opened (a run may hold its lock): an in-memory DuckDB reads the Parquet files.
//! The page is written with maud's `html!`, which escapes every value spliced into it, so a
//! string that came from a log is text wherever it lands, with no call to remember; such
//! strings are spliced as [`html::Text`], which also makes control characters visible.

mod cards;
mod html;
mod svg;
mod visits;

use std::path::{Path, PathBuf};

use duckdb::Connection;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::error::{Error, ErrorKind, Result, one_line};

use cards::Daily;
use html::{Text, group};

/// The built-in outputs, in the order their tables are shown; others follow by name.
const KNOWN: &[&str] = &[
    "daily_visitors",
    "visits",
    "visit_durations",
    "entry_pages",
    "exit_pages",
    "campaigns",
    "search_engines",
    "browser_counts",
    "browser_counts_simple",
    "top_pages",
    "static_files",
    "status_codes",
    "countries",
    "countries_daily",
    "bots",
    "referrers",
    "not_found",
    "hourly_traffic",
    "daily_bandwidth",
    "operating_systems",
    "devices",
    "weekdays",
    "vhosts",
    "hosts",
    "response_times",
    "slow_pages",
];

/// Rows read per output: all of the per-day and per-hour ones (charts), a table's worth of
/// the rest (they are sorted, so the charts' top ten are among them).
const SERIES_ROWS: usize = 100_000;

/// Write `<out_dir>/report.html` from the output files in `out_dir`; returns its path.
pub fn write(out_dir: &Path) -> Result<PathBuf> {
    let names = output_names(out_dir)?;
    let conn = Connection::open_in_memory()
        .and_then(|c| crate::sql_text::pin_utc(&c).map(|()| c))
        .map_err(|e| {
            Error::new(
                ErrorKind::Failed,
                format!("cannot start DuckDB: {}", one_line(&e.to_string())),
            )
        })?;
    let mut outputs = Vec::new();
    let mut notices = Vec::new();
    for name in names {
        let path = out_dir.join(format!("{name}.parquet"));
        let limit = if is_series(&name) {
            SERIES_ROWS
        } else {
            html::TABLE_ROWS
        };
        match read_output(&conn, &name, &path, limit) {
            Ok(o) => outputs.push(o),
            Err(e) => notices.push(format!("{name}: {e}")),
        }
    }
    if outputs.is_empty() {
        return Err(Error::new(
            ErrorKind::Data,
            format!(
                "no readable outputs in {}: {}",
                out_dir.display(),
                notices.join("; ")
            ),
        ));
    }
    let page = render(&outputs, &notices, out_dir).into_string();
    let target = out_dir.join("report.html");
    crate::export::write_bytes_atomically(&target, page.as_bytes())?;
    Ok(target)
}

fn no_outputs(dir: &Path) -> Error {
    Error::new(
        ErrorKind::NoInput,
        format!("no outputs in {}: run `weblog run` first", dir.display()),
    )
}

/// Output names (`<name>.parquet` in `dir`): the built-in ones in their order, then others.
fn output_names(dir: &Path) -> Result<Vec<String>> {
    let entries = std::fs::read_dir(dir).map_err(|_| no_outputs(dir))?;
    let mut found: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().is_file())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stem = name.strip_suffix(".parquet")?;
            (!stem.is_empty() && !stem.starts_with('.')).then(|| stem.to_string())
        })
        .collect();
    if found.is_empty() {
        return Err(no_outputs(dir));
    }
    found.sort_by_key(|n| {
        (
            KNOWN.iter().position(|k| k == n).unwrap_or(KNOWN.len()),
            n.clone(),
        )
    });
    Ok(found)
}

fn is_series(name: &str) -> bool {
    matches!(
        name,
        "daily_visitors"
            | "daily_bandwidth"
            | "hourly_traffic"
            | "visits"
            | "visit_durations"
            | "weekdays"
            | "vhosts"
            | "hosts"
            | "response_times"
    )
}

struct Column {
    name: String,
    numeric: bool,
    integer: bool,
}

/// One output read back: its columns, its first rows as text (NULL as `None`), its size.
struct Output {
    name: String,
    columns: Vec<Column>,
    rows: Vec<Vec<Option<String>>>,
    total: u64,
}

impl Output {
    fn col(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    fn text(&self, row: usize, col: usize) -> Option<&str> {
        self.rows.get(row)?.get(col)?.as_deref()
    }

    fn num(&self, row: usize, col: usize) -> f64 {
        self.text(row, col)
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| v.is_finite())
            .unwrap_or(0.0)
    }

    /// A numeric column's values (NULL as 0), if the output has it.
    fn series(&self, name: &str) -> Option<Vec<f64>> {
        let c = self.col(name).filter(|c| self.columns[*c].numeric)?;
        Some((0..self.rows.len()).map(|r| self.num(r, c)).collect())
    }

    /// A text column's values (NULL as `null`).
    fn labels(&self, name: &str, null: &str) -> Option<Vec<String>> {
        let c = self.col(name)?;
        Some(
            (0..self.rows.len())
                .map(|r| self.text(r, c).unwrap_or(null).to_string())
                .collect(),
        )
    }
}

fn read_output(conn: &Connection, name: &str, path: &Path, limit: usize) -> Result<Output> {
    let p = crate::export::preview(conn, path, limit)?;
    let columns = p
        .columns
        .into_iter()
        .map(|(name, ty)| {
            let integer = ["TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"]
                .iter()
                .any(|t| ty == *t || ty == format!("U{t}"));
            let numeric = integer
                || ["FLOAT", "DOUBLE", "REAL"].contains(&ty.as_str())
                || ty.starts_with("DECIMAL");
            Column {
                name,
                numeric,
                integer,
            }
        })
        .collect();
    Ok(Output {
        name: name.to_string(),
        columns,
        rows: p.rows,
        total: p.total,
    })
}

fn render(outputs: &[Output], notices: &[String], out_dir: &Path) -> Markup {
    let get = |name: &str| outputs.iter().find(|o| o.name == name);
    let daily = get("daily_visitors").and_then(Daily::from);
    let range = daily
        .as_ref()
        .map(|d| d.days.clone())
        .or_else(|| get("daily_bandwidth").and_then(|o| o.labels("day", "?")))
        .filter(|days| !days.is_empty())
        .map(|days| (days[0].clone(), days[days.len() - 1].clone(), days.len()));
    let range_text = match &range {
        Some((a, b, _)) if a == b => a.clone(),
        Some((a, b, _)) => format!("{a} – {b}"),
        None => "all data".into(),
    };
    let generated = chrono::Local::now()
        .format("%Y-%m-%d %H:%M:%S %:z")
        .to_string();
    html! {
        (DOCTYPE) "\n"
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Web traffic report · " (Text(&range_text)) }
                // The program's own constant style sheet: nothing from the data is in it.
                style { (PreEscaped(html::CSS)) }
            }
            body {
                // Header: what and when.
                header class="top" { div class="wrap brand" {
                    div {
                        p class="eyebrow" { "weblog · access-log report" }
                        h1 { "Web traffic report" }
                        @match &range {
                            Some((a, b, n)) => p class="range" id="range" {
                                strong { (Text(a)) } " → " strong { (Text(b)) } " · "
                                (group(*n as i64)) " " (if *n == 1 { "day" } else { "days" })
                            },
                            None => p class="range" id="range" {
                                "Date range unknown (no daily output)"
                            },
                        }
                    }
                    div class="stamp" { (outputs.len()) " outputs" br; "generated " (generated) }
                } }
                main class="wrap" {
                    (cards::kpis(daily.as_ref(), get("status_codes")))
                    @if let Some(v) = visits::kpis(get("visits")) { (v) }
                    @for n in notices { div class="notice" { (Text(n)) } }
                    (cards::grid(daily.as_ref(), &get))
                    h2 class="section" { "Outputs" }
                    p class="section-note" {
                        "The first " (html::TABLE_ROWS) " rows of each output; the full data is in \
                         the Parquet and CSV files next to this page."
                    }
                    section class="tables" { @for o in outputs { (html::table_card(o)) } }
                }
                footer class="wrap foot" {
                    "Generated by weblog " (env!("CARGO_PKG_VERSION")) " on "
                    span id="generated" { (generated) }
                    " from " (Text(&out_dir.display().to_string())) " (" (outputs.len())
                    " outputs). Self-contained page: no scripts, nothing loaded from the network."
                }
            }
        }
        "\n"
    }
}
