//! One incremental pass of `weblog run`, wired from the stages: source (find files, where to
//! resume, read lines) → parse (frames, batches) → load (commit with checkpoints) → transform
//! (rollups, outputs) → export. The work is in the stages; this only connects them.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{Receiver, SyncSender};
use std::time::{Duration, Instant};

use crate::enrich::{AnonymizeIp, ClientResolver, DailySalts, Enricher, GeoIp, VisitorId};
use crate::error::{Error, ErrorKind, Result};
use crate::export;
use crate::load::Warehouse;
use crate::parse::{self, Batcher, Format, Progress, Sealed};
use crate::source::{self, Checkpoint, LogFile, Resume, SourceSpec, WrapperChoice};
use crate::summary::{FileSummary, FormatChange, RunSummary};
use crate::transform;

/// DuckDB's memory limit unless told otherwise: with two batches in flight, keeps a run's
/// peak RSS under 1 GiB whatever the backlog or the history.
pub const DEFAULT_MEMORY_LIMIT: &str = "384MB";

/// A source of logs with its format compiled (None: `auto`, decided per file).
#[derive(Clone)]
pub struct Source {
    pub spec: SourceSpec,
    pub format: Option<Format>,
}

#[derive(Clone)]
pub struct RunOptions {
    pub sources: Vec<Source>,
    /// How the visitor's address is found (X-Forwarded-For behind trusted proxies).
    pub client: ClientResolver,
    /// `--anonymize-ip`.
    pub anonymize_ip: AnonymizeIp,
    /// `--visitor-id`.
    pub visitor_id: VisitorId,
    pub db: PathBuf,
    pub sql: PathBuf,
    pub out: PathBuf,
    pub wait: Duration,
    pub batch_bytes: usize,
    /// DuckDB's `memory_limit`.
    pub memory_limit: String,
    /// A MaxMind-format country database; None: no country column values.
    pub geoip: Option<PathBuf>,
    /// The web server these logs are from (the `host` column).
    pub host: String,
    /// A shared Parquet lake to append every committed row to.
    pub lake: Option<PathBuf>,
    pub filter: transform::OutputFilter,
    pub rollups: transform::RollupParams,
    /// How long the bookkeeping of gone files and past runs is kept.
    pub retention: crate::load::Retention,
    /// How long raw rows are kept as stored (`retention_days`, `anonymize_after_days`).
    pub keep: crate::retention::Keep,
    /// When set (e.g. by SIGTERM), reading stops after the current chunk; what was read is
    /// committed and the outputs refreshed as usual.
    pub stop: Option<Arc<AtomicBool>>,
    pub progress: Option<Arc<dyn Progress>>,
}

pub fn run(opts: &RunOptions) -> Result<RunSummary> {
    let started = Instant::now();
    let started_at_us = chrono::Utc::now().timestamp_micros();
    // Fail before touching anything if the results could not be written anyway.
    export::check_writable(&opts.out)?;
    let sql = transform::load(&opts.sql)?;
    let specs: Vec<SourceSpec> = opts.sources.iter().map(|s| s.spec.clone()).collect();
    let (files, warnings) = source::discover(&specs)?;
    crate::failpoint::hit("after-discover");
    let geoip = opts.geoip.as_deref().map(GeoIp::open).transpose()?;
    let mut wh = Warehouse::open(&opts.db, opts.wait, &opts.memory_limit)?;
    let mut summary = RunSummary {
        database: opts.db.display().to_string(),
        warnings,
        geoip_attribution: opts.geoip.as_deref().and_then(GeoIp::attribution),
        out_dir: opts.out.clone(),
        ..Default::default()
    };
    let result = pass(&mut wh, opts, &sql, &files, geoip, &mut summary);
    summary.total(started.elapsed().as_secs_f64());
    let error = match &result {
        Err(e) => Some(e.message.clone()),
        Ok(()) => summary.failure().map(|e| e.message),
    };
    // Best effort: a run whose database just failed may not be able to record itself.
    if let Err(e) = wh.record_run(started_at_us, &summary, error.as_deref()) {
        tracing::warn!("cannot record the run: {}", e.message);
    }
    result.map(|()| summary)
}

