//! The page's charts and headline figures, one function per card. Labels from the data
//! reach the page through `escape` only (inside `svg` and `html`, or here).

use std::fmt::Write as _;

use super::Output;
use super::html::{self, AMBER, BLUE, GREEN, INDIGO, RED, SKY, SLATE, TEAL, VIOLET};
use super::html::{bytes, count, escape, group, legend, percent};
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
pub fn grid<'a>(h: &mut String, daily: Option<&Daily>, get: &dyn Fn(&str) -> Option<&'a Output>) {
    h.push_str("<section class=\"grid\">");
    if let Some(d) = daily {
        daily_cards(h, d);
    }
    if let Some(o) = get("hourly_traffic") {
        hourly_card(h, o);
    }
    if let Some(d) = daily {
        humans_card(h, d);
    }
    if let Some(o) = get("status_codes") {
        status_card(h, o);
    }
    match get("browser_counts") {
        Some(o) => ranking(
            h,
            Some(o),
            "browser",
            "Browsers",
            "Human requests by browser family",
            BLUE,
        ),
        None => ranking(
            h,
            get("browser_counts_simple"),
            "browser",
            "Browsers",
            "Requests by browser family, bots included",
            BLUE,
        ),
    }
    ranking(
        h,
        get("top_pages"),
        "path",
        "Top pages",
        "Requests per page, static files excluded",
        INDIGO,
    );
    if let Some(o) = get("countries").filter(|o| has_countries(o)) {
        ranking(
            h,
            Some(o),
            "country_code",
            "Countries",
            "Requests by client country (GeoIP)",
            TEAL,
        );
    }
    ranking(
        h,
        get("referrers"),
        "site",
        "Referrers",
        "Requests by referring site",
        VIOLET,
    );
    ranking(
        h,
        get("bots"),
        "crawler",
        "Crawlers and bots",
        "Requests by crawler, feed reader or HTTP library",
        SLATE,
    );
    ranking(
        h,
        get("not_found"),
        "path",
        "Not found (404)",
        "Most requested missing paths",
        AMBER,
    );
    super::visits::cards(h, get);
    h.push_str("</section>");
}

pub(super) fn kpi(h: &mut String, id: &str, label: &str, raw: f64, value: &str, sub: &str) {
    let _ = write!(
        h,
        "<div class=\"kpi\" id=\"kpi-{id}\" data-value=\"{raw}\"><div class=\"label\">{}</div><div class=\"value\">{}</div><div class=\"sub\">{}</div></div>",
        escape(label),
        escape(value),
        escape(sub)
    );
}

