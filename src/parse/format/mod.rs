//! The format compiler: a log format (a preset name, an nginx `log_format` or an Apache
//! `LogFormat` string) compiled once into a parser for its lines.
//!
//! Text formats compile to a [`template`]: literals and typed fields, matched left to right;
//! only quoted fields may backtrack (to recover from unescaped quotes inside them). JSON
//! formats (Caddy, nginx `escape=json`), column formats (W3C, CloudFront, GCS) and the formats
//! a template cannot express (HAProxy's optional blocks, Squid's padded columns) have their own
//! readers, which fill the same [`slots::Slots`] so every format converts values alike.
//!
//! Self-contained: std, memchr and serde_json only, so the fuzz crate can compile it by path.

use std::borrow::Cow;
use std::sync::Arc;

use memchr::memchr;

mod apache;
mod detect;
mod fast;
mod haproxy;
mod json;
mod nginx;
mod presets;
mod slots;
mod squid;
mod template;
mod time;
mod values;
mod w3c;

#[cfg(test)]
mod tests;

pub use detect::detect;
pub use presets::PRESETS;
pub use time::{civil_from_days, days_from_civil};

/// Lines longer than this are rejected rather than stored: a guard against garbage or
/// hostile input exhausting memory, far above any real request line.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// One request record. Every `Cow::Borrowed` is a sub-slice of the parsed line.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine<'a> {
    pub remote_addr: Option<Cow<'a, str>>,
    pub remote_user: Option<Cow<'a, str>>,
    pub time: LogTime,
    pub request_method: Option<Cow<'a, str>>,
    pub request_path: Option<Cow<'a, str>>,
    pub request_protocol: Option<Cow<'a, str>>,
    pub status: Option<i32>,
    pub body_bytes_sent: Option<i64>,
    pub http_referer: Option<Cow<'a, str>>,
    pub http_user_agent: Option<Cow<'a, str>>,
    pub vhost: Option<Cow<'a, str>>,
    pub server_port: Option<i32>,
    /// Seconds.
    pub request_time: Option<f64>,
    /// Seconds, summed over every upstream tried.
    pub upstream_response_time: Option<f64>,
    pub request_length: Option<i64>,
    pub x_forwarded_for: Option<Cow<'a, str>>,
    pub ssl_protocol: Option<Cow<'a, str>>,
    pub cache_status: Option<Cow<'a, str>>,
}

impl LogLine<'_> {
    /// The name of the text field that holds byte `at` of the line that starts at `base`
    /// (only fields read as they stand in the line, not unescaped copies).
    fn field_at(&self, base: usize, at: usize) -> Option<&'static str> {
        let fields = [
            ("remote_addr", &self.remote_addr),
            ("remote_user", &self.remote_user),
            ("request_method", &self.request_method),
            ("request_path", &self.request_path),
            ("request_protocol", &self.request_protocol),
            ("http_referer", &self.http_referer),
            ("http_user_agent", &self.http_user_agent),
            ("vhost", &self.vhost),
            ("x_forwarded_for", &self.x_forwarded_for),
            ("ssl_protocol", &self.ssl_protocol),
            ("cache_status", &self.cache_status),
        ];
        fields.into_iter().find_map(|(name, value)| match value {
            Some(Cow::Borrowed(s)) => {
                let start = (s.as_ptr() as usize).checked_sub(base)?;
                (start <= at && at < start + s.len()).then_some(name)
            }
            _ => None,
        })
    }

    /// The row without borrows, to outlive its line.
    pub fn into_owned(self) -> LogLine<'static> {
        fn own(v: Option<Cow<'_, str>>) -> Option<Cow<'static, str>> {
            v.map(|v| Cow::Owned(v.into_owned()))
        }
        LogLine {
            remote_addr: own(self.remote_addr),
            remote_user: own(self.remote_user),
            time: self.time,
            request_method: own(self.request_method),
            request_path: own(self.request_path),
            request_protocol: own(self.request_protocol),
            status: self.status,
            body_bytes_sent: self.body_bytes_sent,
            http_referer: own(self.http_referer),
            http_user_agent: own(self.http_user_agent),
            vhost: own(self.vhost),
            server_port: self.server_port,
            request_time: self.request_time,
            upstream_response_time: self.upstream_response_time,
            request_length: self.request_length,
            x_forwarded_for: own(self.x_forwarded_for),
            ssl_protocol: own(self.ssl_protocol),
            cache_status: own(self.cache_status),
        }
    }
}

/// A line's time resolved to the instant and to the date and hour as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogTime {
    /// Microseconds since the Unix epoch, UTC.
    pub micros_utc: i64,
    /// Days since 1970-01-01 of the calendar date written in the line (server-local date).
    pub local_day: i32,
    /// The hour written in the line, 0..=23.
    pub local_hour: u8,
}

/// Why a line was set aside. The reason is stored in the `rejects` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    reason: Cow<'static, str>,
    /// The byte where matching failed, for [`detect`] to rank formats by how far they got.
    at: Option<usize>,
}

impl Reject {
    pub fn reason(&self) -> &str {
        &self.reason
    }

    fn fixed(reason: &'static str) -> Reject {
        Reject {
            reason: Cow::Borrowed(reason),
            at: None,
        }
    }

    fn new(format: &str, detail: &str, at: Option<usize>) -> Reject {
        Reject {
            reason: Cow::Owned(format!("{format}: {detail}")),
            at,
        }
    }
}