/// The run after the database is open: read, parse and load every batch, then the outputs.
fn pass(
    wh: &mut Warehouse,
    opts: &RunOptions,
    sql: &transform::SqlSet,
    files: &[LogFile],
    geoip: Option<GeoIp>,
    summary: &mut RunSummary,
) -> Result<()> {
    export::remove_stale_temp_files(&opts.out);
    let mut enricher = Enricher::new(geoip, opts.client.clone()).with_anonymize(opts.anonymize_ip);
    wh.upgrade(&mut enricher, &opts.host)?;
    if let Some(change) = wh.record_anonymize_ip(opts.anonymize_ip)? {
        summary.warnings.push(change);
    }
    if let Some(change) = wh.record_visitor_id(opts.visitor_id)? {
        summary.warnings.push(change);
    }
    if opts.visitor_id == VisitorId::Hashed {
        enricher = enricher.with_salts(DailySalts::new(wh.visitor_salts()?));
    }
    let stored = wh.checkpoints()?;
    let last = wh.last_ingested_at_us()?;
    // Every file identified before any is read: the order of reading depends on it.
    let planned: Vec<std::io::Result<Option<Resume>>> = files
        .iter()
        .map(|f| source::identify(&f.path, &stored))
        .collect();
    if let Some(p) = &opts.progress {
        let backlog = planned
            .iter()
            .filter_map(|r| r.as_ref().ok().and_then(Option::as_ref))
            .map(|r| r.lag())
            .sum();
        p.start(backlog);
    }

    // Reading and parsing run on their own thread, one batch ahead of the DuckDB commit on
    // this one. The hand-over is a rendezvous: at most two batches exist at once.
    // DuckDB loads on one thread while the parser has the other core (with two, DuckDB's
    // load stage was 20% shorter but the run was not: the parser lost its core), except for
    // the last batch, beside which nothing is parsed. DuckDB loads within a small memory
    // limit (see `Warehouse::loading`), the SQL stages within the run's.
    wh.set_reject_window(opts.retention.checkpoints);
    wh.loading(true)?;
    let (files_read, loaded) = std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Sealed>(0);
        let reader =
            scope.spawn(|| read_all(files, planned, &stored, opts, enricher, last, sender));
        let loaded = load_all(wh, receiver);
        let files_read = reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (files_read, loaded)
    });
    if let Some(p) = &opts.progress {
        p.finish();
    }
    let (mut file_summaries, read_ms) = files_read;
    let loaded = loaded?;
    wh.loading(false)?;
    // The rows are committed: a checkpoint that fails now is done by DuckDB later.
    if loaded.batches > 1
        && let Err(e) = wh.checkpoint()
    {
        tracing::warn!("{}", e.message);
    }
    // Where each file stands now, decided as `status` decides it.
    let stored = wh.checkpoints()?;
    for f in &mut file_summaries {
        if let Some(l) = loaded.per_path.get(&f.path) {
            f.book(l.lines, l.rejected, l.skipped, l.inserted);
            f.pruned_days += l.pruned_days;
            f.first_reject = l
                .first_reject
                .as_ref()
                .map(|(offset, why)| format!("offset {offset}: {why}"));
        }
        if let Ok(Some(now)) = source::identify(Path::new(&f.path), &stored) {
            f.lag_bytes = now.lag();
        }
    }
    summary
        .warnings
        .extend(file_summaries.iter().filter_map(|f| f.warning.clone()));
    summary.pruned = wh.prune(&opts.retention)?;
    wh.forget_old_salts(crate::failpoint::now().date_naive())?;
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

    if let Some(lake) = &opts.lake {
        let stage = Instant::now();
        let mut exported = export::lake::export(wh, lake);
        summary.warnings.append(&mut exported.warnings);
        summary.lake = Some(exported);
        summary.stages_ms.lake = stage.elapsed().as_millis() as u64;
    }

    let conn = wh.connection();
    let mut prepare = transform::prepare_once(conn, &sql.lib, &opts.filter, &opts.rollups);
    let stage = Instant::now();
    summary.rollups_rebuilt = transform::refresh_rollups(
        conn,
        &sql.rollups,
        &sql.rollup_merges,
        &sql.lib,
        &opts.rollups,
        &mut prepare,
        opts.progress.as_deref(),
    )?;
    summary
        .warnings
        .extend(crate::retention::rebuild_warnings(&summary.rollups_rebuilt));
    summary.stages_ms.rollups = stage.elapsed().as_millis() as u64;
    tracing::debug!(ms = summary.stages_ms.rollups, "rollups refreshed");
    let stage = Instant::now();
    let (outputs, site) = transform::refresh_outputs(
        wh,
        sql,
        &opts.filter,
        &opts.rollups,
        &opts.out,
        &mut prepare,
    )?;
    // The macros' closure borrows the connection: the retention below needs it whole.
    drop(prepare);
    summary.outputs = outputs;
    summary.site_host_detected = site;
    summary.stages_ms.outputs = stage.elapsed().as_millis() as u64;
    // Last: it changes no rollup, so the outputs just written stay right.
    if opts.keep.is_set() {
        summary.retention = Some(crate::retention::apply(
            wh,
            &opts.keep,
            opts.lake.as_deref(),
        )?);
    }
    Ok(())
}

