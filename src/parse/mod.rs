//! Stage 2: complete lines (bytes) → a typed Polars frame of log rows + a frame of rejects.

pub mod line;
mod raw_lines;

use std::sync::Arc;

use memchr::memchr_iter;
use polars::prelude::*;

use crate::enrich::Enricher;
use crate::source::Chunk;
pub use line::{LogLine, MAX_LINE_BYTES, Reject, parse_line};
use raw_lines::RawLines;

/// How much of a rejected line is kept in `rejects`: enough to diagnose, bounded in size.
pub const REJECT_KEEP_BYTES: usize = 64 * 1024;

/// What one batch of chunks parsed into.
pub struct ParsedBatch {
    /// One row per well-formed line, columns as the `logs` table (see `load/schema.sql`).
    pub logs: DataFrame,
    /// One row per line set aside: source_file, source_offset, raw_line, reason, ingested_at.
    pub rejects: DataFrame,
    /// Smallest and largest `time_local` (µs UTC) in `logs`; None when it is empty.
    pub time_range: Option<(i64, i64)>,
    /// Per source file: (lines parsed, lines rejected). Parsed lines include those dropped as
    /// repeats of a line earlier in the batch.
    pub per_file: Vec<(Arc<str>, u64, u64)>,
    /// The `ingested_at` of every row (µs UTC): one value per batch, so it identifies it.
    pub ingested_at_us: i64,
}

/// Accumulates parsed lines column by column, straight into Polars builders. A line that
/// repeats one already in the batch is counted but not added (the warehouse stores each
/// distinct line once).
pub struct FrameBuilder {
    raw_log: RawLines,
    remote_addr: StringChunkedBuilder,
    remote_user: StringChunkedBuilder,
    time_local: Vec<i64>,
    day: Vec<i32>,
    request_method: StringChunkedBuilder,
    request_path: StringChunkedBuilder,
    request_protocol: StringChunkedBuilder,
    status: PrimitiveChunkedBuilder<Int32Type>,
    body_bytes_sent: PrimitiveChunkedBuilder<Int64Type>,
    http_referer: StringChunkedBuilder,
    http_user_agent: StringChunkedBuilder,
    source_file: StringChunkedBuilder,
    source_offset: Vec<i64>,
    enriched: EnrichedColumns,
    rejects: RejectBuilder,
    per_file: Vec<(Arc<str>, u64, u64)>,
    time_range: Option<(i64, i64)>,
    bytes: usize,
}

/// Columns derived from a parsed row at ingest (see [`crate::enrich`]).
pub struct EnrichedColumns {
    browser_family: StringChunkedBuilder,
    browser_major: StringChunkedBuilder,
    os_family: StringChunkedBuilder,
    device_family: StringChunkedBuilder,
    is_bot: BooleanChunkedBuilder,
    country_code: StringChunkedBuilder,
}

impl EnrichedColumns {
    pub fn new(capacity: usize) -> Self {
        let s = |name: &str| StringChunkedBuilder::new(name.into(), capacity);
        EnrichedColumns {
            browser_family: s("browser_family"),
            browser_major: s("browser_major"),
            os_family: s("os_family"),
            device_family: s("device_family"),
            is_bot: BooleanChunkedBuilder::new("is_bot".into(), capacity),
            country_code: s("country_code"),
        }
    }

    pub fn push(&mut self, enricher: &mut Enricher, agent: Option<&str>, addr: Option<&str>) {
        let ua = enricher.agent(agent);
        self.browser_family.append_value(&ua.browser_family);
        self.browser_major
            .append_option(ua.browser_major.as_deref());
        self.os_family.append_value(&ua.os_family);
        self.device_family.append_value(&ua.device_family);
        self.is_bot.append_value(ua.is_bot);
        self.country_code
            .append_option(enricher.country(addr).as_deref());
    }

