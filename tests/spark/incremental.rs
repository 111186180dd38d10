//! The Spark job is incremental: two hosts feed a lake in many small cron-like runs (finished
//! days compacted), the job runs once (every day computed), then one host's warehouse gets
//! late rows for one old day and the job runs again, killed after writing that day's state
//! but before its manifest, then again: it says it recomputed that day only, and its outputs
//! equal one weblog's over both hosts' logs; a run with nothing new recomputes no day and
//! still writes the same outputs. Spark runs for real (`local[2]`). A module of the `spark`
//! test binary, so that its jobs run beside the other Spark test's.

use std::path::Path;
use std::process::Command;

use crate::common::outputs::assert_same_outputs;
use crate::common::*;
use crate::spark_python;

const HOSTS: [&str; 2] = ["web-1", "web-2"];
const LATE_DAY: &str = "2026-11-02";

/// The job over `lake` into `out`; its stdout (the days line).
fn spark_job(python: &Path, lake: &Path, out: &Path) -> String {
    let job = job_command(python, lake, out).output().unwrap();
    let stdout = String::from_utf8_lossy(&job.stdout).into_owned();
    assert!(
        job.status.success(),
        "spark job: {}\n{stdout}",
        String::from_utf8_lossy(&job.stderr)
    );
    stdout
}

fn job_command(python: &Path, lake: &Path, out: &Path) -> Command {
    let mut job = Command::new(python);
    job.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("spark/weblog_spark.py"))
        .args(["--master", "local[2]", "--lake"])
        .arg(lake)
        .arg("--out")
        .arg(out)
        .arg("--sql")
        .arg(repo_sql());
    job
}

fn days_line(stdout: &str) -> &str {
    stdout
        .lines()
        .find(|l| l.contains(" days"))
        .unwrap_or_else(|| panic!("no days line in {stdout}"))
}

#[test]
fn the_job_recomputes_only_the_day_that_received_rows() {
    let Some(python) = spark_python() else {
        tool_missing(
            "PySpark is not installed (make spark-env puts it in ~/.cache/weblog-spark/venv)",
        );
        return;
    };
    let env = Env::new();
    let lake = env.path("lake");
    let mut written: Vec<Vec<String>> = Vec::new();
    let run_host = |i: usize| {
        let host = HOSTS[i];
        let args = [
            "run".to_string(),
            "--logs".into(),
            env.path(&format!("logs-{host}/*")).display().to_string(),
            "--db".into(),
            env.path(&format!("{host}.duckdb")).display().to_string(),
            "--out".into(),
            env.path(&format!("out-{host}")).display().to_string(),
            "--sql".into(),
            repo_sql().display().to_string(),
            "--host".into(),
            host.into(),
            "--lake".into(),
            lake.display().to_string(),
            "--quiet".into(),
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = env.weblog(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    // Five days of the same visitors on both hosts, fed in eight runs each.
    for (i, host) in HOSTS.iter().enumerate() {
        let generated = env.path(&format!("gen-{host}"));
        let out = env.weblog(&[
            "generate",
            "--dir",
            &generated.display().to_string(),
            "--lines",
            "2500",
            "--rotate-every",
            "1000000",
            "--rate",
            &format!("{}", 2500.0 / (5.0 * 86_400.0)),
            "--seed",
            "5",
            "--start",
            &format!("2026-11-01T0{}:00:00+00:00", i + 1),
        ]);
        assert!(out.status.success());
        let lines = complete_lines(&generated.join("log_a.txt"));
        std::fs::create_dir_all(env.path(&format!("logs-{host}"))).unwrap();
        let live = env.path(&format!("logs-{host}/access.log"));
        for (from, to) in random_cuts(lines.len(), 8, 11 + i as u64) {
            append(&live, &lines[from..to]);
            run_host(i);
        }
        written.push(lines);
    }
    let days = {
        let mut d: Vec<String> = std::fs::read_dir(lake.join("logs"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        d.sort();
        d
    };
    assert!(days.len() >= 5, "{days:?}");
    let n = days.len();

    let first = spark_job(&python, &lake, &env.path("spark-1"));
    assert_eq!(
        days_line(&first),
        format!("weblog-spark: recomputing all {n} days (no state yet)")
    );

    // Late rows for one finished day on one host: a new batch, compacted with that day's file.
    let late: Vec<String> = written[0]
        .iter()
        .filter(|l| day_and_ip(l).0 == LATE_DAY && l.contains("HTTP/1.1"))
        .take(30)
        .map(|l| l.replacen("HTTP/1.1", "HTTP/1.0", 1))
        .collect();
    assert_eq!(late.len(), 30);
    append(&env.path("logs-web-1/access.log"), &late);
    run_host(0);
    written[0].extend(late);

    // A job killed after writing that day's state, before its manifest: the next run
    // recomputes the day again (its files still differ from the manifest).
    let killed = job_command(&python, &lake, &env.path("spark-killed"))
        .env("WEBLOG_SPARK_FAILPOINT", "before-manifest")
        .output()
        .unwrap();
    assert_eq!(
        killed.status.code(),
        Some(134),
        "{}",
        String::from_utf8_lossy(&killed.stderr)
    );
    assert_eq!(
        days_line(&String::from_utf8_lossy(&killed.stdout)),
        format!("weblog-spark: 1 of {n} days changed: {LATE_DAY}")
    );

    let second = spark_job(&python, &lake, &env.path("spark-2"));
    assert_eq!(
        days_line(&second),
        format!("weblog-spark: 1 of {n} days changed: {LATE_DAY}")
    );

    // One weblog over both hosts' logs, each source with its host.
    let single = env.path("single");
    std::fs::create_dir_all(&single).unwrap();
    let mut config = String::new();
    for (i, host) in HOSTS.iter().enumerate() {
        let file = single.join(format!("{host}.log"));
        append(&file, &written[i]);
        config.push_str(&format!(
            "[[source]]\nlogs = \"{}\"\nhost = \"{host}\"\n\n",
            file.display()
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
    let conn = duckdb::Connection::open_in_memory().unwrap();
    assert_same_outputs(
        &conn,
        &single.join("out"),
        &env.path("spark-2"),
        "after one day changed",
    );

    // Nothing new: no day recomputed, the same outputs.
    let third = spark_job(&python, &lake, &env.path("spark-3"));
    assert_eq!(
        days_line(&third),
        format!("weblog-spark: 0 of {n} days changed")
    );
    assert_same_outputs(
        &conn,
        &single.join("out"),
        &env.path("spark-3"),
        "nothing new",
    );

    // The state keeps no visitor's address (kept for days whose files are pruned).
    let (visits, addresses): (i64, i64) = conn
        .query_row(
            &format!(
                "SELECT count(*), count(client_addr) FROM read_parquet('{}/_weblog_spark/state/rollups/visits/*/*.parquet')",
                lake.display()
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(visits > 100, "{visits} visits in the state");
    assert_eq!(addresses, 0);
}
