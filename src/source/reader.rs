//! Reads complete lines from an offset in bounded chunks. A trailing partial line is left
//! for the next run; a line longer than the chunk size is skipped and reported, never
//! buffered whole, so memory stays bounded whatever the file holds.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;

use super::fingerprint::{MARKER_BYTES, marker_of};
use super::wrapper::Wrapper;

/// Lines longer than this are rejected rather than stored: a guard against garbage or
/// hostile input exhausting memory, far above any real request line.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// How much of a rejected line is kept in `rejects`: enough to diagnose, bounded in size.
pub const REJECT_KEEP_BYTES: usize = 64 * 1024;

/// The complete lines read in one step.
#[derive(Debug)]
pub struct Chunk {
    /// The file, as its path is stored in `logs.source_file`.
    pub file: Arc<str>,
    /// Offset of `data[0]` in the file.
    pub start: u64,
    /// Whole lines, each ending in `\n`.
    pub data: Vec<u8>,
    /// Over-long lines skipped before `data`.
    pub oversize: Vec<Oversize>,
    /// Offset just after the chunk: the checkpoint once the chunk is stored.
    pub end: u64,
    /// Hash of the bytes just before `end` (see [`super::fingerprint`]).
    pub marker: u64,
    /// For a wrapped file (see [`super::wrapper`]), what the runtime said of each line of
    /// `data`, which then holds the server's lines unwrapped.
    pub unwrapped: Option<Unwrapped>,
}

/// Per line of an unwrapped chunk: where its record starts in the file, and the runtime's
/// time (µs UTC) and stream.
#[derive(Debug, Default)]
pub struct Unwrapped {
    pub offsets: Vec<u64>,
    pub collected_at: Vec<Option<i64>>,
    pub stream: Vec<Option<&'static str>>,
}

#[derive(Debug)]
pub struct Oversize {
    pub offset: u64,
    /// The line's first bytes, for the rejects table.
    pub prefix: Vec<u8>,
    /// xxh3 of the whole line (without its newline), which is never held in memory whole.
    pub hash: u64,
}

pub struct LineReader {
    file: Box<dyn Read + Send>,
    path: Arc<str>,
    /// Next byte to hand out: always at a line start.
    offset: u64,
    chunk_bytes: usize,
    /// Bytes read past `offset` that do not yet end in a newline.
    carry: Vec<u8>,
    /// The last bytes handed out (for the marker).
    window: Vec<u8>,
    eof: bool,
    wrapper: Option<Wrapper>,
    /// The encoding a line that is not UTF-8 is in (`--encoding`).
    legacy: Option<&'static encoding_rs::Encoding>,
}

impl LineReader {
    /// `window` must hold the bytes just before `offset` (empty at 0). A chunk is about
    /// `chunk_bytes`; a buffer never exceeds `chunk_bytes` plus the longest line accepted.
    pub fn new(
        mut file: File,
        path: Arc<str>,
        offset: u64,
        window: Vec<u8>,
        chunk_bytes: usize,
    ) -> io::Result<Self> {
        file.seek(SeekFrom::Start(offset))?;
        Ok(Self::from_reader(
            Box::new(file),
            path,
            offset,
            window,
            chunk_bytes,
        ))
    }

    /// Over any byte stream already positioned at `offset` (e.g. a decompressed archive).
    pub fn from_reader(
        file: Box<dyn Read + Send>,
        path: Arc<str>,
        offset: u64,
        window: Vec<u8>,
        chunk_bytes: usize,
    ) -> Self {
        LineReader {
            file,
            path,
            offset,
            chunk_bytes: chunk_bytes.max(4096),
            carry: Vec::new(),
            window,
            eof: false,
            wrapper: None,
            legacy: None,
        }
    }

    /// Decode each line that is not UTF-8 from `legacy` (UTF-8 lines are read as they are:
    /// a log moved to UTF-8 part way through reads both halves).
    pub fn decoding(mut self, legacy: Option<&'static encoding_rs::Encoding>) -> Self {
        self.legacy = legacy;
        self
    }

