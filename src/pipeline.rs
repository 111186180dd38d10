//! One incremental pass of `weblog run`: source → parse → load, batch by batch, then the
//! SQL outputs → export. Each stage is its own module; this one only wires them.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::time::{Duration, Instant};

use serde::Serialize;
use xxhash_rust::xxh3::xxh3_64;

use crate::enrich::{Enricher, GeoIp};
use crate::error::{Error, ErrorKind, Result};
use crate::export;
use crate::load::Warehouse;
use crate::parse::{FrameBuilder, ParsedBatch};
use crate::source::{self, Checkpoint, LineReader, StartReason, checkpoint};
use crate::transform;

/// Input bytes parsed and committed together; bounds memory whatever the backlog.
pub const DEFAULT_BATCH_BYTES: usize = 64 << 20;

/// DuckDB's memory limit unless told otherwise: with two batches in flight, keeps a run's
/// peak RSS under 1 GiB whatever the backlog or the history.
pub const DEFAULT_MEMORY_LIMIT: &str = "384MB";

/// Told how far a run's reading has got (e.g. to draw a progress bar).
pub trait Progress: Send + Sync {
    /// Bytes the run expects to read, before it starts.
    fn start(&self, backlog_bytes: u64);
    fn advance(&self, bytes: u64);
    fn finish(&self);
}

#[derive(Clone)]
pub struct RunOptions {
    pub logs: Vec<String>,
    pub db: PathBuf,
    pub sql: PathBuf,
    pub out: PathBuf,
    pub wait: Duration,
    pub batch_bytes: usize,
    /// DuckDB's `memory_limit`.
    pub memory_limit: String,
    /// A MaxMind-format country database; None: no country column values.
    pub geoip: Option<PathBuf>,
    pub filter: transform::OutputFilter,
    /// When set (e.g. by SIGTERM), reading stops after the current chunk; what was read is
    /// committed and the outputs refreshed as usual.
    pub stop: Option<Arc<AtomicBool>>,
    pub progress: Option<Arc<dyn Progress>>,
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
    /// Bytes in the file past where this run stopped reading (to be read next time).
    pub lag_bytes: u64,
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
    /// True when the files of an earlier run were already up to date and left as they were.
    pub unchanged: bool,
    /// What kind of failure `error` is (a query's, or the disk's), for the exit code.
    #[serde(skip)]
    pub error_kind: Option<ErrorKind>,
}

#[derive(Debug, Default, Serialize)]
pub struct StageTimes {
    pub read_parse: u64,
    pub load: u64,
    pub rollups: u64,
    pub outputs: u64,
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
    /// Time spent per stage; reading+parsing overlaps loading, so they may sum past elapsed.
    pub stages_ms: StageTimes,
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
    let started_at = chrono::Utc::now();
    // Fail before touching anything if the results could not be written anyway.
    export::check_writable(&opts.out)?;
    let sql = transform::load(&opts.sql)?;
    let (files, warnings) = source::discover(&opts.logs)?;
    let geoip = opts.geoip.as_deref().map(GeoIp::open).transpose()?;
    let mut wh = Warehouse::open(&opts.db, opts.wait, &opts.memory_limit)?;
    let mut summary = RunSummary {
        database: opts.db.display().to_string(),
        warnings,
        geoip_attribution: opts.geoip.as_deref().and_then(geoip_attribution),
        out_dir: opts.out.clone(),
        ..Default::default()
    };
    let result = pass(&mut wh, opts, &sql, &files, geoip, &mut summary);
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
    let error = match &result {
        Err(e) => Some(e.message.clone()),
        Ok(()) => summary.failure().map(|e| e.message),
    };
    // Best effort: a run whose database just failed may not be able to record itself.
    if let Err(e) = wh.record_run(started_at, &summary, error.as_deref()) {
        tracing::warn!("cannot record the run: {}", e.message);
    }
    result.map(|()| summary)
}

