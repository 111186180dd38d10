//! Field values: escapes undone, request lines split, numbers and durations read.
//! Every function borrows from its input when it can: a `Cow::Borrowed` out of here is always a
//! sub-slice of the `Cow::Borrowed` that went in.

use std::borrow::Cow;

use memchr::memchr;

/// Undo the escaping nginx (`\xHH` for `"`, `\`, control and non-ASCII bytes) and Apache
/// (`\"`, `\\`, `\n`, `\t`, `\xHH`) apply. If the decoded bytes are not UTF-8 (e.g. a
/// Windows-1251 referer) the field is kept as written, so nothing is lost.
pub(super) fn unescape(field: Cow<'_, str>) -> Cow<'_, str> {
    let b = field.as_bytes();
    if memchr(b'\\', b).is_none() {
        return field;
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
        Err(_) => field,
    }
}

/// `%XX` decoding (CloudFront); kept as written when the result is not UTF-8.
pub(super) fn percent_decode(field: Cow<'_, str>) -> Cow<'_, str> {
    if memchr(b'%', field.as_bytes()).is_none() {
        return field;
    }
    hex_unescape(field, b'%', false)
}

/// HAProxy's escaping (configuration manual, "Non-printable characters"): `#` and two hex
/// digits for `"`, `#` and bytes outside 32..=126; syslog-ng may add a backslash before a
/// quote. Kept as written when the result is not UTF-8.
pub(super) fn hash_decode(field: Cow<'_, str>) -> Cow<'_, str> {
    if memchr::memchr2(b'#', b'\\', field.as_bytes()).is_none() {
        return field;
    }
    hex_unescape(field, b'#', true)
}

/// `field` with each `<marker>XX` (two hex digits) replaced by that byte, and `\"` by `"`
/// when `backslash_quote`; as written when the result is not UTF-8.
fn hex_unescape(field: Cow<'_, str>, marker: u8, backslash_quote: bool) -> Cow<'_, str> {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1), b.get(i + 2)) {
            (m, Some(&h), Some(&l)) if m == marker && hex_pair(h, l).is_some() => {
                out.push(hex_pair(h, l).unwrap_or(marker));
                i += 3;
            }
            (b'\\', Some(b'"'), _) if backslash_quote => {
                out.push(b'"');
                i += 2;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    match String::from_utf8(out) {
        Ok(s) => Cow::Owned(s),
        Err(_) => field,
    }
}

/// IIS writes the spaces of a user agent as `+`.
pub(super) fn plus_to_space(field: Cow<'_, str>) -> Cow<'_, str> {
    if memchr(b'+', field.as_bytes()).is_none() {
        return field;
    }
    Cow::Owned(field.replace('+', " "))
}

fn hex_pair(hi: u8, lo: u8) -> Option<u8> {
    let h = (hi as char).to_digit(16)?;
    let l = (lo as char).to_digit(16)?;
    Some((h * 16 + l) as u8)
}

/// `-` and the empty string are how every format writes "no value".
pub(super) fn nullable(s: Cow<'_, str>) -> Option<Cow<'_, str>> {
    (!s.is_empty() && s != "-").then_some(s)
}

/// `part` is a slice of `whole`'s text: borrow it from the input when `whole` is borrowed.
pub(super) fn part_of<'a>(whole: &Cow<'a, str>, part: &str) -> Cow<'a, str> {
    match whole {
        Cow::Borrowed(w) => {
            let start = part.as_ptr() as usize - w.as_ptr() as usize;
            Cow::Borrowed(&w[start..start + part.len()])
        }
        Cow::Owned(_) => Cow::Owned(part.to_owned()),
    }
}

pub(super) struct RequestParts<'a> {
    pub method: Option<Cow<'a, str>>,
    pub target: Option<Cow<'a, str>>,
    pub protocol: Option<Cow<'a, str>>,
}

/// `METHOD TARGET PROTOCOL`. Anything that does not start with an upper-case method token
/// (a TLS handshake sent to the HTTP port, `-`, scanner garbage) keeps all three NULL.
pub(super) fn split_request(request: Cow<'_, str>) -> RequestParts<'_> {
    let none = RequestParts {
        method: None,
        target: None,
        protocol: None,
    };
    let text: &str = &request;
    let b = text.as_bytes();
    let Some(m) = b.iter().position(|&c| c == b' ') else {
        return none;
    };
    if !is_method(&text[..m]) {
        return none;
    }
    // `rest.trim()`, with the common case (nothing to trim) decided on two bytes.
    let (mut rs, mut re) = (m + 1, b.len());
    let plain = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii() && !c.is_ascii_whitespace());
    if !plain(b.get(rs)) || !plain(b.get(re.wrapping_sub(1)).filter(|_| re > rs)) {
        let rest = text[rs..].trim();
        rs = if rest.is_empty() {
            b.len()
        } else {
            rest.as_ptr() as usize - text.as_ptr() as usize
        };
        re = rs + rest.len();
    }
    let rest = &text[rs..re];
    let (path, protocol) = match memchr::memrchr(b' ', rest.as_bytes()) {
        Some(i) if rest[i + 1..].starts_with("HTTP/") => {
            let path = rest[..i].trim_end();
            ((rs, rs + path.len()), Some((rs + i + 1, re)))
        }
        _ if rest.starts_with("HTTP/") => ((rs, rs), Some((rs, re))),
        _ => ((rs, re), None),
    };
    RequestParts {
        method: Some(sub(&request, 0, m)),
        target: (path.1 > path.0).then(|| sub(&request, path.0, path.1)),
        protocol: protocol.map(|(s, e)| sub(&request, s, e)),
    }
}

/// `whole[start..end]`, borrowed from the input when `whole` is.
fn sub<'a>(whole: &Cow<'a, str>, start: usize, end: usize) -> Cow<'a, str> {
    match whole {
        Cow::Borrowed(w) => Cow::Borrowed(&w[start..end]),
        Cow::Owned(w) => Cow::Owned(w[start..end].to_owned()),
    }
}

/// Found by fuzzing: a bare `-` passed as a method, though `-` means "no value" everywhere else.
pub(super) fn is_method(method: &str) -> bool {
    (1..=16).contains(&method.len())
        && method.as_bytes()[0].is_ascii_uppercase()
        && method
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c == b'-' || c == b'_')
}

