//! Batching: the chunks of every file read in a run, parsed into frames of bounded size,
//! each sealed with the checkpoints it advances and handed to the loader, which commits the
//! two together or not at all.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use polars::prelude::DataFrame;

use crate::enrich::Enricher;
use crate::source::{Checkpoint, LineReader, Resume};

use super::{FileContext, FrameBuilder, ParsedBatch, aligned};

/// Told how far a run's reading has got (e.g. to draw a progress bar).
pub trait Progress: Send + Sync {
    /// Bytes the run expects to read, before it starts.
    fn start(&self, backlog_bytes: u64);
    fn advance(&self, bytes: u64);
    fn finish(&self);
    /// A step of a long task after reading (a rollup rebuilt over all history).
    fn note(&self, _step: &str) {}
}

/// A parsed batch with the checkpoints it advances: committed together or not at all.
pub struct Sealed {
    pub parsed: ParsedBatch,
    pub checkpoints: Vec<Checkpoint>,
    /// The run's last batch: no parsing goes on beside its commit.
    pub last: bool,
    /// `--visitor-id hashed`: the daily salts drawn for this batch's rows, stored with them.
    pub salts: Vec<(i32, crate::enrich::visitor_id::Salt)>,
}

/// What reading one file did.
#[derive(Debug, Default)]
pub struct FileRead {
    pub bytes: u64,
    /// False when reading stopped early: the loader failed, or a stop was requested.
    pub finished: bool,
}

/// Chunks parsed and waiting to be committed together.
pub struct Batcher<S: FnMut(Sealed) -> bool> {
    last_ingested_at_us: i64,
    budget: usize,
    builder: FrameBuilder,
    /// Rows held back from the last sealed batch (see [`aligned`]), first in the next one.
    carried: Option<DataFrame>,
    /// Their input bytes, counted against the next batch's budget.
    carried_bytes: usize,
    /// Checkpoints to seal, in the order made, each with the batch's rows made before it.
    checkpoints: Vec<(usize, Checkpoint)>,
    /// Every checkpoint of this run so far, sealed or not: where each file read stands now.
    latest: HashMap<String, Checkpoint>,
    enricher: Enricher,
    /// Takes a sealed batch; false once the loader has stopped.
    sink: S,
    /// Time spent waiting for the loader to take a sealed batch.
    pub waited: Duration,
    stop: Option<Arc<AtomicBool>>,
    progress: Option<Arc<dyn Progress>>,
}

impl<S: FnMut(Sealed) -> bool> Batcher<S> {
    /// `after_us`: the latest `ingested_at` the warehouse holds. A batch's `ingested_at` is
    /// its key (its rows, its lake files, the days it touched), so it must be later than any
    /// before it even when the clock has stepped back since the last run.
    pub fn new(
        budget: usize,
        enricher: Enricher,
        sink: S,
        after_us: i64,
        stop: Option<Arc<AtomicBool>>,
        progress: Option<Arc<dyn Progress>>,
    ) -> Self {
        Batcher {
            last_ingested_at_us: after_us,
            budget,
            builder: FrameBuilder::new(1024),
            carried: None,
            carried_bytes: 0,
            checkpoints: Vec::new(),
            latest: HashMap::new(),
            enricher,
            sink,
            waited: Duration::ZERO,
            stop,
            progress,
        }
    }

    /// Several chunks per batch, each small enough to parse while the next is read.
    pub fn chunk_bytes(&self) -> usize {
        (self.budget / 4).clamp(4096, 8 << 20)
    }

