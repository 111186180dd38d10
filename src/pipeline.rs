//! One incremental pass of `weblog run`: source → parse → load, batch by batch, then the
//! SQL outputs → export. Each stage is its own module; this one only wires them.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::enrich::{Enricher, GeoIp};
use crate::error::{Error, ErrorKind, Result};
use crate::export;
use crate::load::Warehouse;
use crate::parse::FrameBuilder;
use crate::source::{self, Checkpoint, LineReader, StartReason, checkpoint};
use crate::transform;

/// Input bytes parsed and committed together; bounds memory whatever the backlog.
pub const DEFAULT_BATCH_BYTES: usize = 64 << 20;

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub logs: Vec<String>,
    pub db: PathBuf,
    pub sql: PathBuf,
    pub out: PathBuf,
    pub wait: Duration,
    pub batch_bytes: usize,
    /// A MaxMind-format country database; None: no country column values.
    pub geoip: Option<PathBuf>,
    pub filter: transform::OutputFilter,
}

#[derive(Debug, Default, Serialize)]
pub struct FileSummary {
    pub path: String,
    pub start: Option<StartReason>,
    pub start_offset: u64,
    /// When the file continues a checkpoint of another path (rotation by rename or copy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<String>,
    pub bytes_read: u64,
    pub lines_read: u64,
    pub inserted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct OutputSummary {
    pub name: String,
    pub rows: u64,
    pub files: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What kind of failure `error` is (a query's, or the disk's), for the exit code.
    #[serde(skip)]
    pub error_kind: Option<ErrorKind>,
}

#[derive(Debug, Default, Serialize)]
pub struct RunSummary {
    pub database: String,
    pub files: Vec<FileSummary>,
    pub bytes_read: u64,
    pub lines_read: u64,
    pub inserted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub batches: u64,
    pub outputs: Vec<OutputSummary>,
    pub warnings: Vec<String>,
    /// Credit owed for the country data used, shown wherever results are.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geoip_attribution: Option<String>,
    pub elapsed_ms: u64,
    pub lines_per_sec: f64,
    pub mb_per_sec: f64,
    #[serde(skip)]
    pub out_dir: PathBuf,
}

impl RunSummary {
    /// The error to exit with, if any part of the run failed (data committed before it stays).
    pub fn failure(&self) -> Option<Error> {
        if let Some(f) = self.files.iter().find(|f| f.error.is_some()) {
            return Some(Error::new(ErrorKind::NoInput, f.error.clone().unwrap()));
        }
        if let Some(o) = self.outputs.iter().find(|o| o.error.is_some()) {
            let kind = o.error_kind.unwrap_or(ErrorKind::Sql);
            return Some(Error::new(kind, o.error.clone().unwrap()));
        }
        None
    }
}

pub fn run(opts: &RunOptions) -> Result<RunSummary> {
    let started = Instant::now();
    let ingested_at_us = chrono::Utc::now().timestamp_micros();
    // Fail before touching anything if the results could not be written anyway.
    export::check_writable(&opts.out)?;
    let sql = transform::load(&opts.sql)?;
    let (files, warnings) = source::discover(&opts.logs)?;
    let geoip = opts.geoip.as_deref().map(GeoIp::open).transpose()?;
    let mut wh = Warehouse::open(&opts.db, opts.wait)?;
    export::remove_stale_temp_files(&opts.out);
    let mut enricher = Enricher::new(geoip);
    wh.upgrade(&mut enricher)?;
    let stored = wh.checkpoints()?;

    let mut summary = RunSummary {
        database: opts.db.display().to_string(),
        warnings,
        geoip_attribution: opts.geoip.as_deref().and_then(geoip_attribution),
        out_dir: opts.out.clone(),
        ..Default::default()
    };
    let mut batch = Batch::new(ingested_at_us, opts.batch_bytes, enricher);
    for path in &files {
        summary.files.push(FileSummary {
            path: path.display().to_string(),
            ..Default::default()
        });
        let index = summary.files.len() - 1;
        if let Err(e) = read_file(path, index, &stored, &mut batch, &mut wh, &mut summary) {
            summary.files[index].error = Some(e.message);
        }
    }
    batch.flush(&mut wh, &mut summary)?;

    transform::refresh_rollups(wh.connection(), &sql.rollups)?;
    transform::prepare_outputs(wh.connection(), &opts.filter)?;
    for output in &sql.outputs {
        summary.outputs.push(make_output(&wh, output, &opts.out));
    }

    for f in &summary.files {
        summary.bytes_read += f.bytes_read;
        summary.lines_read += f.lines_read;
        summary.inserted += f.inserted;
        summary.duplicates += f.duplicates;
        summary.rejected += f.rejected;
    }
    let secs = started.elapsed().as_secs_f64();
    summary.elapsed_ms = (secs * 1000.0) as u64;
    summary.lines_per_sec = summary.lines_read as f64 / secs.max(1e-9);
    summary.mb_per_sec = summary.bytes_read as f64 / 1e6 / secs.max(1e-9);
    Ok(summary)
}

/// Read one file's new lines into the batch, flushing whenever the batch is full.
fn read_file(
    path: &Path,
    index: usize,
    stored: &HashMap<String, Checkpoint>,
    batch: &mut Batch,
    wh: &mut Warehouse,
    summary: &mut RunSummary,
) -> Result<()> {
    let key = path.display().to_string();
    let unreadable = |e: std::io::Error| {
        Error::new(
            ErrorKind::NoInput,
            format!("cannot read log file {key}: {e}"),
        )
    };
    let compressed = source::gz::is_gz(path);
    let (resume, mut reader, window) = if compressed {
        match source::gz::open(path, &key, stored, batch.chunk_bytes()).map_err(unreadable)? {
            Some((resume, reader)) => (resume, reader, Vec::new()),
            None => return Ok(()), // empty, or unchanged since it was read
        }
    } else {
        let file = File::open(path).map_err(unreadable)?;
        let Some(resume) = checkpoint::resume(&file, &key, stored).map_err(unreadable)? else {
            return Ok(()); // not even one complete line yet
        };
        let unchanged = matches!(resume.reason, StartReason::Continue);
        if unchanged && resume.size == resume.offset {
            summary.files[index].start = Some(resume.reason);
            summary.files[index].start_offset = resume.offset;
            return Ok(()); // nothing new: the common cron case costs a stat and two small reads
        }
        let window = window_before(&file, resume.offset).map_err(unreadable)?;
        let name: Arc<str> = Arc::from(key.as_str());
        let reader = LineReader::new(
            file,
            name,
            resume.offset,
            window.clone(),
            batch.chunk_bytes(),
        )
        .map_err(unreadable)?;
        (resume, reader, window)
    };
    let fs = &mut summary.files[index];
    fs.start = Some(resume.reason);
    fs.start_offset = resume.offset;
    fs.moved_from = resume.moved_from.clone();
    let checkpoint_at = |offset: u64, marker: u64| Checkpoint {
        path: key.clone(),
        offset,
        head: resume.head,
        marker,
        // A .gz is recognised as unchanged by its compressed size.
        size: if compressed {
            resume.size
        } else {
            resume.size.max(offset)
        },
        dev: resume.dev,
        inode: resume.inode,
    };
    if resume.moved_from.is_some() || compressed {
        // Record the taken-over position under this path now, even if nothing follows it:
        // the old path may soon hold another file and its checkpoint move on.
        let marker = source::fingerprint::marker_of(&window);
        batch
            .checkpoints
            .insert(key.clone(), checkpoint_at(resume.offset, marker));
    }
    let mut consumed_to = resume.offset;
    loop {
        let chunk = match reader.next_chunk().map_err(unreadable)? {
            Some(chunk) => chunk,
            // A compressed file cannot grow: its unterminated last line is final.
            None => match compressed.then(|| reader.take_partial()).flatten() {
                Some(chunk) => chunk,
                None => break,
            },
        };
        summary.files[index].bytes_read += chunk.end - consumed_to;
        consumed_to = chunk.end;
        batch.push(&chunk, index);
        batch
            .checkpoints
            .insert(key.clone(), checkpoint_at(chunk.end, chunk.marker));
        if batch.is_full() {
            batch.flush(wh, summary)?;
        }
    }
    Ok(())
}

/// The bytes just before `offset`, to continue the checkpoint marker.
fn window_before(file: &File, offset: u64) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let start = offset.saturating_sub(source::fingerprint::MARKER_BYTES);
    let mut buf = vec![0u8; (offset - start) as usize];
    file.read_exact_at(&mut buf, start)?;
    Ok(buf)
}