/// The run after the database is open: read, parse and load every batch, then the outputs.
fn pass(
    wh: &mut Warehouse,
    opts: &RunOptions,
    sql: &transform::SqlSet,
    files: &[PathBuf],
    geoip: Option<GeoIp>,
    summary: &mut RunSummary,
) -> Result<()> {
    export::remove_stale_temp_files(&opts.out);
    let mut enricher = Enricher::new(geoip);
    wh.upgrade(&mut enricher)?;
    let stored = wh.checkpoints()?;
    if let Some(p) = &opts.progress {
        p.start(backlog_bytes(files, &stored));
    }

    // Reading and parsing run on their own thread, one batch ahead of the DuckDB commit on
    // this one. The hand-over is a rendezvous: at most two batches exist at once.
    // DuckDB loads on one thread: the parser has the other core. With two, DuckDB's load
    // stage was 20% shorter but the run was not (the parser lost its core), and its parallel
    // insert left 64 MB of discarded row groups per million lines as free space in the file.
    wh.single_threaded(true)?;
    let (files_read, loaded) = std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Sealed>(0);
        let reader = scope.spawn(|| read_all(files, &stored, opts, enricher, sender));
        let loaded = load_all(wh, receiver);
        let files_read = reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (files_read, loaded)
    });
    if let Some(p) = &opts.progress {
        p.finish();
    }
    let (mut file_summaries, read_ms) = files_read?;
    let loaded = loaded?;
    wh.single_threaded(false)?;
    for f in &mut file_summaries {
        if let Some(&(lines, rejected, inserted)) = loaded.per_path.get(&f.path) {
            book(f, lines, rejected, inserted);
        }
    }
    for f in file_summaries
        .iter_mut()
        .filter(|f| !source::gz::is_gz(Path::new(&f.path)))
    {
        // (A .gz is read whole, its offsets are decompressed bytes: no lag to compare.)
        let size = std::fs::metadata(&f.path).map_or(0, |m| m.len());
        let position = f.start_offset + f.bytes_read;
        f.lag_bytes = if size >= position {
            size - position
        } else {
            size
        };
    }
    summary.files = file_summaries;
    summary.batches = loaded.batches;
    summary.stages_ms.read_parse = read_ms;
    summary.stages_ms.load = loaded.busy_ms;
    tracing::debug!(
        batches = loaded.batches,
        read_ms,
        load_ms = loaded.busy_ms,
        "loaded"
    );

    let stage = Instant::now();
    transform::refresh_rollups(wh.connection(), &sql.rollups)?;
    summary.stages_ms.rollups = stage.elapsed().as_millis() as u64;
    tracing::debug!(ms = summary.stages_ms.rollups, "rollups refreshed");
    let stage = Instant::now();
    transform::prepare_outputs(wh.connection(), &opts.filter)?;
    let inputs = outputs_inputs(wh, sql, opts)?;
    for output in &sql.outputs {
        let made = make_output(wh, output, &opts.out, inputs);
        tracing::debug!(output = %made.name, rows = made.rows, unchanged = made.unchanged, "output");
        summary.outputs.push(made);
    }
    summary.stages_ms.outputs = stage.elapsed().as_millis() as u64;
    Ok(())
}

/// Bytes not yet read: each file's size past its checkpoint (all of it when it has none or
/// was truncated).
fn backlog_bytes(files: &[PathBuf], stored: &HashMap<String, Checkpoint>) -> u64 {
    files
        .iter()
        .filter_map(|f| {
            let size = std::fs::metadata(f).ok()?.len();
            let offset = stored.get(&f.display().to_string()).map_or(0, |c| c.offset);
            Some(if offset <= size { size - offset } else { size })
        })
        .sum()
}

