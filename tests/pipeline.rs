//! End to end: real log files, the real binary, a real DuckDB file in a temp folder; results
//! checked against counts computed here from the files themselves.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::OpenOptions;
use std::io::Write;

use common::*;

fn generate(env: &Env, args: &[&str]) {
    let mut all = vec!["generate", "--dir", "logs", "--seed", "7"];
    if !args.contains(&"--rate") {
        all.extend(["--rate", "0.02"]);
    }
    all.extend_from_slice(args);
    let out = env.weblog(&all);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every complete line currently in the demo files.
fn lines_on_disk(env: &Env) -> BTreeSet<String> {
    ["log_a.txt", "log_b.txt"]
        .iter()
        .flat_map(|f| complete_lines(&env.logs().join(f)))
        .collect()
}

#[test]
fn generated_logs_through_rotations_are_stored_exactly_once() {
    let env = Env::new();
    // 250 lines, rotating every 100: a holds 1–100, b 101–200, then a is truncated for 201–250.
    generate(
        &env,
        &["--lines", "250", "--start", "2026-11-20T21:30:00+01:00"],
    );
    let mut expected = lines_on_disk(&env);
    assert_eq!(
        expected.len(),
        150,
        "log_a 50 lines + log_b 100 lines on disk"
    );

    let first = env.run(&[]);
    assert_eq!(num(&first, "lines_read"), 150);
    assert_eq!(num(&first, "inserted") as usize, expected.len());
    let stored: BTreeSet<String> = env.stored_lines().into_iter().collect();
    assert_eq!(stored, expected);
    let csv = env.read_out("daily_visitors.csv");
    assert_eq!(daily_visitors_csv(&csv), daily_visitors(&expected));
    // 0.02 req/s for 150 lines spans days: the test is only meaningful if it does.
    assert!(daily_visitors(&expected).len() >= 2);

    // Nothing new: nothing read, nothing inserted, outputs identical.
    let parquet_before = std::fs::read(env.path("out/daily_visitors.parquet")).unwrap();
    let again = env.run(&[]);
    assert_eq!(num(&again, "lines_read"), 0);
    assert_eq!(num(&again, "inserted"), 0);
    assert_eq!(env.read_out("daily_visitors.csv"), csv);
    assert_eq!(
        std::fs::read(env.path("out/daily_visitors.parquet")).unwrap(),
        parquet_before
    );

    // 120 more: a grows to 100, then b is truncated in place and gets 70 new lines.
    generate(&env, &["--lines", "120"]);
    let now = lines_on_disk(&env);
    assert_eq!(now.len(), 170);
    let new: BTreeSet<String> = now.difference(&expected).cloned().collect();
    assert_eq!(new.len(), 120, "every new line is still on disk");
    let third = env.run(&[]);
    assert_eq!(num(&third, "inserted"), 120);
    let b = third["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("log_b.txt"))
        .unwrap();
    assert_ne!(
        b["start"], "continue",
        "truncated log_b is read from the start: {b}"
    );
    assert_eq!(b["start_offset"], 0);
    expected.extend(new);
    env.assert_stored_exactly(&expected);
}

#[test]
fn apache_sample_distinct_lines_and_daily_visitors() {
    let env = Env::new();
    std::fs::copy(fixture("apache_logs"), env.logs().join("access.log")).unwrap();
    let summary = env.run(&[]);
    assert_eq!(num(&summary, "lines_read"), 10_000);
    assert_eq!(num(&summary, "inserted"), 9_981);
    assert_eq!(num(&summary, "duplicates"), 19);
    assert_eq!(num(&summary, "rejected"), 0);

    let all: Vec<String> = complete_lines(&fixture("apache_logs"));
    let distinct: BTreeSet<String> = all.iter().cloned().collect();
    assert_eq!(distinct.len(), 9_981);
    let stored: BTreeSet<String> = env.stored_lines().into_iter().collect();
    assert_eq!(stored, distinct);
    let want = daily_visitors(&distinct);
    assert_eq!(want.len(), 4, "17–20 May 2015");
    assert_eq!(
        daily_visitors_csv(&env.read_out("daily_visitors.csv")),
        want
    );

    // The same sample in another file that starts differently (so it is not taken for a
    // copy): read whole, and every sample line is a duplicate across runs.
    let mut other = format!("{L1}\n").into_bytes();
    other.extend(std::fs::read(fixture("apache_logs")).unwrap());
    std::fs::write(env.logs().join("other.log"), other).unwrap();
    let second = env.run(&[]);
    assert_eq!(num(&second, "lines_read"), 10_001);
    assert_eq!(num(&second, "inserted"), 1);
    assert_eq!(num(&second, "duplicates"), 10_000);
    assert_eq!(env.count("SELECT count(*) FROM logs"), 9_982);
}

#[test]
fn small_batches_give_the_same_result() {
    let env = Env::new();
    // The real sample, then its first 200 lines again: those repeats are ~2.3 MB after their
    // first copies, nine batches of 256 KiB away, so only the anti-join against stored rows
    // (not the in-batch dedupe) can catch them.
    let sample = complete_lines(&fixture("apache_logs"));
    let mut lines = sample.clone();
    lines.extend(sample[..200].iter().cloned());
    common::append(&env.logs().join("access.log"), &lines);
    let summary = env.run(&["--batch-bytes", "262144"]);
    assert!(num(&summary, "batches") >= 8, "{summary}");
    let distinct: BTreeSet<String> = lines.iter().cloned().collect();
    assert_eq!(num(&summary, "inserted") as usize, distinct.len());
    assert_eq!(
        num(&summary, "duplicates") as usize,
        lines.len() - distinct.len()
    );
    assert!(
        lines.len() - distinct.len() >= 200,
        "the repeats are duplicates"
    );
    assert_eq!(
        env.stored_lines().into_iter().collect::<BTreeSet<_>>(),
        distinct
    );
    // Each repeated line is stored once, at its first offset: nothing from the tail.
    let tail_starts: usize = sample.iter().map(|l| l.len() + 1).sum();
    let late_copies = env.count(&format!(
        "SELECT count(*) FROM logs WHERE source_offset >= {tail_starts}"
    ));
    assert_eq!(
        late_copies, 0,
        "a repeat far from its first copy was stored again"
    );
}

const L1: &str = r#"10.0.0.1 - - [01/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 100 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0""#;
const L2: &str =
    r#"10.0.0.2 - - [01/Nov/2026:10:00:01 +0000] "GET /a HTTP/1.1" 200 200 "-" "curl/8.0""#;
const L3: &str =
    r#"10.0.0.3 - - [02/Nov/2026:11:00:00 +0000] "GET /b HTTP/1.1" 404 0 "-" "curl/8.0""#;

#[test]
fn duplicates_within_a_batch_and_across_runs_are_skipped_and_counted() {
    let env = Env::new();
    let log = env.logs().join("access.log");
    std::fs::write(&log, format!("{L1}\n{L2}\n{L1}\n{L1}\n")).unwrap();
    let first = env.run(&[]);
    assert_eq!(num(&first, "inserted"), 2);
    assert_eq!(num(&first, "duplicates"), 2);
    append(&log, &format!("{L2}\n{L3}\n"));
    let second = env.run(&[]);
    assert_eq!(num(&second, "lines_read"), 2);
    assert_eq!(num(&second, "inserted"), 1);
    assert_eq!(num(&second, "duplicates"), 1);
    assert_eq!(env.stored_lines(), vec![L1, L2, L3]);
    // The stored copy of a duplicated line is its first occurrence.
    assert_eq!(
        env.count(&format!(
            "SELECT source_offset FROM logs WHERE raw_log = '{}'",
            L1.replace('\'', "''")
        )),
        0
    );
}

#[test]
fn partial_last_line_is_ingested_once_completed() {
    let env = Env::new();
    let log = env.logs().join("access.log");
    let (head, tail) = L3.split_at(40);
    std::fs::write(&log, format!("{L1}\n{L2}\n{head}")).unwrap();
    let first = env.run(&[]);
    assert_eq!(num(&first, "inserted"), 2);
    assert_eq!(num(&first, "rejected"), 0);
    append(&log, &format!("{tail}\n"));
    let second = env.run(&[]);
    assert_eq!(num(&second, "inserted"), 1);
    assert_eq!(num(&second, "rejected"), 0);
    assert_eq!(env.stored_lines(), vec![L1, L2, L3]);
    let offset = env.count("SELECT source_offset FROM logs WHERE remote_addr = '10.0.0.3'");
    assert_eq!(offset as usize, L1.len() + 1 + L2.len() + 1);
}

#[test]
fn malformed_lines_go_to_rejects_with_file_offset_and_reason() {
    let env = Env::new();
    let log = env.logs().join("access.log");
    let bad: Vec<&[u8]> = vec![
        b"this is not a log line",
        b"10.0.0.9 - - [99/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"",
        b"10.0.0.9 - - [01/Nov/2026:10:00:00 +0000] \"GET /\xff\xfe HTTP/1.1\" 200 1 \"-\" \"-\"",
    ];
    let mut data = Vec::new();
    let mut offsets = Vec::new();
    for (good, bad) in [L1, L2, L3].iter().zip(&bad) {
        data.extend_from_slice(good.as_bytes());
        data.extend_from_slice(b"\r\n"); // CRLF endings too
        offsets.push(data.len() as i64);
        data.extend_from_slice(bad);
        data.push(b'\n');
    }
    std::fs::write(&log, &data).unwrap();
    let summary = env.run(&[]);
    assert_eq!(num(&summary, "inserted"), 3);
    assert_eq!(num(&summary, "rejected"), 3);
    assert_eq!(env.stored_lines(), vec![L1, L2, L3]);

    let conn = env.db();
    let mut stmt = conn
        .prepare("SELECT source_file, source_offset, raw_line, reason FROM rejects ORDER BY source_offset")
        .unwrap();
    let rows: Vec<(String, i64, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 3);
    for (i, (file, offset, raw, reason)) in rows.iter().enumerate() {
        assert!(file.ends_with("access.log"));
        assert_eq!(*offset, offsets[i]);
        assert_eq!(*raw, String::from_utf8_lossy(bad[i]));
        assert!(!reason.is_empty());
    }
    // The reason names the format (recognised from the good lines) and the field.
    assert!(rows[0].3.starts_with("combined: expected"), "{}", rows[0].3);
    assert!(
        rows[1].3.starts_with("combined: ") && rows[1].3.contains("$time_local"),
        "{}",
        rows[1].3
    );
    // Not UTF-8: the format, the field and the byte where the text breaks (\xff at 48).
    assert_eq!(
        rows[2].3,
        "combined: invalid UTF-8 in request_path at byte 48"
    );
}

#[test]
fn article_browser_families_hand_checked() {
    let env = Env::new();
    let agents = [
        // (agent, family by hand)
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
            "Chrome",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 Edg/142.0.0.0",
            "Edge",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Safari/537.36 OPR/124.0.0.0",
            "Opera",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1",
            "Safari",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0",
            "Firefox",
        ),
        (
            "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)",
            "MSIE",
        ),
        (
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Other",
        ),
        ("-", "Other"),
    ];
    let mut text = String::new();
    for (i, (agent, _)) in agents.iter().enumerate() {
        // Chrome twice from two addresses, to check requests vs visitors.
        let n = if i == 0 { 3 } else { 1 };
        for k in 0..n {
            text.push_str(&format!(
                "10.1.{i}.{} - - [01/Nov/2026:10:00:0{k} +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"{agent}\"\n",
                k % 2
            ));
        }
    }
    std::fs::write(env.logs().join("access.log"), text).unwrap();
    env.run(&[]);
    let csv = env.read_out("browser_counts_simple.csv");
    let rows: BTreeSet<&str> = csv.lines().skip(1).collect();
    let want: BTreeSet<&str> = [
        "Chrome,3,2",
        "Edge,1,1",
        "Opera,1,1",
        "Safari,1,1",
        "Firefox,1,1",
        "MSIE,1,1",
        "Other,2,2",
    ]
    .into_iter()
    .collect();
    assert_eq!(rows, want, "{csv}");
    assert_eq!(
        csv.lines().nth(1),
        Some("Chrome,3,2"),
        "ordered by requests"
    );
}

#[test]
fn outputs_are_parquet_with_typed_columns() {
    let env = Env::new();
    std::fs::copy(fixture("apache_logs"), env.logs().join("access.log")).unwrap();
    env.run(&[]);
    // Read back by another Parquet reader than the writer's session (a fresh in-memory DuckDB).
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let file = env.path("out/daily_visitors.parquet").display().to_string();
    let types: Vec<(String, String)> = conn
        .prepare(&format!(
            "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{file}'))"
        ))
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let type_of = |c: &str| types.iter().find(|(n, _)| n == c).map(|(_, t)| t.as_str());
    assert_eq!(type_of("day"), Some("DATE"));
    assert_eq!(type_of("unique_visitors"), Some("BIGINT"));
    let visitors: Vec<i64> = conn
        .prepare(&format!(
            "SELECT unique_visitors FROM read_parquet('{file}') ORDER BY day"
        ))
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let csv = daily_visitors_csv(&env.read_out("daily_visitors.csv"));
    let from_csv: Vec<i64> = csv.values().map(|v| v.0 as i64).collect();
    assert_eq!(visitors.len(), 4);
    assert_eq!(visitors, from_csv);
}

#[test]
fn built_in_sql_is_used_when_the_sql_folder_is_missing() {
    let env = Env::new();
    std::fs::write(env.logs().join("access.log"), format!("{L1}\n{L2}\n")).unwrap();
    let missing = env.path("no-such-folder").display().to_string();
    let out = env.run_replacing("--sql", Some(&missing));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in ["daily_visitors", "browser_counts"] {
        assert!(env.path(&format!("out/{name}.parquet")).exists(), "{name}");
        assert!(env.path(&format!("out/{name}.csv")).exists(), "{name}");
    }
}

#[test]
fn new_sql_file_makes_a_new_output() {
    let env = Env::new();
    std::fs::write(env.logs().join("access.log"), format!("{L1}\n{L2}\n{L3}\n")).unwrap();
    let sql = env.path("sql");
    std::fs::create_dir_all(&sql).unwrap();
    std::fs::write(
        sql.join("status_404.sql"),
        "-- 404s per path\nSELECT request_path, count(*) AS hits FROM logs WHERE status = 404 GROUP BY ALL;\n",
    )
    .unwrap();
    let out = env.run_replacing("--sql", Some(&sql.display().to_string()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(env.read_out("status_404.csv"), "request_path,hits\n/b,1\n");
}

#[test]
fn human_summary_prints_tables() {
    let env = Env::new();
    std::fs::write(env.logs().join("access.log"), format!("{L1}\n{L2}\n{L3}\n")).unwrap();
    let out = env.run_replacing("--json", None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("3 lines"), "{text}");
    assert!(text.contains("3 inserted"), "{text}");
    assert!(text.contains("Daily visitors"), "{text}");
    assert!(
        text.contains("2026-11-01") && text.contains("2026-11-02"),
        "{text}"
    );
    assert!(
        text.contains("Browsers") && text.contains("Firefox"),
        "{text}"
    );
}

fn append(path: &std::path::Path, text: &str) {
    let mut f = OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

#[test]
fn generator_is_deterministic_rotates_and_looks_real() {
    let a = Env::new();
    let b = Env::new();
    for env in [&a, &b] {
        generate(
            env,
            &[
                "--lines",
                "1500",
                "--rotate-every",
                "1000",
                "--start",
                "2026-11-01T00:00:00Z",
                "--rate",
                "1",
            ],
        );
    }
    for f in ["log_a.txt", "log_b.txt"] {
        assert_eq!(
            std::fs::read(a.logs().join(f)).unwrap(),
            std::fs::read(b.logs().join(f)).unwrap(),
            "same seed and start, same {f}"
        );
    }
    let la = complete_lines(&a.logs().join("log_a.txt"));
    let lb = complete_lines(&a.logs().join("log_b.txt"));
    assert_eq!((la.len(), lb.len()), (1000, 500));
    let all: Vec<&String> = la.iter().chain(&lb).collect();
    let ips: BTreeSet<&str> = all.iter().map(|l| l.split(' ').next().unwrap()).collect();
    assert!(
        ips.len() > 100 && ips.len() < 1000,
        "returning visitors: {}",
        ips.len()
    );
    assert!(ips.iter().any(|ip| ip.contains(':')), "some IPv6");
    for needle in [
        "Googlebot",
        "bingbot",
        "Firefox/",
        "Edg/",
        "OPR/",
        "Version/26",
        "\" 404 ",
        "\" 304 0 ",
    ] {
        assert!(all.iter().any(|l| l.contains(needle)), "{needle}");
    }
    // Timestamps advance at ~1/s with a few lines out of order.
    let stamp = |l: &str| {
        let i = l.find('[').unwrap();
        l[i + 1..i + 21].to_string() // same day: the text orders like the time
    };
    let out_of_order = all.windows(2).filter(|w| stamp(w[1]) < stamp(w[0])).count();
    assert!(out_of_order > 0 && out_of_order < 150, "{out_of_order}");

    // Continuing: the next lines go to log_b, and a different seed gives different logs.
    generate(&a, &["--lines", "600", "--rotate-every", "1000"]);
    assert_eq!(complete_lines(&a.logs().join("log_b.txt")).len(), 1000);
    assert_eq!(
        complete_lines(&a.logs().join("log_a.txt")).len(),
        100,
        "a truncated on the switch"
    );
}

#[test]
fn batches_larger_than_a_row_group_are_stored_whole() {
    // DuckDB writes large appends straight to row groups (122,880 rows): a path that once
    // lost whole batches here. 300k lines in one file make batches well past that size.
    let env = Env::new();
    generate(
        &env,
        &[
            "--lines",
            "300000",
            "--rotate-every",
            "300000",
            "--rate",
            "20",
            "--start",
            "2026-11-01T00:00:00Z",
        ],
    );
    let lines = complete_lines(&env.logs().join("log_a.txt"));
    assert_eq!(lines.len(), 300_000);
    let distinct: BTreeSet<String> = lines.into_iter().collect();
    let summary = env.run(&[]);
    assert_eq!(num(&summary, "inserted") as usize, distinct.len());
    assert_eq!(
        num(&summary, "duplicates") as usize,
        300_000 - distinct.len()
    );
    env.assert_stored_exactly(&distinct);
}

#[test]
fn many_rejects_in_one_batch_are_all_kept() {
    let env = Env::new();
    let garbage: String = (0..200_000)
        .map(|i| format!("garbage line {i}\n"))
        .collect();
    std::fs::write(env.logs().join("junk.log"), garbage).unwrap();
    // Named, so that the file is read although no format fits it (`auto` would refuse it).
    // Every line a reject: stored all the same, and the run says so (exit 65).
    let mut args = env.run_args();
    args.extend(["--format".to_string(), "combined".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.weblog(&args);
    assert_eq!(out.status.code(), Some(65));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(num(&summary, "rejected"), 200_000);
    assert_eq!(num(&summary, "inserted"), 0);
    assert_eq!(
        env.count("SELECT count(DISTINCT source_offset) FROM rejects"),
        200_000
    );
}

#[test]
fn a_run_with_nothing_new_leaves_outputs_alone_until_something_changes() {
    let env = Env::new();
    let log = env.logs().join("access.log");
    std::fs::write(&log, format!("{L1}\n{L3}\n")).unwrap();
    let first = env.run(&[]);
    assert!(all_rewritten(&first), "{first}");
    let csv = env.path("out/daily_visitors.csv");
    // Outputs are replaced by a rename, so a rewrite is a new inode (exact, unlike mtimes).
    let inode = || std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&csv).unwrap());
    let written_as = inode();

    // Nothing new: every output reported as it was, no file rewritten.
    let again = env.run(&[]);
    for (a, b) in again["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .zip(first["outputs"].as_array().unwrap())
    {
        assert_eq!(a["unchanged"], true, "{a}");
        assert_eq!(a["rows"], b["rows"], "{a}");
    }
    assert_eq!(inode(), written_as, "daily_visitors.csv was rewritten");

    // A different filter, a deleted file, or new rows: written again, and correct.
    let filtered = env.run(&["--from", "2026-11-02"]);
    assert!(all_rewritten(&filtered), "{filtered}");
    assert_eq!(csv_rows(&env.read_out("daily_visitors.csv")).len(), 1);
    env.run(&[]);
    std::fs::remove_file(&csv).unwrap();
    let recreated = env.run(&[]);
    let daily = recreated["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "daily_visitors")
        .unwrap();
    assert_eq!(daily["unchanged"], false);
    assert_eq!(csv_rows(&env.read_out("daily_visitors.csv")).len(), 2);
    append(&log, &format!("{L2}\n"));
    let grown = env.run(&[]);
    assert!(all_rewritten(&grown), "{grown}");
    let requests: i64 = csv_rows(&env.read_out("daily_visitors.csv"))
        .iter()
        .map(|r| r["requests"].parse::<i64>().unwrap())
        .sum();
    assert_eq!(requests, 3);
}

/// Every output of a run summary was written anew (none left as it was).
fn all_rewritten(summary: &serde_json::Value) -> bool {
    summary["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["unchanged"] == false)
}

#[test]
fn a_bad_memory_limit_is_refused_and_a_small_one_still_runs() {
    let env = Env::new();
    std::fs::write(env.logs().join("access.log"), format!("{L1}\n{L2}\n{L3}\n")).unwrap();
    // That DuckDB honours the limit is measured by `make bench` (peak RSS), not asserted here.
    let small = env.run(&["--memory-limit", "64MB"]);
    assert_eq!(small["inserted"], 3);

    let mut args = env.run_args();
    args.extend(["--memory-limit".into(), "lots".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.weblog(&args);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a usage error, before anything is opened"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--memory-limit") && stderr.lines().count() == 1,
        "{stderr}"
    );
    assert_eq!(env.stored_lines().len(), 3);
}

/// A batch whose time span overlaps stored rows only in part: rows outside the stored span
/// go straight in, rows inside it are checked against what is stored, line by line.
#[test]
fn a_batch_partly_inside_the_stored_time_span_is_deduplicated_exactly() {
    let env = Env::new();
    let at = |t: &str, path: &str| {
        format!(
            r#"10.0.0.9 - - [01/Nov/2026:{t} +0000] "GET {path} HTTP/1.1" 200 5 "-" "curl/8.0""#
        )
    };
    let stored = [
        at("10:00:00", "/a"),
        at("10:00:05", "/b"),
        at("10:00:09", "/c"),
    ];
    std::fs::write(env.logs().join("first.log"), stored.join("\n") + "\n").unwrap();
    assert_eq!(env.run(&[])["inserted"], 3);

    let second = [
        at("09:59:59", "/before"), // before the stored span: new
        at("10:00:00", "/a"),      // first second of the stored span, stored: duplicate
        at("10:00:05", "/b"),      // inside, stored already: duplicate
        at("10:00:05", "/b2"),     // inside, same second, other line: new
        at("10:00:09", "/c"),      // inside, stored already: duplicate
        at("10:00:10", "/after"),  // after the stored span: new
        at("10:00:10", "/after"),  // repeated within the batch: duplicate
    ];
    std::fs::write(env.logs().join("second.log"), second.join("\n") + "\n").unwrap();
    let summary = env.run(&[]);
    assert_eq!(summary["inserted"], 3, "{summary}");
    assert_eq!(summary["duplicates"], 4, "{summary}");
    let expected: BTreeSet<String> = stored.iter().chain(second.iter()).cloned().collect();
    let got: BTreeSet<String> = env.stored_lines().into_iter().collect();
    assert_eq!(got, expected);
    assert_eq!(env.stored_lines().len(), expected.len());
}

#[test]
fn two_warehouses_with_one_host_name_never_overwrite_each_others_lake_files() {
    // Two containers both called web-1, each with its own warehouse, feeding one lake.
    let lake = tempfile::tempdir().unwrap();
    let lake_dir = lake.path().display().to_string();
    let mut expected = 0;
    for (i, first) in [(0usize, 0usize), (1, 1000)] {
        let env = Env::new();
        let lines: Vec<String> = complete_lines(&fixture("apache_logs"))
            .into_iter()
            .skip(first)
            .take(200 + i * 50)
            .collect();
        common::append(&env.logs().join("access.log"), &lines);
        let distinct: std::collections::BTreeSet<&String> = lines.iter().collect();
        let s = env.run(&["--lake", &lake_dir, "--host", "web-1"]);
        assert_eq!(num(&s, "inserted") as usize, distinct.len());
        expected += distinct.len() as i64;
        // Both number their first batch 1: only the warehouse id tells their files apart.
        let seqs = env.count("SELECT count(*) FROM batches WHERE seq = 1");
        assert_eq!(seqs, 1);
    }
    let db = duckdb::Connection::open_in_memory().unwrap();
    let rows: i64 = db
        .query_row(
            &format!(
                "SELECT count(*) FROM read_parquet('{lake_dir}/logs/*/*/*.parquet', hive_partitioning = true)"
            ),
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        rows, expected,
        "every row of both warehouses is in the lake once"
    );
}

#[test]
fn a_clock_stepped_back_between_runs_still_stamps_each_batch_later_than_the_last() {
    // A batch's ingested_at tells when its rows arrived (a run's rejects are those within
    // it): an NTP step back between two runs must not give a batch a time before another's.
    let env = Env::new();
    let lake = env.path("lake").display().to_string();
    let lines = complete_lines(&fixture("apache_logs"));
    common::append(&env.logs().join("access.log"), &lines[..300]);
    env.run(&["--lake", &lake]);
    common::append(&env.logs().join("access.log"), &lines[300..600]);
    let mut args = env.run_args();
    args.extend(["--lake".to_string(), lake.clone()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.weblog_env(&args, &[("WEBLOG_FAILPOINT", "clock:-3600")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        env.count(
            "SELECT count(*) FROM (SELECT ingested_at <= lag(ingested_at) OVER (ORDER BY seq) AS back
             FROM batches) WHERE back"
        ),
        0,
        "every batch later than the one before"
    );
    assert_eq!(env.count("SELECT count(*) FROM batches"), 2);
    assert_eq!(
        env.count("SELECT sum(rows) FROM batches"),
        env.count("SELECT count(*) FROM logs")
    );
    let db = duckdb::Connection::open_in_memory().unwrap();
    let in_lake: i64 = db
        .query_row(
            &format!("SELECT count(*) FROM read_parquet('{lake}/logs/*/*/*.parquet')"),
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(in_lake, env.count("SELECT count(*) FROM logs"));
}

/// Every Parquet file under `lake` with its key-value metadata.
fn lake_files(lake: &str) -> Vec<(String, BTreeMap<String, String>)> {
    let db = duckdb::Connection::open_in_memory().unwrap();
    let mut stmt = db
        .prepare(&format!(
            "SELECT file_name, decode(key), decode(value) FROM parquet_kv_metadata('{lake}/logs/*/*/*.parquet')"
        ))
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .unwrap();
    let mut files: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for row in rows {
        let (file, k, v) = row.unwrap();
        files.entry(file).or_default().insert(k, v);
    }
    files.into_iter().collect()
}

fn lake_rows(lake: &str) -> i64 {
    let db = duckdb::Connection::open_in_memory().unwrap();
    db.query_row(
        &format!("SELECT count(*) FROM read_parquet('{lake}/logs/*/*/*.parquet')"),
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn each_batch_has_an_explicit_id_which_its_rows_and_lake_files_carry() {
    let env = Env::new();
    let lake = env.path("lake").display().to_string();
    let lines = complete_lines(&fixture("apache_logs"));
    common::append(&env.logs().join("access.log"), &lines[..3000]);
    env.run(&["--lake", &lake, "--batch-bytes", "65536"]);
    let batches = env.count("SELECT count(*) FROM batches");
    assert!(batches > 3, "{batches} batches");
    assert_eq!(
        env.count("SELECT count(*) FROM logs WHERE batch_id IS NULL"),
        0
    );
    // Each batch's rows are exactly the rows naming it.
    assert_eq!(
        env.count(
            "SELECT count(*) FROM (SELECT batch_id, count(*) AS n FROM logs GROUP BY ALL) l
             JOIN batches b ON b.seq = l.batch_id AND b.rows = l.n"
        ),
        batches
    );
    let id: String = env
        .db()
        .query_row(
            "SELECT value FROM weblog_meta WHERE key = 'warehouse_id'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let files = lake_files(&lake);
    assert!(!files.is_empty());
    for (file, meta) in &files {
        let name = file.rsplit('/').next().unwrap();
        assert_eq!(meta["weblog_warehouse_id"], id, "{file}");
        // A finished day's files are compacted into one naming its range of batches.
        let (lo, hi) = match meta.get("weblog_batch_id") {
            Some(batch) => (batch.clone(), batch.clone()),
            None => {
                let batches: Vec<&str> = meta["weblog_batches"].split(',').collect();
                (
                    batches[0].to_string(),
                    batches[batches.len() - 1].to_string(),
                )
            }
        };
        let expected = if lo == hi {
            format!("-{id}-{lo}.parquet")
        } else {
            format!("-{id}-c{lo}-{hi}.parquet")
        };
        assert!(
            name.ends_with(&expected),
            "{name} carries its warehouse and batches"
        );
    }
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(env.path("lake").join(format!("_weblog_writers/{id}.json")))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(record["exported_through"], batches);
}

#[test]
fn a_copied_warehouse_takes_a_new_id_and_neither_overwrites_the_others_lake_files() {
    let lake_dir = tempfile::tempdir().unwrap();
    let lake = lake_dir.path().display().to_string();
    let lines = complete_lines(&fixture("apache_logs"));
    let original = Env::new();
    common::append(&original.logs().join("access.log"), &lines[..300]);
    original.run(&["--lake", &lake, "--host", "web-1"]);
    // A second server set up from a copy of the first one's warehouse, same host name.
    let copy = Env::new();
    std::fs::copy(original.db_path(), copy.db_path()).unwrap();
    common::append(&copy.logs().join("access.log"), &lines[1000..1300]);
    let s = copy.run(&["--lake", &lake, "--host", "web-1"]);
    assert!(s["warnings"].to_string().contains("copied or moved"), "{s}");
    common::append(&original.logs().join("access.log"), &lines[300..500]);
    original.run(&["--lake", &lake, "--host", "web-1"]);
    // Both numbered their second batch 2, on the same days: only their ids keep them apart.
    let expected: BTreeSet<&String> = lines[..500].iter().chain(&lines[1000..1300]).collect();
    assert_eq!(lake_rows(&lake), expected.len() as i64);
    let ids: BTreeSet<String> = lake_files(&lake)
        .into_iter()
        .map(|(_, m)| m["weblog_warehouse_id"].clone())
        .collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
}

#[test]
fn a_warehouse_restored_from_a_backup_overwrites_no_lake_file() {
    let env = Env::new();
    let lake = env.path("lake").display().to_string();
    let lines = complete_lines(&fixture("apache_logs"));
    let log = env.logs().join("access.log");
    common::append(&log, &lines[..300]);
    env.run(&["--lake", &lake]);
    let backup = env.path("backup.duckdb");
    std::fs::copy(env.db_path(), &backup).unwrap();
    common::append(&log, &lines[300..600]);
    env.run(&["--lake", &lake]);
    let before = lake_files(&lake);
    let rows_before = lake_rows(&lake);
    std::fs::copy(&backup, env.db_path()).unwrap();
    common::append(&log, &lines[600..700]);
    let mut args = env.run_args();
    args.extend(["--lake".to_string(), lake.clone()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.weblog(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("never wrote"), "{stderr}");
    assert_eq!(lake_files(&lake), before, "no lake file changed");
    assert_eq!(lake_rows(&lake), rows_before);
    // Ingestion itself went on: the warehouse holds every line.
    let all: BTreeSet<String> = lines[..700].iter().cloned().collect();
    env.assert_stored_exactly(&all);
}