/// Chunks parsed and waiting to be committed together.
struct Batch {
    ingested_at_us: i64,
    budget: usize,
    builder: FrameBuilder,
    checkpoints: HashMap<String, Checkpoint>,
    /// Which `RunSummary::files` entry each source path is booked on.
    owners: HashMap<String, usize>,
    enricher: Enricher,
}

impl Batch {
    fn new(ingested_at_us: i64, budget: usize, enricher: Enricher) -> Self {
        Batch {
            ingested_at_us,
            budget,
            builder: FrameBuilder::new(ingested_at_us, 1024),
            checkpoints: HashMap::new(),
            owners: HashMap::new(),
            enricher,
        }
    }

    fn chunk_bytes(&self) -> usize {
        // Several chunks per batch, each small enough to parse while the next is read.
        (self.budget / 4).clamp(4096, 8 << 20)
    }

    fn is_full(&self) -> bool {
        self.builder.bytes() >= self.budget
    }

    fn push(&mut self, chunk: &source::Chunk, owner: usize) {
        self.owners.insert(chunk.file.to_string(), owner);
        self.builder.push_chunk(chunk, &mut self.enricher);
    }

    fn flush(&mut self, wh: &mut Warehouse, summary: &mut RunSummary) -> Result<()> {
        if self.builder.is_empty() && self.checkpoints.is_empty() {
            return Ok(());
        }
        let committed = self.commit(wh)?;
        summary.batches += 1;
        for (path, (lines, rejected, inserted)) in committed {
            let i = self.owners[&path];
            book(&mut summary.files[i], lines, rejected, inserted);
        }
        Ok(())
    }

