//! Logs a container runtime wrapped: CRI files (`/var/log/containers/*.log`) and Docker's
//! json-file, written here as the runtimes write them (their documented shapes), read with
//! `--format auto`: every server line stored once, as the server wrote it, with the runtime's
//! time and stream, long lines joined from their parts, parts never taken before their end.

mod common;

use std::collections::BTreeSet;
use std::io::Write;

use common::*;

/// The n-th access line as ingress-nginx's controller writes it to stdout (its default
/// `log_format upstreaminfo`), long when `long`.
fn server_line(n: usize, long: bool) -> String {
    let path = if long {
        format!("/search?q={}", "x".repeat(40_000 + n))
    } else {
        format!("/api/items/{n}")
    };
    format!(
        r#"10.244.0.{} - - [03/Dec/2026:06:{:02}:{:02} +0000] "GET {path} HTTP/1.1" 200 {} "-" "kube-probe/1.31" 512 0.00{} [default-web-80] [] 10.244.1.5:8080 {} 0.00{} 200 {:032x}"#,
        n % 250 + 1,
        n / 60 % 60,
        n % 60,
        100 + n,
        n % 10,
        100 + n,
        n % 10,
        n
    )
}

/// `2026-12-03T06:00:00.<n as nanoseconds>Z`, and its µs since the epoch (1796277600 s is
/// 2026-12-03T06:00:00Z).
fn runtime_time(n: usize) -> (String, i64) {
    (
        format!("2026-12-03T06:00:00.{:09}Z", n * 1000),
        1_796_277_600_000_000 + n as i64,
    )
}

/// CRI: lines over 16 KiB are split into `P` parts, the last one `F`.
fn cri(line: &str, n: usize, stream: &str) -> Vec<String> {
    let (time, _) = runtime_time(n);
    let bytes = line.as_bytes();
    let parts: Vec<&[u8]> = bytes.chunks(16 * 1024).collect();
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let tag = if i + 1 == parts.len() { "F" } else { "P" };
            format!("{time} {stream} {tag} {}", std::str::from_utf8(p).unwrap())
        })
        .collect()
}

/// Docker json-file: 16 KiB pieces, only the last ending in `\n`.
fn docker(line: &str, n: usize) -> Vec<String> {
    let (time, _) = runtime_time(n);
    let with_newline = format!("{line}\n");
    let pieces: Vec<&str> = with_newline
        .as_bytes()
        .chunks(16 * 1024)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    pieces
        .iter()
        .map(|p| serde_json::json!({"log": p, "stream": "stdout", "time": time}).to_string())
        .collect()
}

fn write_raw(path: &std::path::Path, text: &str) {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
}

#[test]
fn cri_wrapped_ingress_nginx_is_unwrapped_joined_and_read_once() {
    let env = Env::new();
    let log = env
        .logs()
        .join("ingress-nginx-controller_ingress-nginx_controller-abc.log");
    let mut written = BTreeSet::new();
    let mut text = String::new();
    for n in 0..30 {
        let line = server_line(n, n % 10 == 3);
        for part in cri(&line, n, "stdout") {
            text.push_str(&part);
            text.push('\n');
        }
        written.insert(line);
    }
    // nginx's error log goes to stderr: not requests.
    for part in cri(
        "2026/12/03 06:00:00 [error] 31#31: *1 connect() failed",
        99,
        "stderr",
    ) {
        text.push_str(&part);
        text.push('\n');
    }
    // A long line whose last part is not written yet: it waits.
    let pending = server_line(30, true);
    let parts = cri(&pending, 30, "stdout");
    assert!(parts.len() > 2);
    for part in &parts[..2] {
        text.push_str(part);
        text.push('\n');
    }
    write_raw(&log, &text);
    let s = env.run(&[]);
    assert_eq!(num(&s, "inserted"), 30, "{s}");
    assert_eq!(num(&s, "rejected"), 0, "{s}");
    assert_eq!(num(&s, "skipped"), 1, "{s}");
    assert_eq!(s["files"][0]["format"], "ingress-nginx", "{s}");
    env.assert_stored_exactly(&written);
    // The rest of the pending line arrives: stored once, whole, at its first part's offset.
    let first_part_at = std::fs::metadata(&log).unwrap().len()
        - parts[..2].iter().map(|p| p.len() as u64 + 1).sum::<u64>();
    let mut rest = String::new();
    for part in &parts[2..] {
        rest.push_str(part);
        rest.push('\n');
    }
    write_raw(&log, &rest);
    let s = env.run(&[]);
    assert_eq!(num(&s, "inserted"), 1, "{s}");
    assert_eq!(num(&s, "duplicates"), 0, "{s}");
    written.insert(pending.clone());
    env.assert_stored_exactly(&written);
    let (offset, collected, stream): (i64, i64, String) = env
        .db()
        .query_row(
            "SELECT source_offset, epoch_us(collected_at), stream FROM logs WHERE request_path LIKE '/search%' AND length(raw_log) = ?",
            [pending.len() as i64],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(offset as u64, first_part_at);
    assert_eq!(collected, runtime_time(30).1);
    assert_eq!(stream, "stdout");
    assert_eq!(num(&env.run(&[]), "lines_read"), 0);
}

#[test]
fn docker_json_file_logs_are_unescaped_and_joined() {
    let env = Env::new();
    let log = env.logs().join("abc123-json.log");
    let mut written = BTreeSet::new();
    let mut text = String::new();
    for n in 0..20 {
        // Combined lines with quotes and a backslash in the agent: JSON-escaped on disk.
        let line = format!(
            r#"172.17.0.{} - - [03/Dec/2026:07:00:{:02} +0000] "GET /p/{n}{} HTTP/1.1" 200 {n} "-" "Mozilla/5.0 (\"quoted\" \\ agent)""#,
            n + 1,
            n,
            if n == 7 {
                "x".repeat(20_000)
            } else {
                String::new()
            }
        );
        for piece in docker(&line, n) {
            text.push_str(&piece);
            text.push('\n');
        }
        written.insert(line);
    }
    write_raw(&log, &text);
    let s = env.run(&[]);
    assert_eq!(num(&s, "inserted"), 20, "{s}");
    assert_eq!(num(&s, "rejected"), 0, "{s}");
    env.assert_stored_exactly(&written);
    assert_eq!(
        env.count(
            "SELECT count(*) FROM logs WHERE http_user_agent = 'Mozilla/5.0 (\"quoted\" \\ agent)'
               AND stream = 'stdout' AND collected_at IS NOT NULL"
        ),
        20
    );
}
