//! Scale-out, end to end: three weblog hosts (three warehouses, three `--host` names, the
//! same visitors) append to one Parquet lake from rotating logs while their runs are killed
//! at random moments and between a lake file's rename and its mark; then the lake holds
//! every committed line exactly once per host, and the Spark job's outputs over the lake
//! equal one weblog's over all three hosts' logs. Spark runs for real (`local[2]`), from the
//! venv `make spark-env` installs.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use weblog::generate::Rng;

const HOSTS: [&str; 3] = ["web-1", "web-2", "web-3"];
const SIGABRT: i32 = 6;

/// The venv's Python with PySpark, if `make spark-env` made it.
fn spark_python() -> Option<PathBuf> {
    venv_python("import pyspark, sqlglot")
}

struct Host {
    name: &'static str,
    logs: PathBuf,
    db: PathBuf,
    out: PathBuf,
    /// Every line written to its logs, in order (the generator truncates as it rotates).
    written: Vec<String>,
}

impl Host {
    fn run_args(&self, lake: &Path) -> Vec<String> {
        vec![
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
            "--quiet".into(),
        ]
    }

    /// Append `lines` demo lines (rotating every 700, truncating) and remember them.
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
            "0.4",
            "--seed",
            "7",
        ];
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

/// An output file's columns as (name, DuckDB type) and its rows as text.
fn parquet_rows(
    conn: &duckdb::Connection,
    file: &Path,
) -> (Vec<(String, String)>, Vec<Vec<String>>) {
    let source = format!("read_parquet('{}')", file.display());
    let typed: Vec<(String, String)> = conn
        .prepare(&format!(
            "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {source})"
        ))
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let columns: Vec<&String> = typed.iter().map(|(c, _)| c).collect();
    // Doubles rounded to 9 significant digits: the engines may differ in the last bits.
    let select: Vec<String> = columns
        .iter()
        .map(|c| format!("CASE WHEN typeof(\"{c}\") = 'DOUBLE' THEN printf('%.9g', \"{c}\") ELSE \"{c}\"::VARCHAR END"))
        .collect();
    let rows = conn
        .prepare(&format!("SELECT {} FROM {source}", select.join(", ")))
        .unwrap()
        .query_map([], |r| {
            (0..columns.len())
                .map(|i| r.get::<_, Option<String>>(i).map(|v| v.unwrap_or_default()))
                .collect()
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (typed, rows)
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
    let mut hosts: Vec<Host> = HOSTS
        .iter()
        .map(|name| Host {
            name,
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
            let start = format!("2026-11-10T0{}:00:00+00:00", i + 6);
            host.generate(&env, 300 + rng.below(500), round == 0, &start);
            let args = host.run_args(&lake);
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
    let names: Vec<String> = walk(&lake.join("logs"));
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
            "[[source]]\nlogs = \"{}\"\nhost = \"{}\"\n\n",
            file.display(),
            host.name
        ));
    }
    std::fs::write(single.join("weblog.toml"), config).unwrap();
    let one = Command::new(env!("CARGO_BIN_EXE_weblog"))
        .args([
            "run",
            "--db",
            "one.duckdb",
            "--out",
            "out",
            "--quiet",
            "--sql",
        ])
        .arg(repo_sql())
        .current_dir(&single)
        .output()
        .unwrap();
    assert!(
        one.status.success(),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );

    // The Spark job over the lake.
    let spark_out = env.path("spark-out");
    let job = Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("spark/weblog_spark.py"))
        .args(["--master", "local[2]", "--quiet", "--lake"])
        .arg(&lake)
        .arg("--out")
        .arg(&spark_out)
        .arg("--sql")
        .arg(repo_sql())
        .output()
        .unwrap();
    assert!(
        job.status.success(),
        "spark job: {}",
        String::from_utf8_lossy(&job.stderr)
    );

    let mut compared = BTreeMap::new();
    for name in repo_outputs() {
        let file = format!("{name}.parquet");
        let ours = parquet_rows(&conn, &single.join("out").join(&file));
        let theirs = parquet_rows(&conn, &spark_out.join(&file));
        // Names and types: a reader of either output gets the same schema.
        assert_eq!(ours.0, theirs.0, "{name}: columns and their types");
        assert!(
            ours.1 == theirs.1,
            "{name}: rows differ\nweblog: {:?}\nspark:  {:?}",
            &ours.1[..ours.1.len().min(5)],
            &theirs.1[..theirs.1.len().min(5)]
        );
        compared.insert(name, ours.1.len());
    }
    assert!(
        compared["visits"] > 0 && compared["daily_visitors"] > 0,
        "{compared:?}"
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

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    out
}
