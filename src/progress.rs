//! The progress bar of long runs: on stderr, only when it is a terminal, and only once a run
//! has gone on for a while (a quick incremental run never flashes one).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::parse::Progress;

/// Runs shorter than this show no bar (WEBLOG_PROGRESS_DELAY_MS overrides it).
const SHOW_AFTER: Duration = Duration::from_millis(1500);

fn show_after() -> Duration {
    std::env::var("WEBLOG_PROGRESS_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(SHOW_AFTER, Duration::from_millis)
}

pub struct Bar {
    bar: ProgressBar,
    started: Mutex<Option<Instant>>,
    delay: Duration,
    shown: std::sync::atomic::AtomicBool,
}

impl Bar {
    /// A bar drawn on stderr; None when stderr is not a terminal (cron, pipes, files).
    pub fn for_stderr() -> Option<Bar> {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .expect("valid template"),
        );
        Some(Bar {
            bar,
            started: Mutex::new(None),
            delay: show_after(),
            shown: false.into(),
        })
    }
}

impl Progress for Bar {
    fn start(&self, backlog_bytes: u64) {
        self.bar.set_length(backlog_bytes);
        *self.started.lock().unwrap() = Some(Instant::now());
    }

    fn advance(&self, bytes: u64) {
        use std::sync::atomic::Ordering;
        self.bar.inc(bytes);
        let due = self
            .started
            .lock()
            .unwrap()
            .is_some_and(|t| t.elapsed() >= self.delay);
        if due && !self.shown.swap(true, Ordering::Relaxed) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(200));
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn note(&self, step: &str) {
        // A terminal is watching (the bar exists only then): one line per step.
        eprintln!("weblog: {step}");
    }
}
