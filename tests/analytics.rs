//! The outputs on the real apache_logs sample, against counts computed here and against
//! GoAccess's published numbers; rollups refreshed run by run against a full recompute.

mod common;

use std::collections::BTreeMap;

use common::*;

fn sample_env() -> Env {
    let env = Env::new();
    std::fs::copy(fixture("apache_logs"), env.logs().join("access.log")).unwrap();
    env
}

/// Distinct lines of the sample (the warehouse keeps each once).
fn distinct_sample() -> Vec<String> {
    let set: std::collections::BTreeSet<String> = complete_lines(&fixture("apache_logs"))
        .into_iter()
        .collect();
    set.into_iter().collect()
}

/// Reference split of a combined line: (request, status, hour) by quote positions.
fn request_status_hour(line: &str) -> (String, String, u32) {
    let parts: Vec<&str> = line.split('"').collect();
    let request = parts[1].to_string();
    let status = parts[2].split_whitespace().next().unwrap().to_string();
    let open = line.find('[').unwrap();
    let hour = line[open + 13..open + 15].parse().unwrap();
    (request, status, hour)
}

#[test]
fn goaccess_unique_visitors_are_reproduced() {
    // GoAccess 1.7 on this sample: 359 / 643 / 570 / 523 visitors for 17–20 May 2015
    // (same IP + same day + same agent, 4xx excluded). An external reference.
    let env = sample_env();
    env.run(&[]);
    let rows = csv_rows(&env.read_out("daily_visitors.csv"));
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r["day"].as_str(), r["visitors_ip_agent"].as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("2015-05-17", "359"),
            ("2015-05-18", "643"),
            ("2015-05-19", "570"),
            ("2015-05-20", "523")
        ]
    );
}

#[test]
fn status_codes_not_found_and_hours_match_a_reference_count() {
    let env = sample_env();
    env.run(&[]);
    let lines = distinct_sample();
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    let mut not_found: BTreeMap<String, usize> = BTreeMap::new();
    let mut hours: BTreeMap<u32, usize> = BTreeMap::new();
    for l in &lines {
        let (request, status, hour) = request_status_hour(l);
        *statuses.entry(status.clone()).or_default() += 1;
        *hours.entry(hour).or_default() += 1;
        if status == "404" {
            let path = request.split(' ').nth(1).unwrap().to_string();
            *not_found.entry(path).or_default() += 1;
        }
    }
    let got: BTreeMap<String, usize> = csv_rows(&env.read_out("status_codes.csv"))
        .into_iter()
        .map(|r| (r["status"].clone(), r["requests"].parse().unwrap()))
        .collect();
    assert_eq!(got, statuses);
    let got: BTreeMap<String, usize> = csv_rows(&env.read_out("not_found.csv"))
        .into_iter()
        .map(|r| (r["path"].clone(), r["requests"].parse().unwrap()))
        .collect();
    assert_eq!(got, not_found);
    let got: BTreeMap<u32, usize> = csv_rows(&env.read_out("hourly_traffic.csv"))
        .into_iter()
        .map(|r| (r["hour"].parse().unwrap(), r["requests"].parse().unwrap()))
        .collect();
    assert_eq!(got, hours);
    assert_eq!(hours.values().sum::<usize>(), 9_981);
}

#[test]
fn pages_and_static_files_split_every_request() {
    let env = sample_env();
    env.run(&[]);
    let mut reference: BTreeMap<String, usize> = BTreeMap::new();
    for l in distinct_sample() {
        let (request, _, _) = request_status_hour(&l);
        if let Some(path) = request.split(' ').nth(1) {
            *reference
                .entry(path.split('?').next().unwrap().to_string())
                .or_default() += 1;
        }
    }
    let mut got: BTreeMap<String, usize> = BTreeMap::new();
    for file in ["top_pages.csv", "static_files.csv"] {
        for r in csv_rows(&env.read_out(file)) {
            assert!(
                got.insert(r["path"].clone(), r["requests"].parse().unwrap())
                    .is_none()
            );
        }
    }
    assert_eq!(got, reference);
    let statics = csv_rows(&env.read_out("static_files.csv"));
    // The documented static extensions.
    let exts = [
        "css", "js", "mjs", "map", "png", "jpg", "jpeg", "gif", "svg", "webp", "avif", "ico",
        "bmp", "woff", "woff2", "ttf", "otf", "eot",
    ];
    let is_static = |p: &str| {
        let p = p.to_lowercase();
        exts.iter().any(|x| p.ends_with(&format!(".{x}")))
    };
    for r in &statics {
        assert!(is_static(&r["path"]), "{}", r["path"]);
    }
    for r in csv_rows(&env.read_out("top_pages.csv")) {
        assert!(!is_static(&r["path"]), "{}", r["path"]);
    }
}

