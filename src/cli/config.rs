//! `weblog.toml`: every key is a long flag (`memory_limit` for `--memory-limit`). Top-level
//! keys apply to the commands that read logs or their warehouse (`run`, `watch`, `status`, `prune`,
//! `forget`), and `db` and `out`
//! to every command; a `[run]`, `[watch]`, `[sql]`, `[report]`, `[generate]` table applies
//! to that command only and wins over the top level; the command line wins over both. The file's settings become flags placed before the command line's and parsed by the
//! same clap definition, so each value is checked exactly as a flag is, and every flag is a
//! key without a second list to keep in step. `[[source]]` tables (several log sources) are
//! read by the run itself.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Command};

use crate::error::{Error, ErrorKind, Result};
use crate::source::WrapperChoice;

/// Keys that are not flags: tables the run reads itself.
const NON_FLAG_KEYS: [&str; 1] = ["source"];

/// The commands top-level keys are for: those that read the logs.
const PIPELINE_COMMANDS: [&str; 5] = ["run", "watch", "status", "prune", "forget"];
/// Top-level keys that mean the same for every command that has them (the warehouse and the
/// output folder); every other key applies at the top level to the pipeline commands only
/// (`format` is the log format there, the table format of `weblog sql`).
const SHARED_KEYS: [&str; 2] = ["db", "out"];

/// Does a top-level `key` apply to command `sub`?
fn applies(sub: &Command, key: &str) -> bool {
    flag(sub, key).is_some()
        && (PIPELINE_COMMANDS.contains(&sub.get_name()) || SHARED_KEYS.contains(&key))
}

/// A config file read and parsed.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: PathBuf,
    pub table: toml::Table,
}

/// The config named by `-c`, else ./weblog.toml if present, else none.
pub fn load(explicit: Option<&Path>) -> Result<Option<ConfigFile>> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let default = PathBuf::from("weblog.toml");
            if !default.is_file() {
                return Ok(None);
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
    let table = text.parse::<toml::Table>().map_err(|e| {
        Error::new(
            ErrorKind::Usage,
            format!(
                "config {}: {}",
                path.display(),
                crate::error::one_line(&e.to_string())
            ),
        )
    })?;
    Ok(Some(ConfigFile { path, table }))
}

/// The `[[source]]` tables: each `logs` (a path/glob or a list), and optionally `format`
/// (default: the run's --format), `vhost`, `host`. Checked like flags.
pub fn sources(
    config: &ConfigFile,
    default_format: &str,
    default_wrapper: WrapperChoice,
    default_encoding: &str,
) -> Result<Vec<crate::source::SourceSpec>> {
    let origin = config.path.display();
    let usage = |msg: String| Error::new(ErrorKind::Usage, format!("config {origin}: {msg}"));
    let Some(value) = config.table.get("source") else {
        return Ok(Vec::new());
    };
    if config.table.contains_key("logs") {
        return Err(usage(
            "use either `logs = …` or [[source]] tables, not both".into(),
        ));
    }
    let tables = value
        .as_array()
        .filter(|a| a.iter().all(toml::Value::is_table))
        .ok_or_else(|| usage("`source` must be [[source]] tables".into()))?;
    let mut specs = Vec::new();
    for (i, table) in tables.iter().enumerate() {
        let table = table.as_table().expect("checked");
        let n = i + 1;
        let text = |key: &str| -> Result<Option<String>> {
            match table.get(key) {
                None => Ok(None),
                Some(toml::Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(usage(format!("[[source]] {n}: {key} must be a string"))),
            }
        };
        for key in table.keys() {
            if !["logs", "format", "vhost", "host", "wrapper", "encoding"].contains(&key.as_str()) {
                return Err(usage(format!(
                    "[[source]] {n}: unknown key {key:?} (logs, format, vhost, host, wrapper, encoding)"
                )));
            }
        }
        let logs = match table.get("logs") {
            Some(toml::Value::String(s)) => vec![s.clone()],
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| usage(format!("[[source]] {n}: logs must be strings")))?,
            _ => {
                return Err(usage(format!(
                    "[[source]] {n}: logs is required (a path, a glob or a list)"
                )));
            }
        };
        let format = text("format")?.unwrap_or_else(|| default_format.to_string());
        let format = super::values::log_format(&format)
            .map_err(|e| usage(format!("[[source]] {n}: format: {e}")))?;
        let host = text("host")?
            .map(|h| super::values::host(&h))
            .transpose()
            .map_err(|e| usage(format!("[[source]] {n}: host: {e}")))?;
        let wrapper = match text("wrapper")? {
            None => default_wrapper,
            Some(w) => WrapperChoice::parse(&w).ok_or_else(|| {
                usage(format!(
                    "[[source]] {n}: wrapper {w:?} is not auto, none, cri or docker-json"
                ))
            })?,
        };
        specs.push(crate::source::SourceSpec {
            logs,
            format,
            vhost: text("vhost")?,
            host,
            wrapper,
            legacy_encoding: crate::source::legacy_encoding(
                &text("encoding")?.unwrap_or_else(|| default_encoding.to_string()),
            )
            .map_err(|e| usage(format!("[[source]] {n}: encoding: {}", e.message)))?,
        });
    }
    Ok(specs)
}

