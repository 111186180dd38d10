//! Real servers' logs through real runs: formats named, pasted or recognised per file,
//! several sources in one run, W3C columns that change mid-file across runs, rotation of
//! a recognised file, proxies, the version 2 → 3 upgrade, and the outputs the new fields feed.

mod common;

use std::collections::BTreeMap;

use common::*;

/// nginx's `main` (the Docker image's and RHEL's default): combined + X-Forwarded-For.
const NGINX_MAIN: &[&str] = &[
    r#"172.17.0.1 - - [03/Nov/2026:10:00:00 +0100] "GET /index.html HTTP/1.1" 200 615 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0" "203.0.113.7""#,
    r#"172.17.0.1 - - [03/Nov/2026:10:00:02 +0100] "GET /favicon.ico HTTP/1.1" 404 153 "http://localhost/index.html" "Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0" "203.0.113.7, 10.0.0.3""#,
    r#"172.17.0.1 - - [03/Nov/2026:10:01:00 +0100] "GET /about HTTP/1.1" 200 1200 "-" "curl/8.5.0" "-""#,
];

/// Debian Apache's vhost_combined (the issue's example host).
const VHOST_COMBINED: &[&str] = &[
    r#"plaso.example.net:443 198.51.100.20 - - [03/Nov/2026:11:00:00 +0000] "GET /wiki/Main_Page HTTP/1.1" 200 9876 "-" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36""#,
    r#"docs.example.net:80 198.51.100.21 - - [03/Nov/2026:11:00:05 +0000] "GET /guide HTTP/1.1" 301 230 "-" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36""#,
];

/// IIS W3C extended logs: the columns change mid-file (a new #Fields after a restart).
const W3C_FIRST: &str = "#Software: Microsoft Internet Information Services 10.0
#Version: 1.0
#Date: 2026-11-03 12:00:00
#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken
2026-11-03 12:00:01 10.0.0.4 GET /default.htm - 80 - 192.0.2.50 Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64;+rv:145.0)+Gecko/20100101+Firefox/145.0 - 200 0 0 15
2026-11-03 12:00:09 10.0.0.4 GET /search q=logs 80 - 192.0.2.51 curl/8.5.0 - 404 0 2 3
";
const W3C_SECOND: &str = "#Software: Microsoft Internet Information Services 10.0
#Version: 1.0
#Date: 2026-11-03 13:00:00
#Fields: date time cs-method cs-uri-stem c-ip sc-status sc-bytes time-taken cs-host
2026-11-03 13:00:00 GET /later 192.0.2.52 200 5120 250 www.example.org
";

fn run_with_config(env: &Env, config: &str) -> serde_json::Value {
    std::fs::write(env.path("weblog.toml"), config).unwrap();
    let db = env.db_path().display().to_string();
    let out_dir = env.path("out").display().to_string();
    let sql = repo_sql().display().to_string();
    let out = env.weblog(&[
        "run", "--db", &db, "--out", &out_dir, "--sql", &sql, "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn file<'a>(summary: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    summary["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("{name} in {summary}"))
}

/// One stored row's columns, by name, as text (NULL as None).
fn row(env: &Env, where_: &str) -> BTreeMap<String, Option<String>> {
    let conn = env.db();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT COLUMNS(*)::VARCHAR FROM logs WHERE {where_}"
        ))
        .unwrap();
    let names: Vec<String> = {
        let mut s = conn
            .prepare("SELECT column_name FROM (DESCRIBE logs)")
            .unwrap();
        s.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let rows: Vec<Vec<Option<String>>> = stmt
        .query_map([], |r| (0..names.len()).map(|i| r.get(i)).collect())
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 1, "one row where {where_}");
    names
        .into_iter()
        .zip(rows.into_iter().next().unwrap())
        .collect()
}

fn text(v: &BTreeMap<String, Option<String>>, k: &str) -> Option<String> {
    v.get(k).unwrap_or_else(|| panic!("no column {k}")).clone()
}

