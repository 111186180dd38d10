//! The operator's commands, driven through the real binary: the runs table, `status`, `sql`,
//! `--quiet`, `--metrics-file`, the config file, completions and man page, `RUST_LOG`, the
//! progress bar (on a pseudo-terminal) and `watch` with its signals.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Env, append, complete_lines, daily_visitors, fixture, num, repo_sql};

/// A combined-format line; every field chosen by the test.
fn line(ip: &str, day: u32, second: u32, path: &str, agent: &str) -> String {
    format!(
        "{ip} - - [{day:02}/Nov/2026:10:{:02}:{:02} +0000] \"GET {path} HTTP/1.1\" 200 512 \"-\" \"{agent}\"",
        second / 60,
        second % 60
    )
}

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

/// 30 distinct lines over two days, from 4 addresses.
fn sample_lines() -> Vec<String> {
    (0..30)
        .map(|i| {
            line(
                &format!("10.0.0.{}", i % 4),
                20 + (i % 2),
                i,
                &format!("/page/{i}"),
                if i % 3 == 0 { CHROME } else { FIREFOX },
            )
        })
        .collect()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn every_run_is_recorded_with_its_counts_and_error() {
    let env = Env::new();
    let log = env.logs().join("access.log");
    let lines = sample_lines();
    append(&log, &lines);
    env.run(&[]);
    // A second run: 5 new lines, 2 of them repeats of stored ones, and one malformed line.
    let mut more: Vec<String> = (100..103)
        .map(|i| line("10.0.0.9", 21, i, "/new", FIREFOX))
        .collect();
    more.extend(lines[..2].iter().cloned());
    more.push("this is not a log line".into());
    append(&log, &more);
    env.run(&[]);
    // A third run fails in one output query: recorded with its error.
    let bad_sql = env.path("badsql");
    std::fs::create_dir_all(&bad_sql).unwrap();
    std::fs::write(
        bad_sql.join("broken.sql"),
        "SELECT no_such_column FROM logs",
    )
    .unwrap();
    let failed = env.run_replacing("--sql", Some(bad_sql.to_str().unwrap()));
    assert_eq!(failed.status.code(), Some(3), "{}", stderr(&failed));

    let conn = env.db();
    let mut stmt = conn
        .prepare(
            "SELECT files, lines, inserted, duplicates, rejects, error, finished_at >= started_at
             FROM runs ORDER BY started_at",
        )
        .unwrap();
    type Row = (i64, i64, i64, i64, i64, Option<String>, bool);
    let runs: Vec<Row> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[0], (1, 30, 30, 0, 0, None, true));
    assert_eq!(runs[1], (1, 6, 3, 2, 1, None, true));
    let (_, lines_read, inserted, _, _, error, _) = &runs[2];
    assert_eq!((*lines_read, *inserted), (0, 0));
    let error = error.as_deref().expect("the failed run has its error");
    assert!(error.contains("broken"), "{error}");
}

#[test]
fn status_shows_lag_last_read_and_the_last_runs_rejects() {
    let env = Env::new();
    let log = env.logs().join("access.log");
    let mut lines = sample_lines();
    lines.push("garbage that is no log line".into());
    append(&log, &lines);
    env.run(&[]);
    let read_size = std::fs::metadata(&log).unwrap().len();
    let later = vec![line("10.0.0.7", 21, 500, "/later", CHROME)];
    append(&log, &later);
    let appended = later[0].len() as u64 + 1;
    let other = env.logs().join("other.log");
    append(&other, &later);

    let db = env.db_path();
    let out = env.weblog(&[
        "status",
        "--db",
        db.to_str().unwrap(),
        "--logs",
        &format!("{}/*", env.logs().display()),
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["rows"], 30);
    assert_eq!(s["days"], 2);
    assert_eq!(s["rejects"], 1);
    assert_eq!(s["runs"], 1);
    let files = s["files"].as_array().unwrap();
    let file = |name: &str| {
        files
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} in {s}"))
    };
    let a = file("access.log");
    assert_eq!(a["offset"], read_size);
    assert_eq!(a["size"], read_size + appended);
    assert_eq!(a["lag_bytes"], appended);
    assert_eq!(a["state"], "continue");
    assert!(a["seconds_since_read"].as_i64().unwrap() < 600);
    assert!(a["identity"].as_str().unwrap().contains("head"));
    let o = file("other.log");
    assert_eq!(o["state"], "new");
    assert_eq!(o["lag_bytes"], appended);
    assert!(o["last_read"].is_null());
    let run = &s["last_run"];
    assert_eq!(run["lines"], 31);
    assert_eq!(run["rejects"], 1);
    let sample = &run["reject_sample"][0];
    assert_eq!(sample[3], "garbage that is no log line");
    // The reject's offset is where its line starts: after the 30 lines before it.
    let offset: usize = lines[..30].iter().map(|l| l.len() + 1).sum();
    assert_eq!(sample[1], offset as u64);

    let text = env.weblog(&[
        "status",
        "--db",
        db.to_str().unwrap(),
        "--logs",
        &format!("{}/*", env.logs().display()),
    ]);
    assert!(text.status.success());
    let text = stdout(&text);
    assert!(text.contains("access.log"), "{text}");
    assert!(text.contains("rejects in the last run"), "{text}");
    assert!(text.contains("garbage that is no log line"), "{text}");
}

