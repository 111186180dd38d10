//! `weblog sql`: one query against the warehouse, opened read-only, with each output file
//! in the out folder visible as a view of its name (`daily_visitors`, `browser_counts`, …);
//! while a run holds the warehouse, against the output files alone.

use std::fmt::Write as _;
use std::path::Path;

use duckdb::types::{TimeUnit, Value};

use crate::error::{Error, ErrorKind, Result, one_line};
use crate::load::Warehouse;
use crate::report::{escape, format_table};
use crate::sql_text::string_literal;

pub enum Format {
    /// Aligned text, at most this many rows.
    Table(usize),
    Csv,
    Json,
}

pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    /// Said on stderr: the warehouse was busy and only the outputs were queried.
    pub notice: Option<String>,
}

pub fn run(db: &Path, out: &Path, sql: &str) -> Result<QueryResult> {
    // While a run writes, DuckDB lets no one else open the warehouse; the outputs, replaced
    // by rename, can always be read: answer from them rather than fail.
    let mut notice = None;
    let wh = match Warehouse::open_read_only(db) {
        Err(e) if e.kind == ErrorKind::TempFail && !output_files(out).is_empty() => {
            notice = Some(format!(
                "{}; answering from the outputs in {} only (the warehouse's tables are not there)",
                e.message,
                out.display()
            ));
            Warehouse::open_in_memory()?
        }
        other => other?,
    };
    let conn = wh.connection();
    // A temp view would shadow a warehouse table of the same name (temp comes first in
    // DuckDB's search path): an output named like a table (`logs`, say) gets no view.
    let tables: Vec<String> = conn
        .prepare(
            "SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views()",
        )
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| Error::new(ErrorKind::Data, one_line(&e.to_string())))?;
    for (name, parquet) in output_files(out) {
        if tables.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
            continue;
        }
        // Temporary: a read-only database gets no catalog changes.
        let _ = conn.execute_batch(&format!(
            "CREATE TEMP VIEW \"{name}\" AS SELECT * FROM read_parquet({})",
            string_literal(&parquet)
        ));
    }
    let fail = |e: duckdb::Error| {
        let msg = one_line(&e.to_string());
        match &notice {
            Some(n) => Error::new(ErrorKind::Sql, format!("{msg} (note: {n})")),
            None => Error::new(ErrorKind::Sql, msg),
        }
    };
    let mut stmt = conn.prepare(sql).map_err(fail)?;
    let mut rows_iter = stmt.query([]).map_err(fail)?;
    let mut rows = Vec::new();
    while let Some(row) = rows_iter.next().map_err(fail)? {
        let n = row.as_ref().column_count();
        rows.push(
            (0..n)
                .map(|i| row.get(i))
                .collect::<duckdb::Result<_>>()
                .map_err(fail)?,
        );
    }
    let columns = rows_iter
        .as_ref()
        .map(|s| s.column_names())
        .unwrap_or_default();
    Ok(QueryResult {
        columns,
        rows,
        notice,
    })
}

/// `<name>.parquet` files in `out`, by name.
fn output_files(out: &Path) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(out) else {
        return Vec::new();
    };
    let mut files: Vec<(String, String)> = entries
        .filter_map(|e| {
            let path = e.ok()?.path();
            if path.extension()? != "parquet" {
                return None;
            }
            let name = path.file_stem()?.to_str()?.to_string();
            let plain = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            plain.then(|| (name, path.display().to_string()))
        })
        .collect();
    files.sort();
    files
}