// Rows are what nearly every line is: boxing them would allocate per line to shrink the rarer
// variants.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed<'a> {
    Row(LogLine<'a>),
    Reject(Reject),
    /// Not a request record: W3C `#` directives, Caddy's runtime log lines.
    Skip,
}

/// A compiled log format: cheap to clone, shareable across threads.
#[derive(Clone)]
pub struct Format {
    name: Arc<str>,
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    Template(Arc<template::Template>),
    Json(Arc<json::JsonTemplate>),
    Caddy,
    Haproxy,
    Squid,
    W3c(w3c::Flavor),
}

impl Format {
    /// `spec`: a preset name (see [`PRESETS`]), an nginx `log_format` (bare string or pasted
    /// directive) or an Apache `LogFormat` (bare string or pasted directive).
    pub fn compile(spec: &str) -> Result<Format, String> {
        let trimmed = spec.trim();
        if let Some(format) = presets::preset(trimmed) {
            return Ok(format);
        }
        if nginx::looks_like(trimmed) {
            return nginx::compile(trimmed);
        }
        if apache::looks_like(trimmed) {
            return apache::compile(trimmed);
        }
        Err(format!(
            "unknown log format {trimmed:?}: expected a preset ({}), an nginx log_format string \
             ($variables) or an Apache LogFormat string (%directives)",
            PRESETS.join(", ")
        ))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A parser for one file. `state`: what [`LineParser::state`] returned when the file was
    /// last checkpointed (W3C's active `#Fields:` line), so a resumed file keeps its columns.
    pub fn parser(&self, state: Option<&str>) -> LineParser {
        let w3c = match &self.kind {
            Kind::W3c(flavor) => Some(w3c::Columns::new(*flavor, state)),
            _ => None,
        };
        LineParser {
            format: self.clone(),
            w3c,
        }
    }
}

pub struct LineParser {
    format: Format,
    w3c: Option<w3c::Columns>,
}

impl LineParser {
    /// Whether the format's columns are declared by header lines in the file (W3C, CloudFront).
    pub fn header_led(&self) -> bool {
        self.w3c.is_some()
    }
}

impl LineParser {
    /// Parse one line without its `\n` (a trailing `\r` is tolerated).
    pub fn parse<'a>(&mut self, line: &'a [u8]) -> Parsed<'a> {
        // IIS Advanced Logging writes blank lines between its header lines: not requests.
        if matches!(self.format.kind, Kind::W3c(_)) && line.iter().all(u8::is_ascii_whitespace) {
            return Parsed::Skip;
        }
        let name = &self.format.name;
        let text = match generic_checks(line) {
            Ok(text) => text,
            Err(Unusable::Reject(reject)) => return Parsed::Reject(reject),
            // Where, in which format and field: the operator's next question (a legacy
            // encoding? see --encoding).
            Err(Unusable::NotUtf8(at)) => {
                let name = name.clone();
                let detail = match self.field_at(line, at) {
                    Some(field) => format!("invalid UTF-8 in {field} at byte {at}"),
                    None => format!("invalid UTF-8 at byte {at}"),
                };
                return Parsed::Reject(Reject::new(&name, &detail, Some(at)));
            }
        };
        match (&self.format.kind, &mut self.w3c) {
            (Kind::Template(t), _) => t.parse(name, text),
            (Kind::Json(j), _) => j.parse(name, text),
            (Kind::Caddy, _) => json::parse_caddy(name, text),
            (Kind::Haproxy, _) => haproxy::parse(name, text),
            (Kind::Squid, _) => squid::parse(name, text),
            (Kind::W3c(_), Some(columns)) => columns.parse(name, text),
            (Kind::W3c(_), None) => Parsed::Reject(Reject::fixed("w3c: no column state")),
        }
    }

    /// The field of `line` that byte `at` is in: the line is parsed with each byte that is
    /// not UTF-8 replaced by `?` (which keeps every offset). None for a directive (whose
    /// parse would change the parser's state) or a line that does not parse even so.
    fn field_at(&mut self, line: &[u8], at: usize) -> Option<&'static str> {
        if line.starts_with(b"#") {
            return None;
        }
        let mut fixed = line.to_vec();
        let mut from = 0;
        while let Err(e) = std::str::from_utf8(&fixed[from..]) {
            let bad = from + e.valid_up_to();
            let len = e.error_len().unwrap_or(fixed.len() - bad);
            fixed[bad..bad + len].fill(b'?');
            from = bad + len;
        }
        match self.parse(&fixed) {
            Parsed::Row(row) => row.field_at(fixed.as_ptr() as usize, at),
            _ => None,
        }
    }

    /// What must be saved with the file's checkpoint; None for stateless formats.
    pub fn state(&self) -> Option<&str> {
        self.w3c.as_ref().and_then(|c| c.state())
    }
}

/// Why a line cannot be read as text at all.
enum Unusable {
    Reject(Reject),
    /// Not UTF-8 from this byte on.
    NotUtf8(usize),
}

/// The checks every format shares, with the reason strings the warehouse already stores.
fn generic_checks(line: &[u8]) -> Result<&str, Unusable> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.len() > MAX_LINE_BYTES {
        return Err(Unusable::Reject(Reject::fixed("line longer than 1 MiB")));
    }
    if line.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Unusable::Reject(Reject::fixed("empty line")));
    }
    if memchr(0, line).is_some() {
        return Err(Unusable::Reject(Reject::fixed("NUL byte in line")));
    }
    std::str::from_utf8(line).map_err(|e| Unusable::NotUtf8(e.valid_up_to()))
}
