//! Stage 1: find the log files, decide where to resume in each, and read the complete
//! lines added since. Kept apart as in Vector's file-source: discovery (here), file identity
//! ([`fingerprint`]), the checkpoint record ([`checkpoint`]) and reading ([`reader`]).

pub mod archive;
pub mod checkpoint;
pub mod fingerprint;
pub mod reader;
pub mod wrapper;

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use checkpoint::{
    Checkpoint, RETIRED, RETIRED_KEEP_DAYS, Resume, StartReason, is_retired, retire,
};
pub use reader::{Chunk, LineReader, MAX_LINE_BYTES, Oversize, REJECT_KEEP_BYTES, Unwrapped};
pub use wrapper::{Wrapper, WrapperChoice};

use crate::error::{Error, ErrorKind, Result};

/// The checkpoint key of a file: its path as found.
pub fn key(path: &Path) -> String {
    path.display().to_string()
}

/// Where the next read of `path` starts, given every stored checkpoint — the one decision
/// both `run` and `status` use. None: the file holds no complete line yet.
pub fn identify(path: &Path, stored: &HashMap<String, Checkpoint>) -> io::Result<Option<Resume>> {
    let key = key(path);
    if archive::is_archive(path) {
        archive::resume(path, &key, stored)
    } else {
        checkpoint::resume(&File::open(path)?, &key, stored)
    }
}

/// Whether `path` is still the file `resume` was decided for (a rotation may have put
/// another file under its name since).
pub fn still_identified(path: &Path, resume: &Resume) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).is_ok_and(|m| {
        m.dev() == resume.dev
            && m.ino() == resume.inode
            && (resume.compressed || m.len() >= resume.offset)
    })
}

/// The order to read files in (indices into `moved_from`, each file's path and the path whose
/// checkpoint it takes over): a file that takes over a path's checkpoint comes before the
/// file now under that path, whose own checkpoint replaces it. Otherwise a run killed
/// between the two commits would leave the renamed file unrecognised, read again from its
/// start. Chains (`.1` → `.2.gz` as `access.log` → `.1`) are read oldest first; otherwise
/// the given order is kept.
pub fn takeover_order(files: &[(&str, Option<&str>)]) -> Vec<usize> {
    let index: HashMap<&str, usize> = files
        .iter()
        .enumerate()
        .map(|(i, (path, _))| (*path, i))
        .collect();
    let mut takers: Vec<Vec<usize>> = vec![Vec::new(); files.len()];
    for (j, (_, from)) in files.iter().enumerate() {
        if let Some(&i) = from.and_then(|p| index.get(p))
            && i != j
        {
            takers[i].push(j);
        }
    }
    // Depth first, a file after all its takers; a cycle (two names swapped) is cut where
    // it is found.
    let mut seen = vec![false; files.len()];
    let mut order = Vec::with_capacity(files.len());
    for root in 0..files.len() {
        if seen[root] {
            continue;
        }
        seen[root] = true;
        let mut stack = vec![(root, 0usize)];
        while let Some((i, next)) = stack.last_mut() {
            if let Some(&j) = takers[*i].get(*next) {
                *next += 1;
                if !seen[j] {
                    seen[j] = true;
                    stack.push((j, 0));
                }
            } else {
                order.push(*i);
                stack.pop();
            }
        }
    }
    order
}

/// A reader of `path`'s complete lines from where `resume` says. The returned resume may
/// differ: an archive shorter than the offset taken over is read whole instead.
pub fn open(
    path: &Path,
    resume: Resume,
    chunk_bytes: usize,
    wrapper: Option<Wrapper>,
    legacy: Option<&'static encoding_rs::Encoding>,
) -> io::Result<(Resume, LineReader)> {
    let name: Arc<str> = Arc::from(key(path).as_str());
    if resume.compressed {
        return archive::reader(path, name, resume, chunk_bytes)
            .map(|(resume, reader)| (resume, reader.unwrapping(wrapper).decoding(legacy)));
    }
    let file = File::open(path)?;
    // The bytes just before the offset, to continue the checkpoint marker.
    let start = resume.offset.saturating_sub(fingerprint::MARKER_BYTES);
    let mut window = vec![0u8; (resume.offset - start) as usize];
    file.read_exact_at(&mut window, start)?;
    let reader = LineReader::new(file, name, resume.offset, window, chunk_bytes)?;
    Ok((resume, reader.unwrapping(wrapper).decoding(legacy)))
}

