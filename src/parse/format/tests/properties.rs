//! Property tests: the ported ones of the old parser, and random formats that must read back
//! the values they were rendered from.

use proptest::prelude::*;

use super::super::{Format, LogLine, MAX_LINE_BYTES, PRESETS, Parsed};
use super::{borrowed_from_line, days_from_civil};

use super::REAL_LINE as REAL;

/// What every accepted row must satisfy, whatever the format.
pub(super) fn check_row(line: &[u8], r: &LogLine<'_>) -> Result<(), TestCaseError> {
    prop_assert!(line.len() <= MAX_LINE_BYTES + 1);
    prop_assert!(
        borrowed_from_line(line, r),
        "a borrowed field is not part of the line"
    );
    prop_assert!(
        (super::super::time::MIN_MICROS..=super::super::time::MAX_MICROS)
            .contains(&r.time.micros_utc)
    );
    prop_assert!(r.time.local_hour <= 23);
    let (y, _, _) = super::super::civil_from_days(r.time.local_day);
    prop_assert!((1..=9999).contains(&y));
    if let Some(s) = r.status {
        prop_assert!((0..=999).contains(&s));
    }
    for v in [r.body_bytes_sent, r.request_length].into_iter().flatten() {
        prop_assert!(v >= 0);
    }
    if let Some(p) = r.server_port {
        prop_assert!((0..=65_535).contains(&p));
    }
    for t in [r.request_time, r.upstream_response_time]
        .into_iter()
        .flatten()
    {
        prop_assert!(t.is_finite() && t >= 0.0);
    }
    Ok(())
}

fn all_presets() -> Vec<Format> {
    PRESETS
        .iter()
        .map(|p| Format::compile(p).unwrap())
        .collect()
}

/// A field that is not `-` (which means NULL).
fn field() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9][a-zA-Z0-9/._~%-]{0,39}"
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, .. ProptestConfig::default() })]

    /// Arbitrary bytes under every preset: never a panic; a row holds together, a reject says why.
    #[test]
    fn any_bytes_parse_or_are_rejected(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        for format in all_presets() {
            match format.parser(None).parse(&bytes) {
                Parsed::Row(r) => check_row(&bytes, &r)?,
                Parsed::Reject(r) => prop_assert!(!r.reason().is_empty()),
                Parsed::Skip => {}
            }
        }
    }

    /// Mutations of a real line (the shape fuzzers find bugs in): never a panic, and the
    /// same answer twice.
    #[test]
    fn mutated_real_lines_never_panic(cuts in proptest::collection::vec((0usize..300, any::<u8>()), 0..8)) {
        let mut line = REAL.to_vec();
        for (at, byte) in cuts {
            let at = at % (line.len() + 1);
            if byte % 3 == 0 && at < line.len() { line.remove(at); } else { line.insert(at, byte); }
        }
        let format = Format::compile("combined").unwrap();
        let first = format.parser(None).parse(&line);
        if let Parsed::Row(r) = &first {
            check_row(&line, r)?;
        }
        prop_assert_eq!(first, format.parser(None).parse(&line));
    }

    /// Well-formed lines give their fields back.
    #[test]
    fn generated_lines_round_trip(
        a in 1u8..255, b in 0u8..255, path in field(), status in 100i32..600,
        bytes in 0i64..10_000_000_000, day in 1i32..29, hour in 0i32..24, agent in field()
    ) {
        let text = format!(
            "{a}.{b}.0.1 - - [{day:02}/Feb/2026:{hour:02}:00:00 +0000] \"GET /{path} HTTP/1.1\" {status} {bytes} \"-\" \"{agent}\""
        );
        let Parsed::Row(l) = Format::compile("combined").unwrap().parser(None).parse(text.as_bytes()) else {
            return Err(TestCaseError::fail(text));
        };
        let addr = format!("{a}.{b}.0.1");
        prop_assert_eq!(l.remote_addr.as_deref(), Some(addr.as_str()));
        let want_path = format!("/{path}");
        prop_assert_eq!(l.request_path.as_deref(), Some(want_path.as_str()));
        prop_assert_eq!(l.status, Some(status));
        prop_assert_eq!(l.body_bytes_sent, Some(bytes));
        prop_assert_eq!(l.http_user_agent.as_deref(), Some(agent.as_str()));
        prop_assert_eq!(l.time.local_day, days_from_civil(2026, 2, day));
        prop_assert_eq!(l.time.local_hour as i32, hour);
    }

    /// A file of arbitrary lines: each line is a row or a reject (never a skip, under a format
    /// with no directives), and a parser carries nothing from one line to the next.
    #[test]
    fn every_line_is_a_row_or_a_reject(
        lines in proptest::collection::vec(proptest::collection::vec(any::<u8>().prop_map(|b| if b == b'\n' { b' ' } else { b }), 0..120), 0..40)
    ) {
        let format = Format::compile("combined").unwrap();
        let mut file = format.parser(None);
        let (mut rows, mut rejects) = (0, 0);
        for line in &lines {
            let answer = file.parse(line);
            match &answer {
                Parsed::Row(_) => rows += 1,
                Parsed::Reject(_) => rejects += 1,
                Parsed::Skip => prop_assert!(false, "a skip under combined"),
            }
            prop_assert_eq!(&answer, &format.parser(None).parse(line));
        }
        prop_assert_eq!(rows + rejects, lines.len());
        prop_assert!(file.state().is_none());
    }
}

/// One field of a random format: how nginx and Apache spell it, and how a value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Addr,
    User,
    TimeLocal,
    TimeIso,
    Request,
    Status,
    Bytes,
    Referer,
    Agent,
    Host,
    Port,
    ReqTime,
    ReqLen,
    Xff,
    Ssl,
    Cache,
    Upstream,
}

const OPTIONAL: &[Kind] = &[
    Kind::Addr,
    Kind::User,
    Kind::Status,
    Kind::Bytes,
    Kind::Referer,
    Kind::Agent,
    Kind::Host,
    Kind::Port,
    Kind::ReqTime,
    Kind::ReqLen,
    Kind::Xff,
    Kind::Ssl,
    Kind::Cache,
    Kind::Upstream,
];

