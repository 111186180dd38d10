//! W3C extended log files (IIS and CDNs), CloudFront standard logs and Google Cloud Storage
//! usage logs: columns named by a header (`#Fields:`, or GCS's CSV header row), which can change
//! in the middle of a file. The active header is the parser's state, saved with the file's
//! checkpoint (as a `#Fields:` line whatever the flavor).

use std::borrow::Cow;

use super::slots::{Decode, FieldError, Finish, Slots, Var, apply};
use super::{Parsed, Reject};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Flavor {
    /// Space-separated, `time-taken` in milliseconds, `+` for spaces in the agent.
    W3c,
    /// Tab-separated, `time-taken` in seconds, values URL-encoded.
    CloudFront,
    /// Google Cloud Storage usage logs: CSV with a header row, every value double-quoted.
    Gcs,
}

/// CloudFront's columns when a file has no `#Fields:` header (AWS "Standard log file fields").
const CLOUDFRONT_FIELDS: &str = "#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) \
    cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type \
    x-edge-request-id x-host-header cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol \
    ssl-cipher x-edge-response-result-type cs-protocol-version fle-status fle-encrypted-fields c-port \
    time-to-first-byte x-edge-detailed-result-type sc-content-type sc-content-len sc-range-start \
    sc-range-end";

/// GCS usage log columns (Google Cloud docs, "Usage and storage logs format"), for a file read
/// from past its header row.
const GCS_FIELDS: &str = "#Fields: time_micros c_ip c_ip_type c_ip_region cs_method cs_uri \
    sc_status cs_bytes sc_bytes time_taken_micros cs_host cs_referer cs_user_agent s_request_id \
    cs_operation cs_bucket cs_object";

/// Without a header, older CloudFront lines stop after `time-taken` or a later column.
const CLOUDFRONT_MIN_COLUMNS: usize = 19;

struct Column {
    name: Box<str>,
    var: Var,
    decode: Decode,
}

pub(super) struct Columns {
    flavor: Flavor,
    fields_line: Option<String>,
    columns: Vec<Column>,
    /// CloudFront's default columns are in use (no header seen): shorter lines are older ones.
    defaulted: bool,
}

impl Columns {
    pub fn new(flavor: Flavor, state: Option<&str>) -> Columns {
        let mut c = Columns {
            flavor,
            fields_line: None,
            columns: Vec::new(),
            defaulted: false,
        };
        if let Some(fields) = state.and_then(|s| s.strip_prefix("#Fields:")) {
            c.set_fields(fields);
        }
        c
    }

    pub fn state(&self) -> Option<&str> {
        self.fields_line.as_deref()
    }

    fn set_fields(&mut self, names: &str) {
        let names: Vec<&str> = names.split_whitespace().collect();
        let named = |wanted: &str| names.iter().any(|n| n.eq_ignore_ascii_case(wanted));
        // IIS Advanced Logging's local date and time (no offset), where no UTC ones are logged.
        let (local_date, local_time) = (!named("date"), !named("time"));
        let has_host_header = names
            .iter()
            .any(|n| n.eq_ignore_ascii_case("x-host-header"));
        self.columns = names
            .iter()
            .map(|n| {
                let (mut var, decode) = match n.to_ascii_lowercase().as_str() {
                    "date-local" if local_date => (Var::Date, Decode::None),
                    "time-local" if local_time => (Var::TimeOfDay, Decode::None),
                    _ => column(self.flavor, n),
                };
                // CloudFront: cs(Host) is the distribution's domain, x-host-header the site's.
                if self.flavor == Flavor::CloudFront
                    && has_host_header
                    && n.eq_ignore_ascii_case("cs(host)")
                {
                    var = Var::Skip;
                }
                Column {
                    name: (*n).into(),
                    var,
                    decode,
                }
            })
            .collect();
        self.fields_line = Some(format!("#Fields: {}", names.join(" ")));
        self.defaulted = false;
    }

