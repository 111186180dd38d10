//! The batch's frames, built column by column as lines are parsed: text fields as views into
//! the input chunks (see [`super::views`]), numbers into vectors, the derived columns from
//! the enricher. A line that repeats one already in the batch is counted but not added (the
//! warehouse stores each distinct line once); a reject likewise.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use memchr::memchr_iter;
use polars::prelude::*;
use polars_arrow::array::View;
use xxhash_rust::xxh3::xxh3_64;

use super::format::{LogLine, Parsed};
use super::raw_lines::RawLines;
use super::views::{Buffers, ChunkViews, ViewColumn};
use super::{FileContext, FileLines, ParsedBatch};
use crate::enrich::{AnonymizeIp, Enricher};
use crate::source::{Chunk, REJECT_KEEP_BYTES};

pub struct FrameBuilder {
    buffers: Buffers,
    raw_log: RawLines,
    remote_addr: ViewColumn,
    client_addr: ViewColumn,
    remote_user: ViewColumn,
    time_local: Vec<i64>,
    day: Vec<i32>,
    hour: Vec<i32>,
    request_method: ViewColumn,
    request_path: ViewColumn,
    request_protocol: ViewColumn,
    status: PrimitiveChunkedBuilder<Int32Type>,
    body_bytes_sent: PrimitiveChunkedBuilder<Int64Type>,
    http_referer: ViewColumn,
    http_user_agent: ViewColumn,
    vhost: ViewColumn,
    server_port: PrimitiveChunkedBuilder<Int32Type>,
    request_time: PrimitiveChunkedBuilder<Float64Type>,
    upstream_response_time: PrimitiveChunkedBuilder<Float64Type>,
    request_length: PrimitiveChunkedBuilder<Int64Type>,
    x_forwarded_for: ViewColumn,
    ssl_protocol: ViewColumn,
    cache_status: ViewColumn,
    host: ViewColumn,
    source_file: ViewColumn,
    source_offset: Vec<i64>,
    collected_at: PrimitiveChunkedBuilder<Int64Type>,
    stream: ViewColumn,
    enriched: EnrichedColumns,
    rejects: RejectBuilder,
    per_file: Vec<FileLines>,
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

struct RejectBuilder {
    source_file: StringChunkedBuilder,
    source_offset: Vec<i64>,
    raw_line: StringChunkedBuilder,
    /// xxh3 of the line's bytes as read: the identity rejects are deduplicated on (the
    /// kept text may be cut short or have had invalid UTF-8 replaced).
    line_hash: Vec<u64>,
    reason: StringChunkedBuilder,
    /// Hashes already in this batch (a line repeated within it is set aside once).
    seen: HashSet<u64>,
}

/// The views of one chunk's per-file constants.
struct FileViews {
    file: View,
    host: View,
    vhost: Option<View>,
}

impl FrameBuilder {
    pub fn new(capacity: usize) -> Self {
        let v = |name: &'static str| ViewColumn::new(name, capacity);
        let i32s = |name: &str| PrimitiveChunkedBuilder::<Int32Type>::new(name.into(), capacity);
        let i64s = |name: &str| PrimitiveChunkedBuilder::<Int64Type>::new(name.into(), capacity);
        let f64s = |name: &str| PrimitiveChunkedBuilder::<Float64Type>::new(name.into(), capacity);
        FrameBuilder {
            buffers: Buffers::default(),
            raw_log: RawLines::new(capacity),
            remote_addr: v("remote_addr"),
            client_addr: v("client_addr"),
            remote_user: v("remote_user"),
            time_local: Vec::with_capacity(capacity),
            day: Vec::with_capacity(capacity),
            hour: Vec::with_capacity(capacity),
            request_method: v("request_method"),
            request_path: v("request_path"),
            request_protocol: v("request_protocol"),
            status: i32s("status"),
            body_bytes_sent: i64s("body_bytes_sent"),
            http_referer: v("http_referer"),
            http_user_agent: v("http_user_agent"),
            vhost: v("vhost"),
            server_port: i32s("server_port"),
            request_time: f64s("request_time"),
            upstream_response_time: f64s("upstream_response_time"),
            request_length: i64s("request_length"),
            x_forwarded_for: v("x_forwarded_for"),
            ssl_protocol: v("ssl_protocol"),
            cache_status: v("cache_status"),
            host: v("host"),
            source_file: v("source_file"),
            source_offset: Vec::with_capacity(capacity),
            collected_at: i64s("collected_at"),
            stream: v("stream"),
            enriched: EnrichedColumns::new(capacity),
            rejects: RejectBuilder {
                source_file: StringChunkedBuilder::new("source_file".into(), 16),
                source_offset: Vec::new(),
                raw_line: StringChunkedBuilder::new("raw_line".into(), 16),
                line_hash: Vec::new(),
                reason: StringChunkedBuilder::new("reason".into(), 16),
                seen: HashSet::new(),
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

    /// Rows added so far.
    pub fn rows(&self) -> usize {
        self.time_local.len()
    }

    /// Parse every complete line of `chunk` with its file's parser, keeping the chunk's bytes
    /// for the batch's text columns.
    pub fn push_chunk(&mut self, chunk: Chunk, file: &mut FileContext, enricher: &mut Enricher) {
        let Chunk {
            file: name,
            start: chunk_start,
            data,
            oversize,
            unwrapped,
            ..
        } = chunk;
        self.bytes += data.len();
        let (mut ok, mut bad, mut skipped) = (0u64, 0u64, 0u64);
        let mut first_reject = oversize
            .first()
            .map(|long| (long.offset, "line longer than 1 MiB".to_string()));
        for long in &oversize {
            self.push_reject(
                &name,
                long.offset,
                &long.prefix,
                long.hash,
                "line longer than 1 MiB",
                enricher.anonymize(),
            );
            bad += 1;
        }
        let mut cv = self.buffers.begin_chunk(data);
        let bytes = cv.data();
        let views = FileViews {
            file: cv.of_owned(&name),
            host: cv.of_owned(&file.host),
            vhost: file.vhost.as_deref().map(|v| cv.of_owned(v)),
        };
        let host_id = self.raw_log.host_id(&file.host);
        let mut start = 0usize;
        for (i, nl) in memchr_iter(b'\n', &bytes).enumerate() {
            // A wrapped file's lines were unwrapped: each says where its record was.
            let offset = unwrapped
                .as_ref()
                .map_or(chunk_start + start as u64, |u| u.offsets[i]);
            let raw = &bytes[start..nl];
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            start = nl + 1;
            let stream = unwrapped.as_ref().and_then(|u| u.stream[i]);
            let mut parsed = file.parser.parse(raw);
            // A container's stderr carries the server's own messages (nginx's error log):
            // not requests, and no reason to reject them.
            if matches!(parsed, Parsed::Reject(_)) && stream == Some("stderr") {
                skipped += 1;
                continue;
            }
            if matches!(parsed, Parsed::Reject(_))
                && file.adopt_format_for(raw, offset, &bytes[start..])
            {
                parsed = file.parser.parse(raw);
            }
            match parsed {
                Parsed::Row(parsed) => {
                    ok += 1;
                    // A parsed line passed the UTF-8 check.
                    let raw = std::str::from_utf8(raw).expect("validated by the parser");
                    let anonymize = enricher.anonymize();
                    let stored = match anonymize.mask_text(raw) {
                        Cow::Borrowed(s) => cv.of_input(s),
                        Cow::Owned(s) => cv.of_owned(&s),
                    };
                    if !self
                        .raw_log
                        .insert(raw, host_id, cv.of_input(raw), stored, &self.buffers)
                    {
                        continue;
                    }
                    let client = enricher.client(
                        parsed.remote_addr.as_deref(),
                        parsed.x_forwarded_for.as_deref(),
                    );
                    let stored_client = match client {
                        Some(c) => match enricher.visitor_key(parsed.time.local_day, c) {
                            Some(key) => Some(Cow::Owned(key)),
                            None => Some(anonymize.mask_text(c)),
                        },
                        None => None,
                    };
                    self.client_addr.push(stored_client.map(|c| match c {
                        Cow::Borrowed(s) => cv.of_str(s),
                        Cow::Owned(s) => cv.of_owned(&s),
                    }));
                    if anonymize.is_on() {
                        self.push_row(&masked(&parsed, anonymize), &mut cv, &views, offset);
                    } else {
                        self.push_row(&parsed, &mut cv, &views, offset);
                    }
                    match &unwrapped {
                        Some(u) => {
                            self.collected_at.append_option(u.collected_at[i]);
                            self.stream.push(u.stream[i].map(|s| cv.of_owned(s)));
                        }
                        None => {
                            self.collected_at.append_null();
                            self.stream.push(None);
                        }
                    }
                    self.enriched
                        .push(enricher, parsed.http_user_agent.as_deref(), client);
                }
                Parsed::Reject(reason) => {
                    if first_reject.as_ref().is_none_or(|(at, _)| offset < *at) {
                        first_reject = Some((offset, reason.reason().to_string()));
                    }
                    let anonymize = enricher.anonymize();
                    self.push_reject(&name, offset, raw, xxh3_64(raw), reason.reason(), anonymize);
                    bad += 1;
                }
                Parsed::Skip => skipped += 1,
            }
        }
        assert_eq!(start, bytes.len(), "chunks hold complete lines only");
        self.buffers.end_chunk(cv);
        match self.per_file.last_mut() {
            Some(f) if Arc::ptr_eq(&f.file, &name) => {
                f.parsed += ok;
                f.rejected += bad;
                f.skipped += skipped;
                f.first_reject = f.first_reject.take().or(first_reject);
            }
            _ => self.per_file.push(FileLines {
                file: name,
                parsed: ok,
                rejected: bad,
                skipped,
                first_reject,
            }),
        }
    }

    fn push_row(&mut self, l: &LogLine<'_>, cv: &mut ChunkViews, file: &FileViews, offset: u64) {
        let mut text = |column: &mut ViewColumn, v: &Option<std::borrow::Cow<'_, str>>| {
            column.push(v.as_ref().map(|f| cv.of_field(f)));
        };
        text(&mut self.remote_addr, &l.remote_addr);
        text(&mut self.remote_user, &l.remote_user);
        text(&mut self.request_method, &l.request_method);
        text(&mut self.request_path, &l.request_path);
        text(&mut self.request_protocol, &l.request_protocol);
        text(&mut self.http_referer, &l.http_referer);
        text(&mut self.http_user_agent, &l.http_user_agent);
        text(&mut self.x_forwarded_for, &l.x_forwarded_for);
        text(&mut self.ssl_protocol, &l.ssl_protocol);
        text(&mut self.cache_status, &l.cache_status);
        match &l.vhost {
            Some(v) => self.vhost.push(Some(cv.of_field(v))),
            None => self.vhost.push(file.vhost),
        }
        self.time_local.push(l.time.micros_utc);
        self.day.push(l.time.local_day);
        self.hour.push(i32::from(l.time.local_hour));
        self.status.append_option(l.status);
        self.body_bytes_sent.append_option(l.body_bytes_sent);
        self.server_port.append_option(l.server_port);
        self.request_time.append_option(l.request_time);
        self.upstream_response_time
            .append_option(l.upstream_response_time);
        self.request_length.append_option(l.request_length);
        self.host.push(Some(file.host));
        self.source_file.push(Some(file.file));
        self.source_offset.push(offset as i64);
        let t = l.time.micros_utc;
        self.time_range = Some(match self.time_range {
            None => (t, t),
            Some((lo, hi)) => (lo.min(t), hi.max(t)),
        });
    }

    fn push_reject(
        &mut self,
        file: &str,
        offset: u64,
        raw: &[u8],
        hash: u64,
        reason: &str,
        anonymize: AnonymizeIp,
    ) {
        let r = &mut self.rejects;
        if !r.seen.insert(hash) {
            return;
        }
        let kept = &raw[..raw.len().min(REJECT_KEEP_BYTES)];
        // DuckDB strings cannot carry NUL; the reason column says why the line was set aside.
        let text = String::from_utf8_lossy(kept).replace('\0', "\u{FFFD}");
        let text = anonymize.mask_text(&text).into_owned();
        r.source_file.append_value(file);
        r.source_offset.push(offset as i64);
        r.raw_line.append_value(text);
        r.line_hash.push(hash);
        r.reason.append_value(reason);
    }

    /// The batch's frames; every row and reject gets `ingested_at_us`.
    pub fn finish(self, ingested_at_us: i64) -> ParsedBatch {
        let n = self.time_local.len();
        assert_eq!(n, self.raw_log.len());
        let buffers = self.buffers.finish();
        let ts = |name: &str, v: Vec<i64>| {
            Int64Chunked::from_vec(name.into(), v)
                .into_datetime(TimeUnit::Microseconds, None)
                .into_column()
        };
        let [raw_log, line_hash] = self.raw_log.finish(&buffers);
        let mut columns = vec![
            raw_log,
            line_hash,
            self.remote_addr.finish(&buffers),
            self.client_addr.finish(&buffers),
            self.remote_user.finish(&buffers),
            ts("time_local", self.time_local),
            Int32Chunked::from_vec("day".into(), self.day)
                .into_date()
                .into_column(),
            // (UTINYINT in the table: DuckDB narrows it; Polars' u8 is a build feature more.)
            Int32Chunked::from_vec("hour".into(), self.hour).into_column(),
            self.request_method.finish(&buffers),
            self.request_path.finish(&buffers),
            self.request_protocol.finish(&buffers),
            self.status.finish().into_column(),
            self.body_bytes_sent.finish().into_column(),
            self.http_referer.finish(&buffers),
            self.http_user_agent.finish(&buffers),
            self.vhost.finish(&buffers),
            self.server_port.finish().into_column(),
            self.request_time.finish().into_column(),
            self.upstream_response_time.finish().into_column(),
            self.request_length.finish().into_column(),
            self.x_forwarded_for.finish(&buffers),
            self.ssl_protocol.finish(&buffers),
            self.cache_status.finish(&buffers),
            self.host.finish(&buffers),
            self.source_file.finish(&buffers),
            Int64Chunked::from_vec("source_offset".into(), self.source_offset).into_column(),
            ts("ingested_at", vec![ingested_at_us; n]),
            self.collected_at
                .finish()
                .into_datetime(TimeUnit::Microseconds, None)
                .into_column(),
            self.stream.finish(&buffers),
        ];
        columns.extend(self.enriched.finish());
        let logs = DataFrame::new(n, columns).expect("columns of one length, distinct names");
        let r = self.rejects;
        let nr = r.source_offset.len();
        let rejects = DataFrame::new(
            nr,
            vec![
                r.source_file.finish().into_column(),
                Int64Chunked::from_vec("source_offset".into(), r.source_offset).into_column(),
                r.raw_line.finish().into_column(),
                UInt64Chunked::from_vec("line_hash".into(), r.line_hash).into_column(),
                r.reason.finish().into_column(),
                ts("ingested_at", vec![ingested_at_us; nr]),
            ],
        )
        .expect("columns of one length, distinct names");
        ParsedBatch {
            logs,
            rejects,
            time_range: self.time_range,
            per_file: self.per_file,
            ingested_at_us,
        }
    }
}

/// The row's text fields with every address in them masked (the site's name, `vhost`, is
/// the server's, and stays as logged).
fn masked<'a>(l: &'a LogLine<'_>, anonymize: AnonymizeIp) -> LogLine<'a> {
    let mask = |v: &'a Option<Cow<'_, str>>| v.as_deref().map(|s| anonymize.mask_text(s));
    let keep = |v: &'a Option<Cow<'_, str>>| v.as_deref().map(Cow::Borrowed);
    LogLine {
        remote_addr: mask(&l.remote_addr),
        remote_user: mask(&l.remote_user),
        time: l.time,
        request_method: keep(&l.request_method),
        request_path: mask(&l.request_path),
        request_protocol: keep(&l.request_protocol),
        status: l.status,
        body_bytes_sent: l.body_bytes_sent,
        http_referer: mask(&l.http_referer),
        http_user_agent: mask(&l.http_user_agent),
        vhost: keep(&l.vhost),
        server_port: l.server_port,
        request_time: l.request_time,
        upstream_response_time: l.upstream_response_time,
        request_length: l.request_length,
        x_forwarded_for: mask(&l.x_forwarded_for),
        ssl_protocol: keep(&l.ssl_protocol),
        cache_status: keep(&l.cache_status),
    }
}
