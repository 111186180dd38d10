//! The demo log generator: the article's `log_a.txt`/`log_b.txt` rotation, made
//! deterministic (seeded) and realistic (returning visitors, today's browsers, crawlers,
//! visits with reading pauses, bounces, assets, search and campaign arrivals, plausible
//! statuses and sizes, slightly out-of-order timestamps).

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, FixedOffset, TimeZone, Utc};

use crate::error::{Context, Error, ErrorKind, Result};

pub(crate) mod catalog;
use catalog::{ASSETS, BROWSERS, CAMPAIGNS, CRAWLERS, PAGES, REFERRERS};

#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub dir: PathBuf,
    pub lines: u64,
    pub rotate_every: u64,
    pub seed: u64,
    /// First timestamp; None: continue after the existing logs, or end at "now".
    pub start: Option<DateTime<FixedOffset>>,
    /// Mean requests per second of log time.
    pub rate: f64,
    /// Keep writing in real time until stopped.
    pub follow: bool,
    /// What each line holds.
    pub format: LogFormat,
}

/// The generator's line formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// nginx `combined`.
    #[default]
    Combined,
    /// [`VHOSTS_FORMAT`]: `combined` plus the site, the request time and the upstream's,
    /// the traffic spread over the sites of [`VHOSTS`].
    Vhosts,
}

/// The nginx `log_format` of `--format vhosts` lines (what `weblog run --format` reads them
/// with): `combined` with `$host`, `$request_time` and `$upstream_response_time` after it,
/// as many sites log to one file behind one nginx.
pub const VHOSTS_FORMAT: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $host $request_time $upstream_response_time"#;

/// The sites of `--format vhosts`, with their share of the visits. The first is the site
/// `combined` lines are from, so its internal referrers read the same in both formats.
pub const VHOSTS: &[(&str, u32)] = &[
    ("www.example.com", 6),
    ("shop.example.com", 3),
    ("docs.example.com", 2),
];

pub const FILES: [&str; 2] = ["log_a.txt", "log_b.txt"];

/// SplitMix64: tiny, fast, and stable across crate versions, so a seed always gives the
/// same logs (and the crash test the same kill schedule).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    fn pick<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut x = self.below(total as u64) as u32;
        for (item, w) in items {
            if x < *w {
                return item;
            }
            x -= w;
        }
        &items[items.len() - 1].0
    }
}

struct Visitor {
    addr: String,
    agent: &'static str,
    bot: bool,
}

/// A visit under way: who, the page they are on, how many more pages they will see, and
/// when they will ask for the next one (µs since the epoch).
struct Visit {
    who: usize,
    /// Index into VHOSTS (always 0 for `combined`).
    vhost: usize,
    page: String,
    pages_left: u32,
    next_at: i64,
}

/// A request the generator has decided on: who asks for what, from where.
struct Request {
    who: usize,
    vhost: usize,
    path: String,
    referer: String,
    asset: bool,
}

struct Generator {
    rng: Rng,
    format: LogFormat,
    visitors: Vec<Visitor>,
    /// Cumulative Zipf-like weights over `visitors`: a few return often, most rarely.
    cumulative: Vec<f64>,
    visits: Vec<Visit>,
    /// The page assets still to be fetched after the last page view, with its time.
    assets: Vec<(Request, i64)>,
}

impl Generator {
    fn new(seed: u64, format: LogFormat) -> Self {
        let mut rng = Rng(seed ^ 0x005E_ED0F_10C5);
        let mut visitors = Vec::new();
        for i in 0..2000 {
            let bot = i % 9 == 0;
            let agent = if bot {
                *rng.pick(CRAWLERS)
            } else {
                *rng.pick(BROWSERS)
            };
            let addr = if rng.chance(0.12) {
                const PREFIXES: [&str; 5] = [
                    "2a02:c7f",
                    "2600:1700",
                    "2001:4860",
                    "2a01:cb00",
                    "240e:3b0",
                ];
                let p = PREFIXES[rng.below(5) as usize];
                format!(
                    "{p}:{:x}:{:x}::{:x}",
                    rng.below(0xffff),
                    rng.below(0xffff),
                    1 + rng.below(0xfffe)
                )
            } else {
                let first = [
                    23, 31, 45, 62, 66, 77, 81, 88, 91, 104, 109, 151, 173, 185, 203, 212,
                ];
                format!(
                    "{}.{}.{}.{}",
                    first[rng.below(first.len() as u64) as usize],
                    rng.below(256),
                    rng.below(256),
                    1 + rng.below(254)
                )
            };
            visitors.push(Visitor { addr, agent, bot });
        }
        let mut acc = 0.0;
        let cumulative = (0..visitors.len())
            .map(|rank| {
                acc += 1.0 / ((rank + 1) as f64).powf(0.9);
                acc
            })
            .collect();
        Generator {
            rng,
            format,
            visitors,
            cumulative,
            visits: Vec::new(),
            assets: Vec::new(),
        }
    }

