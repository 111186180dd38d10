//! Everything weblog wrote, as text, to look for what must not be there (addresses).

use std::path::Path;

use super::{Env, files_under};

/// `COPY (SELECT * FROM from) TO csv` through `conn`, read back.
fn dump(conn: &duckdb::Connection, from: &str) -> String {
    let scratch = tempfile::tempdir().unwrap();
    let csv = scratch.path().join("dump.csv");
    conn.execute_batch(&format!(
        "COPY (SELECT * FROM {from}) TO '{}' (HEADER)",
        csv.display()
    ))
    .unwrap();
    std::fs::read_to_string(&csv).unwrap()
}

/// Every table of the warehouse as CSV text.
pub fn database_text(env: &Env) -> String {
    let conn = env.db();
    let tables: Vec<String> = conn
        .prepare("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    // The stored rows are `log_rows` and `agents` (`logs` is a view of them).
    for stored in ["log_rows", "agents", "rejects"] {
        assert!(tables.iter().any(|t| t == stored), "{stored}: {tables:?}");
    }
    tables
        .iter()
        .map(|t| dump(&conn, &format!("\"{t}\"")))
        .collect()
}

/// Every Parquet file under `dir` as CSV text, and every other file as it is; and how many
/// Parquet files there were.
pub fn files_text(dir: &Path) -> (String, usize) {
    let mem = duckdb::Connection::open_in_memory().unwrap();
    let (mut text, mut parquet) = (String::new(), 0);
    for path in files_under(dir) {
        if path.extension().is_some_and(|e| e == "parquet") {
            text.push_str(&dump(&mem, &format!("read_parquet('{}')", path.display())));
            parquet += 1;
        } else if let Ok(s) = std::fs::read_to_string(&path) {
            text.push_str(&s);
        }
    }
    (text, parquet)
}

/// Every table of the warehouse and every file under `dirs`, concatenated.
pub fn everything_as_text(env: &Env, dirs: &[&Path]) -> String {
    let mut text = database_text(env);
    let mut parquet = 0;
    for dir in dirs {
        let (t, n) = files_text(dir);
        text.push_str(&t);
        parquet += n;
    }
    assert!(parquet > 20, "outputs and lake files were read ({parquet})");
    text
}

/// The forms an address can be written in (IPv6 compressed or not).
pub fn forms(addr: &str) -> Vec<String> {
    let parsed: std::net::IpAddr = addr.parse().unwrap();
    let mut v = vec![addr.to_string(), parsed.to_string()];
    if let std::net::IpAddr::V6(a) = parsed {
        v.push(
            a.segments()
                .iter()
                .map(|s| format!("{s:x}"))
                .collect::<Vec<_>>()
                .join(":"),
        );
    }
    v
}