/// Read one file's new lines into the batch, sealing it whenever it is full. Ok(false) when
/// the loader has stopped (it reports why).
fn read_file(
    path: &Path,
    fs: &mut FileSummary,
    stored: &HashMap<String, Checkpoint>,
    batch: &mut Batch,
) -> Result<bool> {
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
            None => return Ok(true), // empty, or unchanged since it was read
        }
    } else {
        let file = File::open(path).map_err(unreadable)?;
        let Some(resume) = checkpoint::resume(&file, &key, stored).map_err(unreadable)? else {
            return Ok(true); // not even one complete line yet
        };
        let unchanged = matches!(resume.reason, StartReason::Continue);
        if unchanged && resume.size == resume.offset {
            fs.start = Some(resume.reason);
            fs.start_offset = resume.offset;
            return Ok(true); // nothing new: the common cron case costs a stat and two small reads
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
        fs.bytes_read += chunk.end - consumed_to;
        if let Some(p) = &batch.progress {
            p.advance(chunk.end - consumed_to);
        }
        consumed_to = chunk.end;
        let checkpoint = checkpoint_at(chunk.end, chunk.marker);
        batch.push(chunk);
        batch.checkpoints.insert(key.clone(), checkpoint);
        if batch.is_full() && !batch.seal()? {
            return Ok(false);
        }
        if batch.stopping() {
            tracing::info!("stop requested: committing what was read");
            return Ok(false);
        }
    }
    Ok(true)
}

/// The bytes just before `offset`, to continue the checkpoint marker.
fn window_before(file: &File, offset: u64) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let start = offset.saturating_sub(source::fingerprint::MARKER_BYTES);
    let mut buf = vec![0u8; (offset - start) as usize];
    file.read_exact_at(&mut buf, start)?;
    Ok(buf)
}

/// Every file's new lines, read and parsed into batches handed to the loader. Returns each
/// file's summary (what was read; the loader books what was stored) and the time taken.
fn read_all(
    files: &[PathBuf],
    stored: &HashMap<String, Checkpoint>,
    opts: &RunOptions,
    enricher: Enricher,
    loader: SyncSender<Sealed>,
) -> Result<(Vec<FileSummary>, u64)> {
    let started = Instant::now();
    let mut batch = Batch::new(opts.batch_bytes, enricher, loader);
    batch.stop = opts.stop.clone();
    batch.progress = opts.progress.clone();
    let mut summaries = Vec::with_capacity(files.len());
    for path in files {
        let mut fs = FileSummary {
            path: path.display().to_string(),
            ..Default::default()
        };
        let going_on = match read_file(path, &mut fs, stored, &mut batch) {
            Ok(going_on) => going_on,
            Err(e) => {
                fs.error = Some(e.message);
                true
            }
        };
        summaries.push(fs);
        if !going_on {
            break;
        }
    }
    batch.seal()?;
    // Busy time: waiting for the loader to take a batch is not reading or parsing.
    let busy = started.elapsed().saturating_sub(batch.waited);
    Ok((summaries, busy.as_millis() as u64))
}

/// A parsed batch with the checkpoints it advances: committed together or not at all.
struct Sealed {
    parsed: ParsedBatch,
    checkpoints: Vec<Checkpoint>,
}

#[derive(Default)]
struct Loaded {
    /// Per path: (lines read, rejected, inserted).
    per_path: HashMap<String, (u64, u64, u64)>,
    batches: u64,
    busy_ms: u64,
}

/// Commit each sealed batch, in order, until the reader is done or a commit fails (which
/// stops the reader: its next hand-over finds no one listening).
fn load_all(wh: &mut Warehouse, batches: Receiver<Sealed>) -> Result<Loaded> {
    let mut loaded = Loaded::default();
    let mut busy = Duration::ZERO;
    for sealed in batches {
        let started = Instant::now();
        for (file, ok, bad) in &sealed.parsed.per_file {
            let e = loaded.per_path.entry(file.to_string()).or_default();
            e.0 += ok + bad;
            e.1 += bad;
        }
        let committed = wh.commit(sealed.parsed, &sealed.checkpoints)?;
        for (file, n) in committed.inserted {
            loaded.per_path.entry(file).or_default().2 += n;
        }
        loaded.batches += 1;
        busy += started.elapsed();
    }
    loaded.busy_ms = busy.as_millis() as u64;
    Ok(loaded)
}

/// Chunks parsed and waiting to be committed together.
struct Batch {
    last_ingested_at_us: i64,
    budget: usize,
    builder: FrameBuilder,
    checkpoints: HashMap<String, Checkpoint>,
    enricher: Enricher,
    loader: SyncSender<Sealed>,
    /// Time spent waiting for the loader to take a sealed batch.
    waited: Duration,
    stop: Option<Arc<AtomicBool>>,
    progress: Option<Arc<dyn Progress>>,
}

