//! `weblog report`: the HTML dashboard, driven through the real binary on real outputs.
//! Markup is checked by a small tag scanner written here (every tag and attribute must be
//! on an allow-list), numbers against counts taken here from the log lines, and the page as
//! a whole by rendering it in headless Chromium (screenshot, DOM, console).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::chromium::{Chromium, dom_tags, find_chromium};
use common::*;

/// `weblog report --out <env>/out`, which must succeed; the page it wrote.
fn report(env: &Env) -> String {
    let out_dir = env.path("out");
    let out = env.weblog(&["report", "--out", out_dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "weblog report failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = out_dir.join("report.html");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("wrote {}", page.display())),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let leftovers: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    std::fs::read_to_string(page).expect("report.html is UTF-8")
}

/// Text as HTML shows it (the five characters markup needs escaped).
fn text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// 1234567 → "1,234,567" (the page's grouping, written independently).
fn grouped(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

const TAGS: &[&str] = &[
    "html", "head", "meta", "title", "style", "body", "header", "main", "section", "footer", "div",
    "span", "p", "h1", "h2", "h3", "strong", "br", "table", "thead", "tbody", "tr", "th", "td",
    "svg", "g", "rect", "line", "polyline", "path", "text", "circle",
];

const ATTRIBUTES: &[&str] = &[
    "lang",
    "charset",
    "name",
    "content",
    "class",
    "id",
    "style",
    "title",
    "colspan",
    "data-value",
    "viewbox",
    "width",
    "height",
    "role",
    "aria-label",
    "x",
    "y",
    "x1",
    "x2",
    "y1",
    "y2",
    "rx",
    "cx",
    "cy",
    "r",
    "d",
    "points",
    "fill",
    "fill-opacity",
    "stroke",
    "stroke-width",
    "stroke-linejoin",
    "stroke-linecap",
    "text-anchor",
    "transform",
];

/// Scan the page as a browser's tokenizer would see its tags: every `<` must open an allowed
/// tag (or close one), every attribute must be allowed and double-quoted. Returns the count
/// of each tag name. Text never holds a bare `<`, so nothing from the data can open a tag.
fn scan_markup(html: &str) -> BTreeMap<String, usize> {
    let body = html
        .strip_prefix("<!DOCTYPE html>")
        .expect("starts with the HTML5 doctype");
    let b = body.as_bytes();
    let mut tags: BTreeMap<String, usize> = BTreeMap::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'<' {
            assert!(
                b[i] != b'>' || in_style(body, i),
                "bare '>' in text at {i}: {}",
                around(body, i)
            );
            i += 1;
            continue;
        }
        let closing = b.get(i + 1) == Some(&b'/');
        let start = i + 1 + closing as usize;
        let mut j = start;
        while j < b.len() && (b[j].is_ascii_alphanumeric()) {
            j += 1;
        }
        let name = body[start..j].to_ascii_lowercase();
        assert!(
            !name.is_empty() && TAGS.contains(&name.as_str()),
            "'<' does not open an allowed tag at {i}: {}",
            around(body, i)
        );
        if closing {
            assert_eq!(
                b.get(j),
                Some(&b'>'),
                "closing tag at {i}: {}",
                around(body, i)
            );
            i = j + 1;
            continue;
        }
        *tags.entry(name.clone()).or_default() += 1;
        // Attributes: name="value" pairs until '>'.
        loop {
            while b[j] == b' ' {
                j += 1;
            }
            if b[j] == b'>' {
                j += 1;
                break;
            }
            let a = j;
            while b[j].is_ascii_alphanumeric() || b[j] == b'-' {
                j += 1;
            }
            let attr = body[a..j].to_ascii_lowercase();
            assert!(
                ATTRIBUTES.contains(&attr.as_str()),
                "attribute {attr:?} on <{name}>: {}",
                around(body, a)
            );
            assert_eq!(
                &body[j..j + 2],
                "=\"",
                "unquoted {attr} on <{name}>: {}",
                around(body, a)
            );
            let end = j + 2 + body[j + 2..].find('"').expect("closing quote");
            let value = &body[j + 2..end];
            assert!(
                !value.contains('<') && !value.contains('>'),
                "raw < or > in {attr}: {value}"
            );
            let lower = value.to_ascii_lowercase();
            assert!(
                !lower.contains("url(") && !lower.contains("javascript:"),
                "{attr}={value}"
            );
            j = end + 1;
        }
        i = j;
        if name == "style" {
            // The style sheet: CSS only, nothing loaded from elsewhere.
            let end = i + body[i..].find("</style>").expect("</style>");
            let css = body[i..end].to_ascii_lowercase();
            for bad in ["url(", "@import", "http:", "https:", "<", "expression("] {
                assert!(!css.contains(bad), "style sheet holds {bad}");
            }
            i = end;
        }
    }
    tags
}

fn in_style(body: &str, i: usize) -> bool {
    let before = &body[..i];
    before
        .rfind("<style>")
        .is_some_and(|s| before[s..].find("</style>").is_none())
}

fn around(s: &str, i: usize) -> String {
    let mut lo = i.saturating_sub(60);
    while !s.is_char_boundary(lo) {
        lo -= 1;
    }
    let mut hi = (i + 60).min(s.len());
    while !s.is_char_boundary(hi) {
        hi += 1;
    }
    s[lo..hi].to_string()
}

/// Combined-format log lines whose path, referer and agent carry markup, quotes and
/// terminal escapes (as nginx writes them: `"` → `\x22`, controls → `\x1B`; and raw ESC).
fn hostile_lines() -> Vec<String> {
    let line = |n: u32, path: &str, status: u32, referer: &str, agent: &str| {
        format!(
            "10.6.6.{n} - - [03/Nov/2026:10:{n:02}:00 +0000] \"GET {path} HTTP/1.1\" {status} 512 \"{referer}\" \"{agent}\""
        )
    };
    vec![
        line(
            1,
            "/<script>alert(1)</script>",
            404,
            "http://\\x22><img src=x onerror=alert(1)>/",
            "<script>alert(1)</script> (+http://evil.example/bot)",
        ),
        line(
            2,
            "/\\x22><img src=x onerror=alert(1)>",
            200,
            "http://evil.example/<script>alert(1)</script>",
            "\\x22><img src=x onerror=alert(1)> +http://evil.example/",
        ),
        line(
            3,
            "/\u{1b}[31mraw-escape\u{1b}[0m",
            404,
            "http://\u{1b}[31mansi.example/",
            "\u{1b}[31mRedBot/1.0 (+http://evil.example/)",
        ),
        line(
            4,
            "/\\x1B[2Jcleared",
            200,
            "http://\\x1B]0;title\\x07.example/",
            "Mozilla/5.0 \\x1B[31m (X11; Linux x86_64) Firefox/120.0",
        ),
        line(
            6,
            "/\\x22 onmouseover=\\x22alert(1)\\x22 x=\\x22<script>alert(document.cookie)</script>",
            404,
            "-",
            "curl/8.0",
        ),
        line(
            5,
            "/it's-'quoted'&amp;\u{202e}gnp.exe",
            200,
            "http://quote'site.example/",
            "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
        ),
    ]
}

fn hostile_env() -> Env {
    let env = Env::new();
    let text: String = hostile_lines().iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(env.logs().join("access.log"), text).unwrap();
    let s = env.run(&[]);
    assert_eq!(num(&s, "inserted"), 6, "{s}");
    // The test means something only if the raw strings reached the outputs.
    let outputs: String = [
        "top_pages.csv",
        "not_found.csv",
        "referrers.csv",
        "bots.csv",
    ]
    .iter()
    .map(|f| env.read_out(f))
    .collect();
    for raw in [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "\u{1b}[31m",
    ] {
        assert!(outputs.contains(raw), "{raw:?} in the outputs");
    }
    env
}

#[test]
fn hostile_log_strings_are_escaped_everywhere() {
    let env = hostile_env();
    let html = report(&env);

    // Parse level: every tag and attribute in the page is one the report writes.
    let tags = scan_markup(&html);
    for needed in ["svg", "rect", "table", "td"] {
        assert!(
            tags.get(needed).copied().unwrap_or(0) > 0,
            "<{needed}> used: {tags:?}"
        );
    }
    assert!(
        html.contains("<td title=\"/&quot; onmouseover=&quot;alert(1)&quot;"),
        "a long cell's full text is in an attribute, escaped"
    );

    assert!(!html.as_bytes().contains(&0x1b), "raw ESC in the page");
    assert!(
        !html.chars().any(|c| c.is_control() && c != '\n'),
        "control character in the page"
    );
    assert!(!html.contains('\u{202e}'), "bidi override in the page");
    let lower = html.to_ascii_lowercase();
    for live in [
        "<script", "<img", "<iframe", "<a ", "<object", "<link", "<base",
    ] {
        assert!(!lower.contains(live), "{live} in the page");
    }
    // Escaped, still readable, in text, attributes and SVG alike.
    for shown in [
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;",
        "\\x1b[31mraw-escape\\x1b[0m",
        "\\x1b[2Jcleared",
        "it&#39;s-&#39;quoted&#39;&amp;amp;\\u{202e}gnp.exe",
        "quote&#39;site.example",
    ] {
        assert!(html.contains(shown), "{shown} in the page");
    }
    // In SVG too: a bar's hover title and label.
    assert!(html.contains("<title>/&lt;script&gt;alert(1)&lt;/script&gt;: 1</title>"));

    // The scanner itself rejects what it must.
    for bad in [
        "<!DOCTYPE html><p>x<img src=x onerror=alert(1)></p>",
        "<!DOCTYPE html><p onclick=\"x\">x</p>",
        "<!DOCTYPE html><p>a < b</p>",
        "<!DOCTYPE html><p title=x>y</p>",
    ] {
        let bad = bad.to_string();
        assert!(
            std::panic::catch_unwind(|| scan_markup(&bad)).is_err(),
            "scanner accepts {bad}"
        );
    }
}

/// Reference reading of a combined line: status code (the token after the request's
/// closing quote), found by position and independent of the crate.
fn status_of(line: &str) -> String {
    let open = line.find("] \"").unwrap() + 3;
    let rest = &line[open..];
    let mut from = 0;
    loop {
        let q = from + rest[from..].find("\" ").unwrap();
        let tail = &rest[q + 2..];
        let code = tail.split(' ').next().unwrap();
        if code.len() == 3 && code.bytes().all(|c| c.is_ascii_digit()) {
            return code.to_string();
        }
        from = q + 1;
    }
}

/// A country database for the tests: RU and US networks of the Apache sample.
fn sample_geoip(env: &Env, networks: &[(&str, &str)]) -> PathBuf {
    use common::mmdb::Value;
    let records: Vec<(&str, Value)> = networks
        .iter()
        .map(|(net, code)| {
            let rec = BTreeMap::from([("country_code".to_string(), Value::Str(code.to_string()))]);
            (*net, Value::Map(rec))
        })
        .collect();
    let path = env.path("country.mmdb");
    std::fs::write(&path, common::mmdb::write(&records)).unwrap();
    path
}

#[test]
fn report_shows_the_numbers_of_the_logs() {
    let env = Env::new();
    std::fs::copy(fixture("apache_logs"), env.logs().join("access.log")).unwrap();
    let geoip = sample_geoip(&env, &[("83.149.9.0/24", "RU"), ("66.249.64.0/19", "US")]);
    env.run(&["--geoip", geoip.to_str().unwrap()]);
    let html = report(&env);
    scan_markup(&html);

    // Counted here from the distinct lines (the warehouse keeps each line once).
    let lines: BTreeSet<String> = complete_lines(&fixture("apache_logs"))
        .into_iter()
        .collect();
    let per_day = daily_visitors(&lines);
    let total: usize = per_day.values().map(|(_, r)| r).sum();
    assert_eq!(total, 9_981);
    let requests_kpi = format!(
        "id=\"kpi-requests\" data-value=\"{total}\"><div class=\"label\">Requests</div><div class=\"value\">{}</div>",
        grouped(total)
    );
    assert!(html.contains(&requests_kpi), "{requests_kpi}");
    let days: Vec<&String> = per_day.keys().collect();
    let range = format!(
        "<strong>{}</strong> → <strong>{}</strong> · {} days",
        days[0],
        days[days.len() - 1],
        days.len()
    );
    assert!(html.contains(&range), "{range}");

    // The daily table: each day's visitors and requests in the day's row.
    for (day, (visitors, requests)) in &per_day {
        let start = html
            .find(&format!("<tr><td>{day}</td>"))
            .unwrap_or_else(|| panic!("row for {day}"));
        let row = &html[start..start + html[start..].find("</tr>").unwrap()];
        let cells: Vec<&str> = row
            .split("<td class=\"num\">")
            .skip(1)
            .map(|c| c.split('<').next().unwrap())
            .collect();
        // day, unique_visitors, human_visitors, visitors_ip_agent, requests, …
        assert_eq!(cells[0], grouped(*visitors), "{day}: {row}");
        assert_eq!(cells[3], grouped(*requests), "{day}: {row}");
        // …and the day's column in the requests chart.
        assert!(
            html.contains(&format!(">{}</text>", grouped(*requests))),
            "{day}"
        );
    }

    // Status codes: each bar's hover text holds the code's count over the lines.
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    for l in &lines {
        *statuses.entry(status_of(l)).or_default() += 1;
    }
    assert!(statuses.len() > 3);
    for (code, n) in &statuses {
        let at = [format!("<title>{code} "), format!("<title>{code}:")]
            .iter()
            .find_map(|t| html.find(t))
            .unwrap_or_else(|| panic!("status {code} in the chart"));
        let title = &html[at..at + html[at..].find("</title>").unwrap()];
        assert!(
            title.ends_with(&format!(": {}", grouped(*n))),
            "{title} vs {n}"
        );
    }
    let not_found = statuses.get("404").copied().unwrap_or(0);
    assert!(html.contains(&format!("{} not found", grouped(not_found))));

    // Countries are shown, with the counts of their networks.
    let ru = lines.iter().filter(|l| l.starts_with("83.149.9.")).count();
    assert!(html.contains("id=\"chart-countries\""));
    assert!(
        html.contains(&format!("<title>RU: {}</title>", grouped(ru))),
        "RU {ru}"
    );

    // Humans and bots add up to the total.
    let human = |id: &str| -> usize {
        let at = html.find(&format!("id=\"{id}\">")).unwrap() + id.len() + 6;
        html[at..at + html[at..].find('<').unwrap()]
            .replace(',', "")
            .parse()
            .unwrap()
    };
    assert_eq!(human("human-requests") + human("bot-requests"), total);

    // Visits: the headline row adds up the visits output (whose figures tests/visits.rs
    // checks against its own sort-and-scan), and each visit chart is there.
    let visits = csv_rows(&env.read_out("visits.csv"));
    let sum = |k: &str| {
        visits
            .iter()
            .map(|r| r[k].parse::<f64>().unwrap())
            .sum::<f64>()
    };
    assert!(
        html.contains(&format!(
            "id=\"kpi-visits\" data-value=\"{}\"",
            sum("visits")
        )),
        "visits kpi"
    );
    let bounce = sum("bounces") / sum("human_visits");
    assert!(
        html.contains(&format!("id=\"kpi-bounce-rate\" data-value=\"{bounce}\"")),
        "bounce kpi {bounce}"
    );
    for id in [
        "visits-per-day",
        "visit_durations",
        "entry_pages",
        "exit_pages",
        "operating_systems",
        "devices",
        "weekdays",
    ] {
        assert!(html.contains(&format!("id=\"chart-{id}\"")), "chart {id}");
    }
    let entry = csv_rows(&env.read_out("entry_pages.csv"));
    assert!(
        html.contains(&format!(
            "<title>{}: {}</title>",
            text(&entry[0]["path"]),
            grouped(entry[0]["visits"].parse().unwrap())
        )),
        "top entry page"
    );

    // Long outputs are cut at 50 rows, and say so.
    let pages = csv_rows(&env.read_out("top_pages.csv"));
    assert!(pages.len() > 50);
    assert!(
        html.contains(&format!(
            "<span class=\"rows\">50 of {} rows</span>",
            grouped(pages.len())
        )),
        "top_pages caption"
    );
    let table = &html[html.find("id=\"table-top_pages\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert_eq!(table.matches("<tr>").count(), 51, "header + 50 rows");
    assert!(table.contains(&format!(
        "<td>{}</td><td class=\"num\">{}</td>",
        text(&pages[0]["path"]),
        grouped(pages[0]["requests"].parse().unwrap())
    )));
    // Every output has a table.
    for entry in std::fs::read_dir(env.path("out")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".parquet") {
            assert!(
                html.contains(&format!("id=\"table-{stem}\"")),
                "table for {stem}"
            );
        }
    }
    assert!(html.contains("id=\"generated\""));
}

#[test]
fn missing_outputs_are_skipped_and_no_outputs_is_an_error() {
    let env = Env::new();
    std::fs::copy(fixture("apache_logs"), env.logs().join("access.log")).unwrap();
    env.run(&[]);
    let out = env.path("out");
    let full = report(&env);
    // Without a GeoIP database every country is NULL: table, but no chart.
    assert!(full.contains("id=\"table-countries\""));
    assert!(!full.contains("id=\"chart-countries\""));
    assert!(full.contains("id=\"chart-browser_counts\""));

    for name in ["daily_visitors", "browser_counts", "status_codes"] {
        std::fs::remove_file(out.join(format!("{name}.parquet"))).unwrap();
    }
    std::fs::copy(out.join("top_pages.parquet"), out.join("my_pages.parquet")).unwrap();
    std::fs::write(out.join("broken.parquet"), "not Parquet").unwrap();
    let partial = report(&env);
    scan_markup(&partial);
    for gone in [
        "table-daily_visitors",
        "chart-daily-requests",
        "kpi-requests",
        "chart-status_codes",
    ] {
        assert!(
            !partial.contains(&format!("id=\"{gone}\"")),
            "{gone} is gone"
        );
    }
    // The simple browser families stand in for the detailed ones.
    assert!(partial.contains("id=\"chart-browser_counts_simple\""));
    for kept in [
        "chart-top_pages",
        "table-top_pages",
        "table-my_pages",
        "chart-hourly_traffic",
    ] {
        assert!(
            partial.contains(&format!("id=\"{kept}\"")),
            "{kept} is kept"
        );
    }
    // An unreadable file is reported on the page, not fatal.
    assert!(partial.contains("<div class=\"notice\">broken: cannot read "));
    // The date range still comes from daily_bandwidth.
    assert!(partial.contains("<strong>2015-05-17</strong>"));

    let empty = env.path("empty");
    std::fs::create_dir_all(&empty).unwrap();
    for dir in [empty.clone(), env.path("does-not-exist")] {
        let r = env.weblog(&["report", "--out", dir.to_str().unwrap()]);
        assert_eq!(
            r.status.code(),
            Some(66),
            "{}",
            String::from_utf8_lossy(&r.stderr)
        );
        let msg = String::from_utf8_lossy(&r.stderr);
        assert!(
            msg.contains("no outputs in") && msg.contains("run `weblog run` first"),
            "{msg}"
        );
        assert!(!dir.join("report.html").exists());
    }
}

// ---- Headless Chromium ----------------------------------------------------------------

/// PNG signature and the IHDR chunk's width and height.
fn png_size(data: &[u8]) -> (u32, u32) {
    assert!(data.len() > 33, "PNG too short");
    assert_eq!(&data[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    assert_eq!(&data[8..16], b"\0\0\0\x0dIHDR", "IHDR first");
    let be = |i: usize| u32::from_be_bytes(data[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

/// The demo traffic of `make run` (four days, two rotating files), with countries from a
/// database written here for the generator's address blocks.
fn demo_env() -> Env {
    let env = Env::new();
    let out = env.weblog(&[
        "generate",
        "--dir",
        "logs",
        "--lines",
        "40000",
        "--rotate-every",
        "20000",
        "--rate",
        "0.12",
        "--seed",
        "1",
        "--start",
        "2026-11-16T00:00:00+00:00",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let geoip = sample_geoip(
        &env,
        &[
            ("23.0.0.0/8", "US"),
            ("31.0.0.0/8", "NL"),
            ("45.0.0.0/8", "US"),
            ("62.0.0.0/8", "DE"),
            ("66.0.0.0/8", "US"),
            ("77.0.0.0/8", "FR"),
            ("81.0.0.0/8", "GB"),
            ("88.0.0.0/8", "DE"),
            ("91.0.0.0/8", "IN"),
            ("104.0.0.0/8", "US"),
            ("109.0.0.0/8", "RU"),
            ("151.0.0.0/8", "IT"),
            ("173.0.0.0/8", "CA"),
            ("185.0.0.0/8", "NL"),
            ("203.0.0.0/8", "AU"),
            ("212.0.0.0/8", "ES"),
            ("2a02:c7f::/32", "GB"),
            ("2600:1700::/32", "US"),
            ("2001:4860::/32", "US"),
            ("2a01:cb00::/32", "FR"),
            ("240e:3b0::/32", "CN"),
        ],
    );
    env.run(&["--geoip", geoip.to_str().unwrap()]);
    env
}

#[test]
fn report_renders_in_headless_chromium() {
    let Some(bin) = find_chromium() else {
        tool_missing(
            "chromium not installed (no chromium, chromium-browser or google-chrome on PATH; \
             `make chromium` installs Debian's package)",
        );
        return;
    };
    let chromium = Chromium::new(bin);
    let work = tempfile::tempdir().unwrap();

    // The console check is live: a page that logs an error and throws is caught.
    let broken = work.path().join("broken.html");
    std::fs::write(
        &broken,
        "<!DOCTYPE html><p>x</p><script>console.error('deliberate-error'); undefinedFn();</script>",
    )
    .unwrap();
    let caught = chromium.run(&["--dump-dom".into()], &broken).console;
    assert!(
        caught.iter().any(|l| l.contains("deliberate-error")),
        "{caught:?}"
    );
    assert!(caught.iter().any(|l| l.contains("Uncaught")), "{caught:?}");

    // A blank page's screenshot: the size a page with nothing drawn compresses to.
    let blank = work.path().join("blank.html");
    std::fs::write(&blank, "<!DOCTYPE html><html><body></body></html>").unwrap();
    let blank_png = work.path().join("blank.png");
    chromium.screenshot(&blank, &blank_png);
    let blank_len = std::fs::read(&blank_png).expect("blank screenshot").len();

    // The demo report.
    let env = demo_env();
    report(&env);
    let page = env.path("out/report.html");
    let png = work.path().join("report.png");
    let shot = chromium.screenshot(&page, &png);
    assert!(shot.console.is_empty(), "console: {:?}", shot.console);
    let data = std::fs::read(&png).expect("screenshot written");
    assert_eq!(png_size(&data), (1280, 2400));
    assert!(
        data.len() > 5 * blank_len && data.len() > 50_000,
        "screenshot {} bytes, blank page {blank_len}: nothing drawn?",
        data.len()
    );

    let dom = chromium.run(&["--dump-dom".into()], &page);
    assert!(dom.console.is_empty(), "console: {:?}", dom.console);
    let d = &dom.stdout;
    assert!(d.matches("<svg").count() >= 9, "charts in the DOM");
    assert!(d.matches("<rect").count() > 100, "bars in the DOM");
    for id in [
        "kpi-requests",
        "chart-daily-requests",
        "chart-daily-visitors",
        "chart-humans-bots",
        "chart-status_codes",
        "chart-browser_counts",
        "chart-top_pages",
        "chart-countries",
        "chart-bots",
        "chart-referrers",
        "chart-hourly_traffic",
        "table-daily_visitors",
        "generated",
    ] {
        assert!(d.contains(&format!("id=\"{id}\"")), "{id} in the DOM");
    }
    assert!(!d.contains("<script"), "no script in the DOM");

    // The hostile report, as the browser parses it: no element from the data.
    let hostile = hostile_env();
    report(&hostile);
    let dom = chromium.run(&["--dump-dom".into()], &hostile.path("out/report.html"));
    assert!(dom.console.is_empty(), "console: {:?}", dom.console);
    assert!(
        dom.stdout.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "shown as text"
    );
    let elements = dom_tags(&dom.stdout);
    assert!(
        elements.contains("svg") && elements.contains("td"),
        "{elements:?}"
    );
    for name in &elements {
        assert!(TAGS.contains(&name.as_str()), "<{name}> element in the DOM");
    }

    if std::env::var("WEBLOG_UPDATE_SCREENSHOT").as_deref() == Ok("1") {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::copy(&png, docs.join("dashboard.png")).unwrap();
        eprintln!("updated {}", docs.join("dashboard.png").display());
    }
}