#[test]
fn browsers_and_bots_hand_checked_on_real_agents() {
    let env = sample_env();
    env.run(&[]);
    let conn = env.db();
    let class = |agent: &str| -> (String, bool) {
        conn.query_row(
            "SELECT DISTINCT browser_family, is_bot FROM logs WHERE http_user_agent = ?",
            [agent],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap_or_else(|e| panic!("{agent}: {e}"))
    };
    // Agents copied from the sample, classified by hand.
    let cases = [
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36",
            "Chrome",
            false,
        ),
        (
            "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:24.0) Gecko/20100101 Firefox/24.0",
            "Firefox",
            false,
        ),
        (
            "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)",
            "IE",
            false,
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 6_0_1 like Mac OS X) AppleWebKit/536.26 (KHTML, like Gecko) Version/6.0 Mobile/10A523 Safari/8536.25",
            "Mobile Safari",
            false,
        ),
        (
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Googlebot",
            true,
        ),
        (
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "bingbot",
            true,
        ),
    ];
    for (agent, family, bot) in cases {
        assert_eq!(class(agent), (family.to_string(), bot), "{agent}");
    }
    let feed: bool = conn
        .query_row(
            "SELECT bool_and(is_bot) FROM logs WHERE http_user_agent LIKE 'UniversalFeedParser/%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(feed, "feed readers are bots");
    // browser_counts holds humans only; its totals equal the non-bot rows.
    let humans: i64 = conn
        .query_row("SELECT count(*) FROM logs WHERE NOT is_bot", [], |r| {
            r.get(0)
        })
        .unwrap();
    let total: i64 = csv_rows(&env.read_out("browser_counts.csv"))
        .iter()
        .map(|r| r["requests"].parse::<i64>().unwrap())
        .sum();
    assert_eq!(total, humans);
    let bots: i64 = csv_rows(&env.read_out("bots.csv"))
        .iter()
        .map(|r| r["requests"].parse::<i64>().unwrap())
        .sum();
    assert_eq!(bots + humans, 9_981);
    let google = csv_rows(&env.read_out("bots.csv"))
        .into_iter()
        .find(|r| r["crawler"] == "Googlebot")
        .expect("Googlebot listed");
    // By hand: Googlebot proper says "Googlebot/"; its Image and Mobile crawlers are listed apart.
    let by_hand: usize = distinct_sample()
        .iter()
        .filter(|l| l.contains("Googlebot/") && !l.contains("Googlebot-"))
        .count();
    assert_eq!(google["requests"].parse::<usize>().unwrap(), by_hand);
}