impl Batch {
    fn new(budget: usize, enricher: Enricher, loader: SyncSender<Sealed>) -> Self {
        Batch {
            last_ingested_at_us: 0,
            budget,
            builder: FrameBuilder::new(1024),
            checkpoints: HashMap::new(),
            enricher,
            loader,
            waited: Duration::ZERO,
            stop: None,
            progress: None,
        }
    }

    fn stopping(&self) -> bool {
        self.stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed))
    }

    fn chunk_bytes(&self) -> usize {
        // Several chunks per batch, each small enough to parse while the next is read.
        (self.budget / 4).clamp(4096, 8 << 20)
    }

    fn is_full(&self) -> bool {
        self.builder.bytes() >= self.budget
    }

    fn push(&mut self, chunk: source::Chunk) {
        self.builder.push_chunk(chunk, &mut self.enricher);
    }

    /// Hand the batch to the loader; false when the loader has stopped.
    fn seal(&mut self) -> Result<bool> {
        if self.builder.is_empty() && self.checkpoints.is_empty() {
            return Ok(true);
        }
        // Each batch gets its own ingested_at (strictly later than the last one), which lets
        // the load stage count exactly the rows this batch inserted.
        let ingested_at_us = chrono::Utc::now()
            .timestamp_micros()
            .max(self.last_ingested_at_us + 1);
        self.last_ingested_at_us = ingested_at_us;
        let builder = std::mem::replace(&mut self.builder, FrameBuilder::new(1024));
        let parsed = builder.finish(ingested_at_us).map_err(|e| {
            Error::new(
                ErrorKind::Failed,
                format!("cannot build the batch frame: {e}"),
            )
        })?;
        let checkpoints = self.checkpoints.drain().map(|(_, c)| c).collect();
        let handing_over = Instant::now();
        let taken = self
            .loader
            .send(Sealed {
                parsed,
                checkpoints,
            })
            .is_ok();
        self.waited += handing_over.elapsed();
        Ok(taken)
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

/// A digest of everything an output depends on besides its own SQL: the stored data (its
/// version moves with every commit), the rollups' SQL, the filters, the folder, weblog itself.
fn outputs_inputs(wh: &Warehouse, sql: &transform::SqlSet, opts: &RunOptions) -> Result<u64> {
    let mut key = format!(
        "{}\0{}\0{:?}\0{}",
        env!("CARGO_PKG_VERSION"),
        wh.data_version()?,
        opts.filter,
        opts.out.display()
    );
    for rollup in &sql.rollups {
        key.push('\0');
        key.push_str(&rollup.sql);
    }
    Ok(xxh3_64(key.as_bytes()))
}

/// Materialise and export one output, unless the files from an earlier run are still
/// exactly what it would write (a run that found nothing new rewrites nothing).
fn make_output(
    wh: &Warehouse,
    output: &transform::SqlOutput,
    out: &Path,
    inputs: u64,
) -> OutputSummary {
    let mut s = OutputSummary {
        name: output.name.clone(),
        ..Default::default()
    };
    let fingerprint = format!(
        "{:016x}",
        xxh3_64(format!("{inputs:016x}\0{}", output.sql).as_bytes())
    );
    let files = export::paths(out, &output.name);
    if let Some(rows) = wh.output_state(&output.name, &fingerprint)
        && files.iter().all(|f| f.is_file())
    {
        s.rows = rows;
        s.files = files.iter().map(|f| f.display().to_string()).collect();
        s.unchanged = true;
        return s;
    }
    let result = transform::materialize(wh.connection(), output).and_then(|rows| {
        s.rows = rows;
        export::write(wh.connection(), transform::OUTPUT_TABLE, out, &output.name)
    });
    match result {
        Ok(files) => {
            s.files = files.iter().map(|f| f.display().to_string()).collect();
            // Best effort: without the record the next run just writes the files again.
            let _ = wh.set_output_state(&output.name, &fingerprint, s.rows);
        }
        Err(e) => {
            s.error_kind = Some(e.kind);
            s.error = Some(e.message);
        }
    }
    s
}
