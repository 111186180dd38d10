//! Scale-out, end to end: three weblog hosts (three warehouses, three `--host` names, the
//! same visitors) append to one Parquet lake from rotating logs while their runs are killed
//! at random moments and between a lake file's rename and its mark; then the lake holds
//! every committed line exactly once per host, and the Spark job's outputs over the lake
//! equal one weblog's over all three hosts' logs, value for value and type for type, both
//! unfiltered and with `--from`, `--to`, `--humans-only` and `--vhost`. Two hosts log three
//! sites with request and upstream times, the third plain `combined`; a GeoIP database
//! written here puts the visitors in several countries (some in none). Spark runs for real
//! (`local[2]`), from the venv `make spark-env` installs.

mod common;
#[path = "spark/incremental.rs"]
mod incremental;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::outputs::assert_same_outputs;
use common::*;
use weblog::generate::Rng;

const HOSTS: [&str; 3] = ["web-1", "web-2", "web-3"];
const SIGABRT: i32 = 6;

/// What `weblog generate --format vhosts` writes, as nginx's `log_format`.
const VHOSTS_FORMAT: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $host $request_time $upstream_response_time"#;

/// The country database's networks: most of the generator's address blocks, not all (a
/// visitor no database knows has no country, a NULL both engines must group alike).
const COUNTRIES: [(&str, &str); 13] = [
    ("23.0.0.0/8", "US"),
    ("31.0.0.0/8", "NL"),
    ("45.0.0.0/8", "DE"),
    ("62.0.0.0/8", "GB"),
    ("66.0.0.0/8", "US"),
    ("77.0.0.0/8", "FR"),
    ("81.0.0.0/8", "DE"),
    ("88.0.0.0/8", "ES"),
    ("91.0.0.0/8", "IT"),
    ("104.0.0.0/8", "US"),
    ("2a02:c7f::/32", "GB"),
    ("2600:1700::/28", "US"),
    ("240e::/20", "CN"),
];

/// The filters of the second comparison: one whole day of several, humans, one site.
const FROM: &str = "2026-11-10";
const TO: &str = "2026-11-10";
const VHOST: &str = "shop.example.com";

/// Which country an address is in, by COUNTRIES, read here with std's address parser.
fn country(addr: &str) -> Option<&'static str> {
    // Both families as 128 bits, IPv4 in the top 32, with the prefix length to match.
    let bits = |ip: IpAddr, len: u32| match ip {
        IpAddr::V4(a) => (u128::from(u32::from(a)) << 96, len, true),
        IpAddr::V6(a) => (u128::from(a), len, false),
    };
    let (addr, _, v4) = bits(addr.parse().ok()?, 0);
    COUNTRIES.iter().find_map(|(net, code)| {
        let (base, len) = net.split_once('/').unwrap();
        let (base, len, net_v4) = bits(base.parse().unwrap(), len.parse().unwrap());
        let mask = !0u128 << (128 - len);
        (v4 == net_v4 && base & mask == addr & mask).then_some(*code)
    })
}

/// The site and request time of a `vhosts` line: the fields after the user agent's quotes.
fn vhost_and_time(line: &str) -> Option<(String, f64)> {
    let tail = line[line.rfind('"')? + 1..].trim_start();
    let mut fields = tail.split(' ');
    let site = fields.next().filter(|s| !s.is_empty())?;
    Some((site.to_string(), fields.next()?.parse().ok()?))
}

/// The venv's Python with PySpark, if `make spark-env` made it.
pub(crate) fn spark_python() -> Option<PathBuf> {
    venv_python("import pyspark, sqlglot")
}

struct Host {
    name: &'static str,
    /// `--format vhosts` logs (else `combined`).
    vhosts: bool,
    logs: PathBuf,
    db: PathBuf,
    out: PathBuf,
    /// Every line written to its logs, in order (the generator truncates as it rotates).
    written: Vec<String>,
}

impl Host {
    fn run_args(&self, lake: &Path, geoip: &Path) -> Vec<String> {
        let mut args = vec![
            "run".into(),
            "--logs".into(),
            format!("{}/log_[ab].txt", self.logs.display()),
            "--db".into(),
            self.db.display().to_string(),
            "--out".into(),
            self.out.display().to_string(),
            "--sql".into(),
            repo_sql().display().to_string(),
            "--host".into(),
            self.name.into(),
            "--lake".into(),
            lake.display().to_string(),
            "--geoip".into(),
            geoip.display().to_string(),
            "--quiet".into(),
        ];
        if self.vhosts {
            args.extend(["--format".into(), VHOSTS_FORMAT.into()]);
        }
        args
    }

