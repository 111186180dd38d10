//! The `raw_log` column, deduplicated as it is built: a line already in the batch is not
//! added again. Exact: lines are matched by hash, then compared byte for byte.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use polars::prelude::*;
use polars_arrow::array::MutableBinaryViewArray;
use xxhash_rust::xxh3::xxh3_64;

#[derive(Default)]
pub struct RawLines {
    lines: MutableBinaryViewArray<str>,
    /// Line hash → index of the first line with that hash.
    first: HashMap<u64, u32, BuildHasherDefault<PassThrough>>,
    /// Further distinct lines sharing a hash (a 64-bit collision: practically never used).
    colliding: HashMap<u64, Vec<u32>, BuildHasherDefault<PassThrough>>,
}

impl RawLines {
    pub fn with_capacity(capacity: usize) -> Self {
        RawLines {
            lines: MutableBinaryViewArray::with_capacity(capacity),
            ..Default::default()
        }
    }

    /// Add `line` unless the batch already holds it; true when added.
    pub fn insert(&mut self, line: &str) -> bool {
        let hash = xxh3_64(line.as_bytes());
        let index = self.lines.len() as u32;
        match self.first.entry(hash) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(index);
            }
            std::collections::hash_map::Entry::Occupied(slot) => {
                if self.lines.value(*slot.get() as usize) == line {
                    return false;
                }
                let others = self.colliding.entry(hash).or_default();
                if others.iter().any(|&i| self.lines.value(i as usize) == line) {
                    return false;
                }
                others.push(index);
            }
        }
        self.lines.push_value(line);
        true
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn finish(self, name: &str) -> Column {
        StringChunked::with_chunk(name.into(), self.lines.freeze()).into_column()
    }
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

    #[test]
    fn repeats_are_dropped_distinct_lines_kept() {
        let mut lines = RawLines::with_capacity(4);
        assert!(lines.insert("a long line, longer than twelve bytes"));
        assert!(lines.insert("b"));
        assert!(!lines.insert("a long line, longer than twelve bytes"));
        assert!(!lines.insert("b"));
        assert!(lines.insert(""));
        assert!(!lines.insert(""));
        assert_eq!(lines.len(), 3);
        let column = lines.finish("raw_log");
        let values: Vec<_> = column.str().unwrap().iter().map(Option::unwrap).collect();
        assert_eq!(values, ["a long line, longer than twelve bytes", "b", ""]);
    }

    #[test]
    fn lines_sharing_a_hash_are_compared_by_content() {
        let mut lines = RawLines::with_capacity(4);
        assert!(lines.insert("first"));
        // Pretend "second" and "third" hash like "first": a 64-bit collision.
        for other in ["second", "third"] {
            lines.first.insert(xxh3_64(other.as_bytes()), 0);
        }
        assert!(lines.insert("second"));
        assert!(lines.insert("third"));
        assert!(!lines.insert("second"));
        assert!(!lines.insert("third"));
        assert!(!lines.insert("first"));
        assert_eq!(lines.len(), 3);
    }
}
