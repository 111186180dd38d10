//! What a field means ([`Var`]), how its value is read into [`Slots`], and how the slots of a
//! matched line become a [`LogLine`]. Shared by every format, so `$request_time`, `%D`, W3C
//! `time-taken` and Caddy's `duration` all end up as seconds the same way.
//!
//! A slot is written only by its own field (assignment, never accumulation), so a quoted field
//! that backtracks and re-runs the fields after it leaves no stale state behind.

use std::borrow::Cow;

use super::time::{self, Strf, TimeError, TimeParts};
use super::values::{self, NumError, nullable};
use super::{LogLine, LogTime};

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Var {
    RemoteAddr,
    /// `client:port` (ALB): the address without its port.
    AddrPort,
    RemoteUser,
    TimeLocal,
    TimeIso,
    /// Epoch time in units of this many µs.
    Epoch(i64),
    /// `%{msec_frac}t` (3 digits) / `%{usec_frac}t` (6 digits).
    Frac(u8),
    Strftime(Vec<Strf>, bool),
    Date,
    TimeOfDay,
    Request,
    Method,
    /// Path and query as requested (`$request_uri`, W3C with the query joined later).
    RequestUri,
    /// Path without the query (`$uri`, `%U`, `cs-uri-stem`).
    Path,
    /// The query without `?` (`$args`, `cs-uri-query`).
    Query,
    /// Apache `%q`: `?a=1`, or nothing.
    QueryMark,
    Protocol,
    Status,
    /// `dash_is_zero`: Apache `%b` writes `-` for 0 bytes.
    BodyBytes {
        dash_is_zero: bool,
    },
    Referer,
    UserAgent,
    Vhost,
    ServerPort,
    /// A decimal duration; the factor turns it into seconds.
    RequestTime(f64),
    /// Traefik's `12ms`.
    MillisSuffix,
    /// Go duration string (`1.5ms`) or seconds as a number (Caddy).
    GoDuration,
    UpstreamTime,
    RequestLength,
    XForwardedFor,
    SslProtocol,
    CacheStatus,
    /// ALB request/target/response processing times, `-1` when not applicable.
    AlbTime(u8),
    /// HAProxy's `TR/Tw/Tc/Tr/Ta` (`Tq/Tw/Tc/Tr/Tt` before 1.7), in ms, `-1` for a stage never
    /// reached, `+` before a total logged early (`option logasap`): the last is the request's
    /// time, `Tr` the server's.
    HaproxyTimers,
    /// Not stored, but a count (or `-`): a column that can only be digits keeps a shifted
    /// reading of the line from matching.
    SkipCount,
    Skip,
}

impl Var {
    pub fn is_time(&self) -> bool {
        matches!(
            self,
            Var::TimeLocal
                | Var::TimeIso
                | Var::Epoch(_)
                | Var::Strftime(..)
                | Var::Date
                | Var::TimeOfDay
        )
    }

    pub fn is_request(&self) -> bool {
        matches!(
            self,
            Var::Request | Var::Method | Var::RequestUri | Var::Path
        )
    }

    /// Fields whose text is stored (and so unescaped), as opposed to numbers and times.
    fn is_text(&self) -> bool {
        matches!(
            self,
            Var::RemoteAddr
                | Var::RemoteUser
                | Var::Request
                | Var::Method
                | Var::RequestUri
                | Var::Path
                | Var::Query
                | Var::QueryMark
                | Var::Protocol
                | Var::Referer
                | Var::UserAgent
                | Var::Vhost
                | Var::XForwardedFor
                | Var::SslProtocol
                | Var::CacheStatus
        )
    }
}

/// How a text value was encoded by the server that wrote it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Decode {
    /// nginx `escape=default` / Apache backslash escapes.
    Backslash,
    /// Written as is (nginx `escape=none`, JSON values already decoded).
    None,
    /// IIS: spaces as `+`.
    Plus,
    /// CloudFront: `%XX`.
    Percent,
    /// CloudFront's user agents, encoded twice (`Mozilla/5.0%2520(…`).
    PercentTwice,
    /// HAProxy: `#XX` for `"`, `#` and non-printable bytes; `\"` where syslog-ng escaped a quote.
    Hash,
}

pub(super) enum FieldError {
    Invalid,
    OutOfRange,
}

impl From<NumError> for FieldError {
    fn from(e: NumError) -> Self {
        match e {
            NumError::Invalid => FieldError::Invalid,
            NumError::OutOfRange => FieldError::OutOfRange,
        }
    }
}

