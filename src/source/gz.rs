//! Rotated logs compressed later (`access.log.2.gz`). A `.gz` is identified as plain files
//! are, on its decompressed content: a checkpoint whose first line it begins with and whose
//! marker (the bytes before its offset) it matches, so the compressed copy of a file already
//! read is recognised and skipped up to where that file was read; a `.gz` never seen is read whole,
//! its last line too (a compressed file cannot grow, so an unterminated line is final).
//! Unchanged (same size, same head) since the last run, it is not decompressed at all.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;

use flate2::read::MultiGzDecoder;
use xxhash_rust::xxh3::xxh3_64;

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
    // Header-led formats (W3C, IIS, CloudFront) begin every file with the same lines, so a
    // head is only a candidate; the bytes before its offset decide, as for plain files.
    let candidates: Vec<&Checkpoint> = stored
        .values()
        .filter(|cp| cp.head.begins(&first))
        .collect();
    // An archive cannot change in place: the very file a checkpoint was made of (same device,
    // inode and compressed size) is taken without decompressing it again.
    let same_file =
        |cp: &&Checkpoint| cp.dev == meta.dev() && cp.inode == meta.ino() && cp.size == size;
    let unchanged: Vec<&Checkpoint> = candidates.iter().copied().filter(same_file).collect();
    let verified = if unchanged.is_empty() {
        verified(path, candidates)?
    } else {
        unchanged
    };
    // The furthest-read, and the file's own checkpoint among equals.
    let best = verified.into_iter().max_by(|a, b| {
        a.offset
            .cmp(&b.offset)
            .then_with(|| (a.path == key).cmp(&(b.path == key)))
            .then_with(|| b.path.cmp(&a.path))
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

/// The checkpoints whose marker matches the decompressed content just before their offset
/// (checked in one pass over the content, which stops after the furthest offset).
fn verified<'a>(
    path: &Path,
    mut candidates: Vec<&'a Checkpoint>,
) -> io::Result<Vec<&'a Checkpoint>> {
    candidates.sort_by_key(|cp| cp.offset);
    let keep = candidates
        .iter()
        .map(|cp| cp.marker_len as usize)
        .max()
        .unwrap_or(0);
    let mut input = decoder(path)?;
    // The content just before `pos`: the last `keep` bytes, then what was read after them.
    let mut window: Vec<u8> = Vec::new();
    let mut pos = 0u64;
    let mut chunk = vec![0u8; 1 << 16];
    let mut out = Vec::new();
    let mut next = 0;
    while next < candidates.len() {
        while let Some(cp) = candidates.get(next).filter(|cp| cp.offset <= pos) {
            let end = window.len().checked_sub((pos - cp.offset) as usize);
            let start = end.and_then(|e| e.checked_sub(cp.marker_len.min(cp.offset) as usize));
            if let (Some(start), Some(end)) = (start, end)
                && xxh3_64(&window[start..end]) == cp.marker
            {
                out.push(*cp);
            }
            next += 1;
        }
        if next == candidates.len() {
            break;
        }
        window.drain(..window.len().saturating_sub(keep));
        let n = match input.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        window.extend_from_slice(&chunk[..n]);
        pos += n as u64;
    }
    Ok(out)
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
