//! The `combined` parser as it was before the format compiler (weblog 0.1, session 3): kept
//! only so that `make bench` measures the compiled `combined` format against it, side by side.
#![allow(dead_code)]

//! Byte-level parser for one access-log line in nginx/Apache `combined` or `common` format:
//!
//! `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`
//!
//! It borrows from the input and allocates only when a quoted field carries escapes.

use std::borrow::Cow;

use memchr::{memchr, memchr2};

/// Lines longer than this are rejected rather than stored: a guard against garbage or
/// hostile input exhausting memory, far above any real request line.
pub const MAX_LINE_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine<'a> {
    pub remote_addr: Option<&'a str>,
    pub remote_user: Option<&'a str>,
    pub time: LogTime,
    pub request_method: Option<Cow<'a, str>>,
    pub request_path: Option<Cow<'a, str>>,
    pub request_protocol: Option<Cow<'a, str>>,
    pub status: Option<i32>,
    pub body_bytes_sent: Option<i64>,
    pub http_referer: Option<Cow<'a, str>>,
    pub http_user_agent: Option<Cow<'a, str>>,
}

/// `[10/Oct/2000:13:55:36 -0700]` resolved to the instant and to the date as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogTime {
    /// Microseconds since the Unix epoch, UTC.
    pub micros_utc: i64,
    /// Days since the Unix epoch of the calendar date written in the line (server-local date).
    pub local_day: i32,
}

/// Why a line was set aside. Stable strings: they are stored in the `rejects` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reject {
    Empty,
    TooLong,
    InvalidUtf8,
    NulByte,
    NoTimestamp,
    BadTimestamp,
    NoRequest,
    UnterminatedQuote,
    BadStatus,
    BadBytes,
}

impl Reject {
    pub fn reason(self) -> &'static str {
        match self {
            Reject::Empty => "empty line",
            Reject::TooLong => "line longer than 1 MiB",
            Reject::InvalidUtf8 => "invalid UTF-8",
            Reject::NulByte => "NUL byte in line",
            Reject::NoTimestamp => "no [time_local] field",
            Reject::BadTimestamp => "invalid timestamp",
            Reject::NoRequest => "no quoted request field",
            Reject::UnterminatedQuote => "unterminated quoted field",
            Reject::BadStatus => "invalid status code",
            Reject::BadBytes => "invalid body_bytes_sent",
        }
    }
}

/// Parse one line without its line terminator (a trailing `\r` is tolerated).
pub fn parse_line(line: &[u8]) -> Result<LogLine<'_>, Reject> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.len() > MAX_LINE_BYTES {
        return Err(Reject::TooLong);
    }
    if line.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Reject::Empty);
    }
    if memchr(0, line).is_some() {
        return Err(Reject::NulByte);
    }
    let line = std::str::from_utf8(line).map_err(|_| Reject::InvalidUtf8)?;
    let b = line.as_bytes();

    // Everything before `[` is "addr ident user"; the user may in theory hold spaces.
    let open = memchr(b'[', b).ok_or(Reject::NoTimestamp)?;
    let close = open + memchr(b']', &b[open..]).ok_or(Reject::NoTimestamp)?;
    let time = parse_time(&b[open + 1..close]).ok_or(Reject::BadTimestamp)?;
    let head = line[..open].trim_end();
    let (remote_addr, rest) = head.split_once(' ').unwrap_or((head, ""));
    let remote_user = rest.trim_start().split_once(' ').map(|(_, u)| u.trim());

    let mut pos = close + 1;
    pos = skip_spaces(b, pos);
    if b.get(pos) != Some(&b'"') {
        return Err(Reject::NoRequest);
    }
    let (request, next) = quoted(line, pos).ok_or(Reject::UnterminatedQuote)?;
    pos = skip_spaces(b, next);

    let (status, next) = token(line, pos);
    let status = match status {
        "-" => None,
        s if s.len() == 3 && s.bytes().all(|c| c.is_ascii_digit()) => Some(s.parse().unwrap()),
        _ => return Err(Reject::BadStatus),
    };
    pos = skip_spaces(b, next);
    let (bytes, next) = token(line, pos);
    let body_bytes_sent = match bytes {
        "-" | "" => None,
        s if s.len() <= 18 && s.bytes().all(|c| c.is_ascii_digit()) => Some(s.parse().unwrap()),
        _ => return Err(Reject::BadBytes),
    };
    pos = skip_spaces(b, next);

    // `common` format ends here; `combined` adds referer and agent.
    let mut http_referer = None;
    let mut http_user_agent = None;
    if b.get(pos) == Some(&b'"') {
        let (referer, next) = quoted(line, pos).ok_or(Reject::UnterminatedQuote)?;
        http_referer = nullable(referer);
        pos = skip_spaces(b, next);
        if b.get(pos) == Some(&b'"') {
            // The last field may have lost its closing quote (seen in real logs): keep the rest.
            let agent = match quoted(line, pos) {
                Some((agent, _)) => agent,
                None => unescape(&line[pos + 1..]),
            };
            http_user_agent = nullable(agent);
        }
    }

    let (request_method, request_path, request_protocol) = split_request(request);
    Ok(LogLine {
        remote_addr: nullable_str(remote_addr),
        remote_user: remote_user.and_then(nullable_str),
        time,
        request_method,
        request_path,
        request_protocol,
        status,
        body_bytes_sent,
        http_referer,
        http_user_agent,
    })
}

fn skip_spaces(b: &[u8], mut pos: usize) -> usize {
    while b.get(pos) == Some(&b' ') {
        pos += 1;
    }
    pos
}

