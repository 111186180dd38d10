//! Arbitrary bytes into `parse_line`: it must never panic, never allocate without bound
//! (libFuzzer's -rss_limit_mb / -malloc_limit_mb catch that), and every input must either parse
//! into fields that hold together or be a reject with a reason.
#![no_main]

use std::borrow::Cow;

use libfuzzer_sys::fuzz_target;

#[path = "../../src/parse/line.rs"]
#[allow(dead_code)]
mod line;

use line::{LogLine, MAX_LINE_BYTES, parse_line};

fuzz_target!(|data: &[u8]| {
    match parse_line(data) {
        Ok(parsed) => check_parsed(data, &parsed),
        Err(reject) => assert!(!reject.reason().is_empty()),
    }
    // Deterministic: the same bytes give the same answer.
    assert_eq!(parse_line(data), parse_line(data));
});

fn check_parsed(data: &[u8], p: &LogLine<'_>) {
    assert!(data.len() <= MAX_LINE_BYTES + 1, "over-long line accepted");
    let text = std::str::from_utf8(data).expect("an accepted line is UTF-8");
    assert!(!text.contains('\0'), "a line with NUL accepted");
    // Unquoted fields are pieces of the line, never invented; NULL is spelled `-` or nothing.
    for field in [p.remote_addr, p.remote_user].into_iter().flatten() {
        assert!(text.contains(field), "{field:?} is not in the line");
        assert!(field != "-" && !field.is_empty());
    }
    // Quoted fields are the line's text or its unescaped form; either way no longer than it.
    // A whole field of `-` is NULL; a request's parts are kept as written (`GET -` has path `-`).
    let request = [&p.request_method, &p.request_path, &p.request_protocol];
    let whole = [&p.http_referer, &p.http_user_agent];
    for (field, is_whole) in request
        .map(|f| (f, false))
        .into_iter()
        .chain(whole.map(|f| (f, true)))
    {
        let Some(field) = field else { continue };
        assert!(field.len() <= data.len());
        if let Cow::Borrowed(s) = field {
            assert!(text.contains(s), "{s:?} is not in the line");
        }
        assert!(!field.is_empty() && !(is_whole && field == "-"));
    }
    if let Some(method) = &p.request_method {
        assert!(
            method.as_bytes()[0].is_ascii_uppercase(),
            "method {method:?}"
        );
    }
    if let Some(protocol) = &p.request_protocol {
        assert!(protocol.starts_with("HTTP/"));
    }
    if let Some(status) = p.status {
        assert!((0..=999).contains(&status));
    }
    if let Some(bytes) = p.body_bytes_sent {
        assert!(bytes >= 0);
    }
    // The UTC instant is the written local time shifted by an offset of less than a day.
    let utc_day = p.time.micros_utc.div_euclid(86_400_000_000);
    assert!((utc_day - p.time.local_day as i64).abs() <= 1);
}