    /// Read records of `wrapper`: chunks end only after a line that ends a record, and hold
    /// the server's lines unwrapped.
    pub fn unwrapping(mut self, wrapper: Option<Wrapper>) -> Self {
        self.wrapper = wrapper;
        self
    }

    /// The chunk of `data` (whole lines from `start`), unwrapped if the file is wrapped.
    fn chunk(&self, start: u64, mut data: Vec<u8>, oversize: Vec<Oversize>) -> Chunk {
        // A chunk is read into a buffer of the full chunk size and lives in its batch until
        // the batch is stored: a small file's (or a file's last) chunk would hold the whole
        // size — 8 MiB for each of a thousand small archives in one batch.
        if data.capacity() - data.len() > data.len() / 4 {
            data.shrink_to_fit();
        }
        let (data, unwrapped) = match self.wrapper {
            None => (data, None),
            Some(wrapper) => {
                let records = wrapper.records(&data, start);
                let mut lines = Vec::with_capacity(data.len());
                let mut info = Unwrapped::default();
                for r in records {
                    lines.extend_from_slice(&r.line);
                    lines.push(b'\n');
                    info.offsets.push(r.offset);
                    info.collected_at.push(r.collected_at);
                    info.stream.push(r.stream);
                }
                (lines, Some(info))
            }
        };
        let (data, unwrapped) = match self.legacy {
            Some(legacy) if std::str::from_utf8(&data).is_err() => {
                decode_lines(data, unwrapped, start, legacy)
            }
            _ => (data, unwrapped),
        };
        Chunk {
            file: self.path.clone(),
            start,
            data,
            oversize,
            end: self.offset,
            marker: marker_of(&self.window),
            unwrapped,
        }
    }

    /// Where the chunk in `buf` may end (just after a newline), or None if it holds no
    /// complete record yet. A record longer than a line may be is cut where it is.
    fn cut(&self, buf: &[u8], last_nl: usize) -> Option<usize> {
        let Some(wrapper) = self.wrapper else {
            return Some(last_nl);
        };
        let mut end = last_nl;
        loop {
            let from = memchr::memrchr(b'\n', &buf[..end]).map_or(0, |nl| nl + 1);
            if wrapper.ends_record(&buf[from..end]) {
                return Some(end);
            }
            if from == 0 {
                return (buf.len() > MAX_LINE_BYTES).then_some(last_nl);
            }
            end = from - 1;
        }
    }

    /// Hash of the bytes just before the next one to be read (the checkpoint marker there).
    pub fn marker(&self) -> u64 {
        marker_of(&self.window)
    }

    /// Once [`Self::next_chunk`] has returned None: the unterminated last line, as a final
    /// chunk. For files that can no longer grow (a compressed, rotated log).
    pub fn take_partial(&mut self) -> Option<Chunk> {
        if self.carry.is_empty() || !self.eof {
            return None;
        }
        let mut data = std::mem::take(&mut self.carry);
        let start = self.offset;
        self.offset += data.len() as u64;
        self.remember(&data);
        data.push(b'\n');
        Some(self.chunk(start, data, Vec::new()))
    }