    pub fn parse<'a>(&mut self, name: &str, line: &'a str) -> Parsed<'a> {
        if self.flavor == Flavor::Gcs {
            // The header row names the columns: a header, not a request.
            if line.starts_with("\"time_micros\"") || line.starts_with("time_micros,") {
                let names: Vec<&str> = line
                    .split(',')
                    .map(|n| n.trim().trim_matches('"'))
                    .collect();
                self.set_fields(&names.join(" "));
                return Parsed::Skip;
            }
            if self.columns.is_empty() {
                self.set_fields(&GCS_FIELDS["#Fields:".len()..]);
                self.fields_line = None;
            }
        }
        if let Some(directive) = line.strip_prefix('#')
            && self.flavor != Flavor::Gcs
        {
            if let Some(fields) = directive.strip_prefix("Fields:") {
                self.set_fields(fields);
            }
            return Parsed::Skip;
        }
        if self.columns.is_empty() && self.flavor == Flavor::CloudFront {
            self.set_fields(&CLOUDFRONT_FIELDS["#Fields:".len()..]);
            // Only an explicit header is state worth saving: a resumed parser defaults too.
            self.fields_line = None;
            self.defaulted = true;
        }
        let defaulted = self.defaulted;
        if self.columns.is_empty() {
            return Parsed::Reject(Reject::new(
                name,
                "no #Fields: directive before this line",
                Some(0),
            ));
        }
        let sep = match self.flavor {
            Flavor::W3c => b' ',
            Flavor::CloudFront => b'\t',
            Flavor::Gcs => b',',
        };
        let b = line.as_bytes();
        let spaced = self.flavor == Flavor::W3c;
        let csv = self.flavor == Flavor::Gcs;
        let mut slots = Slots::default();
        let (mut start, mut n) = (0, 0);
        let mut end_ok = false;
        loop {
            // W3C: a value may be double-quoted (`""` inside is a quote), and real files put
            // runs of spaces between values.
            let (value, end) = if (spaced || csv) && b.get(start) == Some(&b'"') {
                match quoted(line, start) {
                    // A closing quote ends the value only before a separator or the line's end
                    // (the next value starts after that separator).
                    Some((_, end)) if end < b.len() && b[end] != sep => {
                        return Parsed::Reject(Reject::new(
                            name,
                            &format!(
                                "expected '{}' after the quoted value at byte {end}",
                                sep as char
                            ),
                            Some(end),
                        ));
                    }
                    Some(v) => v,
                    None => {
                        return Parsed::Reject(Reject::new(
                            name,
                            &format!("unclosed quote at byte {start}"),
                            Some(start),
                        ));
                    }
                }
            } else {
                let end = memchr::memchr(sep, &b[start..]).map_or(b.len(), |i| start + i);
                (Cow::Borrowed(&line[start..end]), end)
            };
            let Some(col) = self.columns.get(n) else {
                return Parsed::Reject(Reject::new(
                    name,
                    &format!(
                        "more columns than the {} of {} at byte {start}",
                        self.columns.len(),
                        self.header_name()
                    ),
                    Some(start),
                ));
            };
            if let Err(e) = apply(&col.var, col.decode, value, &mut slots) {
                let written = match &line[start..end] {
                    q if (spaced || csv) && q.len() >= 2 && q.starts_with('"') => {
                        &q[1..q.len() - 1]
                    }
                    v => v,
                };
                let shown: String = written.chars().take(60).collect();
                let detail = match e {
                    FieldError::Invalid => {
                        format!("invalid {} \"{shown}\" at byte {start}", col.name)
                    }
                    FieldError::OutOfRange => {
                        format!("{} \"{shown}\" at byte {start} out of range", col.name)
                    }
                };
                return Parsed::Reject(Reject::new(name, &detail, Some(start)));
            }
            n += 1;
            if defaulted && n >= CLOUDFRONT_MIN_COLUMNS {
                end_ok = true;
            }
            if end == b.len() {
                break;
            }
            start = end + 1;
            if spaced {
                start += b[start..].iter().take_while(|&&c| c == b' ').count();
                if start == b.len() {
                    break; // trailing spaces
                }
            }
        }
        if n != self.columns.len() && !end_ok {
            return Parsed::Reject(Reject::new(
                name,
                &format!(
                    "{n} columns where {} names {} at byte {}",
                    self.header_name(),
                    self.columns.len(),
                    b.len()
                ),
                Some(b.len()),
            ));
        }
        match slots.finish(line) {
            Ok(row) => Parsed::Row(row),
            Err(Finish::NoTime) => {
                Parsed::Reject(Reject::new(name, "no date and time columns", None))
            }
            Err(Finish::TimeRange) => {
                Parsed::Reject(Reject::new(name, "time outside the years 1 to 9999", None))
            }
        }
    }
}

