//! Retention and erasure (issue 23): `weblog prune` / `retention_days` delete old raw rows
//! and change no output; `anonymize_after_days` masks old raw rows in place; `weblog forget`
//! removes every trace of one visitor and nothing else. Expected values are computed here
//! from the lines written, and the outputs compared with a fresh run over the log without
//! the visitor's lines.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{Days, Local, NaiveDate};
use common::leaks::{database_text, files_text};
use common::{Env, files_under, num};

fn today() -> NaiveDate {
    Local::now().date_naive()
}

fn ago(days: u64) -> NaiveDate {
    today() - Days::new(days)
}

/// A combined line (with X-Forwarded-For) of `day`, UTC, so its day is the one written.
fn line(ip: &str, day: NaiveDate, hms: &str, path: &str, agent: &str, xff: &str) -> String {
    format!(
        r#"{ip} - - [{}:{hms} +0000] "GET {path} HTTP/1.1" 200 {} "-" "{agent}" "{xff}""#,
        day.format("%d/%b/%Y"),
        100 + path.len()
    )
}

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0";
const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

/// Three requests of each of `visitors` on each of `days` (days ago).
fn traffic(days: &[u64], visitors: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for &d in days {
        for (v, ip) in visitors.iter().enumerate() {
            for r in 0..3 {
                let agent = if v % 2 == 0 { FIREFOX } else { CHROME };
                out.push(line(
                    ip,
                    ago(d),
                    &format!("1{v}:0{r}:00"),
                    &format!("/p{r}/{v}"),
                    agent,
                    "-",
                ));
            }
        }
    }
    out
}

/// The day a line says (its first `[dd/Mon/yyyy`).
fn day_of(line: &str) -> NaiveDate {
    let at = line.find('[').unwrap() + 1;
    NaiveDate::parse_from_str(&line[at..at + 11], "%d/%b/%Y").unwrap()
}

fn write(env: &Env, name: &str, lines: &[String]) {
    std::fs::write(env.logs().join(name), lines.join("\n") + "\n").unwrap();
}

/// Every file of the out folder (not the temporary ones), by name.
fn outputs(env: &Env) -> BTreeMap<String, Vec<u8>> {
    files_under(&env.path("out"))
        .into_iter()
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

fn assert_same_files(a: &BTreeMap<String, Vec<u8>>, b: &BTreeMap<String, Vec<u8>>, what: &str) {
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "{what}: the same files"
    );
    for (name, bytes) in a {
        assert!(bytes == &b[name], "{what}: {name} differs");
    }
    assert!(a.len() > 20, "{what}: outputs were written ({})", a.len());
}

/// `weblog <cmd>` with the environment's warehouse, folders and `extra`; must succeed and
/// print one JSON object.
fn command(env: &Env, cmd: &str, extra: &[&str], vars: &[(&str, &str)]) -> serde_json::Value {
    let mut args = env.run_args();
    args[0] = cmd.to_string();
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.weblog_env(&args, vars);
    assert!(
        out.status.success(),
        "weblog {cmd} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object on stdout")
}

/// The lake's rows (raw lines) and the days it has folders for.
fn lake_rows(lake: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let files: Vec<PathBuf> = files_under(&lake.join("logs"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    let days = files
        .iter()
        .filter_map(|p| {
            p.to_string_lossy()
                .split("day=")
                .nth(1)
                .map(|d| d[..10].to_string())
        })
        .collect();
    let mem = duckdb::Connection::open_in_memory().unwrap();
    let mut rows = BTreeSet::new();
    for f in &files {
        let mut stmt = mem
            .prepare(&format!(
                "SELECT raw_log FROM read_parquet('{}')",
                f.display()
            ))
            .unwrap();
        rows.extend(
            stmt.query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap),
        );
    }
    (rows, days)
}

fn per_day(lines: &[String]) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for l in lines {
        *m.entry(day_of(l).to_string()).or_insert(0) += 1;
    }
    m
}

fn json_map(v: &serde_json::Value) -> BTreeMap<String, u64> {
    v.as_object()
        .unwrap_or_else(|| panic!("an object: {v}"))
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
        .collect()
}

const FORTY_DAYS_AGO: &str = "clock:-3456000";