    pub fn finish(self) -> Vec<Column> {
        vec![
            self.browser_family.finish().into_column(),
            self.browser_major.finish().into_column(),
            self.os_family.finish().into_column(),
            self.device_family.finish().into_column(),
            self.is_bot.finish().into_column(),
            self.country_code.finish().into_column(),
        ]
    }
}

/// One row per distinct agent with its derived columns (to upgrade rows stored without them).
pub fn agent_frame(agents: &[Option<String>], enricher: &mut Enricher) -> PolarsResult<DataFrame> {
    let mut agent = StringChunkedBuilder::new("http_user_agent".into(), agents.len());
    let mut derived = EnrichedColumns::new(agents.len());
    for a in agents {
        agent.append_option(a.as_deref());
        derived.push(enricher, a.as_deref(), None);
    }
    let mut columns = vec![agent.finish().into_column()];
    // The country is per address, not per agent: leave it out of the frame.
    let mut enriched = derived.finish();
    enriched.pop();
    columns.extend(enriched);
    DataFrame::new(agents.len(), columns)
}

struct RejectBuilder {
    source_file: StringChunkedBuilder,
    source_offset: Vec<i64>,
    raw_line: StringChunkedBuilder,
    reason: StringChunkedBuilder,
}

impl FrameBuilder {
    pub fn new(capacity: usize) -> Self {
        let s = |name: &str| StringChunkedBuilder::new(name.into(), capacity);
        FrameBuilder {
            raw_log: RawLines::with_capacity(capacity),
            remote_addr: s("remote_addr"),
            remote_user: s("remote_user"),
            time_local: Vec::with_capacity(capacity),
            day: Vec::with_capacity(capacity),
            request_method: s("request_method"),
            request_path: s("request_path"),
            request_protocol: s("request_protocol"),
            status: PrimitiveChunkedBuilder::new("status".into(), capacity),
            body_bytes_sent: PrimitiveChunkedBuilder::new("body_bytes_sent".into(), capacity),
            http_referer: s("http_referer"),
            http_user_agent: s("http_user_agent"),
            source_file: s("source_file"),
            source_offset: Vec::with_capacity(capacity),
            enriched: EnrichedColumns::new(capacity),
            rejects: RejectBuilder {
                source_file: StringChunkedBuilder::new("source_file".into(), 16),
                source_offset: Vec::new(),
                raw_line: StringChunkedBuilder::new("raw_line".into(), 16),
                reason: StringChunkedBuilder::new("reason".into(), 16),
            },
            per_file: Vec::new(),
            time_range: None,
            bytes: 0,
        }
    }

