//! HTML building blocks: how text from the data is shown, number formatting, the output
//! tables and the page's style sheet. Markup is written with maud's `html!`, which escapes
//! every spliced value, so nothing from the data can open a tag or leave an attribute.

use std::fmt::Write as _;

use maud::{Markup, Render, html};

use super::{Column, Output};

/// Rows of each output shown as a table.
pub const TABLE_ROWS: usize = 50;

/// Text from the data (log fields, output, column and file names, error messages) as the
/// page shows it. maud already escapes `& < > "` in it like in any splice; this also writes
/// `'` as an entity (so a value stays inert even in a single-quoted context), control
/// characters (ESC, BEL, CR, …) as visible `\x1b`-style text, and invisible formatting
/// characters that can reorder or hide text (bidi overrides, zero-width marks, line
/// separators) as `\u{202e}`-style text.
pub struct Text<'a>(pub &'a str);

impl Render for Text<'_> {
    fn render_to(&self, out: &mut String) {
        let s = self.0;
        let mut plain = 0;
        for (i, c) in s.char_indices() {
            if c != '\'' && !c.is_control() && !invisible(c) {
                continue;
            }
            s[plain..i].render_to(out);
            let _ = match c {
                '\'' => out.write_str("&#39;"),
                c if c.is_control() => write!(out, "\\x{:02x}", c as u32),
                c => write!(out, "\\u{{{:04x}}}", c as u32),
            };
            plain = i + c.len_utf8();
        }
        s[plain..].render_to(out);
    }
}

