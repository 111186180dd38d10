//! HAProxy's HTTP log (`option httplog`; configuration manual, "8.2.3. HTTP log format"), behind
//! a syslog header (RFC 3164 or RFC 5424) or bare (`log stdout format raw`):
//!
//! `10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - -
//! ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1"`
//!
//! Read by hand rather than by a template: the syslog header comes in several shapes, the two
//! `{…}` blocks of captured headers are there only when captures are configured (and hold
//! spaces), and the request, always last, may be cut short by syslog's line limit.

use std::borrow::Cow;

use memchr::memchr;

use super::slots::{Decode, FieldError, Finish, Slots, Var, apply};
use super::time;
use super::{Parsed, Reject};

pub(super) fn parse<'a>(name: &str, line: &'a str) -> Parsed<'a> {
    let b = line.as_bytes();
    let (start, tagged) = message_start(b);
    // HAProxy's own messages in its syslog stream (`Proxy http-in started.`, `Server bk/srv1
    // is DOWN, …`): no address starts them. Not requests, so skipped, as Caddy's runtime lines
    // are; without the `haproxy` tag such a line is a reject like any other.
    let first = &b[start..start + memchr(b' ', &b[start..]).unwrap_or(b.len() - start)];
    if tagged && first.first().is_some_and(u8::is_ascii_alphabetic) && !first.contains(&b':') {
        return Parsed::Skip;
    }
    let mut r = Reader {
        name,
        line,
        pos: start,
        slots: Slots::default(),
    };
    match r.fields() {
        Ok(true) => {}
        Ok(false) => return Parsed::Skip,
        Err(reject) => return Parsed::Reject(reject),
    }
    match r.slots.finish(line) {
        Ok(row) => Parsed::Row(row),
        Err(Finish::NoTime) => Parsed::Reject(Reject::new(name, "no accept_date in line", None)),
        Err(Finish::TimeRange) => {
            Parsed::Reject(Reject::new(name, "time outside the years 1 to 9999", None))
        }
    }
}

struct Reader<'a, 'n> {
    name: &'n str,
    line: &'a str,
    pos: usize,
    slots: Slots<'a>,
}

