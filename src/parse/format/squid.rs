//! Squid's native access.log (`logformat squid`, the default; Squid wiki, "Squid native
//! access.log format in detail"):
//!
//! `time elapsed remotehost code/status bytes method URL rfc931 peerstatus/peerhost type`,
//! e.g. `1286536308.779    180 192.168.0.224 TCP_MISS/200 411 GET http://www.google.com/ -
//! DIRECT/173.194.37.104 text/html`.
//!
//! Fields are separated by runs of spaces (`elapsed` is padded to six places). The URL is
//! whatever lies between `method` and the last three fields, so a URL logged with a space in
//! it still reads and never shifts `rfc931` or `type`.

use std::borrow::Cow;

use super::slots::{Decode, FieldError, Finish, Slots, Var, apply};
use super::{Parsed, Reject};

const FIELDS: [&str; 10] = [
    "time",
    "elapsed",
    "remotehost",
    "code/status",
    "bytes",
    "method",
    "URL",
    "rfc931",
    "peerstatus/peerhost",
    "type",
];

pub(super) fn parse<'a>(name: &str, line: &'a str) -> Parsed<'a> {
    match fields(name, line) {
        Ok(slots) => match slots.finish(line) {
            Ok(row) => Parsed::Row(row),
            Err(Finish::NoTime) => Parsed::Reject(Reject::new(name, "no time in line", None)),
            Err(Finish::TimeRange) => {
                Parsed::Reject(Reject::new(name, "time outside the years 1 to 9999", None))
            }
        },
        Err(r) => Parsed::Reject(r),
    }
}

/// (start, end) of each space-separated word.
fn words(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(12);
    let mut i = 0;
    while i < b.len() {
        if b[i] == b' ' {
            i += 1;
            continue;
        }
        let start = i;
        i += memchr::memchr(b' ', &b[i..]).unwrap_or(b.len() - i);
        out.push((start, i));
    }
    out
}

fn fields<'a>(name: &str, line: &'a str) -> Result<Slots<'a>, Reject> {
    let w = words(line.as_bytes());
    if w.len() < FIELDS.len() {
        let missing = FIELDS[w.len()];
        return Err(Reject::new(
            name,
            &format!(
                "line ends before {missing} at byte {}: {} of the native format's 10 fields",
                line.len(),
                w.len()
            ),
            Some(line.len()),
        ));
    }
    let n = w.len();
    // time…method, the URL (all words between), rfc931, peerstatus/peerhost, type.
    let at = |k: usize| match k {
        0..=5 => w[k],
        6 => (w[6].0, w[n - 4].1),
        _ => w[n - 10 + k],
    };
    let value = |k: usize| {
        let (s, e) = at(k);
        &line[s..e]
    };
    let invalid = |k: usize, v: &str, e: FieldError| {
        let start = at(k).0;
        let shown: String = v.chars().take(60).collect();
        let detail = match e {
            FieldError::Invalid => format!("invalid {} \"{shown}\" at byte {start}", FIELDS[k]),
            FieldError::OutOfRange => {
                format!("{} \"{shown}\" at byte {start} out of range", FIELDS[k])
            }
        };
        Reject::new(name, &detail, Some(start))
    };
    let store = |k: usize, var: Var, v: &'a str, slots: &mut Slots<'a>| {
        apply(&var, Decode::None, Cow::Borrowed(v), slots).map_err(|e| invalid(k, v, e))
    };
    let mut slots = Slots::default();
    store(0, Var::Epoch(1_000_000), value(0), &mut slots)?;
    store(1, Var::RequestTime(1e-3), value(1), &mut slots)?;
    store(2, Var::RemoteAddr, value(2), &mut slots)?;
    let Some((code, status)) = value(3).split_once('/') else {
        return Err(invalid(3, value(3), FieldError::Invalid));
    };
    store(3, Var::CacheStatus, code, &mut slots)?;
    // 000: no reply was sent (the client or the connection went away first).
    if status != "000" {
        store(3, Var::Status, status, &mut slots)?;
    }
    let bytes = Var::BodyBytes {
        dash_is_zero: false,
    };
    store(4, bytes, value(4), &mut slots)?;
    let method = value(5);
    // NONE: no request was read (`error:transaction-end-before-headers` and the like stand
    // where the URL goes); such a line is a row with no method or path, as nginx's `""` lines.
    if method != "NONE" {
        store(5, Var::Method, method, &mut slots)?;
        let url = value(6);
        // `CONNECT example.com:443`: the tunnel's host and port, the target kept as logged.
        if method == "CONNECT"
            && !url.contains('/')
            && let Some((host, port)) = url.rsplit_once(':')
            && !host.is_empty()
            && port.bytes().all(|c| c.is_ascii_digit())
        {
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            store(6, Var::Vhost, host, &mut slots)?;
            store(6, Var::ServerPort, port, &mut slots)?;
        }
        store(6, Var::RequestUri, url, &mut slots)?;
    }
    store(7, Var::RemoteUser, value(7), &mut slots)?;
    if !value(8).contains('/') {
        return Err(invalid(8, value(8), FieldError::Invalid));
    }
    Ok(slots)
}
