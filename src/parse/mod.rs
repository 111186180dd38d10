//! Stage 2: complete lines (bytes) → a typed Polars frame of log rows + a frame of rejects.

pub mod line;
mod raw_lines;
mod views;

use std::sync::Arc;

use memchr::memchr_iter;
use polars::prelude::*;

use crate::enrich::Enricher;
use crate::source::Chunk;
pub use line::{LogLine, MAX_LINE_BYTES, Reject, parse_line};
use raw_lines::RawLines;
use views::{Buffers, ChunkViews, ViewColumn};

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

/// Accumulates parsed lines column by column: text fields as views into the input chunks
/// (see [`views`]), numbers into vectors. A line that repeats one already in the batch is
/// counted but not added (the warehouse stores each distinct line once).
pub struct FrameBuilder {
    buffers: Buffers,
    raw_log: RawLines,
    remote_addr: ViewColumn,
    remote_user: ViewColumn,
    time_local: Vec<i64>,
    day: Vec<i32>,
    request_method: ViewColumn,
    request_path: ViewColumn,
    request_protocol: ViewColumn,
    status: PrimitiveChunkedBuilder<Int32Type>,
    body_bytes_sent: PrimitiveChunkedBuilder<Int64Type>,
    http_referer: ViewColumn,
    http_user_agent: ViewColumn,
    source_file: ViewColumn,
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
        let v = |name: &'static str| ViewColumn::new(name, capacity);
        FrameBuilder {
            buffers: Buffers::default(),
            raw_log: RawLines::new(capacity),
            remote_addr: v("remote_addr"),
            remote_user: v("remote_user"),
            time_local: Vec::with_capacity(capacity),
            day: Vec::with_capacity(capacity),
            request_method: v("request_method"),
            request_path: v("request_path"),
            request_protocol: v("request_protocol"),
            status: PrimitiveChunkedBuilder::new("status".into(), capacity),
            body_bytes_sent: PrimitiveChunkedBuilder::new("body_bytes_sent".into(), capacity),
            http_referer: v("http_referer"),
            http_user_agent: v("http_user_agent"),
            source_file: v("source_file"),
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

    /// Parse every complete line of `chunk`, keeping its bytes for the batch's text columns.
    pub fn push_chunk(&mut self, chunk: Chunk, enricher: &mut Enricher) {
        let Chunk {
            file,
            start: chunk_start,
            data,
            oversize,
            ..
        } = chunk;
        self.bytes += data.len();
        let mut ok = 0u64;
        let mut bad = 0u64;
        for skipped in &oversize {
            self.push_reject(&file, skipped.offset, &skipped.prefix, Reject::TooLong);
            bad += 1;
        }
        let mut cv = self.buffers.begin_chunk(data);
        let bytes = cv.data();
        let file_view = cv.of_owned(&file);
        let mut start = 0usize;
        for nl in memchr_iter(b'\n', &bytes) {
            let offset = chunk_start + start as u64;
            let raw = &bytes[start..nl];
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            start = nl + 1;
            match parse_line(raw) {
                Ok(parsed) => {
                    ok += 1;
                    // parse_line succeeded, so the bytes are UTF-8.
                    let raw = std::str::from_utf8(raw).expect("validated by parse_line");
                    if !self.raw_log.insert(raw, cv.of_input(raw), &self.buffers) {
                        continue;
                    }
                    self.push_row(&parsed, &mut cv, file_view, offset);
                    self.enriched.push(
                        enricher,
                        parsed.http_user_agent.as_deref(),
                        parsed.remote_addr,
                    );
                }
                Err(reason) => {
                    self.push_reject(&file, offset, raw, reason);
                    bad += 1;
                }
            }
        }
        debug_assert_eq!(start, bytes.len(), "chunks hold complete lines only");
        self.buffers.end_chunk(cv);
        match self.per_file.last_mut() {
            Some((f, o, b)) if Arc::ptr_eq(f, &file) => {
                *o += ok;
                *b += bad;
            }
            _ => self.per_file.push((file, ok, bad)),
        }
    }

    fn push_row(
        &mut self,
        l: &LogLine<'_>,
        cv: &mut ChunkViews,
        file: polars_arrow::array::View,
        offset: u64,
    ) {
        self.remote_addr.push(l.remote_addr.map(|s| cv.of_input(s)));
        self.remote_user.push(l.remote_user.map(|s| cv.of_input(s)));
        self.time_local.push(l.time.micros_utc);
        self.day.push(l.time.local_day);
        self.request_method
            .push(l.request_method.as_ref().map(|f| cv.of_field(f)));
        self.request_path
            .push(l.request_path.as_ref().map(|f| cv.of_field(f)));
        self.request_protocol
            .push(l.request_protocol.as_ref().map(|f| cv.of_field(f)));
        self.status.append_option(l.status);
        self.body_bytes_sent.append_option(l.body_bytes_sent);
        self.http_referer
            .push(l.http_referer.as_ref().map(|f| cv.of_field(f)));
        self.http_user_agent
            .push(l.http_user_agent.as_ref().map(|f| cv.of_field(f)));
        self.source_file.push(Some(file));
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
        let buffers = self.buffers.finish();
        let ts = |name: &str, v: Vec<i64>| {
            Int64Chunked::from_vec(name.into(), v)
                .into_datetime(TimeUnit::Microseconds, None)
                .into_column()
        };
        let mut columns = vec![
            self.raw_log.finish(&buffers),
            self.remote_addr.finish(&buffers),
            self.remote_user.finish(&buffers),
            ts("time_local", self.time_local),
            Int32Chunked::from_vec("day".into(), self.day)
                .into_date()
                .into_column(),
            self.request_method.finish(&buffers),
            self.request_path.finish(&buffers),
            self.request_protocol.finish(&buffers),
            self.status.finish().into_column(),
            self.body_bytes_sent.finish().into_column(),
            self.http_referer.finish(&buffers),
            self.http_user_agent.finish(&buffers),
            self.source_file.finish(&buffers),
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