    /// Commit and return, per path: (lines read, rejected, inserted).
    fn commit(&mut self, wh: &mut Warehouse) -> Result<HashMap<String, (u64, u64, u64)>> {
        // Each batch gets its own ingested_at (strictly later than the last one), which lets
        // the load stage count exactly the rows this batch inserted.
        self.ingested_at_us = chrono::Utc::now()
            .timestamp_micros()
            .max(self.ingested_at_us + 1);
        let next = FrameBuilder::new(self.ingested_at_us, 1024);
        let builder = std::mem::replace(&mut self.builder, next);
        let parsed = builder.finish().map_err(|e| {
            Error::new(
                ErrorKind::Failed,
                format!("cannot build the batch frame: {e}"),
            )
        })?;
        let mut per_path: HashMap<String, (u64, u64, u64)> = HashMap::new();
        for (file, ok, bad) in &parsed.per_file {
            let e = per_path.entry(file.to_string()).or_default();
            e.0 += ok + bad;
            e.1 += bad;
        }
        let checkpoints: Vec<Checkpoint> = self.checkpoints.drain().map(|(_, c)| c).collect();
        let committed = wh.commit(parsed, &checkpoints)?;
        for (file, n) in committed.inserted {
            per_path.entry(file).or_default().2 += n;
        }
        Ok(per_path)
    }
}

/// `make geoip` puts DB-IP's licence beside the database; its CC BY 4.0 asks for credit.
fn geoip_attribution(db: &Path) -> Option<String> {
    db.with_file_name("DBIP-LICENSE")
        .exists()
        .then(|| "IP to country data by DB-IP (https://db-ip.com), licensed CC BY 4.0".to_string())
}

fn book(f: &mut FileSummary, lines: u64, rejected: u64, inserted: u64) {
    f.lines_read += lines;
    f.rejected += rejected;
    f.inserted += inserted;
    f.duplicates += lines - rejected - inserted;
}

fn make_output(wh: &Warehouse, output: &transform::SqlOutput, out: &Path) -> OutputSummary {
    let mut s = OutputSummary {
        name: output.name.clone(),
        ..Default::default()
    };
    let result = transform::materialize(wh.connection(), output).and_then(|rows| {
        s.rows = rows;
        export::write(wh.connection(), transform::OUTPUT_TABLE, out, &output.name)
    });
    match result {
        Ok(files) => s.files = files.iter().map(|f| f.display().to_string()).collect(),
        Err(e) => {
            s.error_kind = Some(e.kind);
            s.error = Some(e.message);
        }
    }
    s
}