/// `args` (program name first), already parsed into `first`, parsed again with `config`'s
/// settings for the flags the command line did not give. A bad value or an unknown key in
/// the file is a usage error naming it.
pub fn merge(
    cmd: &Command,
    args: &[OsString],
    first: ArgMatches,
    config: Option<&ConfigFile>,
) -> Result<ArgMatches> {
    let Some(config) = config else {
        return Ok(first);
    };
    let origin = config.path.display().to_string();
    let usage = |msg: String| Error::new(ErrorKind::Usage, format!("config {origin}: {msg}"));
    let Some((name, given)) = first.subcommand() else {
        return Ok(first);
    };
    let name = name.to_string();
    let sub = cmd
        .find_subcommand(&name)
        .expect("a parsed subcommand exists");
    let extra = settings(cmd, sub, given, &config.table).map_err(usage)?;
    if extra.is_empty() {
        return Ok(first);
    }
    // Right after the subcommand's name, so the command line's own flags come later.
    let at = subcommand_index(args, &name);
    let mut merged = args[..=at].to_vec();
    merged.extend(extra);
    merged.extend_from_slice(&args[at + 1..]);
    cmd.clone()
        .try_get_matches_from(&merged)
        .map_err(|e| usage(super::usage_error_line(&e).unwrap_or_default()))
}

/// The flags `table` sets for subcommand `sub` that the command line (`given`) left unset.
fn settings(
    cmd: &Command,
    sub: &Command,
    given: &ArgMatches,
    table: &toml::Table,
) -> std::result::Result<Vec<OsString>, String> {
    let mut chosen: Vec<(String, &toml::Value)> = Vec::new();
    let mut set = |key: &str, value| {
        chosen.retain(|(k, _)| k != key);
        chosen.push((key.to_string(), value));
    };
    for (key, value) in table {
        // `[sql]` is the sql command's table; `sql = "dir"` is the --sql flag.
        if let (Some(other), Some(section)) = (cmd.find_subcommand(key.as_str()), value.as_table())
        {
            for k in section.keys() {
                if flag(other, k).is_none() {
                    return Err(format!(
                        "unknown key {k:?} in [{key}] (`weblog {key}` has no --{})",
                        k.replace('_', "-")
                    ));
                }
            }
            continue;
        }
        if NON_FLAG_KEYS.contains(&key.as_str()) {
            continue;
        }
        if !cmd.get_subcommands().any(|c| flag(c, key).is_some()) {
            return Err(format!(
                "unknown key {key:?} (no command has --{})",
                key.replace('_', "-")
            ));
        }
        if applies(sub, key) {
            set(key, value);
        }
    }
    if let Some(section) = table.get(sub.get_name()).and_then(|v| v.as_table()) {
        for (key, value) in section {
            set(key, value);
        }
    }
    let mut args = Vec::new();
    for (key, value) in chosen {
        let arg = flag(sub, &key).expect("checked above");
        if given.value_source(arg.get_id().as_str()) == Some(ValueSource::CommandLine) {
            continue;
        }
        let long = format!("--{}", arg.get_long().expect("a long flag"));
        match (arg.get_action(), value) {
            (ArgAction::SetTrue, toml::Value::Boolean(true)) => args.push(long.into()),
            (ArgAction::SetTrue, toml::Value::Boolean(false)) => {}
            (ArgAction::SetTrue, _) => return Err(format!("{key} must be true or false")),
            (ArgAction::Append, toml::Value::Array(items)) => {
                for item in items {
                    args.push(format!("{long}={}", scalar(&key, item)?).into());
                }
            }
            (_, v) => args.push(format!("{long}={}", scalar(&key, v)?).into()),
        }
    }
    Ok(args)
}