    /// Bytes of input taken so far (the batch budget is counted in input bytes).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn is_empty(&self) -> bool {
        self.per_file.is_empty()
    }

    /// Parse every complete line of `chunk`.
    pub fn push_chunk(&mut self, chunk: &Chunk, enricher: &mut Enricher) {
        self.bytes += chunk.data.len();
        let mut ok = 0u64;
        let mut bad = 0u64;
        for skipped in &chunk.oversize {
            self.push_reject(
                &chunk.file,
                skipped.offset,
                &skipped.prefix,
                Reject::TooLong,
            );
            bad += 1;
        }
        let data = &chunk.data;
        let mut start = 0usize;
        for nl in memchr_iter(b'\n', data) {
            let offset = chunk.start + start as u64;
            let raw = &data[start..nl];
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            match parse_line(raw) {
                Ok(parsed) => {
                    // parse_line succeeded, so the bytes are UTF-8.
                    let raw = std::str::from_utf8(raw).expect("validated by parse_line");
                    ok += 1;
                    if !self.raw_log.insert(raw) {
                        start = nl + 1;
                        continue;
                    }
                    self.push_row(&parsed, &chunk.file, offset);
                    self.enriched.push(
                        enricher,
                        parsed.http_user_agent.as_deref(),
                        parsed.remote_addr,
                    );
                }
                Err(reason) => {
                    self.push_reject(&chunk.file, offset, raw, reason);
                    bad += 1;
                }
            }
            start = nl + 1;
        }
        debug_assert_eq!(start, data.len(), "chunks hold complete lines only");
        match self.per_file.last_mut() {
            Some((file, o, b)) if Arc::ptr_eq(file, &chunk.file) => {
                *o += ok;
                *b += bad;
            }
            _ => self.per_file.push((chunk.file.clone(), ok, bad)),
        }
    }

    fn push_row(&mut self, l: &LogLine<'_>, file: &str, offset: u64) {
        self.remote_addr.append_option(l.remote_addr);
        self.remote_user.append_option(l.remote_user);
        self.time_local.push(l.time.micros_utc);
        self.day.push(l.time.local_day);
        self.request_method
            .append_option(l.request_method.as_deref());
        self.request_path.append_option(l.request_path.as_deref());
        self.request_protocol
            .append_option(l.request_protocol.as_deref());
        self.status.append_option(l.status);
        self.body_bytes_sent.append_option(l.body_bytes_sent);
        self.http_referer.append_option(l.http_referer.as_deref());
        self.http_user_agent
            .append_option(l.http_user_agent.as_deref());
        self.source_file.append_value(file);
        self.source_offset.push(offset as i64);
        let t = l.time.micros_utc;
        self.time_range = Some(match self.time_range {
            None => (t, t),
            Some((lo, hi)) => (lo.min(t), hi.max(t)),
        });
    }

    fn push_reject(&mut self, file: &str, offset: u64, raw: &[u8], reason: Reject) {
        let kept = &raw[..raw.len().min(REJECT_KEEP_BYTES)];
        // DuckDB strings cannot carry NUL; the reason column says why the line was set aside.
        let text = String::from_utf8_lossy(kept).replace('\0', "\u{FFFD}");
        let r = &mut self.rejects;
        r.source_file.append_value(file);
        r.source_offset.push(offset as i64);
        r.raw_line.append_value(text);
        r.reason.append_value(reason.reason());
    }

    /// The batch's frames; every row and reject gets `ingested_at_us`.
    pub fn finish(self, ingested_at_us: i64) -> PolarsResult<ParsedBatch> {
        let n = self.time_local.len();
        debug_assert_eq!(n, self.raw_log.len());
        let ts = |name: &str, v: Vec<i64>| {
            Int64Chunked::from_vec(name.into(), v)
                .into_datetime(TimeUnit::Microseconds, None)
                .into_column()
        };
        let mut columns = vec![
            self.raw_log.finish("raw_log"),
            self.remote_addr.finish().into_column(),
            self.remote_user.finish().into_column(),
            ts("time_local", self.time_local),
            Int32Chunked::from_vec("day".into(), self.day)
                .into_date()
                .into_column(),
            self.request_method.finish().into_column(),
            self.request_path.finish().into_column(),
            self.request_protocol.finish().into_column(),
            self.status.finish().into_column(),
            self.body_bytes_sent.finish().into_column(),
            self.http_referer.finish().into_column(),
            self.http_user_agent.finish().into_column(),
            self.source_file.finish().into_column(),
            Int64Chunked::from_vec("source_offset".into(), self.source_offset).into_column(),
            ts("ingested_at", vec![ingested_at_us; n]),
        ];
        columns.extend(self.enriched.finish());
        let logs = DataFrame::new(n, columns)?;
        let r = self.rejects;
        let nr = r.source_offset.len();
        let rejects = DataFrame::new(
            nr,
            vec![
                r.source_file.finish().into_column(),
                Int64Chunked::from_vec("source_offset".into(), r.source_offset).into_column(),
                r.raw_line.finish().into_column(),
                r.reason.finish().into_column(),
                ts("ingested_at", vec![ingested_at_us; nr]),
            ],
        )?;
        Ok(ParsedBatch {
            logs,
            rejects,
            time_range: self.time_range,
            per_file: self.per_file,
            ingested_at_us,
        })
    }
}

#[cfg(test)]
mod tests;
