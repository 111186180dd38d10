//! The anti-join against stored rows: a batch whose time overlaps stored rows stores only the
//! lines not stored yet, found through each row's `line_hash` (schema 5) and confirmed by the
//! raw line; rows stored before line hashes existed are still compared by their raw line.

mod common;

use std::collections::BTreeSet;

use common::{Env, num};
use xxhash_rust::xxh3::xxh3_64;

/// `n` distinct combined lines over two hours of 1 Nov 2026 (in time order), every 50th
/// followed by an exact repeat of itself.
fn lines(n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..n {
        let secs = i * 7200 / n;
        let line = format!(
            r#"10.0.{}.{} - - [01/Nov/2026:{:02}:{:02}:{:02} +0000] "GET /p{} HTTP/1.1" 200 {i} "-" "curl/8.{}""#,
            i % 250,
            i / 250,
            10 + secs / 3600,
            secs / 60 % 60,
            secs % 60,
            i % 97,
            i % 3
        );
        if i % 50 == 0 {
            out.push(line.clone());
        }
        out.push(line);
    }
    out
}

fn write(env: &Env, name: &str, lines: &[String]) {
    std::fs::write(env.logs().join(name), lines.join("\n") + "\n").unwrap();
}

/// Every stored row carries xxh3 of its raw line (computed here, apart from weblog).
fn assert_hashes(env: &Env) {
    let conn = env.db();
    let mut stmt = conn.prepare("SELECT raw_log, line_hash FROM logs").unwrap();
    let rows: Vec<(String, Option<u64>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(!rows.is_empty());
    for (line, hash) in rows {
        assert_eq!(hash, Some(xxh3_64(line.as_bytes())), "{line}");
    }
}

/// Files that interleave in time (a site's per-vhost logs, one run each): each file's batch
/// lies inside the stored time span, its lines are new; a copy of one file (fewer stored
/// hashes than the listed limit) and of all of them (more: the temporary-table path) add
/// nothing but the new lines slipped into them; the same lines from another host are its own.
#[test]
fn interleaved_files_and_copies_store_each_line_once() {
    let env = Env::new();
    let all = lines(8_000);
    let files: Vec<Vec<String>> = (0..4)
        .map(|k| all.iter().skip(k).step_by(4).cloned().collect())
        .collect();
    let mut expected = BTreeSet::new();
    for (k, file) in files.iter().enumerate() {
        write(&env, &format!("vhost{k}.log"), file);
        let summary = env.run(&[]);
        let distinct: BTreeSet<&String> = file.iter().collect();
        let new = distinct.iter().filter(|l| !expected.contains(**l)).count();
        assert_eq!(
            num(&summary, "inserted") as usize,
            new,
            "file {k}: {summary}"
        );
        expected.extend(file.iter().cloned());
    }
    env.assert_stored_exactly(&expected);

    // One file's lines again in another file, after a new first line (a file starting like
    // a known one is that file, moved: it would be read on from its checkpoint).
    let first = all[0].replace("curl/8.", "wget/1.");
    let copy: Vec<String> = std::iter::once(first.clone())
        .chain(files[2].iter().cloned())
        .collect();
    write(&env, "copy.log", &copy);
    let summary = env.run(&[]);
    assert_eq!(num(&summary, "inserted"), 1, "{summary}");
    assert_eq!(
        num(&summary, "duplicates") as usize,
        files[2].len(),
        "{summary}"
    );
    expected.insert(first);

    // Everything again in one file, with new lines inside the stored span.
    let mut again = all.clone();
    again[0] = all[0].replace("curl/8.", "lynx/2.");
    let new = [
        again[0].clone(),
        all[100].replace("curl/8.", "curl/9."),
        all[4_000].replace("GET /", "HEAD /"),
        all[7_000].replace(" 200 ", " 404 "),
    ];
    again.insert(4_001, new[2].clone());
    again.insert(7_002, new[3].clone());
    again.insert(101, new[1].clone());
    write(&env, "everything.log", &again);
    let summary = env.run(&[]);
    assert_eq!(num(&summary, "inserted"), 4, "{summary}");
    expected.extend(new.iter().cloned());
    env.assert_stored_exactly(&expected);

    // The same lines logged by another server are that server's rows.
    for k in 0..4 {
        std::fs::remove_file(env.logs().join(format!("vhost{k}.log"))).unwrap();
    }
    std::fs::remove_file(env.logs().join("copy.log")).unwrap();
    let web2: Vec<String> = std::iter::once(all[0].replace("curl/8.", "links/2."))
        .chain(files[1].iter().cloned())
        .collect();
    write(&env, "web2.log", &web2);
    let distinct: BTreeSet<&String> = web2.iter().collect();
    std::fs::remove_file(env.logs().join("everything.log")).unwrap();
    let summary = env.run(&["--host", "web-2"]);
    assert_eq!(
        num(&summary, "inserted") as usize,
        distinct.len(),
        "{summary}"
    );
    assert_hashes(&env);
}

/// A warehouse written before line hashes (schema 4) holds rows without one: a file read
/// again is still recognised line by line, new lines in the same span are stored, and rows
/// stored after the upgrade have hashes.
#[test]
fn rows_stored_before_line_hashes_are_still_found() {
    let env = Env::new();
    let all = lines(3_000);
    let (first, second): (Vec<String>, Vec<String>) =
        all.iter().cloned().partition(|l| l.contains("/p1"));
    write(&env, "a.log", &first);
    env.run(&[]);
    {
        // What schema 4 stored: one `logs` table, with no line_hash column.
        let conn = duckdb::Connection::open(env.db_path()).unwrap();
        conn.execute_batch(
            "CREATE TABLE old_logs AS SELECT * EXCLUDE (line_hash) FROM logs;
             DROP VIEW logs; DROP TABLE log_rows; DROP TABLE agents;
             ALTER TABLE old_logs RENAME TO logs;
             UPDATE weblog_meta SET value = '4' WHERE key = 'schema_version';",
        )
        .unwrap();
    }
    let stored_before: BTreeSet<String> = first.iter().cloned().collect();
    // The old file's lines again after a new first line (else it is the same file, moved),
    // and lines of the same span in another file.
    let head = first[0].replace("curl/8.", "wget/1.");
    let copy: Vec<String> = std::iter::once(head.clone())
        .chain(first.iter().cloned())
        .collect();
    write(&env, "a-copy.log", &copy);
    write(&env, "b.log", &second);
    let summary = env.run(&[]);
    let new: BTreeSet<&String> = second.iter().chain([&head]).collect();
    assert_eq!(num(&summary, "inserted") as usize, new.len(), "{summary}");
    assert!(
        num(&summary, "duplicates") as usize >= first.len(),
        "{summary}"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM logs WHERE line_hash IS NULL") as usize,
        stored_before.len(),
        "rows stored before the upgrade keep no hash"
    );
    // Everything once more: old rows found by raw line, new ones by hash.
    let again: Vec<String> = std::iter::once(head.replace("wget/1.", "lynx/2."))
        .chain(all.iter().cloned())
        .collect();
    write(&env, "all.log", &again);
    let summary = env.run(&[]);
    assert_eq!(num(&summary, "inserted"), 1, "{summary}");
    assert_eq!(num(&summary, "duplicates") as usize, all.len(), "{summary}");
    let expected: BTreeSet<String> = again.into_iter().chain([head.clone()]).collect();
    env.assert_stored_exactly(&expected);
    let hashed = env.count("SELECT count(*) FROM logs WHERE line_hash IS NOT NULL");
    assert_eq!(
        hashed as usize,
        new.len() + 1,
        "rows stored since the upgrade have hashes"
    );
}

/// A line set aside again is not stored twice while an earlier copy was stored within the
/// checkpoint retention (the window in which a file can be read again); older rejects are
/// not looked at.
#[test]
fn rejects_are_looked_up_within_the_checkpoint_retention() {
    let env = Env::new();
    let ok: Vec<String> = lines(10)
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let bad = "this is not a log line".to_string();
    write(&env, "a.log", &[ok[0].clone(), bad.clone()]);
    env.run(&[]);
    assert_eq!(env.count("SELECT count(*) FROM rejects"), 1);
    write(&env, "b.log", &[ok[1].clone(), bad.clone()]);
    let summary = env.run(&[]);
    assert_eq!(num(&summary, "rejected"), 1, "{summary}");
    assert_eq!(
        env.count("SELECT count(*) FROM rejects"),
        1,
        "the same line once"
    );
    {
        // The stored reject set aside two hours ago.
        let conn = duckdb::Connection::open(env.db_path()).unwrap();
        conn.execute_batch("UPDATE rejects SET ingested_at = ingested_at - INTERVAL 2 HOUR")
            .unwrap();
    }
    write(&env, "c.log", &[ok[2].clone(), bad.clone()]);
    env.run(&["--checkpoint-retention", "3h"]);
    assert_eq!(
        env.count("SELECT count(*) FROM rejects"),
        1,
        "within 3 hours"
    );
    write(&env, "d.log", &[ok[3].clone(), bad]);
    env.run(&["--checkpoint-retention", "1h"]);
    assert_eq!(
        env.count("SELECT count(*) FROM rejects"),
        2,
        "a reject older than the retention is not looked at"
    );
}
