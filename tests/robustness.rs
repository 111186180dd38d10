//! No line can stop ingestion: edge-of-range lines are rows or rejects (never a failed run),
//! rows the database refuses are set aside and the rest committed, and arbitrary or mutated
//! lines pushed through real runs into a real DuckDB file always end as exactly one row or
//! one reject per distinct complete line.

mod common;

use std::collections::BTreeSet;
use std::io::Write;

use common::*;
use weblog::generate::Rng;

fn line(time: &str, request: &str, status: &str, bytes: &str, agent: &str) -> String {
    format!(r#"203.0.113.9 - - [{time}] "{request}" {status} {bytes} "-" "{agent}""#)
}

fn append_bytes(path: &std::path::Path, data: &[u8]) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(data).unwrap();
}

/// A run in which the database refuses every row whose line holds `POISON`; its summary.
fn run_poisoned(env: &Env, args: &[String]) -> serde_json::Value {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.weblog_env(&args, &[("WEBLOG_FAILPOINT", "poison:POISON")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Microseconds since the epoch of a UTC civil time (the test's own arithmetic).
fn utc_us(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64, us: i64) -> i64 {
    // Days from civil (H. Hinnant), written out here independently of the crate.
    let y = if mo <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    ((days * 86_400 + h * 3600 + mi * 60 + s) * 1_000_000) + us
}

/// A row's UTC instant (µs), day as written and body bytes.
type Stored = (i64, &'static str, Option<i64>);

#[test]
fn edge_of_range_lines_are_rows_or_rejects_in_every_run() {
    let get = "GET / HTTP/1.1";
    // (line, Some((UTC µs, day as written, bytes)) for a row, None for a reject)
    let cases: Vec<(String, Option<Stored>)> = vec![
        // The report: its UTC instant is in year 10000.
        (
            line("31/Dec/9999:23:00:00 -1400", get, "200", "5", "x"),
            None,
        ),
        (
            line("31/Dec/9999:10:00:00 -1400", get, "200", "5", "x"),
            None,
        ),
        (
            line("31/Dec/9999:23:59:59 +1400", get, "200", "5", "x"),
            Some((utc_us(9999, 12, 31, 9, 59, 59, 0), "9999-12-31", Some(5))),
        ),
        // Year 1 at +14:00 is still year 0 in UTC until 14:00 local.
        (
            line("01/Jan/0001:00:00:00 +1400", get, "200", "5", "x"),
            None,
        ),
        (
            line("01/Jan/0001:23:59:59 +1400", get, "200", "5", "x"),
            Some((utc_us(1, 1, 1, 9, 59, 59, 0), "0001-01-01", Some(5))),
        ),
        (
            line("30/Feb/2024:10:00:00 +0000", get, "200", "5", "x"),
            None,
        ),
        (
            line("29/Feb/2023:10:00:00 +0000", get, "200", "5", "x"),
            None,
        ),
        // A leap second is the next minute's first second.
        (
            line("31/Dec/2016:23:59:60 +0000", get, "200", "5", "x"),
            Some((utc_us(2017, 1, 1, 0, 0, 0, 0), "2016-12-31", Some(5))),
        ),
        (
            line("10/Oct/2000:13:55:36 +9999", get, "200", "5", "x"),
            None,
        ),
        (
            line("10/Oct/2000:13:55:36 +2400", get, "200", "5", "x"),
            None,
        ),
        (
            line("10/Oct/2000:13:55:36.123456 -0700", get, "200", "5", "x"),
            Some((
                utc_us(2000, 10, 10, 20, 55, 36, 123_456),
                "2000-10-10",
                Some(5),
            )),
        ),
        (
            line("10/Oct/2000:13:55:37.5 -0700", get, "200", "5", "x"),
            Some((
                utc_us(2000, 10, 10, 20, 55, 37, 500_000),
                "2000-10-10",
                Some(5),
            )),
        ),
        (
            line(
                "10/Oct/2000:13:55:38 -0700",
                get,
                "200",
                "9223372036854775807",
                "x",
            ),
            Some((
                utc_us(2000, 10, 10, 20, 55, 38, 0),
                "2000-10-10",
                Some(i64::MAX),
            )),
        ),
        (
            line(
                "10/Oct/2000:13:55:39 -0700",
                get,
                "200",
                "9223372036854775808",
                "x",
            ),
            None,
        ),
        (
            line(
                "10/Oct/2000:13:55:39 -0700",
                get,
                "200",
                "99999999999999999999999999",
                "x",
            ),
            None,
        ),
        (
            line("10/Oct/2000:13:55:40 -0700", get, "2147483648", "5", "x"),
            None,
        ),
        (
            line("10/Oct/2000:13:55:40 -0700", get, "99999999999", "5", "x"),
            None,
        ),
        (
            line("10/Oct/2000:13:55:40 -0700", get, "-1", "5", "x"),
            None,
        ),
        // SQL-looking text is only text.
        (
            line(
                "10/Oct/2000:13:55:41 -0700",
                "GET /'; DROP TABLE logs; -- HTTP/1.1",
                "200",
                "5",
                "Robert'); DROP TABLE students;--",
            ),
            Some((utc_us(2000, 10, 10, 20, 55, 41, 0), "2000-10-10", Some(5))),
        ),
        (
            line(
                "10/Oct/2000:13:55:42 -0700",
                "GET /a?q=1' OR '1'='1 HTTP/1.1",
                "200",
                "-",
                "x'\\\\'y",
            ),
            Some((utc_us(2000, 10, 10, 20, 55, 42, 0), "2000-10-10", None)),
        ),
    ];
    let env = Env::new();
    let log = env.logs().join("access.log");
    let mut good: BTreeSet<String> = BTreeSet::new();
    for round in 0..3 {
        // Every edge line again in each run, then one ordinary new line: it must get in.
        let mut lines: Vec<String> = cases.iter().map(|(l, _)| l.clone()).collect();
        let fresh = line(
            &format!("1{round}/Nov/2026:10:00:00 +0000"),
            "GET /next HTTP/1.1",
            "200",
            "1",
            "curl/8",
        );
        lines.push(fresh.clone());
        append(&log, &lines);
        good.insert(fresh.clone());
        let summary = env.run(&[]);
        assert_eq!(
            num(&summary, "lines_read") as usize,
            lines.len(),
            "run {round}"
        );
        assert_eq!(
            env.count(&format!(
                "SELECT count(*) FROM logs WHERE raw_log = '{}'",
                fresh.replace('\'', "''")
            )),
            1,
            "run {round}: the ordinary line after the edge lines was ingested"
        );
    }
    for (l, expected) in &cases {
        let quoted = l.replace('\'', "''");
        let rows = env.count(&format!(
            "SELECT count(*) FROM logs WHERE raw_log = '{quoted}'"
        ));
        let rejects = env.count(&format!(
            "SELECT count(*) FROM rejects WHERE raw_line = '{quoted}'"
        ));
        match expected {
            Some((us, day, bytes)) => {
                assert_eq!((rows, rejects), (1, 0), "a row: {l}");
                let (t, d, b): (i64, String, Option<i64>) = env
                    .db()
                    .query_row(
                        &format!("SELECT epoch_us(time_local), day::VARCHAR, body_bytes_sent FROM logs WHERE raw_log = '{quoted}'"),
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                    )
                    .unwrap();
                assert_eq!((t, d.as_str(), b), (*us, *day, *bytes), "{l}");
            }
            None => {
                assert_eq!(
                    (rows, rejects),
                    (0, 1),
                    "one reject, however often read: {l}"
                );
                let reason: String = env
                    .db()
                    .query_row(
                        &format!("SELECT reason FROM rejects WHERE raw_line = '{quoted}'"),
                        [],
                        |r| r.get(0),
                    )
                    .unwrap();
                assert!(!reason.is_empty(), "{l}");
            }
        }
    }
    let rows_expected = cases.iter().filter(|c| c.1.is_some()).count() + good.len();
    assert_eq!(
        env.count("SELECT count(*) FROM logs") as usize,
        rows_expected
    );
    assert_eq!(
        env.count("SELECT count(*) FROM rejects") as usize,
        cases.iter().filter(|c| c.1.is_none()).count()
    );
    // The outputs cover the far-off days too.
    let days = csv_rows(&env.read_out("daily_visitors.csv"));
    assert!(days.iter().any(|r| r["day"] == "0001-01-01"), "{days:?}");
    assert!(days.iter().any(|r| r["day"] == "9999-12-31"), "{days:?}");
}

#[test]
fn rows_the_database_refuses_are_set_aside_and_the_rest_is_committed() {
    let env = Env::new();
    let log = env.logs().join("access.log");
    let lines: Vec<String> = (0..40)
        .map(|i| {
            let path = if i % 13 == 5 {
                format!("/POISON/{i}")
            } else {
                format!("/page/{i}")
            };
            line(
                &format!("01/Nov/2026:10:00:{:02} +0000", i),
                &format!("GET {path} HTTP/1.1"),
                "200",
                "1",
                "curl/8",
            )
        })
        .collect();
    let poisoned: Vec<&String> = lines.iter().filter(|l| l.contains("POISON")).collect();
    assert_eq!(poisoned.len(), 3);
    append(&log, &lines);
    let mut args = env.run_args();
    // Small batches: the refused rows are in different transactions.
    args.extend(["--batch-bytes".into(), "65536".into()]);
    let summary = run_poisoned(&env, &args);
    assert_eq!(num(&summary, "inserted"), 37);
    assert_eq!(num(&summary, "rejected"), 3);
    assert_eq!(env.count("SELECT count(*) FROM logs"), 37);
    assert_eq!(
        env.count("SELECT count(*) FROM logs WHERE raw_log LIKE '%POISON%'"),
        0
    );
    let conn = env.db();
    let mut stmt = conn
        .prepare("SELECT raw_line, reason FROM rejects ORDER BY source_offset")
        .unwrap();
    let rejects: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rejects.iter().map(|r| &r.0).collect::<Vec<_>>(), poisoned);
    for (_, reason) in &rejects {
        assert!(
            reason.contains("refused") && reason.contains("NOT NULL"),
            "the database's own reason: {reason}"
        );
    }
    drop(stmt);
    drop(conn);
    // The checkpoint moved past them: the next run reads only what is new.
    append(
        &log,
        &[line(
            "02/Nov/2026:10:00:00 +0000",
            "GET /after HTTP/1.1",
            "200",
            "1",
            "curl/8",
        )],
    );
    let next = env.run(&[]);
    assert_eq!(num(&next, "lines_read"), 1);
    assert_eq!(num(&next, "inserted"), 1);
}

#[test]
fn a_refused_row_in_a_batch_overlapping_stored_rows_leaves_the_batch_recorded() {
    let env = Env::new();
    let log = env.logs().join("access.log");
    let at = |h: u32| format!("01/Nov/2026:{h:02}:00:00 +0000");
    // Stored first: 10:00 and 12:00, so the next batch overlaps the span 10:00–12:00.
    append(
        &log,
        &[
            line(&at(10), "GET /a HTTP/1.1", "200", "1", "c"),
            line(&at(12), "GET /b HTTP/1.1", "200", "1", "c"),
        ],
    );
    env.run(&[]);
    let batches_before = env.count("SELECT count(*) FROM batches");
    // Next batch: one row inside the span, one refused, two after it on a later day.
    append(
        &log,
        &[
            line(&at(11), "GET /c HTTP/1.1", "200", "1", "c"),
            line(&at(11), "GET /POISON HTTP/1.1", "200", "1", "c"),
            line(
                "02/Nov/2026:09:00:00 +0000",
                "GET /d HTTP/1.1",
                "200",
                "1",
                "c",
            ),
            line(
                "02/Nov/2026:09:30:00 +0000",
                "GET /e HTTP/1.1",
                "200",
                "1",
                "c",
            ),
        ],
    );
    let args = env.run_args();
    let summary = run_poisoned(&env, &args);
    assert_eq!(
        (num(&summary, "inserted"), num(&summary, "rejected")),
        (3, 1),
        "{summary}"
    );
    // The batch is recorded with its 3 rows (the lake exports it), and 2 Nov is in the outputs.
    assert_eq!(
        env.count("SELECT count(*) FROM batches"),
        batches_before + 1
    );
    assert_eq!(
        env.count("SELECT max(rows) FROM batches WHERE seq = (SELECT max(seq) FROM batches)"),
        3
    );
    let days = daily_visitors_csv(&env.read_out("daily_visitors.csv"));
    assert_eq!(days.get("2026-11-02").map(|d| d.1), Some(2), "{days:?}");
    assert_eq!(days.get("2026-11-01").map(|d| d.1), Some(3), "{days:?}");
}

/// A line as the fuzzer makes it: a real line mutated, an edge shape, or bytes.
fn fuzz_line(rng: &mut Rng, real: &[String]) -> Vec<u8> {
    let base = real[rng.below(real.len() as u64) as usize]
        .as_bytes()
        .to_vec();
    match rng.below(10) {
        0..=3 => base,
        4..=6 => {
            let mut l = base;
            for _ in 0..1 + rng.below(6) {
                let at = rng.below(l.len() as u64 + 1) as usize;
                let byte = match rng.below(6) {
                    0 => b'"',
                    1 => b'[',
                    2 => b'\\',
                    3 => 0xC3,
                    4 => 0,
                    _ => rng.below(256) as u8,
                };
                match rng.below(3) {
                    0 if at < l.len() => l[at] = byte,
                    1 if at < l.len() => {
                        l.remove(at);
                    }
                    _ => l.insert(at, byte),
                }
            }
            l.retain(|&b| b != b'\n');
            l
        }
        7 => {
            let n = rng.below(300) as usize;
            (0..n)
                .map(|_| rng.below(256) as u8)
                .filter(|&b| b != b'\n')
                .collect()
        }
        8 => {
            let times = [
                "31/Dec/9999:23:00:00 -1400",
                "01/Jan/0001:00:00:00 +1400",
                "29/Feb/2024:23:59:60 +1400",
                "10/Oct/2000:13:55:36.999999 -0000",
            ];
            let t = times[rng.below(times.len() as u64) as usize];
            let bytes = [
                "0",
                "-",
                "9223372036854775807",
                "9223372036854775808",
                "18446744073709551616",
            ];
            let b = bytes[rng.below(bytes.len() as u64) as usize];
            line(t, "GET /edge HTTP/1.1", "200", b, "x").into_bytes()
        }
        _ => {
            // Shapes: empty, blanks, a lone CR, quotes only, a long line.
            let shapes: [&[u8]; 5] = [b"", b"   \t", b"\r", b"\"\"\"\"", b"- - - [] \"\" - -"];
            match rng.below(8) {
                7 => vec![b'a'; 70_000 + rng.below(10_000) as usize],
                i => shapes[i as usize % shapes.len()].to_vec(),
            }
        }
    }
}

#[test]
fn arbitrary_lines_through_real_runs_are_each_one_row_or_one_reject() {
    let seed: u64 = std::env::var("WEBLOG_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_261_201);
    let mut rng = Rng(seed);
    let real = complete_lines(&fixture("apache_logs"));
    let env = Env::new();
    let log = env.logs().join("access.log");
    // A real first line, so that the file's format is found from it.
    append(&log, &real[..1]);
    let mut written: Vec<Vec<u8>> = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    for run in 0..6 {
        let mut data = std::mem::take(&mut pending);
        for _ in 0..1_500 {
            // Some lines are repeats of earlier ones, as real logs have.
            let l = if !written.is_empty() && rng.below(8) == 0 {
                written[rng.below(written.len() as u64) as usize].clone()
            } else {
                fuzz_line(&mut rng, &real)
            };
            let crlf = rng.below(20) == 0;
            data.extend_from_slice(&l);
            data.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
            written.push(l);
        }
        // Often a partial last line, completed by the next run's first bytes.
        if rng.below(2) == 0 {
            pending = fuzz_line(&mut rng, &real);
            let cut = rng.below(pending.len() as u64 + 1) as usize;
            data.extend_from_slice(&pending[..cut]);
            pending.drain(..cut);
            // The rest (and its newline) is written at the start of the next run.
        }
        append_bytes(&log, &data);
        let out = env.weblog(
            &env.run_args()
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
        );
        assert!(
            out.status.success(),
            "seed {seed}, run {run}: exit {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        if !pending.is_empty() || data.last() != Some(&b'\n') {
            pending.push(b'\n');
        }
    }
    // The test's own reading of the file: every complete line, one trailing CR dropped.
    let bytes = std::fs::read(&log).unwrap();
    let end = bytes
        .iter()
        .rposition(|&b| b == b'\n')
        .expect("complete lines");
    let complete: BTreeSet<Vec<u8>> = bytes[..end]
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec())
        .collect();
    let rows = env.count("SELECT count(*) FROM logs");
    let rejects = env.count("SELECT count(*) FROM rejects");
    assert_eq!(
        (rows + rejects) as usize,
        complete.len(),
        "seed {seed}: {rows} rows + {rejects} rejects for {} distinct complete lines",
        complete.len()
    );
    // Every stored row is one of the lines, exactly.
    for stored in env.stored_lines() {
        assert!(
            complete.contains(stored.as_bytes()),
            "seed {seed}: stored a line never written: {stored:?}"
        );
    }
}
