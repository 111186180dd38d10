//! The tests of the parser this module replaced (src/parse/line.rs), on the `combined` preset.

use std::borrow::Cow;

use super::super::{MAX_LINE_BYTES, days_from_civil};
use super::{micros, reason, row, s};

#[test]
fn article_example_line() {
    // From the article (its "X.X.X.X" address and empty referer as printed there).
    let line = r#"X.X.X.X - - [09/Mar/2017:01:15:59 +0000] "GET /blog/assets/css/jupyter.css HTTP/1.1" 200 30294 "" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu Chromium/53.0.2785.143 Chrome/53.0.2785.143 Safari/537.36 PingdomPageSpeed/1.0 (pingbot/2.0; +""#;
    let l = row("combined", line);
    assert_eq!(s(&l.remote_addr), Some("X.X.X.X"));
    assert_eq!(l.remote_user, None);
    assert_eq!(l.time.micros_utc, micros(2017, 3, 9, 1, 15, 59));
    assert_eq!(l.time.local_day, days_from_civil(2017, 3, 9));
    assert_eq!(l.time.local_hour, 1);
    assert_eq!(s(&l.request_method), Some("GET"));
    assert_eq!(s(&l.request_path), Some("/blog/assets/css/jupyter.css"));
    assert_eq!(s(&l.request_protocol), Some("HTTP/1.1"));
    assert_eq!(l.status, Some(200));
    assert_eq!(l.body_bytes_sent, Some(30294));
    assert_eq!(l.http_referer, None);
    assert!(l.http_user_agent.unwrap().ends_with("(pingbot/2.0; +"));
}

#[test]
fn article_feed_reader_line() {
    let line = r#"X.X.X.X - - [09/Mar/2017:01:16:00 +0000] "GET /blog/atom.xml HTTP/1.1" 301 194 "-" "UniversalFeedParser/5.2.1 +""#;
    let l = row("combined", line);
    assert_eq!(l.status, Some(301));
    assert_eq!(l.body_bytes_sent, Some(194));
    assert_eq!(l.http_referer, None);
    assert_eq!(s(&l.http_user_agent), Some("UniversalFeedParser/5.2.1 +"));
}

#[test]
fn local_offset_gives_utc_instant_and_local_day() {
    // 23:30 at -0700 is the next UTC day, but `local_day` stays the date as written.
    let l = row(
        "combined",
        r#"1.2.3.4 - - [31/Dec/2025:23:30:00 -0700] "GET / HTTP/1.1" 200 1 "-" "a""#,
    );
    assert_eq!(l.time.micros_utc, micros(2026, 1, 1, 6, 30, 0));
    assert_eq!(l.time.local_day, days_from_civil(2025, 12, 31));
    assert_eq!(l.time.local_hour, 23);
    let l = row(
        "combined",
        r#"1.2.3.4 - - [01/Jan/2026:00:30:00 +0530] "GET / HTTP/1.1" 200 1 "-" "a""#,
    );
    assert_eq!(l.time.micros_utc, micros(2025, 12, 31, 19, 0, 0));
    assert_eq!(l.time.local_day, days_from_civil(2026, 1, 1));
    assert_eq!(l.time.local_hour, 0);
}

#[test]
fn nginx_hex_escapes_and_apache_backslash_escapes() {
    let l = row(
        "combined",
        r#"::1 - bob [17/May/2015:10:05:03 +0000] "GET /a\x22b HTTP/1.1" 200 5 "http://x/\"q\"" "Agent \\ \x5C""#,
    );
    assert_eq!(s(&l.remote_addr), Some("::1"));
    assert_eq!(s(&l.remote_user), Some("bob"));
    assert_eq!(s(&l.request_path), Some("/a\"b"));
    assert_eq!(s(&l.http_referer), Some("http://x/\"q\""));
    assert_eq!(s(&l.http_user_agent), Some("Agent \\ \\"));
}

#[test]
fn non_utf8_escapes_are_kept_as_written() {
    // A real line from apache_logs: a Windows-1251 referer, escaped by Apache.
    let line = r#"201.242.142.135 - - [19/May/2015:11:05:10 +0000] "GET /files/logstash/ HTTP/1.0" 200 13316 "http://\xe4\xe5\xe3\xf2\xff\xf0\xed\xee\xe5-\xec\xfb\xeb\xee.\xf0\xf4/" "Mozilla/5.0 (Windows NT 6.1; rv:11.0) Gecko/20100101 Firefox/11.0""#;
    let l = row("combined", line);
    assert_eq!(
        s(&l.http_referer),
        Some(r"http://\xe4\xe5\xe3\xf2\xff\xf0\xed\xee\xe5-\xec\xfb\xeb\xee.\xf0\xf4/")
    );
    assert_eq!(s(&l.request_protocol), Some("HTTP/1.0"));
}

#[test]
fn escaped_utf8_is_decoded() {
    let l = row(
        "combined",
        r#"1.1.1.1 - - [17/May/2015:10:05:03 +0000] "GET /caf\xC3\xA9 HTTP/1.1" 200 5 "-" "-""#,
    );
    assert_eq!(s(&l.request_path), Some("/café"));
    assert_eq!(l.http_user_agent, None);
}

#[test]
fn ipv6_and_common_format() {
    let l = row(
        "combined",
        r#"2001:db8::ff00:42:8329 - - [17/May/2015:10:05:03 +0000] "HEAD /x HTTP/1.1" 200 -"#,
    );
    assert_eq!(s(&l.remote_addr), Some("2001:db8::ff00:42:8329"));
    assert_eq!(s(&l.request_method), Some("HEAD"));
    assert_eq!(l.body_bytes_sent, None);
    assert_eq!(l.http_referer, None);
    assert_eq!(l.http_user_agent, None);
}