fn scalar(key: &str, v: &toml::Value) -> std::result::Result<String, String> {
    match v {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        toml::Value::Datetime(d) => Ok(d.to_string()),
        toml::Value::Array(_) | toml::Value::Table(_) => {
            Err(format!("{key} takes one value, not a list or a table"))
        }
    }
}

/// The long flag of `cmd` that config key `key` names (`memory_limit` → `--memory-limit`).
fn flag<'a>(cmd: &'a Command, key: &str) -> Option<&'a clap::Arg> {
    let long = key.replace('_', "-");
    cmd.get_arguments().find(|a| {
        a.get_long() == Some(long.as_str())
            && !matches!(long.as_str(), "help" | "version" | "config")
    })
}

/// Where the subcommand's name is in `args`: after the program and the global `-c PATH`.
fn subcommand_index(args: &[OsString], name: &str) -> usize {
    let mut i = 1;
    while i < args.len() {
        let a = args[i].to_string_lossy();
        if a == "-c" || a == "--config" {
            i += 2;
            continue;
        }
        if a == name {
            return i;
        }
        i += 1;
    }
    args.len() - 1
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::cli::Cli;

    /// A value each flag accepts, for flags without a default to copy.
    fn sample(arg: &clap::Arg) -> String {
        if let Some(v) = arg.get_possible_values().first() {
            return v.get_name().to_string();
        }
        if let Some(d) = arg.get_default_values().first() {
            return d.to_string_lossy().into_owned();
        }
        let name = arg
            .get_value_names()
            .and_then(|n| n.first())
            .map(|n| n.to_string());
        match name.as_deref() {
            Some("DATE") => "2026-01-02".into(),
            Some("RFC3339") => "2026-01-02T03:04:05+00:00".into(),
            Some("PATH" | "DIR" | "PATH.mmdb") => "some/where".into(),
            Some("HOST" | "NAME") => "web-1".into(),
            Some("CIDR,…") => "10.0.0.0/8,192.0.2.1".into(),
            Some("DAYS") => "30".into(),
            Some("ADDR|CIDR") => "192.0.2.0/24".into(),
            Some("AGENT") => "curl/8.4.0".into(),
            Some(other) => panic!(
                "no sample value for --{} <{other}>: add one",
                arg.get_long().unwrap()
            ),
            None => panic!("no sample value for --{}", arg.get_long().unwrap()),
        }
    }

    fn argv(items: &[&str]) -> Vec<OsString> {
        items.iter().map(OsString::from).collect()
    }

    fn parse(cmd: &Command, args: &[OsString], config: Option<&ConfigFile>) -> Result<ArgMatches> {
        let first = cmd.clone().try_get_matches_from(args).unwrap();
        merge(cmd, args, first, config)
    }

    fn config(text: &str) -> ConfigFile {
        ConfigFile {
            path: "test.toml".into(),
            table: text.parse().unwrap(),
        }
    }

    /// The arguments every command needs on the command line (positionals).
    fn base(name: &str) -> Vec<&'static str> {
        match name {
            "sql" => vec!["SELECT 1"],
            "completions" => vec!["bash"],
            "forget" => vec!["--ip", "192.0.2.0/24"],
            _ => vec![],
        }
    }

    #[test]
    fn every_long_flag_of_every_command_is_a_config_key() {
        let cmd = Cli::command();
        let mut checked = 0;
        for sub in cmd.get_subcommands() {
            for arg in sub.get_arguments() {
                let Some(long) = arg.get_long() else { continue };
                if matches!(long, "help" | "version" | "config") {
                    continue;
                }
                let key = long.replace('-', "_");
                let is_bool = matches!(arg.get_action(), ArgAction::SetTrue);
                let value = if is_bool {
                    "true".to_string()
                } else {
                    format!("{:?}", sample(arg))
                };
                let value = if matches!(arg.get_action(), ArgAction::Append) {
                    format!("[{value}]")
                } else {
                    value
                };
                // In the command's own table, and at the top level where that applies.
                let mut texts = vec![format!("[{}]\n{key} = {value}\n", sub.get_name())];
                if applies(sub, &key) {
                    texts.push(format!("{key} = {value}\n"));
                }
                for text in texts {
                    let mut args = vec!["weblog", sub.get_name()];
                    args.extend(base(sub.get_name()));
                    let m = parse(&cmd, &argv(&args), Some(&config(&text)))
                        .unwrap_or_else(|e| panic!("{}: {text}: {}", sub.get_name(), e.message));
                    let (_, m) = m.subcommand().unwrap();
                    let id = arg.get_id().as_str();
                    assert_eq!(
                        m.value_source(id),
                        Some(ValueSource::CommandLine),
                        "{} --{long} from {text}",
                        sub.get_name()
                    );
                    if !is_bool {
                        let raw: Vec<String> = m
                            .get_raw(id)
                            .unwrap()
                            .map(|v| v.to_string_lossy().into_owned())
                            .collect();
                        assert_eq!(raw, vec![sample(arg)], "{} --{long}", sub.get_name());
                    }
                    checked += 1;
                }
            }
        }
        assert!(checked > 40, "{checked} flags checked");
    }

    #[test]
    fn the_command_line_wins_then_the_command_table_then_the_top_level() {
        let cmd = Cli::command();
        let file = config("db = \"top.duckdb\"\nout = \"top-out\"\n[run]\ndb = \"run.duckdb\"\n");
        let m = parse(&cmd, &argv(&["weblog", "run"]), Some(&file)).unwrap();
        let (_, run) = m.subcommand().unwrap();
        assert_eq!(
            run.get_one::<PathBuf>("db").unwrap(),
            Path::new("run.duckdb")
        );
        assert_eq!(run.get_one::<PathBuf>("out").unwrap(), Path::new("top-out"));
        let m = parse(
            &cmd,
            &argv(&["weblog", "-c", "x", "run", "--db", "flag.duckdb"]),
            Some(&file),
        )
        .unwrap();
        let (_, run) = m.subcommand().unwrap();
        assert_eq!(
            run.get_one::<PathBuf>("db").unwrap(),
            Path::new("flag.duckdb")
        );
        // `report` has --out but no --db: the top-level db does not disturb it.
        let m = parse(&cmd, &argv(&["weblog", "report"]), Some(&file)).unwrap();
        let (_, report) = m.subcommand().unwrap();
        assert_eq!(
            report.get_one::<PathBuf>("out").unwrap(),
            Path::new("top-out")
        );
        // A top-level log format is the pipeline's; `weblog sql` keeps its own --format.
        let file = config("format = \"nginx-main\"\n");
        let m = parse(&cmd, &argv(&["weblog", "sql", "SELECT 1"]), Some(&file)).unwrap();
        let (_, sql) = m.subcommand().unwrap();
        assert_ne!(sql.value_source("format"), Some(ValueSource::CommandLine));
        let m = parse(&cmd, &argv(&["weblog", "run"]), Some(&file)).unwrap();
        let (_, run) = m.subcommand().unwrap();
        assert_eq!(run.get_one::<String>("format").unwrap(), "nginx-main");
    }

    #[test]
    fn bad_values_and_unknown_keys_are_usage_errors_naming_them() {
        let cmd = Cli::command();
        for (text, needle) in [
            ("memory_limit = \"lots\"\n", "--memory-limit"),
            ("wait = \"inf\"\n", "--wait"),
            ("dbb = \"x\"\n", "dbb"),
            ("[run]\ninterval = \"5s\"\n", "interval"),
            ("[sql]\nformat = \"xml\"\n", "--format"),
            (
                "format = \"nginx-main\"\n[sql]\nformat = \"yaml\"\n",
                "--format",
            ),
            ("quiet = \"yes\"\n", "quiet"),
        ] {
            let args = if text.contains("[sql]") {
                argv(&["weblog", "sql", "SELECT 1"])
            } else {
                argv(&["weblog", "run"])
            };
            let e = parse(&cmd, &args, Some(&config(text))).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Usage, "{text}");
            assert!(
                e.message.contains(needle) && e.message.contains("test.toml"),
                "{text}: {}",
                e.message
            );
        }
    }
}