    /// Append `lines` demo lines (rotating every 700, truncating) and remember them. About
    /// 40 s apart: the logs span three days, for `--from` and `--to` to cut on both sides.
    fn generate(&mut self, env: &Env, lines: u64, first: bool, start: &str) {
        let dir = self.logs.display().to_string();
        let n = lines.to_string();
        let mut args = vec![
            "generate",
            "--dir",
            &dir,
            "--lines",
            &n,
            "--rotate-every",
            "700",
            "--rate",
            "0.025",
            "--seed",
            "7",
        ];
        if self.vhosts {
            args.extend(["--format", "vhosts"]);
        }
        if first {
            args.extend(["--start", start]);
        }
        let out = env.weblog(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut seen: BTreeSet<String> = self.written.iter().cloned().collect();
        for f in ["log_a.txt", "log_b.txt"] {
            for l in complete_lines(&self.logs.join(f)) {
                if seen.insert(l.clone()) {
                    self.written.push(l);
                }
            }
        }
    }
}

/// An output's CSV as rows of column → text.
fn out_csv(dir: &Path, name: &str) -> Vec<BTreeMap<String, String>> {
    csv_rows(&std::fs::read_to_string(dir.join(format!("{name}.csv"))).unwrap())
}

#[test]
fn three_hosts_one_lake_exactly_once_and_spark_equals_one_weblog() {
    let Some(python) = spark_python() else {
        tool_missing(
            "PySpark is not installed (make spark-env puts it in ~/.cache/weblog-spark/venv)",
        );
        return;
    };
    let env = Env::new();
    let lake = env.path("lake");
    let geoip = env.path("country.mmdb");
    {
        use common::mmdb::Value;
        let networks: Vec<(&str, Value)> = COUNTRIES
            .iter()
            .map(|(net, code)| {
                let code = Value::Str(code.to_string());
                (
                    *net,
                    Value::Map(BTreeMap::from([("country_code".to_string(), code)])),
                )
            })
            .collect();
        std::fs::write(&geoip, common::mmdb::write(&networks)).unwrap();
    }
    let mut hosts: Vec<Host> = HOSTS
        .iter()
        .map(|name| Host {
            name,
            // A fleet in transition: two servers log the sites and times, one does not.
            vhosts: *name != "web-3",
            logs: env.path(&format!("logs-{name}")),
            db: env.path(&format!("{name}.duckdb")),
            out: env.path(&format!("out-{name}")),
            written: Vec::new(),
        })
        .collect();
    let mut rng = Rng(20_261_202);
    let (mut killed, mut aborted_after_rename) = (0, 0);
    for round in 0..6 {
        for (i, host) in hosts.iter_mut().enumerate() {
            // The same visitor pool (seed) on every host, each an hour apart: the same
            // people, never the same line on two hosts.
            let start = format!("2026-11-09T{}:00:00+00:00", i + 16);
            host.generate(&env, 300 + rng.below(500), round == 0, &start);
            let args = host.run_args(&lake, &geoip);
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_weblog"));
            cmd.args(&args)
                .current_dir(env.dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let at_rename = rng.below(3) == 0;
            if at_rename {
                cmd.env("WEBLOG_FAILPOINT", "lake-after-rename");
            }
            let mut child = cmd.spawn().unwrap();
            std::thread::sleep(Duration::from_millis(rng.below(1200)));
            let status = match child.try_wait().unwrap() {
                Some(status) => status,
                None => {
                    child.kill().unwrap();
                    killed += 1;
                    child.wait().unwrap()
                }
            };
            if status.signal() == Some(SIGABRT) {
                assert!(at_rename, "only the failpoint aborts: {status:?}");
                aborted_after_rename += 1;
            } else {
                assert!(
                    status.success() || status.signal() == Some(9),
                    "round {round} {}: {status:?}",
                    host.name
                );
            }
            // A clean run before the generator rotates again (its truncation would destroy
            // lines no run has read: that loss is not the lake's to show).
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = env.weblog(&args);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    assert!(
        killed >= 3 && aborted_after_rename >= 2,
        "{killed} killed, {aborted_after_rename} aborted after a rename"
    );

    // Each warehouse holds exactly its host's lines; the lake holds each exactly once.
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let lake_files = format!("{}/logs/*/*/*.parquet", lake.display());
    let mut all_lines = BTreeSet::new();
    for host in &hosts {
        let distinct: BTreeSet<String> = host.written.iter().cloned().collect();
        let wh = duckdb::Connection::open_with_flags(
            &host.db,
            duckdb::Config::default()
                .access_mode(duckdb::AccessMode::ReadOnly)
                .unwrap(),
        )
        .unwrap();
        let stored: i64 = wh
            .query_row("SELECT count(*) FROM logs", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            stored as usize,
            distinct.len(),
            "{}: every written line stored once",
            host.name
        );
        let (rows, lines): (i64, i64) = conn
            .query_row(
                &format!("SELECT count(*), count(DISTINCT raw_log) FROM read_parquet('{lake_files}', hive_partitioning = true) WHERE host = '{}'", host.name),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(
            (rows as usize, lines as usize),
            (distinct.len(), distinct.len()),
            "{}: the lake holds each line once",
            host.name
        );
        let in_lake: BTreeSet<String> = conn
            .prepare(&format!("SELECT raw_log FROM read_parquet('{lake_files}', hive_partitioning = true) WHERE host = '{}'", host.name))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(
            in_lake == distinct,
            "{}: the lake's lines are the written ones",
            host.name
        );
        for l in &distinct {
            assert!(all_lines.insert(l.clone()), "a line on two hosts: {l}");
        }
    }
    let names: Vec<String> = files_under(&lake.join("logs"))
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("part-") && n.ends_with(".parquet")),
        "{names:?}"
    );

    // One weblog over all three hosts' logs, each source with its host.
    let single = env.path("single");
    std::fs::create_dir_all(&single).unwrap();
    let mut config = String::new();
    for host in &hosts {
        let file = single.join(format!("{}.log", host.name));
        append(&file, &host.written);
        config.push_str(&format!(
            "[[source]]\nlogs = \"{}\"\nhost = \"{}\"\n",
            file.display(),
            host.name
        ));
        if host.vhosts {
            config.push_str(&format!("format = '''{VHOSTS_FORMAT}'''\n"));
        }
        config.push('\n');
    }
    std::fs::write(single.join("weblog.toml"), config).unwrap();
    // All of it, then the same warehouse's outputs for one day, humans and one site.
    let filters = [
        "--from",
        FROM,
        "--to",
        TO,
        "--humans-only",
        "--vhost",
        VHOST,
    ];
    for (out, filtered) in [("out", false), ("out-filtered", true)] {
        let one = Command::new(env!("CARGO_BIN_EXE_weblog"))
            .args(["run", "--db", "one.duckdb", "--out", out, "--quiet"])
            .arg("--geoip")
            .arg(&geoip)
            .arg("--sql")
            .arg(repo_sql())
            .args(if filtered { &filters[..] } else { &[] })
            .current_dir(&single)
            .output()
            .unwrap();
        assert!(
            one.status.success(),
            "{}",
            String::from_utf8_lossy(&one.stderr)
        );
    }

    // The Spark job over the lake: both output sets in one session (rollups computed once).
    let spark_out = env.path("spark-out");
    let spark_filtered = env.path("spark-out-filtered");
    let job = Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("spark/weblog_spark.py"))
        .args(["--master", "local[2]", "--quiet", "--lake"])
        .arg(&lake)
        .arg("--out")
        .arg(&spark_out)
        .arg("--sql")
        .arg(repo_sql())
        .args(["--then", "--out"])
        .arg(&spark_filtered)
        .args(filters)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&job.stderr);
    assert!(job.status.success(), "spark job: {stderr}");
    // The lake's schema file is what types the columns, not a guess from the files.
    assert!(
        !stderr.contains("inferring the schema"),
        "the job reads weblog's lake schema: {stderr}"
    );

    let compared = assert_same_outputs(&conn, &single.join("out"), &spark_out, "unfiltered");
    let filtered = assert_same_outputs(
        &conn,
        &single.join("out-filtered"),
        &spark_filtered,
        "filtered",
    );
    // Every output has rows to compare, in both sets: no comparison above was of nothing.
    for (what, set) in [("unfiltered", &compared), ("filtered", &filtered)] {
        let empty: Vec<&String> = set
            .iter()
            .filter(|(_, n)| **n == 0)
            .map(|(o, _)| o)
            .collect();
        assert!(empty.is_empty(), "{what}: outputs without rows: {empty:?}");
    }

    // Counted here from the written lines: requests per day and site, timed requests and
    // the slowest per day, requests per country.
    let mut per_site: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut timed: BTreeMap<String, (usize, f64)> = BTreeMap::new();
    let mut per_country: BTreeMap<String, usize> = BTreeMap::new();
    for host in &hosts {
        let distinct: BTreeSet<&String> = host.written.iter().collect();
        for line in distinct {
            let (day, ip) = day_and_ip(line);
            *per_country
                .entry(country(&ip).unwrap_or_default().to_string())
                .or_default() += 1;
            match vhost_and_time(line) {
                Some((site, seconds)) => {
                    assert!(
                        host.vhosts,
                        "{}: a site in a combined line: {line}",
                        host.name
                    );
                    *per_site.entry((day.clone(), site)).or_default() += 1;
                    let t = timed.entry(day).or_insert((0, 0.0));
                    t.0 += 1;
                    t.1 = t.1.max(seconds);
                }
                None => assert!(!host.vhosts, "{}: no site in {line}", host.name),
            }
        }
    }
    let out = single.join("out");
    let got: BTreeMap<(String, String), usize> = out_csv(&out, "vhosts")
        .into_iter()
        .map(|r| {
            (
                (r["day"].clone(), r["vhost"].clone()),
                r["requests"].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, per_site, "requests per day and site");
    let got: BTreeMap<String, (usize, f64)> = out_csv(&out, "response_times")
        .into_iter()
        .map(|r| {
            let n = r["timed_requests"].parse().unwrap();
            (r["day"].clone(), (n, r["max_seconds"].parse().unwrap()))
        })
        .collect();
    assert_eq!(got, timed, "timed requests and the slowest per day");
    let got: BTreeMap<String, usize> = out_csv(&out, "countries")
        .into_iter()
        .map(|r| (r["country_code"].clone(), r["requests"].parse().unwrap()))
        .collect();
    assert_eq!(got, per_country, "requests per country");
    let sites: BTreeSet<&str> = per_site.keys().map(|(_, s)| s.as_str()).collect();
    let days: BTreeSet<&str> = per_site.keys().map(|(d, _)| d.as_str()).collect();
    assert!(
        sites.len() == 3 && per_country.len() >= 6 && per_country.contains_key(""),
        "sites {sites:?}, countries {per_country:?}"
    );
    // The range cuts on both sides, and the filtered outputs hold that day and site only.
    assert!(
        days.first() < Some(&FROM) && days.last() > Some(&TO),
        "days {days:?}"
    );
    let filtered_sites = out_csv(&single.join("out-filtered"), "vhosts");
    assert!(
        filtered_sites
            .iter()
            .all(|r| r["day"] == FROM && r["vhost"] == VHOST),
        "{filtered_sites:?}"
    );
    let humans = filtered_sites[0]["requests"].parse::<usize>().unwrap();
    let all = per_site[&(FROM.to_string(), VHOST.to_string())];
    assert!(
        humans < all,
        "--humans-only leaves bots out: {humans} of {all}"
    );

    // Distinct visitors are over all hosts: the same people on three hosts count once a day.
    let per_host_sum: usize = hosts
        .iter()
        .map(|h| {
            let rows =
                csv_rows(&std::fs::read_to_string(h.out.join("daily_visitors.csv")).unwrap());
            rows.iter()
                .map(|r| r["unique_visitors"].parse::<usize>().unwrap())
                .sum::<usize>()
        })
        .sum();
    let fleet: usize =
        csv_rows(&std::fs::read_to_string(single.join("out/daily_visitors.csv")).unwrap())
            .iter()
            .map(|r| r["unique_visitors"].parse::<usize>().unwrap())
            .sum();
    assert!(
        fleet < per_host_sum,
        "visitors shared by hosts are counted once ({fleet} vs {per_host_sum})"
    );
}