    fn pick_visitor(&mut self) -> usize {
        let total = *self.cumulative.last().unwrap();
        let x = self.rng.unit() * total;
        self.cumulative
            .partition_point(|c| *c < x)
            .min(self.visitors.len() - 1)
    }

    /// Seconds until a visitor asks for the next page: mostly reading time, sometimes a
    /// long pause (past the 30-minute visit timeout now and then); crawlers are quick.
    fn think_seconds(&mut self, bot: bool) -> f64 {
        let u = self.rng.unit();
        if bot {
            1.0 + u * 6.0
        } else if self.rng.chance(0.72) {
            4.0 + u * 90.0
        } else if self.rng.chance(0.85) {
            90.0 + u * 600.0
        } else {
            1_860.0 + u * 1_800.0
        }
    }

    /// The next request at `now` (µs): an asset of the page just viewed, the next page of a
    /// visit whose reader is ready, or the landing page of a new visit. Returns the request
    /// and its own time (an asset follows its page within a second).
    fn next(&mut self, now: i64) -> (Request, i64) {
        if let Some(asset) = self.assets.pop() {
            return asset;
        }
        // A visit whose next page is due (the earliest), unless it has waited too long.
        self.visits
            .retain(|v| v.pages_left > 0 && now - v.next_at < 3_600_000_000);
        let due = (0..self.visits.len())
            .filter(|&i| self.visits[i].next_at <= now)
            .min_by_key(|&i| self.visits[i].next_at);
        let (who, vhost, path, referer) = match due {
            Some(i) if self.rng.chance(0.9) => {
                let who = self.visits[i].who;
                let vhost = self.visits[i].vhost;
                let next = self.rng.pick(PAGES).to_string();
                let referer = format!("{}{}", site(vhost), self.visits[i].page);
                let think = self.think_seconds(self.visitors[who].bot);
                let v = &mut self.visits[i];
                v.page = next.clone();
                v.pages_left -= 1;
                v.next_at = now + (think * 1e6) as i64;
                (who, vhost, next, referer)
            }
            _ => {
                let who = self.pick_visitor();
                // Drawn only for `vhosts`: `combined` logs stay what they always were.
                let vhost = match self.format {
                    LogFormat::Combined => 0,
                    LogFormat::Vhosts => self.pick_vhost(),
                };
                let bot = self.visitors[who].bot;
                let mut page = self.rng.pick(PAGES).to_string();
                let referer = if bot {
                    "-".to_string()
                } else {
                    self.rng.pick(REFERRERS).to_string()
                };
                if !bot && !page.contains('?') && self.rng.chance(0.08) {
                    page = format!("{page}?{}", self.rng.pick(CAMPAIGNS));
                }
                // Four in ten human visits see one page; the others a few, crawlers many.
                let more = if bot {
                    3 + self.rng.below(20) as u32
                } else if self.rng.chance(0.42) {
                    0
                } else {
                    1 + self.rng.below(3) as u32 + self.rng.below(4) as u32
                };
                let think = self.think_seconds(bot);
                self.visits.push(Visit {
                    who,
                    vhost,
                    page: page.clone(),
                    pages_left: more,
                    next_at: now + (think * 1e6) as i64,
                });
                (who, vhost, page, referer)
            }
        };
        if !self.visitors[who].bot && !path.ends_with(".xml") && !path.ends_with(".txt") {
            // Assets of the page (fewer once cached), fetched right after it.
            let n = if referer.starts_with(&site(vhost)) {
                self.rng.below(2)
            } else {
                2 + self.rng.below(4)
            };
            for k in 0..n {
                let asset = Request {
                    who,
                    vhost,
                    path: self.rng.pick(ASSETS).to_string(),
                    referer: format!("{}{path}", site(vhost)),
                    asset: true,
                };
                self.assets.push((asset, now + 50_000 * (n - k) as i64));
            }
        }
        (
            Request {
                who,
                vhost,
                path,
                referer,
                asset: false,
            },
            now,
        )
    }

