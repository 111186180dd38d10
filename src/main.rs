use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use weblog::error::Result;
use weblog::generate::{self, GenerateOptions};
use weblog::load::Warehouse;
use weblog::pipeline::{self, RunOptions};
use weblog::report;
use weblog::transform::OutputFilter;

/// Incremental web access-log analytics: nginx/Apache logs → DuckDB → Parquet/CSV.
#[derive(Parser)]
#[command(name = "weblog", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ingest what was added to the logs since the last run, then refresh the outputs.
    Run(RunArgs),
    /// Write demo logs, rotating between log_a.txt and log_b.txt like the article's generator.
    Generate(GenerateArgs),
}

#[derive(Args)]
struct RunArgs {
    /// Log files to read (glob patterns; repeat for several).
    #[arg(
        long = "logs",
        value_name = "GLOB",
        default_value = "data/logs/log_[ab].txt"
    )]
    logs: Vec<String>,
    /// The DuckDB database (created if missing).
    #[arg(long, value_name = "PATH", default_value = "data/weblog.duckdb")]
    db: PathBuf,
    /// Folder of output queries (`<name>.sql`); the built-in ones are used if it does not exist.
    #[arg(long, value_name = "DIR", default_value = "sql")]
    sql: PathBuf,
    /// Folder for the outputs (`<name>.parquet` and `<name>.csv`).
    #[arg(long, value_name = "DIR", default_value = "data/out")]
    out: PathBuf,
    /// Print the summary as one JSON object (for cron logs) instead of text and tables.
    #[arg(long)]
    json: bool,
    /// Seconds to wait for another run holding the database before giving up (exit 75).
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0)]
    wait: f64,
    /// Outputs cover days from this date on (YYYY-MM-DD, the log's local date).
    #[arg(long, value_name = "DATE")]
    from: Option<chrono::NaiveDate>,
    /// Outputs cover days up to this date, inclusive.
    #[arg(long, value_name = "DATE")]
    to: Option<chrono::NaiveDate>,
    /// Outputs count human traffic only (bots excluded).
    #[arg(long)]
    humans_only: bool,
    /// Your site's host name: left out of the referrers output (with its subdomains).
    #[arg(long, value_name = "HOST")]
    site_host: Option<String>,
    /// Country database (.mmdb) for `country_code`; default data/geoip/country.mmdb if present.
    #[arg(long, value_name = "PATH")]
    geoip: Option<PathBuf>,
    /// DuckDB's memory limit (e.g. 512MB, 2GB); beyond it, large queries spill to disk.
    #[arg(long, value_name = "SIZE", default_value = pipeline::DEFAULT_MEMORY_LIMIT)]
    memory_limit: String,
    /// Input bytes parsed and committed per transaction (bounds memory).
    #[arg(long, value_name = "BYTES", default_value_t = pipeline::DEFAULT_BATCH_BYTES, hide = true)]
    batch_bytes: usize,
}

#[derive(Args)]
struct GenerateArgs {
    /// Folder for log_a.txt and log_b.txt.
    #[arg(long, value_name = "DIR", default_value = "data/logs")]
    dir: PathBuf,
    /// Lines to write (ignored with --follow).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    lines: u64,
    /// Switch files after this many lines, truncating the file switched to.
    #[arg(long, value_name = "N", default_value_t = 100)]
    rotate_every: u64,
    /// Random seed: the same seed and --start give the same logs.
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
    /// First timestamp (RFC 3339). Default: continue after existing logs, else end near now.
    #[arg(long, value_name = "RFC3339", value_parser = generate::parse_start)]
    start: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Mean requests per second of log time.
    #[arg(long, value_name = "REQ_PER_S", default_value_t = 2.0)]
    rate: f64,
    /// Keep writing in real time until stopped (the article's continuous demo).
    #[arg(long)]
    follow: bool,
}

/// Where `make geoip` puts the DB-IP country database.
const DEFAULT_GEOIP: &str = "data/geoip/country.mmdb";

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Generate(args) => generate_logs(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("weblog: error: {}", report::escape(&e.message));
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn run(args: RunArgs) -> Result<()> {
    let opts = RunOptions {
        logs: args.logs,
        db: args.db,
        sql: args.sql,
        out: args.out,
        wait: Duration::from_secs_f64(args.wait.max(0.0)),
        batch_bytes: args.batch_bytes,
        memory_limit: args.memory_limit,
        geoip: args.geoip.or_else(|| {
            let default = PathBuf::from(DEFAULT_GEOIP);
            default.exists().then_some(default)
        }),
        filter: OutputFilter {
            from: args.from,
            to: args.to,
            humans_only: args.humans_only,
            site_host: args.site_host,
        },
    };
    let summary = pipeline::run(&opts)?;
    for w in &summary.warnings {
        eprintln!("weblog: warning: {}", report::escape(w));
    }
    if args.json {
        emit(&format!("{}\n", report::summary_json(&summary)));
    } else {
        emit(&report::summary_text(&summary));
        let wh = Warehouse::open_in_memory()?;
        emit(&report::output_tables(wh.connection(), &summary)?);
    }
    match summary.failure() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Print to stdout; a reader that went away (`weblog run | head`) is not an error.
fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

fn generate_logs(args: GenerateArgs) -> Result<()> {
    let opts = GenerateOptions {
        dir: args.dir,
        lines: args.lines,
        rotate_every: args.rotate_every,
        seed: args.seed,
        start: args.start,
        rate: args.rate,
        follow: args.follow,
    };
    let written = generate::generate(&opts)?;
    if std::io::stderr().is_terminal() || !opts.follow {
        eprintln!("wrote {written} lines to {}", opts.dir.display());
    }
    Ok(())
}
