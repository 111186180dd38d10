//! Rollups folded batch by batch (`-- weblog:merge`): however the rows arrive, every output
//! equals one run over all of them; a folder of one's own rollups without merge queries
//! still folds; a bad merge line is one clear error.

mod common;

use common::*;
use std::collections::BTreeMap;
use weblog::generate::Rng;

/// What `weblog generate --format vhosts` writes, as nginx's `log_format`.
const VHOSTS_FORMAT: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $host $request_time $upstream_response_time"#;

/// Three sites' traffic over about two days (generated, seeded), crawlers included.
fn vhost_lines() -> Vec<String> {
    let env = Env::new();
    let dir = env.path("gen");
    let out = env.weblog(&[
        "generate",
        "--dir",
        &dir.display().to_string(),
        "--format",
        "vhosts",
        "--lines",
        "6000",
        "--rotate-every",
        "6000",
        "--rate",
        "0.04",
        "--start",
        "2026-11-01T20:00:00Z",
        "--seed",
        "11",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    complete_lines(&dir.join("log_a.txt"))
}

fn outputs(env: &Env) -> BTreeMap<String, String> {
    repo_outputs()
        .into_iter()
        .map(|n| {
            let csv = env.read_out(&format!("{n}.csv"));
            (n, csv)
        })
        .collect()
}

/// The run's arguments, with the vhosts format and `sql` for the SQL folder.
fn args_with(env: &Env, sql: Option<&std::path::Path>) -> Vec<String> {
    let mut args = match sql {
        Some(sql) => env.run_args_with_sql(sql),
        None => env.run_args(),
    };
    args.extend(["--format".to_string(), VHOSTS_FORMAT.to_string()]);
    args
}

fn as_strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// `lines` appended in `cuts` runs of random sizes (the last takes the rest), with `sql`.
fn in_cuts(lines: &[String], cuts: usize, seed: u64, sql: Option<&std::path::Path>) -> Env {
    in_cuts_with(lines, cuts, seed, sql, &[])
}

/// [`in_cuts`], each run with the environment variables `vars`.
fn in_cuts_with(
    lines: &[String],
    cuts: usize,
    seed: u64,
    sql: Option<&std::path::Path>,
    vars: &[(&str, &str)],
) -> Env {
    let env = Env::new();
    let log = env.logs().join("access.log");
    for (from, to) in random_cuts(lines.len(), cuts, seed) {
        append(&log, &lines[from..to]);
        let out = env.weblog_env(&as_strs(&args_with(&env, sql)), vars);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    env
}

#[test]
fn sites_and_crawlers_cut_at_random_fold_into_what_one_run_computes() {
    let lines = vhost_lines();
    // The generator's lines are in time order; shuffled blocks make later runs bring rows
    // for days, visitors and visits stored before (and rows of a second stored earlier).
    let mut shuffled = lines.clone();
    let mut rng = Rng(5);
    for block in shuffled.chunks_mut(400) {
        let i = rng.below(block.len() as u64) as usize;
        block.rotate_left(i);
    }
    let one = in_cuts(&shuffled, 1, 1, None);
    let whole = outputs(&one);
    // A run into an empty warehouse builds no keys: a day's are built when a later run first
    // adds to it (checked on the cuts below).
    let built: i64 = one
        .db()
        .query_row("SELECT count(*) FROM rollup_daily__key_days", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(built, 0);
    check_quantiles(&one);
    // The fixture is what the test says: several sites, crawlers, two days or more.
    assert!(whole["vhosts"].lines().count() >= 4, "{}", whole["vhosts"]);
    assert!(whole["bots"].lines().count() >= 3, "{}", whole["bots"]);
    assert!(whole["daily_visitors"].lines().count() >= 3);
    for seed in [2, 3] {
        // Seed 3 builds keys and rebuilds one day per transaction (the step is 1 row).
        let vars: &[(&str, &str)] = if seed == 3 {
            &[("WEBLOG_REBUILD_ROWS", "1")]
        } else {
            &[]
        };
        let cut = in_cuts_with(&shuffled, 9, seed, None, vars);
        let got = outputs(&cut);
        for (name, csv) in &whole {
            assert_eq!(&got[name], csv, "{name} (cuts with seed {seed})");
        }
        // On the days whose keys are kept (those a run brought rows for after the first),
        // each visitor a rollup counts has a key row; no more.
        let (days, keys, visitors): (i64, i64, i64) = cut
            .db()
            .query_row(
                "SELECT (SELECT count(*) FROM rollup_daily__key_days),
                        (SELECT count(*) FROM rollup_daily__keys WHERE all_vhosts AND visitors),
                        (SELECT sum(visitors) FROM rollup_daily
                         WHERE all_vhosts AND day IN (SELECT day FROM rollup_daily__key_days))",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert!(days >= 2, "{days}");
        assert_eq!(keys, visitors);
        check_quantiles(&cut);
    }
}

#[test]
fn own_rollups_without_merge_queries_still_fold_and_a_bad_merge_line_is_named() {
    let lines = vhost_lines();
    let whole = outputs(&in_cuts(&lines, 1, 1, None));
    // A folder of one's own rollups, without rollups/merge/: visits are recomputed for the
    // addresses a batch brings, and come out the same.
    let own = Env::new();
    let sql = own.path("sql");
    copy_dir(&repo_sql(), &sql);
    std::fs::remove_dir_all(sql.join("rollups").join("merge")).unwrap();
    let cut = in_cuts(&lines, 5, 4, Some(&sql));
    let got = outputs(&cut);
    for (name, csv) in &whole {
        assert_eq!(&got[name], csv, "{name}");
    }
    // A merge line weblog cannot follow: one error line naming the file and the line.
    let f = sql.join("rollups").join("statuses.sql");
    let text = std::fs::read_to_string(&f).unwrap();
    std::fs::write(
        &f,
        text.replace("-- weblog:merge add(", "-- weblog:merge sum("),
    )
    .unwrap();
    let out = cut.weblog(&as_strs(&args_with(&cut, Some(&sql))));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(
            "statuses.sql: `-- weblog:merge sum(requests, human_requests)`: unknown merge `sum`"
        ),
        "{stderr}"
    );
}

#[test]
fn rows_arriving_later_join_a_visit_and_its_entry_and_exit_by_hand() {
    // One visitor; times as seconds after 10:00:00 on 2026-11-02.
    let line = |s: u32, path: &str, referer: &str| {
        format!(
            r#"198.51.100.7 - - [02/Nov/2026:{:02}:{:02}:{:02} +0000] "GET {path} HTTP/1.1" 200 512 "{referer}" "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0""#,
            10 + s / 3600,
            s / 60 % 60,
            s % 60
        )
    };
    let first = [
        line(0, "/b", "https://z.example/"),
        line(10, "/c", "-"),
        line(2400, "/e", "-"),
    ];
    // Later: a page view in the entry second (less path, less referer), one in the exit
    // second of the first visit, and one that bridges the 40-minute gap (two 20-minute gaps,
    // each within the 30-minute timeout).
    let later = [
        line(0, "/a", "https://y.example/"),
        line(10, "/d", "-"),
        line(1200, "/f", "-"),
    ];
    let check = |env: &Env| {
        let (visits, pageviews, entry, referrer, exit, seconds): (i64, i64, String, String, String, f64) = env
            .db()
            .query_row(
                "SELECT count(*), sum(pageviews)::BIGINT, any_value(entry_page), any_value(entry_referrer),
                        any_value(exit_page), any_value(duration_seconds)
                 FROM rollup_visits WHERE all_vhosts",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .unwrap();
        assert_eq!(
            (
                visits,
                pageviews,
                entry.as_str(),
                referrer.as_str(),
                exit.as_str(),
                seconds
            ),
            (1, 6, "/a", "https://y.example/", "/e", 2400.0)
        );
        assert!(env.read_out("entry_pages.csv").contains("\n/a,1,0,"));
    };
    let env = Env::new();
    let log = env.logs().join("access.log");
    append(&log, &first);
    env.run(&[]);
    assert_eq!(
        env.count("SELECT count(*) FROM rollup_visits WHERE all_vhosts"),
        2
    );
    append(&log, &later);
    env.run(&[]);
    check(&env);
    let one = Env::new();
    append(&one.logs().join("access.log"), &first);
    append(&one.logs().join("access.log"), &later);
    one.run(&[]);
    check(&one);
}

/// response_times and slow_pages, read from per-day counts of each duration, against
/// DuckDB's own quantile_cont over the stored rows, to the last bit.
fn check_quantiles(env: &Env) {
    let db = env.db();
    let rows = |sql: &str| -> Vec<Vec<String>> {
        let mut stmt = db.prepare(sql).unwrap();
        let mut rows = stmt.query([]).unwrap();
        let mut out = Vec::new();
        while let Some(r) = rows.next().unwrap() {
            let n = r.as_ref().column_count();
            out.push(
                (0..n)
                    .map(|i| format!("{:?}", r.get::<_, duckdb::types::Value>(i).unwrap()))
                    .collect(),
            );
        }
        out
    };
    // As typed values: the CSV's text read back as the column's type.
    let typed = |name: &str, columns: &str| {
        rows(&format!(
            "SELECT {columns} FROM read_csv('{}', header = true, all_varchar = true)",
            env.path("out").join(name).display()
        ))
    };
    let want = rows(
        "SELECT day::VARCHAR, count(*), quantile_cont(request_time, 0.5), quantile_cont(request_time, 0.9),
                quantile_cont(request_time, 0.95), quantile_cont(request_time, 0.99), max(request_time)
         FROM logs WHERE request_time IS NOT NULL GROUP BY day ORDER BY day",
    );
    assert!(want.len() >= 2, "{want:?}");
    let got = typed(
        "response_times.csv",
        "day, timed_requests::BIGINT, p50::DOUBLE, p90::DOUBLE, p95::DOUBLE, p99::DOUBLE, max_seconds::DOUBLE",
    );
    assert_eq!(got, want);
    let want = rows(
        "SELECT split_part(request_path, '?', 1) AS path, count(*), quantile_cont(request_time, 0.5),
                quantile_cont(request_time, 0.95), max(request_time)
         FROM logs WHERE request_time IS NOT NULL AND request_path IS NOT NULL
         GROUP BY 1 HAVING count(*) >= 20 ORDER BY 4 DESC, 1",
    );
    assert!(want.len() >= 5, "{want:?}");
    let got = typed(
        "slow_pages.csv",
        "path, timed_requests::BIGINT, p50::DOUBLE, p95::DOUBLE, max_seconds::DOUBLE",
    );
    assert_eq!(got, want);
}

/// The rollups of sql/rollups/ that count something distinct (each keeps two key tables).
fn keyed_rollups() -> usize {
    std::fs::read_dir(repo_sql().join("rollups"))
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok())
        .filter(|sql| {
            sql.lines()
                .any(|l| l.starts_with("-- weblog:merge") && l.contains("distinct("))
        })
        .count()
}

#[test]
fn a_warehouse_from_before_the_key_tables_gets_them_without_a_rebuild() {
    let lines = vhost_lines();
    let whole = outputs(&in_cuts(&lines, 1, 1, None));
    let env = Env::new();
    let log = env.logs().join("access.log");
    let run = || {
        let out = env.weblog(&as_strs(&args_with(&env, None)));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    append(&log, &lines[..3000]);
    run();
    // As weblog left a warehouse before it kept key tables: none, and no folding watermark.
    {
        let db = duckdb::Connection::open(env.db_path()).unwrap();
        let tables: Vec<String> = db
            .prepare("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '%\\_\\_key%' ESCAPE '\\'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(tables.len(), 2 * keyed_rollups(), "{tables:?}");
        for t in tables {
            db.execute_batch(&format!("DROP TABLE \"{t}\"")).unwrap();
        }
        db.execute_batch("DELETE FROM weblog_meta WHERE starts_with(key, 'rollups:batch')")
            .unwrap();
    }
    append(&log, &lines[3000..4500]);
    let s = run();
    assert!(s.get("rollups_rebuilt").is_none(), "{s}");
    assert_eq!(
        env.count(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '%\\_\\_key%' ESCAPE '\\'"
        ),
        2 * keyed_rollups() as i64
    );
    append(&log, &lines[4500..]);
    run();
    let got = outputs(&env);
    for (name, csv) in &whole {
        assert_eq!(&got[name], csv, "{name}");
    }
}

/// Rollup tables (with their key tables) whose rows are not in day order, `sql` each.
fn out_of_day_order(env: &Env) -> Vec<(String, i64)> {
    let conn = env.db();
    let tables: Vec<String> = {
        let mut stmt = conn
            .prepare(
                "SELECT table_name FROM duckdb_columns() WHERE column_name = 'day'
                   AND starts_with(table_name, 'rollup_') AND table_name <> 'rollup_pending'
                 ORDER BY 1",
            )
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert!(tables.len() > 20, "{tables:?}");
    tables
        .into_iter()
        .map(|t| {
            // Steps down from one stored row to the next, in storage (rowid) order.
            let steps: i64 = conn
                .query_row(
                    &format!(
                        "SELECT count(*) FROM (SELECT day < lag(day) OVER (ORDER BY rowid) AS down
                         FROM \"{t}\") WHERE down"
                    ),
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            (t, steps)
        })
        .filter(|(_, steps)| *steps > 0)
        .collect()
}

/// Folds and recomputes read a rollup by day, and DuckDB skips a row group only by its
/// min/max day: rows stored out of day order made each fold scan every stored day.
#[test]
fn rollups_are_stored_in_day_order_and_an_older_warehouse_is_put_in_order_once() {
    let lines = vhost_lines();
    let (first, rest) = lines.split_at(lines.len() - 200);
    let env = in_cuts(first, 3, 7, None);
    assert_eq!(out_of_day_order(&env), vec![]);
    // A warehouse as an older weblog left it: rollups in hash order, no marker.
    {
        let conn = duckdb::Connection::open(env.db_path()).unwrap();
        let tables: Vec<String> = {
            let mut stmt = conn
                .prepare(
                    "SELECT DISTINCT table_name FROM duckdb_columns() WHERE column_name = 'day'
                       AND starts_with(table_name, 'rollup_') AND table_name <> 'rollup_pending'",
                )
                .unwrap();
            stmt.query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        for t in &tables {
            conn.execute_batch(&format!(
                "CREATE OR REPLACE TABLE \"{t}\" AS SELECT * FROM \"{t}\" ORDER BY hash(rowid)"
            ))
            .unwrap();
        }
        conn.execute_batch("DELETE FROM weblog_meta WHERE key = 'rollups_by_day'")
            .unwrap();
    }
    assert!(!out_of_day_order(&env).is_empty());
    append(&env.logs().join("access.log"), rest);
    let out = env.weblog(&as_strs(&args_with(&env, None)));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out_of_day_order(&env), vec![]);
    // And nothing else changed: the outputs of one run over the same lines.
    let one = in_cuts(&lines, 1, 1, None);
    let (got, want) = (outputs(&env), outputs(&one));
    for (name, csv) in &want {
        assert_eq!(&got[name], csv, "{name}");
    }
}

#[test]
fn a_run_stopped_between_commits_of_the_rollups_folds_nothing_twice() {
    // The folds commit in two transactions (two lanes), and a rollup rebuilt (its SQL
    // changed) commits before the run's new rows are folded: a run stopped after either
    // first commit must leave what the next run completes exactly.
    let lines = vhost_lines();
    let whole = outputs(&in_cuts(&lines, 1, 1, None));
    let env = Env::new();
    let log = env.logs().join("access.log");
    let sql = env.path("sql");
    copy_dir(&repo_sql(), &sql);
    let run = |failpoint: Option<&str>| {
        let vars: Vec<(&str, &str)> = failpoint
            .map(|f| ("WEBLOG_FAILPOINT", f))
            .into_iter()
            .collect();
        env.weblog_env(&as_strs(&args_with(&env, Some(&sql))), &vars)
    };
    append(&log, &lines[..2000]);
    assert!(run(None).status.success());
    append(&log, &lines[2000..3500]);
    let out = run(Some("between-rollup-lanes"));
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("failpoint between-rollup-lanes"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // One lane's rollups are a batch ahead of the others'.
    let marks = env.count(
        "SELECT count(DISTINCT value) FROM weblog_meta WHERE starts_with(key, 'rollups:batch:')",
    );
    assert_eq!(marks, 2);
    // A keyed rollup's SQL changes: rebuilt at once, then stopped before the new rows fold.
    let daily = sql.join("rollups").join("daily.sql");
    let text = std::fs::read_to_string(&daily).unwrap();
    std::fs::write(&daily, format!("-- edited\n{text}")).unwrap();
    append(&log, &lines[3500..4800]);
    assert!(!run(Some("during-rollup")).status.success());
    append(&log, &lines[4800..]);
    let out = run(None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = outputs(&env);
    for (name, csv) in &whole {
        assert_eq!(&got[name], csv, "{name}");
    }
}
