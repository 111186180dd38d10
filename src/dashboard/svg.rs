//! Inline SVG charts: horizontal bars, stacked columns over a category axis, lines, and a
//! 100% share bar, written with maud's `html!` like the rest of the page. Labels come from
//! the logs, so each is spliced as [`Text`] (after [`clip`], so an entity is never cut);
//! hover text is in `<title>`. Every element is closed explicitly: in SVG inside HTML an
//! unclosed `<rect>` would hold the elements after it.

use maud::{Markup, html};

use super::html::{Text, clip, compact};

/// Average glyph width at 12px, for fitting labels (Arial-like metrics).
const CHAR_W: f64 = 6.6;

pub struct Bar {
    pub label: String,
    pub value: f64,
    pub color: &'static str,
}

pub struct Series {
    pub name: &'static str,
    pub color: &'static str,
    pub values: Vec<f64>,
}

/// A chart over categories (days, hours): `x` labels, one or more series.
pub struct XChart<'a> {
    pub x: Vec<String>,
    pub series: Vec<Series>,
    pub width: f64,
    pub height: f64,
    pub x_title: &'a str,
    pub y_title: &'a str,
    /// Format of a value in hover text and point labels.
    pub fmt: fn(f64) -> String,
}

/// A coordinate as the charts write it: one decimal.
fn d1(v: f64) -> String {
    format!("{v:.1}")
}

fn chart(width: f64, height: f64, label: &str, body: Markup) -> Markup {
    let (w, h) = (format!("{width:.0}"), format!("{height:.0}"));
    html! {
        svg viewBox={ "0 0 " (w) " " (h) } width=(w) height=(h) role="img"
            aria-label=(Text(label)) {
            (body)
        }
    }
}

/// Horizontal bars, one row per item: label, track with bar, value on the right.
pub fn hbars(bars: &[Bar], width: f64, label: &str, fmt: fn(f64) -> String) -> Markup {
    const ROW: f64 = 26.0;
    const BAR_H: f64 = 14.0;
    let values: Vec<String> = bars.iter().map(|b| fmt(b.value)).collect();
    let value_w = values
        .iter()
        .map(|v| v.chars().count() as f64 * CHAR_W + 14.0)
        .fold(44.0, f64::max);
    let label_w = (width * 0.38).min(240.0);
    let x0 = label_w + 10.0;
    let track = (width - x0 - value_w).max(10.0);
    let x0 = d1(x0);
    let max = bars.iter().map(|b| b.value).fold(0.0, f64::max);
    let height = (bars.len() as f64 * ROW).max(ROW);
    let max_chars = (label_w / CHAR_W) as usize;
    let body = html! {
        @for (i, (b, v)) in bars.iter().zip(&values).enumerate() {
            @let cy = i as f64 * ROW + ROW / 2.0;
            @let w = if max > 0.0 { b.value / max * track } else { 0.0 };
            @let w = if b.value > 0.0 { w.max(2.0) } else { 0.0 };
            @let y = d1(cy - BAR_H / 2.0);
            g {
                title { (Text(&b.label)) ": " (Text(v)) }
                text class="lbl" x="0" y=(d1(cy + 4.0)) { (Text(&clip(&b.label, max_chars))) }
                rect x=(x0) y=(y) width=(d1(track)) height=(BAR_H) rx="4" fill="#f1f5f9" {}
                rect x=(x0) y=(y) width=(d1(w)) height=(BAR_H) rx="4" fill=(b.color) {}
                text class="val" x=(d1(width)) y=(d1(cy + 4.0)) text-anchor="end" { (Text(v)) }
            }
        }
    };
    chart(width, height, label, body)
}

/// A row of [`share_rows`]: a label, parts of a whole, and the text shown on the right.
pub struct ShareRow {
    pub label: String,
    pub parts: Vec<f64>,
    pub value: String,
}

/// One 100% bar per row, split into `parts` (coloured by `colors`), laid out like [`hbars`].
pub fn share_rows(
    rows: &[ShareRow],
    colors: &[&str],
    names: &[&str],
    width: f64,
    label: &str,
) -> Markup {
    const ROW: f64 = 26.0;
    const BAR_H: f64 = 14.0;
    let value_w = rows
        .iter()
        .map(|r| r.value.chars().count() as f64 * CHAR_W + 14.0)
        .fold(44.0, f64::max);
    let label_w = (width * 0.38).min(240.0);
    let x0 = label_w + 10.0;
    let track = (width - x0 - value_w).max(10.0);
    let max_chars = (label_w / CHAR_W) as usize;
    let height = (rows.len() as f64 * ROW).max(ROW);
    let body = html! {
        @for (i, r) in rows.iter().enumerate() {
            @let cy = i as f64 * ROW + ROW / 2.0;
            @let y = d1(cy - BAR_H / 2.0);
            text class="lbl" x="0" y=(d1(cy + 4.0)) { (Text(&clip(&r.label, max_chars))) }
            rect x=(d1(x0)) y=(y) width=(d1(track)) height=(BAR_H) rx="4" fill="#f1f5f9" {}
            @for (k, x, w, share) in split(&r.parts, x0, track) {
                rect x=(d1(x)) y=(y) width=(d1(w)) height=(BAR_H) fill=(colors[k % colors.len()]) {
                    title {
                        (Text(&r.label)) " · " (Text(names.get(k).copied().unwrap_or("")))
                        ": " (format!("{share:.1}%"))
                    }
                }
            }
            text class="val" x=(d1(width)) y=(d1(cy + 4.0)) text-anchor="end" { (Text(&r.value)) }
        }
    };
    chart(width, height, label, body)
}

