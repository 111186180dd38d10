//! Logs in a legacy encoding: without `--encoding` a line that is not UTF-8 is a reject naming
//! the format, the field and the byte; with it the line is decoded and stored, UTF-8 lines of
//! the same file read as they are. Bytes below are written by hand from the encodings' tables.

mod common;

use std::collections::BTreeSet;

use common::*;

/// A combined line with `path` and `agent` as raw bytes.
fn line(n: u8, path: &[u8], agent: &[u8]) -> Vec<u8> {
    let mut l = format!("10.0.0.{n} - - [03/Dec/2026:06:00:{n:02} +0000] \"GET ").into_bytes();
    l.extend_from_slice(path);
    l.extend_from_slice(b" HTTP/1.1\" 200 5 \"-\" \"");
    l.extend_from_slice(agent);
    l.extend_from_slice(b"\"\n");
    l
}

fn lines() -> Vec<Vec<u8>> {
    vec![
        // UTF-8: ü is C3 BC.
        line(1, b"/a", b"B\xc3\xbccherwurm/1.0"),
        // Latin-1 / windows-1252: ü is FC.
        line(2, b"/b", b"B\xfccherwurm/1.0"),
        // windows-1252: 0x80 is the euro sign.
        line(3, b"/price/\x80", b"curl/8.5.0"),
    ]
}

fn write(env: &Env, lines: &[Vec<u8>]) {
    std::fs::write(env.logs().join("access.log"), lines.concat()).unwrap();
}

fn args(env: &Env, extra: &[&str]) -> Vec<String> {
    let mut a = env.run_args();
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

#[test]
fn without_an_encoding_legacy_lines_are_rejects_that_say_where() {
    let env = Env::new();
    let lines = lines();
    write(&env, &lines);
    let s = env.run(&[]);
    assert_eq!(num(&s, "inserted"), 1, "{s}");
    assert_eq!(num(&s, "rejected"), 2, "{s}");
    let at = |l: &[u8], b: u8| l.iter().position(|&x| x == b).unwrap();
    let reasons = env.reject_reasons();
    assert_eq!(
        reasons,
        vec![
            format!(
                "combined: invalid UTF-8 in http_user_agent at byte {}",
                at(&lines[1], 0xfc)
            ),
            format!(
                "combined: invalid UTF-8 in request_path at byte {}",
                at(&lines[2], 0x80)
            ),
        ]
    );
}

#[test]
fn with_an_encoding_every_line_is_stored_decoded_at_its_offset() {
    let env = Env::new();
    let lines = lines();
    write(&env, &lines);
    let a = args(&env, &["--encoding", "cp1252"]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let out = env.weblog(&a);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<(i64, String, String)> = {
        let conn = env.db();
        let mut stmt = conn
            .prepare("SELECT source_offset, request_path, http_user_agent FROM logs ORDER BY source_offset")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let second = lines[0].len() as i64;
    let third = second + lines[1].len() as i64;
    assert_eq!(
        rows,
        vec![
            (0, "/a".to_string(), "Bücherwurm/1.0".to_string()),
            (second, "/b".to_string(), "Bücherwurm/1.0".to_string()),
            (third, "/price/€".to_string(), "curl/8.5.0".to_string()),
        ]
    );
    assert_eq!(env.count("SELECT count(*) FROM rejects"), 0);
    // Read on from the checkpoint: nothing again.
    let out = env.weblog(&a);
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(num(&s, "lines_read"), 0);
}

#[test]
fn a_big5_log_is_read_and_recognised() {
    // 中文 in Big5 is A4 A4 A4 E5. Every line is Big5: the format is recognised from the
    // decoded lines.
    let env = Env::new();
    let lines: Vec<Vec<u8>> = (1..=5)
        .map(|n| line(n, b"/\xa4\xa4\xa4\xe5", b"agent"))
        .collect();
    write(&env, &lines);
    let s = env.run(&["--encoding", "big5"]);
    assert_eq!(num(&s, "inserted"), 5, "{s}");
    let paths: BTreeSet<String> = env
        .db()
        .prepare("SELECT DISTINCT request_path FROM logs")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(paths, BTreeSet::from(["/中文".to_string()]));
}

#[test]
fn an_encoding_that_cannot_be_read_by_lines_is_a_usage_error() {
    let env = Env::new();
    write(&env, &lines());
    for bad in ["utf-16", "no-such-encoding"] {
        let a = args(&env, &["--encoding", bad]);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let out = env.weblog(&a);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(!env.db_path().exists(), "nothing touched");
    }
}

#[test]
fn matomos_big5_sample_reads_to_the_path_its_test_expects() {
    let env = Env::new();
    std::fs::copy(
        fixture("common_encoding_big5.log"),
        env.logs().join("access.log"),
    )
    .unwrap();
    let s = env.run(&[
        "--encoding",
        "big5",
        "--format",
        r#"%v %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i""#,
    ]);
    assert_eq!(num(&s, "inserted"), 1, "{s}");
    let (path, user, vhost): (String, String, String) = env
        .db()
        .query_row(
            "SELECT request_path, remote_user, vhost FROM logs",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (path.as_str(), user.as_str(), vhost.as_str()),
        ("/為其兼行惡道", "theuser", "www.example.com")
    );
}