    /// The next chunk of complete lines, or None when only a partial line (or nothing) is left.
    /// A line that ends within a chunk past the limit is passed on (the parser rejects it);
    /// one that does not is skipped here and reported in `oversize`.
    pub fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        let mut oversize = Vec::new();
        let start_of_skips = self.offset;
        let mut buf = std::mem::take(&mut self.carry);
        loop {
            // Fill to a chunk; if what we hold is one unfinished line, read a chunk more.
            let want = if buf.len() < self.chunk_bytes {
                self.chunk_bytes
            } else {
                buf.len() + self.chunk_bytes
            };
            self.fill(&mut buf, want)?;
            let cut = memchr::memrchr(b'\n', &buf).map(|nl| self.cut(&buf, nl));
            match cut {
                Some(Some(last_nl)) => {
                    self.carry = buf.split_off(last_nl + 1);
                    let start = self.offset;
                    self.offset += buf.len() as u64;
                    self.remember(&buf);
                    return Ok(Some(self.chunk(start, buf, oversize)));
                }
                // Parts of a record, not its end yet: read on (or wait, at the end).
                Some(None) if self.eof => {
                    self.carry = buf;
                    return Ok(self.only_skips(oversize, start_of_skips));
                }
                Some(None) => {}
                None if buf.len() > MAX_LINE_BYTES => {
                    // Over the limit: skip to the line's end without keeping it whole.
                    let line_start = self.offset;
                    let prefix = buf[..buf.len().min(REJECT_KEEP_BYTES)].to_vec();
                    match self.skip_past_newline(&buf)? {
                        Some((skipped, hash)) => {
                            self.offset += skipped;
                            oversize.push(Oversize {
                                offset: line_start,
                                prefix,
                                hash,
                            });
                            buf = std::mem::take(&mut self.carry);
                        }
                        // Not finished yet: it waits for the next run, as any partial line.
                        None => return Ok(self.only_skips(oversize, start_of_skips)),
                    }
                }
                None if self.eof => {
                    self.carry = buf;
                    return Ok(self.only_skips(oversize, start_of_skips));
                }
                None => {}
            }
        }
    }

    /// Read until `buf` holds `want` bytes or the file ends.
    fn fill(&mut self, buf: &mut Vec<u8>, want: usize) -> io::Result<()> {
        if self.eof || buf.len() >= want {
            return Ok(());
        }
        let have = buf.len();
        // Read into reserved, unwritten capacity: zeroing a whole chunk (8 MiB) first cost a
        // memset and its page faults per file, ~4 ms for each small archive of a pile.
        buf.reserve_exact(want - have);
        let n = (&mut *self.file)
            .take((want - have) as u64)
            .read_to_end(buf)?;
        if have + n < want {
            self.eof = true;
        }
        Ok(())
    }

    /// A chunk carrying only skipped over-long lines still advances the checkpoint.
    fn only_skips(&mut self, oversize: Vec<Oversize>, start: u64) -> Option<Chunk> {
        if oversize.is_empty() {
            return None;
        }
        Some(self.chunk(start, Vec::new(), oversize))
    }

    /// Read on until a newline; returns how many bytes the whole line took (including the
    /// `first` bytes already read) and its hash, or None at EOF. Leaves what follows the
    /// newline in `carry`.
    fn skip_past_newline(&mut self, first: &[u8]) -> io::Result<Option<(u64, u64)>> {
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        hasher.update(first);
        let mut consumed = first.len() as u64;
        let mut buf = vec![0u8; self.chunk_bytes];
        let mut tail = first[first.len().saturating_sub(MARKER_BYTES as usize)..].to_vec();
        loop {
            let n = read_up_to(self.file.as_mut(), &mut buf)?;
            if n == 0 {
                // Unfinished: leave the line for the next run, as any partial line.
                self.eof = true;
                return Ok(None);
            }
            match memchr::memchr(b'\n', &buf[..n]) {
                Some(nl) => {
                    hasher.update(&buf[..nl]);
                    tail.extend_from_slice(&buf[nl.saturating_sub(MARKER_BYTES as usize)..=nl]);
                    self.remember(&tail);
                    self.carry = buf[nl + 1..n].to_vec();
                    return Ok(Some((consumed + nl as u64 + 1, hasher.digest())));
                }
                None => {
                    hasher.update(&buf[..n]);
                    consumed += n as u64;
                    tail.clear();
                    tail.extend_from_slice(&buf[n.saturating_sub(MARKER_BYTES as usize)..n]);
                }
            }
        }
    }

    fn remember(&mut self, consumed: &[u8]) {
        let keep = MARKER_BYTES as usize;
        let take = &consumed[consumed.len().saturating_sub(keep)..];
        self.window.extend_from_slice(take);
        let excess = self.window.len().saturating_sub(keep);
        self.window.drain(..excess);
    }
}

