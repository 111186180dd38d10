//! What a run did, file by file and output by output: printed by `report`, recorded in the
//! `runs` table by `load`, turned into metrics by `metrics`. A leaf module, so the stages
//! that fill it in do not depend on the pipeline that wires them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::error::{Error, ErrorKind};
use crate::source::StartReason;

#[derive(Debug, Default, Serialize)]
pub struct FileSummary {
    pub path: String,
    pub start: Option<StartReason>,
    pub start_offset: u64,
    /// When the file continues a checkpoint of another path (rotation by rename or copy).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<String>,
    /// The log format the file was read with (`auto` resolves to a preset per file); where
    /// it changed, the one it ends in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Where the server's format changed in the file (with `auto`), in this run.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub format_changes: Vec<FormatChange>,
    /// The first line set aside: "offset N: reason".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_reject: Option<String>,
    pub bytes_read: u64,
    pub lines_read: u64,
    pub inserted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    /// Of `rejected`, requests of days before the retention horizon (`weblog prune`): set
    /// aside, their days' aggregates being closed.
    #[serde(skip_serializing_if = "is_zero")]
    pub pruned_days: u64,
    /// Lines that are not requests (W3C `#` directives, a JSON log's non-access records).
    pub skipped: u64,
    /// Bytes in the file past where this run stopped reading (to be read next time).
    pub lag_bytes: u64,
    /// Something the operator should know that is not a failure (the file vanished in a rotation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What kind of failure `error` is, for the exit code.
    #[serde(skip)]
    pub error_kind: Option<ErrorKind>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FormatChange {
    pub offset: u64,
    pub from: String,
    pub to: String,
}

impl FileSummary {
    pub fn new(path: String) -> Self {
        FileSummary {
            path,
            ..Default::default()
        }
    }

    /// Book what the loader stored of this file's lines.
    pub fn book(&mut self, lines: u64, rejected: u64, skipped: u64, inserted: u64) {
        self.lines_read += lines;
        self.rejected += rejected;
        self.skipped += skipped;
        self.inserted += inserted;
        self.duplicates += lines - rejected - skipped - inserted;
    }
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
    /// Time spent making it (query and files); 0 when unchanged.
    pub ms: u64,
    /// What kind of failure `error` is (a query's, or the disk's), for the exit code.
    #[serde(skip)]
    pub error_kind: Option<ErrorKind>,
}

/// What a run's pruning removed: checkpoints of files gone past their retention, `runs` rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Pruned {
    pub checkpoints: u64,
    pub runs: u64,
}