#[derive(Clone, Debug)]
struct Values {
    addr: [u8; 4],
    user: Option<String>,
    date: (i32, u32, u32),
    hms: (u32, u32, u32),
    offset_min: i32,
    method: &'static str,
    path: String,
    query: Option<String>,
    proto: &'static str,
    status: i32,
    bytes: i64,
    referer: Option<String>,
    /// The agent, and whether it carries a quote (written escaped).
    agent: (String, bool),
    host: String,
    port: i32,
    ms: u32,
    len: i64,
    xff: ([u8; 4], [u8; 4]),
    ssl: &'static str,
    cache: &'static str,
    upstream: (u32, u32),
}

fn values() -> impl Strategy<Value = Values> {
    let a = (
        any::<[u8; 4]>(),
        proptest::option::of("[a-z][a-z0-9._@]{0,11}"),
        (1970i32..2100, 1u32..13, 1u32..29),
        (0u32..24, 0u32..60, 0u32..60),
        -14 * 60..=14 * 60,
        prop::sample::select(vec!["GET", "POST", "HEAD", "PROPFIND"]),
        "(/[a-zA-Z0-9._~%-]{0,12}){1,3}",
        proptest::option::of("[a-z]{1,5}=[a-zA-Z0-9%]{0,8}(&[a-z]{1,3}=[0-9]{1,3})?"),
        prop::sample::select(vec!["HTTP/1.0", "HTTP/1.1", "HTTP/2.0"]),
        100i32..600,
    );
    let b = (
        0i64..1_000_000_000_000_000,
        proptest::option::of("https?://[a-z]{1,10}\\.example/[a-z0-9/]{0,10}"),
        ("[A-Za-z][A-Za-z0-9/.;:() _-]{0,40}", any::<bool>()),
        "[a-z]{1,10}\\.example",
        1i32..65_536,
        0u32..100_000,
        0i64..1_000_000_000,
        (any::<[u8; 4]>(), any::<[u8; 4]>()),
        prop::sample::select(vec!["TLSv1.2", "TLSv1.3"]),
        prop::sample::select(vec!["HIT", "MISS", "EXPIRED"]),
        (0u32..5000, 0u32..5000),
    );
    (a, b).prop_map(|(a, b)| Values {
        addr: a.0,
        user: a.1,
        date: a.2,
        hms: a.3,
        offset_min: a.4,
        method: a.5,
        path: a.6,
        query: a.7,
        proto: a.8,
        status: a.9,
        bytes: b.0,
        referer: b.1,
        agent: (b.2.0.trim_end().to_owned() + "x", b.2.1),
        host: b.3,
        port: b.4,
        ms: b.5,
        len: b.6,
        xff: b.7,
        ssl: b.8,
        cache: b.9,
        upstream: b.10,
    })
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn ip(a: [u8; 4]) -> String {
    format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
}

impl Values {
    fn target(&self) -> String {
        match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        }
    }

    fn offset(&self, colon: bool) -> String {
        let sign = if self.offset_min < 0 { '-' } else { '+' };
        let m = self.offset_min.abs();
        if colon {
            format!("{sign}{:02}:{:02}", m / 60, m % 60)
        } else {
            format!("{sign}{:02}{:02}", m / 60, m % 60)
        }
    }

    /// (nginx spec, Apache spec or None, the value as written).
    fn render(
        &self,
        k: Kind,
        apache_escapes: bool,
    ) -> (&'static str, Option<&'static str>, String) {
        let (y, mo, d) = self.date;
        let (h, mi, s) = self.hms;
        let agent = if self.agent.1 {
            let q = if apache_escapes { "\\\"" } else { "\\x22" };
            format!("{} {q}q{q}", self.agent.0)
        } else {
            self.agent.0.clone()
        };
        match k {
            Kind::Addr => ("$remote_addr", Some("%h"), ip(self.addr)),
            Kind::User => (
                "$remote_user",
                Some("%u"),
                self.user.clone().unwrap_or_else(|| "-".into()),
            ),
            Kind::TimeLocal => (
                "[$time_local]",
                Some("%t"),
                format!(
                    "[{d:02}/{}/{y:04}:{h:02}:{mi:02}:{s:02} {}]",
                    MONTHS[mo as usize - 1],
                    self.offset(false)
                ),
            ),
            Kind::TimeIso => (
                "$time_iso8601",
                Some("%{%Y-%m-%dT%H:%M:%S%z}t"),
                format!(
                    "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{}",
                    self.offset(!apache_escapes)
                ),
            ),
            Kind::Request => (
                "\"$request\"",
                Some("\"%r\""),
                format!("\"{} {} {}\"", self.method, self.target(), self.proto),
            ),
            Kind::Status => ("$status", Some("%>s"), self.status.to_string()),
            Kind::Bytes => ("$body_bytes_sent", Some("%B"), self.bytes.to_string()),
            Kind::Referer => (
                "\"$http_referer\"",
                Some("\"%{Referer}i\""),
                format!("\"{}\"", self.referer.clone().unwrap_or_else(|| "-".into())),
            ),
            Kind::Agent => (
                "\"$http_user_agent\"",
                Some("\"%{User-agent}i\""),
                format!("\"{agent}\""),
            ),
            Kind::Host => ("$host", Some("%v"), self.host.clone()),
            Kind::Port => ("$server_port", Some("%p"), self.port.to_string()),
            Kind::ReqTime if apache_escapes => {
                ("", Some("%D"), (self.ms as u64 * 1000).to_string())
            }
            Kind::ReqTime => (
                "$request_time",
                None,
                format!("{}.{:03}", self.ms / 1000, self.ms % 1000),
            ),
            Kind::ReqLen => ("$request_length", Some("%I"), self.len.to_string()),
            Kind::Xff => (
                "\"$http_x_forwarded_for\"",
                Some("\"%{X-Forwarded-For}i\""),
                format!("\"{}, {}\"", ip(self.xff.0), ip(self.xff.1)),
            ),
            Kind::Ssl => (
                "$ssl_protocol",
                Some("%{SSL_PROTOCOL}e"),
                self.ssl.to_owned(),
            ),
            Kind::Cache => ("$upstream_cache_status", None, self.cache.to_owned()),
            Kind::Upstream => (
                "$upstream_response_time",
                None,
                format!(
                    "{}.{:03}, {}.{:03}",
                    self.upstream.0 / 1000,
                    self.upstream.0 % 1000,
                    self.upstream.1 / 1000,
                    self.upstream.1 % 1000
                ),
            ),
        }
    }

    fn check(&self, k: Kind, r: &LogLine<'_>) -> Result<(), TestCaseError> {
        let close = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() < 1e-9);
        match k {
            Kind::Addr => {
                let want = ip(self.addr);
                prop_assert_eq!(r.remote_addr.as_deref(), Some(want.as_str()));
            }
            Kind::User => prop_assert_eq!(r.remote_user.as_deref(), self.user.as_deref()),
            Kind::TimeLocal | Kind::TimeIso => {
                let (y, mo, d) = self.date;
                let (h, mi, s) = self.hms;
                let day = days_from_civil(y, mo as i32, d as i32);
                let local = day as i64 * 86_400 + (h * 3600 + mi * 60 + s) as i64;
                prop_assert_eq!(
                    r.time.micros_utc,
                    (local - self.offset_min as i64 * 60) * 1_000_000
                );
                prop_assert_eq!((r.time.local_day, r.time.local_hour as u32), (day, h));
            }
            Kind::Request => {
                prop_assert_eq!(r.request_method.as_deref(), Some(self.method));
                let want = self.target();
                prop_assert_eq!(r.request_path.as_deref(), Some(want.as_str()));
                prop_assert_eq!(r.request_protocol.as_deref(), Some(self.proto));
            }
            Kind::Status => prop_assert_eq!(r.status, Some(self.status)),
            Kind::Bytes => prop_assert_eq!(r.body_bytes_sent, Some(self.bytes)),
            Kind::Referer => prop_assert_eq!(r.http_referer.as_deref(), self.referer.as_deref()),
            Kind::Agent => {
                let want = if self.agent.1 {
                    format!("{} \"q\"", self.agent.0)
                } else {
                    self.agent.0.clone()
                };
                prop_assert_eq!(r.http_user_agent.as_deref(), Some(want.as_str()));
            }
            Kind::Host => prop_assert_eq!(r.vhost.as_deref(), Some(self.host.as_str())),
            Kind::Port => prop_assert_eq!(r.server_port, Some(self.port)),
            Kind::ReqTime => prop_assert!(
                close(r.request_time, self.ms as f64 / 1000.0),
                "{:?}",
                r.request_time
            ),
            Kind::ReqLen => prop_assert_eq!(r.request_length, Some(self.len)),
            Kind::Xff => {
                let want = format!("{}, {}", ip(self.xff.0), ip(self.xff.1));
                prop_assert_eq!(r.x_forwarded_for.as_deref(), Some(want.as_str()));
            }
            Kind::Ssl => prop_assert_eq!(r.ssl_protocol.as_deref(), Some(self.ssl)),
            Kind::Cache => prop_assert_eq!(r.cache_status.as_deref(), Some(self.cache)),
            Kind::Upstream => prop_assert!(close(
                r.upstream_response_time,
                (self.upstream.0 + self.upstream.1) as f64 / 1000.0
            )),
        }
        Ok(())
    }
}