#[derive(Default)]
pub(super) struct Slots<'a> {
    remote_addr: Option<Cow<'a, str>>,
    remote_user: Option<Cow<'a, str>>,
    pub time: TimeParts,
    request: Option<Cow<'a, str>>,
    method: Option<Cow<'a, str>>,
    request_uri: Option<Cow<'a, str>>,
    path: Option<Cow<'a, str>>,
    query: Option<Cow<'a, str>>,
    query_mark: Option<Cow<'a, str>>,
    protocol: Option<Cow<'a, str>>,
    status: Option<i32>,
    body_bytes_sent: Option<i64>,
    referer: Option<Cow<'a, str>>,
    user_agent: Option<Cow<'a, str>>,
    vhost: Option<Cow<'a, str>>,
    server_port: Option<i32>,
    request_time: Option<f64>,
    upstream_time: Option<f64>,
    request_length: Option<i64>,
    x_forwarded_for: Option<Cow<'a, str>>,
    ssl_protocol: Option<Cow<'a, str>>,
    cache_status: Option<Cow<'a, str>>,
    alb: [Option<f64>; 3],
}

fn decode(d: Decode, v: Cow<'_, str>) -> Cow<'_, str> {
    match d {
        Decode::Backslash => values::unescape(v),
        Decode::None => v,
        Decode::Plus => values::plus_to_space(v),
        Decode::Percent => values::percent_decode(v),
        Decode::PercentTwice => values::percent_decode(values::percent_decode(v)),
        Decode::Hash => values::hash_decode(v),
    }
}

/// `-` or nothing: NULL for numbers.
fn blank(v: &str) -> bool {
    v.is_empty() || v == "-"
}

/// Read one field's value into its slot; Err when the value cannot be what the field is.
/// A NULL (`-`) never overwrites a value: `%h … %!200a` keeps the address `%h` gave.
pub(super) fn apply<'a>(
    var: &Var,
    d: Decode,
    v: Cow<'a, str>,
    s: &mut Slots<'a>,
) -> Result<(), FieldError> {
    if var.is_text() {
        let Some(text) = nullable(decode(d, v)) else {
            return Ok(());
        };
        // A method written on its own follows the request line's rule: garbage is NULL.
        if *var == Var::Method && !values::is_method(&text) {
            return Ok(());
        }
        let slot = match var {
            Var::RemoteAddr => &mut s.remote_addr,
            Var::RemoteUser => &mut s.remote_user,
            Var::Request => &mut s.request,
            Var::Method => &mut s.method,
            Var::RequestUri => &mut s.request_uri,
            Var::Path => &mut s.path,
            Var::Query => &mut s.query,
            Var::QueryMark => &mut s.query_mark,
            Var::Protocol => &mut s.protocol,
            Var::Referer => &mut s.referer,
            Var::UserAgent => &mut s.user_agent,
            Var::Vhost => &mut s.vhost,
            Var::XForwardedFor => &mut s.x_forwarded_for,
            Var::SslProtocol => &mut s.ssl_protocol,
            _ => &mut s.cache_status,
        };
        *slot = Some(text);
        return Ok(());
    }
    let t: &str = &v;
    match var {
        Var::AddrPort if !blank(t) => {
            let host = match t.rsplit_once(':') {
                Some((h, p)) if p.bytes().all(|c| c.is_ascii_digit()) => h,
                _ => t,
            };
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            s.remote_addr = Some(values::part_of(&v, host));
        }
        Var::TimeLocal | Var::TimeIso | Var::Strftime(..) => {
            let ok = match var {
                Var::TimeLocal => time::parse_clf(t.as_bytes(), &mut s.time),
                Var::TimeIso => time::parse_iso(t.as_bytes(), &mut s.time),
                Var::Strftime(items, frac_ok) => {
                    time::parse_strftime(items, t.as_bytes(), *frac_ok, &mut s.time)
                }
                _ => true,
            };
            if !ok {
                return Err(FieldError::Invalid);
            }
        }
        Var::Epoch(unit) => match time::parse_epoch(t.as_bytes(), *unit) {
            Some(us) => s.time.epoch_us = Some(us),
            None if t.len() > 18 && t.bytes().all(|c| c.is_ascii_digit() || c == b'.') => {
                return Err(FieldError::OutOfRange);
            }
            None => return Err(FieldError::Invalid),
        },
        Var::Frac(digits) => {
            if t.len() != *digits as usize || !t.bytes().all(|c| c.is_ascii_digit()) {
                return Err(FieldError::Invalid);
            }
            let v: u32 = t.bytes().fold(0, |a, c| a * 10 + (c - b'0') as u32);
            s.time.frac_us = Some(if *digits == 3 { v * 1000 } else { v });
        }
        Var::Date => match time::parse_date(t.as_bytes()) {
            Some(d) => s.time.date = Some(d),
            None => return Err(FieldError::Invalid),
        },
        Var::TimeOfDay => match time::parse_time_of_day(t.as_bytes()) {
            Some((hms, frac)) => {
                s.time.hms = Some(hms);
                s.time.frac_us = frac;
            }
            None => return Err(FieldError::Invalid),
        },
        Var::Status if t != "-" => s.status = Some(values::status(t).ok_or(FieldError::Invalid)?),
        Var::BodyBytes { dash_is_zero } => match t {
            "-" if *dash_is_zero => s.body_bytes_sent = Some(0),
            _ if blank(t) => {}
            _ => s.body_bytes_sent = Some(values::count(t)?),
        },
        Var::RequestLength if !blank(t) => s.request_length = Some(values::count(t)?),
        Var::ServerPort if !blank(t) => s.server_port = Some(values::port(t)?),
        Var::RequestTime(unit) if !blank(t) => s.request_time = Some(values::seconds(t, *unit)?),
        Var::MillisSuffix if !blank(t) => match t.strip_suffix("ms") {
            Some(ms) => s.request_time = Some(values::seconds(ms, 1e-3)?),
            None => return Err(FieldError::Invalid),
        },
        Var::GoDuration if !blank(t) => {
            s.request_time = Some(if t.bytes().all(|c| c.is_ascii_digit() || c == b'.') {
                values::seconds(t, 1.0)?
            } else {
                values::go_duration(t)?
            })
        }
        Var::UpstreamTime if !blank(t) => {
            if let Some(v) = values::upstream_seconds(t)? {
                s.upstream_time = Some(v);
            }
        }
        Var::SkipCount if !blank(t) => {
            values::count(t)?;
        }
        Var::AlbTime(i) => {
            let v = match t {
                "-1" | "-" => None,
                _ => Some(values::seconds(t, 1.0)?),
            };
            s.alb[*i as usize % 3] = v;
        }
        Var::HaproxyTimers => {
            let mut timers = [None; 5];
            let mut n = 0;
            for (i, part) in t.split('/').enumerate() {
                let Some(slot) = timers.get_mut(i) else {
                    return Err(FieldError::Invalid);
                };
                let part = if i == 4 {
                    part.strip_prefix('+').unwrap_or(part)
                } else {
                    part
                };
                *slot = match part {
                    "-1" => None,
                    _ if part.bytes().all(|c| c.is_ascii_digit()) => {
                        Some(values::seconds(part, 1e-3)?)
                    }
                    _ => return Err(FieldError::Invalid),
                };
                n += 1;
            }
            if n != 5 {
                return Err(FieldError::Invalid);
            }
            s.request_time = timers[4];
            s.upstream_time = timers[3];
        }
        _ => {}
    }
    Ok(())
}

