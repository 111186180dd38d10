//! Fault injection with real processes: the binary is SIGKILLed at random moments (and
//! aborted at exact stages through failpoints) while a writer appends and rotates logs.
//! At the end every complete line written is in `logs` exactly once and every output is
//! complete and readable.

mod common;

use std::collections::BTreeSet;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use weblog::generate::Rng;

/// How `std::process::abort` (a failpoint) ends a process.
const SIGABRT: i32 = 6;

fn line(n: u64) -> String {
    format!(
        "10.{}.{}.{} - - [0{}/Nov/2026:{:02}:{:02}:{:02} +0000] \"GET /page/{n} HTTP/1.1\" 200 {} \"-\" \"Mozilla/5.0 (X11; Linux x86_64; rv:145.0) Gecko/20100101 Firefox/145.0\"",
        n % 250,
        n % 13,
        n % 200 + 1,
        1 + n / 40_000 % 9,
        n / 3600 % 24,
        n / 60 % 60,
        n % 60,
        n * 7 % 5000
    )
}

#[test]
fn sigkill_at_random_moments_loses_and_duplicates_nothing() {
    let env = Env::new();
    let logs = env.logs();
    let live = logs.join("access.log");
    let mut rng = Rng(2026);
    let mut written: BTreeSet<String> = BTreeSet::new();
    let mut next = 0u64;
    let mut rotations = 0;
    let mut kills = 0;
    let mut completed = 0;
    let failpoints = [
        "before-commit",
        "during-commit",
        "after-commit",
        "during-rollup",
        "between-rollup-lanes",
        "during-export",
    ];
    let mut args = env.run_args();
    // Small batches: a run makes many commits, so kills land between and inside them.
    args.extend(["--batch-bytes".into(), "65536".into()]);
    let started = Instant::now();
    // Until 40 runs have died (a run that finishes before its kill does not count), with a
    // cap so a broken build cannot loop for ever.
    let mut round = 0;
    while kills < 40 && round < 200 {
        // The writer: a burst of lines, sometimes a partial line completed next round.
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&live)
            .unwrap();
        for _ in 0..(500 + rng.below(2500)) {
            let l = line(next);
            next += 1;
            writeln!(f, "{l}").unwrap();
            written.insert(l);
        }
        drop(f);
        // Rotation by rename every few rounds (logrotate's default), new file created.
        if round % 4 == 3 {
            rotations += 1;
            std::fs::rename(&live, logs.join(format!("access.log.{rotations}"))).unwrap();
        }
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_weblog"));
        cmd.args(&args)
            .current_dir(env.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if round % 5 == 4 {
            // Every fifth round dies exactly at a stage random kills may miss.
            cmd.env(
                "WEBLOG_FAILPOINT",
                failpoints[(round / 5) % failpoints.len()],
            );
        }
        let aborts = round % 5 == 4;
        let mut child = cmd.spawn().unwrap();
        std::thread::sleep(Duration::from_millis(rng.below(600)));
        let mut aborted = false;
        match child.try_wait().unwrap() {
            Some(status) if status.success() => completed += 1,
            // Only a failpoint may end a run early, and only by aborting: any other exit
            // would be a run that failed by itself.
            Some(status) => {
                assert!(
                    aborts && status.signal() == Some(SIGABRT),
                    "round {round}: the run ended with {status:?} on its own"
                );
                aborted = true;
                kills += 1;
            }
            None => {
                child.kill().unwrap(); // SIGKILL
                let status = child.wait().unwrap();
                // It may have finished (or aborted) between the check and the kill.
                assert!(
                    status.success()
                        || status.signal() == Some(9)
                        || (aborts && status.signal() == Some(SIGABRT)),
                    "round {round}: {status:?}"
                );
                if status.success() {
                    completed += 1;
                } else {
                    aborted = status.signal() == Some(SIGABRT);
                    kills += 1;
                }
            }
        }
        if aborted {
            // Died at an exact stage: the next run, left to finish, must read no stored line
            // again. A checkpoint committed apart from its rows shows here as duplicates (the
            // dedupe would hide it from the stored rows).
            let next = env.run(&[]);
            assert_eq!(
                num(&next, "duplicates"),
                0,
                "round {round}: lines read twice after {}",
                failpoints[(round / 5) % failpoints.len()]
            );
        }
        round += 1;
    }
    // The last run is left alone, and catches everything up.
    let last = env.run(&[]);
    assert!(
        kills >= 40,
        "only {kills} kills ({completed} runs completed)"
    );
    eprintln!(
        "{kills} kills, {completed} completed runs, {rotations} rotations, {} lines, {:?}",
        written.len(),
        started.elapsed()
    );
    assert_eq!(num(&last, "rejected"), 0);
    assert_eq!(
        env.count("SELECT count(*) FROM logs"),
        env.count("SELECT count(DISTINCT raw_log) FROM logs"),
        "no line stored twice"
    );
    // No line *read* twice by any run that got to record itself (the writer never repeats one).
    assert_eq!(
        num(&last, "duplicates"),
        0,
        "the last run re-read stored lines"
    );
    assert_eq!(
        env.count("SELECT coalesce(sum(duplicates), 0) FROM runs"),
        0,
        "a run after a kill re-read lines whose rows were committed without their checkpoint"
    );
    env.assert_stored_exactly(&written);
    // Every output is whole and readable, and its Parquet and CSV hold the same rows.
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let mut rows: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
    for entry in std::fs::read_dir(env.path("out")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "a temporary file was left: {name}");
        let (stem, reader) = match name.strip_suffix(".parquet") {
            Some(stem) => (stem.to_string(), "read_parquet"),
            None => (name.strip_suffix(".csv").unwrap().to_string(), "read_csv"),
        };
        let n: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM {reader}('{}')", path.display()),
                [],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| panic!("{name} unreadable: {e}"));
        rows.entry(stem).or_default().push(n);
    }
    let names: Vec<&String> = rows.keys().collect();
    let expected = repo_outputs();
    assert_eq!(
        names,
        expected.iter().collect::<Vec<_>>(),
        "every output of sql/ is there"
    );
    for (output, counts) in &rows {
        assert!(
            counts.len() == 2 && counts[0] == counts[1],
            "{output}: {counts:?}"
        );
    }
    let requests: i64 = conn
        .query_row(
            &format!(
                "SELECT sum(requests) FROM read_parquet('{}')",
                env.path("out/daily_visitors.parquet").display()
            ),
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        requests as usize,
        written.len(),
        "rollups caught up with every crash"
    );
}
