//! Stage 2: complete lines (bytes) → a typed Polars frame of log rows + a frame of rejects,
//! batched ([`batch`]) into units the loader commits with their checkpoints.

mod aligned;
pub mod batch;
pub mod format;
mod frame;
mod raw_lines;
mod views;

use std::sync::Arc;

use polars::prelude::*;

use crate::enrich::Enricher;
use crate::error::{Error, ErrorKind, Result};
use crate::source::Resume;
pub use batch::{Batcher, FileRead, Progress, Sealed};
pub use format::{Format, LineParser, LogLine, Parsed};
pub use frame::{EnrichedColumns, FrameBuilder};

// The reader passes on lines up to this size; the parser must judge the same bound.
const _: () = assert!(format::MAX_LINE_BYTES == crate::source::MAX_LINE_BYTES);

/// What one batch of chunks parsed into.
pub struct ParsedBatch {
    /// One row per well-formed line, columns as the `logs` table (see `load/schema.sql`).
    pub logs: DataFrame,
    /// One row per line set aside: source_file, source_offset, raw_line, reason, ingested_at.
    pub rejects: DataFrame,
    /// Smallest and largest `time_local` (µs UTC) in `logs`; None when it is empty.
    pub time_range: Option<(i64, i64)>,
    /// Per source file, the lines it gave. Parsed lines include those dropped as repeats of a
    /// line earlier in the batch.
    pub per_file: Vec<FileLines>,
    /// The `ingested_at` of every row (µs UTC): one value per batch, so it identifies it.
    pub ingested_at_us: i64,
}

/// What one file's lines in a batch were.
#[derive(Debug, Clone)]
pub struct FileLines {
    pub file: Arc<str>,
    pub parsed: u64,
    pub rejected: u64,
    /// Not requests: directives and comments of the format (e.g. W3C `#Fields:`).
    pub skipped: u64,
    /// The first line set aside: its offset and why.
    pub first_reject: Option<(u64, String)>,
}

/// How one file's lines become rows: the parser of its format (with that file's state, e.g.
/// W3C's current columns), and what its source says of every line.
pub struct FileContext {
    pub parser: LineParser,
    /// The name of the file's format, recorded with its checkpoint.
    pub format: Arc<str>,
    /// The web server the file is from (`--host`, or the source's `host`).
    pub host: Arc<str>,
    /// The source's site, for lines whose format does not name one.
    pub vhost: Option<Arc<str>>,
    /// The format was recognised (`auto`), so a line that no longer fits it may show the
    /// server now writes another one (see [`FileContext::adopt_format_for`]).
    pub auto: bool,
    /// Where the format changed in this run: (offset, from, to).
    pub switches: Vec<(u64, Arc<str>, Arc<str>)>,
}

/// How many lines from a rejected one on are looked at to recognise a new format.
const SWITCH_WINDOW: usize = 16;

impl FileContext {
    /// The file's current format rejected `line` (at `offset`; `following`: the bytes after
    /// it): if a preset fits it and the lines after it better, the server's format changed
    /// (an edited `log_format` and a reload) and the file is read in that one from here. A
    /// line that fits nothing, or only the current format's neighbours, changes nothing.
    /// Header-led formats (W3C, CloudFront) change through their own `#Fields:` lines.
    pub fn adopt_format_for(&mut self, line: &[u8], offset: u64, following: &[u8]) -> bool {
        if !self.auto || self.parser.header_led() {
            return false;
        }
        let mut window: Vec<&[u8]> = Vec::with_capacity(SWITCH_WINDOW);
        window.push(line);
        window.extend(
            following
                .split(|&b| b == b'\n')
                .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
                .filter(|l| !l.is_empty())
                .take(SWITCH_WINDOW - 1),
        );
        let Ok(format) = format::detect(&window) else {
            return false;
        };
        if format.name() == &*self.format {
            return false;
        }
        let mut parser = format.parser(None);
        if !matches!(parser.parse(line), Parsed::Row(_)) {
            return false;
        }
        let to: Arc<str> = Arc::from(format.name());
        tracing::info!(offset, from = %self.format, to = %to, "log format changed");
        self.switches
            .push((offset, std::mem::replace(&mut self.format, to.clone()), to));
        self.parser = parser;
        true
    }
}

/// How many of a file's first lines `auto` looks at to recognise its format.
const DETECT_LINES: usize = 32;
const DETECT_BYTES: usize = 256 * 1024;

/// The format to read a file with, and its parser positioned for where reading resumes:
/// the source's format; with `auto` (`fixed` None), the one recorded with the file's
/// checkpoint (kept across rotations), else the preset its first lines fit. The state saved
/// with the checkpoint (W3C's columns) is kept when reading goes on from it.
pub fn file_context(
    fixed: Option<(&str, &Format)>,
    resume: &Resume,
    host: Arc<str>,
    vhost: Option<Arc<str>>,
    first_lines: impl FnOnce() -> std::io::Result<Vec<Vec<u8>>>,
) -> Result<FileContext> {
    let recorded = resume.from.as_ref().and_then(|cp| cp.format.as_deref());
    let (spec, format) = match (fixed, recorded) {
        (Some((spec, format)), _) => (spec.to_string(), format.clone()),
        (None, Some(spec)) => match Format::compile(spec) {
            Ok(format) => (spec.to_string(), format),
            // Recorded by another weblog version that knew it: recognise it again.
            Err(_) => detect_format(first_lines)?,
        },
        (None, None) => detect_format(first_lines)?,
    };
    let continuing = resume.offset > 0 && recorded == Some(spec.as_str());
    let state = resume
        .from
        .as_ref()
        .filter(|_| continuing)
        .and_then(|cp| cp.format_state.as_deref());
    Ok(FileContext {
        parser: format.parser(state),
        format: Arc::from(spec.as_str()),
        host,
        vhost,
        auto: fixed.is_none(),
        switches: Vec::new(),
    })
}

fn detect_format(
    first_lines: impl FnOnce() -> std::io::Result<Vec<Vec<u8>>>,
) -> Result<(String, Format)> {
    let lines = first_lines().map_err(|e| {
        Error::new(
            ErrorKind::NoInput,
            format!("cannot read the start of the file: {e}"),
        )
    })?;
    let refs: Vec<&[u8]> = lines.iter().map(Vec::as_slice).take(DETECT_LINES).collect();
    let format = format::detect(&refs).map_err(|e| Error::new(ErrorKind::Data, e))?;
    Ok((format.name().to_string(), format))
}

/// Reading the first lines for [`file_context`]: at most this much.
pub fn detect_window() -> (usize, usize) {
    (DETECT_LINES, DETECT_BYTES)
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

#[cfg(test)]
mod tests;