#[test]
fn filters_restrict_days_and_traffic() {
    let env = sample_env();
    env.run(&[
        "--from",
        "2015-05-18",
        "--to",
        "2015-05-19",
        "--humans-only",
        "--site-host",
        "semicomplete.com",
    ]);
    let days: Vec<String> = csv_rows(&env.read_out("daily_visitors.csv"))
        .into_iter()
        .map(|r| r["day"].clone())
        .collect();
    assert_eq!(days, vec!["2015-05-18", "2015-05-19"]);
    let sites: Vec<String> = csv_rows(&env.read_out("referrers.csv"))
        .into_iter()
        .map(|r| r["site"].clone())
        .collect();
    assert!(
        !sites
            .iter()
            .any(|s| s == "semicomplete.com" || s.ends_with(".semicomplete.com")),
        "{sites:?}"
    );
    assert!(sites.iter().any(|s| s == "www.google.com"));
    let conn = env.db();
    let humans_in_range: i64 = conn
        .query_row(
            "SELECT count(*) FROM logs WHERE NOT is_bot AND day BETWEEN '2015-05-18' AND '2015-05-19'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let statuses: i64 = csv_rows(&env.read_out("status_codes.csv"))
        .iter()
        .map(|r| r["requests"].parse::<i64>().unwrap())
        .sum();
    assert_eq!(statuses, humans_in_range);
}

#[test]
fn many_small_runs_equal_one_full_recompute() {
    let lines = complete_lines(&fixture("apache_logs"));
    let step = Env::new();
    let log = step.logs().join("access.log");
    let mut written = String::new();
    // Eleven runs over growing prefixes of the file (lines are not in time order, so
    // later runs touch days refreshed before).
    for chunk in lines.chunks(937) {
        for l in chunk {
            written.push_str(l);
            written.push('\n');
        }
        std::fs::write(&log, &written).unwrap();
        step.run(&[]);
    }
    let full = sample_env();
    full.run(&[]);
    let outputs: Vec<String> = std::fs::read_dir(full.path("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".csv"))
        .collect();
    let expected: Vec<String> = repo_outputs().iter().map(|n| format!("{n}.csv")).collect();
    let mut outputs = outputs;
    outputs.sort();
    assert_eq!(outputs, expected, "every output of sql/ was written");
    for name in outputs {
        assert_eq!(step.read_out(&name), full.read_out(&name), "{name}");
    }
}

#[test]
fn a_version_1_database_is_upgraded_in_place() {
    let env = sample_env();
    {
        // The schema weblog 0.1 (version 1) wrote, with one row in it.
        let conn = duckdb::Connection::open(env.db_path()).unwrap();
        conn.execute_batch(
            "CREATE TABLE weblog_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
             INSERT INTO weblog_meta VALUES ('schema_version', '1');
             CREATE TABLE logs (raw_log VARCHAR NOT NULL, remote_addr VARCHAR, remote_user VARCHAR,
                 time_local TIMESTAMPTZ NOT NULL, day DATE NOT NULL, request_method VARCHAR,
                 request_path VARCHAR, request_protocol VARCHAR, status INTEGER, body_bytes_sent BIGINT,
                 http_referer VARCHAR, http_user_agent VARCHAR, source_file VARCHAR NOT NULL,
                 source_offset BIGINT NOT NULL, ingested_at TIMESTAMPTZ NOT NULL);
             INSERT INTO logs VALUES ('old line', '10.9.9.9', NULL, '2015-05-16 10:00:00+00', '2015-05-16',
                 'GET', '/', 'HTTP/1.1', 200, 1, NULL,
                 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
                 'old.log', 0, '2015-05-16 10:00:00+00');",
        )
        .unwrap();
    }
    env.run(&[]);
    let conn = env.db();
    let (family, bot): (String, bool) = conn
        .query_row(
            "SELECT browser_family, is_bot FROM logs WHERE raw_log = 'old line'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((family.as_str(), bot), ("Googlebot", true));
    let version: String = conn
        .query_row(
            "SELECT value FROM weblog_meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        version,
        weblog::load::SCHEMA_VERSION.to_string(),
        "upgraded to the current version"
    );
    assert_eq!(env.count("SELECT count(*) FROM logs"), 9_982);
    let first = csv_rows(&env.read_out("daily_visitors.csv"));
    assert_eq!(first[0]["day"], "2015-05-16", "old rows are in the rollups");
}

/// A tiny country database written here: flat `country_code` records (ip-location-db's
/// layout) or GeoIP2's nested `country.iso_code`.
fn write_mmdb(path: &std::path::Path, nested: bool, ranges: &[(&str, &str)]) {
    use common::mmdb::Value;
    let networks: Vec<(&str, Value)> = ranges
        .iter()
        .map(|(net, code)| {
            let code = Value::Str(code.to_string());
            let record = if nested {
                let country = Value::Map(BTreeMap::from([("iso_code".to_string(), code)]));
                BTreeMap::from([("country".to_string(), country)])
            } else {
                BTreeMap::from([("country_code".to_string(), code)])
            };
            (*net, Value::Map(record))
        })
        .collect();
    std::fs::write(path, common::mmdb::write(&networks)).unwrap();
}

#[test]
fn countries_from_a_written_geoip_database() {
    for nested in [false, true] {
        let env = sample_env();
        let db = env.path("country.mmdb");
        write_mmdb(
            &db,
            nested,
            &[
                ("83.149.9.0/24", "RU"),
                ("66.249.64.0/19", "US"),
                ("2001:db8::/32", "NL"),
            ],
        );
        env.run(&["--geoip", db.to_str().unwrap()]);
        let mut want: BTreeMap<String, usize> = BTreeMap::new();
        for l in distinct_sample() {
            let ip = l.split(' ').next().unwrap();
            let code = if ip.starts_with("83.149.9.") {
                "RU"
            } else if ip.starts_with("66.249.")
                && (64..96).contains(&ip.split('.').nth(2).unwrap().parse::<u32>().unwrap())
            {
                "US"
            } else {
                ""
            };
            *want.entry(code.to_string()).or_default() += 1;
        }
        let got: BTreeMap<String, usize> = csv_rows(&env.read_out("countries.csv"))
            .into_iter()
            .map(|r| (r["country_code"].clone(), r["requests"].parse().unwrap()))
            .collect();
        assert_eq!(got, want, "nested={nested}");
        assert!(want["RU"] > 0 && want["US"] > 0);
        let daily: usize = csv_rows(&env.read_out("countries_daily.csv"))
            .iter()
            .filter(|r| r["country_code"] == "US")
            .map(|r| r["requests"].parse::<usize>().unwrap())
            .sum();
        assert_eq!(daily, want["US"]);
    }
}

#[test]
fn db_ip_data_is_credited_in_the_summary() {
    let env = sample_env();
    let db = env.path("geo/country.mmdb");
    std::fs::create_dir_all(env.path("geo")).unwrap();
    write_mmdb(&db, false, &[("83.149.9.0/24", "RU")]);
    let plain = env.run(&["--geoip", db.to_str().unwrap()]);
    assert!(
        plain.get("geoip_attribution").is_none(),
        "no credit for an unknown database"
    );
    std::fs::write(env.path("geo/DBIP-LICENSE"), "CC BY 4.0").unwrap();
    let credited = env.run(&["--geoip", db.to_str().unwrap()]);
    assert!(
        credited["geoip_attribution"]
            .as_str()
            .unwrap()
            .contains("DB-IP")
    );
}

#[test]
fn without_geoip_every_country_is_null_and_the_rest_works() {
    let env = sample_env();
    env.run(&[]);
    assert_eq!(
        env.count("SELECT count(*) FROM logs WHERE country_code IS NOT NULL"),
        0
    );
    let rows = csv_rows(&env.read_out("countries.csv"));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["country_code"], "");
    assert_eq!(rows[0]["requests"], "9981");
}

#[test]
fn a_missing_geoip_file_is_a_clear_error() {
    let env = sample_env();
    let mut args = env.run_args();
    args.extend([
        "--geoip".to_string(),
        env.path("nope.mmdb").display().to_string(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.weblog(&args);
    assert_eq!(out.status.code(), Some(66));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("GeoIP"), "{err}");
}

#[test]
fn referrers_and_bandwidth_match_a_reference_count() {
    let env = sample_env();
    env.run(&[]);
    let mut sites: BTreeMap<String, usize> = BTreeMap::new();
    let mut bytes: BTreeMap<String, u64> = BTreeMap::new();
    for l in distinct_sample() {
        let parts: Vec<&str> = l.split('"').collect();
        let referer = parts[3];
        if let Some((_, rest)) = referer.split_once("://") {
            let host = rest
                .split(['/', ':', '?', '#'])
                .next()
                .unwrap()
                .to_lowercase();
            if !host.is_empty() {
                *sites.entry(host).or_default() += 1;
            }
        }
        let size = parts[2].split_whitespace().nth(1).unwrap();
        let (day, _) = day_and_ip(&l);
        *bytes.entry(day).or_default() += size.parse::<u64>().unwrap_or(0); // "-" is 0 bytes
    }
    let got: BTreeMap<String, usize> = csv_rows(&env.read_out("referrers.csv"))
        .into_iter()
        .map(|r| (r["site"].clone(), r["requests"].parse().unwrap()))
        .collect();
    assert_eq!(got, sites);
    let got: BTreeMap<String, u64> = csv_rows(&env.read_out("daily_bandwidth.csv"))
        .into_iter()
        .map(|r| (r["day"].clone(), r["bytes_sent"].parse().unwrap()))
        .collect();
    assert_eq!(got, bytes);
}

#[test]
fn no_output_column_is_unsigned_so_readers_can_subtract() {
    let env = sample_env();
    env.run(&[]);
    let db = duckdb::Connection::open_in_memory().unwrap();
    let mut checked = 0;
    for name in repo_outputs() {
        let file = env.path("out").join(format!("{name}.parquet"));
        let mut stmt = db
            .prepare(&format!(
                "DESCRIBE SELECT * FROM read_parquet('{}')",
                file.display()
            ))
            .unwrap();
        let columns: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for (column, ty) in &columns {
            assert!(
                !["UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"]
                    .contains(&ty.as_str()),
                "{name}.{column} is {ty}: `hour - 1` at midnight would overflow in DuckDB and wrap in Polars"
            );
        }
        checked += columns.len();
    }
    assert!(checked > 50, "read {checked} columns");
    // The midnight row of hourly_traffic, as a reader computes the previous hour.
    let prev: i64 = db
        .query_row(
            &format!(
                "SELECT min(hour - 1) FROM read_parquet('{}')",
                env.path("out/hourly_traffic.parquet").display()
            ),
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(prev, -1);
}

/// Every output's CSV text, by file name.
fn all_csv(out: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    std::fs::read_dir(out)
        .unwrap()
        .map(Result::unwrap)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".csv"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_changed_rollup_is_rebuilt_day_by_day_and_a_stopped_rebuild_resumes() {
    let env = Env::new();
    let lines = complete_lines(&fixture("apache_logs"));
    let log = env.logs().join("access.log");
    append(&log, &lines[..8000]);
    let sql = env.path("sql");
    copy_dir(&repo_sql(), &sql);
    let run = |extra: &[(&str, &str)]| {
        let args = env.run_args_with_sql(&sql);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut vars = vec![("WEBLOG_REBUILD_ROWS", "1")];
        vars.extend_from_slice(extra);
        env.weblog_env(&args, &vars)
    };
    assert!(run(&[]).status.success());
    // Three rollups' SQL changes, one with a key table (a comment is enough: their text is what
    // they were built from).
    for name in ["daily", "statuses", "visits"] {
        let f = sql.join("rollups").join(format!("{name}.sql"));
        let text = std::fs::read_to_string(&f).unwrap();
        std::fs::write(&f, format!("-- edited\n{text}")).unwrap();
    }
    // Killed after the first day of the first rebuild.
    let out = run(&[("WEBLOG_FAILPOINT", "during-rebuild")]);
    assert!(!out.status.success());
    let marker: String = env
        .db()
        .query_row(
            "SELECT value FROM weblog_meta WHERE key = 'rollup_rebuild:daily'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(marker.ends_with(" 2015-05-17"), "{marker}");
    // Rows arrive for the day already rebuilt, and for the others.
    assert!(lines[0].contains("[17/May/2015:"), "{}", lines[0]);
    let late = lines[0].replacen("GET /", "GET /arrived-late/", 1);
    append(&log, &lines[8000..]);
    append(&log, std::slice::from_ref(&late));
    let out = run(&[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        s["rollups_rebuilt"],
        serde_json::json!([
            {"rollup": "daily", "days": 3, "resumed_after": "2015-05-17"},
            {"rollup": "statuses", "days": 4},
            {"rollup": "visits", "days": 4},
            // Built from the visits: rebuilt with them, at once, after them.
            {"rollup": "visits_campaigns", "days": 4},
            {"rollup": "visits_daily", "days": 4},
            {"rollup": "visits_entries", "days": 4},
            {"rollup": "visits_exits", "days": 4},
            {"rollup": "visits_ranges", "days": 4},
            {"rollup": "visits_referrers", "days": 4}
        ]),
        "{s}"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM weblog_meta WHERE key LIKE 'rollup_rebuild:%'"),
        0
    );
    assert_eq!(
        env.count("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '%__rebuild'"),
        0
    );
    // Every output as a warehouse built from scratch with the same SQL makes it.
    let fresh = Env::new();
    append(&fresh.logs().join("access.log"), &lines);
    append(
        &fresh.logs().join("access.log"),
        std::slice::from_ref(&late),
    );
    let args = fresh.run_args_with_sql(&sql);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert!(fresh.weblog(&args).status.success());
    let (got, want) = (all_csv(&env.path("out")), all_csv(&fresh.path("out")));
    assert_eq!(got.len(), want.len());
    for (name, text) in &want {
        assert_eq!(&got[name], text, "{name}");
    }
}

#[test]
fn a_changed_macro_rebuilds_only_the_rollups_that_call_it() {
    let env = Env::new();
    let lines = complete_lines(&fixture("apache_logs"));
    append(&env.logs().join("access.log"), &lines[..2000]);
    let sql = env.path("sql");
    copy_dir(&repo_sql(), &sql);
    let run = || {
        let args = env.run_args_with_sql(&sql);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = env.weblog(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let first = run();
    assert_eq!(first["rollups_rebuilt"].as_array().unwrap().len(), 22);
    let macros = sql.join("lib").join("macros.sql");
    let edit = |from: &str, to: &str| {
        let text = std::fs::read_to_string(&macros).unwrap();
        assert!(text.contains(from), "{from}");
        std::fs::write(&macros, text.replacen(from, to, 1)).unwrap();
    };
    // in_range is called by outputs only: no rollup is rebuilt.
    edit(
        "CREATE OR REPLACE TEMP MACRO in_range(d) AS",
        "CREATE OR REPLACE TEMP MACRO in_range(d) AS  ",
    );
    assert!(run().get("rollups_rebuilt").is_none());
    // is_page_request is called by the pages and visits rollups (and outputs).
    edit(
        "method IN ('GET', 'HEAD') AND status BETWEEN 200 AND 299",
        "method IN ('GET', 'HEAD') AND status BETWEEN 200 AND 299 ",
    );
    let s = run();
    let names: Vec<&str> = s["rollups_rebuilt"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rollup"].as_str().unwrap())
        .collect();
    // (And the rollups built from the visits, with them.)
    assert_eq!(
        names,
        vec![
            "pages",
            "visits",
            "visits_campaigns",
            "visits_daily",
            "visits_entries",
            "visits_exits",
            "visits_ranges",
            "visits_referrers"
        ]
    );
}

#[test]
fn a_rollup_of_the_visits_rebuilt_alone_takes_in_the_rows_of_the_same_run() {
    // The rollups built from the visits are rebuilt from the stored visits, before the run's
    // new rows are folded into those: the fold must still reach them.
    let env = Env::new();
    let lines = complete_lines(&fixture("apache_logs"));
    let log = env.logs().join("access.log");
    append(&log, &lines[..6000]);
    let sql = env.path("sql");
    copy_dir(&repo_sql(), &sql);
    let run = |env: &Env| {
        let args = env.run_args_with_sql(&sql);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = env.weblog(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    run(&env);
    // One added up (visits_entries), one recomputed per day (visits_daily).
    for name in ["visits_entries", "visits_daily"] {
        let f = sql.join("rollups").join(format!("{name}.sql"));
        let text = std::fs::read_to_string(&f).unwrap();
        std::fs::write(&f, format!("-- edited\n{text}")).unwrap();
    }
    // The next lines go on the last day stored: its visits change.
    append(&log, &lines[6000..]);
    let s = run(&env);
    let rebuilt: Vec<&str> = s["rollups_rebuilt"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["rollup"].as_str().unwrap())
        .collect();
    assert_eq!(rebuilt, ["visits_daily", "visits_entries"], "{s}");
    let fresh = Env::new();
    append(&fresh.logs().join("access.log"), &lines);
    run(&fresh);
    let (got, want) = (all_csv(&env.path("out")), all_csv(&fresh.path("out")));
    assert_eq!(got.len(), want.len());
    for (name, text) in &want {
        assert_eq!(&got[name], text, "{name}");
    }
}
