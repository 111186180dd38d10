//! The command line (clap derive) and the optional config file that mirrors it
//! ([`config`]). Kept in the library so that shell completions and the man page are
//! generated from the same definition. Every value is checked here, by clap's value parsers
//! ([`values`]), before anything is opened.

pub mod config;
pub mod values;

/// A clap error as one line: its message and any tip, without the usage block (errors are one
/// line, as every other weblog error). Help and version requests are not errors: None.
pub fn usage_error_line(e: &clap::Error) -> Option<String> {
    use clap::error::ErrorKind as K;
    if matches!(
        e.kind(),
        K::DisplayHelp | K::DisplayVersion | K::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        return None;
    }
    let text = e.render().to_string();
    let parts: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty() && !l.starts_with("Usage:") && !l.starts_with("For more information")
        })
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .collect();
    Some(parts.join("; "))
}

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgMatches, Args, Parser, Subcommand, ValueEnum};

use crate::error::{Error, ErrorKind, Result};
use crate::pipeline::{self, RunOptions, Source};
use crate::source::{SourceSpec, WrapperChoice};
use crate::transform::{OutputFilter, RollupParams};

/// Where `make geoip` puts the DB-IP country database, used when it exists.
pub const DEFAULT_GEOIP: &str = "data/geoip/country.mmdb";

/// What a command needs besides its flags: the config file, and whether `--logs` came from
/// the command line (which then wins over the file's `[[source]]` tables).
#[derive(Debug, Default)]
pub struct Invocation {
    pub config: Option<config::ConfigFile>,
    pub logs_on_command_line: bool,
}

impl Invocation {
    /// `first`: the command line parsed on its own, before the config file's settings.
    pub fn new(first: &ArgMatches, config: Option<config::ConfigFile>) -> Self {
        let logs_on_command_line = first.subcommand().is_some_and(|(_, m)| {
            m.ids().any(|id| id == "logs")
                && m.value_source("logs") == Some(clap::parser::ValueSource::CommandLine)
        });
        Invocation {
            config,
            logs_on_command_line,
        }
    }

    /// The log sources: `--logs` with `--format`, or the config's `[[source]]` tables.
    pub fn sources(
        &self,
        logs: &[String],
        format: &str,
        wrapper: WrapperChoice,
        encoding: &str,
    ) -> Result<Vec<SourceSpec>> {
        let from_config = match (&self.config, self.logs_on_command_line) {
            (Some(c), false) => config::sources(c, format, wrapper, encoding)?,
            _ => Vec::new(),
        };
        if !from_config.is_empty() {
            return Ok(from_config);
        }
        Ok(vec![SourceSpec {
            logs: logs.to_vec(),
            format: format.to_string(),
            vhost: None,
            host: None,
            wrapper,
            legacy_encoding: crate::source::legacy_encoding(encoding)?,
        }])
    }
}

impl RunArgs {
    /// What `prune` and `forget` work on, from the same flags as a run.
    pub fn setup(&self, invocation: &Invocation) -> Result<crate::retention::Setup> {
        let o = self.options(invocation)?;
        Ok(crate::retention::Setup {
            db: o.db,
            sql: o.sql,
            out: o.out,
            wait: o.wait,
            memory_limit: o.memory_limit,
            lake: o.lake,
            filter: o.filter,
            rollups: o.rollups,
            keep: o.keep,
        })
    }

    /// The pipeline's options from these flags (progress and stop are the caller's).
    pub fn options(&self, invocation: &Invocation) -> Result<RunOptions> {
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from > to
        {
            return Err(Error::new(
                ErrorKind::Usage,
                format!("--from {from} is after --to {to}: no day is in range"),
            ));
        }
        let sources = invocation
            .sources(&self.logs, &self.format, self.wrapper, &self.encoding)?
            .into_iter()
            .map(|spec| {
                let format = (spec.format != "auto")
                    .then(|| crate::parse::Format::compile(&spec.format))
                    .transpose()
                    .map_err(|e| Error::new(ErrorKind::Usage, e))?;
                Ok(Source { spec, format })
            })
            .collect::<Result<Vec<_>>>()?;
        let trusted = self.trusted_proxies.clone().unwrap_or_default().0;
        Ok(RunOptions {
            sources,
            client: crate::enrich::ClientResolver::new(self.client_ip, trusted),
            anonymize_ip: match (self.visitor_id, self.anonymize_ip) {
                (crate::enrich::VisitorId::Hashed, crate::enrich::AnonymizeIp::Off) => {
                    crate::enrich::AnonymizeIp::High
                }
                (_, level) => level,
            },
            visitor_id: self.visitor_id,
            db: self.db.clone(),
            sql: self.sql.clone(),
            out: self.out.clone(),
            wait: self.wait,
            batch_bytes: self.batch_bytes,
            memory_limit: self.memory_limit.clone(),
            host: self.host.clone().unwrap_or_else(values::this_host),
            lake: self.lake.clone(),
            geoip: self.geoip.clone().or_else(|| {
                let default = PathBuf::from(DEFAULT_GEOIP);
                default.exists().then_some(default)
            }),
            filter: OutputFilter {
                from: self.from,
                to: self.to,
                humans_only: self.humans_only,
                site_hosts: self.site_host.clone(),
                vhost: self.vhost.clone(),
            },
            rollups: RollupParams {
                visit_timeout: self.visit_timeout,
            },
            retention: crate::load::Retention {
                checkpoints: self.checkpoint_retention.0,
                runs: self.runs_retention.0,
            },
            keep: crate::retention::Keep {
                days: self.retention_days,
                anonymize_after: self.anonymize_after_days,
            },
            stop: None,
            progress: None,
        })
    }
}

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
    /// Delete (or mask) the raw rows of old days now: logs, rejects, key tables, this
    /// warehouse's lake files. The per-day rollups and every output stay as they are.
    Prune(PruneArgs),
    /// Erase one visitor: every row, reject and lake row of an address (or block), and the
    /// aggregates of the days they were in, recomputed without them.
    Forget(ForgetArgs),
}