impl<'a> Reader<'a, '_> {
    fn reject(&self, detail: String, at: usize) -> Reject {
        Reject::new(self.name, &detail, Some(at))
    }

    fn invalid(&self, field: &str, value: &str, at: usize, e: FieldError) -> Reject {
        let shown: String = value.chars().take(60).collect();
        let detail = match e {
            FieldError::Invalid => format!("invalid {field} \"{shown}\" at byte {at}"),
            FieldError::OutOfRange => format!("{field} \"{shown}\" at byte {at} out of range"),
        };
        self.reject(detail, at)
    }

    /// The next field up to a space, and that space: every field before the request has one.
    fn token(&mut self, field: &str) -> Result<(&'a str, usize), Reject> {
        let b = self.line.as_bytes();
        let start = self.pos;
        if start >= b.len() {
            return Err(self.reject(format!("line ends before {field} at byte {start}"), start));
        }
        let end = memchr(b' ', &b[start..]).map_or(b.len(), |i| start + i);
        if end == start {
            return Err(self.reject(format!("expected {field} at byte {start}"), start));
        }
        if end == b.len() {
            return Err(self.reject(format!("line ends after {field} at byte {end}"), end));
        }
        self.pos = end + 1;
        Ok((&self.line[start..end], start))
    }

    fn store(
        &mut self,
        field: &str,
        var: Var,
        d: Decode,
        v: &'a str,
        at: usize,
    ) -> Result<(), Reject> {
        apply(&var, d, Cow::Borrowed(v), &mut self.slots).map_err(|e| self.invalid(field, v, at, e))
    }

    /// Ok(false): a line of HAProxy's that is no HTTP request (a TCP session, a failed
    /// handshake), to be skipped.
    fn fields(&mut self) -> Result<bool, Reject> {
        let none = Decode::None;
        let (client, at) = self.token("client_ip:client_port")?;
        if !client.contains(':') {
            return Err(self.invalid("client_ip:client_port", client, at, FieldError::Invalid));
        }
        self.store("client_ip:client_port", Var::AddrPort, none, client, at)?;

        let b = self.line.as_bytes();
        let at = self.pos;
        let close = match b.get(at) {
            Some(b'[') => memchr(b']', &b[at..]).map(|i| at + i),
            _ => None,
        };
        let Some(close) = close else {
            return Err(self.reject(format!("expected '[' before accept_date at byte {at}"), at));
        };
        let date = &self.line[at + 1..close];
        if !time::parse_clf_local(date.as_bytes(), &mut self.slots.time) {
            return Err(self.invalid("accept_date", date, at + 1, FieldError::Invalid));
        }
        if b.get(close + 1) != Some(&b' ') {
            return Err(self.reject(
                format!("expected ' ' after accept_date at byte {}", close + 1),
                close + 1,
            ));
        }
        self.pos = close + 2;

        // Kept in raw_log only: weblog has no column for a proxy's configuration names (as for
        // Traefik's router and backend), and `vhost` stays free for the source's `vhost =`.
        let (frontend, _) = self.token("frontend_name")?;
        // The error log format ("8.2.5."): `frt/f1: Connection error during SSL handshake`.
        if frontend.ends_with(':') && frontend.contains('/') {
            return Ok(false);
        }
        let (backend, at) = self.token("backend_name/server_name")?;
        if !backend.contains('/') {
            return Err(self.invalid("backend_name/server_name", backend, at, FieldError::Invalid));
        }
        let (timers, at) = self.token("TR/Tw/Tc/Tr/Ta")?;
        if timers.split('/').count() == 3 {
            // A TCP-mode session (`option tcplog`): `Tw/Tc/Tt bytes_read termination_state
            // actconn/…/retries srv_queue/backend_queue`, and nothing after.
            let rest: Vec<&str> = self.line[self.pos..].split(' ').collect();
            if let [bytes, state, conns, queues] = rest[..]
                && tcp_timers(timers)
                && !bytes.is_empty()
                && bytes
                    .trim_start_matches('+')
                    .bytes()
                    .all(|c| c.is_ascii_digit())
                && !state.is_empty()
                && counts(conns, 5)
                && counts(queues, 2)
            {
                return Ok(false);
            }
            return Err(self.reject(
                format!("a TCP log line (option tcplog): timers Tw/Tc/Tt \"{timers}\" at byte {at} where an HTTP log has TR/Tw/Tc/Tr/Ta"),
                at,
            ));
        }
        self.store("TR/Tw/Tc/Tr/Ta", Var::HaproxyTimers, none, timers, at)?;
        let (status, at) = self.token("status_code")?;
        // -1: no response was ever sent (the client gave up first).
        if status != "-1" {
            self.store("status_code", Var::Status, none, status, at)?;
        }
        let (bytes, at) = self.token("bytes_read")?;
        // `+`: logged before the transfer ended (`option logasap`); the count so far is kept.
        let count = bytes.strip_prefix('+').unwrap_or(bytes);
        let body = Var::BodyBytes {
            dash_is_zero: false,
        };
        self.store("bytes_read", body, none, count, at)?;
        self.token("captured_request_cookie")?;
        self.token("captured_response_cookie")?;
        self.token("termination_state")?;
        let (conns, at) = self.token("actconn/feconn/beconn/srv_conn/retries")?;
        if !counts(conns, 5) {
            let field = "actconn/feconn/beconn/srv_conn/retries";
            return Err(self.invalid(field, conns, at, FieldError::Invalid));
        }
        let (queues, at) = self.token("srv_queue/backend_queue")?;
        if !counts(queues, 2) {
            return Err(self.invalid("srv_queue/backend_queue", queues, at, FieldError::Invalid));
        }

        // Request headers, then response headers, each block only when captures are configured;
        // `{`, `|` and `}` inside are written `#7B`, `#7C`, `#7D`, so the first `}` closes it.
        for _ in 0..2 {
            let at = self.pos;
            if b.get(at) != Some(&b'{') {
                break;
            }
            let Some(close) = memchr(b'}', &b[at..]).map(|i| at + i) else {
                return Err(self.reject(
                    format!("no closing '}}' for the captured headers opened at byte {at}"),
                    at,
                ));
            };
            if b.get(close + 1) != Some(&b' ') {
                return Err(self.reject(
                    format!(
                        "expected ' ' after the captured headers at byte {}",
                        close + 1
                    ),
                    close + 1,
                ));
            }
            self.pos = close + 2;
        }

        let at = self.pos;
        if b.get(at) != Some(&b'"') {
            return Err(self.reject(
                format!("expected '\"' before http_request at byte {at}"),
                at,
            ));
        }
        let start = at + 1;
        let end = if b.len() > start && b[b.len() - 1] == b'"' {
            b.len() - 1
        } else if let Some(q) = memchr(b'"', &b[start..]) {
            return Err(self.reject(
                format!(
                    "unexpected text after http_request at byte {}",
                    start + q + 1
                ),
                start + q + 1,
            ));
        } else {
            // Cut at syslog's line limit (the manual's warning): what arrived is kept.
            b.len()
        };
        // `"<BADREQ>"` and `""` (nothing or garbage received) are kept as rows, as nginx's
        // `"" 400` lines are: the client was answered; method, path and protocol stay NULL.
        self.store(
            "http_request",
            Var::Request,
            Decode::Hash,
            &self.line[start..end],
            start,
        )?;
        Ok(true)
    }
}

