//! The shared Parquet lake (`weblog run --lake DIR`): every committed row, exactly once,
//! as `DIR/logs/day=YYYY-MM-DD/host=NAME/part-<host>-<warehouse>-<seq>.parquet`, where `seq`
//! numbers the committed batches of the warehouse whose id is `<warehouse>`. A batch's files are each written under a `.`-prefixed name
//! (which Spark, Hive and Trino never list), synced, renamed into place, and only then is
//! the batch marked exported in the warehouse. A crash in between makes the next run write
//! the same rows to the same names again: each file is whole, and no row is in two files.
//! Then the finished days' files are compacted to one per (day, host) ([`super::lake_compact`],
//! with the reader rule that keeps every row read once while it happens).

use std::path::Path;

use serde::Serialize;

use super::write_bytes_atomically;
use crate::error::{Error, ErrorKind, Result, one_line};
use crate::load::Warehouse;
use crate::sql_text::string_literal;
use crate::summary::LakeSummary;

/// Bumped when the lake's columns or layout change incompatibly.
pub const LAKE_SCHEMA_VERSION: i64 = 1;

/// The lake's columns: the user-visible columns of `logs`, in portable types (timestamps
/// as UTC instants, no unsigned integers). `day` and `host` are the partition folders.
pub(super) const COLUMNS: &[(&str, &str, &str)] = &[
    ("raw_log", "raw_log", "string"),
    ("remote_addr", "remote_addr", "string"),
    ("client_addr", "client_addr", "string"),
    ("remote_user", "remote_user", "string"),
    ("time_local", "time_local", "timestamp_utc"),
    ("hour", "hour::INTEGER", "int32"),
    ("request_method", "request_method", "string"),
    ("request_path", "request_path", "string"),
    ("request_protocol", "request_protocol", "string"),
    ("status", "status", "int32"),
    ("body_bytes_sent", "body_bytes_sent", "int64"),
    ("http_referer", "http_referer", "string"),
    ("http_user_agent", "http_user_agent", "string"),
    ("vhost", "vhost", "string"),
    ("server_port", "server_port", "int32"),
    ("request_time", "request_time", "double"),
    ("upstream_response_time", "upstream_response_time", "double"),
    ("request_length", "request_length", "int64"),
    ("x_forwarded_for", "x_forwarded_for", "string"),
    ("ssl_protocol", "ssl_protocol", "string"),
    ("cache_status", "cache_status", "string"),
    ("source_file", "source_file", "string"),
    ("source_offset", "source_offset", "int64"),
    ("ingested_at", "ingested_at", "timestamp_utc"),
    ("browser_family", "browser_family", "string"),
    ("browser_major", "browser_major", "string"),
    ("os_family", "os_family", "string"),
    ("device_family", "device_family", "string"),
    ("is_bot", "is_bot", "boolean"),
    ("country_code", "country_code", "string"),
];

