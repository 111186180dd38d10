//! Every rotation scheme in the wild, driven on real files between real runs: each complete
//! line ends up in `logs` exactly once, and rotated files are continued, not read again.

mod common;

use std::collections::BTreeSet;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use common::*;

/// Distinct, well-formed lines: the n-th line of "stream" `s`.
fn line(s: &str, n: usize) -> String {
    format!(
        "10.{}.{}.{} - - [01/Nov/2026:{:02}:{:02}:{:02} +0000] \"GET /{s}/{n} HTTP/1.1\" 200 {n} \"-\" \"agent-{s}\"",
        n % 200,
        n % 7,
        n % 250 + 1,
        (n / 3600) % 24,
        (n / 60) % 60,
        n % 60
    )
}

fn lines(s: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|n| line(s, n)).collect()
}

fn file_entry<'a>(summary: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    summary["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("{name} in {summary}"))
}

#[test]
fn truncate_in_place_even_when_grown_back_past_the_old_offset() {
    let env = Env::new();
    let log = env.logs().join("access.log");
    let mut all: BTreeSet<String> = BTreeSet::new();
    append(&log, &lines("a", 0..50));
    all.extend(lines("a", 0..50));
    env.run(&[]);
    // Truncated in place (same inode) and refilled with more than before.
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&log)
        .unwrap();
    append(&log, &lines("b", 0..80));
    all.extend(lines("b", 0..80));
    let s = env.run(&[]);
    assert_eq!(file_entry(&s, "access.log")["start"], "replaced");
    assert_eq!(num(&s, "inserted"), 80);
    // Truncated again and refilled with exactly as many bytes as before.
    let before = std::fs::metadata(&log).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&log)
        .unwrap();
    append(&log, &lines("c", 0..80));
    assert_eq!(
        std::fs::metadata(&log).unwrap().len(),
        before,
        "same size, other content"
    );
    all.extend(lines("c", 0..80));
    let s = env.run(&[]);
    assert_eq!(num(&s, "inserted"), 80);
    env.assert_stored_exactly(&all);
}

#[test]
fn rename_and_create_continues_the_renamed_file() {
    let env = Env::new();
    let log = env.logs().join("access.log");
    let old = env.logs().join("access.log.1");
    let mut all: BTreeSet<String> = BTreeSet::new();
    append(&log, &lines("a", 0..100));
    all.extend(lines("a", 0..100));
    env.run(&[]);
    // The server writes a few more lines, then logrotate renames and a new file appears;
    // the server (still holding the old inode) finishes a last line there.
    append(&log, &lines("a", 100..110));
    std::fs::rename(&log, &old).unwrap();
    append(&old, &lines("a", 110..111));
    append(&log, &lines("b", 0..30));
    all.extend(lines("a", 100..111));
    all.extend(lines("b", 0..30));
    let s = env.run(&[]);
    let rotated = file_entry(&s, "access.log.1");
    assert_eq!(rotated["start"], "moved", "{rotated}");
    assert_eq!(
        rotated["lines_read"], 11,
        "only the lines added after the last run"
    );
    assert_eq!(file_entry(&s, "access.log")["lines_read"], 30);
    assert_eq!(num(&s, "duplicates"), 0);
    env.assert_stored_exactly(&all);
    // Next runs: nothing is read again, even after the new file grows.
    append(&log, &lines("b", 30..40));
    all.extend(lines("b", 30..40));
    let s = env.run(&[]);
    assert_eq!(num(&s, "lines_read"), 10);
    let s = env.run(&[]);
    assert_eq!(num(&s, "lines_read"), 0);
    env.assert_stored_exactly(&all);
}