/// A random format: a time, the request, and some other fields in a random order.
fn layout(apache: bool) -> impl Strategy<Value = (Vec<Kind>, Vec<&'static str>)> {
    let optional: Vec<Kind> = OPTIONAL
        .iter()
        .copied()
        .filter(|k| !apache || !matches!(k, Kind::Cache | Kind::Upstream))
        .collect();
    (
        prop::sample::subsequence(optional, 0..=8),
        prop::sample::select(vec![Kind::TimeLocal, Kind::TimeIso]),
        prop::collection::vec(prop::sample::select(vec![" ", " | ", " - ", "\t"]), 12),
    )
        .prop_flat_map(|(mut kinds, time, seps)| {
            kinds.push(time);
            kinds.push(Kind::Request);
            (Just(kinds).prop_shuffle(), Just(seps))
        })
}

fn round_trip(
    apache: bool,
    kinds: &[Kind],
    seps: &[&str],
    v: &Values,
) -> Result<(), TestCaseError> {
    let (mut spec, mut line) = (String::new(), String::new());
    for (i, &k) in kinds.iter().enumerate() {
        let (nginx, apache_spec, written) = v.render(k, apache);
        if i > 0 {
            spec.push_str(seps[i]);
            line.push_str(seps[i]);
        }
        spec.push_str(if apache {
            apache_spec.unwrap_or("")
        } else {
            nginx
        });
        line.push_str(&written);
    }
    let format = Format::compile(&spec).map_err(TestCaseError::fail)?;
    prop_assert_eq!(
        format.name(),
        if apache {
            "apache LogFormat"
        } else {
            "nginx log_format"
        }
    );
    match format.parser(None).parse(line.as_bytes()) {
        Parsed::Row(r) => {
            check_row(line.as_bytes(), &r)?;
            for &k in kinds {
                v.check(k, &r).map_err(|e| {
                    TestCaseError::fail(format!("{k:?}: {e}\n  format: {spec}\n  line:   {line}"))
                })?;
            }
        }
        other => {
            return Err(TestCaseError::fail(format!(
                "{other:?}\n  format: {spec}\n  line:   {line}"
            )));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, .. ProptestConfig::default() })]

    #[test]
    fn random_nginx_formats_read_back_their_values((kinds, seps) in layout(false), v in values()) {
        round_trip(false, &kinds, &seps, &v)?;
    }

    #[test]
    fn random_apache_formats_read_back_their_values((kinds, seps) in layout(true), v in values()) {
        round_trip(true, &kinds, &seps, &v)?;
    }
}

/// A request line's parts as the generated lines write them.
fn request_parts() -> impl Strategy<Value = (&'static str, String, &'static str)> {
    (
        prop::sample::select(vec!["GET", "POST", "HEAD", "PUT", "OPTIONS"]),
        "(/[a-zA-Z0-9._~%-]{0,12}){1,3}(\\?[a-z]{1,5}=[a-zA-Z0-9%]{0,8})?",
        prop::sample::select(vec!["HTTP/1.0", "HTTP/1.1", "HTTP/2.0"]),
    )
}

