//! File identity by content: a hash of the file's first line (the head) and a hash of the
//! bytes just before the checkpointed offset (the marker). A truncated, replaced or rewritten
//! file changes one of them even when its size has grown back past the old offset.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use xxhash_rust::xxh3::xxh3_64;

/// The head is the first line, capped: long enough to tell files apart, cheap to re-read.
/// A checkpoint records its head's length, so a change of this cap leaves checkpoints
/// written with the old one valid.
pub const HEAD_MAX_BYTES: usize = 1024;
/// The marker covers this many bytes before the offset (fewer at the start of a file). Each
/// checkpoint records the length it was made with (`marker_len`) and is checked with it.
pub const MARKER_BYTES: u64 = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub len: u32,
    pub hash: u64,
}

impl Head {
    /// Does content starting with `start` begin with this head? False when `start` is
    /// shorter than the head.
    pub fn begins(&self, start: &[u8]) -> bool {
        let len = self.len as usize;
        start.len() >= len && xxh3_64(&start[..len]) == self.hash
    }
}

/// The head of `file`, or None while the file holds no complete first line (and is shorter
/// than the cap): such a file has nothing to read yet.
pub fn head(file: &File) -> io::Result<Option<Head>> {
    let mut buf = vec![0u8; HEAD_MAX_BYTES];
    let n = read_full_at(file, &mut buf, 0)?;
    Ok(head_of(&buf[..n], false))
}

/// The head of content starting with `start` (at most [`HEAD_MAX_BYTES`] of it). With
/// `complete`, `start` is all there will ever be, so an unterminated short line counts.
pub fn head_of(start: &[u8], complete: bool) -> Option<Head> {
    let len = match memchr::memchr(b'\n', start) {
        Some(nl) => nl + 1,
        None if start.len() == HEAD_MAX_BYTES || (complete && !start.is_empty()) => start.len(),
        None => return None,
    };
    Some(Head {
        len: len as u32,
        hash: xxh3_64(&start[..len]),
    })
}

/// Does the file still start with the head recorded earlier?
pub fn head_matches(file: &File, expected: Head) -> io::Result<bool> {
    let mut buf = vec![0u8; expected.len as usize];
    let n = read_full_at(file, &mut buf, 0)?;
    Ok(n == buf.len() && xxh3_64(&buf) == expected.hash)
}

/// Hash of the `marker_len` bytes just before `offset` (fewer at the start of the file).
pub fn marker_at(file: &File, offset: u64, marker_len: u64) -> io::Result<Option<u64>> {
    let start = offset.saturating_sub(marker_len);
    let mut buf = vec![0u8; (offset - start) as usize];
    let n = read_full_at(file, &mut buf, start)?;
    Ok((n == buf.len()).then(|| xxh3_64(&buf)))
}

/// Hash of the last bytes of a window that ends exactly at the offset.
pub fn marker_of(window: &[u8]) -> u64 {
    let keep = window.len().min(MARKER_BYTES as usize);
    xxh3_64(&window[window.len() - keep..])
}

fn read_full_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}
