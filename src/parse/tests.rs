use std::borrow::Cow;

use super::line::{Reject, days_from_civil, parse_line};

fn micros(y: i32, mo: i32, d: i32, h: i64, mi: i64, s: i64) -> i64 {
    (days_from_civil(y, mo, d) as i64 * 86_400 + h * 3600 + mi * 60 + s) * 1_000_000
}

#[test]
fn article_example_line() {
    // From the article (its "X.X.X.X" address and empty referer as printed there).
    let line = br#"X.X.X.X - - [09/Mar/2017:01:15:59 +0000] "GET /blog/assets/css/jupyter.css HTTP/1.1" 200 30294 "" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu Chromium/53.0.2785.143 Chrome/53.0.2785.143 Safari/537.36 PingdomPageSpeed/1.0 (pingbot/2.0; +""#;
    let l = parse_line(line).unwrap();
    assert_eq!(l.remote_addr, Some("X.X.X.X"));
    assert_eq!(l.remote_user, None);
    assert_eq!(l.time.micros_utc, micros(2017, 3, 9, 1, 15, 59));
    assert_eq!(l.time.local_day, days_from_civil(2017, 3, 9));
    assert_eq!(l.request_method.as_deref(), Some("GET"));
    assert_eq!(
        l.request_path.as_deref(),
        Some("/blog/assets/css/jupyter.css")
    );
    assert_eq!(l.request_protocol.as_deref(), Some("HTTP/1.1"));
    assert_eq!(l.status, Some(200));
    assert_eq!(l.body_bytes_sent, Some(30294));
    assert_eq!(l.http_referer, None);
    assert!(l.http_user_agent.unwrap().ends_with("(pingbot/2.0; +"));
}

#[test]
fn article_feed_reader_line() {
    let line = br#"X.X.X.X - - [09/Mar/2017:01:16:00 +0000] "GET /blog/atom.xml HTTP/1.1" 301 194 "-" "UniversalFeedParser/5.2.1 +""#;
    let l = parse_line(line).unwrap();
    assert_eq!(l.status, Some(301));
    assert_eq!(l.body_bytes_sent, Some(194));
    assert_eq!(l.http_referer, None);
    assert_eq!(
        l.http_user_agent.as_deref(),
        Some("UniversalFeedParser/5.2.1 +")
    );
}

