//! Where reading stopped in a file, and where to resume on the next run.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;

use super::fingerprint::{self, Head};

/// Stored in the `checkpoints` table, committed with the rows it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub path: String,
    /// Offset just after the last complete line taken; always at a line start.
    pub offset: u64,
    pub head: Head,
    /// Hash of the `marker_len` bytes just before `offset`.
    pub marker: u64,
    /// How many bytes the marker covers ([`fingerprint::MARKER_BYTES`] when it was written).
    pub marker_len: u64,
    /// File size when it was read; an archive is unchanged while its size is (plain files are
    /// identified by content, not size).
    pub size: u64,
    /// Device and inode: a hint only, inodes are reused.
    pub dev: u64,
    pub inode: u64,
    /// The log format the file was read with (a preset name or a format string), so that
    /// `auto` keeps its choice for the file, and its rotated copies, from then on.
    pub format: Option<String>,
    /// The format's reading state at `offset` (a W3C file's active `#Fields:` line).
    pub format_state: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StartReason {
    /// Never seen: read from the start.
    New,
    /// Same file, resume at the checkpoint.
    Continue,
    /// Smaller than the checkpoint offset: truncated, read from the start.
    Truncated,
    /// The first line changed: another file under this name, read from the start.
    Replaced,
    /// Same first line but the bytes before the offset changed: rewritten, read from the start.
    Rewritten,
    /// Content first read under another name (renamed, copied): continued from there.
    Moved,
}

