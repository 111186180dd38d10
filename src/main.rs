use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{CommandFactory, FromArgMatches};

use weblog::cli::{
    Cli, Command, ForgetArgs, Format, GenerateArgs, Invocation, PruneArgs, RunArgs, config,
};
use weblog::error::Result;
use weblog::generate::{self, GenerateOptions};
use weblog::load::Warehouse;
use weblog::pipeline::{self, RunOptions};
use weblog::source::WrapperChoice;
use weblog::{dashboard, forget, metrics, progress, query, report, retention, status, watch};

fn main() -> ExitCode {
    weblog::memory::tune_allocator();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cmd = Cli::command();
    let first = match cmd.clone().try_get_matches_from(&args) {
        Ok(m) => m,
        Err(e) => match weblog::cli::usage_error_line(&e) {
            Some(line) => {
                eprintln!("weblog: error: {}", report::escape(&line));
                return ExitCode::from(2);
            }
            None => e.exit(),
        },
    };
    init_tracing();
    let explicit = first.get_one::<PathBuf>("config").cloned();
    let result = config::load(explicit.as_deref()).and_then(|file| {
        let merged = config::merge(&cmd, &args, first.clone(), file.as_ref())?;
        let invocation = Invocation::new(&first, file);
        let cli = Cli::from_arg_matches(&merged).unwrap_or_else(|e| e.exit());
        dispatch(cli.command, &invocation)
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("weblog: error: {}", report::escape(&e.message));
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

/// `RUST_LOG=weblog=debug` shows what each stage did; by default only warnings.
fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

fn dispatch(command: Command, invocation: &Invocation) -> Result<()> {
    match command {
        Command::Run(args) => run(args, invocation),
        Command::Watch(args) => {
            let stop = watch::stop_on_signals()?;
            let view = if std::io::stdout().is_terminal() && !args.run.json {
                watch::View::Live
            } else {
                watch::View::Lines
            };
            watch::watch(
                run_options(&args.run, invocation)?,
                args.interval,
                view,
                args.run.metrics_file.as_deref(),
                stop,
            );
            Ok(())
        }
        Command::Generate(args) => generate_logs(args),
        Command::Report(args) => {
            let path = dashboard::write(&args.out)?;
            eprintln!("wrote {}", path.display());
            if args.open {
                open_in_browser(&path);
            }
            Ok(())
        }
        Command::Sql(args) => {
            let result = query::run(&args.db, &args.out, &args.query)?;
            if let Some(notice) = &result.notice {
                eprintln!("weblog: note: {}", report::escape(notice));
            }
            let format = match args.format {
                Format::Table => query::Format::Table(args.max_rows),
                Format::Csv => query::Format::Csv,
                Format::Json => query::Format::Json,
            };
            emit(&query::render(&result, &format));
            Ok(())
        }
        Command::Status(args) => {
            let sources = invocation.sources(&args.logs, "auto", WrapperChoice::Auto, "utf-8")?;
            let s = status::gather(&args.db, &sources)?;
            if args.json {
                emit(&format!(
                    "{}\n",
                    serde_json::to_string(&s).expect("serialises")
                ));
            } else {
                emit(&status::text(&s));
            }
            Ok(())
        }
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "weblog", &mut out);
            emit(&String::from_utf8_lossy(&out));
            Ok(())
        }
        Command::Prune(args) => prune(args, invocation),
        Command::Forget(args) => forget_visitor(args, invocation),
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .expect("rendering to memory cannot fail");
            emit(&String::from_utf8_lossy(&out));
            Ok(())
        }
    }
}

fn run_options(args: &RunArgs, invocation: &Invocation) -> Result<RunOptions> {
    let mut opts = args.options(invocation)?;
    if !(args.quiet || args.json) {
        opts.progress =
            progress::Bar::for_stderr().map(|b| Arc::new(b) as Arc<dyn weblog::parse::Progress>);
    }
    Ok(opts)
}

fn run(args: RunArgs, invocation: &Invocation) -> Result<()> {
    let started = Instant::now();
    let result = pipeline::run(&run_options(&args, invocation)?);
    if let Some(path) = &args.metrics_file {
        metrics::write_for(path, &result, started.elapsed());
    }
    let summary = result?;
    for w in &summary.warnings {
        eprintln!("weblog: warning: {}", report::escape(w));
    }
    if args.json {
        emit(&format!("{}\n", report::summary_json(&summary)));
    } else if !args.quiet {
        emit(&report::summary_text(&summary));
        let wh = Warehouse::open_in_memory()?;
        emit(&report::output_tables(wh.connection(), &summary)?);
    }
    if args.report {
        let path = dashboard::write(&args.out)?;
        if !args.quiet && !args.json {
            eprintln!("wrote {}", path.display());
        }
    }
    match summary.failure() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn prune(args: PruneArgs, invocation: &Invocation) -> Result<()> {
    let opts = args.run.setup(invocation)?;
    let keep = retention::Keep {
        days: args.older_than.or(opts.keep.days),
        ..opts.keep
    };
    let (done, warnings) = retention::prune(&opts, &keep)?;
    for w in &warnings {
        eprintln!("weblog: warning: {}", report::escape(w));
    }
    if args.run.json {
        emit(&format!(
            "{}\n",
            serde_json::to_string(&done).expect("serialises")
        ));
    } else if !args.run.quiet {
        emit(&retention::text(&done));
    }
    Ok(())
}

fn forget_visitor(args: ForgetArgs, invocation: &Invocation) -> Result<()> {
    let opts = args.run.setup(invocation)?;
    let who = forget::Visitor {
        ip: args.ip,
        ip_text: args.ip.to_string(),
        agent: args.agent,
    };
    let done = forget::forget(&opts, &who, args.dry_run)?;
    if args.run.json {
        emit(&format!(
            "{}\n",
            serde_json::to_string(&done).expect("serialises")
        ));
    } else if !args.run.quiet {
        emit(&forget::text(&done));
    }
    Ok(())
}

/// Print to stdout; a reader that went away (`weblog run | head`) is not an error.
fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Best effort: a missing opener is reported, not an error (the file is written).
fn open_in_browser(path: &Path) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    if let Err(e) = std::process::Command::new(opener).arg(path).status() {
        eprintln!(
            "weblog: warning: cannot open {} with {opener}: {e}",
            path.display()
        );
    }
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
        format: args.format,
    };
    let written = generate::generate(&opts)?;
    if std::io::stderr().is_terminal() || !opts.follow {
        eprintln!("wrote {written} lines to {}", opts.dir.display());
        if opts.format == generate::LogFormat::Vhosts {
            eprintln!("read them with: --format '{}'", generate::VHOSTS_FORMAT);
        }
    }
    Ok(())
}
