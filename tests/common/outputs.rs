//! Outputs compared value for value: the Spark job's against weblog's (tests/spark*.rs).

use std::collections::BTreeMap;
use std::path::Path;

use super::repo_outputs;

/// An output file's columns as (name, DuckDB type) and its rows as typed values.
pub fn parquet_rows(
    conn: &duckdb::Connection,
    file: &Path,
) -> (Vec<(String, String)>, Vec<Vec<duckdb::types::Value>>) {
    let source = format!("read_parquet('{}')", file.display());
    let typed: Vec<(String, String)> = conn
        .prepare(&format!(
            "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {source})"
        ))
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let rows = conn
        .prepare(&format!("SELECT * FROM {source}"))
        .unwrap()
        .query_map([], |r| {
            (0..typed.len())
                .map(|i| r.get::<_, duckdb::types::Value>(i))
                .collect()
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (typed, rows)
}

/// Two output values are the same: equal, or both doubles within a relative 1e-9 (the
/// engines may sum or interpolate in another order, which moves the last bits).
pub fn same_value(a: &duckdb::types::Value, b: &duckdb::types::Value) -> bool {
    use duckdb::types::Value::Double;
    match (a, b) {
        (Double(x), Double(y)) => x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()),
        _ => a == b,
    }
}

/// Each output in `ours` equals the same output in `theirs`: column names, column types and
/// rows in order. Returns the number of rows per output.
pub fn assert_same_outputs(
    conn: &duckdb::Connection,
    ours: &Path,
    theirs: &Path,
    what: &str,
) -> BTreeMap<String, usize> {
    let same_row = |a: &Vec<duckdb::types::Value>, b: &Vec<duckdb::types::Value>| {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_value(x, y))
    };
    let mut rows = BTreeMap::new();
    for name in repo_outputs() {
        let file = format!("{name}.parquet");
        let (our_types, our_rows) = parquet_rows(conn, &ours.join(&file));
        let (their_types, their_rows) = parquet_rows(conn, &theirs.join(&file));
        // Names and types: a reader of either output gets the same schema.
        assert_eq!(
            our_types, their_types,
            "{what} {name}: columns and their types"
        );
        let first = (0..our_rows.len().max(their_rows.len())).find(|&i| {
            match (our_rows.get(i), their_rows.get(i)) {
                (Some(a), Some(b)) => !same_row(a, b),
                _ => true,
            }
        });
        if let Some(i) = first {
            panic!(
                "{what} {name}: rows differ ({} vs {} rows), first at row {i}\nweblog: {:?}\nspark:  {:?}",
                our_rows.len(),
                their_rows.len(),
                our_rows.get(i),
                their_rows.get(i)
            );
        }
        rows.insert(name, our_rows.len());
    }
    rows
}
