//! Arbitrary bytes into every preset of the format compiler, and into formats compiled from
//! arbitrary specs: it must never panic, never allocate without bound (libFuzzer's
//! -rss_limit_mb / -malloc_limit_mb catch that), answer the same twice, and every row must hold
//! together: borrowed fields are pieces of the line, values are in the ranges the warehouse
//! stores.
#![no_main]

use std::borrow::Cow;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

#[path = "../../src/parse/format/mod.rs"]
#[allow(dead_code, unused_imports)]
mod format;

use format::{Format, LogLine, MAX_LINE_BYTES, PRESETS, Parsed, civil_from_days, detect};

/// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z.
const MIN_MICROS: i64 = -62_135_596_800_000_000;
const MAX_MICROS: i64 = 253_402_300_799_999_999;

/// The presets, compiled once: compiling is not what is being fuzzed.
fn presets() -> &'static [Format] {
    static PRESET_FORMATS: OnceLock<Vec<Format>> = OnceLock::new();
    PRESET_FORMATS.get_or_init(|| {
        PRESETS
            .iter()
            .map(|name| Format::compile(name).expect("a preset compiles"))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    for format in presets() {
        check(format, data);
    }
    // `auto` on the input's lines: a format, or a reason.
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').take(16).collect();
    if let Err(e) = detect(&lines) {
        assert!(e.starts_with("no known log format fits"), "{e}");
    }
    // The first line as a format string (nginx, Apache or a preset name), the rest as lines.
    if let Some(nl) = data.iter().position(|&b| b == b'\n')
        && let Ok(spec) = std::str::from_utf8(&data[..nl])
        && let Ok(format) = Format::compile(spec)
    {
        check(&format, &data[nl + 1..]);
    }
});

fn check(format: &Format, data: &[u8]) {
    // The whole input as one line, twice: the same answer.
    let first = format.parser(None).parse(data);
    assert_eq!(
        first,
        format.parser(None).parse(data),
        "{}: not deterministic",
        format.name()
    );
    holds(data, &first);
    // Line by line through one parser, as a file is read (W3C keeps its #Fields: between
    // lines); a parser resumed from the saved state answers as the one that kept it.
    let mut parser = format.parser(None);
    for line in data.split(|&b| b == b'\n') {
        let saved = parser.state().map(str::to_owned);
        let answer = parser.parse(line);
        holds(line, &answer);
        let mut resumed = format.parser(saved.as_deref());
        assert_eq!(
            answer,
            resumed.parse(line),
            "{}: resumed parser differs",
            format.name()
        );
    }
}

fn holds(line: &[u8], answer: &Parsed<'_>) {
    match answer {
        Parsed::Row(row) => check_row(line, row),
        Parsed::Reject(r) => assert!(!r.reason().is_empty()),
        Parsed::Skip => {}
    }
}

fn check_row(line: &[u8], r: &LogLine<'_>) {
    assert!(line.len() <= MAX_LINE_BYTES + 1, "over-long line accepted");
    let text = std::str::from_utf8(line).expect("an accepted line is UTF-8");
    assert!(!text.contains('\0'), "a line with NUL accepted");
    let range = line.as_ptr_range();
    for field in [
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
    .flatten()
    {
        if let Cow::Borrowed(s) = field {
            let p = s.as_bytes().as_ptr_range();
            assert!(
                range.start <= p.start && p.end <= range.end,
                "{s:?} is not a slice of the line"
            );
        }
        assert!(!field.is_empty(), "an empty value is NULL");
    }
    if let Some(method) = &r.request_method {
        assert!(
            method.as_bytes()[0].is_ascii_uppercase(),
            "method {method:?}"
        );
    }
    if let Some(status) = r.status {
        assert!((0..=999).contains(&status));
    }
    for n in [r.body_bytes_sent, r.request_length].into_iter().flatten() {
        assert!(n >= 0);
    }
    if let Some(port) = r.server_port {
        assert!((0..=65_535).contains(&port));
    }
    for t in [r.request_time, r.upstream_response_time]
        .into_iter()
        .flatten()
    {
        assert!(t.is_finite() && t >= 0.0, "duration {t}");
    }
    assert!(
        (MIN_MICROS..=MAX_MICROS).contains(&r.time.micros_utc),
        "instant {}",
        r.time.micros_utc
    );
    assert!(r.time.local_hour <= 23);
    let (year, _, _) = civil_from_days(r.time.local_day);
    assert!((1..=9999).contains(&year), "written year {year}");
    // The written time is the instant shifted by an offset under a day.
    let utc_day = r.time.micros_utc.div_euclid(86_400_000_000);
    assert!((utc_day - r.time.local_day as i64).abs() <= 1);
}
