//! Rotated logs compressed later (`access.log.2.gz`). A `.gz` is identified by the first
//! line of its decompressed content, so the compressed copy of a file already read is
//! recognised and skipped up to where that file was read; a `.gz` never seen is read whole,
//! its last line too (a compressed file cannot grow, so an unterminated line is final).
//! Unchanged (same size, same head) since the last run, it is not decompressed at all.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

use super::checkpoint::{Checkpoint, Resume, StartReason};
use super::fingerprint::{HEAD_MAX_BYTES, head_of};
use super::reader::LineReader;

pub fn is_gz(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "gz")
}

fn decoder(path: &Path) -> io::Result<MultiGzDecoder<BufReader<File>>> {
    Ok(MultiGzDecoder::new(BufReader::new(File::open(path)?)))
}

/// Where to resume in the decompressed content and a reader positioned there; None when
/// there is nothing to do (empty, or unchanged since its checkpoint).
pub fn open(
    path: &Path,
    key: &str,
    stored: &HashMap<String, Checkpoint>,
    chunk_bytes: usize,
) -> io::Result<Option<(Resume, LineReader)>> {
    let meta = std::fs::metadata(path)?;
    let size = meta.len();
    let mut first = Vec::with_capacity(HEAD_MAX_BYTES);
    decoder(path)?
        .take(HEAD_MAX_BYTES as u64)
        .read_to_end(&mut first)?;
    let Some(head) = head_of(&first, first.len() < HEAD_MAX_BYTES) else {
        return Ok(None);
    };
    if stored
        .get(key)
        .is_some_and(|cp| cp.head == head && cp.size == size)
    {
        return Ok(None);
    }
    let best = stored
        .values()
        .filter(|cp| cp.head == head)
        .max_by(|a, b| a.offset.cmp(&b.offset).then_with(|| b.path.cmp(&a.path)));
    let (mut offset, mut reason, mut moved_from) = match best {
        Some(cp) if cp.path == key => (cp.offset, StartReason::Continue, None),
        Some(cp) => (cp.offset, StartReason::Moved, Some(cp.path.clone())),
        None => (0, StartReason::New, None),
    };
    let mut input = decoder(path)?;
    let skipped = io::copy(&mut (&mut input).take(offset), &mut io::sink())?;
    if skipped < offset {
        // Shorter than what was read under that name: not the same content after all.
        (offset, reason, moved_from) = (0, StartReason::Rewritten, None);
        input = decoder(path)?;
    }
    let resume = Resume {
        offset,
        reason,
        head,
        size,
        dev: meta.dev(),
        inode: meta.ino(),
        moved_from,
    };
    let reader = LineReader::from_reader(
        Box::new(input),
        Arc::from(key),
        offset,
        Vec::new(),
        chunk_bytes,
    );
    Ok(Some((resume, reader)))
}
