//! Batches of whole DuckDB row groups. Each commit appends its rows as row groups of their
//! own, the last one part full; at its next checkpoint DuckDB's vacuum merges a part-full
//! row group with its neighbours whenever that saves a row group, rewriting every row group
//! from there on. A backfill whose batches left small remainders paid 2.2 s of its 12 s in
//! one checkpoint and kept a file 40% larger (bench/NOTES.md §16). So a batch that is not a
//! run's last is cut at a multiple of the row-group size and the rows after the cut go on
//! into the next batch: the committed checkpoints are those reached before the cut, and a
//! run killed between the two commits reads the rows after it again, which the warehouse's
//! anti-join finds stored.

use std::collections::HashMap;

use polars::prelude::*;

/// DuckDB's rows per row group: its default `row_group_size`, which weblog's databases use.
pub const ROW_GROUP_ROWS: usize = 122_880;

/// The rows of a batch of `rows` to commit: whole row groups, or all of them when there is
/// not one (a batch of very long lines).
pub fn cut(rows: usize) -> usize {
    match rows / ROW_GROUP_ROWS * ROW_GROUP_ROWS {
        0 => rows,
        whole => whole,
    }
}

/// Smallest and largest `time_local` (µs UTC) of `logs`; None when it is empty.
pub fn time_range(logs: &DataFrame) -> Option<(i64, i64)> {
    let time = logs.column("time_local").ok()?.datetime().ok()?.physical();
    Some((time.min()?, time.max()?))
}

/// Input bytes of `logs`' rows (their raw lines and line ends): what they count against the
/// batch budget.
pub fn input_bytes(logs: &DataFrame) -> usize {
    logs.column("raw_log")
        .ok()
        .and_then(|c| c.str().ok())
        .map_or(0, |s| s.iter().map(|l| l.map_or(0, str::len) + 1).sum())
}

/// `carried` (rows held back from the batch before) followed by the rows of `fresh` that
/// repeat none of them (the same line of the same host, which a batch stores once), every
/// row stamped `ingested_at_us`.
pub fn prepend(
    mut carried: DataFrame,
    fresh: DataFrame,
    ingested_at_us: i64,
) -> PolarsResult<DataFrame> {
    let fresh = drop_repeats(&carried, fresh)?;
    let stamp = Int64Chunked::full("ingested_at".into(), ingested_at_us, carried.height())
        .into_datetime(TimeUnit::Microseconds, None)
        .into_column();
    carried.with_column(stamp)?;
    carried.vstack_mut(&fresh)?;
    Ok(carried)
}

fn drop_repeats(carried: &DataFrame, fresh: DataFrame) -> PolarsResult<DataFrame> {
    let (c_hash, c_line, c_host) = identity(carried)?;
    let mut by_hash: HashMap<u64, Vec<usize>> = HashMap::with_capacity(carried.height());
    for (i, h) in c_hash.iter().enumerate() {
        if let Some(h) = h {
            by_hash.entry(h).or_default().push(i);
        }
    }
    let (f_hash, f_line, f_host) = identity(&fresh)?;
    let keep: BooleanChunked = f_hash
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let repeats = h.and_then(|h| by_hash.get(&h)).is_some_and(|rows| {
                rows.iter()
                    .any(|&j| c_line.get(j) == f_line.get(i) && c_host.get(j) == f_host.get(i))
            });
            !repeats
        })
        .collect();
    if keep.all() {
        Ok(fresh)
    } else {
        fresh.filter(&keep)
    }
}

fn identity(logs: &DataFrame) -> PolarsResult<(&UInt64Chunked, &StringChunked, &StringChunked)> {
    Ok((
        logs.column("line_hash")?.u64()?,
        logs.column("raw_log")?.str()?,
        logs.column("host")?.str()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(lines: &[(&str, &str)], ingested_at: i64) -> DataFrame {
        let n = lines.len();
        let hashes: Vec<u64> = lines
            .iter()
            .map(|(l, _)| xxhash_rust::xxh3::xxh3_64(l.as_bytes()))
            .collect();
        DataFrame::new(
            n,
            vec![
                Column::new(
                    "raw_log".into(),
                    lines.iter().map(|l| l.0).collect::<Vec<_>>(),
                ),
                Column::new("line_hash".into(), hashes),
                Column::new("host".into(), lines.iter().map(|l| l.1).collect::<Vec<_>>()),
                Int64Chunked::from_vec("time_local".into(), (0..n as i64).collect())
                    .into_datetime(TimeUnit::Microseconds, None)
                    .into_column(),
                Int64Chunked::full("ingested_at".into(), ingested_at, n)
                    .into_datetime(TimeUnit::Microseconds, None)
                    .into_column(),
            ],
        )
        .unwrap()
    }

    #[test]
    fn cuts_at_whole_row_groups() {
        assert_eq!(cut(0), 0);
        assert_eq!(cut(1_000), 1_000);
        assert_eq!(cut(ROW_GROUP_ROWS - 1), ROW_GROUP_ROWS - 1);
        assert_eq!(cut(ROW_GROUP_ROWS), ROW_GROUP_ROWS);
        assert_eq!(cut(3 * ROW_GROUP_ROWS - 1), 2 * ROW_GROUP_ROWS);
    }

    #[test]
    fn carried_rows_come_first_restamped_and_their_repeats_are_dropped() {
        let carried = frame(&[("a", "h1"), ("b", "h1")], 1);
        // "a" of h1 repeats a carried row; "a" of h2 and "c" do not.
        let fresh = frame(&[("a", "h1"), ("a", "h2"), ("c", "h1")], 2);
        let joined = prepend(carried, fresh, 2).unwrap();
        let lines: Vec<_> = joined
            .column("raw_log")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(lines, [Some("a"), Some("b"), Some("a"), Some("c")]);
        let hosts: Vec<_> = joined
            .column("host")
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(hosts, [Some("h1"), Some("h1"), Some("h2"), Some("h1")]);
        let stamps = joined.column("ingested_at").unwrap().datetime().unwrap();
        assert!(stamps.physical().iter().all(|t| t == Some(2)));
        assert_eq!(time_range(&joined), Some((0, 2)));
        assert_eq!(input_bytes(&joined), 8);
    }
}
