//! uap-core's parsers compiled lazily. `ua-parser` compiles all ~1,200 regexes when it is
//! built (~70 ms of CPU, the largest fixed cost of a small run) though a run's agents reach
//! a few dozen of them. Here each parser is compiled, as a one-parser `ua-parser` extractor,
//! the first time an agent could match it, and tried in file order: the first that matches
//! gives the answer, as in `ua-parser` (whose extract is `Some` exactly when a regex matches).
//!
//! "Could match" comes from the strings a regex requires: clauses read from its syntax tree,
//! each a set of strings one of which every match contains (ASCII case-insensitively), found
//! in an agent by one Aho-Corasick pass. A parser without such a clause is always tried.
//! Clauses are read from the pattern before `ua-parser` rewrites `{0,N}` / `{1,N}` into
//! `*` / `+`, which keeps every required string; strings with non-ASCII bytes, whose other
//! case forms an ASCII-insensitive search would miss, are left out. A test checks the
//! answers against `ua-parser`'s own eager extractor on real agents.

use aho_corasick::AhoCorasick;
use regex_syntax::hir::{Class, Hir, HirKind};
use std::collections::HashMap;

/// One of uap-core's three parser lists.
pub trait Kind {
    type Parser;
    type Extractor;
    type Value;
    /// The regex and whether it ignores case.
    fn pattern(p: &Self::Parser) -> (&str, bool);
    fn build(p: Self::Parser) -> Self::Extractor;
    fn extract(e: &Self::Extractor, agent: &str) -> Option<Self::Value>;
}

const COMPILE: &str = "vendored uap-core regexes compile";

pub struct UserAgent;
impl Kind for UserAgent {
    type Parser = ua_parser::user_agent::Parser<'static>;
    type Extractor = ua_parser::user_agent::Extractor<'static>;
    /// Browser family and major version.
    type Value = (String, Option<String>);
    fn pattern(p: &Self::Parser) -> (&str, bool) {
        (&p.regex, false)
    }
    fn build(p: Self::Parser) -> Self::Extractor {
        let b = ua_parser::user_agent::Builder::new()
            .push(p)
            .expect(COMPILE);
        b.build().expect(COMPILE)
    }
    fn extract(e: &Self::Extractor, agent: &str) -> Option<Self::Value> {
        let v = e.extract(agent)?;
        Some((v.family.into_owned(), v.major.map(str::to_string)))
    }
}

pub struct Os;
impl Kind for Os {
    type Parser = ua_parser::os::Parser<'static>;
    type Extractor = ua_parser::os::Extractor<'static>;
    type Value = String;
    fn pattern(p: &Self::Parser) -> (&str, bool) {
        (&p.regex, false)
    }
    fn build(p: Self::Parser) -> Self::Extractor {
        let b = ua_parser::os::Builder::new().push(p).expect(COMPILE);
        b.build().expect(COMPILE)
    }
    fn extract(e: &Self::Extractor, agent: &str) -> Option<Self::Value> {
        e.extract(agent).map(|v| v.os.into_owned())
    }
}

pub struct Device;
impl Kind for Device {
    type Parser = ua_parser::device::Parser<'static>;
    type Extractor = ua_parser::device::Extractor<'static>;
    type Value = String;
    fn pattern(p: &Self::Parser) -> (&str, bool) {
        let ignore_case = p.regex_flag == Some(ua_parser::device::Flag::IgnoreCase);
        (&p.regex, ignore_case)
    }
    fn build(p: Self::Parser) -> Self::Extractor {
        let b = ua_parser::device::Builder::new().push(p).expect(COMPILE);
        b.build().expect(COMPILE)
    }
    fn extract(e: &Self::Extractor, agent: &str) -> Option<Self::Value> {
        e.extract(agent).map(|v| v.device.into_owned())
    }
}

enum Slot<K: Kind> {
    Pending(K::Parser),
    Built(K::Extractor),
    Building,
}

pub struct LazyParsers<K: Kind> {
    slots: Vec<Slot<K>>,
    /// Per parser, its clauses as ids of `strings`' patterns.
    clauses: Vec<Vec<Vec<u32>>>,
    strings: AhoCorasick,
    found: Vec<bool>,
}

