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
    /// Hash of the bytes just before `offset`.
    pub marker: u64,
    /// File size when it was read (for `status` and lag; not used for identity).
    pub size: u64,
    /// Device and inode: a hint only, inodes are reused.
    pub dev: u64,
    pub inode: u64,
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
    let at = |offset, reason, moved_from: Option<&str>| {
        Some(Resume {
            offset,
            reason,
            head,
            size,
            dev: meta.dev(),
            inode: meta.ino(),
            moved_from: moved_from.map(str::to_string),
        })
    };
    let describes = |cp: &Checkpoint| -> io::Result<Option<StartReason>> {
        if size < cp.offset {
            return Ok(Some(StartReason::Truncated));
        }
        if !fingerprint::head_matches(file, cp.head)? {
            return Ok(Some(StartReason::Replaced));
        }
        if fingerprint::marker_at(file, cp.offset)? != Some(cp.marker) {
            return Ok(Some(StartReason::Rewritten));
        }
        Ok(None)
    };
    let own = stored.get(path);
    let own_verdict = match own {
        Some(cp) => describes(cp)?,
        None => Some(StartReason::New),
    };
    if own_verdict.is_none() {
        return Ok(at(own.unwrap().offset, StartReason::Continue, None));
    }
    // The furthest-read checkpoint of another path that describes this content.
    let mut candidates: Vec<&Checkpoint> = stored
        .values()
        .filter(|cp| cp.path != path && cp.head == head && cp.offset <= size)
        .collect();
    candidates.sort_by(|a, b| b.offset.cmp(&a.offset).then_with(|| a.path.cmp(&b.path)));
    for cp in candidates {
        if describes(cp)?.is_none() {
            return Ok(at(cp.offset, StartReason::Moved, Some(&cp.path)));
        }
    }
    Ok(at(0, own_verdict.unwrap(), None))
}