pub fn kpis(h: &mut String, daily: Option<&Daily>, statuses: Option<&Output>) {
    let mut cards = String::new();
    if let Some(d) = daily {
        let total = d.requests();
        let n = d.days.len().max(1) as f64;
        kpi(
            &mut cards,
            "requests",
            "Requests",
            total,
            &count(total),
            &format!("{} per day on average", count(total / n)),
        );
        if let Some(v) = &d.visitors {
            let avg = v.iter().sum::<f64>() / n;
            let (peak_day, peak) =
                d.days.iter().zip(v).fold(
                    ("", 0.0),
                    |best, (day, &x)| if x > best.1 { (day, x) } else { best },
                );
            kpi(
                &mut cards,
                "visitors",
                "Visitors per day",
                avg.round(),
                &count(avg),
                &format!("peak {} on {peak_day}", count(peak)),
            );
        }
        if let Some(humans) = d.humans() {
            kpi(
                &mut cards,
                "humans",
                "Human traffic",
                humans,
                &percent(humans, total),
                &format!(
                    "{} human, {} bot requests",
                    count(humans),
                    count(total - humans)
                ),
            );
        }
        if let Some(b) = &d.bytes_sent {
            let sum: f64 = b.iter().sum();
            kpi(
                &mut cards,
                "bandwidth",
                "Bandwidth",
                sum,
                &bytes(sum),
                &format!("{} per day", bytes(sum / n)),
            );
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
        kpi(
            &mut cards,
            "errors",
            "Error responses",
            errors,
            &percent(errors, all),
            &format!("{} errors, {} not found", count(errors), count(missing)),
        );
    }
    if !cards.is_empty() {
        let _ = write!(h, "<section class=\"kpis\">{cards}</section>");
    }
}

pub(super) fn card_open(h: &mut String, id: &str, wide: bool, title: &str, note: &str) {
    let _ = write!(
        h,
        "<div class=\"card{}\" id=\"chart-{id}\"><h2>{}</h2><p class=\"note\">{}</p>",
        if wide { " wide" } else { "" },
        escape(title),
        escape(note)
    );
}

fn daily_cards(h: &mut String, d: &Daily) {
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
    card_open(
        h,
        "daily-requests",
        many,
        "Requests per day",
        "All requests, split into human and bot traffic",
    );
    h.push_str(&legend(&[("Humans", BLUE), ("Bots", SLATE)]));
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
    h.push_str(&svg::columns(&chart, "Requests per day"));
    h.push_str("</div>");

    if let Some(v) = &d.visitors {
        card_open(
            h,
            "daily-visitors",
            many,
            "Visitors per day",
            "Distinct client addresses per day",
        );
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
        day_lines(
            h,
            d.days.clone(),
            series,
            many,
            "visitors",
            count,
            "Visitors per day",
        );
    }
}

/// A card's line chart of daily series with its legend, closing the card.
pub(super) fn day_lines(
    h: &mut String,
    days: Vec<String>,
    series: Vec<Series>,
    many: bool,
    y_title: &str,
    fmt: fn(f64) -> String,
    label: &str,
) {
    let names: Vec<(&str, &str)> = series.iter().map(|s| (s.name, s.color)).collect();
    h.push_str(&legend(&names));
    let chart = XChart {
        x: days,
        series,
        width: if many { WIDE } else { HALF },
        height: 250.0,
        x_title: "day",
        y_title,
        fmt,
    };
    h.push_str(&svg::lines(&chart, label));
    h.push_str("</div>");
}

fn humans_card(h: &mut String, d: &Daily) {
    if let Some(humans) = d.humans() {
        let total = d.requests();
        let bots = (total - humans).max(0.0);
        card_open(
            h,
            "humans-bots",
            false,
            "Humans vs bots",
            "Share of all requests made by crawlers and other bots",
        );
        let _ = write!(
            h,
            "<div class=\"split\"><div><div class=\"small\"><span class=\"sw\" style=\"background:{BLUE}\"></span>Human requests</div><div class=\"big\" id=\"human-requests\">{}</div></div>\
             <div><div class=\"small\"><span class=\"sw\" style=\"background:{SLATE}\"></span>Bot requests</div><div class=\"big\" id=\"bot-requests\">{}</div></div></div>",
            count(humans),
            count(bots)
        );
        h.push_str(&svg::share_bar(
            &[("Humans", humans, BLUE), ("Bots", bots, SLATE)],
            HALF,
            "Humans vs bots",
        ));
        if let Some(hr) = d.human_requests.as_ref().filter(|_| d.days.len() <= 14) {
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
            h.push_str("<p class=\"note sub\">Per day</p>");
            h.push_str(&svg::share_rows(
                &rows,
                &[BLUE, SLATE],
                &["Humans", "Bots"],
                HALF,
                "Humans vs bots per day",
            ));
        }
        h.push_str("</div>");
    }
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

fn status_card(h: &mut String, o: &Output) {
    let (Some(sc), Some(rc)) = (o.col("status"), o.col("requests")) else {
        return;
    };
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
        return;
    }
    card_open(
        h,
        "status_codes",
        false,
        "Status codes",
        "Responses by HTTP status",
    );
    h.push_str(&legend(&[
        ("2xx", GREEN),
        ("3xx", SKY),
        ("4xx", AMBER),
        ("5xx", RED),
    ]));
    h.push_str(&svg::hbars(&bars, HALF, "Status codes", count));
    h.push_str("</div>");
}

/// Whether `countries` holds anything but NULL (no GeoIP database: every code is NULL).
fn has_countries(o: &Output) -> bool {
    o.col("country_code")
        .is_some_and(|c| (0..o.rows.len()).any(|r| o.text(r, c).is_some_and(|v| !v.is_empty())))
}

/// A top-ten horizontal bar chart of `label` by `requests`, if the output has both.
fn ranking(
    h: &mut String,
    o: Option<&Output>,
    label: &str,
    title: &str,
    note: &str,
    color: &'static str,
) {
    ranking_by(h, o, label, "requests", title, note, color, count);
}

/// A top-ten horizontal bar chart of `label` by the column `value`, if the output has both.
#[allow(clippy::too_many_arguments)]
pub(super) fn ranking_by(
    h: &mut String,
    o: Option<&Output>,
    label: &str,
    value: &str,
    title: &str,
    note: &str,
    color: &'static str,
    fmt: fn(f64) -> String,
) {
    let Some(o) = o else { return };
    let (Some(lc), Some(rc)) = (o.col(label), o.col(value)) else {
        return;
    };
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
        return;
    }
    let shown = if o.total as usize > bars.len() {
        format!("{note} · top {} of {}", bars.len(), group(o.total as i64))
    } else {
        note.to_string()
    };
    card_open(h, &html::slug(&o.name), false, title, &shown);
    h.push_str(&svg::hbars(&bars, HALF, title, fmt));
    h.push_str("</div>");
}

fn hourly_card(h: &mut String, o: &Output) {
    let (Some(hours), Some(requests)) = (o.labels("hour", "?"), o.series("requests")) else {
        return;
    };
    if hours.is_empty() {
        return;
    }
    card_open(
        h,
        "hourly_traffic",
        true,
        "Traffic by hour of day",
        "Requests per hour (server local time), summed over all days",
    );
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
    h.push_str(&svg::columns(&chart, "Traffic by hour of day"));
    h.push_str("</div>");
}