fn token(s: &str, pos: usize) -> (&str, usize) {
    let rest = &s[pos.min(s.len())..];
    let end = memchr(b' ', rest.as_bytes()).unwrap_or(rest.len());
    (&rest[..end], pos + end)
}

/// A `"…"` field starting at `pos` (which holds the opening quote): the unescaped
/// contents and the position after the closing quote. A backslash escapes the next byte.
fn quoted(s: &str, pos: usize) -> Option<(Cow<'_, str>, usize)> {
    let b = s.as_bytes();
    let start = pos + 1;
    let mut i = start;
    loop {
        let j = i + memchr2(b'"', b'\\', &b[i..])?;
        if b[j] == b'"' {
            return Some((unescape(&s[start..j]), j + 1));
        }
        i = j + 2;
        if i > b.len() {
            return None;
        }
    }
}

/// Undo the escaping nginx (`\xHH` for `"`, `\`, control and non-ASCII bytes) and Apache
/// (`\"`, `\\`, `\n`, `\t`, `\xHH`) apply. If the decoded bytes are not UTF-8 (e.g. a
/// Windows-1251 referer) the field is kept as written, so nothing is lost.
fn unescape(field: &str) -> Cow<'_, str> {
    let b = field.as_bytes();
    if memchr(b'\\', b).is_none() {
        return Cow::Borrowed(field);
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let simple = match b[i + 1] {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'n' => Some(b'\n'),
            b't' => Some(b'\t'),
            b'r' => Some(b'\r'),
            _ => None,
        };
        let hex = (b[i + 1] == b'x' && i + 3 < b.len())
            .then(|| hex_pair(b[i + 2], b[i + 3]))
            .flatten();
        match (simple, hex) {
            (Some(c), _) => {
                out.push(c);
                i += 2;
            }
            (None, Some(c)) => {
                out.push(c);
                i += 4;
            }
            (None, None) => {
                out.push(b'\\');
                i += 1;
            }
        }
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(_) => Cow::Borrowed(field),
    }
}

fn hex_pair(hi: u8, lo: u8) -> Option<u8> {
    let h = (hi as char).to_digit(16)?;
    let l = (lo as char).to_digit(16)?;
    Some((h * 16 + l) as u8)
}

fn nullable_str(s: &str) -> Option<&str> {
    (!s.is_empty() && s != "-").then_some(s)
}

fn nullable(s: Cow<'_, str>) -> Option<Cow<'_, str>> {
    (!s.is_empty() && s != "-").then_some(s)
}

/// `METHOD PATH PROTOCOL`. Anything that does not start with an upper-case method token
/// (a TLS handshake sent to the HTTP port, `-`, scanner garbage) keeps all three NULL.
type RequestParts<'a> = (
    Option<Cow<'a, str>>,
    Option<Cow<'a, str>>,
    Option<Cow<'a, str>>,
);

fn split_request(request: Cow<'_, str>) -> RequestParts<'_> {
    let text: &str = &request;
    let Some((method, rest)) = text.split_once(' ') else {
        return (None, None, None);
    };
    // Found by fuzzing: a bare `-` passed as a method, though `-` means "no value" everywhere else.
    let method_ok = (1..=16).contains(&method.len())
        && method.as_bytes()[0].is_ascii_uppercase()
        && method
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c == b'-' || c == b'_');
    if !method_ok {
        return (None, None, None);
    }
    let rest = rest.trim();
    let (path, protocol) = match rest.rsplit_once(' ') {
        Some((path, proto)) if proto.starts_with("HTTP/") => (path.trim_end(), Some(proto)),
        _ if rest.starts_with("HTTP/") => ("", Some(rest)),
        _ => (rest, None),
    };
    let path = (!path.is_empty()).then_some(path);
    (
        Some(part_of(&request, method)),
        path.map(|p| part_of(&request, p)),
        protocol.map(|p| part_of(&request, p)),
    )
}

/// `part` is a slice of `whole`'s text: borrow it from the input when `whole` is borrowed.
fn part_of<'a>(whole: &Cow<'a, str>, part: &str) -> Cow<'a, str> {
    match whole {
        Cow::Borrowed(w) => {
            let start = part.as_ptr() as usize - w.as_ptr() as usize;
            Cow::Borrowed(&w[start..start + part.len()])
        }
        Cow::Owned(_) => Cow::Owned(part.to_owned()),
    }
}

/// `10/Oct/2000:13:55:36 -0700`, exactly as nginx and Apache write it.
fn parse_time(t: &[u8]) -> Option<LogTime> {
    if t.len() != 26 || t[2] != b'/' || t[6] != b'/' || t[11] != b':' || t[14] != b':' {
        return None;
    }
    if t[17] != b':' || t[20] != b' ' {
        return None;
    }
    let day = digits(&t[0..2])?;
    let month = match &t[3..6] {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    };
    let year = digits(&t[7..11])?;
    let hour = digits(&t[12..14])?;
    let minute = digits(&t[15..17])?;
    let second = digits(&t[18..20])?;
    let sign = match t[21] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let off_h = digits(&t[22..24])?;
    let off_m = digits(&t[24..26])?;
    if day == 0 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    if off_h > 23 || off_m > 59 {
        return None;
    }
    let local_day = days_from_civil(year, month, day);
    let local_secs = local_day as i64 * 86_400 + (hour * 3600 + minute * 60 + second) as i64;
    let offset = sign * (off_h * 3600 + off_m * 60) as i64;
    Some(LogTime {
        micros_utc: (local_secs - offset) * 1_000_000,
        local_day,
    })
}

fn digits(d: &[u8]) -> Option<i32> {
    d.iter().try_fold(0i32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as i32)
    })
}

fn days_in_month(year: i32, month: i32) -> i32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(year: i32, month: i32, day: i32) -> i32 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}