pub(super) struct Target<'a> {
    pub path: Cow<'a, str>,
    pub host: Option<Cow<'a, str>>,
    pub port: Option<i32>,
}

/// A request target as written: origin form `/a?b` stays; absolute form
/// `https://host:443/a?b` (proxies, ALB, CloudFront) gives its path+query, host and port.
pub(super) fn split_target(target: Cow<'_, str>) -> Target<'_> {
    let t: &str = &target;
    let rest = match t.as_bytes().first() {
        Some(b'h' | b'H') => {
            let scheme_end = t.find("://").filter(|&i| {
                i <= 5 && t[..i].eq_ignore_ascii_case("http")
                    || t[..i].eq_ignore_ascii_case("https")
            });
            match scheme_end {
                Some(i) => &t[i + 3..],
                None => return plain(target),
            }
        }
        _ => return plain(target),
    };
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..auth_end];
    // userinfo@ is not a host.
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p))
            if !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()) && !h.ends_with(':') =>
        {
            (
                h,
                p.parse::<i32>().ok().filter(|p| (0..=65_535).contains(p)),
            )
        }
        _ => (hostport, None),
    };
    let path = &rest[auth_end..];
    let path = if path.is_empty() {
        Cow::Owned("/".to_owned())
    } else if path.starts_with('?') {
        Cow::Owned(format!("/{path}"))
    } else {
        part_of(&target, path)
    };
    Target {
        path,
        host: (!host.is_empty()).then(|| part_of(&target, host)),
        port,
    }
}

