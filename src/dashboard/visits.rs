//! The cards of visits (a headline row, visits per day, lengths, entry and exit pages,
//! campaigns, search engines), of the audience (OS, devices, weekdays) and of the fields
//! richer log formats add (sites, response times, slow pages). Each only when its output
//! has rows.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::Output;
use super::cards::{card_open, day_lines, kpi, ranking_by};
use super::html::{AMBER, BLUE, GREEN, INDIGO, RED, SKY, SLATE, TEAL, VIOLET};
use super::html::{count, percent};
use super::svg::{self, Bar, Series, XChart};

const HALF: f64 = 524.0;

/// A duration in seconds as people read it: 45s, 3m 20s, 1h 05m.
pub fn seconds(s: f64) -> String {
    if !s.is_finite() {
        return "–".into();
    }
    let s = s.max(0.0);
    if s < 60.0 {
        format!("{s:.0}s")
    } else if s < 3600.0 {
        format!("{}m {:02}s", (s / 60.0) as i64, (s % 60.0) as i64)
    } else {
        format!(
            "{}h {:02}m",
            (s / 3600.0) as i64,
            ((s % 3600.0) / 60.0) as i64
        )
    }
}

/// Response times: 12 ms, 1.25 s.
fn latency(s: f64) -> String {
    if s < 1.0 {
        format!("{:.0} ms", s * 1000.0)
    } else {
        format!("{s:.2} s")
    }
}

fn ratio(v: f64) -> String {
    format!("{v:.2}")
}

/// The visits headline row: visits, bounce rate, median visit length, pages per visit.
pub fn kpis(h: &mut String, visits: Option<&Output>) {
    let Some(o) = visits.filter(|o| !o.rows.is_empty()) else {
        return;
    };
    let sum = |name: &str| o.series(name).map(|v| v.iter().sum::<f64>());
    let (Some(all), Some(human)) = (sum("visits"), sum("human_visits")) else {
        return;
    };
    let mut cards = String::new();
    kpi(
        &mut cards,
        "visits",
        "Visits",
        all,
        &count(all),
        &format!("{} by people", count(human)),
    );
    if let Some(bounces) = sum("bounces") {
        kpi(
            &mut cards,
            "bounce-rate",
            "Bounce rate",
            if human > 0.0 { bounces / human } else { 0.0 },
            &percent(bounces, human),
            &format!("{} visits of one page", count(bounces)),
        );
    }
    // A median does not add up over days: the latest day's, named.
    if let (Some(c), Some(d)) = (o.col("median_visit_seconds"), o.col("day")) {
        let last = o.rows.len() - 1;
        let median = o.num(last, c);
        kpi(
            &mut cards,
            "median-visit",
            "Median visit",
            median,
            &seconds(median),
            &format!("on {}", o.text(last, d).unwrap_or("?")),
        );
    }
    if let Some(pageviews) = sum("pageviews") {
        let ppv = if human > 0.0 { pageviews / human } else { 0.0 };
        kpi(
            &mut cards,
            "pages-per-visit",
            "Pages per visit",
            ppv,
            &ratio(ppv),
            &format!("{} page views", count(pageviews)),
        );
    }
    let _ = write!(
        h,
        "<section class=\"kpis\" id=\"visit-kpis\">{cards}</section>"
    );
}

/// Visits per day (all, and by people) and the charts of the visit outputs.
pub fn cards<'a>(h: &mut String, get: &dyn Fn(&str) -> Option<&'a Output>) {
    if let Some(o) = get("visits")
        && let (Some(days), Some(all)) = (o.labels("day", "?"), o.series("visits"))
        && !days.is_empty()
    {
        let many = days.len() > 20;
        card_open(
            h,
            "visits-per-day",
            many,
            "Visits per day",
            "Visits (a visitor's requests with no pause over the visit timeout)",
        );
        let mut series = vec![Series {
            name: "All visits",
            color: TEAL,
            values: all,
        }];
        if let Some(human) = o.series("human_visits") {
            series.push(Series {
                name: "Human visits",
                color: VIOLET,
                values: human,
            });
        }
        day_lines(h, days, series, many, "visits", count, "Visits per day");
    }
    if let Some(o) = get("visit_durations")
        && let (Some(labels), Some(values)) = (o.labels("duration", "?"), o.series("visits"))
        && values.iter().any(|v| *v > 0.0)
    {
        card_open(
            h,
            "visit_durations",
            false,
            "Visit length",
            "Human visits by time from first to last request",
        );
        let bars: Vec<Bar> = labels
            .into_iter()
            .zip(values)
            .map(|(label, value)| Bar {
                label,
                value,
                color: SKY,
            })
            .collect();
        h.push_str(&svg::hbars(&bars, HALF, "Visit length", count));
        h.push_str("</div>");
    }
    ranking_by(
        h,
        get("entry_pages"),
        "path",
        "visits",
        "Entry pages",
        "Pages human visits began on",
        INDIGO,
        count,
    );
    ranking_by(
        h,
        get("exit_pages"),
        "path",
        "exits",
        "Exit pages",
        "Pages human visits ended on",
        AMBER,
        count,
    );
    if let Some(o) = get("campaigns") {
        campaigns_card(h, o);
    }
    ranking_by(
        h,
        get("search_engines"),
        "engine",
        "visits",
        "Search engines",
        "Human visits arriving from a search",
        GREEN,
        count,
    );
    ranking_by(
        h,
        get("operating_systems"),
        "os",
        "requests",
        "Operating systems",
        "Human requests by OS family",
        BLUE,
        count,
    );
    ranking_by(
        h,
        get("devices"),
        "device",
        "requests",
        "Devices",
        "Human requests by device family",
        TEAL,
        count,
    );
    if let Some(o) = get("weekdays") {
        weekdays_card(h, o);
    }
    if let Some(o) = get("vhosts") {
        vhosts_card(h, o);
    }
    if let Some(o) = get("response_times") {
        response_times_card(h, o);
    }
    ranking_by(
        h,
        get("slow_pages"),
        "path",
        "p95",
        "Slow pages",
        "95th percentile of response time, pages with 20+ timed requests",
        RED,
        latency,
    );
}

