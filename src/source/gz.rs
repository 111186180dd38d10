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

/// The decompressed content of a `.gz`.
pub fn decompressed(path: &Path) -> io::Result<impl Read> {
    decoder(path)
}

fn decoder(path: &Path) -> io::Result<MultiGzDecoder<BufReader<File>>> {
    Ok(MultiGzDecoder::new(BufReader::new(File::open(path)?)))
}

/// Where to resume in the decompressed content; None when it holds no line at all.
pub fn resume(
    path: &Path,
    key: &str,
    stored: &HashMap<String, Checkpoint>,
) -> io::Result<Option<Resume>> {
    let meta = std::fs::metadata(path)?;
    let size = meta.len();
    // Enough of the start to check every stored head, whatever cap it was recorded with.
    let longest = stored.values().map(|cp| cp.head.len as usize).max();
    let want = longest.unwrap_or(0).max(HEAD_MAX_BYTES);
    let mut first = Vec::with_capacity(want);
    decoder(path)?.take(want as u64).read_to_end(&mut first)?;
    let complete = first.len() < want;
    let Some(head) = head_of(&first[..first.len().min(HEAD_MAX_BYTES)], complete) else {
        return Ok(None);
    };
    let own = stored.get(key).filter(|cp| cp.head.begins(&first));
    let best = own.or_else(|| {
        stored
            .values()
            .filter(|cp| cp.head.begins(&first))
            .max_by(|a, b| a.offset.cmp(&b.offset).then_with(|| b.path.cmp(&a.path)))
    });
    let (offset, reason) = match best {
        Some(cp) if cp.path == key => (cp.offset, StartReason::Continue),
        Some(cp) => (cp.offset, StartReason::Moved),
        None => (0, StartReason::New),
    };
    Ok(Some(Resume {
        offset,
        reason,
        head,
        size,
        dev: meta.dev(),
        inode: meta.ino(),
        moved_from: best
            .filter(|_| reason == StartReason::Moved)
            .map(|cp| cp.path.clone()),
        compressed: true,
        from: best.cloned(),
    }))
}

/// A reader of the decompressed content positioned at `resume.offset`. When the content
/// turns out shorter than that, it is not what was read under that name: read it whole.
pub fn reader(
    path: &Path,
    key: Arc<str>,
    mut resume: Resume,
    chunk_bytes: usize,
) -> io::Result<(Resume, LineReader)> {
    let mut input = decoder(path)?;
    let skipped = io::copy(&mut (&mut input).take(resume.offset), &mut io::sink())?;
    if skipped < resume.offset {
        resume.offset = 0;
        resume.reason = StartReason::Rewritten;
        resume.moved_from = None;
        input = decoder(path)?;
    }
    let reader =
        LineReader::from_reader(Box::new(input), key, resume.offset, Vec::new(), chunk_bytes);
    Ok((resume, reader))
}