/// Where logs are and how to read them: the command line's `--logs`/`--format`, or a
/// `[[source]]` table of weblog.toml.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSpec {
    /// Paths or glob patterns.
    pub logs: Vec<String>,
    /// A preset name, a format string, or `auto`.
    pub format: String,
    /// The site these files are of, for lines that do not name their virtual host.
    pub vhost: Option<String>,
    /// The web server they come from (default: the run's `--host`).
    pub host: Option<String>,
    /// A container runtime's wrapper around each line (`auto`: recognised per file).
    pub wrapper: WrapperChoice,
    /// The encoding of lines that are not UTF-8 (None: such lines are rejects).
    pub legacy_encoding: Option<&'static encoding_rs::Encoding>,
}

/// `--encoding`: `utf-8` (lines that are not are rejects), `auto` (such lines are
/// windows-1252, which the WHATWG standard also reads for latin1/ISO-8859-1), or any WHATWG
/// label (`latin1`, `cp1252`, `big5`, `shift_jis`, `euc-kr`, `gbk`, `koi8-r`, …). Encodings
/// whose newline is not the byte `\n` (UTF-16) cannot be read line by line and are refused.
pub fn legacy_encoding(label: &str) -> Result<Option<&'static encoding_rs::Encoding>> {
    let usage = |msg: String| Error::new(ErrorKind::Usage, msg);
    match label.to_ascii_lowercase().as_str() {
        "utf-8" | "utf8" => return Ok(None),
        "auto" => return Ok(Some(encoding_rs::WINDOWS_1252)),
        _ => {}
    }
    let encoding = encoding_rs::Encoding::for_label(label.as_bytes()).ok_or_else(|| {
        usage(format!(
            "unknown encoding {label:?}: utf-8, auto, or a WHATWG label such as latin1, cp1252, big5, shift_jis"
        ))
    })?;
    if encoding == encoding_rs::UTF_16LE
        || encoding == encoding_rs::UTF_16BE
        || encoding == encoding_rs::REPLACEMENT
    {
        return Err(usage(format!(
            "encoding {label:?} cannot be read line by line; convert the log to UTF-8 first"
        )));
    }
    Ok((encoding != encoding_rs::UTF_8).then_some(encoding))
}

/// A file found, and the source (an index into the specs) it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    pub path: PathBuf,
    pub source: usize,
}

/// The complete lines the file starts with (decompressed for an archive), at most `max_lines`
/// and `max_bytes` of them: what a format is recognised from.
pub fn first_lines(path: &Path, max_lines: usize, max_bytes: usize) -> io::Result<Vec<Vec<u8>>> {
    use std::io::Read;
    let mut head = Vec::with_capacity(max_bytes);
    if archive::is_archive(path) {
        archive::decompressed(path)?
            .take(max_bytes as u64)
            .read_to_end(&mut head)?;
    } else {
        File::open(path)?
            .take(max_bytes as u64)
            .read_to_end(&mut head)?;
    }
    let complete = head.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    Ok(head[..complete]
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .take(max_lines)
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec())
        .collect())
}

/// The files each source names, each file once (in the first source that names it), in a
/// stable order, plus warnings for patterns that matched nothing (cron must not fail
/// because a rotation left no file yet). A plain path that does not exist is an error.
pub fn discover(sources: &[SourceSpec]) -> Result<(Vec<LogFile>, Vec<String>)> {
    let mut found = Vec::new();
    let mut warnings = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (index, spec) in sources.iter().enumerate() {
        let (files, w) = discover_patterns(&spec.logs)?;
        warnings.extend(w);
        for path in files {
            if seen.insert(path.clone()) {
                found.push(LogFile {
                    path,
                    source: index,
                });
            }
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((found, warnings))
}

/// The files the patterns name, each once, in a stable order, plus warnings for patterns
/// that matched nothing (cron must not fail because a rotation left no file yet).
fn discover_patterns(patterns: &[String]) -> Result<(Vec<PathBuf>, Vec<String>)> {
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

#[cfg(test)]
mod tests {
    use super::takeover_order;

    #[test]
    fn a_file_taking_over_a_path_is_read_before_the_file_now_under_it() {
        // access.log (new), .1 (was access.log), .2.gz (was .1), other.log.
        let files = [
            ("access.log", None),
            ("access.log.1", Some("access.log")),
            ("access.log.2.gz", Some("access.log.1")),
            ("other.log", None),
        ];
        assert_eq!(takeover_order(&files), vec![2, 1, 0, 3]);
        // Nothing taken over: the given order.
        let plain = [("a", None), ("b", None), ("c", Some("gone"))];
        assert_eq!(takeover_order(&plain), vec![0, 1, 2]);
        // Two names swapped: each file once.
        let swapped = [("x", Some("y")), ("y", Some("x"))];
        let mut order = takeover_order(&swapped);
        order.sort();
        assert_eq!(order, vec![0, 1]);
    }
}