fn plain(target: Cow<'_, str>) -> Target<'_> {
    Target {
        path: target,
        host: None,
        port: None,
    }
}

/// What went wrong reading a number.
pub(super) enum NumError {
    Invalid,
    OutOfRange,
}

/// A non-negative integer that fits an i64.
pub(super) fn count(s: &str) -> Result<i64, NumError> {
    let b = s.as_bytes();
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return Err(NumError::Invalid);
    }
    let digits = &b[b
        .iter()
        .take_while(|&&c| c == b'0')
        .count()
        .min(b.len() - 1)..];
    if digits.len() > 19 {
        return Err(NumError::OutOfRange);
    }
    let v = digits.iter().fold(0u64, |a, &c| a * 10 + (c - b'0') as u64);
    i64::try_from(v).map_err(|_| NumError::OutOfRange)
}

/// Exactly three digits.
pub(super) fn status(s: &str) -> Option<i32> {
    match s.as_bytes() {
        &[a, b, c] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            Some(((a - b'0') as i32) * 100 + ((b - b'0') as i32) * 10 + (c - b'0') as i32)
        }
        _ => None,
    }
}

pub(super) fn port(s: &str) -> Result<i32, NumError> {
    let v = count(s)?;
    if v > 65_535 {
        return Err(NumError::OutOfRange);
    }
    Ok(v as i32)
}

/// A non-negative decimal (`0.005`, `12`), scaled to seconds by `unit` (1e-3 for ms).
pub(super) fn seconds(s: &str, unit: f64) -> Result<f64, NumError> {
    let b = s.as_bytes();
    let digits = b.iter().filter(|c| c.is_ascii_digit()).count();
    let dots = b.iter().filter(|&&c| c == b'.').count();
    if digits == 0 || digits + dots != b.len() || dots > 1 || b[0] == b'.' || b[b.len() - 1] == b'.'
    {
        return Err(NumError::Invalid);
    }
    let v: f64 = s.parse().map_err(|_| NumError::Invalid)?;
    // Dividing by the exact 1000 (not multiplying by the inexact 0.001) gives the double
    // nearest the true value: 72 ms is 0.072 s, not 0.07200000000000001.
    let v = if unit < 1.0 {
        v / (1.0 / unit).round()
    } else {
        v * unit
    };
    if v.is_finite() {
        Ok(v)
    } else {
        Err(NumError::OutOfRange)
    }
}

/// nginx `$upstream_response_time`: `0.001, 0.002 : 0.003`; `-` items are skipped, the rest
/// summed. None when every item is `-`.
pub(super) fn upstream_seconds(s: &str) -> Result<Option<f64>, NumError> {
    let mut sum: Option<f64> = None;
    for item in s.split([',', ':']) {
        let item = item.trim_matches(' ');
        if item == "-" {
            continue;
        }
        let v = seconds(item, 1.0)?;
        sum = Some(sum.unwrap_or(0.0) + v);
    }
    match sum {
        Some(v) if !v.is_finite() => Err(NumError::OutOfRange),
        other => Ok(other),
    }
}

/// A Go duration as Caddy and Traefik write it (`1.5ms`, `2s`, `1m3.2s`, `350µs`), in seconds.
pub(super) fn go_duration(s: &str) -> Result<f64, NumError> {
    let mut total = 0.0;
    let mut rest = s;
    if rest.is_empty() {
        return Err(NumError::Invalid);
    }
    while !rest.is_empty() {
        let n = rest
            .bytes()
            .take_while(|c| c.is_ascii_digit() || *c == b'.')
            .count();
        if n == 0 {
            return Err(NumError::Invalid);
        }
        let value = seconds(&rest[..n], 1.0)?;
        rest = &rest[n..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(NumError::Invalid),
        };
        total += value * scale;
        rest = &rest[unit_len..];
    }
    if total.is_finite() {
        Ok(total)
    } else {
        Err(NumError::OutOfRange)
    }
}