#[derive(Args)]
pub struct PruneArgs {
    /// Delete the raw rows of days older than this (`30d`, `4w`, or days); default: the
    /// configured retention_days. anonymize_after_days is applied too when set.
    #[arg(long, value_name = "DAYS", value_parser = values::days)]
    pub older_than: Option<u32>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Args)]
pub struct ForgetArgs {
    /// The visitor's address, or a block of them: `203.0.113.7`, `203.0.113.0/24`,
    /// `2001:db8::/48`. A row is theirs when its client_addr, remote_addr or an entry of its
    /// X-Forwarded-For is in it; a reject when any address in its line is.
    #[arg(long, value_name = "ADDR|CIDR")]
    pub ip: crate::enrich::client::Cidr,
    /// Only the rows of this user agent, as logged (exact match: a visitor is an address
    /// and an agent); rejects must contain it.
    #[arg(long, value_name = "AGENT")]
    pub agent: Option<String>,
    /// Say what would be removed, remove nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub run: RunArgs,
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
    /// How the logs are written: `auto` (recognised per file), a preset (combined, common,
    /// vhost_combined, nginx-main, ingress-nginx, traefik, caddy, traefik-json, w3c, aws-alb,
    /// aws-elb, aws-s3, cloudfront, haproxy, squid, gcs),
    /// or your nginx `log_format` / Apache `LogFormat` string, pasted as it is.
    #[arg(long, value_name = "FORMAT", default_value = "auto", value_parser = values::log_format)]
    pub format: String,
    /// A container runtime's wrapper around each line, removed before the format reads it:
    /// `cri` (Kubernetes' /var/log/containers, containerd, CRI-O), `docker-json` (Docker's
    /// json-file driver), `none`, or `auto` (recognised per file from its first lines).
    #[arg(long, value_name = "WRAPPER", value_enum, default_value = "auto")]
    pub wrapper: WrapperChoice,
    /// How to read a line that is not UTF-8: `utf-8` (it is a reject), `auto` (it is
    /// windows-1252/latin1), or an encoding (latin1, cp1252, big5, shift_jis, euc-kr, gbk, …).
    /// UTF-8 lines are always read as UTF-8.
    #[arg(long, value_name = "ENCODING", default_value = "utf-8", value_parser = values::encoding)]
    pub encoding: String,
    /// Where the visitor's address comes from: the connecting address, or X-Forwarded-For
    /// when the connecting address is a trusted proxy (see --trusted-proxies).
    #[arg(long, value_name = "FROM", value_enum, default_value = "remote-addr")]
    pub client_ip: crate::enrich::ClientIp,
    /// Proxies (load balancers) to see through, as CIDR blocks: `10.0.0.0/8,2001:db8::/32`.
    /// With --client-ip x-forwarded-for and none given: loopback and private networks.
    #[arg(long, value_name = "CIDR,…", value_parser = crate::enrich::client::parse_cidrs)]
    pub trusted_proxies: Option<crate::enrich::client::Cidrs>,
    /// Mask every IP address before anything is stored (the address fields, X-Forwarded-For,
    /// addresses inside the raw line, paths and referers): `off`, `low` (IPv4 /24, IPv6 /48)
    /// or `high` (IPv4 /16, IPv6 /32). The country is looked up from the full address first.
    /// Recorded in the warehouse; rows stored before it was switched on keep theirs.
    #[arg(long, value_name = "LEVEL", value_enum, default_value = "off")]
    pub anonymize_ip: crate::enrich::AnonymizeIp,
    /// How visitors are known: `address` (their client address, masked as --anonymize-ip
    /// says) or `hashed` (a keyed hash of the address under a random salt drawn for each day
    /// and deleted the day after: daily visitors and visits stay exact, no address is kept;
    /// every other address is masked, at --anonymize-ip's level or `high` when that is off).
    #[arg(long, value_name = "ID", value_enum, default_value = "address")]
    pub visitor_id: crate::enrich::VisitorId,
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
    /// How long to wait for another run holding the database before giving up (exit 75):
    /// seconds, or `30s`, `2m`…
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = values::wait)]
    pub wait: Duration,
    /// Forget the checkpoint of a file that has been gone this long (`30d`, `2w`, `never`): a
    /// file under that name later is read from its start.
    #[arg(long, value_name = "RETENTION", default_value = "30d", value_parser = values::retention)]
    pub checkpoint_retention: values::KeepFor,
    /// Delete the raw rows (logs, rejects, this warehouse's lake files) of days older than
    /// this many days at the end of every run (`30`, `30d`, `4w`); the per-day rollups, and
    /// so every output, are kept. Default: kept for ever.
    #[arg(long, value_name = "DAYS", value_parser = values::days)]
    pub retention_days: Option<u32>,
    /// Mask every address in the raw rows (logs, rejects) of days older than this many days,
    /// in place, at the high level of --anonymize-ip, at the end of every run.
    #[arg(long, value_name = "DAYS", value_parser = values::days)]
    pub anonymize_after_days: Option<u32>,
    /// Delete rows of the `runs` table older than this (`90d`, `never`).
    #[arg(long, value_name = "RETENTION", default_value = "90d", value_parser = values::retention)]
    pub runs_retention: values::KeepFor,
    /// Outputs cover days from this date on (YYYY-MM-DD, the log's local date).
    #[arg(long, value_name = "DATE")]
    pub from: Option<chrono::NaiveDate>,
    /// Outputs cover days up to this date, inclusive.
    #[arg(long, value_name = "DATE")]
    pub to: Option<chrono::NaiveDate>,
    /// Outputs count human traffic only (bots excluded).
    #[arg(long)]
    pub humans_only: bool,
    /// Your site's host name (repeat for several): referrers from it and its subdomains are
    /// internal, left out of `referrers`. Default: each request's virtual host, else the host
    /// that refers most of the requests.
    #[arg(long, value_name = "HOST", value_parser = values::host)]
    pub site_host: Vec<String>,
    /// Outputs cover this virtual host (site) only.
    #[arg(long, value_name = "HOST")]
    pub vhost: Option<String>,
    /// A visit ends after this long without a request from its visitor (e.g. 30m, 1h).
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = values::interval)]
    pub visit_timeout: Duration,
    /// Country database (.mmdb) for `country_code`; default data/geoip/country.mmdb if present.
    #[arg(long, value_name = "PATH")]
    pub geoip: Option<PathBuf>,
    /// DuckDB's memory limit (e.g. 512MB, 2GB); beyond it, large queries spill to disk.
    #[arg(long, value_name = "SIZE", default_value = pipeline::DEFAULT_MEMORY_LIMIT, value_parser = values::memory_limit)]
    pub memory_limit: String,
    /// The web server these logs come from, stored with every row (default: this machine's
    /// host name); lines are deduplicated per host.
    #[arg(long, value_name = "NAME", value_parser = values::host)]
    pub host: Option<String>,
    /// Also append every committed row to this Parquet lake (DIR/logs/day=…/host=…/), exactly
    /// once, for Spark or any Parquet reader (see the README's "Scaling out").
    #[arg(long, value_name = "DIR")]
    pub lake: Option<PathBuf>,
    /// Input bytes parsed and committed per transaction (bounds memory), e.g. 64MB.
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = values::batch_bytes, hide = true)]
    pub batch_bytes: usize,
}

#[derive(Args)]
pub struct WatchArgs {
    /// Time between passes: `5s`, `500ms`, `2m`, or plain seconds.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = values::interval)]
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
    #[arg(long, value_name = "N", default_value = "100", value_parser = values::positive)]
    pub rotate_every: u64,
    /// Random seed: the same seed and --start give the same logs.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// First timestamp (RFC 3339). Default: continue after existing logs, else end near now.
    #[arg(long, value_name = "RFC3339", value_parser = crate::generate::parse_start)]
    pub start: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// Mean requests per second of log time.
    #[arg(long, value_name = "REQ_PER_S", default_value = "2", value_parser = values::rate)]
    pub rate: f64,
    /// Keep writing in real time until stopped (the article's continuous demo).
    #[arg(long)]
    pub follow: bool,
    /// Line format: nginx `combined`, or `vhosts`: the traffic of three sites in one log,
    /// `combined` plus `$host $request_time $upstream_response_time` (read it with the
    /// `--format` string `weblog generate --format vhosts` prints).
    #[arg(long, value_name = "FORMAT", value_enum, default_value = "combined")]
    pub format: crate::generate::LogFormat,
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
