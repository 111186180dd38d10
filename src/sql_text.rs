//! Values spelled into SQL text, for the statements that take no parameters (COPY targets,
//! the loader's raw connection). One place, so quoting is done one way.

/// A SQL string literal.
pub fn string_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A UTC instant (µs since the epoch) as a TIMESTAMPTZ, built from the integer: no text
/// rendering of the time, so every instant the warehouse holds can be spelled (a text
/// literal of a year past 9999 does not parse back), and no ICU extension is needed.
pub fn timestamptz(micros: i64) -> String {
    format!("make_timestamp({micros}::BIGINT)::TIMESTAMPTZ")
}

/// Pin every connection of `conn`'s database to UTC. DuckDB's official library has ICU built
/// in, and with ICU a TIMESTAMPTZ is cast and rendered in the session's time zone, the
/// machine's by default: `make_timestamp(µs)::TIMESTAMPTZ` above would move with `TZ`, and so
/// would every instant shown. weblog's instants are UTC. Without ICU (the bundled build)
/// there is no such setting and nothing to pin.
pub fn pin_utc(conn: &duckdb::Connection) -> duckdb::Result<()> {
    let zones: bool = conn.query_row(
        "SELECT count(*) > 0 FROM duckdb_settings() WHERE name = 'TimeZone'",
        [],
        |r| r.get(0),
    )?;
    if zones {
        conn.execute_batch("SET GLOBAL TimeZone = 'UTC'")?;
    }
    Ok(())
}
