//! `auto`: pick the preset that reads the most of a file's first lines. Presets are strict
//! enough to be exclusive (a `combined` line is no `nginx-main` line and the reverse), so the
//! count decides; W3C and CloudFront announce themselves in their `#` headers.

use std::sync::OnceLock;

use super::presets::preset;
use super::{Format, PRESETS, Parsed};

/// Every preset compiled once per process: detection runs for each new file.
fn compiled() -> &'static [(&'static str, Format)] {
    static COMPILED: OnceLock<Vec<(&'static str, Format)>> = OnceLock::new();
    COMPILED.get_or_init(|| {
        PRESETS
            .iter()
            .filter_map(|&name| Some((name, preset(name)?)))
            .collect()
    })
}

/// When presets read as many lines, the one listed first here wins: `common` lines also read
/// as `combined`, and a file of them is `common`.
const ORDER: &[&str] = &[
    "common",
    "combined",
    "vhost_combined",
    "nginx-main",
    "ingress-nginx",
    "traefik",
    "aws-alb",
    "aws-elb",
    "aws-s3",
    "caddy",
    "traefik-json",
    "haproxy",
    "squid",
    "gcs",
    "cloudfront",
    "w3c",
];

/// (byte reached, line number, reason without the format's name).
type Furthest = (usize, usize, String);

pub fn detect(first_lines: &[&[u8]]) -> Result<Format, String> {
    debug_assert_eq!(ORDER.len(), PRESETS.len());
    let lines: Vec<&[u8]> = first_lines
        .iter()
        .copied()
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .collect();
    if lines.is_empty() {
        return Err("no known log format fits: no lines to look at".to_owned());
    }
    let header = |prefix: &[u8]| lines.iter().any(|l| l.starts_with(prefix));
    if header(b"#Fields:") || header(b"#Software:") || header(b"#Version:") {
        // CloudFront's columns are its own `x-edge-…` names; IIS writes `#Software:`.
        let cloudfront = lines
            .iter()
            .any(|l| l.starts_with(b"#Fields:") && memchr::memmem::find(l, b"x-edge-").is_some())
            || (!header(b"#Software:")
                && lines
                    .iter()
                    .any(|l| !l.starts_with(b"#") && l.contains(&b'\t')));
        let name = if cloudfront { "cloudfront" } else { "w3c" };
        return preset(name).ok_or_else(|| format!("preset {name} missing"));
    }
    // A GCS usage log's header row: its first column's name, quoted.
    if header(b"\"time_micros\",") {
        return preset("gcs").ok_or_else(|| "preset gcs missing".to_owned());
    }
    // Per preset: rows read, and the reject that got furthest into its line.
    let mut stats: Vec<(&str, usize, Option<Furthest>)> = Vec::new();
    for (name, format) in compiled() {
        let mut parser = format.parser(None);
        let (mut rows, mut furthest) = (0, None::<Furthest>);
        for (n, line) in lines.iter().enumerate() {
            match parser.parse(line) {
                Parsed::Row(_) => rows += 1,
                Parsed::Skip => {}
                Parsed::Reject(r) => {
                    let at = r.at.unwrap_or(0);
                    if furthest.as_ref().is_none_or(|f| at > f.0) {
                        let reason = r.reason();
                        let detail = reason
                            .strip_prefix(&format!("{name}: ")[..])
                            .unwrap_or(reason);
                        furthest = Some((at, n + 1, detail.to_owned()));
                    }
                }
            }
        }
        stats.push((name, rows, furthest));
    }
    let rank = |name: &str| ORDER.iter().position(|n| *n == name).unwrap_or(ORDER.len());
    let best = stats
        .iter()
        .filter(|s| s.1 > 0)
        .max_by(|a, b| a.1.cmp(&b.1).then(rank(b.0).cmp(&rank(a.0))));
    if let Some((name, ..)) = best {
        return preset(name).ok_or_else(|| format!("preset {name} missing"));
    }

    // None fits: the closest is the one whose best line got furthest (PRESETS order on ties).
    let closest = stats
        .iter()
        .rev()
        .max_by_key(|s| s.2.as_ref().map_or(0, |f| f.0));
    match closest {
        Some((name, _, Some((_, n, detail)))) => Err(format!(
            "no known log format fits: closest is {name} (0 of {} lines), first mismatch in line {n}: {detail}",
            lines.len()
        )),
        _ => Err("no known log format fits".to_owned()),
    }
}
