//! The README's cron + logrotate setup, run as written: `examples/weblog.toml`,
//! `examples/weblog.cron` and `examples/logrotate-nginx`, with only their absolute paths
//! moved into a temp folder, driven by the real logrotate (Debian's package, installed by
//! `make test`) through two rotations while "nginx" keeps writing to the rotated file.

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Env, repo_sql, tool_missing};

fn example(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(name),
    )
    .unwrap()
}

fn logrotate() -> Option<PathBuf> {
    ["/usr/sbin/logrotate", "/usr/bin/logrotate"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

struct Site {
    env: Env,
    written: BTreeSet<String>,
    next: u32,
}

impl Site {
    fn nginx(&self) -> PathBuf {
        self.env.path("nginx")
    }

    /// Replace the examples' absolute paths with this site's.
    fn localise(&self, text: &str) -> String {
        text.replace("/var/log/nginx", self.nginx().to_str().unwrap())
            .replace("/var/lib/weblog", self.env.path("lib").to_str().unwrap())
            .replace("/etc/weblog/sql", repo_sql().to_str().unwrap())
            .replace(
                "/var/lib/prometheus/node-exporter/weblog.prom",
                self.env.path("weblog.prom").to_str().unwrap(),
            )
            .replace(
                "/etc/weblog.toml",
                self.env.path("weblog.toml").to_str().unwrap(),
            )
            .replace("/usr/local/bin/weblog", env!("CARGO_BIN_EXE_weblog"))
            .replace(
                "/run/nginx.pid",
                self.env.path("nginx.pid").to_str().unwrap(),
            )
    }

    /// `n` new lines appended to `file` (as nginx would, through its open descriptor).
    fn write(&mut self, file: &str, n: u32) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.nginx().join(file))
            .unwrap();
        for _ in 0..n {
            self.next += 1;
            let i = self.next;
            let line = format!(
                "192.0.2.{} - - [26/Nov/2026:08:{:02}:{:02} +0000] \"GET /item/{i} HTTP/1.1\" 200 {} \"-\" \"curl/8.5.0\"",
                i % 250,
                (i / 60) % 60,
                i % 60,
                100 + i
            );
            writeln!(f, "{line}").unwrap();
            self.written.insert(line);
        }
    }

    fn rotate(&self, logrotate: &Path) {
        let out = Command::new(logrotate)
            .args(["-f", "-s"])
            .arg(self.env.path("logrotate.state"))
            .arg(self.env.path("logrotate.conf"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "logrotate: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The command of the cron line, as cron's /bin/sh would run it.
    fn cron(&self) {
        let line = self.localise(&example("weblog.cron"));
        let entry = line
            .lines()
            .find(|l| !l.starts_with('#') && !l.trim().is_empty())
            .unwrap();
        // Five schedule fields and the user, then the command.
        let command: Vec<&str> = entry.split_whitespace().skip(6).collect();
        let out = Command::new("/bin/sh")
            .arg("-c")
            .arg(command.join(" "))
            .current_dir(self.env.dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // quiet = true: cron has nothing to mail.
        assert_eq!(String::from_utf8_lossy(&out.stdout), "");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    }
}

#[test]
fn the_readme_cron_and_logrotate_setup_reads_every_line_once() {
    let Some(logrotate) = logrotate() else {
        tool_missing("logrotate is not installed (make test installs Debian's logrotate)");
        return;
    };
    let mut site = Site {
        env: Env::new(),
        written: BTreeSet::new(),
        next: 0,
    };
    std::fs::create_dir_all(site.nginx()).unwrap();
    let config = site.localise(&example("weblog.toml"));
    std::fs::write(site.env.path("weblog.toml"), config).unwrap();
    std::fs::write(
        site.env.path("logrotate.conf"),
        site.localise(&example("logrotate-nginx")),
    )
    .unwrap();

    site.write("access.log", 50);
    site.rotate(&logrotate); // prerotate ingests the 50; access.log -> access.log.1
    assert!(site.nginx().join("access.log.1").is_file());
    site.write("access.log.1", 5); // nginx writes on until it reopens its log
    site.write("access.log", 20);
    site.cron();
    site.write("access.log", 10);
    site.rotate(&logrotate); // access.log.1 -> access.log.2.gz, access.log -> access.log.1
    assert!(site.nginx().join("access.log.2.gz").is_file());
    site.write("access.log", 3);
    site.cron();

    let db = site.env.path("lib/weblog.duckdb");
    let cfg = duckdb::Config::default()
        .access_mode(duckdb::AccessMode::ReadOnly)
        .unwrap();
    let conn = duckdb::Connection::open_with_flags(&db, cfg).unwrap();
    let mut stmt = conn.prepare("SELECT raw_log FROM logs").unwrap();
    let stored: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let unique: BTreeSet<String> = stored.iter().cloned().collect();
    assert_eq!(stored.len(), unique.len(), "no line stored twice");
    assert_eq!(unique, site.written, "every line stored");
    let rejects: i64 = conn
        .query_row("SELECT count(*) FROM rejects", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rejects, 0);
    // `status` on the same config: every file, the compressed one included, fully read.
    let status = Command::new(env!("CARGO_BIN_EXE_weblog"))
        .args([
            "-c",
            site.env.path("weblog.toml").to_str().unwrap(),
            "status",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let files = status["files"].as_array().unwrap();
    assert_eq!(files.len(), 3, "{status}");
    for f in files {
        assert_eq!(f["state"], "continue", "{f}");
        assert_eq!(f["lag_bytes"], 0, "{f}");
    }
    // The cron line's --report and the config's metrics file.
    assert!(site.env.path("lib/out/report.html").is_file());
    let metrics = std::fs::read_to_string(site.env.path("weblog.prom")).unwrap();
    assert!(metrics.contains("weblog_last_run_success 1"), "{metrics}");
}
