//! Shared test harness: a temp folder, the real `weblog` binary run in it, and a reference
//! reading of log files that shares no code with the crate.
#![allow(dead_code)]

pub mod chromium;
pub mod leaks;
pub mod mmdb;
pub mod outputs;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn logs(&self) -> PathBuf {
        let p = self.path("logs");
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    pub fn db_path(&self) -> PathBuf {
        self.path("w.duckdb")
    }

    /// Run the real binary with `args`, in the temp folder.
    pub fn weblog(&self, args: &[&str]) -> Output {
        self.weblog_env(args, &[])
    }

    pub fn weblog_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_weblog"));
        cmd.args(args).current_dir(self.dir.path());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("weblog runs")
    }

    /// `weblog generate` of `lines` lines into one file (no rotation), with `extra` flags
    /// (rate, start, seed); its complete lines.
    pub fn generated(&self, lines: usize, extra: &[&str]) -> Vec<String> {
        let dir = self.path("gen");
        let n = lines.to_string();
        let mut args = vec!["generate", "--dir", dir.to_str().unwrap()];
        args.extend(["--lines", &n, "--rotate-every", &n]);
        args.extend_from_slice(extra);
        let out = self.weblog(&args);
        assert!(out.status.success(), "{out:?}");
        complete_lines(&dir.join("log_a.txt"))
    }

    /// The standard run arguments for this environment.
    pub fn run_args(&self) -> Vec<String> {
        vec![
            "run".into(),
            "--logs".into(),
            format!("{}/*", self.logs().display()),
            "--db".into(),
            self.db_path().display().to_string(),
            "--out".into(),
            self.path("out").display().to_string(),
            "--sql".into(),
            repo_sql().display().to_string(),
            "--json".into(),
        ]
    }

    /// The standard run arguments with another SQL folder.
    pub fn run_args_with_sql(&self, sql: &Path) -> Vec<String> {
        let mut args = self.run_args();
        let i = args
            .iter()
            .position(|a| a == "--sql")
            .expect("run_args has --sql");
        args[i + 1] = sql.display().to_string();
        args
    }

    /// `weblog run --json` that must succeed; returns the summary.
    pub fn run(&self, extra: &[&str]) -> serde_json::Value {
        let mut args = self.run_args();
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self.weblog(&args);
        assert!(
            out.status.success(),
            "weblog run failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        serde_json::from_slice(&out.stdout).expect("one JSON object on stdout")
    }

    /// The standard run with one flag's value replaced (or removed, with `None`); not asserted.
    pub fn run_replacing(&self, flag: &str, value: Option<&str>) -> Output {
        let mut args = self.run_args();
        let i = args
            .iter()
            .position(|a| a == flag)
            .expect("a standard flag");
        match value {
            Some(v) => args[i + 1] = v.to_string(),
            None if flag == "--json" => {
                args.remove(i);
            }
            None => {
                args.drain(i..i + 2);
            }
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.weblog(&args)
    }

    /// `logs` holds exactly `lines`, and daily_visitors.csv matches the reference count.
    pub fn assert_stored_exactly(&self, lines: &BTreeSet<String>) {
        let stored: BTreeSet<String> = self.stored_lines().into_iter().collect();
        assert!(
            &stored == lines,
            "stored {} lines, expected {}; {} missing",
            stored.len(),
            lines.len(),
            lines.difference(&stored).count()
        );
        assert_eq!(
            self.count("SELECT count(*) FROM logs") as usize,
            lines.len()
        );
        assert_eq!(
            daily_visitors_csv(&self.read_out("daily_visitors.csv")),
            daily_visitors(lines)
        );
    }

    pub fn db(&self) -> duckdb::Connection {
        let cfg = duckdb::Config::default()
            .access_mode(duckdb::AccessMode::ReadOnly)
            .unwrap();
        duckdb::Connection::open_with_flags(self.db_path(), cfg).expect("database opens")
    }

    pub fn stored_lines(&self) -> Vec<String> {
        let conn = self.db();
        let mut stmt = conn
            .prepare("SELECT raw_log FROM logs ORDER BY raw_log")
            .unwrap();
        stmt.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.db().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// The reasons of the stored rejects, in line order.
    pub fn reject_reasons(&self) -> Vec<String> {
        self.db()
            .prepare("SELECT reason FROM rejects ORDER BY source_offset")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    pub fn read_out(&self, file: &str) -> String {
        std::fs::read_to_string(self.path("out").join(file)).expect("output exists")
    }
}

/// Append `lines` to `path` (created if missing), each with a newline, as a server would.
pub fn append(path: &Path, lines: &[String]) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for l in lines {
        writeln!(f, "{l}").unwrap();
    }
}

/// A test whose tool is missing: under `make test` (WEBLOG_REQUIRE_TOOLS=1) or in CI
/// (`CI=true`) that is a failure, so a green run always means the test ran; a developer
/// without the tool can opt out with WEBLOG_ALLOW_MISSING_TOOLS=1 and sees it skipped.
pub fn tool_missing(what: &str) {
    let set = |k: &str| std::env::var(k).is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    let strict = set("WEBLOG_REQUIRE_TOOLS") || set("CI");
    if strict && !set("WEBLOG_ALLOW_MISSING_TOOLS") {
        panic!(
            "{what} (required here: WEBLOG_REQUIRE_TOOLS or CI is set; WEBLOG_ALLOW_MISSING_TOOLS=1 skips)"
        );
    }
    eprintln!("SKIPPED: {what}");
}

/// The Python of the venv `make spark-env` makes (or WEBLOG_SPARK_PYTHON), if it runs `check`
/// (a Python statement, e.g. `import pyspark`).
pub fn venv_python(check: &str) -> Option<PathBuf> {
    let python = std::env::var_os("WEBLOG_SPARK_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .map(|h| Path::new(&h).join(".cache/weblog-spark/venv/bin/python"))
        })?;
    let ok = Command::new(&python)
        .args(["-c", check])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(python)
}

/// The outputs the repository's `sql/` folder defines (one per `<name>.sql`).
pub fn repo_outputs() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo_sql())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".sql").map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

