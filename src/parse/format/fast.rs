//! A tuned reader for the `combined` and `common` presets, the formats nearly every line is in.
//!
//! It reads a line only in the plain case (each quoted field closed by its first unescaped
//! quote, every value valid) and otherwise answers None, leaving the line to the generic
//! [`super::template`] engine, which also words every reject. So it never decides anything
//! the engine would decide differently: `tests::fast_path` checks that on random lines.

use std::borrow::Cow;

use memchr::memchr2;

use super::LogLine;
use super::slots::request_parts;
use super::time::{self, TimeParts};
use super::values::{self, nullable};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Fast {
    /// `combined`, which also reads `common` lines.
    Combined,
    Common,
}

#[inline]
pub(super) fn parse(kind: Fast, line: &str) -> Option<LogLine<'_>> {
    let b = line.as_bytes();
    // $remote_addr: a single address (lists go the generic way). Short fields are scanned
    // inline: a memchr call costs more than the few bytes it would skip.
    let s1 = b
        .iter()
        .position(|&c| c == b' ' || c == b',' || c == b'\\')?;
    if !b[s1..].starts_with(b" - ") {
        return None;
    }
    // $remote_user up to " [" (one without spaces; others go the generic way).
    let user_start = s1 + 3;
    let open = user_start
        + b[user_start..]
            .iter()
            .position(|&c| c == b' ' || c == b'\\')?
        + 1;
    if open == user_start + 1 || b.get(open) != Some(&b'[') || b[open - 1] != b' ' {
        return None;
    }
    // [$time_local] "
    let t = open + 1;
    if !b.get(t + 26..)?.starts_with(b"] \"") {
        return None;
    }
    let mut tp = TimeParts::default();
    if !time::parse_clf(&b[t..t + 26], &mut tp) {
        return None;
    }
    // "$request" : its first unescaped quote must be followed by a space.
    let req_start = t + 29;
    let (req_end, req_esc) = first_quote(b, req_start)?;
    if b.get(req_end + 1) != Some(&b' ') {
        return None;
    }
    // $status $body_bytes_sent
    let st = req_end + 2;
    let st_end = st + b[st..].iter().position(|&c| c == b' ')?;
    let status = match &line[st..st_end] {
        "-" => None,
        s => Some(values::status(s)?),
    };
    let by = st_end + 1;
    let by_end = by
        + b[by..]
            .iter()
            .position(|&c| c == b' ')
            .unwrap_or(b.len() - by);
    let bytes = &line[by..by_end];
    let body_bytes_sent = if bytes.is_empty() || bytes == "-" {
        None
    } else {
        Some(values::count(bytes).ok()?)
    };
    let (mut http_referer, mut http_user_agent) = (None, None);
    if by_end != b.len() {
        if kind == Fast::Common || !b[by_end..].starts_with(b" \"") {
            return None;
        }
        // "$http_referer" "$http_user_agent"
        let ref_start = by_end + 2;
        let (ref_end, ref_esc) = first_quote(b, ref_start)?;
        if !b[ref_end..].starts_with(b"\" \"") {
            return None;
        }
        let ua_start = ref_end + 3;
        let (ua_end, ua_esc) = match first_quote(b, ua_start) {
            Some((q, esc)) if q + 1 == b.len() => (q, esc),
            Some(_) => return None,
            // The last field lost its closing quote (seen in real logs): keep the rest.
            None => (b.len(), true),
        };
        http_referer = text(&line[ref_start..ref_end], ref_esc);
        http_user_agent = text(&line[ua_start..ua_end], ua_esc);
    }
    let time = tp.resolve().ok()?;
    let (request_method, request_path, request_protocol, vhost, server_port) =
        request_parts(text(&line[req_start..req_end], req_esc));
    Some(LogLine {
        remote_addr: text(&line[..s1], false),
        remote_user: text(&line[user_start..open - 1], false),
        time,
        request_method,
        request_path,
        request_protocol,
        status,
        body_bytes_sent,
        http_referer,
        http_user_agent,
        vhost,
        server_port,
        request_time: None,
        upstream_response_time: None,
        request_length: None,
        x_forwarded_for: None,
        ssl_protocol: None,
        cache_status: None,
    })
}

/// `escaped`: the scan saw a backslash in the field, so it may need unescaping.
fn text(s: &str, escaped: bool) -> Option<Cow<'_, str>> {
    if escaped {
        nullable(values::unescape(Cow::Borrowed(s)))
    } else {
        nullable(Cow::Borrowed(s))
    }
}

/// The first quote from `at` that no backslash escapes, and whether a backslash came first.
fn first_quote(b: &[u8], mut at: usize) -> Option<(usize, bool)> {
    let mut escaped = false;
    loop {
        let j = at + memchr2(b'"', b'\\', b.get(at..)?)?;
        if b[j] == b'"' {
            return Some((j, escaped));
        }
        escaped = true;
        at = j + 2;
    }
}