fn close_to(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3_000, .. ProptestConfig::default() })]

    /// HAProxy httplog lines rendered from random values, behind each kind of syslog header,
    /// with 0, 1 or 2 blocks of captured headers: every value read back.
    #[test]
    fn haproxy_lines_read_back_their_values(
        (addr, port) in (any::<[u8; 4]>(), any::<u16>()),
        (y, mo, d) in (1970i32..2100, 1u32..13, 1u32..29),
        (h, mi, sec, ms) in (0u32..24, 0u32..60, 0u32..60, proptest::option::of(0u32..1000)),
        frontend in "[a-z][a-z0-9_-]{0,10}~?",
        backend in "[a-z][a-z0-9_-]{0,8}/([a-z0-9]{1,8}|<NOSRV>)",
        early in proptest::collection::vec(proptest::option::of(0u32..100_000), 4),
        (ta, logasap) in (0u32..10_000_000, any::<bool>()),
        status in proptest::option::of(100i32..600),
        bytes in 0i64..1_000_000_000_000,
        (cookie, term) in ("-|[a-zA-Z0-9]{1,8}=[a-zA-Z0-9]{0,8}", "[-A-Za-z]{4}"),
        conns in proptest::collection::vec(0u32..100_000, 7),
        blocks in proptest::collection::vec("[a-zA-Z0-9 ./:|#-]{0,24}", 0..=2),
        request in proptest::option::of(request_parts()),
        prefix in 0usize..4,
    ) {
        let ip_text = ip(addr);
        let month = MONTHS[mo as usize - 1];
        let frac = ms.map_or(String::new(), |ms| format!(".{ms:03}"));
        let timer = |t: Option<u32>| t.map_or("-1".to_owned(), |t| t.to_string());
        let timers = format!(
            "{}/{}/{}/{}/{}{ta}",
            timer(early[0]), timer(early[1]), timer(early[2]), timer(early[3]),
            if logasap { "+" } else { "" }
        );
        let blocks: String = blocks.iter().map(|b| format!("{{{b}}} ")).collect();
        let request_text = match &request {
            Some((m, p, v)) => format!("{m} {p} {v}"),
            None => "<BADREQ>".to_owned(),
        };
        let message = format!(
            "{ip_text}:{port} [{d:02}/{month}/{y:04}:{h:02}:{mi:02}:{sec:02}{frac}] {frontend} {backend} {timers} {} {}{bytes} {cookie} - {term} {}/{}/{}/{}/{} {}/{} {blocks}\"{request_text}\"",
            status.map_or("-1".to_owned(), |s| s.to_string()),
            if logasap { "+" } else { "" },
            conns[0], conns[1], conns[2], conns[3], conns[4], conns[5], conns[6],
        );
        let line = match prefix {
            0 => message,
            1 => format!("Feb  6 12:14:14 lb-{} haproxy[{port}]: {message}", addr[0]),
            2 => format!("<134>1 2009-02-06T12:14:14.655+01:00 lb haproxy {port} - - {message}"),
            _ => format!("haproxy[{port}]: {message}"),
        };
        let Parsed::Row(r) = Format::compile("haproxy").unwrap().parser(None).parse(line.as_bytes()) else {
            return Err(TestCaseError::fail(line));
        };
        check_row(line.as_bytes(), &r)?;
        prop_assert_eq!(r.remote_addr.as_deref(), Some(ip_text.as_str()));
        let day = days_from_civil(y, mo as i32, d as i32);
        let local = day as i64 * 86_400 + (h * 3600 + mi * 60 + sec) as i64;
        prop_assert_eq!(r.time.micros_utc, local * 1_000_000 + ms.unwrap_or(0) as i64 * 1000);
        prop_assert_eq!((r.time.local_day, r.time.local_hour as u32), (day, h));
        prop_assert!(close_to(r.request_time, ta as f64 / 1000.0), "{:?}", r.request_time);
        match early[3] {
            Some(tr) => prop_assert!(close_to(r.upstream_response_time, tr as f64 / 1000.0)),
            None => prop_assert_eq!(r.upstream_response_time, None),
        }
        prop_assert_eq!(r.status, status);
        prop_assert_eq!(r.body_bytes_sent, Some(bytes));
        match &request {
            Some((m, p, v)) => {
                prop_assert_eq!(r.request_method.as_deref(), Some(*m));
                prop_assert_eq!(r.request_path.as_deref(), Some(p.as_str()));
                prop_assert_eq!(r.request_protocol.as_deref(), Some(*v));
            }
            None => prop_assert_eq!(
                (r.request_method.as_deref(), r.request_path.as_deref()),
                (None, None)
            ),
        }
        prop_assert_eq!(r.vhost.as_deref(), None);
    }

    /// Squid native lines from random values (CONNECT tunnels among them): read back.
    #[test]
    fn squid_lines_read_back_their_values(
        (secs, ms) in (0i64..4_000_000_000, 0u32..1000),
        elapsed in 0u32..100_000_000,
        addr in any::<[u8; 4]>(),
        code in prop::sample::select(vec!["TCP_MISS", "TCP_HIT", "TCP_MEM_HIT", "TCP_DENIED", "TCP_TUNNEL", "TCP_REFRESH_UNMODIFIED"]),
        status in proptest::option::of(100i32..600),
        bytes in 0i64..1_000_000_000_000,
        (method, path, _) in request_parts(),
        connect in any::<bool>(),
        host in "[a-z]{1,10}(\\.[a-z]{2,5}){1,2}",
        port in 1i32..65_536,
        user in proptest::option::of("[a-z][a-z0-9._@]{0,10}"),
        peer in prop::sample::select(vec!["HIER_DIRECT/93.184.215.14", "HIER_NONE/-", "DIRECT/2600:1407:b800::6872:4fd0", "FIRSTUP_PARENT/10.0.0.1"]),
        mime in prop::sample::select(vec!["-", "text/html", "application/json;charset=utf-8"]),
    ) {
        let (method, url) = if connect {
            ("CONNECT", format!("{host}:{port}"))
        } else {
            (method, format!("http://{host}{path}"))
        };
        let line = format!(
            "{secs}.{ms:03} {elapsed:>6} {} {code}/{} {bytes} {method} {url} {} {peer} {mime}",
            ip(addr),
            status.map_or("000".to_owned(), |s| s.to_string()),
            user.as_deref().unwrap_or("-"),
        );
        let Parsed::Row(r) = Format::compile("squid").unwrap().parser(None).parse(line.as_bytes()) else {
            return Err(TestCaseError::fail(line));
        };
        check_row(line.as_bytes(), &r)?;
        prop_assert_eq!(r.time.micros_utc, secs * 1_000_000 + ms as i64 * 1000);
        prop_assert!(close_to(r.request_time, elapsed as f64 / 1000.0));
        let want_addr = ip(addr);
        prop_assert_eq!(r.remote_addr.as_deref(), Some(want_addr.as_str()));
        prop_assert_eq!(r.cache_status.as_deref(), Some(code));
        prop_assert_eq!(r.status, status);
        prop_assert_eq!(r.body_bytes_sent, Some(bytes));
        prop_assert_eq!(r.request_method.as_deref(), Some(method));
        prop_assert_eq!(r.vhost.as_deref(), Some(host.as_str()));
        if connect {
            prop_assert_eq!(r.request_path.as_deref(), Some(url.as_str()));
            prop_assert_eq!(r.server_port, Some(port));
        } else {
            prop_assert_eq!(r.request_path.as_deref(), Some(path.as_str()));
            prop_assert_eq!(r.server_port, None);
        }
        prop_assert_eq!(r.remote_user.as_deref(), user.as_deref());
    }

    /// GCS usage-log rows, every value quoted (quotes inside doubled, commas kept), with and
    /// without the header row before them: read back.
    #[test]
    fn gcs_rows_read_back_their_values(
        micros in 0i64..4_000_000_000_000_000,
        addr in any::<[u8; 4]>(),
        (method, uri, _) in request_parts(),
        status in 100i32..600,
        (cs_bytes, sc_bytes) in (0i64..1_000_000_000_000, 0i64..1_000_000_000_000),
        taken in 0u64..1_000_000_000,
        host in "[a-z]{1,10}\\.(dev|com|example)",
        referer in proptest::option::of("https?://[a-z]{1,8}\\.example/[a-z0-9,\"/ ]{0,12}"),
        agent in "[A-Za-z][A-Za-z0-9/.;:(), \"_-]{0,40}",
        header in any::<bool>(),
    ) {
        let q = |v: &str| format!("\"{}\"", v.replace('"', "\"\""));
        let fields = [
            micros.to_string(), ip(addr), "1".into(), String::new(), method.into(), uri.clone(),
            status.to_string(), cs_bytes.to_string(), sc_bytes.to_string(), taken.to_string(),
            host.clone(), referer.clone().unwrap_or_default(), agent.clone(), "ADPycdu".into(),
            "GET_Object".into(), host.clone(), uri.trim_start_matches('/').into(),
        ];
        let line: Vec<String> = fields.iter().map(|f| q(f)).collect();
        let line = line.join(",");
        let format = Format::compile("gcs").unwrap();
        let mut parser = format.parser(None);
        if header {
            prop_assert_eq!(parser.parse(super::presets::GCS_HEADER.as_bytes()), Parsed::Skip);
        }
        let Parsed::Row(r) = parser.parse(line.as_bytes()) else {
            return Err(TestCaseError::fail(line));
        };
        check_row(line.as_bytes(), &r)?;
        prop_assert_eq!(r.time.micros_utc, micros);
        let want_addr = ip(addr);
        prop_assert_eq!(r.remote_addr.as_deref(), Some(want_addr.as_str()));
        prop_assert_eq!(r.request_method.as_deref(), Some(method));
        prop_assert_eq!(r.request_path.as_deref(), Some(uri.as_str()));
        prop_assert_eq!(r.status, Some(status));
        prop_assert_eq!((r.request_length, r.body_bytes_sent), (Some(cs_bytes), Some(sc_bytes)));
        prop_assert!(close_to(r.request_time, taken as f64 / 1e6), "{:?}", r.request_time);
        prop_assert_eq!(r.vhost.as_deref(), Some(host.as_str()));
        prop_assert_eq!(r.http_referer.as_deref(), referer.as_deref());
        prop_assert_eq!(r.http_user_agent.as_deref(), Some(agent.as_str()));
    }
}

