//! Visits, checked against the test's own sort-and-scan over the log lines: on the real
//! sample and on generated traffic, in one run and in many random cuts, and after a crash
//! between ingest and rollup.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;

/// One request as the test reads a combined line itself.
#[derive(Clone, Debug)]
struct Req {
    day: String,
    addr: String,
    agent: String,
    /// Seconds since the epoch, UTC.
    t: i64,
    method: String,
    path: String,
    status: i32,
}

/// A deliberately plain reading of a combined line (the fixture's and the generator's).
fn read(line: &str) -> Option<Req> {
    let addr = line.split(' ').next()?.to_string();
    let open = line.find('[')?;
    let close = open + line[open..].find(']')?;
    let stamp = &line[open + 1..close];
    let t = chrono::DateTime::parse_from_str(stamp, "%d/%b/%Y:%H:%M:%S %z").ok()?;
    let day = t.format("%Y-%m-%d").to_string();
    let rest = &line[close + 2..];
    let (request, rest) = rest.strip_prefix('"')?.split_once("\" ")?;
    let mut parts = request.split(' ');
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let mut fields = rest.splitn(3, ' ');
    let status: i32 = fields.next()?.parse().ok()?;
    fields.next()?;
    let quoted = fields.next().unwrap_or("");
    // "referer" "agent": the agent is the fourth piece between quotes.
    let agent = quoted.split('"').nth(3).unwrap_or("").to_string();
    Some(Req {
        day,
        addr,
        agent,
        t: t.timestamp(),
        method,
        path,
        status,
    })
}

fn is_static(path: &str) -> bool {
    let p = path.split('?').next().unwrap_or("").to_lowercase();
    let exts = [
        "css", "js", "mjs", "map", "png", "jpg", "jpeg", "gif", "svg", "webp", "avif", "ico",
        "bmp", "woff", "woff2", "ttf", "otf", "eot",
    ];
    p.rsplit_once('.').is_some_and(|(_, e)| exts.contains(&e))
}

fn page_view(r: &Req) -> bool {
    (r.method == "GET" || r.method == "HEAD")
        && (200..300).contains(&r.status)
        && !r.path.is_empty()
        && !is_static(&r.path)
}

#[derive(Debug)]
struct Visit {
    day: String,
    human: bool,
    duration: i64,
    pageviews: usize,
    entry: Option<String>,
    exit: Option<String>,
}

/// Sort each visitor's requests of each day by time and cut at gaps over the timeout.
fn visits(reqs: &[Req], bots: &BTreeSet<String>, timeout_s: i64) -> Vec<Visit> {
    let mut by_visitor: BTreeMap<(String, String, String), Vec<&Req>> = BTreeMap::new();
    for r in reqs {
        by_visitor
            .entry((r.day.clone(), r.addr.clone(), r.agent.clone()))
            .or_default()
            .push(r);
    }
    let mut out = Vec::new();
    for ((day, _, agent), mut rs) in by_visitor {
        rs.sort_by_key(|r| r.t);
        let mut current: Vec<&Req> = Vec::new();
        let mut flush = |current: &mut Vec<&Req>| {
            if current.is_empty() {
                return;
            }
            let pages: Vec<&Req> = current.iter().copied().filter(|r| page_view(r)).collect();
            // The entry: the first second with a page view, its least path; the exit: the
            // last such second, its greatest path.
            let first_t = pages.iter().map(|r| r.t).min();
            let last_t = pages.iter().map(|r| r.t).max();
            let page = |p: &str| p.split('?').next().unwrap_or("").to_string();
            let entry = pages
                .iter()
                .filter(|r| Some(r.t) == first_t)
                .map(|r| r.path.as_str())
                .min();
            let exit = pages
                .iter()
                .filter(|r| Some(r.t) == last_t)
                .map(|r| r.path.as_str())
                .max();
            out.push(Visit {
                day: day.clone(),
                human: !bots.contains(&agent),
                duration: current.last().unwrap().t - current[0].t,
                pageviews: pages.len(),
                entry: entry.map(page),
                exit: exit.map(page),
            });
            current.clear();
        };
        for r in rs {
            if let Some(last) = current.last()
                && r.t - last.t > timeout_s
            {
                flush(&mut current);
            }
            current.push(r);
        }
        flush(&mut current);
    }
    out
}