/// The non-empty parts of a 100% bar from `x0` over `width`: (index, x, width, percent).
fn split(parts: &[f64], x0: f64, width: f64) -> Vec<(usize, f64, f64, f64)> {
    let total: f64 = parts.iter().sum();
    let mut x = x0;
    let mut out = Vec::new();
    for (k, v) in parts.iter().enumerate() {
        if total <= 0.0 || *v <= 0.0 {
            continue;
        }
        let w = v / total * width;
        out.push((k, x, w, 100.0 * v / total));
        x += w;
    }
    out
}

/// A "nice" axis for values up to `max`: (step, top), step of 1, 2, 2.5 or 5 × 10^k, ≥ 1.
pub fn nice_scale(max: f64) -> (f64, f64) {
    if max.is_nan() || max <= 0.0 {
        return (1.0, 1.0);
    }
    let raw = max / 4.0;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = match norm {
        n if n <= 1.0 => 1.0,
        n if n <= 2.0 => 2.0,
        n if n <= 2.5 => 2.5,
        n if n <= 5.0 => 5.0,
        _ => 10.0,
    };
    let step = (nice * mag).max(1.0);
    (step, ((max / step).ceil() * step).max(step))
}

/// Plot area and scales shared by the column and line charts.
struct Frame {
    left: f64,
    top: f64,
    w: f64,
    h: f64,
    max: f64,
    step: f64,
    band: f64,
}

impl Frame {
    fn new(c: &XChart, max: f64) -> Frame {
        let (step, top_value) = nice_scale(max);
        let y_label_w = compact(top_value).len() as f64 * CHAR_W;
        let left = 26.0 + y_label_w + 8.0;
        let (top, bottom, right) = (16.0, 44.0, 8.0);
        let w = c.width - left - right;
        Frame {
            left,
            top,
            w,
            h: c.height - top - bottom,
            max: top_value,
            step,
            band: w / c.x.len().max(1) as f64,
        }
    }

    fn y(&self, v: f64) -> f64 {
        self.top + self.h - v / self.max * self.h
    }

    fn cx(&self, i: usize) -> f64 {
        self.left + (i as f64 + 0.5) * self.band
    }

    /// Grid lines, tick labels, category labels (thinned to fit) and axis titles.
    fn axes(&self, c: &XChart) -> Markup {
        let ticks = (self.max / self.step).round() as usize;
        let label_chars = c.x.iter().map(|l| l.chars().count()).max().unwrap_or(1);
        let label_w = label_chars.min(12) as f64 * CHAR_W + 14.0;
        let every = (label_w / self.band).ceil().max(1.0) as usize;
        let base = self.top + self.h;
        html! {
            @for t in 0..=ticks {
                @let v = t as f64 * self.step;
                @let y = d1(self.y(v));
                line class=(if t == 0 { "axis" } else { "grid" })
                    x1=(d1(self.left)) x2=(d1(self.left + self.w)) y1=(y) y2=(y) {}
                text x=(d1(self.left - 8.0)) y=(d1(self.y(v) + 4.0)) text-anchor="end" {
                    (compact(v))
                }
            }
            @for (i, l) in c.x.iter().enumerate().step_by(every) {
                @let x = d1(self.cx(i));
                line class="axis" x1=(x) x2=(x) y1=(d1(base)) y2=(d1(base + 4.0)) {}
                text x=(x) y=(d1(base + 18.0)) text-anchor="middle" { (Text(&clip(l, 12))) }
            }
            text class="axis-title" x=(d1(self.left + self.w / 2.0)) y=(d1(c.height - 6.0))
                text-anchor="middle" {
                (c.x_title)
            }
            text class="axis-title" transform="rotate(-90)" x=(d1(-(self.top + self.h / 2.0)))
                y="12" text-anchor="middle" {
                (c.y_title)
            }
        }
    }
}