fn invisible(c: char) -> bool {
    matches!(c,
        '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// At most `max` characters, with an ellipsis when cut (cut before rendering, so an entity
/// is never split).
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// 1234567 → "1,234,567".
pub fn group(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// A count, grouped.
pub fn count(v: f64) -> String {
    group(v.round() as i64)
}

/// Axis ticks: 950, 1.5k, 12k, 3.2M.
pub fn compact(v: f64) -> String {
    let (x, unit) = match v.abs() {
        a if a >= 1e9 => (v / 1e9, "B"),
        a if a >= 1e6 => (v / 1e6, "M"),
        a if a >= 1e3 => (v / 1e3, "k"),
        _ => (v, ""),
    };
    if (x - x.round()).abs() < 0.05 {
        format!("{:.0}{unit}", x.round())
    } else {
        format!("{x:.1}{unit}")
    }
}

pub fn percent(part: f64, whole: f64) -> String {
    if whole <= 0.0 {
        return "–".into();
    }
    let p = 100.0 * part / whole;
    if p > 0.0 && p < 0.1 {
        format!("{p:.2}%")
    } else {
        format!("{p:.1}%")
    }
}

pub fn bytes(n: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{} B", n as i64)
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// An output's name as an `id` (letters, digits, `-`, `_` only).
pub fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// Identifier-like integer columns are shown as written (no thousands separator).
fn grouped(column: &str) -> bool {
    let c = column.to_ascii_lowercase();
    !(c == "status" || c == "hour" || c == "year" || c == "port" || c.ends_with("_code"))
}

/// One output as a table card: the first [`TABLE_ROWS`] rows and how many there are.
pub fn table_card(o: &Output) -> Markup {
    let shown = o.rows.len().min(TABLE_ROWS);
    let count_text = if (shown as u64) < o.total {
        format!("{} of {} rows", group(shown as i64), group(o.total as i64))
    } else if o.total == 1 {
        "1 row".to_string()
    } else {
        format!("{} rows", group(o.total as i64))
    };
    let class = if o.columns.len() > 4 {
        "card table-card wide"
    } else {
        "card table-card"
    };
    let name = Text(&o.name);
    html! {
        div class=(class) id={ "table-" (Text(&slug(&o.name))) } {
            h3 { (name) }
            p class="note" {
                span class="rows" { (count_text) } " · " (name) ".parquet, " (name) ".csv"
            }
            @if o.columns.is_empty() {
                p class="empty" { "No columns." }
            } @else {
                div class="scroll" { table {
                    thead { tr {
                        @for c in &o.columns {
                            @let class = (c.numeric && grouped(&c.name)).then_some("num");
                            th class=[class] { (Text(&c.name)) }
                        }
                    } }
                    tbody {
                        @for row in o.rows.iter().take(TABLE_ROWS) {
                            tr {
                                @for (c, cell) in o.columns.iter().zip(row) {
                                    (cell_td(c, cell.as_deref()))
                                }
                            }
                        }
                        @if o.rows.is_empty() {
                            tr { td class="null" colspan=(o.columns.len()) { "No rows." } }
                        }
                    }
                } }
            }
        }
    }
}

fn cell_td(c: &Column, cell: Option<&str>) -> Markup {
    let number = c.numeric && grouped(&c.name);
    html! {
        @match cell {
            None => td class="null" { "NULL" },
            Some(v) if number && c.integer => td class="num" {
                @match v.parse::<i64>() {
                    Ok(n) => (group(n)),
                    Err(_) => (Text(v)),
                }
            },
            Some(v) if number => td class="num" { (Text(v)) },
            // A long value is cut by the style sheet; its full text is the hover title.
            Some(v) if v.chars().count() > 40 => td title=(Text(v)) { (Text(v)) },
            Some("") => td class="null" { "(empty)" },
            Some(v) => td { (Text(v)) },
        }
    }
}

/// Series colours, shared by the SVG charts and their HTML legends.
pub const BLUE: &str = "#2563eb";
pub const TEAL: &str = "#0d9488";
pub const VIOLET: &str = "#7c3aed";
pub const SLATE: &str = "#94a3b8";
pub const AMBER: &str = "#f59e0b";
pub const GREEN: &str = "#16a34a";
pub const SKY: &str = "#0ea5e9";
pub const RED: &str = "#dc2626";
pub const INDIGO: &str = "#4f46e5";

/// A legend: colour swatch and name per series.
pub fn legend(items: &[(&str, &str)]) -> Markup {
    html! {
        div class="legend" {
            @for (name, color) in items {
                span { span class="sw" style={ "background:" (color) } {} (name) }
            }
        }
    }
}

pub const CSS: &str = r#"
:root{--bg:#f3f5f9;--card:#fff;--ink:#0f172a;--ink2:#334155;--muted:#64748b;--line:#e2e8f0;--soft:#f1f5f9}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Liberation Sans",system-ui,sans-serif;-webkit-font-smoothing:antialiased}
.wrap{max-width:1200px;margin:0 auto;padding:0 24px}
header.top{background:linear-gradient(90deg,#0b1224 0%,#13245a 55%,#1d3a8f 100%);color:#fff;padding:26px 0 64px}
.brand{display:flex;align-items:flex-end;justify-content:space-between;gap:16px;flex-wrap:wrap}
.eyebrow{margin:0 0 4px;font-size:12px;letter-spacing:.14em;text-transform:uppercase;color:#93c5fd;font-weight:600}
h1{margin:0;font-size:28px;line-height:1.2;font-weight:700;letter-spacing:-.015em}
.range{margin:6px 0 0;color:#cbd5e1;font-size:15px}
.range strong{color:#fff;font-weight:600}
.stamp{color:#94a3b8;font-size:12.5px;text-align:right}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:16px;margin-top:-44px}
.kpis+.kpis{margin-top:16px}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:14px 18px 15px;box-shadow:0 1px 2px rgba(15,23,42,.05),0 8px 24px rgba(15,23,42,.07)}
.kpi .label{color:var(--muted);font-size:11.5px;text-transform:uppercase;letter-spacing:.07em;font-weight:600}
.kpi .value{font-size:27px;font-weight:700;margin-top:2px;letter-spacing:-.01em;font-variant-numeric:tabular-nums}
.kpi .sub{color:var(--muted);font-size:12.5px;margin-top:1px}
.notice{background:#fffbeb;border:1px solid #fde68a;color:#92400e;border-radius:10px;padding:10px 14px;margin-top:20px;font-size:13px}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));grid-auto-flow:row dense;gap:20px;margin-top:20px}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:16px 20px 18px;box-shadow:0 1px 2px rgba(15,23,42,.04);min-width:0}
.card.wide{grid-column:1/-1}
.card h2{font-size:15.5px;margin:0;font-weight:650;color:var(--ink)}
.card h3{font-size:14px;margin:0;font-weight:650;font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace}
.card .note{color:var(--muted);font-size:12.5px;margin:2px 0 12px}
.card .note.sub{margin:16px 0 6px;font-weight:600;color:var(--ink2)}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;font-size:12.5px;color:var(--ink2);margin:-4px 0 10px}
.legend .sw{display:inline-block;width:10px;height:10px;border-radius:3px;margin-right:7px;vertical-align:-1px}
.split{display:flex;gap:28px;margin:4px 0 14px}
.split .big{font-size:24px;font-weight:700;font-variant-numeric:tabular-nums;letter-spacing:-.01em}
.split .small{color:var(--muted);font-size:12.5px}
.split .sw{display:inline-block;width:10px;height:10px;border-radius:3px;margin-right:7px}
svg{display:block;width:100%;height:auto;overflow:visible}
svg text{fill:#475569;font-size:12px}
svg text.lbl{fill:#1e293b}
svg text.val{fill:#334155;font-variant-numeric:tabular-nums}
svg text.axis-title{fill:#64748b;font-size:11.5px}
svg text.in{fill:#fff;font-weight:600;font-size:12px}
svg line.grid{stroke:#e2e8f0;stroke-width:1}
svg line.axis{stroke:#94a3b8;stroke-width:1}
h2.section{font-size:19px;margin:40px 0 4px;font-weight:700;letter-spacing:-.01em}
p.section-note{margin:0 0 16px;color:var(--muted)}
.tables{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));grid-auto-flow:row dense;align-items:start;gap:20px}
.scroll{max-height:372px;overflow:auto;border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;width:100%;font-size:12.5px}
th{position:sticky;top:0;background:#f8fafc;text-align:left;font-weight:600;color:var(--ink2);padding:7px 10px;border-bottom:1px solid var(--line);white-space:nowrap}
td{padding:5px 10px;border-bottom:1px solid var(--soft);max-width:330px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
tbody tr:nth-child(even) td{background:#fafbfd}
th.num,td.num{text-align:right;font-variant-numeric:tabular-nums}
td.null{color:#94a3b8;font-style:italic}
p.empty{color:var(--muted)}
footer.foot{color:var(--muted);font-size:12.5px;padding:28px 24px 36px;border-top:1px solid var(--line);margin-top:40px}
@media (max-width:900px){.grid,.tables{grid-template-columns:minmax(0,1fr)}}
@media print{body{background:#fff}.scroll{max-height:none}}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(s: &str) -> String {
        Text(s).render().into_string()
    }

    #[test]
    fn escapes_markup_quotes_and_controls() {
        assert_eq!(
            shown("<a href=\"x\" b='y'>&</a>"),
            "&lt;a href=&quot;x&quot; b=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(shown("\u{1b}[31mred\u{7}"), "\\x1b[31mred\\x07");
        assert_eq!(shown("a\u{202e}b\u{200b}"), "a\\u{202e}b\\u{200b}");
        assert_eq!(shown("plain /path é"), "plain /path é");
        assert_eq!(shown("é'\u{7}"), "é&#39;\\x07");
    }

    #[test]
    fn numbers() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(-1234567), "-1,234,567");
        assert_eq!(compact(1500.0), "1.5k");
        assert_eq!(compact(2000.0), "2k");
        assert_eq!(compact(250.0), "250");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
        assert_eq!(bytes(2048.0), "2.0 KiB");
    }
}