/// TCP-mode `Tw/Tc/Tt`: ms, `-1` for a stage never reached, `+` before an early total.
fn tcp_timers(t: &str) -> bool {
    let parts: Vec<&str> = t.split('/').collect();
    parts.len() == 3
        && parts.into_iter().enumerate().all(|(i, p)| {
            let p = if i == 2 {
                p.strip_prefix('+').unwrap_or(p)
            } else {
                p
            };
            p == "-1" || (!p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
        })
}

/// `n` counts joined by `/`; the last may carry a `+` (a redispatch, for retries).
fn counts(t: &str, n: usize) -> bool {
    let mut k = 0;
    for (i, part) in t.split('/').enumerate() {
        let part = if i + 1 == n {
            part.strip_prefix('+').unwrap_or(part)
        } else {
            part
        };
        if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
            return false;
        }
        k += 1;
    }
    k == n
}

/// Where HAProxy's own text starts: after `<PRI>`, an RFC 5424 header, an RFC 3164 (or ISO)
/// timestamp, the host name and the `haproxy[pid]:` tag, whichever are there; and whether the
/// header names the program `haproxy`.
fn message_start(b: &[u8]) -> (usize, bool) {
    let haproxy = |word: &[u8]| word.starts_with(b"haproxy");
    let mut i = 0;
    if b.first() == Some(&b'<')
        && let Some(end) = b.iter().take(5).position(|&c| c == b'>')
        && end > 1
        && b[1..end].iter().all(u8::is_ascii_digit)
    {
        i = end + 1;
        if b[i..].starts_with(b"1 ")
            && let Some((m, app)) = rfc5424_message(b, i + 2)
        {
            return (m, haproxy(app));
        }
    }
    if bsd_timestamp(&b[i..]) {
        i += 16;
    } else if b.len() >= i + 5 && b[i..i + 4].iter().all(u8::is_ascii_digit) && b[i + 4] == b'-' {
        // rsyslog's high-precision file format: `2026-12-03T10:00:00.123456+00:00 host tag: `.
        match memchr(b' ', &b[i..]) {
            Some(sp) => i += sp + 1,
            None => return (i, false),
        }
    }
    // `[host ]tag[pid]: `: the message follows the first word ending in ':' among the next two.
    let mut j = i;
    for _ in 0..2 {
        let Some(sp) = memchr(b' ', &b[j..]) else {
            break;
        };
        if sp > 1 && b[j + sp - 1] == b':' {
            return (j + sp + 1, haproxy(&b[j..j + sp]));
        }
        j += sp + 1;
    }
    (i, false)
}

/// `Feb  6 12:14:14 ` (the day padded with a space).
fn bsd_timestamp(b: &[u8]) -> bool {
    b.len() > 16
        && time::month_abbr(&b[..3]).is_some()
        && b[3] == b' '
        && (b[4] == b' ' || b[4].is_ascii_digit())
        && b[5].is_ascii_digit()
        && b[6] == b' '
        && b[9] == b':'
        && b[12] == b':'
        && b[15] == b' '
}

/// After `<PRI>1 `: TIMESTAMP HOSTNAME APP-NAME PROCID MSGID, then `-` or structured data
/// `[id k="v" …]…` (`\]` escaped inside), then the message (after a UTF-8 BOM, if any):
/// where the message starts, and APP-NAME.
fn rfc5424_message(b: &[u8], mut i: usize) -> Option<(usize, &[u8])> {
    let mut app = &b[..0];
    for k in 0..5 {
        let sp = memchr(b' ', &b[i..])?;
        if k == 2 {
            app = &b[i..i + sp];
        }
        i += sp + 1;
    }
    if b.get(i) == Some(&b'-') {
        i += 1;
    } else {
        while b.get(i) == Some(&b'[') {
            i += 1;
            loop {
                match *b.get(i)? {
                    b'\\' => i += 2,
                    b']' => {
                        i += 1;
                        break;
                    }
                    _ => i += 1,
                }
            }
        }
    }
    if b.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    if b[i..].starts_with("\u{feff}".as_bytes()) {
        i += 3;
    }
    Some((i, app))
}
