//! A pile of small rotated archives (a year of `logrotate` with `compress`, read in one run):
//! every line stored once, and memory bounded by the batch, not by the number of files.
//! The only test of this binary: it reads the peak RSS of the processes it waited for.

mod common;

use std::collections::BTreeSet;
use std::io::Write;

use common::*;

const FILES: usize = 300;

#[test]
fn three_hundred_small_gz_archives_every_line_once_in_bounded_memory() {
    let env = Env::new();
    let lines = env.generated(60_000, &["--rate", "0.5", "--seed", "29"]);
    let per_file = lines.len().div_ceil(FILES);
    for (i, part) in lines.chunks(per_file).enumerate() {
        // Named as logrotate's dateext names them; read in any order.
        let path = env.logs().join(format!("access.log-{:04}.gz", FILES - i));
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        for l in part {
            gz.write_all(l.as_bytes()).unwrap();
            gz.write_all(b"\n").unwrap();
        }
        gz.finish().unwrap();
    }
    assert_eq!(std::fs::read_dir(env.logs()).unwrap().count(), FILES);
    let summary = env.run(&[]);
    assert_eq!(summary["files"].as_array().unwrap().len(), FILES);
    let distinct: BTreeSet<String> = lines.iter().cloned().collect();
    env.assert_stored_exactly(&distinct);

    // Peak RSS of the largest child this process waited for (Linux: KiB). Each archive's
    // last chunk used to keep a buffer of the full chunk size (8 MiB) until its batch was
    // stored: ~2.4 GiB for these 300 files, which hold 14 MB of lines.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) },
        0
    );
    let peak_mib = usage.ru_maxrss / 1024;
    assert!(peak_mib > 20, "the runs were measured ({peak_mib} MiB)");
    assert!(
        peak_mib < 600,
        "peak RSS {peak_mib} MiB for {FILES} small archives"
    );
}
