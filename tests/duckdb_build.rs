//! The DuckDB weblog is built with: through `make` (tools/cargo) it links DuckDB's official
//! library and finds it with no environment variable; a warehouse it writes is read by the
//! current DuckDB Python package; a warehouse of weblog's earlier DuckDB 2.0 build gets one clear
//! error, is left as it was, and `tools/migrate_warehouse.py` makes it usable with nothing lost.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;

/// A Python with the DuckDB 2 package: the Spark venv's (`make spark-env`, spark/requirements.txt);
/// its absence fails under `make test` (see `tool_missing`).
fn duckdb_python() -> Option<PathBuf> {
    let py = venv_python("import duckdb; assert duckdb.__version__.startswith('2.')");
    if py.is_none() {
        tool_missing(
            "DuckDB 2 for Python is not installed (make spark-env puts it in ~/.cache/weblog-spark/venv)",
        );
    }
    py
}

fn python(py: &Path, script: &str, args: &[&Path]) -> String {
    let out = Command::new(py)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// The real binary with an empty environment: no LD_LIBRARY_PATH, no HOME, nothing.
fn weblog_bare(env: &Env, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weblog"))
        .args(args)
        .current_dir(env.dir.path())
        .env_clear()
        .output()
        .expect("weblog runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The fixture's first `n` lines in the temp folder's logs, and how many distinct ones there are.
fn some_real_lines(env: &Env, n: usize) -> usize {
    let lines: Vec<String> = complete_lines(&fixture("apache_logs"))
        .into_iter()
        .take(n)
        .collect();
    append(&env.logs().join("access.log"), &lines);
    lines
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

#[test]
fn the_binary_finds_its_duckdb_with_no_environment() {
    let env = Env::new();
    let distinct = some_real_lines(&env, 500);
    let args = env.run_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = weblog_bare(&env, &args);
    assert!(out.status.success(), "run failed: {}", stderr(&out));
    let db = env.db_path().display().to_string();
    let out = weblog_bare(
        &env,
        &[
            "sql",
            "--db",
            &db,
            "--format",
            "csv",
            "SELECT library_version, (SELECT count(*) FROM logs) + (SELECT count(*) FROM rejects) \
             FROM pragma_version()",
        ],
    );
    assert!(out.status.success(), "sql failed: {}", stderr(&out));
    let csv = String::from_utf8_lossy(&out.stdout).into_owned();
    let row = csv.lines().nth(1).expect("one row");
    assert_eq!(row, format!("v1.5.6,{distinct}"), "{csv}");

    // Which library the loader resolved: the verified official one in the build cache when built
    // through tools/cargo, none when DuckDB is compiled in.
    let ldd = Command::new("ldd")
        .arg(env!("CARGO_BIN_EXE_weblog"))
        .env_clear()
        .output()
        .expect("ldd runs");
    let ldd = String::from_utf8_lossy(&ldd.stdout).into_owned();
    let linked = ldd.lines().find(|l| l.contains("libduckdb"));
    if cfg!(feature = "bundled") {
        assert_eq!(linked, None, "{ldd}");
    } else {
        let linked = linked.expect("libduckdb.so is a dependency");
        let path = linked
            .split("=>")
            .nth(1)
            .unwrap()
            .split(" (")
            .next()
            .unwrap()
            .trim();
        assert!(
            path.ends_with("/libduckdb/1.5.6-r.1/libduckdb.so"),
            "libduckdb.so resolved to {path:?}: {ldd}"
        );
        let lib_dir = Path::new(path).parent().unwrap();
        assert!(
            lib_dir.join(".verified").is_file(),
            "{path} was not verified"
        );
    }
}

#[test]
fn a_warehouse_is_read_by_the_current_duckdb_python_package() {
    let Some(py) = duckdb_python() else {
        return;
    };
    let env = Env::new();
    let distinct = some_real_lines(&env, 2000);
    env.run(&[]);
    // Counted by the test from the file: every distinct line is a row or a reject; the daily
    // visitors are those of the reference reading in tests/common.
    let lines: std::collections::BTreeSet<String> = complete_lines(&env.logs().join("access.log"))
        .into_iter()
        .collect();
    let days = daily_visitors(&lines);
    let got = python(
        &py,
        "import sys, duckdb\n\
         c = duckdb.connect(sys.argv[1], read_only=True)\n\
         rows = c.execute('SELECT count(*) FROM logs').fetchone()[0]\n\
         rej = c.execute('SELECT count(*) FROM rejects').fetchone()[0]\n\
         days = c.execute(\"SELECT strftime(day, '%Y-%m-%d'), count(DISTINCT remote_addr) FROM logs GROUP BY 1 ORDER BY 1\").fetchall()\n\
         print(duckdb.__version__.split('.')[0], rows + rej, ';'.join(f'{d}={n}' for d, n in days))",
        &[&env.db_path()],
    );
    let expected_days: Vec<String> = days
        .iter()
        .map(|(d, (ips, _))| format!("{d}={ips}"))
        .collect();
    assert_eq!(got, format!("2 {distinct} {}", expected_days.join(";")));
}

#[test]
fn a_duckdb_2_warehouse_is_refused_untouched_then_migrated_with_nothing_lost() {
    let Some(py) = duckdb_python() else {
        return;
    };
    let env = Env::new();
    let first = some_real_lines(&env, 300);
    env.run(&[]);
    // What weblog's DuckDB 2.0 build left: the same warehouse in DuckDB 2.0's storage format.
    let db = env.db_path();
    let v2 = env.path("v2.duckdb");
    python(
        &py,
        "import sys, duckdb\n\
         c = duckdb.connect()\n\
         c.execute('ATTACH ? AS old (READ_ONLY)', [sys.argv[1]])\n\
         c.execute(\"ATTACH ? AS new (STORAGE_VERSION 'v2.0.0')\", [sys.argv[2]])\n\
         c.execute('COPY FROM DATABASE old TO new')",
        &[&db, &v2],
    );
    std::fs::remove_file(&db).unwrap();
    std::fs::rename(&v2, &db).unwrap();
    let before = std::fs::read(&db).unwrap();

    let out = env.run_replacing("--json", None);
    assert_eq!(out.status.code(), Some(65), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("newer DuckDB") && err.contains("make migrate-warehouse DB="),
        "{err}"
    );
    assert_eq!(std::fs::read(&db).unwrap(), before, "the file was changed");

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/migrate_warehouse.py");
    let out = Command::new(&py).arg(&script).arg(&db).output().unwrap();
    assert!(out.status.success(), "migration failed: {}", stderr(&out));
    assert!(
        env.path("w.duckdb.v2-backup").is_file(),
        "the original is kept"
    );

    // The migrated warehouse goes on: the checkpoint holds, so only the appended lines are new.
    let more: Vec<String> = complete_lines(&fixture("apache_logs"))
        .into_iter()
        .skip(300)
        .take(200)
        .collect();
    append(&env.logs().join("access.log"), &more);
    let summary = env.run(&[]);
    assert_eq!(num(&summary, "lines_read"), 200, "{summary}");
    let all: std::collections::BTreeSet<String> = complete_lines(&env.logs().join("access.log"))
        .into_iter()
        .collect();
    assert!(first < all.len());
    assert_eq!(
        env.count("SELECT (SELECT count(*) FROM logs) + (SELECT count(*) FROM rejects)") as usize,
        all.len()
    );
}

#[test]
fn instants_do_not_move_with_the_machines_time_zone() {
    // DuckDB's official library has ICU, which casts and renders TIMESTAMPTZ in the session's
    // zone, the machine's by default. Two warehouses of the same lines, one written under
    // UTC and one under UTC+14: the same instants, the same outputs byte for byte.
    let lines: Vec<String> = complete_lines(&fixture("apache_logs"))
        .into_iter()
        .take(300)
        .collect();
    let mut outputs = Vec::new();
    for tz in ["UTC", "Pacific/Kiritimati"] {
        let env = Env::new();
        append(&env.logs().join("access.log"), &lines);
        let args = env.run_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = env.weblog_env(&args, &[("TZ", tz)]);
        assert!(out.status.success(), "{tz}: {}", stderr(&out));
        let db = env.db_path().display().to_string();
        let sql = env.weblog_env(
            &[
                "sql",
                "--db",
                &db,
                "--format",
                "csv",
                "SELECT min(time_local)::VARCHAR, epoch_us(make_timestamp(0::BIGINT)::TIMESTAMPTZ), \
                 (SELECT max(finished_at - started_at) < INTERVAL 10 MINUTE FROM runs) FROM logs",
            ],
            &[("TZ", tz)],
        );
        assert!(sql.status.success(), "{tz}: {}", stderr(&sql));
        // The earliest line, read here: apache_logs logs +0000, so as written is UTC.
        let earliest = lines
            .iter()
            .map(|l| {
                let open = l.find('[').unwrap();
                format!("{} {}+00", day_and_ip(l).0, &l[open + 13..open + 21])
            })
            .min()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&sql.stdout).lines().nth(1),
            Some(format!("{earliest},0,true").as_str()),
            "{tz}"
        );
        let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(env.path("out"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "csv"))
            .map(|p| {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read(&p).unwrap())
            })
            .collect();
        files.sort();
        assert!(files.len() > 20);
        outputs.push(files);
    }
    assert!(
        outputs[0] == outputs[1],
        "the outputs differ between time zones"
    );
}

/// tools/cargo run with a stand-in `cargo` (and maybe `npm`) first on PATH, in an empty build
/// cache: what it passed to cargo and what it said.
fn tools_cargo(
    env: &Env,
    fake_npm: Option<&str>,
    extra: &[(&str, &str)],
    args: &[&str],
) -> (String, String) {
    let bin = env.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let write = |name: &str, body: &str| {
        let p = bin.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    let called = env.path("cargo-called");
    write(
        "cargo",
        &format!(
            "echo \"$* | DUCKDB_LIB_DIR=$DUCKDB_LIB_DIR\" > {}",
            called.display()
        ),
    );
    if let Some(npm) = fake_npm {
        write("npm", npm);
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/cargo");
    let mut cmd = Command::new("bash");
    cmd.arg(&script)
        .args(args)
        .env("PATH", path)
        .env("CARGO_TARGET_DIR", env.path("target"))
        .env_remove("WEBLOG_DUCKDB")
        .env_remove("DUCKDB_LIB_DIR");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    (std::fs::read_to_string(&called).unwrap(), stderr(&out))
}

#[test]
fn tools_cargo_links_the_verified_library_or_says_why_it_builds_duckdb() {
    // No usable package (a registry answering with other bytes, or an error): one line each,
    // and cargo gets the default features (the bundled DuckDB), no library directory.
    let env = Env::new();
    let (called, said) = tools_cargo(
        &env,
        Some("echo tampered > duckdb-node-bindings-linux-x64-1.5.6-r.1.tgz"),
        &[],
        &["build", "--release"],
    );
    assert_eq!(called.trim(), "build --release | DUCKDB_LIB_DIR=");
    // What it tried, then one line saying why it builds DuckDB instead.
    let lines: Vec<&str> = said.trim().lines().collect();
    assert_eq!(lines.len(), 2, "{said}");
    assert!(lines[0].contains("fetching DuckDB 1.5.6"), "{said}");
    assert!(
        lines[1].contains("failed its integrity check")
            && lines[1].contains("bundled DuckDB 1.5.6"),
        "{said}"
    );
    let (called, said) = tools_cargo(
        &env,
        Some("echo 'npm error 404' >&2; exit 1"),
        &[],
        &["test", "--release"],
    );
    assert_eq!(called.trim(), "test --release | DUCKDB_LIB_DIR=");
    assert!(
        said.contains("npm could not fetch") && said.contains("404"),
        "{said}"
    );
    let (called, said) = tools_cargo(&env, None, &[("WEBLOG_DUCKDB", "bundled")], &["build"]);
    assert_eq!(called.trim(), "build | DUCKDB_LIB_DIR=");
    assert!(said.contains("WEBLOG_DUCKDB=bundled"), "{said}");
    // A verified library in the cache: linked, not fetched again (the stand-in npm would fail).
    let lib = env.path("target/libduckdb/1.5.6-r.1");
    std::fs::create_dir_all(&lib).unwrap();
    std::fs::write(lib.join("libduckdb.so"), "").unwrap();
    std::fs::write(lib.join(".verified"), "").unwrap();
    let (called, said) = tools_cargo(
        &env,
        Some("exit 1"),
        &[],
        &["run", "--release", "--", "run"],
    );
    assert_eq!(
        called.trim(),
        format!(
            "run --no-default-features --release -- run | DUCKDB_LIB_DIR={}",
            lib.display()
        )
    );
    assert_eq!(said, "");
    // Commands that build nothing pass through as they are.
    let (called, _) = tools_cargo(&env, Some("exit 1"), &[], &["fmt", "--all"]);
    assert_eq!(called.trim(), "fmt --all | DUCKDB_LIB_DIR=");
}