/// Every file's new lines, read and parsed into batches handed to the loader. Returns each
/// file's summary (what was read; the loader books what was stored) and the busy time.
fn read_all(
    files: &[LogFile],
    planned: Vec<std::io::Result<Option<Resume>>>,
    stored: &HashMap<String, Checkpoint>,
    opts: &RunOptions,
    enricher: Enricher,
    last_ingested_at_us: i64,
    loader: SyncSender<Sealed>,
) -> (Vec<FileSummary>, u64) {
    let started = Instant::now();
    let sink = |sealed| loader.send(sealed).is_ok();
    let mut batcher = Batcher::new(
        opts.batch_bytes,
        enricher,
        sink,
        last_ingested_at_us,
        opts.stop.clone(),
        opts.progress.clone(),
    );
    let keys: Vec<String> = files.iter().map(|f| source::key(&f.path)).collect();
    let takes_over: Vec<(&str, Option<&str>)> = keys
        .iter()
        .zip(&planned)
        .map(|(key, plan)| {
            let from = plan.as_ref().ok().and_then(Option::as_ref);
            (key.as_str(), from.and_then(|r| r.moved_from.as_deref()))
        })
        .collect();
    let order = source::takeover_order(&takes_over);
    let mut planned: Vec<Option<std::io::Result<Option<Resume>>>> =
        planned.into_iter().map(Some).collect();
    let mut summaries = Vec::with_capacity(files.len());
    // Paths whose checkpoint a file read in this run has taken over (takers come first).
    let mut taken: HashSet<String> = HashSet::new();
    // The checkpoints as this run moves them on: what each file is identified against.
    let mut now = stored.clone();
    for i in order {
        let file = &files[i];
        let mut fs = FileSummary::new(keys[i].clone());
        let source = &opts.sources[file.source];
        let plan = planned[i].take().expect("each file is read once");
        let going_on = read_file(
            file,
            plan,
            source,
            opts,
            &mut fs,
            (&now, &taken),
            &mut batcher,
        )
        .unwrap_or_else(|e| {
            fs.error_kind = Some(e.kind);
            fs.error = Some(e.message);
            true
        });
        if let (Some(from), None) = (&fs.moved_from, &fs.error) {
            taken.insert(from.clone());
        }
        now.extend(batcher.take_latest());
        crate::failpoint::hit("between-files");
        summaries.push((i, fs));
        if !going_on {
            break;
        }
    }
    // Reported in the order the files were found.
    summaries.sort_by_key(|(i, _)| *i);
    let summaries = summaries.into_iter().map(|(_, fs)| fs).collect();
    batcher.seal(true);
    // Busy time: waiting for the loader to take a batch is not reading or parsing.
    let busy = started.elapsed().saturating_sub(batcher.waited);
    (summaries, busy.as_millis() as u64)
}