#[test]
fn copytruncate_continues_the_copy_and_restarts_the_original() {
    let env = Env::new();
    let log = env.logs().join("access.log");
    let copy = env.logs().join("access.log.1");
    let mut all: BTreeSet<String> = BTreeSet::new();
    append(&log, &lines("a", 0..60));
    all.extend(lines("a", 0..60));
    env.run(&[]);
    append(&log, &lines("a", 60..65));
    all.extend(lines("a", 60..65));
    std::fs::copy(&log, &copy).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&log)
        .unwrap();
    append(&log, &lines("b", 0..7));
    all.extend(lines("b", 0..7));
    let s = env.run(&[]);
    assert_eq!(file_entry(&s, "access.log.1")["start"], "moved");
    assert_eq!(file_entry(&s, "access.log.1")["lines_read"], 5);
    assert_eq!(file_entry(&s, "access.log")["lines_read"], 7);
    assert_eq!(num(&s, "duplicates"), 0);
    env.assert_stored_exactly(&all);
}

#[test]
fn same_content_under_two_names_and_deleted_files() {
    let env = Env::new();
    let a = env.logs().join("a.log");
    let mut all: BTreeSet<String> = BTreeSet::new();
    append(&a, &lines("a", 0..40));
    all.extend(lines("a", 0..40));
    env.run(&[]);
    std::fs::copy(&a, env.logs().join("b.log")).unwrap();
    let s = env.run(&[]);
    assert_eq!(num(&s, "lines_read"), 0, "the copy is known content: {s}");
    std::fs::remove_file(&a).unwrap();
    let s = env.run(&[]);
    assert_eq!(num(&s, "lines_read"), 0);
    append(&env.logs().join("b.log"), &lines("b", 0..3));
    all.extend(lines("b", 0..3));
    let s = env.run(&[]);
    assert_eq!(num(&s, "lines_read"), 3);
    env.assert_stored_exactly(&all);
}

#[test]
fn a_partial_line_at_rotation_is_taken_once_completed() {
    // Documented behaviour: a line is taken only once it ends in a newline; the server that
    // still holds the renamed file completes it there, and the next run reads it once.
    let env = Env::new();
    let log = env.logs().join("access.log");
    let old = env.logs().join("access.log.1");
    let mut all: BTreeSet<String> = BTreeSet::new();
    append(&log, &lines("a", 0..20));
    let last = line("a", 20);
    let (head, tail) = last.split_at(30);
    OpenOptions::new()
        .append(true)
        .open(&log)
        .unwrap()
        .write_all(head.as_bytes())
        .unwrap();
    all.extend(lines("a", 0..20));
    let s = env.run(&[]);
    assert_eq!(num(&s, "inserted"), 20);
    std::fs::rename(&log, &old).unwrap();
    OpenOptions::new()
        .append(true)
        .open(&old)
        .unwrap()
        .write_all(format!("{tail}\n").as_bytes())
        .unwrap();
    append(&log, &lines("b", 0..5));
    all.insert(last);
    all.extend(lines("b", 0..5));
    let s = env.run(&[]);
    assert_eq!(num(&s, "inserted"), 6);
    assert_eq!(num(&s, "rejected"), 0);
    env.assert_stored_exactly(&all);
}

fn gzip(from: &Path, to: &Path) {
    let data = std::fs::read(from).unwrap();
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(to).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(&data).unwrap();
    enc.finish().unwrap();
}

