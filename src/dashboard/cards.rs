//! The page's charts and headline figures, one function per card; a card whose output (or
//! the columns it needs) is missing is `None` and left out.

use maud::{Markup, html};

use super::Output;
use super::html::{self, AMBER, BLUE, GREEN, INDIGO, RED, SKY, SLATE, TEAL, VIOLET};
use super::html::{Text, bytes, count, group, legend, percent};
use super::svg::{self, Bar, Series, ShareRow, XChart};

/// Bars in a ranking chart.
const TOP: usize = 10;

/// Chart widths in SVG units: about CSS pixels at the page's 1200px layout.
const HALF: f64 = 524.0;
const WIDE: f64 = 1110.0;

/// Totals over the days of `daily_visitors`.
pub struct Daily {
    pub days: Vec<String>,
    requests: Vec<f64>,
    human_requests: Option<Vec<f64>>,
    visitors: Option<Vec<f64>>,
    human_visitors: Option<Vec<f64>>,
    bytes_sent: Option<Vec<f64>>,
}

impl Daily {
    /// `None` when the output lacks `day` or `requests`, or has no rows.
    pub fn from(o: &Output) -> Option<Daily> {
        if o.rows.is_empty() {
            return None;
        }
        Some(Daily {
            days: o.labels("day", "?")?,
            requests: o.series("requests")?,
            human_requests: o.series("human_requests"),
            visitors: o.series("unique_visitors"),
            human_visitors: o.series("human_visitors"),
            bytes_sent: o.series("bytes_sent"),
        })
    }

    fn requests(&self) -> f64 {
        self.requests.iter().sum()
    }

    fn humans(&self) -> Option<f64> {
        self.human_requests.as_ref().map(|h| h.iter().sum())
    }
}

/// The chart cards, each only when its output (and the columns it needs) exists.
pub fn grid<'a>(daily: Option<&Daily>, get: &dyn Fn(&str) -> Option<&'a Output>) -> Markup {
    let browsers = match get("browser_counts") {
        Some(o) => ranking(
            Some(o),
            "browser",
            "Browsers",
            "Human requests by browser family",
            BLUE,
        ),
        None => ranking(
            get("browser_counts_simple"),
            "browser",
            "Browsers",
            "Requests by browser family, bots included",
            BLUE,
        ),
    };
    let cards = [
        daily.map(daily_cards),
        get("hourly_traffic").and_then(hourly_card),
        daily.and_then(humans_card),
        get("status_codes").and_then(status_card),
        browsers,
        ranking(
            get("top_pages"),
            "path",
            "Top pages",
            "Requests per page, static files excluded",
            INDIGO,
        ),
        ranking(
            get("countries").filter(|o| has_countries(o)),
            "country_code",
            "Countries",
            "Requests by client country (GeoIP)",
            TEAL,
        ),
        ranking(
            get("referrers"),
            "site",
            "Referrers",
            "Requests by referring site",
            VIOLET,
        ),
        ranking(
            get("bots"),
            "crawler",
            "Crawlers and bots",
            "Requests by crawler, feed reader or HTTP library",
            SLATE,
        ),
        ranking(
            get("not_found"),
            "path",
            "Not found (404)",
            "Most requested missing paths",
            AMBER,
        ),
        Some(super::visits::cards(get)),
    ];
    html! {
        section class="grid" { @for card in cards.iter().flatten() { (card) } }
    }
}

/// A headline figure; `raw` is the unformatted value, for whoever reads the page's data.
pub(super) fn kpi(id: &str, label: &str, raw: f64, value: &str, sub: &str) -> Markup {
    html! {
        div class="kpi" id={ "kpi-" (id) } data-value=(raw) {
            div class="label" { (label) }
            div class="value" { (value) }
            div class="sub" { (Text(sub)) }
        }
    }
}