    /// One log line at about `time`.
    fn line(&mut self, time: &DateTime<FixedOffset>) -> String {
        let (req, at) = self.next(time.timestamp_micros());
        let time = DateTime::from_timestamp_micros(at)
            .map(|t| t.with_timezone(time.offset()))
            .unwrap_or(*time);
        let Request {
            who,
            vhost,
            path,
            referer,
            asset: is_asset,
        } = req;
        let path = path.as_str();
        let page = path.split('?').next().unwrap_or(path);
        let missing = matches!(page, "/wp-login.php" | "/.env");
        let (method, path) = if page == "/contact" && self.rng.chance(0.3) {
            ("POST", path)
        } else if self.rng.chance(0.01) {
            ("HEAD", path)
        } else {
            ("GET", path)
        };
        let status = if missing {
            404
        } else if is_asset {
            *self.rng.pick(&[(200, 80), (304, 20)])
        } else {
            *self.rng.pick(&[
                (200, 880),
                (304, 50),
                (301, 20),
                (404, 30),
                (403, 5),
                (500, 10),
                (503, 5),
            ])
        };
        let bytes = match status {
            304 => 0,
            301 => 162,
            404 | 403 => 150 + self.rng.below(400),
            500 | 503 => 500 + self.rng.below(200),
            _ if method == "HEAD" => 0,
            _ => {
                let base = 2_000 + (path.len() as u64 * 7919) % 60_000;
                base + self.rng.below(base / 4 + 1)
            }
        };
        let v = &self.visitors[who];
        let user = if page == "/docs/configuration" && self.rng.chance(0.2) {
            "alice"
        } else {
            "-"
        };
        let line = format!(
            "{} - {user} [{}] \"{method} {path} HTTP/1.1\" {status} {bytes} \"{referer}\" \"{}\"",
            v.addr,
            time.format("%d/%b/%Y:%H:%M:%S %z"),
            v.agent
        );
        match self.format {
            LogFormat::Combined => line,
            LogFormat::Vhosts => {
                let (total, upstream) = self.timing(page, method, status, is_asset);
                format!("{line} {} {total:.3} {upstream}", VHOSTS[vhost].0)
            }
        }
    }

    fn pick_vhost(&mut self) -> usize {
        let total: u32 = VHOSTS.iter().map(|(_, w)| w).sum();
        let mut x = self.rng.below(total as u64) as u32;
        for (i, (_, w)) in VHOSTS.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        VHOSTS.len() - 1
    }

    /// `$request_time` (seconds) and `$upstream_response_time` as nginx writes it. Assets
    /// come from nginx's disk (no upstream: `-`) in a few milliseconds; pages from the
    /// application, each with its typical time times a long-tailed (log-normal) factor, a
    /// slow outlier now and then; a 503 is an upstream that gave up after seconds, and an
    /// upstream that failed before answering is retried on the next one (`a, b`: nginx
    /// lists every upstream tried).
    fn timing(&mut self, page: &str, method: &str, status: i32, asset: bool) -> (f64, String) {
        if asset {
            return (self.rng.unit() * 0.004, "-".to_string());
        }
        let typical = match page {
            _ if method == "POST" => 0.35,
            "/search" => 0.25,
            "/pricing" => 0.08,
            "/wp-login.php" | "/.env" | "/robots.txt" => 0.002,
            p if p.starts_with("/blog/") => 0.06,
            "/atom.xml" => 0.04,
            _ => 0.03,
        };
        // Box-Muller: a standard normal from two uniform draws.
        let (u1, u2) = (self.rng.unit().max(1e-12), self.rng.unit());
        let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        let mut upstream = typical * (0.6 * normal).exp();
        if status == 503 {
            upstream = 5.0 + self.rng.unit() * 25.0;
        } else if self.rng.chance(0.01) {
            upstream *= 20.0;
        }
        let failed = self.rng.chance(0.01).then(|| self.rng.unit() * 0.01);
        let total = upstream + failed.unwrap_or(0.0) + self.rng.unit() * 0.002;
        let upstream = match failed {
            Some(first) => format!("{first:.3}, {upstream:.3}"),
            None => format!("{upstream:.3}"),
        };
        (total, upstream)
    }
}

/// The URL of a site of VHOSTS, without a trailing slash.
fn site(vhost: usize) -> String {
    format!("https://{}", VHOSTS[vhost].0)
}

/// Where the rotation stands in `dir`: the file being written and how many lines it holds.
struct Rotation {
    current: usize,
    lines_in_current: u64,
    last_time: Option<DateTime<FixedOffset>>,
    total_lines: u64,
}

