//! The `raw_log` column, deduplicated as it is built: a line already in the batch from the
//! same host is not added again — the key the warehouse dedupes stored rows by, so two hosts
//! logging the same line keep a row each whatever the batch boundaries. Exact: lines are
//! matched by hash, then compared byte for byte. Each line's xxh3 is kept as `line_hash`,
//! stored with the row: the warehouse's anti-join looks stored rows up by it.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasherDefault, Hasher};

use polars::prelude::{Column, IntoColumn, UInt64Chunked};
use polars_arrow::array::View;
use polars_buffer::Buffer;
use xxhash_rust::xxh3::xxh3_64;

use super::views::{Buffers, ViewColumn};

pub struct RawLines {
    lines: ViewColumn,
    /// Per line, the line as read (`lines` holds it as stored: with --anonymize-ip, masked).
    originals: Vec<View>,
    /// Per line, xxh3 of its bytes as read (the same for every host).
    hashes: Vec<u64>,
    /// Per line, its host's number in `hosts`.
    line_hosts: Vec<u32>,
    hosts: Vec<String>,
    /// Line hash mixed with its host's number → index of the first such line.
    first: HashMap<u64, u32, BuildHasherDefault<PassThrough>>,
    /// Further distinct lines sharing a hash (a 64-bit collision: practically never used).
    colliding: HashMap<u64, Vec<u32>, BuildHasherDefault<PassThrough>>,
}

impl RawLines {
    pub fn new(capacity: usize) -> Self {
        RawLines {
            lines: ViewColumn::new("raw_log", capacity),
            originals: Vec::with_capacity(capacity),
            hashes: Vec::with_capacity(capacity),
            line_hosts: Vec::with_capacity(capacity),
            hosts: Vec::new(),
            first: HashMap::default(),
            colliding: HashMap::default(),
        }
    }

    /// The number [`Self::insert`] takes for `host` (once per file, not per line).
    pub fn host_id(&mut self, host: &str) -> u32 {
        match self.hosts.iter().position(|h| h == host) {
            Some(i) => i as u32,
            None => {
                self.hosts.push(host.to_string());
                self.hosts.len() as u32 - 1
            }
        }
    }

    /// Add `line` (whose view into `buffers` is `view`) of host `host` (a [`Self::host_id`])
    /// unless the batch already holds it from that host; true when added. The column gets
    /// `stored` (the line itself, or it masked).
    pub fn insert(
        &mut self,
        line: &str,
        host: u32,
        view: View,
        stored: View,
        buffers: &Buffers,
    ) -> bool {
        let line_hash = xxh3_64(line.as_bytes());
        let hash = host_key(line_hash, host);
        let index = self.lines.len() as u32;
        let same = |i: u32| {
            self.line_hosts[i as usize] == host
                && buffers.bytes(&self.originals[i as usize]) == line.as_bytes()
        };
        match self.first.entry(hash) {
            Entry::Vacant(slot) => {
                slot.insert(index);
            }
            Entry::Occupied(slot) => {
                if same(*slot.get()) {
                    return false;
                }
                let others = self.colliding.entry(hash).or_default();
                if others.iter().any(|&i| same(i)) {
                    return false;
                }
                others.push(index);
            }
        }
        self.lines.push(Some(stored));
        self.originals.push(view);
        self.hashes.push(line_hash);
        self.line_hosts.push(host);
        true
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// The `raw_log` and `line_hash` columns.
    pub fn finish(self, buffers: &Buffer<Buffer<u8>>) -> [Column; 2] {
        [
            self.lines.finish(buffers),
            UInt64Chunked::from_vec("line_hash".into(), self.hashes).into_column(),
        ]
    }
}

/// The batch-local key of a line: its hash, moved by its host's number (the same line from
/// two hosts is two rows; a key collision only costs a byte comparison).
fn host_key(line_hash: u64, host: u32) -> u64 {
    line_hash ^ u64::from(host).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The keys are already xxh3 hashes: use them as they are.
#[derive(Default)]
pub struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | b as u64;
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Insert each line of `text` (one chunk); returns what each insert said and the column.
    fn insert_all(text: &str, rig: impl Fn(&mut RawLines)) -> (Vec<bool>, Vec<String>) {
        let mut buffers = Buffers::default();
        let mut lines = RawLines::new(4);
        rig(&mut lines);
        let cv = buffers.begin_chunk(text.as_bytes().to_vec());
        let data = cv.data();
        let data = std::str::from_utf8(&data).unwrap();
        let added = data
            .split('\n')
            .map(|l| {
                // `host:line`: the test's lines name their host.
                let (host, l) = l.split_once(':').unwrap_or(("h", l));
                let host = lines.host_id(host);
                lines.insert(l, host, cv.of_input(l), cv.of_input(l), &buffers)
            })
            .collect();
        buffers.end_chunk(cv);
        let [column, hashes] = lines.finish(&buffers.finish());
        let hashes: Vec<u64> = hashes.u64().unwrap().into_no_null_iter().collect();
        let values = column
            .str()
            .unwrap()
            .iter()
            .map(|v| v.unwrap().to_string())
            .collect::<Vec<_>>();
        let expected: Vec<u64> = values.iter().map(|v| xxh3_64(v.as_bytes())).collect();
        assert_eq!(hashes, expected, "line_hash is xxh3 of each kept line");
        (added, values)
    }

    #[test]
    fn repeats_are_dropped_distinct_lines_kept() {
        let long = "a long line, longer than twelve bytes";
        let (added, values) = insert_all(&format!("{long}\nb\n{long}\nb\n"), |_| {});
        assert_eq!(added, [true, true, false, false, true]);
        assert_eq!(values, [long, "b", ""]);
    }

    #[test]
    fn lines_sharing_a_hash_are_compared_by_content() {
        // Pretend "second" and "third" hash like "first": a 64-bit collision.
        let (added, values) = insert_all("first\nsecond\nthird\nsecond\nthird\nfirst", |lines| {
            for other in ["second", "third"] {
                lines
                    .first
                    .insert(host_key(xxh3_64(other.as_bytes()), 0), 0);
            }
        });
        assert_eq!(added, [true, true, true, false, false, false]);
        assert_eq!(values, ["first", "second", "third"]);
    }

    #[test]
    fn the_same_line_from_two_hosts_is_kept_once_per_host() {
        let (added, values) =
            insert_all("a:GET /health\nb:GET /health\na:GET /health\nb:x", |_| {});
        assert_eq!(added, [true, true, false, true]);
        assert_eq!(values, ["GET /health", "GET /health", "x"]);
    }
}