/// Columns per category, the series stacked bottom-up; totals above the columns when few.
pub fn columns(c: &XChart, label: &str) -> Markup {
    let totals: Vec<f64> = (0..c.x.len())
        .map(|i| c.series.iter().map(|s| s.values[i]).sum())
        .collect();
    let f = Frame::new(c, totals.iter().copied().fold(0.0, f64::max));
    let bar_w = if f.band >= 4.0 {
        (f.band * 0.62).min(64.0)
    } else {
        f.band
    };
    let body = html! {
        (f.axes(c))
        @for (i, x) in c.x.iter().enumerate() {
            @let left = d1(f.cx(i) - bar_w / 2.0);
            @for (series, below) in stacked(&c.series, i) {
                @let v = series.values[i];
                @let y = f.y(below + v);
                rect x=(left) y=(d1(y)) width=(d1(bar_w)) height=(d1(f.y(below) - y))
                    fill=(series.color) {
                    title { (Text(x)) " · " (series.name) ": " ((c.fmt)(v)) }
                }
            }
            @if c.x.len() <= 16 && totals[i] > 0.0 {
                text class="val" x=(d1(f.cx(i))) y=(d1(f.y(totals[i]) - 6.0)) text-anchor="middle" {
                    ((c.fmt)(totals[i]))
                }
            }
        }
    };
    chart(c.width, c.height, label, body)
}

/// The series with a positive value at `i`, each with the sum of those stacked below it.
fn stacked(series: &[Series], i: usize) -> Vec<(&Series, f64)> {
    let mut below = 0.0;
    let mut out = Vec::new();
    for s in series.iter().filter(|s| s.values[i] > 0.0) {
        out.push((s, below));
        below += s.values[i];
    }
    out
}

/// One line per series (the first with a soft area under it), points marked when few.
pub fn lines(c: &XChart, label: &str) -> Markup {
    let max = c
        .series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0, f64::max);
    let f = Frame::new(c, max);
    let n = c.x.len();
    let body = html! {
        (f.axes(c))
        @for (k, series) in c.series.iter().enumerate() {
            @let pts: Vec<String> = (0..n)
                .map(|i| format!("{:.1},{:.1}", f.cx(i), f.y(series.values[i])))
                .collect();
            @if k == 0 && n > 1 {
                path d=(format!(
                    "M{:.1},{:.1} L{} L{:.1},{:.1} Z",
                    f.cx(0),
                    f.y(0.0),
                    pts.join(" L"),
                    f.cx(n - 1),
                    f.y(0.0)
                )) fill=(series.color) fill-opacity="0.08" {}
            }
            @if n > 1 {
                polyline points=(pts.join(" ")) fill="none" stroke=(series.color)
                    stroke-width="2.25"
                    stroke-linejoin="round" stroke-linecap="round" {}
            }
            @if n <= 62 {
                @for (i, x) in c.x.iter().enumerate() {
                    @let v = series.values[i];
                    circle cx=(d1(f.cx(i))) cy=(d1(f.y(v))) r="3.5" fill="#fff"
                        stroke=(series.color) stroke-width="2" {
                        title { (Text(x)) " · " (series.name) ": " ((c.fmt)(v)) }
                    }
                    @if k == 0 && n <= 16 {
                        text class="val" x=(d1(f.cx(i))) y=(d1(f.y(v) - 10.0))
                            text-anchor="middle" {
                            ((c.fmt)(v))
                        }
                    }
                }
            }
        }
    };
    chart(c.width, c.height, label, body)
}

/// A single bar split in proportion to `parts` (name, value, colour), shares written inside.
pub fn share_bar(parts: &[(&str, f64, &'static str)], width: f64, label: &str) -> Markup {
    const H: f64 = 30.0;
    let values: Vec<f64> = parts.iter().map(|p| p.1).collect();
    let body = html! {
        rect x="0" y="0" width=(d1(width)) height=(H) rx="6" fill="#f1f5f9" {}
        @for (k, x, w, share) in split(&values, 0.0, width) {
            @let (name, _, color) = parts[k];
            @let share = format!("{share:.1}%");
            rect x=(d1(x)) y="0" width=(d1(w)) height=(H) fill=(color) {
                title { (name) ": " (share) }
            }
            @if w > share.len() as f64 * CHAR_W + 12.0 {
                text class="in" x=(d1(x + 10.0)) y=(d1(H / 2.0 + 4.0)) { (share) }
            }
        }
    };
    chart(width, H, label, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_scales() {
        assert_eq!(nice_scale(0.0), (1.0, 1.0));
        assert_eq!(nice_scale(3.0), (1.0, 3.0));
        assert_eq!(nice_scale(9_981.0), (2_500.0, 10_000.0));
        assert_eq!(nice_scale(1_234.0), (500.0, 1_500.0));
    }

    #[test]
    fn labels_are_escaped_and_clipped() {
        let svg = hbars(
            &[Bar {
                label: "<script>alert(1)</script>".into(),
                value: 3.0,
                color: "#000",
            }],
            300.0,
            "x",
            |v| format!("{v}"),
        )
        .into_string();
        assert!(!svg.contains("<script"));
        assert!(svg.contains("&lt;script&gt;"));
    }
}