impl<K: Kind> LazyParsers<K> {
    pub fn new(parsers: Vec<K::Parser>) -> Self {
        let mut ids: HashMap<Vec<u8>, u32> = HashMap::new();
        let mut strings: Vec<Vec<u8>> = Vec::new();
        let clauses = parsers
            .iter()
            .map(|p| {
                let (pattern, ignore_case) = K::pattern(p);
                required(pattern, ignore_case)
                    .into_iter()
                    .map(|clause| {
                        clause
                            .into_iter()
                            .map(|s| {
                                *ids.entry(s).or_insert_with_key(|s| {
                                    strings.push(s.clone());
                                    strings.len() as u32 - 1
                                })
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let found = vec![false; strings.len()];
        let strings = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&strings)
            .expect("required strings of uap-core regexes build a searcher");
        LazyParsers {
            slots: parsers.into_iter().map(Slot::Pending).collect(),
            clauses,
            strings,
            found,
        }
    }

    /// What the first parser (in file order) matching `agent` extracts.
    pub fn extract(&mut self, agent: &str) -> Option<K::Value> {
        self.found.fill(false);
        for m in self.strings.find_overlapping_iter(agent) {
            self.found[m.pattern().as_usize()] = true;
        }
        for i in 0..self.slots.len() {
            let possible = self.clauses[i]
                .iter()
                .all(|c| c.iter().any(|&s| self.found[s as usize]));
            if !possible {
                continue;
            }
            if let Slot::Pending(_) = self.slots[i] {
                let Slot::Pending(p) = std::mem::replace(&mut self.slots[i], Slot::Building) else {
                    unreachable!()
                };
                self.slots[i] = Slot::Built(K::build(p));
            }
            if let Slot::Built(e) = &self.slots[i]
                && let Some(v) = K::extract(e, agent)
            {
                return Some(v);
            }
        }
        None
    }

    /// Parsers compiled so far.
    #[cfg(test)]
    fn compiled(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| matches!(s, Slot::Built(_)))
            .count()
    }
}

/// Clauses of strings every match of `pattern` contains (one string of each clause, ASCII
/// case-insensitively); none when nothing is known.
fn required(pattern: &str, ignore_case: bool) -> Vec<Vec<Vec<u8>>> {
    // Without Unicode, `(?i)k` is `[Kk]`, which `exact` reads as the letter.
    let parsed = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .case_insensitive(ignore_case)
        .build()
        .parse(pattern);
    let Ok(hir) = parsed else {
        return Vec::new();
    };
    clauses(&hir)
        .into_iter()
        .filter(|c| !c.is_empty() && c.iter().all(|s| !s.is_empty() && s.is_ascii()))
        .collect()
}

/// The one byte a class matches, or the one ASCII letter in either case (lowercased).
fn class_byte(c: &Class) -> Option<u8> {
    let Class::Bytes(b) = c else {
        return None;
    };
    match b.ranges() {
        [one] if one.start() == one.end() => Some(one.start().to_ascii_lowercase()),
        [x, y]
            if x.start() == x.end()
                && y.start() == y.end()
                && x.start().is_ascii_alphabetic()
                && x.start().eq_ignore_ascii_case(&y.start()) =>
        {
            Some(x.start().to_ascii_lowercase())
        }
        _ => None,
    }
}

/// The one string (lowercased) `h` matches, if it matches only one.
fn exact(h: &Hir) -> Option<Vec<u8>> {
    match h.kind() {
        HirKind::Literal(l) => Some(l.0.to_ascii_lowercase()),
        HirKind::Class(c) => class_byte(c).map(|b| vec![b]),
        HirKind::Capture(c) => exact(&c.sub),
        HirKind::Concat(parts) => parts
            .iter()
            .map(exact)
            .collect::<Option<Vec<_>>>()
            .map(|v| v.concat()),
        _ => None,
    }
}

fn clauses(h: &Hir) -> Vec<Vec<Vec<u8>>> {
    if let Some(s) = exact(h) {
        return if s.is_empty() { vec![] } else { vec![vec![s]] };
    }
    match h.kind() {
        HirKind::Capture(c) => clauses(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => clauses(&r.sub),
        HirKind::Concat(parts) => {
            // Every part is required; adjacent exact parts make one longer string.
            let mut all = Vec::new();
            let mut run: Vec<u8> = Vec::new();
            for p in parts {
                match exact(p) {
                    Some(s) => run.extend(s),
                    None => {
                        if !run.is_empty() {
                            all.push(vec![std::mem::take(&mut run)]);
                        }
                        all.extend(clauses(p));
                    }
                }
            }
            if !run.is_empty() {
                all.push(vec![run]);
            }
            all
        }
        HirKind::Alternation(alternatives) => {
            // One alternative matches: the union of each one's most selective clause.
            let mut any = Vec::new();
            for a in alternatives {
                let best = clauses(a).into_iter().max_by_key(|c| {
                    let shortest = c.iter().map(Vec::len).min().unwrap_or(0);
                    (shortest, std::cmp::Reverse(c.len()))
                });
                match best {
                    Some(c) => any.extend(c),
                    None => return Vec::new(),
                }
            }
            vec![any]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(pattern: &str, ignore_case: bool) -> Vec<Vec<String>> {
        required(pattern, ignore_case)
            .into_iter()
            .map(|c| {
                c.into_iter()
                    .map(|s| String::from_utf8(s).unwrap())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn required_strings_of_patterns() {
        assert_eq!(strings(r"(Chrome)/(\d+)", false), [["chrome/"]]);
        assert_eq!(
            strings(
                r"; {0,2}(Acer |ACER )([^;/]{1,100}?)(?: Build|\) AppleWebKit)",
                false
            ),
            vec![
                vec![";"],
                vec!["acer ", "acer "],
                vec![" build", ") applewebkit"]
            ]
        );
        assert_eq!(strings(r"(?i)MSIE (\d+)", false), [["msie "]]);
        assert_eq!(strings(r"Nexus", true), [["nexus"]]);
        // Optional parts and open classes require nothing.
        assert!(strings(r"^(.*)", false).is_empty());
        assert_eq!(strings(r"^(.*)/(\d+)", false), [["/"]]);
        assert_eq!(strings(r"(?:Foo)?Bar", false), [["bar"]]);
        assert!(strings(r"(?:Foo|.+)Bar", false).contains(&vec!["bar".to_string()]));
        assert!(
            !strings(r"(?:Foo|.+)x", false)
                .iter()
                .any(|c| c.contains(&"foo".into()))
        );
        // Non-ASCII strings say nothing.
        assert!(strings("Ünï", true).is_empty());
    }

    /// Real agents: the 10,000 real log lines' and the crawler list's examples, the demo
    /// traffic's and a few more of today's browsers.
    fn real_agents() -> Vec<String> {
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/apache_logs");
        let log = std::fs::read(fixtures).expect("tests/fixtures/apache_logs");
        let mut agents: std::collections::BTreeSet<String> = String::from_utf8_lossy(&log)
            .lines()
            .filter_map(|l| {
                l.trim_end_matches('"')
                    .rsplit_once('"')
                    .map(|(_, a)| a.into())
            })
            .collect();
        #[derive(serde::Deserialize)]
        struct Crawler {
            #[serde(default)]
            instances: Vec<String>,
        }
        let crawlers: Vec<Crawler> =
            serde_json::from_str(include_str!("vendor/crawler-user-agents.json")).unwrap();
        agents.extend(crawlers.into_iter().flat_map(|c| c.instances));
        let demo = crate::generate::catalog::BROWSERS.iter();
        let demo = demo.chain(crate::generate::catalog::CRAWLERS);
        agents.extend(demo.map(|(agent, _)| agent.to_string()));
        agents.extend([
            "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36".into(),
            "Mozilla/5.0 (iPad; CPU OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.1 Mobile/15E148 Safari/604.1".into(),
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edge/44.18363.8131".into(),
            String::new(),
        ]);
        agents.into_iter().collect()
    }

    #[test]
    fn answers_equal_ua_parsers_eager_extractor_on_real_agents() {
        let yaml = include_str!("vendor/uap-regexes.yaml");
        let eager: ua_parser::Regexes<'static> = serde_yaml::from_str(yaml).unwrap();
        let eager = ua_parser::Extractor::try_from(eager).unwrap();
        let lazy: ua_parser::Regexes<'static> = serde_yaml::from_str(yaml).unwrap();
        let total =
            lazy.user_agent_parsers.len() + lazy.os_parsers.len() + lazy.device_parsers.len();
        let mut browsers = LazyParsers::<UserAgent>::new(lazy.user_agent_parsers);
        let mut systems = LazyParsers::<Os>::new(lazy.os_parsers);
        let mut devices = LazyParsers::<Device>::new(lazy.device_parsers);
        let agents = real_agents();
        assert!(agents.len() > 2_000, "{}", agents.len());
        let (mut phones, mut bots) = (0, 0);
        for agent in &agents {
            let (b, o, d) = eager.extract(agent);
            let b = b.map(|v| (v.family.into_owned(), v.major.map(str::to_string)));
            let o = o.map(|v| v.os.into_owned());
            let d = d.map(|v| v.device.into_owned());
            assert_eq!(browsers.extract(agent), b, "browser of {agent}");
            assert_eq!(systems.extract(agent), o, "OS of {agent}");
            phones += usize::from(d.as_deref().is_some_and(|d| d.starts_with("iPhone")));
            bots += usize::from(d.as_deref() == Some("Spider"));
            assert_eq!(devices.extract(agent), d, "device of {agent}");
        }
        // The comparison covered devices found, not only fall-throughs.
        assert!(
            phones > 10 && bots > 500,
            "{phones} iPhones, {bots} spiders"
        );
        let compiled = browsers.compiled() + systems.compiled() + devices.compiled();
        assert!(compiled < total, "{compiled} of {total} compiled");
    }
}
