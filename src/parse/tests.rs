//! The frame builder over the format parsers: what lands in the batch's columns, across
//! chunks, escapes and repeats. (Line parsing itself is tested in `format/`.)

use std::borrow::Cow;
use std::sync::Arc;

use super::format::{Format, Parsed};
use super::{FileContext, FrameBuilder};
use crate::enrich::{ClientResolver, Enricher};
use crate::source::Chunk;

fn combined_file() -> FileContext {
    let format = Format::compile("combined").unwrap();
    FileContext {
        parser: format.parser(None),
        format: Arc::from("combined"),
        host: Arc::from("web-1"),
        vhost: None,
        auto: false,
        switches: Vec::new(),
    }
}

fn chunk(data: Vec<u8>, start: u64) -> Chunk {
    Chunk {
        file: Arc::from("some/longer/file/name.log"),
        start,
        end: start + data.len() as u64,
        data,
        oversize: vec![],
        marker: 0,
        unwrapped: None,
    }
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 5_000, .. ProptestConfig::default() })]

        /// A chunk of arbitrary lines: rows are the distinct accepted lines, rejects the
        /// distinct others (each counted here independently, by the parser alone).
        #[test]
        fn every_distinct_line_is_one_row_or_one_reject(
            lines in proptest::collection::vec(proptest::collection::vec(any::<u8>().prop_map(|b| if b == b'\n' { b' ' } else { b }), 0..120), 0..40)
        ) {
            let mut data = Vec::new();
            for l in &lines { data.extend_from_slice(l); data.push(b'\n'); }
            let mut builder = FrameBuilder::new(8);
            let mut enricher = Enricher::new(None, ClientResolver::default());
            builder.push_chunk(chunk(data, 0), &mut combined_file(), &mut enricher);
            let batch = builder.finish(0);
            let mut parser = Format::compile("combined").unwrap().parser(None);
            let stripped = |l: &[u8]| l.strip_suffix(b"\r").unwrap_or(l).to_vec();
            let mut rows = std::collections::HashSet::new();
            let mut rejects = std::collections::HashSet::new();
            for l in &lines {
                let l = stripped(l);
                match parser.parse(&l) {
                    Parsed::Row(_) => { rows.insert(l); }
                    Parsed::Reject(_) => { rejects.insert(l); }
                    Parsed::Skip => {}
                }
            }
            prop_assert_eq!(batch.logs.height(), rows.len());
            prop_assert_eq!(batch.rejects.height(), rejects.len());
            let f = &batch.per_file[0];
            prop_assert_eq!(f.parsed + f.rejected + f.skipped, lines.len() as u64);
        }
    }
}

/// The frame's text columns are views into the input chunks (and, for unescaped values, into
/// a side buffer): across several chunks, every value must equal what the parser returns for
/// that line on its own, NULLs included.
#[test]
fn frame_text_columns_equal_the_parser_fields_across_chunks() {
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
    let mut enricher = Enricher::new(None, ClientResolver::default());
    let mut file = combined_file();
    let mut start = 0u64;
    for lines in chunks {
        let data: Vec<u8> = lines
            .iter()
            .flat_map(|l| format!("{l}\n").into_bytes())
            .collect();
        let n = data.len() as u64;
        builder.push_chunk(chunk(data, start), &mut file, &mut enricher);
        start += n;
    }
    let batch = builder.finish(0);
    let mut parser = Format::compile("combined").unwrap().parser(None);
    let parsed: Vec<(&str, super::LogLine<'_>)> = chunks
        .iter()
        .flat_map(|c| c.iter())
        .filter_map(|l| match parser.parse(l.as_bytes()) {
            Parsed::Row(p) => Some((*l, p)),
            _ => None,
        })
        .collect();
    assert_eq!(batch.logs.height(), parsed.len());
    let column = |name: &str| -> Vec<Option<String>> {
        let c = batch.logs.column(name).unwrap().str().unwrap().clone();
        c.iter().map(|v| v.map(str::to_string)).collect()
    };
    let cow = |v: &Option<Cow<'_, str>>| v.as_deref().map(str::to_string);
    type Field = for<'a, 'b> fn(&'a super::LogLine<'b>) -> &'a Option<Cow<'b, str>>;
    let fields: [(&str, Field); 9] = [
        ("remote_addr", |p| &p.remote_addr),
        ("client_addr", |p| &p.remote_addr),
        ("remote_user", |p| &p.remote_user),
        ("request_method", |p| &p.request_method),
        ("request_path", |p| &p.request_path),
        ("request_protocol", |p| &p.request_protocol),
        ("http_referer", |p| &p.http_referer),
        ("http_user_agent", |p| &p.http_user_agent),
        ("x_forwarded_for", |p| &p.x_forwarded_for),
    ];
    for (name, field) in fields {
        let want: Vec<Option<String>> = parsed.iter().map(|(_, p)| cow(field(p))).collect();
        assert_eq!(column(name), want, "{name}");
    }
    let raw: Vec<Option<String>> = parsed.iter().map(|(l, _)| Some(l.to_string())).collect();
    assert_eq!(column("raw_log"), raw);
    assert!(
        column("source_file")
            .iter()
            .all(|f| f.as_deref() == Some("some/longer/file/name.log"))
    );
    assert!(column("host").iter().all(|h| h.as_deref() == Some("web-1")));
    // The escaped values really were unescaped (so they came from the side buffer).
    let paths = column("request_path");
    assert_eq!(paths[1].as_deref(), Some(r#"/q?x="quoted"&y=long-enough"#));
    assert_eq!(batch.rejects.height(), 1);
}
