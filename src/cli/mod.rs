//! The command line (clap derive) and the optional config file that mirrors it. Kept in the
//! library so that shell completions and the man page are generated from the same definition.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, Parser, Subcommand, ValueEnum};
use serde::Deserialize;

use crate::error::{Error, ErrorKind, Result};
use crate::pipeline;

/// Incremental web access-log analytics: nginx/Apache logs → DuckDB → Parquet/CSV.
#[derive(Parser)]
#[command(name = "weblog", version, about, long_about = None)]
pub struct Cli {
    /// Config file (TOML) whose keys mirror the long flags, e.g. `db = "/srv/weblog.duckdb"`;
    /// flags given on the command line win. Default: ./weblog.toml when it exists.
    #[arg(short = 'c', long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Ingest what was added to the logs since the last run, then refresh the outputs.
    Run(RunArgs),
    /// Run an incremental pass every interval and show a live view, until Ctrl-C / SIGTERM.
    Watch(WatchArgs),
    /// Write demo logs, rotating between log_a.txt and log_b.txt like the article's generator.
    Generate(GenerateArgs),
    /// Write the HTML dashboard (report.html) from the outputs of the last run.
    Report(ReportArgs),
    /// Run a query against the warehouse (read-only), with views over the output files.
    Sql(SqlArgs),
    /// Show each log file's position and lag, row counts, the last run and its rejects.
    Status(StatusArgs),
    /// Print a shell completion script (e.g. `weblog completions bash > /etc/bash_completion.d/weblog`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `weblog man > /usr/local/share/man/man1/weblog.1`.
    Man,
}

#[derive(Args, Clone)]
pub struct RunArgs {
    /// Log files to read (glob patterns; repeat for several).
    #[arg(
        long = "logs",
        value_name = "GLOB",
        default_value = "data/logs/log_[ab].txt"
    )]
    pub logs: Vec<String>,
    /// The DuckDB database (created if missing).
    #[arg(long, value_name = "PATH", default_value = "data/weblog.duckdb")]
    pub db: PathBuf,
    /// Folder of output queries (`<name>.sql`); the built-in ones are used if it does not exist.
    #[arg(long, value_name = "DIR", default_value = "sql")]
    pub sql: PathBuf,
    /// Folder for the outputs (`<name>.parquet` and `<name>.csv`).
    #[arg(long, value_name = "DIR", default_value = "data/out")]
    pub out: PathBuf,
    /// Print the summary as one JSON object (for cron logs) instead of text and tables.
    #[arg(long)]
    pub json: bool,
    /// Print nothing unless something goes wrong (errors and warnings still go to stderr).
    #[arg(short, long)]
    pub quiet: bool,
    /// Write Prometheus textfile-collector metrics to this file after each run (atomically).
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,
    /// Also write the HTML dashboard (`<out>/report.html`).
    #[arg(long)]
    pub report: bool,
    /// Seconds to wait for another run holding the database before giving up (exit 75).
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0)]
    pub wait: f64,
    /// Outputs cover days from this date on (YYYY-MM-DD, the log's local date).
    #[arg(long, value_name = "DATE")]
    pub from: Option<chrono::NaiveDate>,
    /// Outputs cover days up to this date, inclusive.
    #[arg(long, value_name = "DATE")]
    pub to: Option<chrono::NaiveDate>,
    /// Outputs count human traffic only (bots excluded).
    #[arg(long)]
    pub humans_only: bool,
    /// Your site's host name: left out of the referrers output (with its subdomains).
    #[arg(long, value_name = "HOST")]
    pub site_host: Option<String>,
    /// Country database (.mmdb) for `country_code`; default data/geoip/country.mmdb if present.
    #[arg(long, value_name = "PATH")]
    pub geoip: Option<PathBuf>,
    /// DuckDB's memory limit (e.g. 512MB, 2GB); beyond it, large queries spill to disk.
    #[arg(long, value_name = "SIZE", default_value = pipeline::DEFAULT_MEMORY_LIMIT)]
    pub memory_limit: String,
    /// Input bytes parsed and committed per transaction (bounds memory).
    #[arg(long, value_name = "BYTES", default_value_t = pipeline::DEFAULT_BATCH_BYTES, hide = true)]
    pub batch_bytes: usize,
}

