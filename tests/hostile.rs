//! Hostile and broken input: stored or rejected and counted, never a crash; nothing weblog
//! writes can be turned against whoever reads it.

mod common;

use common::*;

fn entry(path: &str, referer: &str, agent: &str, n: u32) -> String {
    format!(
        "10.6.6.{n} - - [03/Nov/2026:10:00:{:02} +0000] \"GET {path} HTTP/1.1\" 404 0 \"{referer}\" \"{agent}\"",
        n % 60
    )
}

#[test]
fn csv_cells_that_look_like_formulas_are_neutralised_parquet_keeps_them() {
    let env = Env::new();
    let evil = [
        ("=HYPERLINK(\"http://x\")", "-", "curl/8.0"),
        ("+1+2", "http://@evil.example/", "curl/8.0"),
        ("-2+3", "-", "curl/8.0"),
        ("@SUM(A1)", "-", "curl/8.0"),
        (
            "/<script>alert(1)</script>",
            "\"><img src=x onerror=alert(1)>",
            "<b>agent</b>",
        ),
    ];
    let text: String = evil
        .iter()
        .enumerate()
        .map(|(i, (p, r, a))| {
            // As nginx writes them: quotes inside fields escaped.
            let esc = |s: &str| s.replace('"', "\\x22");
            entry(&esc(p), &esc(r), &esc(a), i as u32 + 1) + "\n"
        })
        .collect();
    std::fs::write(env.logs().join("access.log"), text).unwrap();
    let s = env.run(&[]);
    assert_eq!(num(&s, "inserted"), 5);
    let csv = env.read_out("not_found.csv");
    let paths: Vec<String> = csv_rows(&csv)
        .into_iter()
        .map(|r| r["path"].clone())
        .collect();
    for p in [
        "'=HYPERLINK(\"http://x\")",
        "'+1+2",
        "'-2+3",
        "'@SUM(A1)",
        "/<script>alert(1)</script>",
    ] {
        assert!(paths.iter().any(|x| x == p), "{p} in {paths:?}");
    }
    // Parquet and the warehouse keep the exact value.
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let parquet = env.path("out/not_found.parquet").display().to_string();
    let exact: i64 = conn
        .query_row(
            &format!("SELECT count(*) FROM read_parquet('{parquet}') WHERE path IN ('=HYPERLINK(\"http://x\")', '@SUM(A1)', '-2+3')"),
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(exact, 3);
}

#[test]
fn broken_lines_are_stored_or_rejected_and_counted() {
    let env = Env::new();
    let mut data = Vec::new();
    let good = entry("/ok", "-", "curl/8.0", 1);
    data.extend_from_slice(format!("{good}\r\n").as_bytes()); // CRLF: stored
    data.extend_from_slice(
        b"10.6.6.2 - - [03/Nov/2026:10:00:02 +0000] \"GET /\0nul HTTP/1.1\" 200 1 \"-\" \"-\"\n",
    ); // NUL: rejected
    data.extend_from_slice(
        b"10.6.6.3 - - [03/Nov/2026:10:00:03 +0000] \"GET /\xc3\x28 HTTP/1.1\" 200 1 \"-\" \"-\"\n",
    ); // bad UTF-8: rejected
    let mut long = entry("/long", "-", "curl/8.0", 4).into_bytes();
    long.extend(vec![b'A'; 2 << 20]); // 2 MiB line: rejected, not buffered whole
    long.push(b'\n');
    data.extend_from_slice(&long);
    data.extend_from_slice(
        format!("{}\n", entry("/\\x1B[31mred\\x1B[0m", "-", "x\\x07bell", 5)).as_bytes(),
    ); // escaped controls: stored
    data.extend_from_slice(b"\r\n\n"); // blank lines: rejected as empty (one distinct line)
    data.extend_from_slice(format!("{}\n", entry("/last", "-", "curl/8.0", 6)).as_bytes());
    std::fs::write(env.logs().join("access.log"), &data).unwrap();
    let s = env.run(&[]);
    assert_eq!(num(&s, "lines_read"), 8);
    assert_eq!(num(&s, "inserted"), 3);
    assert_eq!(num(&s, "rejected"), 5);
    let reasons = env.reject_reasons();
    assert_eq!(
        reasons,
        vec![
            "NUL byte in line",
            // The format, and where the text stops being UTF-8 (\xc3 at byte 48, in the path).
            "combined: invalid UTF-8 in request_path at byte 48",
            "line longer than 1 MiB",
            // "\r" and "" are the same line once the CR is dropped: stored once.
            "empty line",
        ]
    );
    let kept: i64 = env.count("SELECT max(length(raw_line)) FROM rejects");
    assert!(
        kept <= 64 * 1024,
        "a rejected line is kept only in part: {kept}"
    );
}

#[test]
fn terminal_output_carries_no_raw_control_characters() {
    let env = Env::new();
    // A file name and a user agent with terminal escapes in them.
    let name = "evil\u{1b}[2J\u{7}.log";
    let agent = "\\x1B]0;pwned\\x07Mozilla/5.0";
    std::fs::write(
        env.logs().join(name),
        format!("{}\n", entry("/", "-", agent, 1)),
    )
    .unwrap();
    let out = env.run_replacing("--json", None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = [out.stdout, out.stderr].concat();
    assert!(!shown.contains(&0x1b), "raw ESC reached the terminal");
    assert!(!shown.contains(&0x07), "raw BEL reached the terminal");
    assert!(
        String::from_utf8_lossy(&shown).contains("evil\\x1b[2J"),
        "escaped, still readable"
    );
}

#[test]
fn file_names_with_quotes_and_sql_are_checkpointed_like_any_other() {
    let env = Env::new();
    // The load stage writes checkpoint paths into SQL as quoted literals: a name made to
    // break out of the quotes must stay a name.
    let name = "it's \"odd\"'); DROP TABLE logs; --.log";
    let path = env.logs().join(name);
    let first: Vec<String> = (0..5).map(|n| entry("/a", "-", "curl/8.0", n)).collect();
    std::fs::write(&path, first.join("\n") + "\n").unwrap();
    let s = env.run(&[]);
    assert_eq!(num(&s, "inserted"), 5);
    let more = entry("/b", "-", "curl/8.0", 9);
    let mut all = first.clone();
    all.push(more.clone());
    std::fs::write(&path, all.join("\n") + "\n").unwrap();
    let s = env.run(&[]);
    assert_eq!(num(&s, "inserted"), 1, "resumed from its checkpoint");
    let stored: String = env
        .db()
        .query_row("SELECT path FROM checkpoints", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, path.display().to_string());
    assert_eq!(env.count("SELECT count(*) FROM logs"), 6);
}