impl StartReason {
    pub fn as_str(self) -> &'static str {
        match self {
            StartReason::New => "new",
            StartReason::Continue => "continue",
            StartReason::Truncated => "truncated",
            StartReason::Replaced => "replaced",
            StartReason::Rewritten => "rewritten",
            StartReason::Moved => "moved",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Resume {
    pub offset: u64,
    pub reason: StartReason,
    pub head: Head,
    pub size: u64,
    pub dev: u64,
    pub inode: u64,
    /// With [`StartReason::Moved`]: the path whose checkpoint was taken over.
    pub moved_from: Option<String>,
    /// An archive: offsets count decompressed bytes, the file is read whole and cannot grow.
    pub compressed: bool,
    /// The checkpoint this resumes from (the file's own, or the one taken over).
    pub from: Option<Checkpoint>,
}

impl Resume {
    /// Reading the file of metadata `meta` (first line `head`) from `offset`, for `reason`,
    /// taking over `from` when given.
    pub fn at(
        offset: u64,
        reason: StartReason,
        head: Head,
        meta: &std::fs::Metadata,
        from: Option<&Checkpoint>,
        compressed: bool,
    ) -> Resume {
        Resume {
            offset,
            reason,
            head,
            size: meta.len(),
            dev: meta.dev(),
            inode: meta.ino(),
            moved_from: from
                .filter(|_| reason == StartReason::Moved)
                .map(|cp| cp.path.clone()),
            compressed,
            from: from.cloned(),
        }
    }

    /// Nothing to read: the file is where its checkpoint left it.
    pub fn nothing_new(&self) -> bool {
        self.reason == StartReason::Continue
            && match &self.from {
                Some(cp) if self.compressed => cp.size == self.size,
                _ => self.size == self.offset,
            }
    }

    /// Bytes the next read will take (for an archive, its compressed size unless unchanged: the
    /// decompressed size is not known without reading it).
    pub fn lag(&self) -> u64 {
        if self.nothing_new() {
            0
        } else if self.compressed {
            self.size
        } else {
            self.size.saturating_sub(self.offset)
        }
    }

    /// The checkpoint that records reading `path` up to `offset`, whose preceding bytes
    /// hash to `marker`, with the format used and its state there.
    pub fn checkpoint_at(
        &self,
        path: &str,
        offset: u64,
        marker: u64,
        format: Option<&str>,
        format_state: Option<&str>,
    ) -> Checkpoint {
        Checkpoint {
            path: path.to_string(),
            offset,
            head: self.head,
            marker,
            marker_len: fingerprint::MARKER_BYTES,
            // An archive is recognised as unchanged by its compressed size.
            size: if self.compressed {
                self.size
            } else {
                self.size.max(offset)
            },
            dev: self.dev,
            inode: self.inode,
            format: format.map(str::to_string),
            format_state: format_state.map(str::to_string),
        }
    }
}

/// Decide where to resume reading `file`, found at `path`, given every stored checkpoint.
/// None: the file holds no complete line yet.
///
/// The file's own checkpoint wins when the file is still the one it describes. Otherwise a
/// checkpoint of another path describing this content (same first line, same bytes before
/// its offset) is taken over: the file was renamed (logrotate's default), copied
/// (copytruncate), or is the same content under a second name, and is continued rather than
/// read again.
pub fn resume(
    file: &File,
    path: &str,
    stored: &HashMap<String, Checkpoint>,
) -> io::Result<Option<Resume>> {
    let meta = file.metadata()?;
    let size = meta.len();
    let Some(head) = fingerprint::head(file)? else {
        return Ok(None);
    };
    let at = |offset, reason, from: Option<&Checkpoint>| {
        Some(Resume::at(offset, reason, head, &meta, from, false))
    };
    let describes = |cp: &Checkpoint| -> io::Result<Option<StartReason>> {
        if size < cp.offset {
            return Ok(Some(StartReason::Truncated));
        }
        if !fingerprint::head_matches(file, cp.head)? {
            return Ok(Some(StartReason::Replaced));
        }
        if fingerprint::marker_at(file, cp.offset, cp.marker_len)? != Some(cp.marker) {
            return Ok(Some(StartReason::Rewritten));
        }
        Ok(None)
    };
    let own = stored.get(path);
    let own_verdict = match own {
        Some(cp) => describes(cp)?,
        None => Some(StartReason::New),
    };
    if let (Some(cp), None) = (own, own_verdict) {
        return Ok(at(cp.offset, StartReason::Continue, Some(cp)));
    }
    // The furthest-read checkpoint of another path that describes this content (each is
    // checked with its own head length, whatever the current cap).
    let mut candidates: Vec<&Checkpoint> = stored
        .values()
        .filter(|cp| cp.path != path && cp.offset <= size && u64::from(cp.head.len) <= size)
        .collect();
    candidates.sort_by(|a, b| b.offset.cmp(&a.offset).then_with(|| a.path.cmp(&b.path)));
    for cp in candidates {
        if describes(cp)?.is_none() {
            return Ok(at(cp.offset, StartReason::Moved, Some(cp)));
        }
    }
    // Read again from the start; a replaced file keeps its path's format (the server that
    // writes it has not changed), but not its format state.
    let reason = own_verdict.unwrap_or(StartReason::New);
    let kept = own.map(|cp| Checkpoint {
        format_state: None,
        ..cp.clone()
    });
    Ok(at(0, reason, kept.as_ref()))
}

/// Keys of checkpoints kept for content no longer under its path begin with this; a found
/// file's key is its canonical, absolute path, so the two never meet.
pub const RETIRED: &str = "replaced:";

/// How long a kept checkpoint waits for the copy it describes to be found: logrotate's
/// copies are found by the next run, or at the latest by a run after the next rotation.
pub const RETIRED_KEEP_DAYS: u32 = 30;

/// Whether `key` is a checkpoint kept for content that has left its path (see [`retire`]):
/// no file is found under it.
pub fn is_retired(key: &str) -> bool {
    key.starts_with(RETIRED)
}

/// The checkpoint of `path` that reading it as `resume` says will overwrite, kept under a key
/// of its own. A path's checkpoint is the only record of the content read there; when that
/// content has left the path (copied aside by copytruncate, renamed) without this run
/// seeing it elsewhere (the copy appeared after the run looked for files), overwriting the
/// record would make the copy, or its archive, look new to the next run and be read again.
/// None when the path's checkpoint goes on describing it.
pub fn retire(
    path: &str,
    resume: &Resume,
    stored: &HashMap<String, Checkpoint>,
) -> Option<Checkpoint> {
    if resume.reason == StartReason::Continue {
        return None;
    }
    let own = stored.get(path)?;
    Some(Checkpoint {
        path: format!(
            "{RETIRED}{}@{}:{:016x}",
            own.path, own.offset, own.head.hash
        ),
        ..own.clone()
    })
}