impl Slots<'_> {
    /// Forget what `var` wrote: a quoted field retried with another closing quote re-reads
    /// every field after it, and a NULL there must not leave the failed attempt's value.
    pub fn clear(&mut self, var: &Var) {
        match var {
            Var::RemoteAddr | Var::AddrPort => self.remote_addr = None,
            Var::RemoteUser => self.remote_user = None,
            Var::TimeLocal
            | Var::TimeIso
            | Var::Strftime(..)
            | Var::Date
            | Var::TimeOfDay
            | Var::Epoch(_)
            | Var::Frac(_) => self.time = TimeParts::default(),
            Var::Request => self.request = None,
            Var::Method => self.method = None,
            Var::RequestUri => self.request_uri = None,
            Var::Path => self.path = None,
            Var::Query => self.query = None,
            Var::QueryMark => self.query_mark = None,
            Var::Protocol => self.protocol = None,
            Var::Status => self.status = None,
            Var::BodyBytes { .. } => self.body_bytes_sent = None,
            Var::Referer => self.referer = None,
            Var::UserAgent => self.user_agent = None,
            Var::Vhost => self.vhost = None,
            Var::ServerPort => self.server_port = None,
            Var::RequestTime(_) | Var::MillisSuffix | Var::GoDuration => self.request_time = None,
            Var::UpstreamTime => self.upstream_time = None,
            Var::RequestLength => self.request_length = None,
            Var::XForwardedFor => self.x_forwarded_for = None,
            Var::SslProtocol => self.ssl_protocol = None,
            Var::CacheStatus => self.cache_status = None,
            Var::AlbTime(i) => self.alb[*i as usize % 3] = None,
            Var::HaproxyTimers => {
                self.request_time = None;
                self.upstream_time = None;
            }
            Var::SkipCount | Var::Skip => {}
        }
    }
}