fn rotation_state(dir: &Path, rotate_every: u64) -> Rotation {
    // Per file: lines, time of the last line, mtime.
    type FileState = (u64, Option<DateTime<FixedOffset>>, SystemTime);
    let info: Vec<Option<FileState>> = FILES
        .iter()
        .map(|f| {
            let path = dir.join(f);
            let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok()?;
            let data = std::fs::read(&path).ok()?;
            let lines = memchr::memchr_iter(b'\n', &data).count() as u64;
            let last = data
                .strip_suffix(b"\n")
                .and_then(|d| d.rsplit(|b| *b == b'\n').next())
                .and_then(|l| line_time(&String::from_utf8_lossy(l)));
            Some((lines, last, modified))
        })
        .collect();
    let lines = |i: usize| info[i].as_ref().map_or(0, |x| x.0);
    // The file being written is the one not yet full; when both are full (or both not, after
    // a change of --rotate-every), the one with the later last line, then the later mtime
    // (file times are too coarse to decide alone).
    let current = match (lines(0), lines(1)) {
        (_, 0) => 0,
        (0, _) => 1,
        (a, b) if a < rotate_every && b >= rotate_every => 0,
        (a, b) if a >= rotate_every && b < rotate_every => 1,
        _ => {
            let key = |i: usize| info[i].as_ref().map(|x| (x.1, x.2));
            usize::from(key(1) > key(0))
        }
    };
    Rotation {
        current,
        lines_in_current: lines(current),
        last_time: info[current].as_ref().and_then(|x| x.1),
        total_lines: lines(0) + lines(1),
    }
}

fn line_time(line: &str) -> Option<DateTime<FixedOffset>> {
    let open = line.find('[')?;
    let close = open + line[open..].find(']')?;
    DateTime::parse_from_str(&line[open + 1..close], "%d/%b/%Y:%H:%M:%S %z").ok()
}

/// Write the logs; returns the number of lines written.
pub fn generate(opts: &GenerateOptions) -> Result<u64> {
    if opts.rotate_every == 0 {
        return Err(Error::new(
            ErrorKind::Failed,
            "--rotate-every must be at least 1",
        ));
    }
    if !(opts.rate > 0.0 && opts.rate.is_finite()) {
        return Err(Error::new(
            ErrorKind::Failed,
            "--rate must be a positive number",
        ));
    }
    std::fs::create_dir_all(&opts.dir).context(ErrorKind::CantCreate, || {
        format!("cannot create {}", opts.dir.display())
    })?;
    let state = rotation_state(&opts.dir, opts.rotate_every);
    // Continuing logs draw new numbers, not the same sequence again.
    let mut generator = Generator::new(opts.seed, opts.format);
    generator.rng.0 ^= state.total_lines.wrapping_mul(0x2545_F491_4F6C_DD1D);
    let mut time = match (opts.start, state.last_time) {
        (Some(start), _) => start,
        (None, _) if opts.follow => Utc::now().fixed_offset(),
        (None, Some(last)) => last + chrono::Duration::seconds(1),
        (None, None) => {
            let span = (opts.lines as f64 / opts.rate) as i64;
            Utc::now().fixed_offset() - chrono::Duration::seconds(span)
        }
    };
    let mut current = state.current;
    let mut in_current = state.lines_in_current;
    let mut out = open_log(&opts.dir.join(FILES[current]), false)?;
    let mut written = 0u64;
    let mut latest = time;
    while opts.follow || written < opts.lines {
        if in_current >= opts.rotate_every {
            out.flush()
                .context(ErrorKind::Io, || "cannot write log".into())?;
            current = 1 - current;
            in_current = 0;
            out = open_log(&opts.dir.join(FILES[current]), true)?;
        }
        let gap = -generator.rng.unit().max(1e-12).ln() / opts.rate;
        if opts.follow {
            out.flush()
                .context(ErrorKind::Io, || "cannot write log".into())?;
            std::thread::sleep(Duration::from_secs_f64(gap.min(60.0)));
            latest = Utc::now().with_timezone(latest.offset());
        } else {
            latest += chrono::Duration::microseconds((gap * 1e6) as i64);
        }
        // A request is logged when it finishes: now and then a line is a second or two older.
        time = if generator.rng.chance(0.05) {
            latest - chrono::Duration::seconds(1 + generator.rng.below(3) as i64)
        } else {
            latest
        };
        let line = generator.line(&time);
        writeln!(out, "{line}").context(ErrorKind::Io, || "cannot write log".into())?;
        written += 1;
        in_current += 1;
    }
    out.flush()
        .context(ErrorKind::Io, || "cannot write log".into())?;
    Ok(written)
}

fn open_log(path: &Path, truncate: bool) -> Result<BufWriter<File>> {
    let file = if truncate {
        // Truncate in place (same inode), exactly like the article's generator.
        OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(path)
    } else {
        OpenOptions::new().create(true).append(true).open(path)
    };
    let file = file.context(ErrorKind::CantCreate, || {
        format!("cannot open {}", path.display())
    })?;
    Ok(BufWriter::with_capacity(1 << 16, file))
}

/// `--start` accepts RFC 3339 (`2026-11-20T08:00:00+01:00`) or a bare UTC date-time.
pub fn parse_start(s: &str) -> std::result::Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(s)
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
                .map(|n| Utc.from_utc_datetime(&n).fixed_offset())
        })
        .map_err(|e| format!("expected RFC 3339 like 2026-11-20T08:00:00+01:00: {e}"))
}
