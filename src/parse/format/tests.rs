//! Tests of the format compiler. Real-world lines carry their source in a comment; every
//! expected value was read off the line by hand.

use std::borrow::Cow;

use super::{Format, LogLine, Parsed, days_from_civil};

mod combined;
mod detection;
mod fast_path;
mod presets;
mod properties;
mod strings;
mod times;

/// apache_logs line 1, the line the mutation tests start from.
pub(super) const REAL_LINE: &[u8] = br#"83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1" 200 203023 "http://semicomplete.com/presentations/logstash-monitorama-2013/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36""#;

pub(super) fn parse<'a>(format: &str, line: &'a [u8]) -> Parsed<'a> {
    Format::compile(format).unwrap().parser(None).parse(line)
}

#[track_caller]
pub(super) fn row<'a>(format: &str, line: &'a str) -> LogLine<'a> {
    match parse(format, line.as_bytes()) {
        Parsed::Row(r) => r,
        other => panic!("{format}: {line}\n  -> {other:?}"),
    }
}

/// [`row`] for a line built in place.
#[track_caller]
pub(super) fn owned(format: &str, line: &str) -> LogLine<'static> {
    row(format, line).into_owned()
}

#[track_caller]
pub(super) fn reason(format: &str, line: &[u8]) -> String {
    match parse(format, line) {
        Parsed::Reject(r) => r.reason().to_owned(),
        other => panic!(
            "{format}: {}\n  -> {other:?}",
            String::from_utf8_lossy(line)
        ),
    }
}

pub(super) fn micros(y: i32, mo: i32, d: i32, h: i64, mi: i64, s: i64) -> i64 {
    (days_from_civil(y, mo, d) as i64 * 86_400 + h * 3600 + mi * 60 + s) * 1_000_000
}

pub(super) fn s<'x>(v: &'x Option<Cow<'_, str>>) -> Option<&'x str> {
    v.as_deref()
}

#[test]
fn formats_and_parsers_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Format>();
    send_sync::<super::LineParser>();
}

/// Every `Cow::Borrowed` in a row points into `line`: the frame builder relies on it.
pub(super) fn borrowed_from_line(line: &[u8], r: &LogLine<'_>) -> bool {
    let range = line.as_ptr_range();
    [
        &r.remote_addr,
        &r.remote_user,
        &r.request_method,
        &r.request_path,
        &r.request_protocol,
        &r.http_referer,
        &r.http_user_agent,
        &r.vhost,
        &r.x_forwarded_for,
        &r.ssl_protocol,
        &r.cache_status,
    ]
    .into_iter()
    .all(|f| match f {
        Some(Cow::Borrowed(v)) => {
            let p = v.as_bytes().as_ptr_range();
            range.start <= p.start && p.end <= range.end
        }
        _ => true,
    })
}