#[test]
fn several_sources_several_formats_one_run() {
    let env = Env::new();
    let logs = env.logs();
    append(
        &logs.join("nginx.log"),
        &NGINX_MAIN.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
    );
    append(
        &logs.join("apache_vhosts.log"),
        &VHOST_COMBINED
            .iter()
            .map(|l| l.to_string())
            .collect::<Vec<_>>(),
    );
    std::fs::write(logs.join("iis.log"), W3C_FIRST).unwrap();
    let config = format!(
        r#"
[[source]]
logs = "{dir}/nginx.log"
format = "nginx-main"
vhost = "shop.example.com"

[[source]]
logs = "{dir}/apache_vhosts.log"

[[source]]
logs = ["{dir}/iis.log"]
format = "w3c"
host = "iis-1"
"#,
        dir = logs.display()
    );
    let s = run_with_config(&env, &config);
    assert_eq!(file(&s, "nginx.log")["format"], "nginx-main");
    assert_eq!(
        file(&s, "apache_vhosts.log")["format"],
        "vhost_combined",
        "recognised"
    );
    assert_eq!(file(&s, "iis.log")["format"], "w3c");
    assert_eq!(num(&s, "inserted"), 3 + 2 + 2);
    assert_eq!(num(&s, "rejected"), 0, "{s}");
    assert_eq!(file(&s, "iis.log")["skipped"], 4, "the # directives");

    // nginx-main: the forwarded-for field kept, the source's vhost applied.
    let r = row(&env, "request_path = '/favicon.ico'");
    assert_eq!(text(&r, "remote_addr").as_deref(), Some("172.17.0.1"));
    assert_eq!(
        text(&r, "x_forwarded_for").as_deref(),
        Some("203.0.113.7, 10.0.0.3")
    );
    assert_eq!(text(&r, "vhost").as_deref(), Some("shop.example.com"));
    assert_eq!(text(&r, "status").as_deref(), Some("404"));
    assert_eq!(text(&r, "hour").as_deref(), Some("10"));
    assert_eq!(text(&r, "day").as_deref(), Some("2026-11-03"));
    // vhost_combined: the virtual host and port are fields, the client is %h.
    let r = row(&env, "request_path = '/wiki/Main_Page'");
    assert_eq!(text(&r, "vhost").as_deref(), Some("plaso.example.net"));
    assert_eq!(text(&r, "server_port").as_deref(), Some("443"));
    assert_eq!(text(&r, "remote_addr").as_deref(), Some("198.51.100.20"));
    assert_eq!(text(&r, "client_addr").as_deref(), Some("198.51.100.20"));
    assert_eq!(text(&r, "body_bytes_sent").as_deref(), Some("9876"));
    // W3C: UTC date and time, '+' for spaces in the agent, the query joined to the path,
    // time-taken in milliseconds, the source's host.
    let r = row(&env, "request_path = '/search?q=logs'");
    assert_eq!(text(&r, "remote_addr").as_deref(), Some("192.0.2.51"));
    assert_eq!(text(&r, "request_time").as_deref(), Some("0.003"));
    assert_eq!(text(&r, "server_port").as_deref(), Some("80"));
    assert_eq!(text(&r, "host").as_deref(), Some("iis-1"));
    let r = row(&env, "request_path = '/default.htm'");
    assert_eq!(
        text(&r, "http_user_agent").as_deref(),
        Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0")
    );
    assert_eq!(text(&r, "browser_family").as_deref(), Some("Firefox"));

    // The vhosts output counts each site; the demo-less config still writes every output.
    let vhosts = csv_rows(&env.read_out("vhosts.csv"));
    let requests: BTreeMap<String, String> = vhosts
        .iter()
        .map(|r| (r["vhost"].clone(), r["requests"].clone()))
        .collect();
    assert_eq!(
        requests.get("shop.example.com").map(String::as_str),
        Some("3")
    );
    assert_eq!(
        requests.get("plaso.example.net").map(String::as_str),
        Some("1")
    );
    assert_eq!(
        requests.get("docs.example.net").map(String::as_str),
        Some("1")
    );

    // The W3C file gets a new #Fields: section; the next run reads it with those columns.
    let mut more = std::fs::read_to_string(logs.join("iis.log")).unwrap();
    more.push_str(W3C_SECOND);
    std::fs::write(logs.join("iis.log"), more).unwrap();
    let s = run_with_config(&env, &config);
    assert_eq!(num(&s, "inserted"), 1);
    assert_eq!(num(&s, "rejected"), 0, "{s}");
    let r = row(&env, "request_path = '/later'");
    assert_eq!(text(&r, "vhost").as_deref(), Some("www.example.org"));
    assert_eq!(text(&r, "body_bytes_sent").as_deref(), Some("5120"));
    assert_eq!(text(&r, "request_time").as_deref(), Some("0.25"));

    // `status` names each file's format.
    let db = env.db_path().display().to_string();
    let out = env.weblog(&["status", "--db", &db, "--json"]);
    let st: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let formats: BTreeMap<String, String> = st["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = f["path"].as_str().unwrap();
            (
                p.rsplit('/').next().unwrap().to_string(),
                f["format"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(formats["apache_vhosts.log"], "vhost_combined", "{st}");
    assert_eq!(formats["iis.log"], "w3c");
}

#[test]
fn a_pasted_log_format_reads_every_field() {
    let env = Env::new();
    // As an operator pastes it from nginx.conf.
    let format = r#"log_format timed '$remote_addr - $remote_user [$time_local] "$request" '
                     '$status $body_bytes_sent "$http_referer" "$http_user_agent" '
                     '$request_time $upstream_response_time $host';"#;
    let lines: Vec<String> = vec![
        r#"203.0.113.1 - - [03/Nov/2026:10:00:00 +0000] "GET /api/items?page=2 HTTP/2.0" 200 512 "-" "okhttp/4.12.0" 0.125 0.120 api.example.com"#.into(),
        r#"203.0.113.2 - - [03/Nov/2026:10:00:01 +0000] "POST /api/items HTTP/2.0" 502 0 "-" "okhttp/4.12.0" 3.001 1.000, 2.000 : 0.001 api.example.com"#.into(),
        // A combined line is not this format: set aside, never stored with shifted columns.
        r#"203.0.113.3 - - [03/Nov/2026:10:00:02 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8""#.into(),
    ];
    append(&env.logs().join("api.log"), &lines);
    let s = env.run(&["--format", format]);
    assert_eq!(num(&s, "inserted"), 2);
    assert_eq!(num(&s, "rejected"), 1);
    let r = row(&env, "request_method = 'POST'");
    assert_eq!(text(&r, "request_time").as_deref(), Some("3.001"));
    assert_eq!(
        text(&r, "upstream_response_time").as_deref(),
        Some("3.001"),
        "a list is summed"
    );
    assert_eq!(text(&r, "vhost").as_deref(), Some("api.example.com"));
    let reason: String = env
        .db()
        .query_row("SELECT reason FROM rejects", [], |r| r.get(0))
        .unwrap();
    assert!(
        reason.contains("$request_time"),
        "the reason names the field: {reason}"
    );
    // A format that can never give a time is refused up front, as a usage error.
    let out = env.weblog(&["run", "--format", "$remote_addr $request"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("time"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_file_no_format_fits_fails_alone() {
    let env = Env::new();
    append(&env.logs().join("good.log"), &[NGINX_MAIN[0].to_string()]);
    append(
        &env.logs().join("weird.log"),
        &[
            "<<binary-ish garbage, not a log>>".to_string(),
            "neither is this".to_string(),
        ],
    );
    let out = env.weblog(
        &env.run_args()
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_eq!(
        out.status.code(),
        Some(65),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("weird.log") && err.contains("closest"),
        "{err}"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM logs"),
        1,
        "the other file was ingested"
    );
}

#[test]
fn a_recognised_format_is_kept_for_the_file_across_rotation() {
    let env = Env::new();
    let log = env.logs().join("access.log");
    append(
        &log,
        &NGINX_MAIN.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
    );
    let s = env.run(&[]);
    assert_eq!(file(&s, "access.log")["format"], "nginx-main");
    // Rotated by rename: the old file continues under its new name and the new one is the
    // same server's, both read as nginx-main.
    std::fs::rename(&log, env.logs().join("access.log.1")).unwrap();
    append(&log, &[r#"172.17.0.1 - - [03/Nov/2026:10:05:00 +0100] "GET /next HTTP/1.1" 200 10 "-" "curl/8.5.0" "-""#.to_string()]);
    let s = env.run(&[]);
    assert_eq!(file(&s, "access.log")["format"], "nginx-main");
    assert_eq!(file(&s, "access.log.1")["format"], "nginx-main");
    assert_eq!(num(&s, "inserted"), 1);
    assert_eq!(num(&s, "rejected"), 0);
}

#[test]
fn behind_a_load_balancer_the_visitor_is_the_forwarded_address() {
    let env = Env::new();
    let lines: Vec<String> = (0..6)
        .map(|i| {
            format!(
                r#"10.0.0.{lb} - - [03/Nov/2026:10:00:0{i} +0000] "GET /p{i} HTTP/1.1" 200 1 "-" "curl/8" "198.51.100.{client}, 10.1.1.1""#,
                lb = 1 + i % 2,
                client = i % 3
            )
        })
        .collect();
    append(&env.logs().join("lb.log"), &lines);
    env.run(&[
        "--format",
        "nginx-main",
        "--client-ip",
        "x-forwarded-for",
        "--trusted-proxies",
        "10.0.0.0/8",
    ]);
    let clients: Vec<String> = env
        .db()
        .prepare("SELECT DISTINCT client_addr FROM logs ORDER BY 1")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(clients, ["198.51.100.0", "198.51.100.1", "198.51.100.2"]);
    assert_eq!(
        env.count("SELECT count(DISTINCT remote_addr) FROM logs"),
        2,
        "remote_addr as logged"
    );
    let daily = csv_rows(&env.read_out("daily_visitors.csv"));
    assert_eq!(
        daily[0]["unique_visitors"], "3",
        "visitors are the forwarded clients"
    );
}

#[test]
fn a_version_2_database_is_upgraded_in_place() {
    let env = Env::new();
    {
        // The schema weblog wrote before this version (2), with one stored row and checkpoint.
        let conn = duckdb::Connection::open(env.db_path()).unwrap();
        conn.execute_batch(
            "CREATE TABLE weblog_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
             INSERT INTO weblog_meta VALUES ('schema_version', '2'), ('data_version', '1');
             CREATE TABLE logs (raw_log VARCHAR NOT NULL, remote_addr VARCHAR, remote_user VARCHAR,
                 time_local TIMESTAMPTZ NOT NULL, day DATE NOT NULL, request_method VARCHAR,
                 request_path VARCHAR, request_protocol VARCHAR, status INTEGER, body_bytes_sent BIGINT,
                 http_referer VARCHAR, http_user_agent VARCHAR, source_file VARCHAR NOT NULL,
                 source_offset BIGINT NOT NULL, ingested_at TIMESTAMPTZ NOT NULL,
                 browser_family VARCHAR, browser_major VARCHAR, os_family VARCHAR,
                 device_family VARCHAR, is_bot BOOLEAN, country_code VARCHAR);
             INSERT INTO logs VALUES ('10.9.9.9 - - [16/May/2015:21:00:00 +0200] \"GET / HTTP/1.1\" 200 1 \"-\" \"curl/8\"',
                 '10.9.9.9', NULL, '2015-05-16 19:00:00+00', '2015-05-16', 'GET', '/', 'HTTP/1.1', 200, 1,
                 NULL, 'curl/8', 'old.log', 0, '2015-05-17 10:00:00+00', 'curl', NULL, 'Other', 'Other', true, NULL);
             CREATE TABLE rejects (source_file VARCHAR NOT NULL, source_offset BIGINT NOT NULL,
                 raw_line VARCHAR NOT NULL, reason VARCHAR NOT NULL, ingested_at TIMESTAMPTZ NOT NULL);
             CREATE TABLE checkpoints (path VARCHAR PRIMARY KEY, \"offset\" UBIGINT NOT NULL,
                 head_len UINTEGER NOT NULL, head_hash UBIGINT NOT NULL, marker UBIGINT NOT NULL,
                 size UBIGINT NOT NULL, dev UBIGINT NOT NULL, inode UBIGINT NOT NULL,
                 updated_at TIMESTAMPTZ NOT NULL);
             -- (Read recently: a gone file's checkpoint outlives it by --checkpoint-retention.)
             INSERT INTO checkpoints VALUES ('gone.log', 100, 10, 1, 2, 100, 1, 1, current_timestamp);
             CREATE TABLE rollup_pending (day DATE PRIMARY KEY);
             CREATE TABLE runs (started_at TIMESTAMPTZ NOT NULL, finished_at TIMESTAMPTZ NOT NULL,
                 files INTEGER NOT NULL, lines BIGINT NOT NULL, bytes BIGINT NOT NULL, inserted BIGINT NOT NULL,
                 duplicates BIGINT NOT NULL, rejects BIGINT NOT NULL, error VARCHAR, summary VARCHAR NOT NULL);",
        )
        .unwrap();
    }
    append(&env.logs().join("access.log"), &[NGINX_MAIN[2].to_string()]);
    env.run(&["--host", "web-7"]);
    let conn = env.db();
    let version: String = conn
        .query_row(
            "SELECT value FROM weblog_meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(version, weblog::load::SCHEMA_VERSION.to_string());
    // The old row got the new columns' values: its hour as written, its client, its host.
    let (hour, client, host): (i32, String, String) = conn
        .query_row(
            "SELECT hour, client_addr, host FROM logs WHERE source_file = 'old.log'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (hour, client.as_str(), host.as_str()),
        (21, "10.9.9.9", "web-7")
    );
    // The old checkpoint reads as made with a 64-byte marker; the old batch is numbered.
    let marker_len: i64 = conn
        .query_row(
            "SELECT marker_len FROM checkpoints WHERE path = 'gone.log'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(marker_len, 64);
    assert_eq!(
        env.count("SELECT count(*) FROM batches"),
        2,
        "the old rows' batch and this run's"
    );
    // Each row names its batch: the old row the batch made for it, the new one this run's.
    assert_eq!(
        env.count("SELECT count(*) FROM logs WHERE source_file = 'old.log' AND batch_id = 1"),
        1
    );
    assert_eq!(
        env.count("SELECT count(*) FROM logs WHERE source_file <> 'old.log' AND batch_id = 2"),
        1
    );
    let hourly = csv_rows(&env.read_out("hourly_traffic.csv"));
    assert!(
        hourly
            .iter()
            .any(|r| r["hour"] == "21" && r["requests"] == "1"),
        "{hourly:?}"
    );
}

#[test]
fn two_hosts_logging_the_same_line_keep_a_row_each_in_one_batch_or_two() {
    // The same health check at the same second on two servers: one row per host, as the
    // warehouse dedupes (line, host), whether the lines meet in one batch or not.
    let check = r#"10.0.0.9 - - [03/Dec/2026:06:00:00 +0000] "GET /health HTTP/1.1" 200 2 "-" "kube-probe/1.30""#;
    let other = r#"10.0.0.9 - - [03/Dec/2026:06:00:01 +0000] "GET / HTTP/1.1" 200 2 "-" "curl/8""#;
    for together in [true, false] {
        let env = Env::new();
        let logs = env.logs();
        let config = format!(
            "[[source]]\nlogs = \"{dir}/a.log\"\nhost = \"web-a\"\n\n[[source]]\nlogs = \"{dir}/b.log\"\nhost = \"web-b\"\n",
            dir = logs.display()
        );
        append(&logs.join("a.log"), &[check.to_string(), other.to_string()]);
        if together {
            append(&logs.join("b.log"), &[check.to_string()]);
        } else {
            std::fs::write(logs.join("b.log"), "").unwrap();
        }
        run_with_config(&env, &config);
        if !together {
            append(&logs.join("b.log"), &[check.to_string()]);
            run_with_config(&env, &config);
        }
        assert_eq!(
            env.count("SELECT count(*) FROM logs WHERE request_path = '/health'"),
            2,
            "together: {together}"
        );
        assert_eq!(
            env.count("SELECT count(DISTINCT host) FROM logs WHERE request_path = '/health'"),
            2
        );
    }
}

#[test]
fn epoch_times_give_the_utc_day_and_hour() {
    // 1764720000 is 2025-12-03 00:00:00 UTC (date -u -d @1764720000); the line holds no zone,
    // so day and hour are UTC's, as the README says.
    let env = Env::new();
    append(
        &env.logs().join("access.log"),
        &[
            r#"10.0.0.1 1764720000.123 "GET /a HTTP/1.1" 200 5"#.to_string(),
            r#"10.0.0.2 1764719999.500 "GET /b HTTP/1.1" 200 5"#.to_string(),
        ],
    );
    // Run in a zone far from UTC: the machine's zone must not matter either.
    let mut args = env.run_args();
    args.extend([
        "--format".to_string(),
        r#"$remote_addr $msec "$request" $status $body_bytes_sent"#.to_string(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.weblog_env(&args, &[("TZ", "Pacific/Auckland")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<(String, String, i64)> = {
        let conn = env.db();
        let mut stmt = conn
            .prepare("SELECT request_path, day::VARCHAR, hour FROM logs ORDER BY request_path")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(
        rows,
        vec![
            ("/a".to_string(), "2025-12-03".to_string(), 0),
            ("/b".to_string(), "2025-12-02".to_string(), 23),
        ]
    );
}

/// The n-th combined line, or (`main`) the same request in nginx's `main` format, which adds
/// `"$http_x_forwarded_for"`.
fn request(n: usize, main: bool) -> String {
    let line = format!(
        r#"10.1.0.{} - - [03/Dec/2026:06:{:02}:{:02} +0100] "GET /p/{n} HTTP/1.1" 200 {} "-" "curl/8.5.0""#,
        n % 250,
        n / 60 % 60,
        n % 60,
        100 + n
    );
    if main {
        format!(r#"{line} "203.0.113.{}""#, n % 250)
    } else {
        line
    }
}

#[test]
fn a_file_whose_format_changes_is_read_in_the_new_format_from_there() {
    // An operator switches nginx from `combined` to `main` and reloads; the file goes on.
    let env = Env::new();
    let log = env.logs().join("access.log");
    append(
        &log,
        &(0..20).map(|n| request(n, false)).collect::<Vec<_>>(),
    );
    let s = env.run(&[]);
    assert_eq!(s["files"][0]["format"], "combined", "{s}");
    let switched_at = std::fs::metadata(&log).unwrap().len();
    append(
        &log,
        &(20..40).map(|n| request(n, true)).collect::<Vec<_>>(),
    );
    let s = env.run(&[]);
    let file = &s["files"][0];
    assert_eq!(num(&s, "rejected"), 0, "{s}");
    assert_eq!(num(&s, "inserted"), 20, "{s}");
    assert_eq!(file["format"], "nginx-main", "{s}");
    assert_eq!(
        file["format_changes"],
        serde_json::json!([{"offset": switched_at, "from": "combined", "to": "nginx-main"}])
    );
    // The new lines' extra field is read; the old lines kept theirs (none).
    assert_eq!(
        env.count("SELECT count(*) FROM logs WHERE x_forwarded_for LIKE '203.0.113.%'"),
        20
    );
    // The checkpoint carries the new format: the next run goes on in it, and says so.
    append(
        &log,
        &(40..45).map(|n| request(n, true)).collect::<Vec<_>>(),
    );
    let s = env.run(&[]);
    assert_eq!(num(&s, "inserted"), 5, "{s}");
    assert!(s["files"][0].get("format_changes").is_none(), "{s}");
    let out = env.weblog(&[
        "status",
        "--db",
        &env.db_path().display().to_string(),
        "--logs",
        &format!("{}/*", env.logs().display()),
        "--json",
    ]);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["files"][0]["format"], "nginx-main", "{status}");
    // A new file that changes format within one run: both halves stored, nothing rejected.
    let other = env.logs().join("other.log");
    let mut lines: Vec<String> = (100..110).map(|n| request(n, false)).collect();
    lines.extend((110..120).map(|n| request(n, true)));
    append(&other, &lines);
    let s = env.run(&[]);
    assert_eq!(num(&s, "rejected"), 0, "{s}");
    assert_eq!(num(&s, "inserted"), 20, "{s}");
    // A stray line fitting no format is a reject and changes nothing.
    append(&log, &["garbage".to_string(), request(45, true)]);
    let s = env.run(&[]);
    assert_eq!(num(&s, "rejected"), 1, "{s}");
    assert_eq!(num(&s, "inserted"), 1, "{s}");
    assert_eq!(env.count("SELECT count(*) FROM logs"), 66);
}

#[test]
fn a_run_whose_every_line_is_a_reject_fails_with_one_line() {
    // A pasted format that is not the server's: stored as rejects, and said as a failure.
    let env = Env::new();
    let log = env.logs().join("access.log");
    append(&log, &(0..5).map(|n| request(n, false)).collect::<Vec<_>>());
    let mut args = env.run_args();
    let pasted = r#"$remote_addr - $remote_user [$time_local] "$request" $status"#;
    args.extend(["--format".to_string(), pasted.to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.weblog(&args);
    assert_eq!(out.status.code(), Some(65));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(
        errors[0].contains("every line read (5) was a reject")
            && errors[0].contains(pasted)
            && errors[0].contains("offset 0:"),
        "{stderr}"
    );
    assert_eq!(env.count("SELECT count(*) FROM rejects"), 5);
    // Nothing new: nothing to complain about.
    let out = env.weblog(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Exactly one stored row has this time (a UTC literal) and matches `where_`.
fn at_time(env: &Env, utc: &str, where_: &str) -> bool {
    env.count(&format!(
        "SELECT count(*) FROM logs WHERE time_local = TIMESTAMPTZ '{utc}' AND {where_}"
    )) == 1
}

#[test]
fn haproxy_logs_recognised_and_read() {
    // tests/fixtures/haproxy.log: HAProxy's manual and Matomo's test log (sources in its README).
    let env = Env::new();
    let logs = env.logs();
    std::fs::copy(fixture("haproxy.log"), logs.join("haproxy.log")).unwrap();
    // A source's vhost fills the lines that name no host (HAProxy logs none of its own).
    let config = format!(
        "[[source]]\nlogs = \"{}/haproxy.log\"\nvhost = \"www.example.org\"\n",
        logs.display()
    );
    let s = run_with_config(&env, &config);
    let f = file(&s, "haproxy.log");
    assert_eq!(f["format"], "haproxy", "recognised");
    assert_eq!(
        f["skipped"], 3,
        "a TCP session, a failed handshake, a start-up message"
    );
    assert_eq!(num(&s, "inserted"), 5);
    assert_eq!(num(&s, "rejected"), 2);

    // The manual's example: the accept date as written, read as UTC (it carries no zone).
    let r = row(&env, "request_path = '/index.html'");
    assert!(at_time(
        &env,
        "2009-02-06 12:14:14.655+00",
        "request_path = '/index.html'"
    ));
    assert_eq!(text(&r, "day").as_deref(), Some("2009-02-06"));
    assert_eq!(text(&r, "hour").as_deref(), Some("12"));
    assert_eq!(text(&r, "remote_addr").as_deref(), Some("10.0.1.2"));
    assert_eq!(text(&r, "request_method").as_deref(), Some("GET"));
    assert_eq!(text(&r, "request_protocol").as_deref(), Some("HTTP/1.1"));
    assert_eq!(text(&r, "status").as_deref(), Some("200"));
    assert_eq!(text(&r, "body_bytes_sent").as_deref(), Some("2750"));
    assert_eq!(text(&r, "request_time").as_deref(), Some("0.109"), "Ta");
    assert_eq!(
        text(&r, "upstream_response_time").as_deref(),
        Some("0.069"),
        "Tr"
    );
    assert_eq!(text(&r, "vhost").as_deref(), Some("www.example.org"));
    // Frontend, backend and server stay in raw_log, where SQL finds them.
    let names: (String, String, String) = env
        .db()
        .query_row(
            r"SELECT regexp_extract(raw_log, '\] (\S+) (\S+)/(\S+) ', 1),
                     regexp_extract(raw_log, '\] (\S+) (\S+)/(\S+) ', 2),
                     regexp_extract(raw_log, '\] (\S+) (\S+)/(\S+) ', 3)
              FROM logs WHERE request_path = '/index.html'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(names, ("http-in".into(), "static".into(), "srv1".into()));

    // Matomo's line: no captured headers, a POST through an SSL frontend.
    let r = row(&env, "request_method = 'POST'");
    assert!(at_time(
        &env,
        "2018-09-25 06:05:27.584+00",
        "request_method = 'POST'"
    ));
    assert_eq!(text(&r, "remote_addr").as_deref(), Some("4.3.2.1"));
    assert_eq!(text(&r, "request_path").as_deref(), Some("/user/"));
    assert_eq!(text(&r, "body_bytes_sent").as_deref(), Some("7456"));
    assert_eq!(text(&r, "request_time").as_deref(), Some("0.072"));
    // A proxy's absolute URL: its host is the line's vhost; `+` (logasap) totals are kept.
    let r = row(&env, "status = 301");
    assert!(at_time(&env, "2004-08-09 20:30:46+00", "status = 301"));
    assert_eq!(text(&r, "request_path").as_deref(), Some("/"));
    assert_eq!(
        text(&r, "vhost").as_deref(),
        Some("www.sytadin.equipement.gouv.fr")
    );
    assert_eq!(text(&r, "body_bytes_sent").as_deref(), Some("223"));
    assert_eq!(text(&r, "request_time").as_deref(), Some("0.128"));
    assert_eq!(text(&r, "upstream_response_time").as_deref(), Some("0.126"));
    // A request timed out before it was complete, and a <BADREQ>: rows with their status.
    let r = row(&env, "status = 408");
    assert_eq!(text(&r, "request_method"), None);
    assert_eq!(text(&r, "request_time").as_deref(), Some("50.001"));
    assert_eq!(text(&r, "upstream_response_time"), None);
    let r = row(&env, "status = 400");
    assert!(at_time(&env, "2009-02-06 12:14:15.001+00", "status = 400"));
    assert_eq!(
        (text(&r, "request_method"), text(&r, "request_path")),
        (None, None)
    );
    assert_eq!(text(&r, "remote_addr").as_deref(), Some("10.0.1.3"));
    assert_eq!(text(&r, "body_bytes_sent").as_deref(), Some("187"));

    assert_eq!(
        env.reject_reasons(),
        [
            "haproxy: invalid bytes_read \"27S0\" at byte 123",
            "haproxy: invalid accept_date \"06/Fbr/2009:12:14:16.000\" at byte 58",
        ]
    );
}

#[test]
fn squid_access_log_recognised_and_read() {
    // tests/fixtures/squid_access.log (sources in its README).
    let env = Env::new();
    std::fs::copy(fixture("squid_access.log"), env.logs().join("access.log")).unwrap();
    let s = env.run(&[]);
    assert_eq!(file(&s, "access.log")["format"], "squid", "recognised");
    assert_eq!(num(&s, "inserted"), 5);
    assert_eq!(num(&s, "rejected"), 1);

    // The wiki's line: epoch seconds are UTC; elapsed ms; the URL split as a proxy's.
    let r = row(&env, "vhost = 'www.google.com'");
    assert!(at_time(
        &env,
        "2010-10-08 11:11:48.779+00",
        "vhost = 'www.google.com'"
    ));
    assert_eq!(text(&r, "day").as_deref(), Some("2010-10-08"));
    assert_eq!(text(&r, "hour").as_deref(), Some("11"));
    assert_eq!(text(&r, "remote_addr").as_deref(), Some("192.168.0.224"));
    assert_eq!(text(&r, "request_time").as_deref(), Some("0.18"));
    assert_eq!(text(&r, "cache_status").as_deref(), Some("TCP_MISS"));
    assert_eq!(text(&r, "status").as_deref(), Some("200"));
    assert_eq!(text(&r, "body_bytes_sent").as_deref(), Some("411"));
    assert_eq!(text(&r, "request_method").as_deref(), Some("GET"));
    assert_eq!(text(&r, "request_path").as_deref(), Some("/"));
    assert_eq!(text(&r, "request_protocol"), None);
    assert_eq!(text(&r, "remote_user"), None);
    // A CONNECT tunnel: its host and port, the target as logged.
    let r = row(&env, "request_method = 'CONNECT'");
    assert!(at_time(
        &env,
        "2024-10-25 17:58:28.361+00",
        "request_method = 'CONNECT'"
    ));
    assert_eq!(text(&r, "request_path").as_deref(), Some("example.com:443"));
    assert_eq!(text(&r, "vhost").as_deref(), Some("example.com"));
    assert_eq!(text(&r, "server_port").as_deref(), Some("443"));
    assert_eq!(text(&r, "cache_status").as_deref(), Some("TCP_TUNNEL"));
    assert_eq!(text(&r, "request_time").as_deref(), Some("2.812"));
    // Status 000 (nothing was answered) is NULL; a named user is kept.
    let r = row(&env, "cache_status = 'NONE_NONE'");
    assert_eq!(
        (
            text(&r, "status"),
            text(&r, "request_method"),
            text(&r, "request_path")
        ),
        (None, None, None)
    );
    let r = row(&env, "status = 403");
    assert_eq!(text(&r, "remote_user").as_deref(), Some("alice"));
    assert_eq!(text(&r, "vhost").as_deref(), Some("blocked.example"));
    assert_eq!(
        env.reject_reasons(),
        ["squid: invalid elapsed \"1O\" at byte 19"]
    );
}

#[test]
fn gcs_usage_logs_recognised_and_read() {
    // tests/fixtures/gcs_usage.csv (sources in its README): the header row is no reject.
    let env = Env::new();
    std::fs::copy(
        fixture("gcs_usage.csv"),
        env.logs().join("usage_2023_08_28_07_00_00_0_v0"),
    )
    .unwrap();
    let s = env.run(&[]);
    let f = file(&s, "usage_2023_08_28_07_00_00_0_v0");
    assert_eq!(f["format"], "gcs", "recognised");
    assert_eq!(f["skipped"], 1, "the header row");
    assert_eq!(num(&s, "inserted"), 4);
    assert_eq!(num(&s, "rejected"), 1);

    let r = row(&env, "remote_addr = '172.71.142.38'");
    assert!(at_time(
        &env,
        "2023-08-28 07:00:14.339368+00",
        "remote_addr = '172.71.142.38'"
    ));
    assert_eq!(text(&r, "day").as_deref(), Some("2023-08-28"));
    assert_eq!(text(&r, "hour").as_deref(), Some("7"));
    assert_eq!(text(&r, "request_method").as_deref(), Some("GET"));
    assert_eq!(
        text(&r, "request_path").as_deref(),
        Some("/v1/kanji/%E9%9B%86")
    );
    assert_eq!(text(&r, "status").as_deref(), Some("200"));
    assert_eq!(text(&r, "request_length").as_deref(), Some("0"));
    assert_eq!(text(&r, "body_bytes_sent").as_deref(), Some("277"));
    assert_eq!(text(&r, "request_time").as_deref(), Some("0.488"));
    assert_eq!(text(&r, "vhost").as_deref(), Some("kanjiapi.dev"));
    assert_eq!(
        text(&r, "http_referer").as_deref(),
        Some("http://127.0.0.1:59961/")
    );
    assert_eq!(
        text(&r, "http_user_agent").as_deref(),
        Some(
            "Mozilla/5.0 (Windows NT 6.2; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) QtWebEngine/6.4.3 Chrome/102.0.5005.177 Safari/537.36"
        )
    );
    assert_eq!(
        env.count("SELECT count(*) FROM logs WHERE status = 304"),
        1,
        "the fifth row's status is no number"
    );
    assert_eq!(
        env.reject_reasons(),
        ["gcs: invalid sc_status \"3O4\" at byte 71"]
    );
}