/// An address as servers write one: IPv4, or IPv6 in its compressed form (`2001:db8::1`).
fn any_addr() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(ip),
        any::<[u16; 8]>().prop_map(|s| std::net::Ipv6Addr::from(s).to_string()),
    ]
}

/// A user agent as clients send one: spaces, punctuation, non-ASCII letters, and a quoted word
/// (the formats below write it as it came, unescaped) with up to two words after it.
fn any_agent() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9 /.;:(),_é日本🦀-]{0,30}( \"[A-Za-z0-9é][A-Za-z0-9 ]{0,9}\")?( [A-Za-z0-9/.;()é-]{1,12}){0,2}"
}

/// Seconds since 1970 for a civil date and time of day (UTC).
fn epoch_seconds((y, mo, d): (i32, u32, u32), (h, mi, s): (u32, u32, u32)) -> i64 {
    days_from_civil(y, mo as i32, d as i32) as i64 * 86_400 + (h * 3600 + mi * 60 + s) as i64
}

/// A string as Go's encoding/json writes it (Traefik logs through logrus' JSONFormatter):
/// `"` and `\` escaped, control characters as `\n` `\r` `\t` or `\u00XX`, U+2028/U+2029
/// escaped, and with HTML escaping (logrus' default) `<`, `>` and `&` as `\u003c`….
fn go_json(s: &str, html: bool) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' if html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3_000, .. ProptestConfig::default() })]

    /// Classic ELB lines from random values: HTTP and HTTPS listeners (an absolute URL in the
    /// request) and TCP ones (`"- - - "`), `-1` times and `-` statuses where no backend
    /// answered, and the older lines that end after the request or after the user agent.
    #[test]
    fn aws_elb_lines_read_back_their_values(
        (client, bracketed, client_port) in (any_addr(), any::<bool>(), any::<u16>()),
        (date, hms, micros) in ((1970i32..2100, 1u32..13, 1u32..29), (0u32..24, 0u32..60, 0u32..60), 0u32..1_000_000),
        elb in "[a-z][a-z0-9-]{0,20}",
        backend in proptest::option::of((any::<[u8; 4]>(), any::<u16>())),
        times in proptest::collection::vec(proptest::option::of(0u64..100_000_000), 3),
        (status, backend_status) in (proptest::option::of(100i32..600), proptest::option::of(100i32..600)),
        (received, sent) in (0i64..1_000_000_000_000, 0i64..1_000_000_000_000),
        request in proptest::option::of((
            prop::sample::select(vec!["GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS"]),
            prop::sample::select(vec!["http", "https"]),
            "[a-z]{1,10}(\\.[a-z]{2,8}){1,2}|[0-9]{1,3}(\\.[0-9]{1,3}){3}",
            1i32..65_536,
            "(/[a-zA-Z0-9._~%!$&'()*+,;=:@\"é-]{0,12}){1,3}(\\?[a-z]{1,5}=[a-zA-Z0-9%\"<>é]{0,8})?",
            prop::sample::select(vec!["HTTP/1.0", "HTTP/1.1"]),
        )),
        agent in proptest::option::of(any_agent()),
        tls in proptest::option::of((
            prop::sample::select(vec!["ECDHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES128-SHA", "AES256-SHA"]),
            prop::sample::select(vec!["TLSv1", "TLSv1.1", "TLSv1.2"]),
        )),
        ends in 0usize..3,
    ) {
        let client_text = if bracketed && client.contains(':') {
            format!("[{client}]:{client_port}")
        } else {
            format!("{client}:{client_port}")
        };
        let (y, mo, d) = date;
        let (h, mi, s) = hms;
        let seconds = |t: Option<u64>| t.map_or("-1".to_owned(), |t| format!("{}.{:06}", t / 1_000_000, t % 1_000_000));
        let code = |c: Option<i32>| c.map_or("-".to_owned(), |c| c.to_string());
        let request_text = match &request {
            Some((m, scheme, host, port, path, proto)) => format!("{m} {scheme}://{host}:{port}{path} {proto}"),
            None => "- - - ".to_owned(),
        };
        let mut line = format!(
            "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{micros:06}Z {elb} {client_text} {} {} {} {} {} {} {received} {sent} \"{request_text}\"",
            backend.map_or("-".to_owned(), |(a, p)| format!("{}:{p}", ip(a))),
            seconds(times[0]), seconds(times[1]), seconds(times[2]),
            code(status), code(backend_status),
        );
        if ends > 0 {
            line.push_str(&format!(" \"{}\"", agent.as_deref().unwrap_or("-")));
        }
        if ends > 1 {
            let (cipher, proto) = tls.unwrap_or(("-", "-"));
            line.push_str(&format!(" {cipher} {proto}"));
        }
        let Parsed::Row(r) = Format::compile("aws-elb").unwrap().parser(None).parse(line.as_bytes()) else {
            return Err(TestCaseError::fail(line));
        };
        check_row(line.as_bytes(), &r)?;
        prop_assert_eq!(r.remote_addr.as_deref(), Some(client.as_str()));
        prop_assert_eq!(r.time.micros_utc, epoch_seconds(date, hms) * 1_000_000 + micros as i64);
        let total: Option<u64> = times.iter().flatten().copied().reduce(|a, b| a + b);
        match total {
            Some(t) => prop_assert!(close_to(r.request_time, t as f64 / 1e6), "{:?}", r.request_time),
            None => prop_assert_eq!(r.request_time, None),
        }
        match times[1] {
            Some(t) => prop_assert!(close_to(r.upstream_response_time, t as f64 / 1e6)),
            None => prop_assert_eq!(r.upstream_response_time, None),
        }
        prop_assert_eq!(r.status, status);
        prop_assert_eq!((r.request_length, r.body_bytes_sent), (Some(received), Some(sent)));
        match &request {
            Some((m, _, host, port, path, proto)) => {
                prop_assert_eq!(r.request_method.as_deref(), Some(*m));
                prop_assert_eq!(r.request_path.as_deref(), Some(path.as_str()));
                prop_assert_eq!(r.request_protocol.as_deref(), Some(*proto));
                prop_assert_eq!(r.vhost.as_deref(), Some(host.as_str()));
                prop_assert_eq!(r.server_port, Some(*port));
            }
            None => {
                prop_assert_eq!(
                    (r.request_method.as_deref(), r.request_path.as_deref(), r.request_protocol.as_deref()),
                    (None, None, None)
                );
                prop_assert_eq!((r.vhost.as_deref(), r.server_port), (None, None));
            }
        }
        let want_agent = if ends > 0 { agent.as_deref() } else { None };
        prop_assert_eq!(r.http_user_agent.as_deref(), want_agent);
        let want_tls = if ends > 1 { tls.map(|(_, p)| p) } else { None };
        prop_assert_eq!(r.ssl_protocol.as_deref(), want_tls);
        prop_assert_eq!((r.remote_user.as_deref(), r.http_referer.as_deref()), (None, None));
    }

    /// S3 server access log lines from random values, cut after the user agent or any field
    /// S3 added later (2012's 18 fields up to today's 26): `-` for no bytes is 0, other `-`s are
    /// NULL; lifecycle operations log the request as `"-"`.
    #[test]
    fn aws_s3_lines_read_back_their_values(
        owner in "[0-9a-f]{64}",
        bucket in "[a-z0-9][a-z0-9.-]{2,20}",
        (date, hms) in ((1970i32..2100, 1u32..13, 1u32..29), (0u32..24, 0u32..60, 0u32..60)),
        addr in any_addr(),
        requester in "-|[0-9a-f]{64}|arn:aws:iam::[0-9]{12}:user/[a-z.]{1,12}|svc:[a-z]{1,10}\\.amazonaws\\.com",
        (request_id, operation) in ("[0-9A-F]{16}", "(REST|WEBSITE|BATCH|S3)\\.(GET|PUT|HEAD|DELETE|COPY)\\.(OBJECT|BUCKET|ACL|VERSIONING)"),
        key in "-|[a-zA-Z0-9/._~!*'()%+-]{1,24}",
        request in proptest::option::of((
            prop::sample::select(vec!["GET", "PUT", "HEAD", "POST", "DELETE"]),
            "(/[a-zA-Z0-9._~%!$&'()*+,;=:@\"é-]{0,12}){1,3}(\\?[a-z-]{1,10}(=[a-zA-Z0-9%\"é]{0,8})?)?",
            prop::sample::select(vec!["HTTP/1.0", "HTTP/1.1"]),
        )),
        (status, error_code) in (proptest::option::of(100i32..600), "-|NoSuchKey|AccessDenied|SlowDown"),
        (bytes, object_size) in (0i64..1_000_000_000_000, proptest::option::of(0i64..1_000_000_000_000)),
        (total_ms, turnaround_ms) in (proptest::option::of(0u32..10_000_000), proptest::option::of(0u32..10_000_000)),
        referer in proptest::option::of("https?://[a-z]{1,10}\\.example/[a-zA-Z0-9/?=&%é]{0,12}"),
        agent in proptest::option::of(any_agent()),
        later in (
            "-|[A-Za-z0-9._]{32}",
            "[A-Za-z0-9+/]{20,76}=",
            prop::sample::select(vec!["SigV2", "SigV4", "-"]),
            prop::sample::select(vec!["ECDHE-RSA-AES128-GCM-SHA256", "-"]),
            prop::sample::select(vec!["AuthHeader", "QueryString", "-"]),
            proptest::option::of("[a-z0-9.-]{3,20}\\.s3(\\.[a-z]{2}-[a-z]{4,7}-[1-3])?\\.amazonaws\\.com"),
            proptest::option::of(prop::sample::select(vec!["TLSv1.2", "TLSV1.2", "TLSv1.3"])),
            "-|arn:aws:s3:[a-z]{2}-[a-z]{4,7}-[1-3]:[0-9]{12}:accesspoint/[a-z-]{1,12}",
            prop::sample::select(vec!["Yes", "-"]),
        ),
        fields_after_agent in 0usize..=9,
    ) {
        let (y, mo, d) = date;
        let (h, mi, s) = hms;
        let dash = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
        let request_text = match &request {
            Some((m, p, v)) => format!("{m} {p} {v}"),
            None => "-".to_owned(),
        };
        // "Bytes Sent: … or - if zero."
        let bytes_text = if bytes == 0 { "-".to_owned() } else { bytes.to_string() };
        let mut line = format!(
            "{owner} {bucket} [{d:02}/{}/{y:04}:{h:02}:{mi:02}:{s:02} +0000] {addr} {requester} {request_id} {operation} {key} \"{request_text}\" {} {error_code} {bytes_text} {} {} {} \"{}\" \"{}\"",
            MONTHS[mo as usize - 1],
            dash(status.map(|s| s.to_string())),
            dash(object_size.map(|n| n.to_string())),
            dash(total_ms.map(|t| t.to_string())),
            dash(turnaround_ms.map(|t| t.to_string())),
            dash(referer.clone()),
            dash(agent.clone()),
        );
        let (version, host_id, sig, cipher, auth, host, tls, access_point, acl) = &later;
        let host_text = dash(host.clone());
        let later_text = [
            version.as_str(), host_id.as_str(), sig, cipher, auth, host_text.as_str(),
            tls.unwrap_or("-"), access_point.as_str(), acl,
        ];
        for field in &later_text[..fields_after_agent] {
            line.push(' ');
            line.push_str(field);
        }
        let Parsed::Row(r) = Format::compile("aws-s3").unwrap().parser(None).parse(line.as_bytes()) else {
            return Err(TestCaseError::fail(line));
        };
        check_row(line.as_bytes(), &r)?;
        prop_assert_eq!(r.time.micros_utc, epoch_seconds(date, hms) * 1_000_000);
        prop_assert_eq!(r.remote_addr.as_deref(), Some(addr.as_str()));
        match &request {
            Some((m, p, v)) => {
                prop_assert_eq!(r.request_method.as_deref(), Some(*m));
                prop_assert_eq!(r.request_path.as_deref(), Some(p.as_str()));
                prop_assert_eq!(r.request_protocol.as_deref(), Some(*v));
            }
            None => prop_assert_eq!(
                (r.request_method.as_deref(), r.request_path.as_deref(), r.request_protocol.as_deref()),
                (None, None, None)
            ),
        }
        prop_assert_eq!(r.status, status);
        prop_assert_eq!(r.body_bytes_sent, Some(bytes));
        match total_ms {
            Some(t) => prop_assert!(close_to(r.request_time, t as f64 / 1000.0), "{:?}", r.request_time),
            None => prop_assert_eq!(r.request_time, None),
        }
        prop_assert_eq!(r.http_referer.as_deref(), referer.as_deref());
        prop_assert_eq!(r.http_user_agent.as_deref(), agent.as_deref());
        let want_host = if fields_after_agent > 5 { host.as_deref() } else { None };
        prop_assert_eq!(r.vhost.as_deref(), want_host);
        let want_tls = if fields_after_agent > 6 { *tls } else { None };
        prop_assert_eq!(r.ssl_protocol.as_deref(), want_tls);
        prop_assert_eq!((r.remote_user.as_deref(), r.request_length, r.server_port), (None, None, None));
    }

    /// Traefik JSON access-log lines from random values, their keys in a random order, with
    /// the keys weblog does not read among them; header fields and TLS there or not; strings
    /// escaped as Go writes them (quotes, backslashes, control characters, HTML escaping or
    /// not, non-ASCII kept); StartUTC in RFC 3339 with nanoseconds, trailing zeros cut.
    #[test]
    fn traefik_json_lines_read_back_their_values(
        (date, hms, nanos) in ((1970i32..2100, 1u32..13, 1u32..29), (0u32..24, 0u32..60, 0u32..60), prop_oneof![Just(0u32), 0u32..1_000_000_000]),
        (client, client_port) in (any_addr(), 1u16..),
        user in proptest::option::of("[a-z][a-z0-9._@]{0,10}"),
        method in prop::sample::select(vec!["GET", "POST", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"]),
        path in "(/[a-zA-Z0-9._~%!$'()*+,;=:@-]{0,12}){1,3}(\\?[a-z]{1,5}=[a-zA-Z0-9%\"\\\\<>&é\t]{0,8}(&[a-z]{1,3}=[0-9]{1,3})?)?",
        protocol in prop::sample::select(vec!["HTTP/1.0", "HTTP/1.1", "HTTP/2.0", "HTTP/3.0"]),
        host in "[a-z]{1,10}(\\.[a-z]{2,8}){0,2}",
        status in 100i32..600,
        (size, request_size) in (0u64..1_000_000_000_000, 0u64..1_000_000_000),
        duration_ns in 0u64..1_000_000_000_000,
        tls in proptest::option::of(prop::sample::select(vec!["1.0", "1.1", "1.2", "1.3"])),
        agent in proptest::option::of("[A-Za-z][A-Za-z0-9 /.;:()\"\\\\<>&é日本🦀\t_-]{0,40}"),
        referer in proptest::option::of("https?://[a-z]{1,10}\\.example/[a-z0-9/?=&<>\"]{0,12}"),
        xff in proptest::option::of((any_addr(), any_addr()).prop_map(|(a, b)| format!("{a}, {b}"))),
        html in any::<bool>(),
        order in proptest::collection::vec(any::<u32>(), 40),
    ) {
        let (y, mo, d) = date;
        let (h, mi, s) = hms;
        let frac = if nanos == 0 {
            String::new()
        } else {
            format!(".{nanos:09}").trim_end_matches('0').to_owned()
        };
        let start = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}Z");
        let q = |v: &str| go_json(v, html);
        let client_addr = if client.contains(':') {
            format!("[{client}]:{client_port}")
        } else {
            format!("{client}:{client_port}")
        };
        let mut keys: Vec<(&str, String)> = vec![
            ("ClientAddr", q(&client_addr)),
            ("ClientHost", q(&client)),
            ("ClientPort", q(&client_port.to_string())),
            ("ClientUsername", q(user.as_deref().unwrap_or("-"))),
            ("DownstreamContentSize", size.to_string()),
            ("DownstreamStatus", status.to_string()),
            ("Duration", duration_ns.to_string()),
            ("OriginContentSize", size.to_string()),
            ("OriginDuration", (duration_ns / 2).to_string()),
            ("OriginStatus", status.to_string()),
            ("Overhead", (duration_ns - duration_ns / 2).to_string()),
            ("RequestAddr", q(&host)),
            ("RequestContentSize", request_size.to_string()),
            ("RequestCount", "1".to_owned()),
            ("RequestHost", q(&host)),
            ("RequestMethod", q(method)),
            ("RequestPath", q(&path)),
            ("RequestPort", q("-")),
            ("RequestProtocol", q(protocol)),
            ("RequestScheme", q(if tls.is_some() { "https" } else { "http" })),
            ("RetryAttempts", "0".to_owned()),
            ("RouterName", q("web@docker")),
            ("ServiceAddr", q("10.0.0.5:80")),
            ("ServiceName", q("web@docker")),
            ("ServiceURL", r#"{"Scheme":"http","Opaque":"","User":null,"Host":"10.0.0.5:80","Path":"","RawPath":"","OmitHost":false,"ForceQuery":false,"RawQuery":"","Fragment":"","RawFragment":""}"#.to_owned()),
            ("StartLocal", q(&start)),
            ("StartUTC", q(&start)),
            ("entryPointName", q("websecure")),
            ("level", q("info")),
            ("msg", q("")),
            ("time", q(&format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"))),
            ("request_Accept", q("*/*")),
            ("downstream_Content-Type", q("text/html; charset=utf-8")),
        ];
        if let Some(v) = tls {
            keys.push(("TLSVersion", q(v)));
            keys.push(("TLSCipher", q("TLS_AES_128_GCM_SHA256")));
        }
        if let Some(a) = &agent {
            keys.push(("request_User-Agent", q(a)));
        }
        if let Some(r) = &referer {
            keys.push(("request_Referer", q(r)));
        }
        if let Some(x) = &xff {
            keys.push(("request_X-Forwarded-For", q(x)));
        }
        let mut keyed: Vec<(u32, (&str, String))> = order.iter().copied().zip(keys).collect();
        keyed.sort_by_key(|(k, _)| *k);
        let body: Vec<String> = keyed.iter().map(|(_, (k, v))| format!("\"{k}\":{v}")).collect();
        let line = format!("{{{}}}", body.join(","));
        let Parsed::Row(r) = Format::compile("traefik-json").unwrap().parser(None).parse(line.as_bytes()) else {
            return Err(TestCaseError::fail(line));
        };
        check_row(line.as_bytes(), &r)?;
        prop_assert_eq!(r.time.micros_utc, epoch_seconds(date, hms) * 1_000_000 + nanos as i64 / 1000);
        prop_assert_eq!(r.remote_addr.as_deref(), Some(client.as_str()));
        prop_assert_eq!(r.remote_user.as_deref(), user.as_deref());
        prop_assert_eq!(r.request_method.as_deref(), Some(method));
        prop_assert_eq!(r.request_path.as_deref(), Some(path.as_str()));
        prop_assert_eq!(r.request_protocol.as_deref(), Some(protocol));
        prop_assert_eq!(r.vhost.as_deref(), Some(host.as_str()));
        prop_assert_eq!(r.status, Some(status));
        prop_assert_eq!(r.body_bytes_sent, Some(size as i64));
        prop_assert_eq!(r.request_length, Some(request_size as i64));
        prop_assert!(close_to(r.request_time, duration_ns as f64 / 1e9), "{:?}", r.request_time);
        prop_assert_eq!(r.ssl_protocol.as_deref(), tls);
        prop_assert_eq!(r.http_user_agent.as_deref(), agent.as_deref());
        prop_assert_eq!(r.http_referer.as_deref(), referer.as_deref());
        prop_assert_eq!(r.x_forwarded_for.as_deref(), xff.as_deref());
        prop_assert_eq!((r.upstream_response_time, r.server_port), (None, None));
    }
}
