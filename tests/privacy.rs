//! `--anonymize-ip`: no original address anywhere weblog writes (every table, output, the
//! lake, the dashboard, `status`, metrics), the country looked up from the full address,
//! and two lines that differ only in masked bits kept as two rows.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::leaks::{everything_as_text, forms};
use common::{Env, num};

/// Visitors' addresses as the lines write them; none may survive anonymisation.
const ADDRESSES: &[&str] = &[
    "203.0.113.77",
    "203.0.113.78",
    "198.51.100.23",
    "192.0.2.44",
    "2001:db8:abcd:12:1:2:3:4",
    "2001:db8:abcd:12::99",
];

fn line(addr: &str, t: &str, path: &str, referer: &str, xff: &str) -> String {
    format!(
        r#"{addr} - - [01/Nov/2026:{t} +0000] "GET {path} HTTP/1.1" 200 512 "{referer}" "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0" "{xff}""#
    )
}

fn write_lines(env: &Env) -> Vec<String> {
    let lines = vec![
        line("203.0.113.77", "10:00:00", "/", "-", "-"),
        // The same request from the neighbouring address in the same second: its own row.
        line("203.0.113.78", "10:00:00", "/", "-", "-"),
        line(
            "198.51.100.23",
            "10:00:05",
            "/from?ip=192.0.2.44",
            "http://203.0.113.77/x",
            "-",
        ),
        line("2001:db8:abcd:12:1:2:3:4", "10:01:00", "/v6", "-", "-"),
        line(
            "10.0.0.1",
            "10:02:00",
            "/proxied",
            "-",
            "2001:db8:abcd:12::99, 10.0.0.2",
        ),
    ];
    // A line no format reads, holding an address: a reject, masked too.
    let reject = "garbage from 192.0.2.44 here".to_string();
    let mut text = lines.join("\n");
    text.push('\n');
    text.push_str(&reject);
    text.push('\n');
    std::fs::write(env.logs().join("access.log"), text).unwrap();
    lines
}

/// The country database: each visitor's own /32 (or /128) only, so a masked address would
/// find no country.
fn write_geoip(path: &Path) {
    use common::mmdb::Value;
    let record = |code: &str| {
        Value::Map(BTreeMap::from([(
            "country_code".to_string(),
            Value::Str(code.to_string()),
        )]))
    };
    let networks = vec![
        ("203.0.113.77/32", record("FR")),
        ("198.51.100.23/32", record("DE")),
        ("2001:db8:abcd:12:1:2:3:4/128", record("JP")),
    ];
    std::fs::write(path, common::mmdb::write(&networks)).unwrap();
}

/// Every table of the warehouse and every Parquet file under `dir`, as CSV text.
#[test]
fn with_anonymize_ip_high_no_original_address_is_written_anywhere() {
    let env = Env::new();
    let lines = write_lines(&env);
    let geoip = env.path("country.mmdb");
    write_geoip(&geoip);
    let lake = env.path("lake");
    let metrics = env.path("weblog.prom");
    let summary = env.run(&[
        "--anonymize-ip",
        "high",
        "--geoip",
        geoip.to_str().unwrap(),
        "--lake",
        lake.to_str().unwrap(),
        "--metrics-file",
        metrics.to_str().unwrap(),
    ]);
    assert_eq!(num(&summary, "inserted") as usize, lines.len(), "{summary}");
    assert_eq!(num(&summary, "rejected"), 1, "{summary}");

    // Stored as masked, looked up in full.
    let conn = env.db();
    type Row = (String, Option<String>, Option<String>, Option<String>);
    let rows: Vec<Row> = conn
        .prepare(
            "SELECT remote_addr, client_addr, country_code, x_forwarded_for FROM logs
             ORDER BY time_local, remote_addr",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let addrs: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        addrs,
        [
            "203.0.0.0",
            "203.0.0.0",
            "198.51.0.0",
            "2001:db8::",
            "10.0.0.0"
        ]
    );
    let countries: Vec<Option<&str>> = rows.iter().map(|r| r.2.as_deref()).collect();
    assert_eq!(
        countries,
        [Some("FR"), None, Some("DE"), Some("JP"), None],
        "countries come from the full addresses"
    );
    assert_eq!(rows[4].3.as_deref(), Some("2001:db8::, 10.0.0.0"));
    let raw: String = conn
        .query_row(
            "SELECT raw_log FROM logs WHERE request_path LIKE '/from%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        raw,
        line(
            "198.51.0.0",
            "10:00:05",
            "/from?ip=192.0.0.0",
            "http://203.0.0.0/x",
            "-"
        )
    );
    drop(conn);

    // The dashboard and status.
    let out = env.path("out");
    let report = env.weblog(&["report", "--out", out.to_str().unwrap()]);
    assert!(report.status.success(), "{report:?}");
    let status = env.weblog(&[
        "status",
        "--db",
        env.db_path().to_str().unwrap(),
        "--logs",
        &format!("{}/*", env.logs().display()),
    ]);
    assert!(status.status.success(), "{status:?}");

    let mut text = everything_as_text(&env, &[&out, &lake]);
    text.push_str(&String::from_utf8_lossy(&status.stdout));
    text.push_str(&std::fs::read_to_string(&metrics).unwrap());
    assert!(text.contains("203.0.0.0"), "the masked address is there");
    assert!(
        std::fs::read_to_string(out.join("report.html"))
            .unwrap()
            .len()
            > 1000
    );
    for addr in ADDRESSES {
        for form in forms(addr) {
            assert!(!text.contains(&form), "{form} found in what weblog wrote");
        }
    }
}

