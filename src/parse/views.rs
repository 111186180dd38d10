//! String columns that are views into the batch's input, not copies of it. Each chunk of
//! input lines becomes one Arrow buffer, kept whole until the batch is committed; a parsed
//! field is a 16-byte view of its bytes there (Arrow's Utf8View layout, which Polars uses for
//! strings and DuckDB reads). Values that had to be unescaped, and the chunk's file name, go
//! to a small second buffer per chunk.

use std::borrow::Cow;

use polars::prelude::*;
use polars_arrow::array::{Utf8ViewArray, View};
use polars_arrow::bitmap::MutableBitmap;
use polars_arrow::datatypes::ArrowDataType;
use polars_buffer::Buffer;

/// The buffers every view of a batch points into: per chunk, its input bytes then its extras.
#[derive(Default)]
pub struct Buffers {
    buffers: Vec<Buffer<u8>>,
}

/// One chunk being parsed: where its views point.
pub struct ChunkViews {
    data: Buffer<u8>,
    data_idx: u32,
    extras: Vec<u8>,
}

impl Buffers {
    /// Take a chunk's bytes; its views are valid once [`Self::end_chunk`] has run.
    pub fn begin_chunk(&mut self, data: Vec<u8>) -> ChunkViews {
        let data = Buffer::from(data);
        let data_idx = self.buffers.len() as u32;
        self.buffers.push(data.clone());
        ChunkViews {
            data,
            data_idx,
            extras: Vec::new(),
        }
    }

    pub fn end_chunk(&mut self, chunk: ChunkViews) {
        self.buffers.push(Buffer::from(chunk.extras));
    }

    /// The bytes a view of this batch points at.
    pub fn bytes<'a>(&'a self, view: &'a View) -> &'a [u8] {
        // SAFETY: views are only made by ChunkViews of this Buffers, in range of their buffer.
        unsafe { view.get_slice_unchecked(&self.buffers) }
    }

    pub fn finish(self) -> Buffer<Buffer<u8>> {
        Buffer::from(self.buffers)
    }
}

impl ChunkViews {
    /// The chunk's bytes (a shared handle: views of them can be made while it is read).
    pub fn data(&self) -> Buffer<u8> {
        self.data.clone()
    }

    /// A view of `s`, which must be a slice of this chunk's data.
    pub fn of_input(&self, s: &str) -> View {
        // The guard of every unsafe read of a view: cheap, so checked in release too.
        let offset = (s.as_ptr() as usize).checked_sub(self.data.as_ptr() as usize);
        let inside = offset.is_some_and(|o| {
            o.checked_add(s.len())
                .is_some_and(|end| end <= self.data.len())
        });
        assert!(inside, "a view outside its chunk");
        let offset = offset.unwrap_or_default();
        View::new_from_bytes(s.as_bytes(), self.data_idx, offset as u32)
    }

    /// A view of `s`, wherever it is: in the chunk's data (no copy) or not (copied).
    pub fn of_str(&mut self, s: &str) -> View {
        let base = self.data.as_ptr() as usize;
        let at = s.as_ptr() as usize;
        if at >= base && at + s.len() <= base + self.data.len() {
            self.of_input(s)
        } else {
            self.of_owned(s)
        }
    }

    /// A view of a value that is not in the input as it stands (unescaped, or a constant).
    pub fn of_owned(&mut self, s: &str) -> View {
        let offset = self.extras.len();
        if s.len() > View::MAX_INLINE_SIZE as usize {
            self.extras.extend_from_slice(s.as_bytes());
        }
        View::new_from_bytes(s.as_bytes(), self.data_idx + 1, offset as u32)
    }

    // The Cow itself is the point: borrowed means "in the input", owned means "unescaped".
    #[allow(clippy::ptr_arg)]
    pub fn of_field(&mut self, field: &Cow<'_, str>) -> View {
        match field {
            Cow::Borrowed(s) => self.of_input(s),
            Cow::Owned(s) => self.of_owned(s),
        }
    }
}

/// A nullable string column of views.
pub struct ViewColumn {
    name: &'static str,
    views: Vec<View>,
    validity: MutableBitmap,
    has_null: bool,
    bytes_len: usize,
}

impl ViewColumn {
    pub fn new(name: &'static str, capacity: usize) -> Self {
        ViewColumn {
            name,
            views: Vec::with_capacity(capacity),
            validity: MutableBitmap::with_capacity(capacity),
            has_null: false,
            bytes_len: 0,
        }
    }

    pub fn push(&mut self, view: Option<View>) {
        match view {
            Some(v) => {
                self.bytes_len += v.length as usize;
                self.views.push(v);
                self.validity.push(true);
            }
            None => {
                self.views.push(View::default());
                self.validity.push(false);
                self.has_null = true;
            }
        }
    }

    pub fn len(&self) -> usize {
        self.views.len()
    }

    pub fn finish(self, buffers: &Buffer<Buffer<u8>>) -> Column {
        let total_buffer_len = buffers.iter().map(|b| b.len()).sum();
        let validity = self.has_null.then(|| self.validity.into());
        // SAFETY: every view was made by ChunkViews from UTF-8 text (a parsed line or field,
        // split at ASCII delimiters) and points inside `buffers`.
        let array = unsafe {
            Utf8ViewArray::new_unchecked(
                ArrowDataType::Utf8View,
                self.views.into(),
                buffers.clone(),
                validity,
                Some(self.bytes_len),
                total_buffer_len,
            )
        };
        StringChunked::with_chunk(self.name.into(), array).into_column()
    }
}