fn campaigns_card(h: &mut String, o: &Output) {
    let (Some(s), Some(m), Some(c), Some(v)) = (
        o.col("utm_source"),
        o.col("utm_medium"),
        o.col("utm_campaign"),
        o.col("visits"),
    ) else {
        return;
    };
    let bars: Vec<Bar> = (0..o.rows.len())
        .take(10)
        .map(|r| {
            let part = |col| o.text(r, col).unwrap_or("–").to_string();
            Bar {
                label: format!("{} / {} / {}", part(s), part(m), part(c)),
                value: o.num(r, v),
                color: VIOLET,
            }
        })
        .collect();
    if bars.is_empty() {
        return;
    }
    card_open(
        h,
        "campaigns",
        false,
        "Campaigns",
        "Human visits by utm_source / utm_medium / utm_campaign of their entry page",
    );
    h.push_str(&svg::hbars(&bars, HALF, "Campaigns", count));
    h.push_str("</div>");
}

fn weekdays_card(h: &mut String, o: &Output) {
    let (Some(names), Some(requests)) = (o.labels("name", "?"), o.series("requests")) else {
        return;
    };
    if names.is_empty() {
        return;
    }
    card_open(
        h,
        "weekdays",
        false,
        "Day of the week",
        "Requests per day of the week, summed over the days in range",
    );
    let chart = XChart {
        x: names.iter().map(|n| n.chars().take(3).collect()).collect(),
        series: vec![Series {
            name: "Requests",
            color: BLUE,
            values: requests,
        }],
        width: HALF,
        height: 220.0,
        x_title: "day of the week",
        y_title: "requests",
        fmt: count,
    };
    h.push_str(&svg::columns(&chart, "Day of the week"));
    h.push_str("</div>");
}

fn vhosts_card(h: &mut String, o: &Output) {
    let (Some(vc), Some(rc)) = (o.col("vhost"), o.col("requests")) else {
        return;
    };
    let mut totals: BTreeMap<String, f64> = BTreeMap::new();
    for r in 0..o.rows.len() {
        *totals
            .entry(o.text(r, vc).unwrap_or("(none)").to_string())
            .or_default() += o.num(r, rc);
    }
    let mut sites: Vec<(String, f64)> = totals.into_iter().collect();
    sites.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let bars: Vec<Bar> = sites
        .into_iter()
        .take(10)
        .map(|(label, value)| Bar {
            label,
            value,
            color: SLATE,
        })
        .collect();
    if bars.is_empty() {
        return;
    }
    card_open(
        h,
        "vhosts",
        false,
        "Sites",
        "Requests per virtual host over the days in range",
    );
    h.push_str(&svg::hbars(&bars, HALF, "Sites", count));
    h.push_str("</div>");
}

fn response_times_card(h: &mut String, o: &Output) {
    let Some(days) = o.labels("day", "?").filter(|d| !d.is_empty()) else {
        return;
    };
    let mut series = Vec::new();
    for (name, column, color) in [
        ("p50", "p50", GREEN),
        ("p95", "p95", AMBER),
        ("p99", "p99", RED),
    ] {
        if let Some(values) = o.series(column) {
            series.push(Series {
                name,
                color,
                values,
            });
        }
    }
    if series.is_empty() {
        return;
    }
    let many = days.len() > 20;
    card_open(
        h,
        "response_times",
        many,
        "Response times",
        "Quantiles of request_time per day",
    );
    day_lines(h, days, series, many, "seconds", latency, "Response times");
}