/// The bot flag weblog stored per agent (classification is an input here, not under test).
fn bot_agents(env: &Env) -> BTreeSet<String> {
    env.db()
        .prepare("SELECT DISTINCT coalesce(http_user_agent, '') FROM logs WHERE is_bot")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn close(a: &str, b: f64) -> bool {
    let a: f64 = a.parse().unwrap_or(f64::NAN);
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

/// Every visit output equals the reference over `lines`.
fn check_visits(env: &Env, lines: &[String], timeout_s: i64) {
    let distinct: BTreeSet<&String> = lines.iter().collect();
    let reqs: Vec<Req> = distinct.iter().filter_map(|l| read(l)).collect();
    assert_eq!(reqs.len(), distinct.len(), "the test reads every line");
    let bots = bot_agents(env);
    let all = visits(&reqs, &bots, timeout_s);
    // visits: per day.
    let per_day = csv_rows(&env.read_out("visits.csv"));
    let days: BTreeSet<&String> = all.iter().map(|v| &v.day).collect();
    assert_eq!(per_day.len(), days.len());
    for row in &per_day {
        let day: Vec<&Visit> = all.iter().filter(|v| v.day == row["day"]).collect();
        let human: Vec<&&Visit> = day.iter().filter(|v| v.human).collect();
        let pageviews: usize = human.iter().map(|v| v.pageviews).sum();
        let bounces = human.iter().filter(|v| v.pageviews == 1).count();
        assert_eq!(row["visits"], day.len().to_string(), "{}", row["day"]);
        assert_eq!(row["human_visits"], human.len().to_string());
        assert_eq!(row["pageviews"], pageviews.to_string());
        assert_eq!(row["bounces"], bounces.to_string());
        let n = human.len() as f64;
        assert!(close(&row["bounce_rate"], bounces as f64 / n), "{row:?}");
        let durations: Vec<f64> = human.iter().map(|v| v.duration as f64).collect();
        assert!(
            close(&row["avg_visit_seconds"], durations.iter().sum::<f64>() / n),
            "{row:?}"
        );
        assert!(
            close(&row["median_visit_seconds"], median(durations)),
            "{row:?}"
        );
        assert!(
            close(&row["pages_per_visit"], pageviews as f64 / n),
            "{row:?}"
        );
    }
    // visit_durations: AWStats' ranges, lower bound included.
    let human: Vec<&Visit> = all.iter().filter(|v| v.human).collect();
    let bounds = [
        ("0-30s", 0, 30),
        ("30s-2m", 30, 120),
        ("2m-5m", 120, 300),
        ("5m-15m", 300, 900),
        ("15m-30m", 900, 1800),
        ("30m-1h", 1800, 3600),
        ("1h+", 3600, i64::MAX),
    ];
    let ranges = csv_rows(&env.read_out("visit_durations.csv"));
    assert_eq!(ranges.len(), 7);
    for (row, (name, lo, hi)) in ranges.iter().zip(bounds) {
        let n = human
            .iter()
            .filter(|v| v.duration >= lo && v.duration < hi)
            .count();
        assert_eq!(row["duration"], name);
        assert_eq!(row["visits"], n.to_string(), "{name}");
    }
    // entry and exit pages.
    let count_by = |f: &dyn Fn(&Visit) -> Option<String>| {
        let mut m: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for v in &human {
            if let Some(p) = f(v) {
                let e = m.entry(p).or_default();
                e.0 += 1;
                e.1 += usize::from(v.pageviews == 1);
            }
        }
        m
    };
    let entries = count_by(&|v| v.entry.clone());
    let got: BTreeMap<String, (usize, usize)> = csv_rows(&env.read_out("entry_pages.csv"))
        .iter()
        .map(|r| {
            (
                r["path"].clone(),
                (r["visits"].parse().unwrap(), r["bounces"].parse().unwrap()),
            )
        })
        .collect();
    assert_eq!(got, entries, "entry pages");
    let exits = count_by(&|v| v.exit.clone());
    let got: BTreeMap<String, usize> = csv_rows(&env.read_out("exit_pages.csv"))
        .iter()
        .map(|r| (r["path"].clone(), r["exits"].parse().unwrap()))
        .collect();
    assert_eq!(
        got,
        exits.iter().map(|(k, v)| (k.clone(), v.0)).collect(),
        "exit pages"
    );
}

fn ingest_in_cuts(lines: &[String], cuts: usize, seed: u64) -> Env {
    let env = Env::new();
    let log = env.logs().join("access.log");
    for (from, to) in random_cuts(lines.len(), cuts, seed) {
        append(&log, &lines[from..to]);
        env.run(&[]);
    }
    env
}

fn outputs_of(env: &Env) -> BTreeMap<String, String> {
    repo_outputs()
        .into_iter()
        .map(|n| {
            let csv = env.read_out(&format!("{n}.csv"));
            (n, csv)
        })
        .collect()
}

#[test]
fn visits_of_the_real_sample_equal_a_sort_and_scan() {
    let lines = complete_lines(&fixture("apache_logs"));
    let env = Env::new();
    append(&env.logs().join("access.log"), &lines);
    env.run(&[]);
    check_visits(&env, &lines, 1800);
    // AWStats' hour: fewer, longer visits; the same reference with its timeout.
    env.run(&["--visit-timeout", "60m"]);
    check_visits(&env, &lines, 3600);
}

#[test]
fn visits_however_the_log_is_cut_equal_one_run_and_survive_a_crash_before_the_rollup() {
    let lines = complete_lines(&fixture("apache_logs"));
    let one = ingest_in_cuts(&lines, 1, 1);
    let whole = outputs_of(&one);
    for seed in [2, 3] {
        let cut = ingest_in_cuts(&lines, 7, seed);
        assert_eq!(outputs_of(&cut), whole, "cuts with seed {seed}");
    }
    // Killed after the rows were committed, before the rollups: the next run catches up.
    let env = Env::new();
    let log = env.logs().join("access.log");
    append(&log, &lines[..6000]);
    env.run(&[]);
    append(&log, &lines[6000..]);
    let args = env.run_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let crashed = env.weblog_env(&args, &[("WEBLOG_FAILPOINT", "during-rollup")]);
    assert!(!crashed.status.success());
    env.run(&[]);
    assert_eq!(outputs_of(&env), whole, "after the crash");
}

#[test]
fn generated_traffic_has_meaningful_visits_equal_to_a_sort_and_scan() {
    let env = Env::new();
    let dir = env.logs().display().to_string();
    let out = env.weblog(&[
        "generate",
        "--dir",
        &dir,
        "--lines",
        "6000",
        "--rotate-every",
        "100000",
        "--rate",
        "0.5",
        "--start",
        "2026-11-02T08:00:00+01:00",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = complete_lines(&env.logs().join("log_a.txt"));
    assert_eq!(lines.len(), 6000);
    env.run(&[]);
    check_visits(&env, &lines, 1800);
    // The demo's figures mean something: bounces and multi-page visits, campaigns, engines.
    let per_day = csv_rows(&env.read_out("visits.csv"));
    let rate: f64 = per_day[0]["bounce_rate"].parse().unwrap();
    assert!((0.2..0.8).contains(&rate), "bounce rate {rate}");
    let ppv: f64 = per_day[0]["pages_per_visit"].parse().unwrap();
    assert!(ppv > 1.3, "pages per visit {ppv}");
    assert!(!csv_rows(&env.read_out("campaigns.csv")).is_empty());
    let engines = csv_rows(&env.read_out("search_engines.csv"));
    assert!(
        engines.iter().any(|r| r["engine"] == "Google"),
        "{engines:?}"
    );
    // Referrers leave the site itself out, and the run says which host it took as its own.
    let refs = csv_rows(&env.read_out("referrers.csv"));
    assert!(
        refs.iter().all(|r| r["site"] != "www.example.com"),
        "{refs:?}"
    );
}