/// Where `lines` are cut into `cuts` runs of random sizes (the last takes the rest): each
/// run's `(from, to)`, as `seed` picks them.
pub fn random_cuts(lines: usize, cuts: usize, seed: u64) -> Vec<(usize, usize)> {
    let mut rng = weblog::generate::Rng(seed);
    let mut at = 0;
    (0..cuts)
        .map(|i| {
            let end = if i + 1 == cuts {
                lines
            } else {
                (at + rng.below((2 * lines / cuts) as u64 + 1) as usize).min(lines)
            };
            let cut = (at, end);
            at = end;
            cut
        })
        .collect()
}

pub fn repo_sql() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sql")
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Complete lines of a file (a trailing partial line is not a line yet).
pub fn complete_lines(path: &Path) -> Vec<String> {
    let data = std::fs::read(path).unwrap_or_default();
    let end = data.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    String::from_utf8(data[..end].to_vec())
        .unwrap()
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l).to_string())
        .collect()
}

/// Reference reading of a combined-format line: (ISO date as written, client address).
/// Deliberately naive and independent of the crate's parser.
pub fn day_and_ip(line: &str) -> (String, String) {
    let ip = line.split(' ').next().unwrap().to_string();
    let open = line.find('[').unwrap();
    let date = &line[open + 1..open + 12]; // dd/Mon/yyyy
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = months.iter().position(|m| *m == &date[3..6]).unwrap() + 1;
    (format!("{}-{:02}-{}", &date[7..11], month, &date[0..2]), ip)
}

/// Reference daily visitors over distinct lines: day → (distinct IPs, requests).
pub fn daily_visitors(lines: &BTreeSet<String>) -> BTreeMap<String, (usize, usize)> {
    let mut ips: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut requests: BTreeMap<String, usize> = BTreeMap::new();
    for line in lines {
        let (day, ip) = day_and_ip(line);
        ips.entry(day.clone()).or_default().insert(ip);
        *requests.entry(day).or_default() += 1;
    }
    ips.into_iter()
        .map(|(d, set)| {
            let r = requests[&d];
            (d, (set.len(), r))
        })
        .collect()
}

/// daily_visitors.csv parsed back: day → (unique_visitors, requests).
pub fn daily_visitors_csv(csv: &str) -> BTreeMap<String, (usize, usize)> {
    csv_rows(csv)
        .into_iter()
        .map(|r| {
            let n = |k: &str| r[k].parse::<usize>().unwrap();
            (r["day"].clone(), (n("unique_visitors"), n("requests")))
        })
        .collect()
}

/// A CSV file of ours as maps of column → value (RFC 4180 quoting; no newlines in fields).
pub fn csv_rows(csv: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = csv.lines();
    let header = csv_fields(lines.next().expect("a header"));
    lines
        .map(|l| header.iter().cloned().zip(csv_fields(l)).collect())
        .collect()
}

fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

pub fn num(v: &serde_json::Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} in {v}"))
}

/// A copy of the folder `from` (e.g. the SQL, to edit) at `to`.
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().map(Result::unwrap) {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// Every file under `dir`, at any depth.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}