pub fn kpis(daily: Option<&Daily>, statuses: Option<&Output>) -> Markup {
    let mut cards = Vec::new();
    if let Some(d) = daily {
        let total = d.requests();
        let n = d.days.len().max(1) as f64;
        cards.push(kpi(
            "requests",
            "Requests",
            total,
            &count(total),
            &format!("{} per day on average", count(total / n)),
        ));
        if let Some(v) = &d.visitors {
            let avg = v.iter().sum::<f64>() / n;
            let (peak_day, peak) =
                d.days.iter().zip(v).fold(
                    ("", 0.0),
                    |best, (day, &x)| if x > best.1 { (day, x) } else { best },
                );
            cards.push(kpi(
                "visitors",
                "Visitors per day",
                avg.round(),
                &count(avg),
                &format!("peak {} on {peak_day}", count(peak)),
            ));
        }
        if let Some(humans) = d.humans() {
            cards.push(kpi(
                "humans",
                "Human traffic",
                humans,
                &percent(humans, total),
                &format!(
                    "{} human, {} bot requests",
                    count(humans),
                    count(total - humans)
                ),
            ));
        }
        if let Some(b) = &d.bytes_sent {
            let sum: f64 = b.iter().sum();
            cards.push(kpi(
                "bandwidth",
                "Bandwidth",
                sum,
                &bytes(sum),
                &format!("{} per day", bytes(sum / n)),
            ));
        }
    }
    if let Some(o) = statuses
        && let (Some(sc), Some(rc)) = (o.col("status"), o.col("requests"))
    {
        let (mut all, mut errors, mut missing) = (0.0, 0.0, 0.0);
        for r in 0..o.rows.len() {
            let status = o.num(r, sc);
            let n = o.num(r, rc);
            all += n;
            if status >= 400.0 {
                errors += n;
            }
            if status == 404.0 {
                missing += n;
            }
        }
        cards.push(kpi(
            "errors",
            "Error responses",
            errors,
            &percent(errors, all),
            &format!("{} errors, {} not found", count(errors), count(missing)),
        ));
    }
    html! {
        @if !cards.is_empty() {
            section class="kpis" { @for c in &cards { (c) } }
        }
    }
}

/// A chart card: title, note (either may name data), then `body`.
pub(super) fn card(id: &str, wide: bool, title: &str, note: &str, body: Markup) -> Markup {
    html! {
        div class=(if wide { "card wide" } else { "card" }) id={ "chart-" (id) } {
            h2 { (Text(title)) }
            p class="note" { (Text(note)) }
            (body)
        }
    }
}

fn daily_cards(d: &Daily) -> Markup {
    let (humans, bots) = match &d.human_requests {
        Some(hr) => (
            hr.clone(),
            d.requests
                .iter()
                .zip(hr)
                .map(|(a, b)| (a - b).max(0.0))
                .collect(),
        ),
        None => (d.requests.clone(), vec![0.0; d.requests.len()]),
    };
    let many = d.days.len() > 20;
    let chart = XChart {
        x: d.days.clone(),
        series: vec![
            Series {
                name: "Humans",
                color: BLUE,
                values: humans,
            },
            Series {
                name: "Bots",
                color: SLATE,
                values: bots,
            },
        ],
        width: if many { WIDE } else { HALF },
        height: 250.0,
        x_title: "day",
        y_title: "requests",
        fmt: count,
    };
    let requests = card(
        "daily-requests",
        many,
        "Requests per day",
        "All requests, split into human and bot traffic",
        html! {
            (legend(&[("Humans", BLUE), ("Bots", SLATE)]))
            (svg::columns(&chart, "Requests per day"))
        },
    );
    let visitors = d.visitors.as_ref().map(|v| {
        let mut series = vec![Series {
            name: "All visitors",
            color: TEAL,
            values: v.clone(),
        }];
        if let Some(hv) = &d.human_visitors {
            series.push(Series {
                name: "Human visitors",
                color: VIOLET,
                values: hv.clone(),
            });
        }
        card(
            "daily-visitors",
            many,
            "Visitors per day",
            "Distinct client addresses per day",
            day_lines(
                d.days.clone(),
                series,
                many,
                "visitors",
                count,
                "Visitors per day",
            ),
        )
    });
    html! { (requests) @if let Some(v) = visitors { (v) } }
}

/// A line chart of daily series with its legend.
pub(super) fn day_lines(
    days: Vec<String>,
    series: Vec<Series>,
    many: bool,
    y_title: &str,
    fmt: fn(f64) -> String,
    label: &str,
) -> Markup {
    let names: Vec<(&str, &str)> = series.iter().map(|s| (s.name, s.color)).collect();
    let legend = legend(&names);
    let chart = XChart {
        x: days,
        series,
        width: if many { WIDE } else { HALF },
        height: 250.0,
        x_title: "day",
        y_title,
        fmt,
    };
    html! { (legend) (svg::lines(&chart, label)) }
}

fn humans_card(d: &Daily) -> Option<Markup> {
    let humans = d.humans()?;
    let total = d.requests();
    let bots = (total - humans).max(0.0);
    let per_day = d
        .human_requests
        .as_ref()
        .filter(|_| d.days.len() <= 14)
        .map(|hr| {
            let rows: Vec<ShareRow> = d
                .days
                .iter()
                .zip(d.requests.iter().zip(hr))
                .map(|(day, (all, hu))| ShareRow {
                    label: day.clone(),
                    parts: vec![*hu, (all - hu).max(0.0)],
                    value: format!("{} bots", percent((all - hu).max(0.0), *all)),
                })
                .collect();
            svg::share_rows(
                &rows,
                &[BLUE, SLATE],
                &["Humans", "Bots"],
                HALF,
                "Humans vs bots per day",
            )
        });
    let body = html! {
        div class="split" {
            div {
                div class="small" {
                    span class="sw" style={ "background:" (BLUE) } {} "Human requests"
                }
                div class="big" id="human-requests" { (count(humans)) }
            }
            div {
                div class="small" {
                    span class="sw" style={ "background:" (SLATE) } {} "Bot requests"
                }
                div class="big" id="bot-requests" { (count(bots)) }
            }
        }
        (svg::share_bar(&[("Humans", humans, BLUE), ("Bots", bots, SLATE)], HALF, "Humans vs bots"))
        @if let Some(rows) = per_day {
            p class="note sub" { "Per day" }
            (rows)
        }
    };
    Some(card(
        "humans-bots",
        false,
        "Humans vs bots",
        "Share of all requests made by crawlers and other bots",
        body,
    ))
}

