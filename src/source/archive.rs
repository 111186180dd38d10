//! Rotated logs compressed later (`access.log.2.gz`, logrotate's `compresscmd` set to bzip2,
//! xz or zstd). An archive is identified as plain files are, on its decompressed content: a
//! checkpoint whose first line it begins with and whose marker (the bytes before its offset) it
//! matches, so the compressed copy of a file already read is recognised and skipped up to where
//! that file was read; an archive never seen is read whole, its last line too (an archive cannot
//! grow, so an unterminated line is final). Unchanged (same file, same size) since the last run,
//! it is not decompressed at all.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;

use flate2::read::MultiGzDecoder;
use ruzstd::decoding::{FrameDecoder, StreamingDecoder};
use xxhash_rust::xxh3::xxh3_64;

use super::checkpoint::{Checkpoint, Resume, StartReason};
use super::fingerprint::{HEAD_MAX_BYTES, head_of};
use super::reader::LineReader;

/// The compressions logrotate is set up with (`compresscmd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Codec {
    Gzip,
    Bzip2,
    Xz,
    Zstd,
}

/// What compressed `path`, by its first bytes (logrotate's `compressext` may be anything, and
/// `delaycompress` leaves a `.1` that is plain), or by its name while it is too short to say.
fn codec(path: &Path) -> Option<Codec> {
    let mut magic = Vec::with_capacity(10);
    File::open(path)
        .and_then(|f| f.take(10).read_to_end(&mut magic))
        .ok()?;
    let n = magic.len();
    let by_content = if magic.starts_with(&[0x1f, 0x8b]) {
        Some(Codec::Gzip)
    } else if magic.len() == 10
        && magic.starts_with(b"BZh")
        && (b'1'..=b'9').contains(&magic[3])
        && magic[4..] == [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]
    {
        Some(Codec::Bzip2)
    } else if magic.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Some(Codec::Xz)
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(Codec::Zstd)
    } else {
        None
    };
    if by_content.is_some() || n >= 6 {
        return by_content;
    }
    match path.extension()?.to_str()? {
        "gz" => Some(Codec::Gzip),
        "bz2" => Some(Codec::Bzip2),
        "xz" => Some(Codec::Xz),
        "zst" | "zstd" => Some(Codec::Zstd),
        _ => None,
    }
}

pub fn is_archive(path: &Path) -> bool {
    codec(path).is_some()
}

/// The decompressed content of an archive.
pub fn decompressed(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    decoder(path)
}

fn decoder(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    let file = BufReader::new(File::open(path)?);
    Ok(match codec(path) {
        // Multi-member: `cat a.gz b.gz > c.gz` is one valid gzip file.
        Some(Codec::Gzip) | None => Box::new(MultiGzDecoder::new(file)),
        Some(Codec::Bzip2) => Box::new(bzip2::read::MultiBzDecoder::new(file)),
        Some(Codec::Xz) => Box::new(lzma_rust2::XzReader::new(file, true)),
        Some(Codec::Zstd) => Box::new(ZstdFrames::new(file)?),
    })
}

/// Every frame of a zstd file in turn: `cat a.zst b.zst` is one valid zstd file, and
/// ruzstd's streaming decoder reads a single frame.
struct ZstdFrames<R: BufRead> {
    frame: Option<StreamingDecoder<R, FrameDecoder>>,
}

impl<R: BufRead> ZstdFrames<R> {
    fn new(source: R) -> io::Result<Self> {
        let frame = StreamingDecoder::new(source).map_err(not_zstd)?;
        Ok(ZstdFrames { frame: Some(frame) })
    }
}

fn not_zstd(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("invalid zstd data: {e}"),
    )
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(frame) = self.frame.as_mut() else {
                return Ok(0);
            };
            let n = frame.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            let (mut source, decoder) = self.frame.take().expect("a frame").into_parts();
            if source.fill_buf()?.is_empty() {
                return Ok(0);
            }
            self.frame =
                Some(StreamingDecoder::new_with_decoder(source, decoder).map_err(not_zstd)?);
        }
    }
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
    Ok(Some(Resume::at(offset, reason, head, &meta, best, true)))
}

/// The checkpoints whose marker matches the decompressed content just before their offset
/// (checked in one pass over the content, which stops after the furthest offset).
fn verified<'a>(
    path: &Path,
    mut candidates: Vec<&'a Checkpoint>,
) -> io::Result<Vec<&'a Checkpoint>> {
    if candidates.is_empty() {
        return Ok(candidates);
    }
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
    let reader = LineReader::from_reader(input, key, resume.offset, Vec::new(), chunk_bytes);
    Ok((resume, reader))
}