#[test]
fn prune_deletes_old_raw_rows_and_changes_no_output() {
    let env = Env::new();
    let lake = env.path("lake");
    let lake_arg = lake.to_str().unwrap();
    let visitors = [
        "198.51.100.1",
        "198.51.100.2",
        "198.51.100.3",
        "203.0.113.4",
    ];
    let lines = traffic(&[45, 40, 33, 31, 30, 29, 20, 10, 2, 1], &visitors);
    let mut text = lines.clone();
    text.push("old reject from 192.0.2.1".to_string());
    write(&env, "access.log", &text);
    // Read forty days ago (the test clock): its reject is forty days old.
    let vars = [("WEBLOG_FAILPOINT", FORTY_DAYS_AGO)];
    let first = command(&env, "run", &["--lake", lake_arg], &vars);
    assert_eq!(num(&first, "inserted") as usize, lines.len(), "{first}");
    // Read now: a reject, and a request of yesterday.
    let new_junk = "new reject from 192.0.2.2".to_string();
    let yesterday = line("192.0.2.3", ago(1), "23:00:00", "/now", CHROME, "-");
    common::append(
        &env.logs().join("access.log"),
        &[new_junk, yesterday.clone()],
    );
    let mut lines = lines;
    lines.push(yesterday);
    env.run(&["--lake", lake_arg]);
    let before = outputs(&env);

    let horizon = ago(30);
    let (old, kept): (Vec<String>, Vec<String>) =
        lines.iter().cloned().partition(|l| day_of(l) < horizon);
    assert_eq!(per_day(&old).len(), 4);
    let pruned = command(
        &env,
        "prune",
        &["--older-than", "30d", "--lake", lake_arg],
        &[],
    );
    assert_eq!(pruned["pruned"]["before"], horizon.to_string(), "{pruned}");
    assert_eq!(
        json_map(&pruned["pruned"]["logs"]),
        per_day(&old),
        "{pruned}"
    );
    assert_eq!(pruned["pruned"]["rejects"], 1, "{pruned}");
    let lake_days = json_map(&pruned["lake"]["files"]);
    assert_eq!(
        lake_days.keys().collect::<Vec<_>>(),
        per_day(&old).keys().collect::<Vec<_>>()
    );

    assert_same_files(&before, &outputs(&env), "after prune");
    assert_eq!(
        env.stored_lines().into_iter().collect::<BTreeSet<_>>(),
        kept.iter().cloned().collect::<BTreeSet<_>>()
    );
    let rejects = database_text(&env);
    assert!(!rejects.contains("old reject") && rejects.contains("new reject from 192.0.2.2"));
    let keys: Vec<String> = env
        .db()
        .prepare("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '%\\_\\_key%' ESCAPE '\\'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(!keys.is_empty());
    for k in &keys {
        let sql = format!("SELECT count(*) FROM \"{k}\" WHERE day < DATE '{horizon}'");
        assert_eq!(env.count(&sql), 0, "{k}");
    }
    let (lake_lines, days) = lake_rows(&lake);
    assert_eq!(lake_lines, kept.iter().cloned().collect::<BTreeSet<_>>());
    assert!(
        days.iter()
            .all(|d| d.as_str() >= horizon.to_string().as_str())
    );

    // Again: nothing left to remove.
    let again = command(&env, "prune", &["--older-than", "30d"], &[]);
    assert!(json_map(&again["pruned"]["logs"]).is_empty(), "{again}");

    // A line of a pruned day read later is set aside, counted, and changes nothing; the
    // run applies retention_days itself.
    let late = line("192.0.2.77", ago(40), "12:00:00", "/late", FIREFOX, "-");
    common::append(&env.logs().join("access.log"), std::slice::from_ref(&late));
    let summary = env.run(&["--lake", lake_arg, "--retention-days", "30"]);
    assert_eq!(num(&summary, "inserted"), 0, "{summary}");
    assert_eq!(num(&summary, "rejected"), 1, "{summary}");
    assert_eq!(summary["files"][0]["pruned_days"], 1, "{summary}");
    assert!(summary["retention"]["pruned"].is_object(), "{summary}");
    assert!(
        env.reject_reasons()
            .iter()
            .any(|r| r.contains(&ago(40).to_string()) && r.contains("retention horizon")),
        "{:?}",
        env.reject_reasons()
    );
    assert_same_files(&before, &outputs(&env), "after a line of a pruned day");
    assert_eq!(
        lake_rows(&lake).0,
        kept.iter().cloned().collect::<BTreeSet<_>>()
    );

    // A rollup whose SQL changed is rebuilt from the rows there are; its pruned days are
    // kept as they were, and the run says so. (The change gives the same values: every
    // output stays the same, pruned days included.)
    let sql = env.path("sql");
    common::copy_dir(&common::repo_sql(), &sql);
    let hourly = sql.join("rollups/hourly.sql");
    let text = std::fs::read_to_string(&hourly).unwrap();
    assert!(text.contains("count(*) AS requests"));
    std::fs::write(
        &hourly,
        text.replace("count(*) AS requests", "count(*) + 0 AS requests"),
    )
    .unwrap();
    let mut args = env.run_args_with_sql(&sql);
    args.extend(["--lake".to_string(), lake_arg.to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.weblog(&args);
    assert!(out.status.success(), "{out:?}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rebuilt = summary["rollups_rebuilt"].as_array().unwrap();
    assert!(
        rebuilt
            .iter()
            .any(|r| r["rollup"] == "hourly" && r["kept_pruned_days"] == 4),
        "{summary}"
    );
    assert!(
        summary["warnings"].to_string().contains("keep the values"),
        "{summary}"
    );
    assert_same_files(&before, &outputs(&env), "after a rebuild");

    // A bad age is a usage error, before anything is opened.
    let bad = env.weblog(&["prune", "--older-than", "0", "--db", "nowhere.duckdb"]);
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
    assert!(!env.path("nowhere.duckdb").exists());
}

#[test]
fn anonymize_after_days_masks_old_rows_in_place() {
    let env = Env::new();
    let old_visitors = ["203.0.113.1", "203.0.113.2", "203.0.113.3"];
    let mut old = traffic(&[20, 18, 16], &old_visitors);
    // Behind a proxy: the address is in X-Forwarded-For only.
    old.push(line(
        "10.0.0.1",
        ago(17),
        "09:00:00",
        "/proxied",
        FIREFOX,
        "192.0.2.55, 10.0.0.2",
    ));
    let recent = traffic(&[3, 1], &["198.51.100.1", "198.51.100.2"]);
    let all: Vec<String> = old.iter().chain(&recent).cloned().collect();
    let junk = "junk line from 203.0.113.9".to_string();
    let mut text = all.clone();
    text.push(junk.clone());
    write(&env, "access.log", &text);
    let twenty_days_ago = [("WEBLOG_FAILPOINT", "clock:-1728000")];
    command(&env, "run", &[], &twenty_days_ago);
    let before = outputs(&env);

    // From the config file, as an operator sets it.
    std::fs::write(env.path("weblog.toml"), "anonymize_after_days = 14\n").unwrap();
    let summary = env.run(&[]);
    let masked = &summary["retention"]["masked"];
    assert_eq!(masked["before"], ago(14).to_string(), "{summary}");
    assert_eq!(json_map(&masked["logs"]), per_day(&old), "{summary}");
    assert_eq!(masked["rejects"], 1, "{summary}");

    let text = database_text(&env);
    for addr in old_visitors
        .iter()
        .chain(&["192.0.2.55", "203.0.113.9", "10.0.0.1", "10.0.0.2"])
    {
        let at = text
            .find(addr)
            .map(|i| &text[i.saturating_sub(200)..(i + 100).min(text.len())]);
        assert!(at.is_none(), "{addr} is still in the warehouse: {at:?}");
    }
    assert!(text.contains("203.0.0.0") && text.contains("192.0.0.0, 10.0.0.0"));
    let stored: BTreeSet<String> = env.stored_lines().into_iter().collect();
    assert!(
        recent.iter().all(|l| stored.contains(l)),
        "recent rows untouched"
    );
    assert_same_files(&before, &outputs(&env), "after masking");

    // The original file read again (from a copy with a new first line) stores nothing new.
    let head = line("198.51.100.9", ago(1), "23:00:00", "/head", FIREFOX, "-");
    let copy: Vec<String> = std::iter::once(head)
        .chain(all.iter().cloned())
        .chain(std::iter::once(junk))
        .collect();
    write(&env, "copy.log", &copy);
    let summary = env.run(&[]);
    assert_eq!(num(&summary, "inserted"), 1, "{summary}");
    assert_eq!(num(&summary, "duplicates") as usize, all.len(), "{summary}");
    assert_eq!(env.count("SELECT count(*) FROM rejects"), 1);
    assert_eq!(
        env.count("SELECT count(*) FROM logs") as usize,
        all.len() + 1
    );
}

const VISITOR: &str = "203.0.113.7";

/// Lines of several visitors over three days, the visitor's among them (two agents, and
/// once behind a proxy), and junk lines, one of them the visitor's.
fn forget_lines() -> (Vec<String>, Vec<String>) {
    let mut lines = traffic(
        &[5, 3, 1],
        &["198.51.100.1", "198.51.100.2", "198.51.100.3"],
    );
    for (d, agent) in [(5, FIREFOX), (3, FIREFOX), (1, CHROME)] {
        for r in 0..2 {
            lines.push(line(
                VISITOR,
                ago(d),
                &format!("15:3{r}:00"),
                "/mine",
                agent,
                "-",
            ));
        }
    }
    lines.push(line(
        "10.0.0.1",
        ago(3),
        "16:00:00",
        "/via-proxy",
        FIREFOX,
        VISITOR,
    ));
    let junk = vec![
        format!("junk from {VISITOR} here"),
        "junk from 198.51.100.1 here".to_string(),
    ];
    (lines, junk)
}

fn theirs(l: &str) -> bool {
    l.contains(VISITOR)
}

/// An environment with `lines` and `junk` read, into a lake.
fn forget_env(lines: &[String], junk: &[String]) -> (Env, String) {
    let env = Env::new();
    write(&env, "access.log", &[lines, junk].concat());
    let lake = env.path("lake").display().to_string();
    env.run(&["--lake", &lake]);
    (env, lake)
}

fn csv_outputs(env: &Env) -> BTreeMap<String, Vec<u8>> {
    outputs(env)
        .into_iter()
        .filter(|(n, _)| n.ends_with(".csv"))
        .collect()
}

#[test]
fn forget_removes_every_trace_of_a_visitor_and_nothing_else() {
    let (lines, junk) = forget_lines();
    let (env, lake) = forget_env(&lines, &junk);
    let stored = env.count("SELECT count(*) FROM logs");

    // Bad input and a missing or busy warehouse: one line, nothing touched.
    let bad = env.weblog(&["forget", "--ip", "203.0.113.300"]);
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
    let missing = env.weblog(&["forget", "--ip", VISITOR, "--db", "nowhere.duckdb"]);
    assert_eq!(missing.status.code(), Some(66), "{missing:?}");
    assert_eq!(String::from_utf8_lossy(&missing.stderr).lines().count(), 1);
    {
        let _writer = duckdb::Connection::open(env.db_path()).unwrap();
        let busy = env.weblog(&[
            "forget",
            "--ip",
            VISITOR,
            "--db",
            env.db_path().to_str().unwrap(),
        ]);
        assert_eq!(busy.status.code(), Some(75), "{busy:?}");
    }

    // One agent only (exact), dry run first.
    let chrome: Vec<String> = lines
        .iter()
        .filter(|l| theirs(l) && l.starts_with(VISITOR) && l.contains(CHROME))
        .cloned()
        .collect();
    let dry = command(
        &env,
        "forget",
        &["--ip", VISITOR, "--agent", CHROME, "--dry-run"],
        &[],
    );
    assert_eq!(json_map(&dry["logs"]), per_day(&chrome), "{dry}");
    assert_eq!(
        env.count("SELECT count(*) FROM logs"),
        stored,
        "a dry run removes nothing"
    );
    let one = command(&env, "forget", &["--ip", VISITOR, "--agent", CHROME], &[]);
    assert_eq!(json_map(&one["logs"]), per_day(&chrome), "{one}");
    assert!(
        json_map(&one["rejects"]).is_empty(),
        "the junk line has no agent: {one}"
    );

    // Then every row of the address (a /32 written as a block).
    let rest: Vec<String> = lines
        .iter()
        .filter(|l| theirs(l) && !chrome.contains(l))
        .cloned()
        .collect();
    let all = command(
        &env,
        "forget",
        &["--ip", &format!("{VISITOR}/32"), "--lake", &lake],
        &[],
    );
    assert_eq!(json_map(&all["logs"]), per_day(&rest), "{all}");
    assert_eq!(json_map(&all["rejects"]).values().sum::<u64>(), 1, "{all}");
    assert_eq!(
        json_map(&all["lake"]["rows"]).values().sum::<u64>() as usize,
        rest.len(),
        "{all}"
    );

    let mut text = database_text(&env);
    text.push_str(&files_text(Path::new(&lake)).0);
    text.push_str(&files_text(&env.path("out")).0);
    assert!(!text.contains(VISITOR), "a trace of the visitor is left");
    let others: Vec<String> = lines.iter().filter(|l| !theirs(l)).cloned().collect();
    assert_eq!(
        env.stored_lines().into_iter().collect::<BTreeSet<_>>(),
        others.iter().cloned().collect::<BTreeSet<_>>()
    );
    assert_eq!(env.count("SELECT count(*) FROM rejects"), 1);
    assert_eq!(
        lake_rows(Path::new(&lake)).0,
        others.iter().cloned().collect()
    );

    // The outputs are those of a fresh run over the log without the visitor's lines.
    let other_junk: Vec<String> = junk.iter().filter(|l| !theirs(l)).cloned().collect();
    let (fresh, fresh_lake) = forget_env(&others, &other_junk);
    assert_same_files(
        &csv_outputs(&fresh),
        &csv_outputs(&env),
        "forgotten vs fresh",
    );

    // Nothing is left to remove.
    let again = command(&env, "forget", &["--ip", VISITOR, "--lake", &lake], &[]);
    assert!(json_map(&again["logs"]).is_empty() && json_map(&again["rejects"]).is_empty());
    assert!(json_map(&again["lake"]["files"]).is_empty(), "{again}");

    // Later rows of the same days are counted as in the fresh warehouse (the key tables of
    // the recomputed days were rebuilt without the visitor).
    let later = vec![
        line("198.51.100.1", ago(3), "20:00:00", "/later", FIREFOX, "-"),
        line("198.51.100.8", ago(1), "20:00:00", "/later", CHROME, "-"),
    ];
    common::append(&env.logs().join("access.log"), &later);
    common::append(&fresh.logs().join("access.log"), &later);
    env.run(&["--lake", &lake]);
    fresh.run(&["--lake", &fresh_lake]);
    assert_same_files(&csv_outputs(&fresh), &csv_outputs(&env), "later rows");
}

#[test]
fn a_forget_killed_midway_completes_when_run_again() {
    let (lines, junk) = forget_lines();
    let (straight, straight_lake) = forget_env(&lines, &junk);
    command(
        &straight,
        "forget",
        &["--ip", VISITOR, "--lake", &straight_lake],
        &[],
    );
    let want_lines = straight.stored_lines();
    let want_lake = lake_rows(Path::new(&straight_lake)).0;
    for failpoint in ["during-forget", "forget-lake-after-rename"] {
        let (env, lake) = forget_env(&lines, &junk);
        let stored = env.count("SELECT count(*) FROM logs");
        let mut args = env.run_args();
        args[0] = "forget".into();
        args.extend(["--ip".into(), VISITOR.into(), "--lake".into(), lake.clone()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let killed = env.weblog_env(&args, &[("WEBLOG_FAILPOINT", failpoint)]);
        assert!(!killed.status.success(), "{failpoint}: {killed:?}");
        if failpoint == "during-forget" {
            assert_eq!(
                env.count("SELECT count(*) FROM logs"),
                stored,
                "rolled back"
            );
        }
        let done = command(&env, "forget", &["--ip", VISITOR, "--lake", &lake], &[]);
        assert_eq!(env.stored_lines(), want_lines, "{failpoint}: {done}");
        assert_eq!(lake_rows(Path::new(&lake)).0, want_lake, "{failpoint}");
        assert_same_files(&csv_outputs(&straight), &csv_outputs(&env), failpoint);
        let again = command(&env, "forget", &["--ip", VISITOR, "--lake", &lake], &[]);
        assert!(json_map(&again["logs"]).is_empty(), "{failpoint}: {again}");
    }
}

/// A masking killed after its first day: the next run masks every day the killed one had
/// left, those before the old horizon's move included.
#[test]
fn a_masking_killed_midway_masks_every_old_day_when_run_again() {
    let env = Env::new();
    let visitors = ["198.51.100.21", "198.51.100.22"];
    let lines = traffic(&[25, 12, 10, 8, 2], &visitors);
    write(&env, "access.log", &lines);
    env.run(&["--anonymize-after-days", "20"]);
    let unmasked = |older_than: u64| {
        env.count(&format!(
            "SELECT count(*) FROM logs WHERE day < DATE '{}'
               AND (raw_log LIKE '%198.51.100.%' OR remote_addr LIKE '198.51.100.%')",
            ago(older_than)
        ))
    };
    assert_eq!(unmasked(20), 0);
    assert_eq!(
        unmasked(5),
        3 * 2 * 3,
        "days 12, 10 and 8 are not masked yet"
    );

    let mut args = env.run_args();
    args.extend(["--anonymize-after-days".to_string(), "5".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let killed = env.weblog_env(&args, &[("WEBLOG_FAILPOINT", "during-mask")]);
    assert!(!killed.status.success(), "{killed:?}");
    assert!(
        unmasked(5) > 0 && unmasked(5) < 18,
        "killed after one day: {}",
        unmasked(5)
    );

    env.run(&["--anonymize-after-days", "5"]);
    assert_eq!(unmasked(5), 0, "every day before the horizon masked");
    let recent = env.count(&format!(
        "SELECT count(*) FROM logs WHERE day = DATE '{}' AND raw_log LIKE '198.51.100.2%'",
        ago(2)
    ));
    assert_eq!(recent, 6, "the recent day untouched");
}

/// The lake's copies of old rows are masked with them, late rows of old days too, each
/// file in place (same rows, same name).
#[test]
fn anonymize_after_days_masks_this_warehouses_lake_files_of_old_days() {
    let env = Env::new();
    let lake = env.path("lake");
    let lake_arg = lake.to_str().unwrap();
    let lines = traffic(&[9, 8, 2], &["198.51.100.31", "198.51.100.32"]);
    write(&env, "access.log", &lines);
    env.run(&["--lake", lake_arg]);
    // Text of the lake files under `day=<days ago>`.
    let day_text = |days: u64| {
        let dir = lake.join("logs").join(format!("day={}", ago(days)));
        assert!(dir.is_dir(), "{}", dir.display());
        files_text(&dir)
    };
    assert!(day_text(9).0.contains("198.51.100.31"));
    let (rows_before, _) = lake_rows(&lake);

    let late = line("198.51.100.33", ago(9), "20:00:00", "/late", FIREFOX, "-");
    std::fs::write(env.logs().join("late.log"), format!("{late}\n")).unwrap();
    let summary = env.run(&["--lake", lake_arg, "--anonymize-after-days", "5"]);
    let masked = json_map(&summary["retention"]["lake_masked"]["files"]);
    assert_eq!(
        masked.keys().cloned().collect::<Vec<_>>(),
        vec![ago(9).to_string(), ago(8).to_string()],
        "{summary}"
    );
    for days in [9, 8] {
        let (text, files) = day_text(days);
        assert!(files > 0);
        assert!(!text.contains("198.51.100."), "day -{days}: {text}");
        assert!(text.contains("198.51.0.0"));
    }
    assert!(
        day_text(2).0.contains("198.51.100.32"),
        "recent days untouched"
    );
    let (rows_after, _) = lake_rows(&lake);
    assert_eq!(
        rows_after.len(),
        rows_before.len() + 1,
        "same rows, and the late one"
    );

    // A later late line of a masked day: its lake file is masked by the run that wrote it.
    let later = line("198.51.100.34", ago(8), "21:00:00", "/later", FIREFOX, "-");
    std::fs::write(env.logs().join("later.log"), format!("{later}\n")).unwrap();
    let summary = env.run(&["--lake", lake_arg, "--anonymize-after-days", "5"]);
    assert_eq!(
        json_map(&summary["retention"]["lake_masked"]["files"]),
        BTreeMap::from([(ago(8).to_string(), 1)]),
        "{summary}"
    );
    assert!(!day_text(8).0.contains("198.51.100."));
    assert_eq!(lake_rows(&lake).0.len(), rows_before.len() + 2);
}