fn status_color(status: f64) -> &'static str {
    match status as i64 {
        200..=299 => GREEN,
        300..=399 => SKY,
        400..=499 => AMBER,
        500..=599 => RED,
        _ => SLATE,
    }
}

fn reason(status: i64) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        410 => "Gone",
        413 => "Content Too Large",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        499 => "Client Closed Request",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

fn status_card(o: &Output) -> Option<Markup> {
    let (sc, rc) = (o.col("status")?, o.col("requests")?);
    let bars: Vec<Bar> = (0..o.rows.len())
        .take(12)
        .map(|r| {
            let label = match o.text(r, sc) {
                None => "none".to_string(),
                Some(s) => match s.parse::<i64>() {
                    Ok(code) if !reason(code).is_empty() => format!("{code} {}", reason(code)),
                    _ => s.to_string(),
                },
            };
            Bar {
                label,
                value: o.num(r, rc),
                color: status_color(o.num(r, sc)),
            }
        })
        .collect();
    if bars.is_empty() {
        return None;
    }
    Some(card(
        "status_codes",
        false,
        "Status codes",
        "Responses by HTTP status",
        html! {
            (legend(&[("2xx", GREEN), ("3xx", SKY), ("4xx", AMBER), ("5xx", RED)]))
            (svg::hbars(&bars, HALF, "Status codes", count))
        },
    ))
}

/// Whether `countries` holds anything but NULL (no GeoIP database: every code is NULL).
fn has_countries(o: &Output) -> bool {
    o.col("country_code")
        .is_some_and(|c| (0..o.rows.len()).any(|r| o.text(r, c).is_some_and(|v| !v.is_empty())))
}

/// A top-ten horizontal bar chart of `label` by `requests`, if the output has both.
fn ranking(
    o: Option<&Output>,
    label: &str,
    title: &str,
    note: &str,
    color: &'static str,
) -> Option<Markup> {
    ranking_by(o, label, "requests", title, note, color, count)
}

/// A top-ten horizontal bar chart of `label` by the column `value`, if the output has both.
#[allow(clippy::too_many_arguments)]
pub(super) fn ranking_by(
    o: Option<&Output>,
    label: &str,
    value: &str,
    title: &str,
    note: &str,
    color: &'static str,
    fmt: fn(f64) -> String,
) -> Option<Markup> {
    let o = o?;
    let (lc, rc) = (o.col(label)?, o.col(value)?);
    let bars: Vec<Bar> = (0..o.rows.len())
        .take(TOP)
        .map(|r| Bar {
            label: match o.text(r, lc) {
                None if label == "country_code" => "Unknown".to_string(),
                None => "(none)".to_string(),
                Some(v) => v.to_string(),
            },
            value: o.num(r, rc),
            color,
        })
        .collect();
    if bars.is_empty() {
        return None;
    }
    let shown = if o.total as usize > bars.len() {
        format!("{note} · top {} of {}", bars.len(), group(o.total as i64))
    } else {
        note.to_string()
    };
    Some(card(
        &html::slug(&o.name),
        false,
        title,
        &shown,
        svg::hbars(&bars, HALF, title, fmt),
    ))
}

fn hourly_card(o: &Output) -> Option<Markup> {
    let (hours, requests) = (o.labels("hour", "?")?, o.series("requests")?);
    if hours.is_empty() {
        return None;
    }
    let x = hours
        .iter()
        .map(|hr| match hr.parse::<u32>() {
            Ok(n) => format!("{n:02}"),
            Err(_) => hr.clone(),
        })
        .collect();
    let chart = XChart {
        x,
        series: vec![Series {
            name: "Requests",
            color: BLUE,
            values: requests,
        }],
        width: WIDE,
        height: 180.0,
        x_title: "hour of day",
        y_title: "requests",
        fmt: count,
    };
    Some(card(
        "hourly_traffic",
        true,
        "Traffic by hour of day",
        "Requests per hour (server local time), summed over all days",
        svg::columns(&chart, "Traffic by hour of day"),
    ))
}