#[test]
fn garbage_or_dash_request_keeps_the_line() {
    for req in [
        r#""-""#,
        r#""\x16\x03\x01\x00\xa5\x01\x00""#,
        r#""""#,
        r#""hello""#,
        r#""- /index.html HTTP/1.0""#,
        r#""_X /a HTTP/1.1""#,
    ] {
        let line = format!(r#"5.6.7.8 - - [17/May/2015:10:05:03 +0000] {req} 400 0 "-" "-""#);
        let l = row("combined", &line);
        assert_eq!(l.request_method, None, "{req}");
        assert_eq!(l.request_path, None, "{req}");
        assert_eq!(l.request_protocol, None, "{req}");
        assert_eq!(l.status, Some(400));
    }
}

#[test]
fn request_without_protocol_and_path_with_space() {
    let l = row(
        "combined",
        r#"5.6.7.8 - - [17/May/2015:10:05:03 +0000] "GET /old" 200 1 "-" "-""#,
    );
    assert_eq!(s(&l.request_path), Some("/old"));
    assert_eq!(l.request_protocol, None);
    let l = row(
        "combined",
        r#"5.6.7.8 - - [17/May/2015:10:05:03 +0000] "GET /a b HTTP/1.1" 200 1 "-" "-""#,
    );
    assert_eq!(s(&l.request_path), Some("/a b"));
    assert_eq!(s(&l.request_protocol), Some("HTTP/1.1"));
}

#[test]
fn crlf_is_tolerated() {
    let line = "1.1.1.1 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"ua\"\r";
    assert_eq!(s(&row("combined", line).http_user_agent), Some("ua"));
}

#[test]
fn unterminated_last_field_is_kept() {
    // apache_logs line 8899: the agent lost its closing quote.
    let line = r#"46.118.127.106 - - [20/May/2015:12:05:17 +0000] "GET /scripts/grok-py-test/configlib.py HTTP/1.1" 200 235 "-" "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html"#;
    let l = row("combined", line);
    assert_eq!(
        s(&l.http_user_agent),
        Some("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html")
    );
}

#[test]
fn rejects_say_why() {
    let cases: &[(&[u8], &str)] = &[
        (b"", "empty line"),
        (b"   ", "empty line"),
        (
            b"not a log line",
            "combined: expected ' - ' before $remote_user at byte 3",
        ),
        (
            b"1.1.1.1 - - [32/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 200 5",
            "combined: invalid $time_local \"32/May/2015:10:05:03 +0000\" at byte 13",
        ),
        (
            b"1.1.1.1 - - [17/Foo/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 200 5",
            "combined: invalid $time_local \"17/Foo/2015:10:05:03 +0000\" at byte 13",
        ),
        (
            b"1.1.1.1 - - [29/Feb/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 200 5",
            "combined: invalid $time_local \"29/Feb/2015:10:05:03 +0000\" at byte 13",
        ),
        (
            b"1.1.1.1 - - [17/May/2015:10:05:03] \"GET / HTTP/1.1\" 200 5",
            "combined: invalid $time_local \"17/May/2015:10:05:03\" at byte 13",
        ),
        (
            b"1.1.1.1 - - [17/May/2015:10:05:03 +0000] GET / 200 5",
            "combined: expected '] \"' before $request at byte 13",
        ),
        (
            b"1.1.1.1 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1",
            "combined: no closing '\"' for $request opened at byte 41",
        ),
        (
            b"1.1.1.1 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 2000 5",
            "combined: invalid $status \"2000\" at byte 58",
        ),
        (
            b"1.1.1.1 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 200 5x",
            "combined: invalid $body_bytes_sent \"5x\" at byte 62",
        ),
        (
            b"1.1.1.1 - - [17/May/2015:10:05:03 +0000] \"GET /\xff HTTP/1.1\" 200 5",
            "combined: invalid UTF-8 in request_path at byte 47",
        ),
        (
            b"1.1.1.1 - - [17/May/2015:10:05:03 +0000] \"GET /\0 HTTP/1.1\" 200 5",
            "NUL byte in line",
        ),
    ];
    for (line, want) in cases {
        assert_eq!(
            reason("combined", line),
            *want,
            "{}",
            String::from_utf8_lossy(line)
        );
    }
    let long = vec![b'a'; MAX_LINE_BYTES + 1];
    assert_eq!(reason("combined", &long), "line longer than 1 MiB");
}

#[test]
fn leap_day_is_valid() {
    let l = row(
        "combined",
        r#"1.1.1.1 - - [29/Feb/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "-""#,
    );
    assert_eq!(l.time.local_day, days_from_civil(2024, 2, 29));
    assert_eq!(days_from_civil(1970, 1, 1), 0);
    assert_eq!(days_from_civil(2000, 3, 1), 11_017);
}

#[test]
fn borrowed_when_no_escapes() {
    let l = row(
        "combined",
        r#"1.1.1.1 - - [17/May/2015:10:05:03 +0000] "GET /plain HTTP/1.1" 200 5 "-" "ua""#,
    );
    assert!(matches!(l.request_path, Some(Cow::Borrowed(_))));
    assert!(matches!(l.http_user_agent, Some(Cow::Borrowed(_))));
}

/// Every line of the 10,000-line fixture is a row, borrowed from the line.
#[test]
fn every_fixture_line_is_a_row() {
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/apache_logs"
    ))
    .unwrap();
    let format = super::super::Format::compile("combined").unwrap();
    let mut parser = format.parser(None);
    for (n, line) in data
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        match parser.parse(line) {
            super::super::Parsed::Row(r) => {
                assert!(super::borrowed_from_line(line, &r), "line {}", n + 1)
            }
            other => panic!("line {}: {other:?}", n + 1),
        }
    }
}