pub(super) enum Finish {
    NoTime,
    TimeRange,
}

impl<'a> Slots<'a> {
    /// The slots of a fully matched line as a row. `line`: the whole line, to join `%U%q`
    /// written side by side into one borrowed slice.
    pub fn finish(self, line: &'a str) -> Result<LogLine<'a>, Finish> {
        let time: LogTime = self.time.resolve().map_err(|e| match e {
            TimeError::Missing => Finish::NoTime,
            TimeError::OutOfRange => Finish::TimeRange,
        })?;
        let (method, path, protocol, url_host, url_port) = match self.request {
            Some(request) => request_parts(Some(request)),
            None => {
                let target = self
                    .request_uri
                    .or_else(|| join_path(line, self.path, self.query, self.query_mark));
                let (path, host, port) = target_parts(target);
                (None, path, None, host, port)
            }
        };
        // A request line without a method or protocol leaves room for separate fields.
        let method = method.or(self.method);
        let protocol = protocol.or(self.protocol);
        let alb = self.alb.iter().flatten().copied().reduce(|a, b| a + b);
        Ok(LogLine {
            remote_addr: self.remote_addr,
            remote_user: self.remote_user,
            time,
            request_method: method,
            request_path: path,
            request_protocol: protocol,
            status: self.status,
            body_bytes_sent: self.body_bytes_sent,
            http_referer: self.referer,
            http_user_agent: self.user_agent,
            vhost: self.vhost.or(url_host),
            server_port: self.server_port.or(url_port),
            request_time: self.request_time.or(alb),
            upstream_response_time: self.upstream_time.or(self.alb[1]),
            request_length: self.request_length,
            x_forwarded_for: self.x_forwarded_for,
            ssl_protocol: self.ssl_protocol,
            cache_status: self.cache_status,
        })
    }
}

type Text<'a> = Option<Cow<'a, str>>;

/// A request line's method, path+query, protocol, and the host and port of an absolute URL.
pub(super) fn request_parts(
    request: Text<'_>,
) -> (Text<'_>, Text<'_>, Text<'_>, Text<'_>, Option<i32>) {
    let Some(request) = request else {
        return (None, None, None, None, None);
    };
    let parts = values::split_request(request);
    let (path, host, port) = target_parts(parts.target);
    (parts.method, path, parts.protocol, host, port)
}

fn target_parts(target: Text<'_>) -> (Text<'_>, Text<'_>, Option<i32>) {
    match target {
        Some(t) if t.starts_with('/') => (Some(t), None, None),
        Some(t) => {
            let t = values::split_target(t);
            (Some(t.path), t.host, t.port)
        }
        None => (None, None, None),
    }
}

/// `$uri?$args`, `%U%q`, W3C `cs-uri-stem` + `cs-uri-query`: one target. Borrowed when the
/// two were written side by side in the line.
fn join_path<'a>(
    line: &'a str,
    path: Option<Cow<'a, str>>,
    query: Option<Cow<'a, str>>,
    query_mark: Option<Cow<'a, str>>,
) -> Option<Cow<'a, str>> {
    let query = match (query, query_mark) {
        (_, Some(q)) if q.len() > 1 => Some((q, true)),
        (Some(q), _) => Some((q, false)),
        _ => None,
    };
    let Some(path) = path else {
        return query.map(|(q, marked)| {
            if marked {
                q
            } else {
                Cow::Owned(format!("?{q}"))
            }
        });
    };
    let Some((query, marked)) = query else {
        return Some(path);
    };
    if let (Cow::Borrowed(p), Cow::Borrowed(q)) = (&path, &query) {
        let base = line.as_ptr() as usize;
        let (ps, qs) = (p.as_ptr() as usize - base, q.as_ptr() as usize - base);
        let pe = ps + p.len();
        let joined_at = if marked { qs } else { qs.wrapping_sub(1) };
        if pe == joined_at && line.as_bytes().get(pe) == Some(&b'?') {
            return Some(Cow::Borrowed(&line[ps..qs + q.len()]));
        }
    }
    Some(Cow::Owned(format!(
        "{path}?{}",
        query.trim_start_matches('?')
    )))
}