/// One file's new lines into the batcher; Ok(false) when reading stopped early. `stored`:
/// the checkpoints as this run has moved them on so far, and the paths whose checkpoint a
/// file already read has taken over.
fn read_file<S: FnMut(Sealed) -> bool>(
    file: &LogFile,
    planned: std::io::Result<Option<Resume>>,
    source: &Source,
    opts: &RunOptions,
    fs: &mut FileSummary,
    (stored, taken): (&HashMap<String, Checkpoint>, &HashSet<String>),
    batcher: &mut Batcher<S>,
) -> Result<bool> {
    let path = &file.path;
    let name = fs.path.clone();
    let unreadable = |e: std::io::Error| {
        Error::new(
            ErrorKind::NoInput,
            format!("cannot read log file {name}: {e}"),
        )
    };
    // Renamed or removed between the glob and here: logrotate at work, not an error. Its
    // lines are read under its new name (a pattern matches it) or were read before.
    let vanished = |fs: &mut FileSummary| -> Result<bool> {
        fs.warning = Some(format!(
            "log file {name} was renamed or removed while this run started (a rotation): not read now"
        ));
        Ok(true)
    };
    // Decided again now, against where this run has got to: files may have rotated while
    // the ones before were read (a copytruncate's copy then continues from what this run
    // read of the original, not from the run's start). An archive cannot change, so its
    // decision, which may have cost a decompression, stands while it is the same file.
    let planned = match planned {
        Ok(Some(resume)) if resume.compressed && source::still_identified(path, &resume) => {
            Ok(Some(resume))
        }
        _ => source::identify(path, stored),
    };
    let resume = match planned {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return vanished(fs),
        other => other.map_err(unreadable)?,
    };
    let Some(resume) = resume else {
        return Ok(true); // not even one complete line yet
    };
    fs.start = Some(resume.reason);
    fs.start_offset = resume.offset;
    fs.format = resume.from.as_ref().and_then(|cp| cp.format.clone());
    if resume.nothing_new() {
        return Ok(true); // the common cron case: a stat and two small reads
    }
    // A container runtime's wrapper: said by the source, or recognised from the first lines.
    let wrapper = match source.spec.wrapper {
        WrapperChoice::Auto => {
            let first = source::first_lines(path, 8, 64 * 1024).map_err(unreadable)?;
            WrapperChoice::Auto.resolve(&first)
        }
        choice => choice.resolve(&[]),
    };
    let legacy = source.spec.legacy_encoding;
    let (resume, reader) = match source::open(path, resume, batcher.chunk_bytes(), wrapper, legacy)
    {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return vanished(fs),
        other => other.map_err(unreadable)?,
    };
    fs.start = Some(resume.reason);
    fs.start_offset = resume.offset;
    fs.moved_from = resume.moved_from.clone();
    let host: Arc<str> = Arc::from(source.spec.host.as_deref().unwrap_or(&opts.host));
    let vhost = source.spec.vhost.as_deref().map(Arc::from);
    let fixed = source
        .format
        .as_ref()
        .map(|f| (source.spec.format.as_str(), f));
    let (lines, bytes) = parse::detect_window();
    let mut context = parse::file_context(fixed, &resume, host, vhost, || {
        let first = source::first_lines(path, lines, bytes)?;
        let first: Vec<Vec<u8>> = match wrapper {
            None => first,
            Some(w) => w
                .records(&first.join(&b'\n'), 0)
                .into_iter()
                .map(|r| r.line.into_owned())
                .collect(),
        };
        // Recognised in the text the lines will be read as.
        Ok(match legacy {
            None => first,
            Some(legacy) => first
                .into_iter()
                .map(|l| match std::str::from_utf8(&l) {
                    Ok(_) => l,
                    Err(_) => legacy.decode_without_bom_handling(&l).0.as_bytes().to_vec(),
                })
                .collect(),
        })
    })
    .map_err(|e| {
        Error::new(
            e.kind,
            format!("log file {}: {}", path.display(), e.message),
        )
    })?;
    // The content this path's checkpoint describes has gone elsewhere; unless a file of this
    // run took it over, that checkpoint is kept so the copy is recognised when found.
    if !taken.contains(&fs.path)
        && let Some(kept) = source::retire(&fs.path, &resume, stored)
    {
        batcher.keep_checkpoint(kept);
    }
    let read = batcher
        .take_file(&fs.path, &resume, reader, &mut context)
        .map_err(unreadable)?;
    fs.format = Some(context.format.to_string());
    fs.format_changes = context
        .switches
        .iter()
        .map(|(offset, from, to)| FormatChange {
            offset: *offset,
            from: from.to_string(),
            to: to.to_string(),
        })
        .collect();
    fs.bytes_read = read.bytes;
    Ok(read.finished)
}

/// What the loader stored, per file.
#[derive(Default)]
struct Stored {
    lines: u64,
    rejected: u64,
    skipped: u64,
    inserted: u64,
    /// Of `rejected`: requests of pruned days.
    pruned_days: u64,
    first_reject: Option<(u64, String)>,
}

#[derive(Default)]
struct Loaded {
    per_path: HashMap<String, Stored>,
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
        if sealed.last {
            // Nothing is parsed beside the last commit: DuckDB may have both cores.
            wh.all_threads()?;
        }
        for f in &sealed.parsed.per_file {
            let e = loaded.per_path.entry(f.file.to_string()).or_default();
            e.lines += f.parsed + f.rejected + f.skipped;
            e.rejected += f.rejected;
            e.skipped += f.skipped;
            if e.first_reject.is_none() {
                e.first_reject = f.first_reject.clone();
            }
        }
        let committed = wh.commit(sealed)?;
        for (file, n) in committed.inserted {
            loaded.per_path.entry(file).or_default().inserted += n;
        }
        for (file, n) in committed.closed {
            let e = loaded.per_path.entry(file).or_default();
            e.rejected += n;
            e.pruned_days += n;
        }
        for (file, n) in committed.refused {
            loaded.per_path.entry(file).or_default().rejected += n;
        }
        loaded.batches += 1;
        busy += started.elapsed();
    }
    loaded.busy_ms = busy.as_millis() as u64;
    Ok(loaded)
}
