//! The cards of visits (a headline row, visits per day, lengths, entry and exit pages,
//! campaigns, search engines), of the audience (OS, devices, weekdays) and of the fields
//! richer log formats add (sites, response times, slow pages). Each only when its output
//! has rows.

use std::collections::BTreeMap;

use maud::{Markup, html};

use super::Output;
use super::cards::{card, day_lines, kpi, ranking_by};
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
pub fn kpis(visits: Option<&Output>) -> Option<Markup> {
    let o = visits.filter(|o| !o.rows.is_empty())?;
    let sum = |name: &str| o.series(name).map(|v| v.iter().sum::<f64>());
    let (all, human) = (sum("visits")?, sum("human_visits")?);
    let mut cards = vec![kpi(
        "visits",
        "Visits",
        all,
        &count(all),
        &format!("{} by people", count(human)),
    )];
    if let Some(bounces) = sum("bounces") {
        cards.push(kpi(
            "bounce-rate",
            "Bounce rate",
            if human > 0.0 { bounces / human } else { 0.0 },
            &percent(bounces, human),
            &format!("{} visits of one page", count(bounces)),
        ));
    }
    // A median does not add up over days: the latest day's, named.
    if let (Some(c), Some(d)) = (o.col("median_visit_seconds"), o.col("day")) {
        let last = o.rows.len() - 1;
        let median = o.num(last, c);
        cards.push(kpi(
            "median-visit",
            "Median visit",
            median,
            &seconds(median),
            &format!("on {}", o.text(last, d).unwrap_or("?")),
        ));
    }
    if let Some(pageviews) = sum("pageviews") {
        let ppv = if human > 0.0 { pageviews / human } else { 0.0 };
        cards.push(kpi(
            "pages-per-visit",
            "Pages per visit",
            ppv,
            &ratio(ppv),
            &format!("{} page views", count(pageviews)),
        ));
    }
    Some(html! {
        section class="kpis" id="visit-kpis" { @for c in &cards { (c) } }
    })
}

/// Visits per day (all, and by people) and the charts of the visit outputs.
pub fn cards<'a>(get: &dyn Fn(&str) -> Option<&'a Output>) -> Markup {
    let cards = [
        get("visits").and_then(visits_card),
        get("visit_durations").and_then(durations_card),
        ranking_by(
            get("entry_pages"),
            "path",
            "visits",
            "Entry pages",
            "Pages human visits began on",
            INDIGO,
            count,
        ),
        ranking_by(
            get("exit_pages"),
            "path",
            "exits",
            "Exit pages",
            "Pages human visits ended on",
            AMBER,
            count,
        ),
        get("campaigns").and_then(campaigns_card),
        ranking_by(
            get("search_engines"),
            "engine",
            "visits",
            "Search engines",
            "Human visits arriving from a search",
            GREEN,
            count,
        ),
        ranking_by(
            get("operating_systems"),
            "os",
            "requests",
            "Operating systems",
            "Human requests by OS family",
            BLUE,
            count,
        ),
        ranking_by(
            get("devices"),
            "device",
            "requests",
            "Devices",
            "Human requests by device family",
            TEAL,
            count,
        ),
        get("weekdays").and_then(weekdays_card),
        get("vhosts").and_then(vhosts_card),
        get("response_times").and_then(response_times_card),
        ranking_by(
            get("slow_pages"),
            "path",
            "p95",
            "Slow pages",
            "95th percentile of response time, pages with 20+ timed requests",
            RED,
            latency,
        ),
    ];
    html! { @for card in cards.iter().flatten() { (card) } }
}

fn visits_card(o: &Output) -> Option<Markup> {
    let (days, all) = (o.labels("day", "?")?, o.series("visits")?);
    if days.is_empty() {
        return None;
    }
    let many = days.len() > 20;
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
    Some(card(
        "visits-per-day",
        many,
        "Visits per day",
        "Visits (a visitor's requests with no pause over the visit timeout)",
        day_lines(days, series, many, "visits", count, "Visits per day"),
    ))
}

fn durations_card(o: &Output) -> Option<Markup> {
    let (labels, values) = (o.labels("duration", "?")?, o.series("visits")?);
    if !values.iter().any(|v| *v > 0.0) {
        return None;
    }
    let bars: Vec<Bar> = labels
        .into_iter()
        .zip(values)
        .map(|(label, value)| Bar {
            label,
            value,
            color: SKY,
        })
        .collect();
    Some(card(
        "visit_durations",
        false,
        "Visit length",
        "Human visits by time from first to last request",
        svg::hbars(&bars, HALF, "Visit length", count),
    ))
}

fn campaigns_card(o: &Output) -> Option<Markup> {
    let (s, m, c, v) = (
        o.col("utm_source")?,
        o.col("utm_medium")?,
        o.col("utm_campaign")?,
        o.col("visits")?,
    );
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
        return None;
    }
    Some(card(
        "campaigns",
        false,
        "Campaigns",
        "Human visits by utm_source / utm_medium / utm_campaign of their entry page",
        svg::hbars(&bars, HALF, "Campaigns", count),
    ))
}

fn weekdays_card(o: &Output) -> Option<Markup> {
    let (names, requests) = (o.labels("name", "?")?, o.series("requests")?);
    if names.is_empty() {
        return None;
    }
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
    Some(card(
        "weekdays",
        false,
        "Day of the week",
        "Requests per day of the week, summed over the days in range",
        svg::columns(&chart, "Day of the week"),
    ))
}

fn vhosts_card(o: &Output) -> Option<Markup> {
    let (vc, rc) = (o.col("vhost")?, o.col("requests")?);
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
        return None;
    }
    Some(card(
        "vhosts",
        false,
        "Sites",
        "Requests per virtual host over the days in range",
        svg::hbars(&bars, HALF, "Sites", count),
    ))
}

fn response_times_card(o: &Output) -> Option<Markup> {
    let days = o.labels("day", "?").filter(|d| !d.is_empty())?;
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
        return None;
    }
    let many = days.len() > 20;
    Some(card(
        "response_times",
        many,
        "Response times",
        "Quantiles of request_time per day",
        day_lines(days, series, many, "seconds", latency, "Response times"),
    ))
}
