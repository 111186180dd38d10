//! `--visitor-id hashed`: visitors keyed by a hash of their address under a daily salt.
//! Daily visitors equal a count of the full addresses made here, every output equals the
//! one computed from full addresses, no address is kept anywhere, and a day's salt is
//! deleted once the day is over.

mod common;

use std::collections::BTreeSet;

use common::leaks::{everything_as_text, forms};
use common::*;

/// Generated traffic from `start` on, seeded.
fn generated_from(env: &Env, lines: usize, start: &str) -> Vec<String> {
    env.generated(lines, &["--rate", "0.1", "--start", start, "--seed", "17"])
}

fn hashed_run(env: &Env, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["--visitor-id", "hashed"];
    args.extend_from_slice(extra);
    env.run(&args)
}

/// Noon (UTC) of today, and the `WEBLOG_FAILPOINT` that moves weblog's clock there: the
/// runs of a test then see the same day however close to midnight it runs (a day's salt
/// is deleted once the day is over by weblog's clock).
fn noon_clock() -> (chrono::DateTime<chrono::Utc>, String) {
    let now = chrono::Utc::now();
    let noon = now.date_naive().and_hms_opt(12, 0, 0).unwrap().and_utc();
    (noon, format!("clock:{}", (noon - now).num_seconds()))
}

/// `weblog <args>` under `clock`, which must succeed; its JSON on stdout.
fn run_at(env: &Env, args: &[&str], clock: &str) -> serde_json::Value {
    let out = env.weblog_env(args, &[("WEBLOG_FAILPOINT", clock)]);
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).expect("one JSON object on stdout")
}

#[test]
fn hashed_visitors_equal_full_addresses_and_no_address_is_kept() {
    let env = Env::new();
    // Two days up to this morning: yesterday's salt is still kept between the runs.
    let (noon, clock) = noon_clock();
    // 12,000 lines at 0.1 a second span ~33 h: from 01:00 yesterday to ~10:20 today.
    let start = (noon - chrono::Duration::hours(35))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let lines = generated_from(&env, 12_000, &start);
    let log = env.logs().join("access.log");
    let lake = env.path("lake");
    let mut hashed = env.run_args();
    hashed.extend(["--visitor-id", "hashed", "--lake", lake.to_str().unwrap()].map(String::from));
    let hashed: Vec<&str> = hashed.iter().map(String::as_str).collect();
    for (from, to) in random_cuts(lines.len(), 4, 23) {
        append(&log, &lines[from..to]);
        run_at(&env, &hashed, &clock);
    }
    let distinct: BTreeSet<String> = lines.iter().cloned().collect();
    let reference = daily_visitors(&distinct);
    assert!(reference.len() >= 2, "{reference:?}");
    assert_eq!(
        daily_visitors_csv(&env.read_out("daily_visitors.csv")),
        reference
    );

    // Every output equals one run over the same lines keyed by full addresses.
    let full = Env::new();
    std::fs::copy(&log, full.logs().join("access.log")).unwrap();
    full.run(&[]);
    for name in repo_outputs() {
        let file = format!("{name}.csv");
        assert_eq!(env.read_out(&file), full.read_out(&file), "{file}");
    }

    // Client addresses are keys; every other address is masked (high: /16).
    let conn = env.db();
    let (keys, unkeyed): (i64, i64) = conn
        .query_row(
            "SELECT count(*) FILTER (WHERE client_addr LIKE 'h:%' AND length(client_addr) = 18),
                    count(*) FILTER (WHERE client_addr NOT LIKE 'h:%')
             FROM logs",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((keys, unkeyed), (distinct.len() as i64, 0));
    drop(conn);
    let text = everything_as_text(&env, &[&env.path("out"), &lake]);
    let addresses: BTreeSet<&str> = lines
        .iter()
        .map(|l| l.split(' ').next().unwrap())
        .filter(|a| !a.ends_with(".0.0"))
        .collect();
    assert!(addresses.len() > 100, "{}", addresses.len());
    for addr in addresses {
        for form in forms(addr) {
            assert!(!text.contains(&form), "{form} found in what weblog wrote");
        }
    }

    // `forget` finds a visitor by address through its keys of the days whose salt is kept.
    let mut seen: std::collections::BTreeMap<&str, usize> = Default::default();
    for l in &distinct {
        *seen.entry(l.split(' ').next().unwrap()).or_default() += 1;
    }
    let (visitor, rows) = seen.iter().max_by_key(|(_, n)| **n).unwrap();
    assert!(*rows > 10, "{visitor}: {rows}");
    let mut args = env.run_args();
    args[0] = "forget".into();
    args.extend(["--ip".into(), visitor.to_string()]);
    let forgotten = run_at(
        &env,
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        &clock,
    );
    let removed: u64 = forgotten["logs"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(removed as usize, *rows, "{forgotten}");
    let rest: BTreeSet<String> = distinct
        .iter()
        .filter(|l| !l.starts_with(&format!("{visitor} ")))
        .cloned()
        .collect();
    assert_eq!(
        daily_visitors_csv(&env.read_out("daily_visitors.csv")),
        daily_visitors(&rest)
    );
}

#[test]
fn a_days_salt_is_deleted_once_the_day_is_over() {
    let env = Env::new();
    // Three days in November: all over by now.
    let lines = generated_from(&env, 30_000, "2026-11-01T00:00:00Z");
    let days: BTreeSet<String> = lines.iter().map(|l| day_and_ip(l).0).collect();
    assert!(days.len() >= 3, "{days:?}");
    std::fs::write(env.logs().join("access.log"), lines.join("\n") + "\n").unwrap();
    hashed_run(&env, &[]);
    let salts = env.count("SELECT count(*) FROM visitor_salts");
    assert_eq!(salts, 0, "days over keep no salt");
    // The same addresses on two days have different keys: a visitor is not followed
    // from one day to the next (the days' keys are disjoint sets here, as each day's
    // addresses overlap the next's in the generated traffic).
    let shared = env.count(
        "SELECT count(*) FROM (SELECT client_addr FROM logs GROUP BY client_addr
                               HAVING count(DISTINCT day) > 1)",
    );
    assert_eq!(shared, 0);
    let mut by_day: Vec<BTreeSet<String>> = Vec::new();
    for day in &days {
        by_day.push(
            lines
                .iter()
                .filter(|l| &day_and_ip(l).0 == day)
                .map(|l| day_and_ip(l).1)
                .collect(),
        );
    }
    assert!(
        by_day
            .windows(2)
            .any(|w| w[0].intersection(&w[1]).next().is_some()),
        "the fixture has addresses seen on two days"
    );
    // Recorded, and said when it changes.
    std::fs::write(
        env.logs().join("more.log"),
        lines[0].replace("HTTP/1.1", "HTTP/1.0") + "\n",
    )
    .unwrap();
    let summary = env.run(&[]);
    let warnings = summary["warnings"].to_string();
    assert!(
        warnings.contains("--visitor-id address from this run on (it was hashed)"),
        "{warnings}"
    );
}
