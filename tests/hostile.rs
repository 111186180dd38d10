//! Hostile and broken input: stored or rejected and counted, never a crash; nothing weblog
//! writes can be turned against whoever reads it.

mod common;

use common::*;

fn entry(path: &str, referer: &str, agent: &str, n: u32) -> String {
    format!(
        "10.6.6.{n} - - [03/Nov/2026:10:00:{:02} +0000] \"GET {path} HTTP/1.1\" 404 0 \"{referer}\" \"{agent}\"",
        n % 60
    )
}

#[test]
fn csv_cells_that_look_like_formulas_are_neutralised_parquet_keeps_them() {
    let env = Env::new();
    let evil = [
        ("=HYPERLINK(\"http://x\")", "-", "curl/8.0"),
        ("+1+2", "http://@evil.example/", "curl/8.0"),
        ("-2+3", "-", "curl/8.0"),
        ("@SUM(A1)", "-", "curl/8.0"),
        (
            "/<script>alert(1)</script>",
            "\"><img src=x onerror=alert(1)>",
            "<b>agent</b>",
        ),
    ];
    let text: String = evil
        .iter()
        .enumerate()
        .map(|(i, (p, r, a))| {
            // As nginx writes them: quotes inside fields escaped.
            let esc = |s: &str| s.replace('"', "\\x22");
            entry(&esc(p), &esc(r), &esc(a), i as u32 + 1) + "\n"
        })
        .collect();
    std::fs::write(env.logs().join("access.log"), text).unwrap();
    let s = env.run(&[]);
    assert_eq!(num(&s, "inserted"), 5);
    let csv = env.read_out("not_found.csv");
    let paths: Vec<String> = csv_rows(&csv)
        .into_iter()
        .map(|r| r["path"].clone())
        .collect();
    for p in [
        "'=HYPERLINK(\"http://x\")",
        "'+1+2",
        "'-2+3",
        "'@SUM(A1)",
        "/<script>alert(1)</script>",
    ] {
        assert!(paths.iter().any(|x| x == p), "{p} in {paths:?}");
    }
    // Parquet and the warehouse keep the exact value.
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let parquet = env.path("out/not_found.parquet").display().to_string();
    let exact: i64 = conn
        .query_row(
            &format!("SELECT count(*) FROM read_parquet('{parquet}') WHERE path IN ('=HYPERLINK(\"http://x\")', '@SUM(A1)', '-2+3')"),
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(exact, 3);
}

#[test]
fn broken_lines_are_stored_or_rejected_and_counted() {
    let env = Env::new();
    let mut data = Vec::new();
    let good = entry("/ok", "-", "curl/8.0", 1);
    data.extend_from_slice(format!("{good}\r\n").as_bytes()); // CRLF: stored
    data.extend_from_slice(
        b"10.6.6.2 - - [03/Nov/2026:10:00:02 +0000] \"GET /\0nul HTTP/1.1\" 200 1 \"-\" \"-\"\n",
    ); // NUL: rejected
    data.extend_from_slice(
        b"10.6.6.3 - - [03/Nov/2026:10:00:03 +0000] \"GET /\xc3\x28 HTTP/1.1\" 200 1 \"-\" \"-\"\n",
    ); // bad UTF-8: rejected
    let mut long = entry("/long", "-", "curl/8.0", 4).into_bytes();
    long.extend(vec![b'A'; 2 << 20]); // 2 MiB line: rejected, not buffered whole
    long.push(b'\n');
    data.extend_from_slice(&long);
    data.extend_from_slice(
        format!("{}\n", entry("/\\x1B[31mred\\x1B[0m", "-", "x\\x07bell", 5)).as_bytes(),
    ); // escaped controls: stored
    data.extend_from_slice(b"\r\n\n"); // blank lines: rejected as empty (one distinct line)
    data.extend_from_slice(format!("{}\n", entry("/last", "-", "curl/8.0", 6)).as_bytes());
    std::fs::write(env.logs().join("access.log"), &data).unwrap();
    let s = env.run(&[]);
    assert_eq!(num(&s, "lines_read"), 8);
    assert_eq!(num(&s, "inserted"), 3);
    assert_eq!(num(&s, "rejected"), 5);
    let reasons = env.reject_reasons();
    assert_eq!(
        reasons,
        vec![
            "NUL byte in line",
            // The format, and where the text stops being UTF-8 (\xc3 at byte 48, in the path).
            "combined: invalid UTF-8 in request_path at byte 48",
            "line longer than 1 MiB",
            // "\r" and "" are the same line once the CR is dropped: stored once.
            "empty line",
        ]
    );
    let kept: i64 = env.count("SELECT max(length(raw_line)) FROM rejects");
    assert!(
        kept <= 64 * 1024,
        "a rejected line is kept only in part: {kept}"
    );
}

#[test]
fn terminal_output_carries_no_raw_control_characters() {
    let env = Env::new();
    // A file name and a user agent with terminal escapes in them.
    let name = "evil\u{1b}[2J\u{7}.log";
    let agent = "\\x1B]0;pwned\\x07Mozilla/5.0";
    std::fs::write(
        env.logs().join(name),
        format!("{}\n", entry("/", "-", agent, 1)),
    )
    .unwrap();
    let out = env.run_replacing("--json", None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = [out.stdout, out.stderr].concat();
    assert!(!shown.contains(&0x1b), "raw ESC reached the terminal");
    assert!(!shown.contains(&0x07), "raw BEL reached the terminal");
    assert!(
        String::from_utf8_lossy(&shown).contains("evil\\x1b[2J"),
        "escaped, still readable"
    );
}

#[test]
fn file_names_with_quotes_and_sql_are_checkpointed_like_any_other() {
    let env = Env::new();
    // The load stage writes checkpoint paths into SQL as quoted literals: a name made to
    // break out of the quotes must stay a name.
    let name = "it's \"odd\"'); DROP TABLE logs; --.log";
    let path = env.logs().join(name);
    let first: Vec<String> = (0..5).map(|n| entry("/a", "-", "curl/8.0", n)).collect();
    std::fs::write(&path, first.join("\n") + "\n").unwrap();
    let s = env.run(&[]);
    assert_eq!(num(&s, "inserted"), 5);
    let more = entry("/b", "-", "curl/8.0", 9);
    let mut all = first.clone();
    all.push(more.clone());
    std::fs::write(&path, all.join("\n") + "\n").unwrap();
    let s = env.run(&[]);
    assert_eq!(num(&s, "inserted"), 1, "resumed from its checkpoint");
    let stored: String = env
        .db()
        .query_row("SELECT path FROM checkpoints", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, path.display().to_string());
    assert_eq!(env.count("SELECT count(*) FROM logs"), 6);
}

/// A log format with the virtual host quoted, so a host can hold spaces and quotes.
const VHOST_FORMAT: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$host""#;

/// Path, referer, user agent and virtual host of each line, as the browser must show them.
const MARKUP_FIELDS: [[&str; 4]; 3] = [
    [
        "/<script>alert(1)</script>",
        "http://ref.example/<script>alert(1)</script>",
        "Mozilla/5.0 <script>alert(1)</script>",
        "<script>alert(1)</script>",
    ],
    [
        "/\"><img src=x onerror=alert(1)>",
        "http://\"><img src=x onerror=alert(1)>/",
        "\"><img src=x onerror=alert(1)>",
        "\"><img src=x onerror=alert(1)>",
    ],
    [
        "/</script>&amp;",
        "http://x.example/</script>&amp;",
        "</script>&amp; agent",
        "</script>&amp;",
    ],
];

/// An output of every field as logged, its column names markup too.
const RAW_FIELDS_SQL: &str = r#"SELECT request_path AS path, http_referer AS referer,
    http_user_agent AS "<script>alert(1)</script>", vhost AS """><img src=x onerror=alert(1)>"
FROM logs ORDER BY remote_addr
"#;

/// Runs after the report's own markup is parsed: what the browser made of it, as JSON in one
/// console line (percent-encoded, so it stays one line whatever the text holds).
const PROBE: &str = r#"<script>
(() => {
  const all = [...document.querySelectorAll('*')];
  const texts = sel => [...document.querySelectorAll(sel)].map(e => e.textContent);
  const probe = {
    scripts: document.scripts.length,
    tags: [...new Set(all.map(e => e.localName))].sort(),
    attributes: [...new Set(all.flatMap(e => [...e.attributes].map(a => a.name)))].sort(),
    header: texts('#table-raw_fields th'),
    rows: [...document.querySelectorAll('#table-raw_fields tbody tr')]
      .map(r => [...r.cells].map(c => c.textContent)),
    vhosts: texts('#table-vhosts tbody td:nth-child(2)'),
    site_titles: texts('#chart-vhosts svg title'),
    page_titles: texts('#chart-top_pages svg title'),
  };
  console.log('PROBE ' + encodeURIComponent(JSON.stringify(probe)));
})();
</script>"#;

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn markup_in_paths_referers_agents_and_hosts_is_text_in_the_browser() {
    let Some(bin) = common::chromium::find_chromium() else {
        tool_missing(
            "chromium not installed (no chromium, chromium-browser or google-chrome on PATH; \
             `make chromium` installs Debian's package)",
        );
        return;
    };
    let env = Env::new();
    let text: String = MARKUP_FIELDS
        .iter()
        .enumerate()
        .map(|(i, [path, referer, agent, host])| {
            // As nginx writes them: quotes inside fields escaped.
            let esc = |s: &str| s.replace('"', "\\x22");
            format!(
                "10.7.7.{} - - [03/Nov/2026:10:0{i}:00 +0000] \"GET {} HTTP/1.1\" 200 512 \"{}\" \"{}\" \"{}\"\n",
                i + 1,
                esc(path),
                esc(referer),
                esc(agent),
                esc(host)
            )
        })
        .collect();
    std::fs::write(env.logs().join("access.log"), text).unwrap();
    let sql = env.path("sql");
    copy_dir(&repo_sql(), &sql);
    std::fs::write(sql.join("raw_fields.sql"), RAW_FIELDS_SQL).unwrap();
    let mut args = env.run_args_with_sql(&sql);
    args.extend(["--format".into(), VHOST_FORMAT.into()]);
    let out = env.weblog(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out_dir = env.path("out");
    let report = env.weblog(&["report", "--out", out_dir.to_str().unwrap()]);
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let page = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    let lower = page.to_ascii_lowercase();
    // (`onerror=` is there, as text inside escaped markup: the browser tells which.)
    for live in ["<script", "</script", "<img"] {
        assert!(!lower.contains(live), "{live} in the page's source");
    }

    let chromium = common::chromium::Chromium::new(bin);
    // The same page with an alert trap first in <head> and the probe last in <body>.
    let probed = out_dir.join("probed.html");
    let head = page.find("<head>").unwrap() + "<head>".len();
    let body_end = page.rfind("</body>").unwrap();
    let trap = "<script>window.alert = () => console.log('ALERT-CALLED');</script>";
    std::fs::write(
        &probed,
        format!(
            "{}{trap}{}{PROBE}{}",
            &page[..head],
            &page[head..body_end],
            &page[body_end..]
        ),
    )
    .unwrap();
    let run = chromium.run(&["--dump-dom".into()], &probed);
    let line = run
        .console
        .iter()
        .find(|l| l.contains("PROBE "))
        .unwrap_or_else(|| {
            panic!("the probe ran: {:?}", run.console);
        });
    assert_eq!(run.console.len(), 1, "console: {:?}", run.console);
    let encoded = line.split("PROBE ").nth(1).unwrap();
    let encoded = &encoded[..encoded.find('"').unwrap()];
    let probe: serde_json::Value = serde_json::from_str(&percent_decode(encoded)).unwrap();
    let strings = |key: &str| -> Vec<String> {
        probe[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key} in {probe}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };

    assert_eq!(
        probe["scripts"], 2,
        "only the trap and the probe are scripts"
    );
    let tags = strings("tags");
    const REPORT_TAGS: &[&str] = &[
        "html", "head", "meta", "title", "style", "body", "header", "main", "section", "footer",
        "div", "span", "p", "h1", "h2", "h3", "strong", "br", "table", "thead", "tbody", "tr",
        "th", "td", "svg", "g", "rect", "line", "polyline", "path", "text", "circle",
    ];
    for t in &tags {
        assert!(
            t == "script" || REPORT_TAGS.contains(&t.as_str()),
            "<{t}> in the DOM"
        );
    }
    for a in strings("attributes") {
        assert!(
            !a.starts_with("on") && !["src", "href", "srcdoc", "xlink:href"].contains(&a.as_str()),
            "attribute {a} in the DOM"
        );
    }

    // Each field, read back from the DOM, is the logged text itself.
    assert_eq!(
        strings("header"),
        [
            "path",
            "referer",
            "<script>alert(1)</script>",
            "\"><img src=x onerror=alert(1)>"
        ]
    );
    let rows: Vec<Vec<String>> = serde_json::from_value(probe["rows"].clone()).unwrap();
    let expected: Vec<Vec<String>> = MARKUP_FIELDS
        .iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect();
    assert_eq!(rows, expected);
    let (vhosts, sites, pages) = (
        strings("vhosts"),
        strings("site_titles"),
        strings("page_titles"),
    );
    for [path, _, _, host] in MARKUP_FIELDS {
        assert!(vhosts.iter().any(|v| v == host), "{host} in {vhosts:?}");
        assert!(sites.contains(&format!("{host}: 1")), "{host} in {sites:?}");
        assert!(pages.contains(&format!("{path}: 1")), "{path} in {pages:?}");
    }

    // The page as it is (a script from the data would run here, with no trap: so last).
    let dom = chromium.run(&["--dump-dom".into()], &out_dir.join("report.html"));
    assert!(dom.console.is_empty(), "console: {:?}", dom.console);
    let elements = common::chromium::dom_tags(&dom.stdout);
    assert!(
        elements.contains("svg") && elements.contains("td"),
        "{elements:?}"
    );
    for bad in ["script", "img"] {
        assert!(!elements.contains(bad), "<{bad}> in the DOM: {elements:?}");
    }
}
