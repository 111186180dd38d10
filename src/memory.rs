//! The process's allocator settings, made once at start.

/// Make glibc's malloc serve every allocation of 1 MiB or more with its own mapping, returned
/// to the system when freed. By default glibc raises that threshold to the size of the
/// largest block freed so far (up to 32 MiB): after the first batch, the parser's multi-MiB
/// column buffers come from heaps that keep their pages, and a backfill's peak RSS grew by
/// ~200 MB (2 M lines: 986 → 812 MB; bench/NOTES.md §12). Elsewhere (musl, macOS): nothing.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes malloc's parameters; called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
