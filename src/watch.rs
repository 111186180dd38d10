//! `weblog watch`: an incremental pass every interval and a live view of the results — the
//! article's "print the visitor counts every 5 seconds", with the real pipeline behind it.
//! SIGINT/SIGTERM set a flag: the pass under way stops reading, commits what it read, and
//! the loop ends with exit 0. A second signal exits at once (the database stays consistent:
//! an uncommitted batch is simply read again next time).

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};
use crate::export;
use crate::pipeline::{self, RunOptions};
use crate::report::escape;
use crate::summary::RunSummary;

/// Redraw a screen (a terminal) or print one line per pass (a pipe or a file).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum View {
    Live,
    Lines,
}

/// Set on SIGINT or SIGTERM; a second one while set exits the process.
pub fn stop_on_signals() -> Result<Arc<AtomicBool>> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [SIGINT, SIGTERM] {
        let registered = signal_hook::flag::register_conditional_shutdown(sig, 130, stop.clone())
            .and_then(|_| signal_hook::flag::register(sig, stop.clone()));
        registered.map_err(|e| {
            Error::new(
                ErrorKind::Failed,
                format!("cannot handle signal {sig}: {e}"),
            )
        })?;
    }
    Ok(stop)
}

pub fn watch(
    mut opts: RunOptions,
    interval: Duration,
    view: View,
    metrics_file: Option<&Path>,
    stop: Arc<AtomicBool>,
) {
    opts.stop = Some(stop.clone());
    let mut last_error: Option<String> = None;
    let mut last_pass = Instant::now();
    let mut passes = 0u64;
    loop {
        let since_last = last_pass.elapsed();
        last_pass = Instant::now();
        let result = pipeline::run(&opts);
        if let Some(path) = metrics_file {
            crate::metrics::write_for(path, &result, last_pass.elapsed());
        }
        passes += 1;
        let summary = match result {
            Ok(s) => {
                if let Some(e) = s.failure() {
                    last_error = Some(e.message);
                }
                Some(s)
            }
            Err(e) => {
                last_error = Some(e.message);
                None
            }
        };
        let glance = summary
            .as_ref()
            .map(|s| Glance::read(&s.out_dir))
            .unwrap_or_default();
        let rate = summary
            .as_ref()
            .map(|s| s.inserted as f64 / since_last.as_secs_f64().max(1e-3));
        let shown = match view {
            View::Live => live(&opts, summary.as_ref(), rate, &glance, &last_error, passes),
            View::Lines => line(summary.as_ref(), rate, &glance, &last_error),
        };
        emit(&shown);
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let until = last_pass + interval;
        while Instant::now() < until && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50).min(until - Instant::now()));
        }
        if stop.load(Ordering::Relaxed) {
            break;
        }
    }
    if view == View::Live {
        emit("stopped.\n");
    }
}

fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// What the view shows, read back from the outputs (never from the warehouse, which the
/// next pass needs).
#[derive(Default)]
struct Glance {
    /// Latest day in the logs: (day, visitors, requests).
    today: Option<(String, i64, i64)>,
    browsers: Vec<(String, i64)>,
}

impl Glance {
    fn read(out: &Path) -> Glance {
        let mut g = Glance::default();
        let Ok(conn) = duckdb::Connection::open_in_memory()
            .and_then(|c| crate::sql_text::pin_utc(&c).map(|()| c))
        else {
            return g;
        };
        let read = |name: &str, limit| {
            let path = out.join(format!("{name}.parquet"));
            path.is_file()
                .then(|| export::preview(&conn, &path, limit).ok())
                .flatten()
        };
        let column =
            |p: &export::Preview, name: &str| p.columns.iter().position(|(c, _)| c == name);
        let number = |v: &Option<String>| {
            v.as_deref()
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0)
        };
        // daily_visitors is in day order: its last row is the latest day.
        if let Some(p) = read("daily_visitors", 1_000_000)
            && let (Some(d), Some(v), Some(r)) = (
                column(&p, "day"),
                column(&p, "unique_visitors"),
                column(&p, "requests"),
            )
            && let Some(last) = p.rows.last()
        {
            g.today = Some((
                last[d].clone().unwrap_or_default(),
                number(&last[v]),
                number(&last[r]),
            ));
        }
        // browser_counts is ordered by requests, most first.
        if let Some(p) = read("browser_counts", 5)
            && let (Some(b), Some(r)) = (column(&p, "browser"), column(&p, "requests"))
        {
            g.browsers = p
                .rows
                .iter()
                .map(|row| (row[b].clone().unwrap_or_default(), number(&row[r])))
                .collect();
        }
        g
    }
}

fn line(
    s: Option<&RunSummary>,
    rate: Option<f64>,
    g: &Glance,
    last_error: &Option<String>,
) -> String {
    let mut out = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    if let Some(s) = s {
        let _ = write!(
            out,
            " {} lines, {} inserted, {} duplicates, {} rejected, {:.1} req/s",
            s.lines_read,
            s.inserted,
            s.duplicates,
            s.rejected,
            rate.unwrap_or(0.0)
        );
    }
    if let Some((day, visitors, requests)) = &g.today {
        let _ = write!(out, "; {day}: {visitors} visitors, {requests} requests");
    }
    if !g.browsers.is_empty() {
        let top: Vec<String> = g
            .browsers
            .iter()
            .take(3)
            .map(|(b, n)| format!("{} {n}", escape(b)))
            .collect();
        let _ = write!(out, "; top: {}", top.join(", "));
    }
    if let Some(e) = last_error {
        let _ = write!(out, "; last error: {}", escape(e));
    }
    out.push('\n');
    out
}

fn live(
    opts: &RunOptions,
    s: Option<&RunSummary>,
    rate: Option<f64>,
    g: &Glance,
    last_error: &Option<String>,
    passes: u64,
) -> String {
    // Clear the screen and home the cursor, then draw.
    let mut out = String::from("\x1b[2J\x1b[H");
    let _ = writeln!(
        out,
        "weblog watch — {} — pass {passes} at {} (Ctrl-C to stop)\n",
        escape(&opts.db.display().to_string()),
        chrono::Local::now().format("%H:%M:%S")
    );
    match &g.today {
        Some((day, visitors, requests)) => {
            let _ = writeln!(
                out,
                "  {day}   visitors {visitors:>8}   requests {requests:>8}"
            );
        }
        None => {
            let _ = writeln!(out, "  no visitors yet");
        }
    }
    if let Some(s) = s {
        let _ = writeln!(
            out,
            "  last pass: {} lines, {} new, {} duplicates, {} rejected — {:.1} requests/s\n",
            s.lines_read,
            s.inserted,
            s.duplicates,
            s.rejected,
            rate.unwrap_or(0.0)
        );
    }
    if !g.browsers.is_empty() {
        let _ = writeln!(out, "  top browsers");
        let max = g.browsers.iter().map(|b| b.1).max().unwrap_or(1).max(1);
        for (browser, n) in &g.browsers {
            let bar = "█".repeat(((n * 30) / max) as usize);
            let name: String = escape(browser).chars().take(20).collect();
            let _ = writeln!(out, "  {name:<20} {n:>8} {bar}");
        }
    }
    let _ = writeln!(
        out,
        "\n  last error: {}",
        last_error.as_deref().map_or("none".into(), escape)
    );
    out
}