#[test]
fn compressed_rotations_are_recognised_and_new_archives_read_whole() {
    let env = Env::new();
    let log = env.logs().join("access.log");
    let mut all: BTreeSet<String> = BTreeSet::new();
    append(&log, &lines("a", 0..100));
    all.extend(lines("a", 0..100));
    env.run(&[]);
    // logrotate: rename, new file, and later compress the rotated one (delaycompress).
    std::fs::rename(&log, env.logs().join("access.log.1")).unwrap();
    append(&log, &lines("b", 0..10));
    all.extend(lines("b", 0..10));
    let s = env.run(&[]);
    assert_eq!(num(&s, "lines_read"), 10);
    gzip(
        &env.logs().join("access.log.1"),
        &env.logs().join("access.log.1.gz"),
    );
    std::fs::remove_file(env.logs().join("access.log.1")).unwrap();
    let s = env.run(&[]);
    let gz = file_entry(&s, "access.log.1.gz");
    assert_eq!(gz["start"], "moved", "{gz}");
    assert_eq!(gz["lines_read"], 0, "known content is not read again");
    // An archive never seen before is read whole, its unterminated last line included.
    let old = env.path("old.log");
    append(&old, &lines("c", 0..50));
    let last = line("c", 50);
    OpenOptions::new()
        .append(true)
        .open(&old)
        .unwrap()
        .write_all(last.as_bytes())
        .unwrap();
    gzip(&old, &env.logs().join("older.log.2.gz"));
    all.extend(lines("c", 0..51));
    let s = env.run(&[]);
    assert_eq!(file_entry(&s, "older.log.2.gz")["lines_read"], 51);
    assert_eq!(num(&s, "inserted"), 51);
    // Unchanged archives cost nothing next time.
    let s = env.run(&[]);
    assert_eq!(num(&s, "lines_read"), 0);
    env.assert_stored_exactly(&all);
}