#[test]
fn local_offset_gives_utc_instant_and_local_day() {
    // 00:30 local at -0700 is 07:30 UTC the same day; 23:30 at -0700 is the next UTC day,
    // but `day` stays the date as written.
    let l =
        parse_line(br#"1.2.3.4 - - [31/Dec/2025:23:30:00 -0700] "GET / HTTP/1.1" 200 1 "-" "a""#)
            .unwrap();
    assert_eq!(l.time.micros_utc, micros(2026, 1, 1, 6, 30, 0));
    assert_eq!(l.time.local_day, days_from_civil(2025, 12, 31));
    let l =
        parse_line(br#"1.2.3.4 - - [01/Jan/2026:00:30:00 +0530] "GET / HTTP/1.1" 200 1 "-" "a""#)
            .unwrap();
    assert_eq!(l.time.micros_utc, micros(2025, 12, 31, 19, 0, 0));
    assert_eq!(l.time.local_day, days_from_civil(2026, 1, 1));
}

#[test]
fn nginx_hex_escapes_and_apache_backslash_escapes() {
    let l = parse_line(
        br#"::1 - bob [17/May/2015:10:05:03 +0000] "GET /a\x22b HTTP/1.1" 200 5 "http://x/\"q\"" "Agent \\ \x5C""#,
    )
    .unwrap();
    assert_eq!(l.remote_addr, Some("::1"));
    assert_eq!(l.remote_user, Some("bob"));
    assert_eq!(l.request_path.as_deref(), Some("/a\"b"));
    assert_eq!(l.http_referer.as_deref(), Some("http://x/\"q\""));
    assert_eq!(l.http_user_agent.as_deref(), Some("Agent \\ \\"));
}

#[test]
fn non_utf8_escapes_are_kept_as_written() {
    // A real line from apache_logs: a Windows-1251 referer, escaped by Apache.
    let line = br#"201.242.142.135 - - [19/May/2015:11:05:10 +0000] "GET /files/logstash/ HTTP/1.0" 200 13316 "http://\xe4\xe5\xe3\xf2\xff\xf0\xed\xee\xe5-\xec\xfb\xeb\xee.\xf0\xf4/" "Mozilla/5.0 (Windows NT 6.1; rv:11.0) Gecko/20100101 Firefox/11.0""#;
    let l = parse_line(line).unwrap();
    assert_eq!(
        l.http_referer.as_deref(),
        Some(r"http://\xe4\xe5\xe3\xf2\xff\xf0\xed\xee\xe5-\xec\xfb\xeb\xee.\xf0\xf4/")
    );
    assert_eq!(l.request_protocol.as_deref(), Some("HTTP/1.0"));
}

#[test]
fn escaped_utf8_is_decoded() {
    let l = parse_line(
        br#"1.1.1.1 - - [17/May/2015:10:05:03 +0000] "GET /caf\xC3\xA9 HTTP/1.1" 200 5 "-" "-""#,
    )
    .unwrap();
    assert_eq!(l.request_path.as_deref(), Some("/café"));
    assert_eq!(l.http_user_agent, None);
}

#[test]
fn ipv6_and_common_format() {
    let l = parse_line(
        br#"2001:db8::ff00:42:8329 - - [17/May/2015:10:05:03 +0000] "HEAD /x HTTP/1.1" 200 -"#,
    )
    .unwrap();
    assert_eq!(l.remote_addr, Some("2001:db8::ff00:42:8329"));
    assert_eq!(l.request_method.as_deref(), Some("HEAD"));
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
        let l = parse_line(line.as_bytes()).unwrap_or_else(|e| panic!("{req}: {e:?}"));
        assert_eq!(l.request_method, None, "{req}");
        assert_eq!(l.request_path, None, "{req}");
        assert_eq!(l.request_protocol, None, "{req}");
        assert_eq!(l.status, Some(400));
    }
}

#[test]
fn request_without_protocol_and_path_with_space() {
    let l = parse_line(br#"5.6.7.8 - - [17/May/2015:10:05:03 +0000] "GET /old" 200 1 "-" "-""#)
        .unwrap();
    assert_eq!(l.request_path.as_deref(), Some("/old"));
    assert_eq!(l.request_protocol, None);
    let l = parse_line(
        br#"5.6.7.8 - - [17/May/2015:10:05:03 +0000] "GET /a b HTTP/1.1" 200 1 "-" "-""#,
    )
    .unwrap();
    assert_eq!(l.request_path.as_deref(), Some("/a b"));
    assert_eq!(l.request_protocol.as_deref(), Some("HTTP/1.1"));
}

#[test]
fn crlf_is_tolerated() {
    let l = parse_line(
        b"1.1.1.1 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"ua\"\r",
    )
    .unwrap();
    assert_eq!(l.http_user_agent.as_deref(), Some("ua"));
}

#[test]
fn unterminated_last_field_is_kept() {
    // apache_logs line 8899: the agent lost its closing quote.
    let line = br#"46.118.127.106 - - [20/May/2015:12:05:17 +0000] "GET /scripts/grok-py-test/configlib.py HTTP/1.1" 200 235 "-" "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html"#;
    let l = parse_line(line).unwrap();
    assert_eq!(
        l.http_user_agent.as_deref(),
        Some("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html")
    );
}

#[test]
fn rejects_say_why() {
    let cases: &[(&[u8], Reject)] = &[
        (b"", Reject::Empty),
        (b"   ", Reject::Empty),
        (b"not a log line", Reject::NoTimestamp),
        (
            b"1.1.1.1 - - [32/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 200 5",
            Reject::BadTimestamp,
        ),
        (
            b"1.1.1.1 - - [17/Foo/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 200 5",
            Reject::BadTimestamp,
        ),
        (
            b"1.1.1.1 - - [29/Feb/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 200 5",
            Reject::BadTimestamp,
        ),
        (
            b"1.1.1.1 - - [17/May/2015:10:05:03] \"GET / HTTP/1.1\" 200 5",
            Reject::BadTimestamp,
        ),
        (
            b"1.1.1.1 - - [17/May/2015:10:05:03 +0000] GET / 200 5",
            Reject::NoRequest,
        ),
        (
            b"1.1.1.1 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1",
            Reject::UnterminatedQuote,
        ),
        (
            b"1.1.1.1 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 2000 5",
            Reject::BadStatus,
        ),
        (
            b"1.1.1.1 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 200 5x",
            Reject::BadBytes,
        ),
        (
            b"1.1.1.1 - - [17/May/2015:10:05:03 +0000] \"GET /\xff HTTP/1.1\" 200 5",
            Reject::InvalidUtf8,
        ),
        (
            b"1.1.1.1 - - [17/May/2015:10:05:03 +0000] \"GET /\0 HTTP/1.1\" 200 5",
            Reject::NulByte,
        ),
    ];
    for (line, want) in cases {
        assert_eq!(
            parse_line(line),
            Err(*want),
            "{}",
            String::from_utf8_lossy(line)
        );
    }
    let long = vec![b'a'; super::MAX_LINE_BYTES + 1];
    assert_eq!(parse_line(&long), Err(Reject::TooLong));
}

#[test]
fn leap_day_is_valid() {
    let l =
        parse_line(br#"1.1.1.1 - - [29/Feb/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "-""#)
            .unwrap();
    assert_eq!(l.time.local_day, days_from_civil(2024, 2, 29));
    assert_eq!(days_from_civil(1970, 1, 1), 0);
    assert_eq!(days_from_civil(2000, 3, 1), 11_017);
}

#[test]
fn borrowed_when_no_escapes() {
    let l = parse_line(
        br#"1.1.1.1 - - [17/May/2015:10:05:03 +0000] "GET /plain HTTP/1.1" 200 5 "-" "ua""#,
    )
    .unwrap();
    assert!(matches!(l.request_path, Some(Cow::Borrowed(_))));
}

mod properties {
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::super::line::{LogLine, parse_line};
    use crate::enrich::Enricher;
    use crate::parse::FrameBuilder;
    use crate::source::Chunk;

    /// A field that is not `-` (which means NULL).
    fn field() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9][a-zA-Z0-9/._~%-]{0,39}"
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 20_000, .. ProptestConfig::default() })]

        /// Arbitrary bytes: never a panic; either a row or a reject with a reason.
        #[test]
        fn any_bytes_parse_or_are_rejected(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            match parse_line(&bytes) {
                Ok(LogLine { time, .. }) => prop_assert!(time.local_day > -800_000),
                Err(r) => prop_assert!(!r.reason().is_empty()),
            }
        }

        /// Mutations of a real line (the shape fuzzers find bugs in): never a panic.
        #[test]
        fn mutated_real_lines_never_panic(
            cuts in proptest::collection::vec((0usize..300, any::<u8>()), 0..8)
        ) {
            let mut line = br#"83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1" 200 203023 "http://semicomplete.com/presentations/logstash-monitorama-2013/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36""#.to_vec();
            for (at, byte) in cuts {
                let at = at % (line.len() + 1);
                if byte % 3 == 0 && at < line.len() { line.remove(at); } else { line.insert(at, byte); }
            }
            let _ = parse_line(&line);
        }

        /// Well-formed lines give their fields back.
        #[test]
        fn generated_lines_round_trip(
            a in 1u8..255, b in 0u8..255, path in field(), status in 100i32..600,
            bytes in 0i64..10_000_000_000, day in 1i32..29, hour in 0i32..24, agent in field()
        ) {
            let text = format!(
                "{a}.{b}.0.1 - - [{day:02}/Feb/2026:{hour:02}:00:00 +0000] \"GET /{path} HTTP/1.1\" {status} {bytes} \"-\" \"{agent}\""
            );
            let l = parse_line(text.as_bytes()).unwrap();
            let addr = format!("{a}.{b}.0.1");
            prop_assert_eq!(l.remote_addr, Some(addr.as_str()));
            let want_path = format!("/{path}");
            prop_assert_eq!(l.request_path.as_deref(), Some(want_path.as_str()));
            prop_assert_eq!(l.status, Some(status));
            prop_assert_eq!(l.body_bytes_sent, Some(bytes));
            prop_assert_eq!(l.http_user_agent.as_deref(), Some(agent.as_str()));
            prop_assert_eq!(l.time.local_day, super::days_from_civil(2026, 2, day));
        }

        /// A chunk of arbitrary lines: every line is a reject, a row, or a repeat of a row
        /// (rows = the distinct accepted lines, counted here independently).
        #[test]
        fn every_line_is_a_row_or_a_reject(
            lines in proptest::collection::vec(proptest::collection::vec(any::<u8>().prop_map(|b| if b == b'\n' { b' ' } else { b }), 0..120), 0..40)
        ) {
            let mut data = Vec::new();
            for l in &lines { data.extend_from_slice(l); data.push(b'\n'); }
            let chunk = Chunk { file: Arc::from("f"), start: 0, end: data.len() as u64, data, oversize: vec![], marker: 0 };
            let mut builder = FrameBuilder::new(8);
            let mut enricher = Enricher::new(None);
            builder.push_chunk(chunk, &mut enricher);
            let batch = builder.finish(0).unwrap();
            let stripped = |l: &[u8]| l.strip_suffix(b"\r").unwrap_or(l).to_vec();
            let accepted: Vec<Vec<u8>> = lines.iter().map(|l| stripped(l)).filter(|l| parse_line(l).is_ok()).collect();
            let distinct: std::collections::HashSet<&Vec<u8>> = accepted.iter().collect();
            prop_assert_eq!(batch.rejects.height(), lines.len() - accepted.len());
            prop_assert_eq!(batch.logs.height(), distinct.len());
            prop_assert_eq!(batch.per_file[0].1 + batch.per_file[0].2, lines.len() as u64);
        }
    }
}