#[derive(Args)]
pub struct WatchArgs {
    /// Time between passes: `5s`, `500ms`, `2m`, or plain seconds.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub interval: Duration,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Args)]
pub struct GenerateArgs {
    /// Folder for log_a.txt and log_b.txt.
    #[arg(long, value_name = "DIR", default_value = "data/logs")]
    pub dir: PathBuf,
    /// Lines to write (ignored with --follow).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub lines: u64,
    /// Switch files after this many lines, truncating the file switched to.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub rotate_every: u64,
    /// Random seed: the same seed and --start give the same logs.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// First timestamp (RFC 3339). Default: continue after existing logs, else end near now.
    #[arg(long, value_name = "RFC3339", value_parser = crate::generate::parse_start)]
    pub start: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Mean requests per second of log time.
    #[arg(long, value_name = "REQ_PER_S", default_value_t = 2.0)]
    pub rate: f64,
    /// Keep writing in real time until stopped (the article's continuous demo).
    #[arg(long)]
    pub follow: bool,
}

#[derive(Args)]
pub struct ReportArgs {
    /// Folder holding the outputs; report.html is written there.
    #[arg(long, value_name = "DIR", default_value = "data/out")]
    pub out: PathBuf,
    /// Open the report in the default browser once written.
    #[arg(long)]
    pub open: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
}

#[derive(Args)]
pub struct SqlArgs {
    /// The query, e.g. "SELECT * FROM daily_visitors" (outputs are views; the warehouse's
    /// tables `logs`, `rejects`, `runs`, `checkpoints`, `rollup_*` are there too).
    pub query: String,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Rows shown in a table (all rows in csv and json).
    #[arg(long, value_name = "N", default_value_t = 40)]
    pub max_rows: usize,
    #[arg(long, value_name = "PATH", default_value = "data/weblog.duckdb")]
    pub db: PathBuf,
    /// Folder of the outputs to expose as views.
    #[arg(long, value_name = "DIR", default_value = "data/out")]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct StatusArgs {
    /// Log files to report on, as for `run`.
    #[arg(
        long = "logs",
        value_name = "GLOB",
        default_value = "data/logs/log_[ab].txt"
    )]
    pub logs: Vec<String>,
    #[arg(long, value_name = "PATH", default_value = "data/weblog.duckdb")]
    pub db: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `5s`, `500ms`, `2m`, `1h`, or a plain number of seconds.
pub fn parse_duration(s: &str) -> std::result::Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let n: f64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a duration like 5s, 500ms or 2m"))?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        other => return Err(format!("unknown unit {other:?} (use ms, s, m or h)")),
    };
    if !(secs > 0.0 && secs.is_finite()) {
        return Err("the interval must be more than zero".into());
    }
    Ok(Duration::from_secs_f64(secs))
}

/// The config file: every key optional, named as the long flag with `_` for `-`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    logs: Option<Vec<String>>,
    db: Option<PathBuf>,
    sql: Option<PathBuf>,
    out: Option<PathBuf>,
    json: Option<bool>,
    quiet: Option<bool>,
    metrics_file: Option<PathBuf>,
    report: Option<bool>,
    wait: Option<f64>,
    /// Dates as text (YYYY-MM-DD), checked when applied.
    from: Option<String>,
    to: Option<String>,
    humans_only: Option<bool>,
    site_host: Option<String>,
    geoip: Option<PathBuf>,
    memory_limit: Option<String>,
    interval: Option<String>,
}

/// The config named by `-c`, else ./weblog.toml if present, else none.
pub fn load_config(explicit: Option<&Path>) -> Result<FileConfig> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let default = PathBuf::from("weblog.toml");
            if !default.is_file() {
                return Ok(FileConfig::default());
            }
            default
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::new(
            ErrorKind::NoInput,
            format!("cannot read config {}: {e}", path.display()),
        )
    })?;
    toml::from_str(&text).map_err(|e| {
        Error::new(
            ErrorKind::Failed,
            format!(
                "config {}: {}",
                path.display(),
                crate::error::one_line(&e.to_string())
            ),
        )
    })
}

/// True when the flag was not given on the command line (so the config may set it).
fn unset(m: &ArgMatches, id: &str) -> bool {
    !matches!(m.value_source(id), Some(ValueSource::CommandLine))
}

macro_rules! fill {
    ($m:expr, $args:expr, $cfg:expr, $($field:ident),+ $(,)?) => {
        $(if unset($m, stringify!($field)) {
            if let Some(v) = &$cfg.$field {
                $args.$field = v.clone().into();
            }
        })+
    };
}

impl FileConfig {
    /// Fill in `run`'s flags that the command line left at their defaults.
    pub fn apply_run(&self, m: &ArgMatches, args: &mut RunArgs) -> Result<()> {
        fill!(
            m,
            args,
            self,
            logs,
            db,
            sql,
            out,
            json,
            quiet,
            report,
            wait,
            humans_only,
            memory_limit
        );
        macro_rules! fill_opt {
            ($($field:ident),+) => {
                $(if unset(m, stringify!($field)) && self.$field.is_some() {
                    args.$field = self.$field.clone();
                })+
            };
        }
        fill_opt!(metrics_file, site_host, geoip);
        let date = |key: &str, v: &str| {
            v.parse::<chrono::NaiveDate>().map_err(|_| {
                Error::new(
                    ErrorKind::Failed,
                    format!("config {key}: {v:?} is not a date (YYYY-MM-DD)"),
                )
            })
        };
        if unset(m, "from")
            && let Some(v) = &self.from
        {
            args.from = Some(date("from", v)?);
        }
        if unset(m, "to")
            && let Some(v) = &self.to
        {
            args.to = Some(date("to", v)?);
        }
        Ok(())
    }

    pub fn apply_watch(&self, m: &ArgMatches, args: &mut WatchArgs) -> Result<()> {
        self.apply_run(m, &mut args.run)?;
        if unset(m, "interval")
            && let Some(i) = &self.interval
        {
            args.interval = parse_duration(i)
                .map_err(|e| Error::new(ErrorKind::Failed, format!("config interval: {e}")))?;
        }
        Ok(())
    }

    pub fn apply_sql(&self, m: &ArgMatches, args: &mut SqlArgs) {
        fill!(m, args, self, db, out);
    }

    pub fn apply_status(&self, m: &ArgMatches, args: &mut StatusArgs) {
        fill!(m, args, self, logs, db, json);
    }

    pub fn apply_report(&self, m: &ArgMatches, args: &mut ReportArgs) {
        fill!(m, args, self, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_written() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("5"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("").is_err());
    }
}