    fn stopping(&self) -> bool {
        self.stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed))
    }

    /// Commit `checkpoint` with the batch being filled (so with, or before, the next
    /// checkpoint of any file).
    pub fn keep_checkpoint(&mut self, checkpoint: Checkpoint) {
        self.record(checkpoint);
    }

    fn record(&mut self, checkpoint: Checkpoint) {
        self.latest
            .insert(checkpoint.path.clone(), checkpoint.clone());
        let rows = self.carried.as_ref().map_or(0, DataFrame::height) + self.builder.rows();
        self.checkpoints.push((rows, checkpoint));
    }

    /// The checkpoints made since the last call, committed or not: where the files read
    /// stand now. A file a rotation puts under a new name during the run continues from
    /// there, not from where the run started.
    pub fn take_latest(&mut self) -> HashMap<String, Checkpoint> {
        std::mem::take(&mut self.latest)
    }

    /// Read `reader`'s lines (the file `key`, resumed as `resume` says) into the batch with
    /// the file's parser, sealing the batch whenever it is full.
    pub fn take_file(
        &mut self,
        key: &str,
        resume: &Resume,
        mut reader: LineReader,
        file: &mut FileContext,
    ) -> std::io::Result<FileRead> {
        let mut read = FileRead::default();
        let checkpoint_at = |offset, marker, file: &FileContext| {
            let mut cp = resume.checkpoint_at(
                key,
                offset,
                marker,
                Some(&*file.format),
                file.parser.state(),
            );
            // An archive's size says "read to its end" (see `Resume::nothing_new`): only the
            // checkpoint at its end may carry it, or a run killed midway loses the rest.
            if resume.compressed {
                cp.size = 0;
            }
            cp
        };
        let mut last_marker = reader.marker();
        if resume.moved_from.is_some() || resume.compressed {
            // Record the taken-over position under this path now, even if nothing follows
            // it: the old path may soon hold another file and its checkpoint move on.
            let here = checkpoint_at(resume.offset, reader.marker(), file);
            self.record(here);
        }
        let mut consumed_to = resume.offset;
        loop {
            let chunk = match reader.next_chunk()? {
                Some(chunk) => chunk,
                // A compressed file cannot grow: its unterminated last line is final.
                None => match resume.compressed.then(|| reader.take_partial()).flatten() {
                    Some(chunk) => chunk,
                    None => break,
                },
            };
            read.bytes += chunk.end - consumed_to;
            if let Some(p) = &self.progress {
                p.advance(chunk.end - consumed_to);
            }
            consumed_to = chunk.end;
            let (end, marker) = (chunk.end, chunk.marker);
            last_marker = marker;
            self.builder.push_chunk(chunk, file, &mut self.enricher);
            // After the chunk: the format's state there (W3C columns) goes with the offset.
            self.record(checkpoint_at(end, marker, file));
            if self.builder.bytes() + self.carried_bytes >= self.budget && !self.seal(false) {
                return Ok(read);
            }
            if self.stopping() {
                tracing::info!("stop requested: committing what was read");
                return Ok(read);
            }
        }
        if resume.compressed {
            let mut end = checkpoint_at(consumed_to, last_marker, file);
            end.size = resume.size;
            self.record(end);
        }
        read.finished = true;
        Ok(read)
    }

    /// Hand the batch to the loader (`last`: nothing will follow it); false when the loader
    /// has stopped. A batch that is not the last is cut at whole row groups (see
    /// [`aligned`]): the rows after the cut, and the checkpoints made after them, go on into
    /// the next batch.
    pub fn seal(&mut self, last: bool) -> bool {
        if self.builder.is_empty() && self.checkpoints.is_empty() && self.carried.is_none() {
            return true;
        }
        // Each batch gets its own ingested_at (strictly later than the last one), which lets
        // the load stage count exactly the rows this batch inserted.
        let ingested_at_us = crate::failpoint::now_us().max(self.last_ingested_at_us + 1);
        self.last_ingested_at_us = ingested_at_us;
        let builder = std::mem::replace(&mut self.builder, FrameBuilder::new(1024));
        let mut parsed = builder.finish(ingested_at_us);
        let mut joined = false;
        if let Some(carried) = self.carried.take() {
            self.carried_bytes = 0;
            let fresh = std::mem::take(&mut parsed.logs);
            parsed.logs = aligned::prepend(carried, fresh, ingested_at_us)
                .expect("a batch's frames have one schema");
            joined = true;
        }
        let rows = parsed.logs.height();
        let cut = if last { rows } else { aligned::cut(rows) };
        let checkpoints = self.checkpoints_to(cut, cut == rows);
        if cut < rows {
            let tail = parsed.logs.slice(cut as i64, rows - cut);
            parsed.logs = parsed.logs.slice(0, cut);
            self.carried_bytes = aligned::input_bytes(&tail);
            self.carried = Some(tail);
        }
        if joined || cut < rows {
            parsed.time_range = aligned::time_range(&parsed.logs);
        }
        let handing_over = Instant::now();
        let salts = self.enricher.take_drawn_salts();
        let taken = (self.sink)(Sealed {
            parsed,
            checkpoints,
            last,
            salts,
        });
        self.waited += handing_over.elapsed();
        taken
    }

    /// The checkpoints made before the batch's first `cut` rows were all made (all of them
    /// with `all`), the latest of each file; the rest stay, counted from the cut.
    fn checkpoints_to(&mut self, cut: usize, all: bool) -> Vec<Checkpoint> {
        let mut sealed: Vec<Checkpoint> = Vec::new();
        let mut kept = Vec::new();
        for (rows, checkpoint) in self.checkpoints.drain(..) {
            if all || rows <= cut {
                match sealed.iter_mut().find(|c| c.path == checkpoint.path) {
                    Some(earlier) => *earlier = checkpoint,
                    None => sealed.push(checkpoint),
                }
            } else {
                kept.push((rows - cut, checkpoint));
            }
        }
        self.checkpoints = kept;
        sealed
    }
}
