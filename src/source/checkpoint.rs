//! Where reading stopped in a file, and where to resume on the next run.

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
}

impl StartReason {
    pub fn as_str(self) -> &'static str {
        match self {
            StartReason::New => "new",
            StartReason::Continue => "continue",
            StartReason::Truncated => "truncated",
            StartReason::Replaced => "replaced",
            StartReason::Rewritten => "rewritten",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Resume {
    pub offset: u64,
    pub reason: StartReason,
    pub head: Head,
    pub size: u64,
    pub dev: u64,
    pub inode: u64,
}

/// Decide where to resume reading `file`. None: the file holds no complete line yet.
pub fn resume(file: &File, stored: Option<&Checkpoint>) -> io::Result<Option<Resume>> {
    let meta = file.metadata()?;
    let size = meta.len();
    let Some(head) = fingerprint::head(file)? else {
        return Ok(None);
    };
    let at = |offset, reason| {
        Some(Resume {
            offset,
            reason,
            head,
            size,
            dev: meta.dev(),
            inode: meta.ino(),
        })
    };
    let Some(cp) = stored else {
        return Ok(at(0, StartReason::New));
    };
    if size < cp.offset {
        return Ok(at(0, StartReason::Truncated));
    }
    if !fingerprint::head_matches(file, cp.head)? {
        return Ok(at(0, StartReason::Replaced));
    }
    if fingerprint::marker_at(file, cp.offset)? != Some(cp.marker) {
        return Ok(at(0, StartReason::Rewritten));
    }
    Ok(at(cp.offset, StartReason::Continue))
}