/// The frame's text columns are views into the input chunks (and, for unescaped values, into
/// a side buffer): across several chunks, every value must equal what `parse_line` returns
/// for that line on its own, NULLs included.
#[test]
fn frame_text_columns_equal_the_parser_fields_across_chunks() {
    use std::sync::Arc;

    use crate::enrich::Enricher;
    use crate::parse::FrameBuilder;
    use crate::source::Chunk;

    let chunks: [&[&str]; 2] = [
        &[
            r#"1.2.3.4 - alice [10/Oct/2000:13:55:36 -0700] "GET /a-long-path/of/more/than/twelve HTTP/1.0" 200 2326 "https://example.com/ref" "Mozilla/5.0 (X11; Linux x86_64) Firefox/145.0""#,
            r#"::1 - - [10/Oct/2000:13:55:37 -0700] "GET /q?x=\x22quoted\x22&y=long-enough HTTP/1.1" 404 - "-" "-""#,
            "not a log line at all",
        ],
        &[
            r#"5.6.7.8 - - [10/Oct/2000:13:55:38 -0700] "POST /b HTTP/1.1" 201 7 "https://ex.am/\"esc\" referer" "curl/8.0""#,
            r#"9.9.9.9 - - [10/Oct/2000:13:55:39 -0700] "\x16\x03\x01" 400 0 "-" "agent with \"escaped quotes\" inside""#,
        ],
    ];
    let mut builder = FrameBuilder::new(2);
    let mut enricher = Enricher::new(None);
    let mut start = 0u64;
    for lines in chunks {
        let data: Vec<u8> = lines
            .iter()
            .flat_map(|l| format!("{l}\n").into_bytes())
            .collect();
        let end = start + data.len() as u64;
        let chunk = Chunk {
            file: Arc::from("some/longer/file/name.log"),
            start,
            end,
            data,
            oversize: vec![],
            marker: 0,
        };
        builder.push_chunk(chunk, &mut enricher);
        start = end;
    }
    let batch = builder.finish(0).unwrap();
    let parsed: Vec<(&str, super::LogLine<'_>)> = chunks
        .iter()
        .flat_map(|c| c.iter())
        .filter_map(|l| parse_line(l.as_bytes()).ok().map(|p| (*l, p)))
        .collect();
    assert_eq!(batch.logs.height(), parsed.len());
    let column = |name: &str| -> Vec<Option<String>> {
        let c = batch.logs.column(name).unwrap().str().unwrap().clone();
        c.iter().map(|v| v.map(str::to_string)).collect()
    };
    let own = |v: Option<&str>| v.map(str::to_string);
    let cow = |v: &Option<Cow<'_, str>>| v.as_deref().map(str::to_string);
    for (name, want) in [
        (
            "raw_log",
            parsed
                .iter()
                .map(|(l, _)| Some(l.to_string()))
                .collect::<Vec<_>>(),
        ),
        (
            "remote_addr",
            parsed.iter().map(|(_, p)| own(p.remote_addr)).collect(),
        ),
        (
            "remote_user",
            parsed.iter().map(|(_, p)| own(p.remote_user)).collect(),
        ),
        (
            "request_method",
            parsed.iter().map(|(_, p)| cow(&p.request_method)).collect(),
        ),
        (
            "request_path",
            parsed.iter().map(|(_, p)| cow(&p.request_path)).collect(),
        ),
        (
            "request_protocol",
            parsed
                .iter()
                .map(|(_, p)| cow(&p.request_protocol))
                .collect(),
        ),
        (
            "http_referer",
            parsed.iter().map(|(_, p)| cow(&p.http_referer)).collect(),
        ),
        (
            "http_user_agent",
            parsed
                .iter()
                .map(|(_, p)| cow(&p.http_user_agent))
                .collect(),
        ),
        (
            "source_file",
            parsed
                .iter()
                .map(|_| Some("some/longer/file/name.log".to_string()))
                .collect(),
        ),
    ] {
        assert_eq!(column(name), want, "{name}");
    }
    // The escaped values really were unescaped (so they came from the side buffer).
    let paths = column("request_path");
    assert_eq!(paths[1].as_deref(), Some(r#"/q?x="quoted"&y=long-enough"#));
    assert_eq!(batch.rejects.height(), 1);
}