/// A rollup built over all history by a run: new, or its SQL or parameters changed.
#[derive(Debug, Clone, Serialize)]
pub struct Rebuilt {
    pub rollup: String,
    /// Days built by this run.
    pub days: u64,
    /// A rebuild an earlier run was stopped in went on from the day after this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed_after: Option<String>,
    /// Days before the retention horizon (`weblog prune`), which have no raw rows to rebuild
    /// from: kept as the old definition computed them.
    #[serde(skip_serializing_if = "is_zero")]
    pub kept_pruned_days: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What the lake export (`--lake`) did.
#[derive(Debug, Default, Serialize)]
pub struct LakeSummary {
    pub lake: String,
    /// Batches written to the lake by this run, and their rows and files.
    pub batches: u64,
    pub rows: u64,
    pub files: u64,
    /// The last batch now in the lake.
    pub mark: i64,
    /// Why the export stopped (the rows stay in the warehouse; the next run goes on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Said once, e.g. that the warehouse took a new id.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct StageTimes {
    pub read_parse: u64,
    pub load: u64,
    pub rollups: u64,
    pub outputs: u64,
    pub lake: u64,
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
    pub skipped: u64,
    pub batches: u64,
    pub outputs: Vec<OutputSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lake: Option<LakeSummary>,
    pub warnings: Vec<String>,
    /// Bookkeeping past its retention that this run removed.
    pub pruned: Pruned,
    /// Raw rows past `retention_days` / `anonymize_after_days` this run deleted or masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention: Option<Retained>,
    /// Rollups built over all history (new, or their SQL or parameters changed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rollups_rebuilt: Vec<Rebuilt>,
    /// The site's own host, found from the referrers when no --site-host or virtual host
    /// says it (its pages are left out of `referrers`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_host_detected: Option<String>,
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
            let kind = f.error_kind.unwrap_or(ErrorKind::NoInput);
            return Some(Error::new(kind, f.error.clone().unwrap_or_default()));
        }
        if let Some(e) = self.lake.as_ref().and_then(|l| l.error.as_ref()) {
            return Some(Error::new(ErrorKind::Io, e.clone()));
        }
        if let Some(o) = self.outputs.iter().find(|o| o.error.is_some()) {
            let kind = o.error_kind.unwrap_or(ErrorKind::Sql);
            return Some(Error::new(kind, o.error.clone().unwrap_or_default()));
        }
        self.all_rejected()
    }

    /// Lines were read and not one of them was a request: the format is wrong (a pasted
    /// `log_format` that is not the server's, a file of something else). Stored as rejects
    /// all the same; said as a failure so that cron reports it.
    fn all_rejected(&self) -> Option<Error> {
        // Requests of pruned days are requests all the same: the format fits.
        let rejected: u64 = self.files.iter().map(|f| f.rejected - f.pruned_days).sum();
        let requests: u64 = self
            .files
            .iter()
            .map(|f| f.lines_read - (f.rejected - f.pruned_days) - f.skipped)
            .sum();
        if rejected == 0 || requests > 0 {
            return None;
        }
        let first = self.files.iter().find(|f| f.rejected > 0)?;
        Some(Error::new(
            ErrorKind::Data,
            format!(
                "every line read ({rejected}) was a reject: {} read as {}, first at {}",
                first.path,
                first.format.as_deref().unwrap_or("?"),
                first.first_reject.as_deref().unwrap_or("?")
            ),
        ))
    }

    /// Add up the per-file figures and the rates, once the run is over.
    pub fn total(&mut self, secs: f64) {
        for f in &self.files {
            self.bytes_read += f.bytes_read;
            self.lines_read += f.lines_read;
            self.inserted += f.inserted;
            self.duplicates += f.duplicates;
            self.rejected += f.rejected;
            self.skipped += f.skipped;
        }
        self.elapsed_ms = (secs * 1000.0) as u64;
        self.lines_per_sec = self.lines_read as f64 / secs.max(1e-9);
        self.mb_per_sec = self.bytes_read as f64 / 1e6 / secs.max(1e-9);
    }
}

/// What pruning removed from the warehouse: rows per day of `logs` and of the rollups' key
/// tables (all of them together), and rejects (which have no day: by when they were read).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct RawPruned {
    /// Rows before this day go (the horizon recorded, which never moves back).
    pub before: Option<String>,
    pub logs: BTreeMap<String, u64>,
    pub key_rows: BTreeMap<String, u64>,
    pub rejects: u64,
    /// Addresses kept in rollups (`rollup_visits.client_addr`) of those days, masked.
    pub rollup_addresses: u64,
}

/// What masking rewrote: rows per day of `logs`, and rejects.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Masked {
    /// Rows before this day are masked.
    pub before: Option<String>,
    pub logs: BTreeMap<String, u64>,
    pub rejects: u64,
    /// Rows of the rollups' key tables (hashes of full addresses) of those days, deleted.
    pub key_rows: u64,
    /// Addresses kept in rollups (`rollup_visits.client_addr`) of those days, masked.
    pub rollup_addresses: u64,
}

/// Lake files removed or rewritten, per day.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct LakeFiles {
    pub files: BTreeMap<String, u64>,
    /// Rows taken out of rewritten files (forget), per day.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub rows: BTreeMap<String, u64>,
}

/// What retention did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Retained {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pruned: Option<RawPruned>,
    /// This warehouse's lake files deleted, per day.
    #[serde(skip_serializing_if = "lake_untouched")]
    pub lake: LakeFiles,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masked: Option<Masked>,
    /// This warehouse's lake files masked in place (`anonymize_after_days`), per day.
    #[serde(skip_serializing_if = "lake_untouched")]
    pub lake_masked: LakeFiles,
}

fn lake_untouched(l: &LakeFiles) -> bool {
    l.files.is_empty()
}