#[test]
fn status_of_a_missing_database_is_one_clear_error() {
    let env = Env::new();
    let out = env.weblog(&["status", "--db", "nowhere.duckdb"]);
    assert_eq!(out.status.code(), Some(66));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("does not exist"), "{err}");
    assert!(!env.path("nowhere.duckdb").exists());
}

#[test]
fn sql_reads_tables_and_output_views_in_three_formats_and_never_writes() {
    let env = Env::new();
    let lines = sample_lines();
    append(&env.logs().join("access.log"), &lines);
    env.run(&[]);
    let db = env.db_path();
    let db = db.to_str().unwrap();
    let out_dir = env.path("out");
    let out_dir = out_dir.to_str().unwrap();
    let sql = |query: &str, format: &str| {
        env.weblog(&[
            "sql", query, "--db", db, "--out", out_dir, "--format", format,
        ])
    };

    let csv = sql(
        "SELECT count(*) AS n, count(DISTINCT remote_addr) AS ips FROM logs",
        "csv",
    );
    assert!(csv.status.success(), "{}", stderr(&csv));
    assert_eq!(stdout(&csv), "n,ips\n30,4\n");

    // The output file as a view, as JSON: equal to the reference count from the lines.
    let json = sql(
        "SELECT day, unique_visitors, requests FROM daily_visitors ORDER BY day",
        "json",
    );
    assert!(json.status.success(), "{}", stderr(&json));
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&json.stdout).unwrap();
    let got: BTreeMap<String, (usize, usize)> = rows
        .iter()
        .map(|r| {
            (
                r["day"].as_str().unwrap().to_string(),
                (
                    r["unique_visitors"].as_u64().unwrap() as usize,
                    r["requests"].as_u64().unwrap() as usize,
                ),
            )
        })
        .collect();
    let set: BTreeSet<String> = lines.iter().cloned().collect();
    assert_eq!(got, daily_visitors(&set));

    let table = sql(
        "SELECT request_path FROM logs ORDER BY request_path",
        "table",
    );
    let text = stdout(&table);
    assert!(text.starts_with("request_path\n"), "{text}");
    assert!(text.contains("/page/0\n"), "{text}");
    assert!(text.contains("(30 rows)"), "{text}");
    let capped = env.weblog(&["sql", "SELECT * FROM logs", "--db", db, "--max-rows", "5"]);
    assert!(stdout(&capped).contains("(5 of 30 rows shown"));

    // Read-only: writes are refused (exit 3, the query's fault) and change nothing.
    for write in [
        "DELETE FROM logs",
        "CREATE TABLE scratch AS SELECT 1",
        "DROP TABLE checkpoints",
    ] {
        let out = sql(write, "csv");
        assert_eq!(out.status.code(), Some(3), "{write}: {}", stdout(&out));
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    }
    assert_eq!(env.count("SELECT count(*) FROM logs"), 30);
    assert_eq!(env.count("SELECT count(*) FROM checkpoints"), 1);

    // An output named like a warehouse table does not shadow it.
    std::fs::copy(
        env.path("out/daily_visitors.parquet"),
        env.path("out/logs.parquet"),
    )
    .unwrap();
    let n = sql("SELECT count(*) AS n FROM logs", "csv");
    assert_eq!(stdout(&n), "n\n30\n", "{}", stderr(&n));

    let bad = sql("SELEC 1", "table");
    assert_eq!(bad.status.code(), Some(3));
    assert!(stderr(&bad).starts_with("weblog: error: "));
}

