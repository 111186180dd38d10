//! Crash and delay points for the fault-injection tests. `WEBLOG_FAILPOINT=<name>` aborts the
//! process there, as a SIGKILL would; `WEBLOG_FAILPOINT=<name>:pause=<ms>` sleeps there, so a
//! test can hold a run at an exact stage (e.g. to start a second, overlapping run).
//! `WEBLOG_FAILPOINT=clock:<seconds>` moves the clock batches are stamped with by that many
//! seconds (negative: back), as NTP may step it between two runs.
//! `WEBLOG_FAILPOINT=poison:<text>` makes the loader hand DuckDB a value it refuses (a NULL
//! time) for every row whose line contains `<text>`, as a parser bug would: the test of the
//! guarantee that rows the database refuses are set aside and the rest committed.

use polars::prelude::{DataFrame, Int64Chunked, IntoColumn, TimeUnit};

fn spec() -> Option<String> {
    std::env::var_os("WEBLOG_FAILPOINT").map(|s| s.to_string_lossy().into_owned())
}

pub fn hit(name: &str) {
    let Some(spec) = spec() else {
        return;
    };
    let (point, action) = spec.split_once(':').unwrap_or((&spec, "abort"));
    if point != name {
        return;
    }
    match action.strip_prefix("pause=").and_then(|ms| ms.parse().ok()) {
        Some(ms) => {
            // Said on stderr so that a test acts while the run is held here, not before.
            eprintln!("weblog: failpoint {name}: pausing {ms} ms");
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
        None => {
            eprintln!("weblog: failpoint {name}: aborting");
            std::process::abort();
        }
    }
}

/// Now (µs since the epoch), as batches are stamped; moved by `clock:<seconds>`.
pub fn now_us() -> i64 {
    let now = chrono::Utc::now().timestamp_micros();
    let shift = spec()
        .and_then(|s| s.strip_prefix("clock:").and_then(|v| v.parse::<i64>().ok()))
        .unwrap_or(0);
    now.saturating_add(shift.saturating_mul(1_000_000))
}

/// Now as batches are stamped (see [`now_us`]).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(now_us()).unwrap_or_else(chrono::Utc::now)
}

/// With `poison:<text>`: NULL `time_local` in the rows of `logs` whose raw line has `<text>`.
pub fn poison(logs: &mut DataFrame) {
    let Some(spec) = spec() else {
        return;
    };
    let Some(text) = spec.strip_prefix("poison:") else {
        return;
    };
    let (Ok(raw), Ok(time)) = (logs.column("raw_log"), logs.column("time_local")) else {
        return;
    };
    let Ok(raw) = raw.str() else {
        return;
    };
    let Ok(time) = time.datetime() else {
        return;
    };
    let poisoned: Int64Chunked = time
        .physical()
        .iter()
        .zip(raw.iter())
        .map(|(t, line)| {
            if line.is_some_and(|l| l.contains(text)) {
                None
            } else {
                t
            }
        })
        .collect();
    let mut poisoned = poisoned.into_datetime(TimeUnit::Microseconds, None);
    poisoned.rename("time_local".into());
    let _ = logs.with_column(poisoned.into_column());
}