pub fn render(result: &QueryResult, format: &Format) -> String {
    match format {
        Format::Table(max_rows) => {
            let rows: Vec<Vec<String>> = result
                .rows
                .iter()
                .take(*max_rows)
                .map(|r| r.iter().map(|v| escape(&text(v))).collect())
                .collect();
            let header: Vec<String> = result.columns.iter().map(|c| escape(c)).collect();
            let mut out = format_table(&header, &rows);
            let total = result.rows.len();
            if total > rows.len() {
                let _ = writeln!(
                    out,
                    "({} of {total} rows shown; --max-rows N or --format csv for more)",
                    rows.len()
                );
            } else {
                let _ = writeln!(out, "({total} {})", if total == 1 { "row" } else { "rows" });
            }
            out
        }
        Format::Csv => {
            let mut out = String::new();
            let line = |cells: Vec<String>, out: &mut String| {
                let quoted: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
                out.push_str(&quoted.join(","));
                out.push('\n');
            };
            line(result.columns.clone(), &mut out);
            for r in &result.rows {
                line(
                    r.iter()
                        .map(|v| match v {
                            Value::Null => String::new(),
                            v => text(v),
                        })
                        .collect(),
                    &mut out,
                );
            }
            out
        }
        Format::Json => {
            let rows: Vec<serde_json::Value> = result
                .rows
                .iter()
                .map(|r| {
                    let object: serde_json::Map<String, serde_json::Value> = result
                        .columns
                        .iter()
                        .cloned()
                        .zip(r.iter().map(json))
                        .collect();
                    serde_json::Value::Object(object)
                })
                .collect();
            let mut out = serde_json::to_string_pretty(&rows).expect("JSON serialises");
            out.push('\n');
            out
        }
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn micros(unit: TimeUnit, v: i64) -> i64 {
    match unit {
        TimeUnit::Second => v.saturating_mul(1_000_000),
        TimeUnit::Millisecond => v.saturating_mul(1_000),
        TimeUnit::Microsecond => v,
        TimeUnit::Nanosecond => v / 1_000,
    }
}

/// A value as DuckDB's CLI would show it.
fn text(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Boolean(b) => b.to_string(),
        Value::TinyInt(n) => n.to_string(),
        Value::SmallInt(n) => n.to_string(),
        Value::Int(n) => n.to_string(),
        Value::BigInt(n) => n.to_string(),
        Value::HugeInt(n) => n.to_string(),
        Value::UHugeInt(n) => n.to_string(),
        Value::UTinyInt(n) => n.to_string(),
        Value::USmallInt(n) => n.to_string(),
        Value::UInt(n) => n.to_string(),
        Value::UBigInt(n) => n.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Double(f) => f.to_string(),
        Value::Decimal(d) => d.to_string(),
        Value::Timestamp(unit, t) => chrono::DateTime::from_timestamp_micros(micros(*unit, *t))
            .map_or_else(
                || t.to_string(),
                |d| d.format("%Y-%m-%d %H:%M:%S%.f").to_string(),
            ),
        Value::Date32(days) => chrono::NaiveDate::from_num_days_from_ce_opt(days + 719_163)
            .map_or_else(|| days.to_string(), |d| d.to_string()),
        Value::Time64(unit, t) => {
            let us = micros(*unit, *t);
            chrono::NaiveTime::from_num_seconds_from_midnight_opt(
                (us / 1_000_000) as u32,
                ((us % 1_000_000) * 1000) as u32,
            )
            .map_or_else(|| t.to_string(), |t| t.to_string())
        }
        Value::Text(s) | Value::Enum(s) => s.clone(),
        Value::Blob(b) | Value::Geometry(b) => format!("{} bytes", b.len()),
        Value::Interval {
            months,
            days,
            nanos,
        } => format!("{months} months {days} days {} us", nanos / 1000),
        Value::List(items) | Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(text).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Struct(_) => json(v).to_string(),
        other => format!("{other:?}"),
    }
}

fn json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Boolean(b) => J::Bool(*b),
        Value::TinyInt(n) => (*n).into(),
        Value::SmallInt(n) => (*n).into(),
        Value::Int(n) => (*n).into(),
        Value::BigInt(n) => (*n).into(),
        Value::UTinyInt(n) => (*n).into(),
        Value::USmallInt(n) => (*n).into(),
        Value::UInt(n) => (*n).into(),
        Value::UBigInt(n) => (*n).into(),
        Value::HugeInt(n) => i64::try_from(*n).map_or_else(|_| J::String(n.to_string()), J::from),
        Value::UHugeInt(n) => u64::try_from(*n).map_or_else(|_| J::String(n.to_string()), J::from),
        Value::Float(f) => serde_json::Number::from_f64(*f as f64).map_or(J::Null, J::Number),
        Value::Double(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::List(items) | Value::Array(items) => J::Array(items.iter().map(json).collect()),
        Value::Struct(fields) => {
            J::Object(fields.iter().map(|(k, v)| (k.clone(), json(v))).collect())
        }
        other => J::String(text(other)),
    }
}