impl Columns {
    fn header_name(&self) -> &'static str {
        match self.flavor {
            Flavor::Gcs => "the header row",
            _ => "#Fields:",
        }
    }
}

/// A quoted W3C value starting at `start` (its opening quote): the value without its quotes
/// (`""` read as `"`) and where it ends (just after the closing quote). None: never closed.
fn quoted(line: &str, start: usize) -> Option<(Cow<'_, str>, usize)> {
    let b = line.as_bytes();
    let mut at = start + 1;
    let mut escaped = false;
    loop {
        let q = at + memchr::memchr(b'"', &b[at..])?;
        if b.get(q + 1) == Some(&b'"') {
            escaped = true;
            at = q + 2;
            continue;
        }
        let inner = &line[start + 1..q];
        let value = if escaped {
            Cow::Owned(inner.replace("\"\"", "\""))
        } else {
            Cow::Borrowed(inner)
        };
        return Some((value, q + 1));
    }
}

fn column(flavor: Flavor, name: &str) -> (Var, Decode) {
    if flavor == Flavor::Gcs {
        return (gcs_column(name), Decode::None);
    }
    let cf = flavor == Flavor::CloudFront;
    let text = if cf { Decode::Percent } else { Decode::None };
    let var = match name.to_ascii_lowercase().as_str() {
        "date" => Var::Date,
        "time" => Var::TimeOfDay,
        "c-ip" => Var::RemoteAddr,
        "cs-username" => Var::RemoteUser,
        "cs-method" => Var::Method,
        "cs-uri-stem" => Var::Path,
        "cs-uri-query" => Var::Query,
        "cs-uri" => Var::RequestUri,
        "cs-version" | "cs-protocol-version" => Var::Protocol,
        "sc-status" => Var::Status,
        "sc-bytes" => Var::BodyBytes {
            dash_is_zero: false,
        },
        "cs-bytes" => Var::RequestLength,
        "time-taken" if cf => Var::RequestTime(1.0),
        "time-taken" => Var::RequestTime(1e-3),
        "cs(user-agent)" => {
            return (
                Var::UserAgent,
                if cf {
                    Decode::PercentTwice
                } else {
                    Decode::Plus
                },
            );
        }
        // CloudFront's RTMP (streaming) logs name them c-user-agent and c-referrer.
        "c-user-agent" => return (Var::UserAgent, text),
        "cs(referer)" | "c-referrer" => return (Var::Referer, text),
        "cs-host" | "cs(host)" | "x-host-header" => Var::Vhost,
        "s-port" => Var::ServerPort,
        "x-forwarded-for" | "cs(x-forwarded-for)" => return (Var::XForwardedFor, text),
        "ssl-protocol" => Var::SslProtocol,
        "x-edge-result-type" => Var::CacheStatus,
        _ => Var::Skip,
    };
    (var, Decode::None)
}

/// GCS usage log columns; the others (`c_ip_type`, `s_request_id`, `cs_bucket`, …) are skipped.
fn gcs_column(name: &str) -> Var {
    match name {
        "time_micros" => Var::Epoch(1),
        "c_ip" => Var::RemoteAddr,
        "cs_method" => Var::Method,
        "cs_uri" => Var::RequestUri,
        "sc_status" => Var::Status,
        "cs_bytes" => Var::RequestLength,
        "sc_bytes" => Var::BodyBytes {
            dash_is_zero: false,
        },
        "time_taken_micros" => Var::RequestTime(1e-6),
        "cs_host" => Var::Vhost,
        "cs_referer" => Var::Referer,
        "cs_user_agent" => Var::UserAgent,
        _ => Var::Skip,
    }
}
