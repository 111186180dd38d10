//! Headless Chromium for the tests that look at the dashboard as a browser does: the page's
//! DOM as parsed, a screenshot, and what its console logged.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |d| d.join(name)))
    .find(|p| p.is_file())
}

pub struct Chromium {
    bin: PathBuf,
    profile: tempfile::TempDir,
    headless: &'static str,
}

pub struct Rendered {
    pub stdout: String,
    /// Lines Chromium logged for the page's console (errors, uncaught exceptions, logs).
    pub console: Vec<String>,
}

impl Chromium {
    pub fn new(bin: PathBuf) -> Chromium {
        let mut c = Chromium {
            bin,
            profile: tempfile::tempdir().unwrap(),
            headless: "--headless",
        };
        // Older builds need the new headless mode asked for by name.
        let probe = tempfile::tempdir().unwrap();
        let page = probe.path().join("probe.html");
        std::fs::write(&page, "<!DOCTYPE html><p>probe</p>").unwrap();
        if !c
            .run(&["--dump-dom".into()], &page)
            .stdout
            .contains("probe")
        {
            c.headless = "--headless=new";
        }
        c
    }

    /// Load `page` with `args`; stdout and the console lines of stderr.
    pub fn run(&self, args: &[String], page: &Path) -> Rendered {
        let logs = tempfile::tempdir().unwrap();
        let (out, err) = (logs.path().join("out"), logs.path().join("err"));
        let mut child = Command::new(&self.bin)
            .args([
                self.headless,
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--hide-scrollbars",
                "--force-device-scale-factor=1",
                "--enable-logging=stderr",
                "--v=0",
            ])
            .arg(format!("--user-data-dir={}", self.profile.path().display()))
            .args(args)
            .arg(format!("file://{}", page.display()))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .expect("chromium starts");
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium did not finish in 120 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let stderr = std::fs::read_to_string(&err).unwrap_or_default();
        Rendered {
            stdout: std::fs::read_to_string(&out).unwrap_or_default(),
            // Chromium logs every console message (console.error included, at INFO level)
            // and every uncaught exception as `…:CONSOLE…] "message", source: …`. The report
            // runs no script, so any such line is a fault unless a test put a script there.
            console: stderr
                .lines()
                .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
                .map(str::to_string)
                .collect(),
        }
    }

    pub fn screenshot(&self, page: &Path, png: &Path) -> Rendered {
        self.run(
            &[
                format!("--screenshot={}", png.display()),
                "--window-size=1280,2400".into(),
            ],
            page,
        )
    }
}

/// Element names in a DOM as Chromium serialises it (attribute values always double-quoted,
/// `<` in text always escaped).
pub fn dom_tags(dom: &str) -> BTreeSet<String> {
    let b = dom.as_bytes();
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'<' && b.get(i + 1).is_some_and(u8::is_ascii_alphabetic) {
            let mut j = i + 1;
            while j < b.len() && b[j].is_ascii_alphanumeric() {
                j += 1;
            }
            names.insert(dom[i + 1..j].to_ascii_lowercase());
            let mut quoted = false;
            while j < b.len() && (quoted || b[j] != b'>') {
                quoted ^= b[j] == b'"';
                j += 1;
            }
            i = j;
        }
        i += 1;
    }
    names
}