/// Switching anonymisation on for a warehouse applies from then on, and says so.
#[test]
fn switching_it_on_is_recorded_and_applies_to_new_rows_only() {
    let env = Env::new();
    let first = line("203.0.113.77", "10:00:00", "/a", "-", "-");
    std::fs::write(env.logs().join("access.log"), format!("{first}\n")).unwrap();
    let summary = env.run(&[]);
    assert!(
        summary["warnings"].as_array().unwrap().is_empty(),
        "{summary}"
    );
    let second = line("203.0.113.77", "10:00:01", "/b", "-", "-");
    common::append(
        &env.logs().join("access.log"),
        std::slice::from_ref(&second),
    );
    let summary = env.run(&["--anonymize-ip", "low"]);
    let warnings = summary["warnings"].to_string();
    assert!(
        warnings.contains("--anonymize-ip low from this run on") && warnings.contains("1 rows"),
        "{summary}"
    );
    let conn = env.db();
    let stored: Vec<String> = conn
        .prepare("SELECT remote_addr FROM logs ORDER BY time_local")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(stored, ["203.0.113.77", "203.0.113.0"]);
    let level: String = conn
        .query_row(
            "SELECT value FROM weblog_meta WHERE key = 'anonymize_ip'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(level, "low");
    drop(conn);
    // The same level again: nothing to say. The first line read again (from a copy that
    // starts otherwise) is still the line stored in full before the switch.
    let head = line("192.0.2.1", "09:59:59", "/head", "-", "-");
    std::fs::write(env.logs().join("copy.log"), format!("{head}\n{first}\n")).unwrap();
    let summary = env.run(&["--anonymize-ip", "low"]);
    assert!(
        summary["warnings"].as_array().unwrap().is_empty(),
        "{summary}"
    );
    assert_eq!(num(&summary, "inserted"), 1, "{summary}");
    assert_eq!(num(&summary, "duplicates"), 1, "{summary}");
}

/// A file read again (a new first line, then every line again) stores nothing twice, though
/// the stored lines are masked: the line as read is matched by its hash.
#[test]
fn a_file_read_again_is_deduplicated_with_masked_lines() {
    let env = Env::new();
    let lines: Vec<String> = (0..300)
        .map(|i| {
            line(
                &format!("203.0.113.{}", i % 200),
                &format!("10:{:02}:{:02}", i / 60, i % 60),
                &format!("/p{i}"),
                "-",
                "-",
            )
        })
        .collect();
    std::fs::write(env.logs().join("a.log"), lines.join("\n") + "\n").unwrap();
    let summary = env.run(&["--anonymize-ip", "high"]);
    assert_eq!(num(&summary, "inserted"), 300, "{summary}");
    let head = line("192.0.2.1", "09:59:59", "/first", "-", "-");
    let again: Vec<String> = std::iter::once(head).chain(lines.iter().cloned()).collect();
    std::fs::write(env.logs().join("b.log"), again.join("\n") + "\n").unwrap();
    let summary = env.run(&["--anonymize-ip", "high"]);
    assert_eq!(num(&summary, "inserted"), 1, "{summary}");
    assert_eq!(num(&summary, "duplicates"), 300, "{summary}");
    assert_eq!(env.count("SELECT count(*) FROM logs"), 301);
    // Later, the same request as a stored one from the neighbouring address, in the same
    // second: its masked line is the stored one's, but it is another line.
    let neighbour = lines[50].replacen("203.0.113.50", "203.0.113.250", 1);
    let head = line("192.0.2.2", "09:59:58", "/second", "-", "-");
    std::fs::write(env.logs().join("c.log"), format!("{head}\n{neighbour}\n")).unwrap();
    let summary = env.run(&["--anonymize-ip", "high"]);
    assert_eq!(num(&summary, "inserted"), 2, "{summary}");
    assert_eq!(env.count("SELECT count(*) FROM logs"), 303);
}
