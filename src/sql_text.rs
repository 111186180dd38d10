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