#[test]
fn quiet_prints_nothing_and_metrics_follow_success_and_failure() {
    let env = Env::new();
    append(&env.logs().join("access.log"), &sample_lines());
    let metrics = env.path("weblog.prom");
    let mut args = env.run_args();
    args.retain(|a| a != "--json");
    args.extend([
        "--quiet".into(),
        "--metrics-file".into(),
        metrics.display().to_string(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.weblog(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "");

    let read = |path: &std::path::Path| -> BTreeMap<String, f64> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let (k, v) = l.rsplit_once(' ').unwrap();
                (k.to_string(), v.parse().unwrap())
            })
            .collect()
    };
    let m = read(&metrics);
    assert_eq!(m["weblog_last_run_success"], 1.0);
    assert_eq!(m["weblog_last_run_lines_ingested"], 30.0);
    assert_eq!(m["weblog_last_run_lines_read"], 30.0);
    assert_eq!(m["weblog_last_run_rejects"], 0.0);
    let lag_key = format!(
        "weblog_lag_bytes{{file=\"{}\"}}",
        env.logs().join("access.log").display()
    );
    assert_eq!(m[&lag_key], 0.0);
    let success_at = m["weblog_last_success_timestamp_seconds"];
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - success_at).abs() < 600.0);
    // Every HELP'd metric has a TYPE, and no temp file is left beside it.
    let text = std::fs::read_to_string(&metrics).unwrap();
    assert_eq!(
        text.matches("# HELP").count(),
        text.matches("# TYPE").count()
    );
    assert_eq!(
        std::fs::read_dir(env.dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".tmp")
            })
            .count(),
        0
    );

    // A failing run (a named log file missing): success 0, its exit code, and the time of
    // the last success kept.
    let mut args = env.run_args();
    let i = args.iter().position(|a| a == "--logs").unwrap();
    args[i + 1] = env.path("missing.log").display().to_string();
    args.extend([
        "--quiet".into(),
        "--metrics-file".into(),
        metrics.display().to_string(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = env.weblog(&args);
    assert_eq!(out.status.code(), Some(66));
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    let m = read(&metrics);
    assert_eq!(m["weblog_last_run_success"], 0.0);
    assert_eq!(m["weblog_last_run_exit_code"], 66.0);
    assert_eq!(m["weblog_last_success_timestamp_seconds"], success_at);
}

#[test]
fn a_config_file_mirrors_the_flags_and_the_command_line_wins() {
    let env = Env::new();
    append(&env.logs().join("access.log"), &sample_lines());
    let toml = format!(
        "logs = [\"{}/*\"]\ndb = \"from-config.duckdb\"\nout = \"config-out\"\nsql = \"{}\"\njson = true\nmemory_limit = \"256MB\"\n",
        env.logs().display(),
        repo_sql().display()
    );
    // ./weblog.toml is read by default.
    std::fs::write(env.path("weblog.toml"), &toml).unwrap();
    let out = env.weblog(&["run"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json = true");
    assert_eq!(summary["inserted"], 30);
    assert!(env.path("from-config.duckdb").is_file());
    assert!(env.path("config-out/daily_visitors.csv").is_file());

    // -c names another file; a flag given on the command line beats the file.
    std::fs::rename(env.path("weblog.toml"), env.path("cron.toml")).unwrap();
    let out = env.weblog(&["run", "-c", "cron.toml", "--db", "flag.duckdb"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(env.path("flag.duckdb").is_file());
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["inserted"], 30, "a new database gets every line");
    // `status` and `sql` read the same file.
    let out = env.weblog(&[
        "-c",
        "cron.toml",
        "sql",
        "SELECT count(*) FROM logs",
        "--format",
        "csv",
    ]);
    assert_eq!(stdout(&out), "count_star()\n30\n", "{}", stderr(&out));

    // An unknown key or a missing file is one clear error.
    std::fs::write(env.path("typo.toml"), "dbb = \"x.duckdb\"\n").unwrap();
    let out = env.weblog(&["run", "-c", "typo.toml"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(stderr(&out).contains("dbb"), "{}", stderr(&out));
    // A bad value in the file is refused as the flag's would be, naming the file and flag.
    std::fs::write(env.path("bad.toml"), "memory_limit = \"lots\"\n").unwrap();
    let out = env.weblog(&["run", "-c", "bad.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("bad.toml") && stderr(&out).contains("--memory-limit"),
        "{}",
        stderr(&out)
    );
    let out = env.weblog(&["run", "-c", "absent.toml"]);
    assert_eq!(out.status.code(), Some(66));
    assert_eq!(stderr(&out).lines().count(), 1);
}

#[test]
fn completions_and_man_page_come_from_the_cli_definition() {
    let env = Env::new();
    let bash = env.weblog(&["completions", "bash"]);
    assert!(bash.status.success());
    let script = env.path("weblog.bash");
    std::fs::write(&script, &bash.stdout).unwrap();
    // The script is valid bash and completes the subcommands.
    let check = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source {}; COMP_WORDS=(weblog st); COMP_CWORD=1; _weblog weblog st weblog; echo \"${{COMPREPLY[@]}}\"",
            script.display()
        ))
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", stderr(&check));
    assert_eq!(stdout(&check).trim(), "status");
    for (shell, marker) in [("zsh", "#compdef weblog"), ("fish", "complete -c weblog")] {
        let out = env.weblog(&["completions", shell]);
        assert!(out.status.success());
        assert!(stdout(&out).contains(marker), "{shell}");
    }
    let man = env.weblog(&["man"]);
    assert!(man.status.success());
    let page = stdout(&man);
    assert!(
        page.starts_with(".ie") || page.starts_with(".TH"),
        "{}",
        &page[..80]
    );
    assert!(page.contains(".TH weblog 1"));
    for sub in ["run", "watch", "status", "sql", "report"] {
        assert!(page.contains(&format!("weblog\\-{sub}")), "{sub}");
    }
}

#[test]
fn rust_log_turns_on_stage_logging_and_it_is_silent_otherwise() {
    let env = Env::new();
    append(&env.logs().join("access.log"), &sample_lines());
    let args = env.run_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let quiet = env.weblog_env(&args, &[("RUST_LOG", "")]);
    assert!(quiet.status.success());
    assert_eq!(stderr(&quiet), "");
    append(
        &env.logs().join("access.log"),
        &[line("10.1.1.1", 22, 1, "/x", CHROME)],
    );
    let loud = env.weblog_env(&args, &[("RUST_LOG", "weblog=debug")]);
    assert!(loud.status.success());
    let err = stderr(&loud);
    assert!(err.contains("DEBUG"), "{err}");
    assert!(err.contains("rollups refreshed"), "{err}");
    assert!(err.contains("loaded"), "{err}");
}

/// Run `cmd` on a pseudo-terminal (util-linux `script`); returns what the terminal showed.
fn on_terminal(env: &Env, cmd: &str, extra_env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut c = Command::new("script");
    c.args(["-qfec", cmd, "/dev/null"])
        .current_dir(env.dir.path());
    for (k, v) in extra_env {
        c.env(k, v);
    }
    let out = c.output().expect("script(1) from util-linux");
    (out.status.code(), stdout(&out))
}

fn shell_quote(args: &[String]) -> String {
    args.iter()
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn the_progress_bar_shows_on_a_terminal_only() {
    let env = Env::new();
    let lines: Vec<String> = (0..3000)
        .map(|i| {
            line(
                &format!("10.2.{}.{}", i / 250, i % 250),
                20,
                i % 3600,
                &format!("/p{i}"),
                FIREFOX,
            )
        })
        .collect();
    append(&env.logs().join("access.log"), &lines);
    let mut args = vec![env!("CARGO_BIN_EXE_weblog").to_string()];
    args.extend(env.run_args());
    args.retain(|a| a != "--json");
    // Small batches so the run reports progress several times.
    args.extend(["--batch-bytes".into(), "65536".into()]);
    let (code, screen) = on_terminal(
        &env,
        &shell_quote(&args),
        &[("WEBLOG_PROGRESS_DELAY_MS", "0")],
    );
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains("eta"), "no bar drawn: {screen}");
    assert!(screen.contains("3000 lines"), "{screen}");

    // Not a terminal: the same run with the bar forced due shows none.
    append(
        &env.logs().join("access.log"),
        &[line("10.9.9.9", 20, 1, "/z", CHROME)],
    );
    let args: Vec<&str> = args[1..].iter().map(String::as_str).collect();
    let out = env.weblog_env(&args, &[("WEBLOG_PROGRESS_DELAY_MS", "0")]);
    assert!(out.status.success());
    assert!(!stderr(&out).contains("eta"), "{}", stderr(&out));
}

/// Start `weblog watch` on the environment's logs with its stdout piped (plain lines).
fn spawn_watch(env: &Env, interval: &str) -> std::process::Child {
    let mut args = env.run_args();
    args[0] = "watch".into();
    args.retain(|a| a != "--json");
    args.extend(["--interval".into(), interval.into()]);
    Command::new(env!("CARGO_BIN_EXE_weblog"))
        .args(&args)
        .current_dir(env.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn signal(child: &std::process::Child, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

fn wait_exit(child: &mut std::process::Child, limit: Duration) -> Option<i32> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    panic!("watch did not exit within {limit:?}");
}

#[test]
fn watch_ingests_every_interval_and_stops_cleanly_on_sigterm_and_sigint() {
    for sig in ["TERM", "INT"] {
        let env = Env::new();
        let log = env.logs().join("access.log");
        let first = sample_lines();
        append(&log, &first);
        let mut child = spawn_watch(&env, "200ms");
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines() {
                let _ = tx.send(l.unwrap());
            }
        });
        let wait_for = |needle: &str| {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                let l = rx
                    .recv_timeout(left)
                    .unwrap_or_else(|_| panic!("no line with {needle:?}"));
                // Plain lines (stdout is a pipe), one per pass; no screen control codes.
                assert!(!l.contains('\x1b'), "{l:?}");
                if l.contains(needle) {
                    return l;
                }
            }
        };
        let l = wait_for("30 inserted");
        assert!(l.contains("visitors"), "{l}");
        let more: Vec<String> = (0..7)
            .map(|i| line("10.3.3.3", 21, 900 + i, "/more", CHROME))
            .collect();
        append(&log, &more);
        wait_for("7 inserted");
        signal(&child, sig);
        assert_eq!(
            wait_exit(&mut child, Duration::from_secs(20)),
            Some(0),
            "SIG{sig}"
        );
        let mut all: BTreeSet<String> = first.into_iter().collect();
        all.extend(more);
        env.assert_stored_exactly(&all);
    }
}

#[test]
fn watch_on_a_terminal_redraws_a_live_view() {
    let env = Env::new();
    append(&env.logs().join("access.log"), &sample_lines());
    // --foreground: timeout signals weblog alone (otherwise it also signals its process
    // group, and two SIGTERMs are weblog's "exit at once").
    let mut args = vec![
        "timeout".to_string(),
        "--foreground".into(),
        "--preserve-status".into(),
        "-s".into(),
        "TERM".into(),
        "4".into(),
        env!("CARGO_BIN_EXE_weblog").into(),
    ];
    let mut run = env.run_args();
    run[0] = "watch".into();
    run.retain(|a| a != "--json");
    args.extend(run);
    args.extend(["--interval".into(), "500ms".into()]);
    let (code, screen) = on_terminal(&env, &shell_quote(&args), &[]);
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains("\x1b[2J"), "the screen is redrawn");
    assert!(screen.matches("weblog watch").count() >= 2, "{screen}");
    assert!(screen.contains("top browsers"), "{screen}");
    assert!(screen.contains("Firefox"), "{screen}");
    assert!(screen.contains("last error: none"), "{screen}");
    assert!(screen.contains("stopped."), "{screen}");
}

#[test]
fn run_report_writes_the_dashboard_beside_the_outputs() {
    let env = Env::new();
    append(&env.logs().join("access.log"), &sample_lines());
    env.run(&["--report"]);
    let html = std::fs::read_to_string(env.path("out/report.html")).unwrap();
    assert!(html.contains("<svg"));
}

#[test]
fn sql_during_a_run_answers_from_the_outputs_and_says_so() {
    let env = Env::new();
    let lines = sample_lines();
    append(&env.logs().join("access.log"), &lines[..20]);
    env.run(&[]);
    append(&env.logs().join("access.log"), &lines[20..]);
    // A run holding the warehouse, paused just before its commit.
    let mut run = Command::new(env!("CARGO_BIN_EXE_weblog"))
        .args(env.run_args())
        .current_dir(env.dir.path())
        .env("WEBLOG_FAILPOINT", "before-commit:pause=3000")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut said = String::new();
    BufReader::new(run.stderr.as_mut().unwrap())
        .read_line(&mut said)
        .unwrap();
    assert!(said.contains("failpoint before-commit"), "{said}");
    let db = env.db_path().display().to_string();
    let out_dir = env.path("out").display().to_string();
    let sql = |query: &str| {
        env.weblog(&[
            "sql", "--db", &db, "--out", &out_dir, "--format", "csv", query,
        ])
    };
    // The first run's 20 lines, as daily_visitors.csv holds them (counted from the lines).
    let expected = daily_visitors(&lines[..20].iter().cloned().collect::<BTreeSet<_>>());
    let out = sql("SELECT day::VARCHAR, requests FROM daily_visitors ORDER BY day");
    assert!(out.status.success(), "{}", stderr(&out));
    let got: BTreeMap<String, usize> = stdout(&out)
        .lines()
        .skip(1)
        .map(|l| {
            let (d, n) = l.split_once(',').unwrap();
            (d.to_string(), n.parse().unwrap())
        })
        .collect();
    let want: BTreeMap<String, usize> =
        expected.iter().map(|(d, (_, r))| (d.clone(), *r)).collect();
    assert_eq!(got, want);
    let note = stderr(&out);
    assert_eq!(note.lines().count(), 1, "{note}");
    assert!(note.contains("answering from the outputs"), "{note}");
    // The warehouse's own tables are not there meanwhile: an SQL error, after the same note.
    let out = sql("SELECT count(*) FROM logs");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("answering from the outputs"));
    let out = run.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // Afterwards, the warehouse again.
    let out = sql("SELECT count(*) FROM logs");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().nth(1), Some("30"));
}

#[test]
fn watch_stopped_during_a_long_backfill_commits_what_it_read_and_a_second_signal_exits_at_once() {
    for second in [false, true] {
        let env = Env::new();
        let log = env.logs().join("access.log");
        let lines: Vec<String> = (0..20_000)
            .map(|i| {
                let ip = format!("10.9.{}.{}", i % 200, i % 250);
                line(&ip, 20 + (i % 2), i % 3600, &format!("/p/{i}"), FIREFOX)
            })
            .collect();
        append(&log, &lines);
        // Many small batches, each held 300 ms before its commit: a backfill of a minute.
        let mut args = env.run_args();
        args[0] = "watch".into();
        args.retain(|a| a != "--json");
        args.extend([
            "--interval".into(),
            "1s".into(),
            "--batch-bytes".into(),
            "65536".into(),
        ]);
        let mut child = Command::new(env!("CARGO_BIN_EXE_weblog"))
            .args(&args)
            .current_dir(env.dir.path())
            .env("WEBLOG_FAILPOINT", "before-commit:pause=300")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut said = String::new();
        // The third commit under way: well inside the backfill.
        for _ in 0..3 {
            said.clear();
            err.read_line(&mut said).unwrap();
            assert!(said.contains("failpoint before-commit"), "{said}");
        }
        signal(&child, "INT");
        let signalled = Instant::now();
        if second {
            std::thread::sleep(Duration::from_millis(50));
            signal(&child, "INT");
        }
        let code = wait_exit(&mut child, Duration::from_secs(20));
        if second {
            // At once (130), not at the end of the pass (which had half a minute to go).
            assert_eq!(code, Some(130));
            assert!(
                signalled.elapsed() < Duration::from_secs(5),
                "{:?}",
                signalled.elapsed()
            );
        } else {
            assert_eq!(code, Some(0), "stops after the current chunk");
        }
        let stored = env.count("SELECT count(*) FROM logs") as usize;
        assert!(
            stored < lines.len(),
            "stopped early: {stored} of {}",
            lines.len()
        );
        // Either way the warehouse is consistent: a run stores the rest, every line once.
        let s = env.run(&[]);
        assert_eq!(num(&s, "duplicates"), 0, "nothing read twice: {s}");
        env.assert_stored_exactly(&lines.into_iter().collect());
    }
}

#[test]
fn bookkeeping_past_its_retention_is_pruned_and_nothing_else() {
    let env = Env::new();
    let kept = env.logs().join("a.log");
    let gone = env.logs().join("b.log");
    let recent = env.logs().join("c.log");
    let lines = complete_lines(&fixture("apache_logs"));
    common::append(&kept, &lines[..10]);
    common::append(&gone, &lines[10..20]);
    common::append(&recent, &lines[20..30]);
    env.run(&[]);
    env.run(&[]);
    std::fs::remove_file(&gone).unwrap();
    std::fs::remove_file(&recent).unwrap();
    {
        // Time passes: a.log idle and b.log gone for 31 days, c.log gone for 29; the first
        // run was 100 days ago.
        let conn = duckdb::Connection::open(env.db_path()).unwrap();
        conn.execute_batch(&format!(
            "UPDATE checkpoints SET updated_at = current_timestamp - INTERVAL 31 DAY
               WHERE path IN ('{}', '{}');
             UPDATE checkpoints SET updated_at = current_timestamp - INTERVAL 29 DAY
               WHERE path = '{}';
             UPDATE runs SET started_at = current_timestamp - INTERVAL 100 DAY
               WHERE started_at = (SELECT min(started_at) FROM runs);",
            kept.display(),
            gone.display(),
            recent.display()
        ))
        .unwrap();
    }
    // Kept for ever when told so.
    let s = env.run(&[
        "--checkpoint-retention",
        "never",
        "--runs-retention",
        "never",
    ]);
    assert_eq!(
        s["pruned"],
        serde_json::json!({"checkpoints": 0, "runs": 0})
    );
    let s = env.run(&[]);
    assert_eq!(
        s["pruned"],
        serde_json::json!({"checkpoints": 1, "runs": 1})
    );
    let paths: Vec<String> = env
        .db()
        .prepare("SELECT path FROM checkpoints ORDER BY path")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        paths,
        vec![kept.display().to_string(), recent.display().to_string()]
    );
    // The idle file is still known: nothing read again.
    assert_eq!(num(&env.run(&[]), "lines_read"), 0);
    assert_eq!(env.count("SELECT count(*) FROM logs"), 30);
    // A bad value is a usage error before anything is touched.
    let mut args = env.run_args();
    args.extend(["--checkpoint-retention".into(), "30x".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(env.weblog(&args).status.code(), Some(2));
}

#[test]
fn a_rollup_rebuilt_in_steps_says_how_far_it_is_on_a_terminal() {
    let env = Env::new();
    // The real sample spans four days (17-20 May 2015).
    append(
        &env.logs().join("access.log"),
        &complete_lines(&fixture("apache_logs"))[..4000],
    );
    // A copy of the SQL whose visits rollup is then edited.
    let sql = env.path("sql");
    common::copy_dir(&repo_sql(), &sql);
    let mut args = vec![env!("CARGO_BIN_EXE_weblog").to_string()];
    args.extend(env.run_args_with_sql(&sql));
    args.retain(|a| a != "--json");
    let (code, screen) = on_terminal(&env, &shell_quote(&args), &[]);
    assert_eq!(code, Some(0), "{screen}");
    let visits = sql.join("rollups").join("visits.sql");
    let text = std::fs::read_to_string(&visits).unwrap();
    std::fs::write(&visits, format!("-- edited\n{text}")).unwrap();
    // One day per step: the changed rollup is rebuilt in four steps.
    let (code, screen) = on_terminal(&env, &shell_quote(&args), &[("WEBLOG_REBUILD_ROWS", "1")]);
    assert_eq!(code, Some(0), "{screen}");
    let days = env.count("SELECT count(DISTINCT day) FROM logs");
    assert!(days >= 2, "{days} days");
    for step in 1..=days {
        assert!(
            screen.contains(&format!(
                "rebuilding rollup visits (new, or its SQL changed): {step}/{days} days"
            )),
            "{screen}"
        );
    }
    assert!(!screen.contains("rebuilding rollup pages"), "{screen}");
    assert!(
        screen.contains(&format!(
            "rollups built over all history: visits ({days} days)"
        )),
        "{screen}"
    );
}