/// `data`'s lines with each one that is not UTF-8 decoded from `legacy`; every line keeps the
/// offset it was read at (already known for unwrapped lines).
fn decode_lines(
    data: Vec<u8>,
    unwrapped: Option<Unwrapped>,
    start: u64,
    legacy: &'static encoding_rs::Encoding,
) -> (Vec<u8>, Option<Unwrapped>) {
    let mut out = Vec::with_capacity(data.len() + data.len() / 8);
    let mut offsets = Vec::new();
    let mut at = 0u64;
    for line in data.split_inclusive(|&b| b == b'\n') {
        offsets.push(start + at);
        at += line.len() as u64;
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        match std::str::from_utf8(body) {
            Ok(_) => out.extend_from_slice(body),
            Err(_) => {
                let (text, _) = legacy.decode_without_bom_handling(body);
                out.extend_from_slice(text.as_bytes());
            }
        }
        out.push(b'\n');
    }
    let info = unwrapped.unwrap_or_else(|| Unwrapped {
        collected_at: vec![None; offsets.len()],
        stream: vec![None; offsets.len()],
        offsets,
    });
    (out, Some(info))
}

fn read_up_to(file: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn read_all(path: &std::path::Path, chunk: usize) -> (Vec<u8>, Vec<u64>, u64, usize) {
        let file = File::open(path).unwrap();
        let mut r = LineReader::new(file, Arc::from("t"), 0, Vec::new(), chunk).unwrap();
        let (mut data, mut skipped, mut end, mut chunks) = (Vec::new(), Vec::new(), 0, 0);
        while let Some(c) = r.next_chunk().unwrap() {
            assert!(c.data.is_empty() || c.data.ends_with(b"\n"));
            assert_eq!(c.start + c.data.len() as u64, c.end);
            skipped.extend(c.oversize.iter().map(|o| o.offset));
            data.extend_from_slice(&c.data);
            end = c.end;
            chunks += 1;
        }
        (data, skipped, end, chunks)
    }

    #[test]
    fn chunks_hold_complete_lines_and_skip_over_long_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let mut f = File::create(&path).unwrap();
        let mut expected = Vec::new();
        let mut offset = 0u64;
        let mut long_at = 0;
        for i in 0..500u64 {
            let line = if i == 250 {
                long_at = offset;
                vec![b'x'; 3 * MAX_LINE_BYTES]
            } else {
                vec![b'a' + (i % 26) as u8; (i * 37 % 3000) as usize]
            };
            f.write_all(&line).unwrap();
            f.write_all(b"\n").unwrap();
            if i != 250 {
                expected.extend_from_slice(&line);
                expected.push(b'\n');
            }
            offset += line.len() as u64 + 1;
        }
        f.write_all(b"partial line without end").unwrap();
        drop(f);
        let (data, skipped, end, chunks) = read_all(&path, 4096);
        let first_diff = data.iter().zip(&expected).position(|(a, b)| a != b);
        assert!(
            data == expected,
            "read {} bytes, expected {}, first difference at {first_diff:?}",
            data.len(),
            expected.len()
        );
        assert_eq!(skipped, vec![long_at]);
        assert_eq!(end, offset, "stops before the partial line");
        assert!(chunks > 100, "bounded chunks: {chunks}");
    }

    #[test]
    fn unfinished_over_long_line_waits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let mut content = b"first\n".to_vec();
        content.extend(vec![b'y'; MAX_LINE_BYTES + 5]);
        std::fs::write(&path, &content).unwrap();
        let (data, skipped, end, _) = read_all(&path, 4096);
        assert_eq!(data, b"first\n");
        assert!(skipped.is_empty());
        assert_eq!(end, 6);
    }

    #[test]
    fn marker_matches_the_bytes_before_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let lines: String = (0..1000).map(|i| format!("line number {i}\n")).collect();
        std::fs::write(&path, &lines).unwrap();
        let file = File::open(&path).unwrap();
        let mut r = LineReader::new(file, Arc::from("t"), 0, Vec::new(), 4096).unwrap();
        let check = File::open(&path).unwrap();
        while let Some(c) = r.next_chunk().unwrap() {
            let on_disk =
                super::super::fingerprint::marker_at(&check, c.end, MARKER_BYTES).unwrap();
            assert_eq!(Some(c.marker), on_disk);
        }
    }
}
