//! Stage 1: find the log files, decide where to resume in each, and read the complete
//! lines added since. Kept apart as in Vector's file-source: discovery (here), file identity
//! ([`fingerprint`]), the checkpoint record ([`checkpoint`]) and reading ([`reader`]).

pub mod checkpoint;
pub mod fingerprint;
pub mod gz;
pub mod reader;

use std::path::{Path, PathBuf};

pub use checkpoint::{Checkpoint, Resume, StartReason};
pub use reader::{Chunk, LineReader, Oversize};

use crate::error::{Error, ErrorKind, Result};

/// The files the patterns name, each once, in a stable order, plus warnings for patterns
/// that matched nothing (cron must not fail because a rotation left no file yet).
pub fn discover(patterns: &[String]) -> Result<(Vec<PathBuf>, Vec<String>)> {
    let mut files = Vec::new();
    let mut warnings = Vec::new();
    for pattern in patterns {
        let is_glob = pattern.contains(['*', '?', '[']);
        if !is_glob {
            let path = Path::new(pattern);
            if !path.exists() {
                return Err(Error::new(
                    ErrorKind::NoInput,
                    format!("log file {pattern} does not exist"),
                ));
            }
            files.push(path.to_path_buf());
            continue;
        }
        let paths = glob::glob(pattern).map_err(|e| {
            Error::new(
                ErrorKind::Failed,
                format!("invalid glob pattern {pattern:?}: {e}"),
            )
        })?;
        let mut matched = 0;
        for entry in paths {
            let path = entry.map_err(|e| {
                Error::new(
                    ErrorKind::NoInput,
                    format!("cannot read {}: {}", e.path().display(), e.error()),
                )
            })?;
            if path.is_file() {
                files.push(path);
                matched += 1;
            }
        }
        if matched == 0 {
            warnings.push(format!("no log file matches {pattern}"));
        }
    }
    // The same file named twice (two patterns, or a relative and an absolute path) is read once.
    let mut seen = std::collections::HashSet::new();
    let mut unique = Vec::new();
    for f in files {
        let canonical = std::fs::canonicalize(&f).unwrap_or_else(|_| f.clone());
        if seen.insert(canonical.clone()) {
            unique.push(canonical);
        }
    }
    unique.sort();
    Ok((unique, warnings))
}