#[derive(Serialize)]
struct SchemaFile {
    schema_version: i64,
    partitioned_by: [&'static str; 2],
    /// Where each warehouse writing to the lake records itself ([`Writer`]).
    writers: &'static str,
    columns: Vec<SchemaColumn>,
}

/// The folder of writer records; `_`-prefixed, so Spark, Hive and Trino never list it.
const WRITERS: &str = "_weblog_writers";

/// `_weblog_writers/<warehouse id>.json`: which warehouse writes files with this id in their
/// names, and the last batch it marked exported. Written after the mark, so for the
/// warehouse itself it is never ahead of its mark: when it is, another warehouse with the
/// same id (a copy, or the warehouse before it was restored from a backup) wrote files this
/// one would overwrite with other rows.
#[derive(Serialize, serde::Deserialize)]
struct Writer {
    warehouse_id: String,
    home: String,
    exported_through: i64,
    updated_at: String,
}

#[derive(Serialize)]
struct SchemaColumn {
    name: &'static str,
    r#type: &'static str,
}

fn schema_json() -> String {
    let mut columns: Vec<SchemaColumn> = COLUMNS
        .iter()
        .map(|(name, _, ty)| SchemaColumn { name, r#type: ty })
        .collect();
    columns.push(SchemaColumn {
        name: "day",
        r#type: "date",
    });
    columns.push(SchemaColumn {
        name: "host",
        r#type: "string",
    });
    let file = SchemaFile {
        schema_version: LAKE_SCHEMA_VERSION,
        partitioned_by: ["day", "host"],
        writers: WRITERS,
        columns,
    };
    serde_json::to_string_pretty(&file).expect("serialises") + "\n"
}

/// The name a lake is recorded under: its absolute path.
pub fn lake_key(lake: &Path) -> String {
    std::fs::canonicalize(lake)
        .unwrap_or_else(|_| lake.to_path_buf())
        .display()
        .to_string()
}

fn io(what: String) -> impl Fn(std::io::Error) -> Error {
    move |e| Error::new(ErrorKind::Io, format!("{what}: {e}"))
}

/// Append every committed batch the lake does not hold yet (all of them for a new lake). A
/// failure stops the export where it is (the rows stay in the warehouse and the next run
/// goes on from there) and is reported in the summary.
pub fn export(wh: &Warehouse, lake: &Path) -> LakeSummary {
    let mut summary = LakeSummary {
        lake: lake_key(lake),
        ..Default::default()
    };
    if let Err(e) = export_batches(wh, lake, &mut summary) {
        summary.error = Some(e.message);
    }
    summary
}

fn export_batches(wh: &Warehouse, lake: &Path, summary: &mut LakeSummary) -> Result<()> {
    let logs = lake.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| {
        Error::new(
            ErrorKind::CantCreate,
            format!("cannot create lake folder {}: {e}", logs.display()),
        )
    })?;
    check_schema(lake)?;
    remove_stale_temp_dirs(lake);
    let key = lake_key(lake);
    summary.lake = key.clone();
    summary.mark = wh.lake_mark(&key)?;
    let (warehouse, previous) = wh.warehouse_id()?;
    if let Some(previous) = previous {
        summary.warnings.push(format!(
            "this warehouse was copied or moved ({}): its lake files are now named with the new id {warehouse} (was {previous})",
            wh.path().display()
        ));
    }
    let home = wh.home();
    let record = lake.join(WRITERS).join(format!("{warehouse}.json"));
    check_writer(&record, &warehouse, summary.mark, lake)?;
    let select: Vec<String> = COLUMNS
        .iter()
        .map(|(name, expr, _)| format!("{expr} AS {name}"))
        .chain(["day".to_string(), "host".to_string()])
        .collect();
    for seq in wh.batches_after(summary.mark)? {
        let batch = format!("batch_id = {seq}");
        let mut written = 0;
        // One plain COPY per (day, host) of the batch, not one COPY … PARTITION_BY sorted by
        // file and offset: half the time (bench/NOTES.md), and each partition's file is whole
        // and named for its batch. Rows keep their insertion order, so a rewrite after a
        // crash holds the same rows in the same order.
        for (day, host) in partitions(wh, &batch, seq, lake)? {
            let target_dir = logs
                .join(format!("day={day}"))
                .join(format!("host={}", partition_value(&host)));
            std::fs::create_dir_all(&target_dir)
                .map_err(io(format!("cannot create {}", target_dir.display())))?;
            // A temporary file a killed export left here is for this same batch.
            super::remove_stale_temp_files(&target_dir);
            let host_part = partition_value(&host);
            // Written before warehouse ids (weblog before 2026-12-03), not yet marked: this
            // warehouse's own, about to be written again under its new name.
            let legacy = target_dir.join(format!("part-{host_part}-{seq}.parquet"));
            if legacy.exists() {
                std::fs::remove_file(&legacy)
                    .map_err(io(format!("cannot remove {}", legacy.display())))?;
            }
            let target = target_dir.join(format!("part-{host_part}-{warehouse}-{seq}.parquet"));
            super::write_atomically(&target, |tmp| {
                let sql = format!(
                    "COPY (SELECT {} FROM logs WHERE {batch} AND day = {} AND host IS NOT DISTINCT FROM {})
                     TO {} (FORMAT parquet, COMPRESSION zstd,
                            KV_METADATA {{weblog_warehouse_id: {}, weblog_batch_id: '{seq}'}})",
                    select.join(", "),
                    string_literal(&day),
                    host.as_deref().map_or("NULL".to_string(), string_literal),
                    string_literal(&tmp.to_string_lossy()),
                    string_literal(&warehouse),
                );
                wh.connection()
                    .execute_batch(&sql)
                    .map_err(batch_error(seq, lake))
            })?;
            written += 1;
        }
        crate::failpoint::hit("lake-after-rename");
        wh.set_lake_mark(&key, seq)?;
        write_writer(&record, &warehouse, &home, seq)?;
        summary.mark = seq;
        summary.batches += 1;
        summary.files += written;
        summary.rows += wh.batch_rows(seq)?;
    }
    // Finished days: one file per (day, host) of this warehouse (lake_compact.rs).
    let compacted = super::lake_compact::compact(wh, lake, &warehouse, summary.mark)?;
    if compacted.written + compacted.removed > 0 {
        tracing::info!(
            written = compacted.written,
            removed = compacted.removed,
            "lake: finished days compacted"
        );
    }
    Ok(())
}

fn batch_error(seq: i64, lake: &Path) -> impl Fn(duckdb::Error) -> Error + '_ {
    move |e| {
        Error::new(
            ErrorKind::Io,
            format!(
                "cannot write batch {seq} to the lake {}: {}",
                lake.display(),
                one_line(&e.to_string())
            ),
        )
    }
}

/// The (day, host) partitions a batch's rows fall in.
fn partitions(
    wh: &Warehouse,
    batch: &str,
    seq: i64,
    lake: &Path,
) -> Result<Vec<(String, Option<String>)>> {
    let fail = batch_error(seq, lake);
    let mut stmt = wh
        .connection()
        .prepare(&format!(
            "SELECT DISTINCT day::VARCHAR, host FROM log_rows WHERE {batch} ORDER BY ALL"
        ))
        .map_err(&fail)?;
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .and_then(|rows| rows.collect())
        .map_err(&fail)
}

/// A host name as a Hive partition folder writes it (DuckDB's PARTITION_BY did the same):
/// characters that cannot be in a path segment are percent-encoded, NULL is Hive's default.
fn partition_value(host: &Option<String>) -> String {
    let Some(host) = host else {
        return "__HIVE_DEFAULT_PARTITION__".to_string();
    };
    let mut out = String::with_capacity(host.len());
    for b in host.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Write `_weblog_schema.json` if the lake has none; refuse a lake of another schema.
fn check_schema(lake: &Path) -> Result<()> {
    let path = lake.join("_weblog_schema.json");
    let wanted = schema_json();
    match std::fs::read_to_string(&path) {
        Ok(text) if text == wanted => Ok(()),
        Ok(text) => {
            let version = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["schema_version"].as_i64());
            match version {
                Some(v) if v == LAKE_SCHEMA_VERSION => {
                    write_bytes_atomically(&path, wanted.as_bytes())
                }
                Some(v) => Err(Error::new(
                    ErrorKind::Data,
                    format!(
                        "lake {} has schema version {v}; this weblog writes version {LAKE_SCHEMA_VERSION}",
                        lake.display()
                    ),
                )),
                None => Err(Error::new(
                    ErrorKind::Data,
                    format!(
                        "lake {} has an unreadable {}",
                        lake.display(),
                        path.display()
                    ),
                )),
            }
        }
        Err(_) => write_bytes_atomically(&path, wanted.as_bytes()),
    }
}

/// Refuse to write to a lake where files of this warehouse's id go beyond its mark.
fn check_writer(record: &Path, warehouse: &str, mark: i64, lake: &Path) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(record) else {
        return Ok(()); // the first export of this warehouse to this lake
    };
    let writer: Writer = serde_json::from_str(&text).map_err(|e| {
        Error::new(
            ErrorKind::Data,
            format!(
                "lake {}: unreadable {}: {e}",
                lake.display(),
                record.display()
            ),
        )
    })?;
    if writer.exported_through <= mark {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Data,
        format!(
            "lake {} holds batches {}..{} of warehouse id {warehouse}, which this warehouse never wrote              (it is a copy of another, or restored from a backup); nothing was written so that no file is              overwritten. A copy: give its machine its own /etc/machine-id or move the database to another              path (a warehouse in a new home takes a new id). Restored: move the lake's part-*-{warehouse}-<batch>              files of those batches and {} away, then run again",
            lake.display(),
            mark + 1,
            writer.exported_through,
            record.display()
        ),
    ))
}

fn write_writer(record: &Path, warehouse: &str, home: &str, seq: i64) -> Result<()> {
    if let Some(dir) = record.parent() {
        std::fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
    }
    let writer = Writer {
        warehouse_id: warehouse.to_string(),
        home: home.to_string(),
        exported_through: seq,
        updated_at: chrono::Utc::now().to_rfc3339(),
    };
    let text = serde_json::to_string_pretty(&writer).expect("serialises") + "\n";
    write_bytes_atomically(record, text.as_bytes())
}

/// Remove the temporary folders that exports of earlier weblog versions left when killed.
fn remove_stale_temp_dirs(lake: &Path) {
    let Ok(entries) = std::fs::read_dir(lake) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(".weblog-")
            .and_then(|n| n.rsplit_once('-'))
            .map(|(_, p)| p.to_string())
        else {
            continue;
        };
        if super::writer_gone(&pid) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