/// `status` as JSON, for the files in `env`'s log folder.
fn status(env: &Env) -> serde_json::Value {
    let pattern = format!("{}/*", env.logs().display());
    let db = env.db_path().display().to_string();
    let out = env.weblog(&["status", "--logs", &pattern, "--db", &db, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn status_says_what_the_next_run_does_after_a_copytruncate_that_grew_back() {
    let env = Env::new();
    let log = env.logs().join("access.log");
    append(&log, &lines("a", 0..50));
    env.run(&[]);
    // copytruncate: the content copied aside, the file emptied (same inode) and written
    // past its old size by the server.
    std::fs::copy(&log, env.logs().join("access.log.1")).unwrap();
    OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&log)
        .unwrap();
    append(&log, &lines("b", 0..90));
    let size = std::fs::metadata(&log).unwrap().len();
    let st = status(&env);
    let entry = |name: &str| {
        st["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} in {st}"))
            .clone()
    };
    assert_eq!(entry("access.log")["state"], "replaced", "{st}");
    assert_eq!(
        entry("access.log")["lag_bytes"],
        size,
        "all of it will be read"
    );
    assert_eq!(entry("access.log.1")["state"], "moved", "{st}");
    assert_eq!(entry("access.log.1")["lag_bytes"], 0);
    // And that is what the run does.
    let s = env.run(&[]);
    assert_eq!(file_entry(&s, "access.log")["start"], "replaced");
    assert_eq!(file_entry(&s, "access.log")["bytes_read"], size);
    assert_eq!(file_entry(&s, "access.log.1")["start"], "moved");
    assert_eq!(file_entry(&s, "access.log.1")["bytes_read"], 0);
    assert_eq!(num(&s, "inserted"), 90);
    let after = status(&env);
    for f in after["files"].as_array().unwrap() {
        assert_eq!(f["state"], "continue", "{f}");
        assert_eq!(f["lag_bytes"], 0, "{f}");
    }
}

#[test]
fn a_rejected_line_read_again_from_a_rewritten_file_is_stored_once() {
    let env = Env::new();
    let log = env.logs().join("access.log");
    let bad = "this is not an access log line".to_string();
    append(&log, &[line("a", 0), bad.clone(), line("a", 1)]);
    let first = env.run(&[]);
    assert_eq!(num(&first, "rejected"), 1);
    // Rewritten under the same name: the same first line, different bytes later, so it is
    // read again from the start, the bad line with it.
    std::fs::write(&log, "").unwrap();
    append(
        &log,
        &[line("a", 0), bad.clone(), line("a", 2), line("a", 3)],
    );
    let second = env.run(&[]);
    assert_eq!(file_entry(&second, "access.log")["start"], "rewritten");
    assert_eq!(num(&second, "inserted"), 2);
    assert_eq!(
        env.count("SELECT count(*) FROM rejects"),
        1,
        "the reject is stored once"
    );
}

#[test]
fn checkpoints_keep_the_fingerprint_parameters_they_were_made_with() {
    use xxhash_rust::xxh3::xxh3_64;
    let env = Env::new();
    let log = env.logs().join("access.log");
    append(&log, &lines("a", 0..20));
    env.run(&[]);
    let conn = duckdb::Connection::open(env.db_path()).unwrap();
    let (offset, marker_len): (u64, u64) = conn
        .query_row(r#"SELECT "offset", marker_len FROM checkpoints"#, [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(marker_len, 64, "recorded with the checkpoint");
    // As a weblog built with other parameters would have written it: a 10-byte head and a
    // 16-byte marker. This weblog must check it with those, not its own.
    let old_params = |conn: &duckdb::Connection| {
        let bytes = std::fs::read(&log).unwrap();
        let offset: u64 = conn
            .query_row(r#"SELECT "offset" FROM checkpoints"#, [], |r| r.get(0))
            .unwrap();
        let head = xxh3_64(&bytes[..10]);
        let marker = xxh3_64(&bytes[offset as usize - 16..offset as usize]);
        conn.execute_batch(&format!(
            "UPDATE checkpoints SET head_len = 10, head_hash = {head}, marker = {marker}, marker_len = 16"
        ))
        .unwrap();
        offset
    };
    old_params(&conn);
    drop(conn);
    append(&log, &lines("a", 20..25));
    let s = env.run(&[]);
    assert_eq!(file_entry(&s, "access.log")["start"], "continue");
    assert_eq!(file_entry(&s, "access.log")["start_offset"], offset);
    assert_eq!(num(&s, "lines_read"), 5);
    // Renamed and replaced, it is still recognised under its new name by those parameters.
    let conn = duckdb::Connection::open(env.db_path()).unwrap();
    let offset = old_params(&conn);
    drop(conn);
    append(&log, &lines("a", 25..30));
    std::fs::rename(&log, env.logs().join("access.log.1")).unwrap();
    append(&log, &lines("b", 0..3));
    let s = env.run(&[]);
    assert_eq!(file_entry(&s, "access.log.1")["start"], "moved", "{s}");
    assert_eq!(file_entry(&s, "access.log.1")["start_offset"], offset);
    assert_eq!(num(&s, "lines_read"), 8, "{s}");
}

#[test]
fn a_file_renamed_between_the_glob_and_its_open_is_a_warning_and_read_next_run() {
    let env = Env::new();
    let log = env.logs().join("access.log");
    let other = env.logs().join("other.log");
    let mut all: BTreeSet<String> = BTreeSet::new();
    append(&log, &lines("a", 0..50));
    append(&other, &lines("o", 0..20));
    all.extend(lines("a", 0..50));
    all.extend(lines("o", 0..20));
    // The run is held just after its glob matched both files; logrotate renames one then.
    let (run, mut stderr) = held_run(&env, "after-discover", 1000);
    std::fs::rename(&log, env.logs().join("access.log.1")).unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let out = run.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{rest}");
    assert!(
        rest.contains("access.log was renamed or removed") && rest.contains("rotation"),
        "one warning: {rest}"
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(num(&s, "inserted"), 20, "the other file is read: {s}");
    // Next run: the renamed file is found under its new name and read whole, once.
    let s = env.run(&[]);
    assert_eq!(num(&s, "inserted"), 50, "{s}");
    env.assert_stored_exactly(&all);
    assert_eq!(num(&env.run(&[]), "lines_read"), 0);
}

/// A CloudFront or IIS archive: the header every file of its format begins with, then `n`
/// data lines of generation `g`.
fn header_led(kind: &str, g: usize, n: usize) -> (String, Vec<String>) {
    let (header, data): (&str, Vec<String>) = match kind {
        "cloudfront" => (
            "#Version: 1.0\n#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken\n",
            (0..n)
                .map(|i| {
                    format!(
                        "2026-11-{:02}\t10:{:02}:{:02}\tLAX1\t{}\t192.0.2.{}\tGET\td1.cloudfront.net\t/g{g}/{i}\t200\t-\tMozilla/5.0%2520(X11)\t-\t-\tHit\tID{g}x{i}==\twww.example.com\thttps\t23\t0.001",
                        g + 1,
                        i / 60,
                        i % 60,
                        300 + i,
                        i % 250 + 1
                    )
                })
                .collect(),
        ),
        _ => (
            "#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n",
            (0..n)
                .map(|i| {
                    format!(
                        "2026-11-{:02} 10:{:02}:{:02} 10.0.0.1 GET /g{g}/{i} - 443 - 198.51.100.{} Mozilla/5.0+(X11) - 200 0 0 {}",
                        g + 1,
                        i / 60,
                        i % 60,
                        i % 250 + 1,
                        10 + i
                    )
                })
                .collect(),
        ),
    };
    let mut text = header.to_string();
    for l in &data {
        text.push_str(l);
        text.push('\n');
    }
    (text, data)
}

#[test]
fn header_led_archives_added_one_per_run_or_all_at_once_are_each_read_whole() {
    for kind in ["cloudfront", "iis"] {
        for one_per_run in [true, false] {
            let env = Env::new();
            let mut all: BTreeSet<String> = BTreeSet::new();
            for g in 0..6 {
                let (text, data) = header_led(kind, g, 20 + g * 7);
                let plain = env.path(&format!("{kind}-{g}.log"));
                std::fs::write(&plain, text).unwrap();
                gzip(&plain, &env.logs().join(format!("{kind}.{g}.gz")));
                all.extend(data);
                if one_per_run {
                    let s = env.run(&[]);
                    let entry = file_entry(&s, &format!("{kind}.{g}.gz"));
                    assert_eq!(entry["start"], "new", "{kind} {g}: {entry}");
                    assert_eq!(num(&s, "rejected"), 0, "{kind} {g}: {s}");
                }
            }
            let s = env.run(&[]);
            if one_per_run {
                assert_eq!(num(&s, "lines_read"), 0, "{kind}: nothing read twice: {s}");
            }
            let stored: BTreeSet<String> = env.stored_lines().into_iter().collect();
            assert_eq!(
                stored.len(),
                all.len(),
                "{kind}, one per run: {one_per_run}"
            );
            assert!(stored == all, "{kind}: the stored lines are the data lines");
            assert_eq!(env.count("SELECT count(*) FROM rejects"), 0);
            // And again: every archive is recognised as read.
            assert_eq!(num(&env.run(&[]), "lines_read"), 0);
        }
    }
}

/// Compress `file` in place with the real tool logrotate's `compresscmd` runs; the archive's
/// path, or None when the tool is not installed.
fn compress_with(tool: &str, file: &Path) -> Option<std::path::PathBuf> {
    let ext = match tool {
        "gzip" => "gz",
        "bzip2" => "bz2",
        "xz" => "xz",
        _ => "zst",
    };
    let mut cmd = std::process::Command::new(tool);
    if tool == "zstd" {
        cmd.args(["-q", "--rm"]);
    }
    let status = cmd.arg(file).status().ok()?;
    assert!(status.success(), "{tool} {}", file.display());
    let mut name = file.as_os_str().to_owned();
    name.push(format!(".{ext}"));
    Some(name.into())
}

#[test]
fn archives_of_every_compression_logrotate_uses_are_continued_or_read_whole() {
    for tool in ["gzip", "bzip2", "xz", "zstd"] {
        let env = Env::new();
        let log = env.logs().join("access.log");
        let mut all: BTreeSet<String> = BTreeSet::new();
        append(&log, &lines(tool, 0..100));
        all.extend(lines(tool, 0..100));
        env.run(&[]);
        // Rotated with 10 more lines the last run did not see, then compressed.
        append(&log, &lines(tool, 100..110));
        all.extend(lines(tool, 100..110));
        let rotated = env.logs().join("access.log.1");
        std::fs::rename(&log, &rotated).unwrap();
        let Some(archive) = compress_with(tool, &rotated) else {
            tool_missing(&format!("{tool} is not installed"));
            return;
        };
        let s = env.run(&[]);
        let name = archive.file_name().unwrap().to_string_lossy().into_owned();
        let entry = file_entry(&s, &name);
        assert_eq!(entry["start"], "moved", "{tool}: {entry}");
        assert_eq!(
            entry["lines_read"], 10,
            "{tool}: only what was added: {entry}"
        );
        // An archive never seen, of two concatenated streams (`cat a b > c` is valid for all
        // four), is read whole.
        let (a, b) = (env.path("a.log"), env.path("b.log"));
        append(&a, &lines(&format!("{tool}-a"), 0..30));
        append(&b, &lines(&format!("{tool}-b"), 0..20));
        all.extend(lines(&format!("{tool}-a"), 0..30));
        all.extend(lines(&format!("{tool}-b"), 0..20));
        let (a, b) = (
            compress_with(tool, &a).unwrap(),
            compress_with(tool, &b).unwrap(),
        );
        let mut joined = std::fs::read(&a).unwrap();
        joined.extend(std::fs::read(&b).unwrap());
        let ext = archive.extension().unwrap().to_string_lossy().into_owned();
        std::fs::write(env.logs().join(format!("old.log.2.{ext}")), joined).unwrap();
        let s = env.run(&[]);
        assert_eq!(num(&s, "inserted"), 50, "{tool}: {s}");
        assert_eq!(
            num(&env.run(&[]), "lines_read"),
            0,
            "{tool}: nothing read twice"
        );
        env.assert_stored_exactly(&all);
    }
}

#[test]
fn an_archive_whose_read_was_killed_midway_is_finished_by_the_next_run() {
    let env = Env::new();
    let plain = env.path("old.log");
    let all: BTreeSet<String> = lines("k", 0..3000).into_iter().collect();
    append(&plain, &lines("k", 0..3000));
    gzip(&plain, &env.logs().join("old.log.1.gz"));
    // Small batches, and the run dies right after its first commit.
    let mut args = env.run_args();
    args.extend(["--batch-bytes".to_string(), "65536".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.weblog_env(&args, &[("WEBLOG_FAILPOINT", "after-commit")]);
    assert!(!out.status.success(), "the failpoint aborted the run");
    let first = env.count("SELECT count(*) FROM logs") as usize;
    assert!(
        0 < first && first < all.len(),
        "{first} stored before the kill"
    );
    let s = env.run(&[]);
    assert_eq!(num(&s, "inserted") as usize, all.len() - first, "{s}");
    assert_eq!(num(&s, "duplicates"), 0, "{s}");
    env.assert_stored_exactly(&all);
    assert_eq!(num(&env.run(&[]), "lines_read"), 0);
}

#[test]
fn a_run_killed_during_a_rotation_leaves_every_renamed_file_recognised() {
    let env = Env::new();
    let log = env.logs().join("access.log");
    let first = env.logs().join("access.log.1");
    let mut all: BTreeSet<String> = BTreeSet::new();
    append(&log, &lines("a", 0..1000));
    all.extend(lines("a", 0..1000));
    env.run(&[]);
    std::fs::rename(&log, &first).unwrap();
    append(&log, &lines("b", 0..1000));
    all.extend(lines("b", 0..1000));
    env.run(&[]);
    // The next rotation: `.1` compressed to `.2.gz`, `access.log` renamed to `.1` (with
    // lines added before its rename) and a new `access.log`.
    gzip(&first, &env.logs().join("access.log.2.gz"));
    std::fs::remove_file(&first).unwrap();
    append(&log, &lines("b", 1000..1500));
    all.extend(lines("b", 1000..1500));
    std::fs::rename(&log, &first).unwrap();
    append(&log, &lines("c", 0..3000));
    all.extend(lines("c", 0..3000));
    // Small batches; the run dies after its first commit, three times, and the run after,
    // left to finish, reads no line that was stored before.
    let mut args = env.run_args();
    args.extend(["--batch-bytes".to_string(), "65536".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    for _ in 0..3 {
        let out = env.weblog_env(&args, &[("WEBLOG_FAILPOINT", "after-commit")]);
        assert!(!out.status.success(), "the failpoint aborted the run");
    }
    let s = env.run(&[]);
    assert_eq!(
        num(&s, "duplicates"),
        0,
        "lines read again after the kills: {s}"
    );
    assert_eq!(file_entry(&s, "access.log.2.gz")["lines_read"], 0, "{s}");
    env.assert_stored_exactly(&all);
    assert_eq!(num(&env.run(&[]), "lines_read"), 0);
}

/// Start `weblog run` held just after its file discovery; returns once it is held there.
fn run_held_after_discovery(env: &Env) -> std::process::Child {
    use std::io::{BufRead, BufReader};
    let mut run = std::process::Command::new(env!("CARGO_BIN_EXE_weblog"))
        .args(env.run_args())
        .current_dir(env.dir.path())
        .env("WEBLOG_FAILPOINT", "after-discover:pause=1500")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = String::new();
    BufReader::new(run.stderr.as_mut().unwrap())
        .read_line(&mut said)
        .unwrap();
    assert!(said.contains("failpoint after-discover"), "{said}");
    run
}

#[test]
fn a_copytruncate_during_a_run_leaves_the_previous_generation_recognised() {
    // logrotate's copytruncate + compress, with and without delaycompress, running while a
    // weblog run is between finding the files and reading them: the generation rotated away
    // is continued by the next run, never taken for new content.
    for delay in [true, false] {
        let env = Env::new();
        let log = env.logs().join("access.log");
        let first = env.logs().join("access.log.1");
        let mut all: BTreeSet<String> = BTreeSet::new();
        append(&log, &lines("a", 0..60));
        all.extend(lines("a", 0..60));
        env.run(&[]);
        let copytruncate = || {
            std::fs::copy(&log, &first).unwrap();
            OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&log)
                .unwrap();
        };
        let archive = if delay {
            // A first rotation between runs leaves `.1` plain, read to its end.
            copytruncate();
            append(&log, &lines("b", 0..40));
            all.extend(lines("b", 0..40));
            let s = env.run(&[]);
            assert_eq!(num(&s, "inserted"), 40, "{s}");
            append(&log, &lines("b", 40..45));
            all.extend(lines("b", 40..45));
            "access.log.2.gz"
        } else {
            append(&log, &lines("a", 60..65));
            all.extend(lines("a", 60..65));
            "access.log.1.gz"
        };
        // Unread lines so far: those 5. The run has found its files; logrotate rotates now.
        let run = run_held_after_discovery(&env);
        if delay {
            gzip(&first, &env.logs().join(archive));
            std::fs::remove_file(&first).unwrap();
            copytruncate();
        } else {
            copytruncate();
            gzip(&first, &env.logs().join(archive));
            std::fs::remove_file(&first).unwrap();
        }
        append(&log, &lines("c", 0..8));
        all.extend(lines("c", 0..8));
        let out = run.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(num(&s, "duplicates"), 0, "delaycompress {delay}: {s}");
        // The next run finds the archive of the generation rotated away.
        let s = env.run(&[]);
        let gz = file_entry(&s, archive);
        assert_eq!(gz["start"], "moved", "delaycompress {delay}: {gz}");
        // Only the 5 lines written after the run before the rotation, if not read by now.
        let unread = if delay { 0 } else { 5 };
        assert_eq!(gz["lines_read"], unread, "delaycompress {delay}: {gz}");
        assert_eq!(num(&s, "duplicates"), 0, "delaycompress {delay}: {s}");
        env.assert_stored_exactly(&all);
        assert_eq!(num(&env.run(&[]), "lines_read"), 0, "delaycompress {delay}");
    }
}

#[test]
fn kept_checkpoints_of_content_that_left_its_path_are_pruned_after_30_days() {
    let env = Env::new();
    let log = env.logs().join("access.log");
    append(&log, &lines("a", 0..10));
    env.run(&[]);
    // Truncated in place: the old content's checkpoint is kept in case a copy turns up.
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&log)
        .unwrap();
    append(&log, &lines("b", 0..10));
    env.run(&[]);
    let kept = "SELECT count(*) FROM checkpoints WHERE path LIKE 'replaced:%'";
    assert_eq!(env.count(kept), 1);
    // A month and a day later, the next commit drops it.
    duckdb::Connection::open(env.db_path())
        .unwrap()
        .execute_batch(
            "UPDATE checkpoints SET updated_at = current_timestamp - INTERVAL 31 DAY
             WHERE path LIKE 'replaced:%'",
        )
        .unwrap();
    append(&log, &lines("b", 10..12));
    env.run(&[]);
    assert_eq!(env.count(kept), 0);
}

#[test]
fn a_copytruncate_while_a_run_reads_other_files_continues_where_the_run_got_to() {
    let env = Env::new();
    let log = env.logs().join("access.log");
    let first = env.logs().join("access.log.1");
    let mut all: BTreeSet<String> = BTreeSet::new();
    // An older generation at .1, and the live file, both read once.
    append(&first, &lines("g", 0..30));
    append(&log, &lines("a", 0..100));
    all.extend(lines("g", 0..30));
    all.extend(lines("a", 0..100));
    env.run(&[]);
    append(&log, &lines("a", 100..300));
    all.extend(lines("a", 100..300));
    // The run reads access.log first, then is held; logrotate's copytruncate happens then.
    let (run, mut stderr) = held_run(&env, "between-files", 1500);
    // The server wrote 5 more lines, then: .1 → .2, copy to .1, truncate, new lines.
    append(&log, &lines("a", 300..305));
    all.extend(lines("a", 300..305));
    std::fs::rename(&first, env.logs().join("access.log.2")).unwrap();
    std::fs::copy(&log, &first).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&log)
        .unwrap();
    append(&log, &lines("b", 0..10));
    all.extend(lines("b", 0..10));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let out = run.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{rest}");
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let copy = file_entry(&s, "access.log.1");
    // The copy continues from what this run read of the original: only the 5 new lines.
    assert_eq!(copy["start"], "moved", "{copy}");
    assert_eq!(copy["lines_read"], 5, "{copy}");
    assert_eq!(num(&s, "duplicates"), 0, "{s}");
    let s = env.run(&[]);
    assert_eq!(num(&s, "duplicates"), 0, "{s}");
    assert_eq!(file_entry(&s, "access.log.2")["lines_read"], 0, "{s}");
    env.assert_stored_exactly(&all);
    assert_eq!(num(&env.run(&[]), "lines_read"), 0);
}

/// A standard run held at `failpoint` for `ms`: returned once it says it is held, with its
/// stderr to read the rest from.
fn held_run(
    env: &Env,
    failpoint: &str,
    ms: u64,
) -> (
    std::process::Child,
    std::io::BufReader<std::process::ChildStderr>,
) {
    use std::io::BufRead;
    let mut run = std::process::Command::new(env!("CARGO_BIN_EXE_weblog"))
        .args(env.run_args())
        .current_dir(env.dir.path())
        .env("WEBLOG_FAILPOINT", format!("{failpoint}:pause={ms}"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(run.stderr.take().unwrap());
    let mut said = String::new();
    stderr.read_line(&mut said).unwrap();
    assert!(said.contains(&format!("failpoint {failpoint}")), "{said}");
    (run, stderr)
}
