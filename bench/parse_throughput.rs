//! `make bench`: the compiled `combined` format against the hand-written parser it replaced,
//! on the same file, in one process: ns per line, best of several rounds.
//!     cargo run --release --example parse_throughput -- FILE [ROUNDS]

use std::time::Instant;

use weblog::parse::{Format, Parsed};

#[path = "reference/combined_v2.rs"]
mod combined_v2;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: parse_throughput FILE [ROUNDS]");
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let data = std::fs::read(&path).expect("readable file");
    let lines: Vec<&[u8]> = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let format = Format::compile("combined").expect("a preset");
    let (mut best_old, mut best_new) = (f64::MAX, f64::MAX);
    let (mut rows_old, mut rows_new) = (0usize, 0usize);
    for _ in 0..rounds {
        // Interleaved, so that both see the same machine.
        let t = Instant::now();
        rows_old = lines
            .iter()
            .filter(|l| combined_v2::parse_line(l).is_ok())
            .count();
        best_old = best_old.min(t.elapsed().as_secs_f64());
        let mut parser = format.parser(None);
        let t = Instant::now();
        rows_new = lines
            .iter()
            .filter(|l| matches!(parser.parse(l), Parsed::Row(_)))
            .count();
        best_new = best_new.min(t.elapsed().as_secs_f64());
    }
    let n = lines.len() as f64;
    println!(
        "{{\"lines\": {}, \"rows_before\": {rows_old}, \"rows_now\": {rows_new}, \"ns_per_line_before\": {:.1}, \"ns_per_line_now\": {:.1}}}",
        lines.len(),
        best_old / n * 1e9,
        best_new / n * 1e9
    );
}
