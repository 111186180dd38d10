//! `--metrics-file`: the last run as Prometheus textfile-collector metrics (node_exporter's
//! `--collector.textfile.directory`), written through a temp file and a rename so the
//! collector never reads half a file.

use std::fmt::Write as _;
use std::path::Path;

use crate::error::{Error, Result};
use crate::summary::RunSummary;

/// What a run left behind: its summary when it got that far, and its error if any.
pub struct RunOutcome<'a> {
    pub summary: Option<&'a RunSummary>,
    pub error: Option<&'a Error>,
    pub duration_secs: f64,
}

/// Write the metrics of a run's result; a failure to write them is a warning, not the run's.
pub fn write_for(path: &Path, result: &Result<RunSummary>, took: std::time::Duration) {
    let failure = result.as_ref().ok().and_then(RunSummary::failure);
    let outcome = RunOutcome {
        summary: result.as_ref().ok(),
        error: result.as_ref().err().or(failure.as_ref()),
        duration_secs: took.as_secs_f64(),
    };
    if let Err(e) = write(path, &outcome) {
        eprintln!("weblog: warning: {}", crate::report::escape(&e.message));
    }
}

pub fn write(path: &Path, outcome: &RunOutcome) -> Result<()> {
    let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
    let succeeded = outcome.error.is_none();
    // A failed run keeps the previous success's time: that gap is what alerts are built on.
    let last_success = if succeeded {
        Some(now)
    } else {
        previous_value(path, "weblog_last_success_timestamp_seconds")
    };
    let mut m = Metrics::default();
    m.gauge(
        "weblog_last_run_success",
        "1 if the last run succeeded, 0 if it failed.",
        &[],
        if succeeded { 1.0 } else { 0.0 },
    );
    m.gauge(
        "weblog_last_run_exit_code",
        "Exit code of the last run.",
        &[],
        outcome.error.map_or(0, Error::exit_code) as f64,
    );
    m.gauge(
        "weblog_last_run_timestamp_seconds",
        "When the last run ended (Unix time).",
        &[],
        now,
    );
    if let Some(t) = last_success {
        m.gauge(
            "weblog_last_success_timestamp_seconds",
            "When the last successful run ended (Unix time).",
            &[],
            t,
        );
    }
    m.gauge(
        "weblog_last_run_duration_seconds",
        "Wall time of the last run.",
        &[],
        outcome.duration_secs,
    );
    if let Some(s) = outcome.summary {
        let counts = [
            (
                "lines_read",
                "Complete lines read by the last run.",
                s.lines_read,
            ),
            ("bytes_read", "Bytes read by the last run.", s.bytes_read),
            ("lines_ingested", "Rows the last run stored.", s.inserted),
            (
                "duplicates",
                "Lines the last run skipped as already stored.",
                s.duplicates,
            ),
            (
                "rejects",
                "Lines the last run could not parse (see the rejects table).",
                s.rejected,
            ),
        ];
        for (name, help, v) in counts {
            m.gauge(&format!("weblog_last_run_{name}"), help, &[], v as f64);
        }
        for f in &s.files {
            m.gauge(
                "weblog_lag_bytes",
                "Bytes in the log file not yet ingested after the last run.",
                &[("file", &f.path)],
                f.lag_bytes as f64,
            );
        }
    }
    crate::export::write_bytes_atomically(path, m.text.as_bytes())
}

#[derive(Default)]
struct Metrics {
    text: String,
    described: Vec<String>,
}

impl Metrics {
    fn gauge(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
        if !self.described.iter().any(|d| d == name) {
            let _ = writeln!(self.text, "# HELP {name} {help}");
            let _ = writeln!(self.text, "# TYPE {name} gauge");
            self.described.push(name.to_string());
        }
        self.text.push_str(name);
        if !labels.is_empty() {
            let pairs: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", label_value(v)))
                .collect();
            let _ = write!(self.text, "{{{}}}", pairs.join(","));
        }
        let _ = writeln!(self.text, " {value}");
    }
}

/// The exposition format's escapes for a label value: backslash, quote, newline.
fn label_value(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn previous_value(path: &Path, name: &str) -> Option<f64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label_value(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(label_value("a\nb"), "a\\nb");
    }
}
