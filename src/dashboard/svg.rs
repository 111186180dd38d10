//! Inline SVG charts built by hand: horizontal bars, stacked columns over a category axis,
//! lines, and a 100% share bar. Labels come from the logs, so every one goes through
//! [`escape`] (after [`clip`], so an entity is never cut); hover text is in `<title>`.

use std::fmt::Write as _;

use super::html::{clip, compact, escape};

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

fn open(out: &mut String, width: f64, height: f64, label: &str) {
    let _ = write!(
        out,
        "<svg viewBox=\"0 0 {width:.0} {height:.0}\" width=\"{width:.0}\" height=\"{height:.0}\" role=\"img\" aria-label=\"{}\">",
        escape(label)
    );
}

/// Horizontal bars, one row per item: label, track with bar, value on the right.
pub fn hbars(bars: &[Bar], width: f64, label: &str, fmt: fn(f64) -> String) -> String {
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
    let max = bars.iter().map(|b| b.value).fold(0.0, f64::max);
    let height = (bars.len() as f64 * ROW).max(ROW);
    let max_chars = (label_w / CHAR_W) as usize;
    let mut s = String::new();
    open(&mut s, width, height, label);
    for (i, (b, v)) in bars.iter().zip(&values).enumerate() {
        let cy = i as f64 * ROW + ROW / 2.0;
        let w = if max > 0.0 {
            b.value / max * track
        } else {
            0.0
        };
        let w = if b.value > 0.0 { w.max(2.0) } else { 0.0 };
        let _ = write!(
            s,
            "<g><title>{}: {}</title><text class=\"lbl\" x=\"0\" y=\"{:.1}\">{}</text>\
             <rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{track:.1}\" height=\"{BAR_H}\" rx=\"4\" fill=\"#f1f5f9\"></rect>\
             <rect x=\"{x0:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{BAR_H}\" rx=\"4\" fill=\"{}\"></rect>\
             <text class=\"val\" x=\"{width:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text></g>",
            escape(&b.label),
            escape(v),
            cy + 4.0,
            escape(&clip(&b.label, max_chars)),
            cy - BAR_H / 2.0,
            cy - BAR_H / 2.0,
            b.color,
            cy + 4.0,
            escape(v),
        );
    }
    s.push_str("</svg>");
    s
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
) -> String {
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
    let mut s = String::new();
    open(&mut s, width, height, label);
    for (i, r) in rows.iter().enumerate() {
        let cy = i as f64 * ROW + ROW / 2.0;
        let y = cy - BAR_H / 2.0;
        let total: f64 = r.parts.iter().sum();
        let _ = write!(
            s,
            "<text class=\"lbl\" x=\"0\" y=\"{:.1}\">{}</text>\
             <rect x=\"{x0:.1}\" y=\"{y:.1}\" width=\"{track:.1}\" height=\"{BAR_H}\" rx=\"4\" fill=\"#f1f5f9\"></rect>",
            cy + 4.0,
            escape(&clip(&r.label, max_chars)),
        );
        let mut x = x0;
        for (k, v) in r.parts.iter().enumerate() {
            if total <= 0.0 || *v <= 0.0 {
                continue;
            }
            let w = v / total * track;
            let _ = write!(
                s,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{BAR_H}\" fill=\"{}\"><title>{} · {}: {:.1}%</title></rect>",
                colors[k % colors.len()],
                escape(&r.label),
                escape(names.get(k).copied().unwrap_or("")),
                100.0 * v / total
            );
            x += w;
        }
        let _ = write!(
            s,
            "<text class=\"val\" x=\"{width:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            cy + 4.0,
            escape(&r.value)
        );
    }
    s.push_str("</svg>");
    s
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
    fn axes(&self, c: &XChart, s: &mut String) {
        let ticks = (self.max / self.step).round() as usize;
        for t in 0..=ticks {
            let v = t as f64 * self.step;
            let y = self.y(v);
            let class = if t == 0 { "axis" } else { "grid" };
            let _ = write!(
                s,
                "<line class=\"{class}\" x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"></line>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                self.left,
                self.left + self.w,
                self.left - 8.0,
                y + 4.0,
                escape(&compact(v))
            );
        }
        let label_chars = c.x.iter().map(|l| l.chars().count()).max().unwrap_or(1);
        let label_w = label_chars.min(12) as f64 * CHAR_W + 14.0;
        let every = (label_w / self.band).ceil().max(1.0) as usize;
        let base = self.top + self.h;
        for (i, l) in c.x.iter().enumerate() {
            if i % every != 0 {
                continue;
            }
            let _ = write!(
                s,
                "<line class=\"axis\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{base:.1}\" y2=\"{:.1}\"></line>\
                 <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                base + 4.0,
                base + 18.0,
                escape(&clip(l, 12)),
                x = self.cx(i),
            );
        }
        let _ = write!(
            s,
            "<text class=\"axis-title\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\
             <text class=\"axis-title\" transform=\"rotate(-90)\" x=\"{:.1}\" y=\"12\" text-anchor=\"middle\">{}</text>",
            self.left + self.w / 2.0,
            c.height - 6.0,
            escape(c.x_title),
            -(self.top + self.h / 2.0),
            escape(c.y_title),
        );
    }
}

/// Columns per category, the series stacked bottom-up; totals above the columns when few.
pub fn columns(c: &XChart, label: &str) -> String {
    let totals: Vec<f64> = (0..c.x.len())
        .map(|i| c.series.iter().map(|s| s.values[i]).sum())
        .collect();
    let f = Frame::new(c, totals.iter().copied().fold(0.0, f64::max));
    let mut s = String::new();
    open(&mut s, c.width, c.height, label);
    f.axes(c, &mut s);
    let bar_w = if f.band >= 4.0 {
        (f.band * 0.62).min(64.0)
    } else {
        f.band
    };
    for (i, x) in c.x.iter().enumerate() {
        let left = f.cx(i) - bar_w / 2.0;
        let mut acc = 0.0;
        for series in &c.series {
            let v = series.values[i];
            if v <= 0.0 {
                continue;
            }
            let y = f.y(acc + v);
            let h = f.y(acc) - y;
            let _ = write!(
                s,
                "<rect x=\"{left:.1}\" y=\"{y:.1}\" width=\"{bar_w:.1}\" height=\"{h:.1}\" fill=\"{}\"><title>{} · {}: {}</title></rect>",
                series.color,
                escape(x),
                escape(series.name),
                escape(&(c.fmt)(v))
            );
            acc += v;
        }
        if c.x.len() <= 16 && totals[i] > 0.0 {
            let _ = write!(
                s,
                "<text class=\"val\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                f.cx(i),
                f.y(totals[i]) - 6.0,
                escape(&(c.fmt)(totals[i]))
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// One line per series (the first with a soft area under it), points marked when few.
pub fn lines(c: &XChart, label: &str) -> String {
    let max = c
        .series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0, f64::max);
    let f = Frame::new(c, max);
    let mut s = String::new();
    open(&mut s, c.width, c.height, label);
    f.axes(c, &mut s);
    let n = c.x.len();
    for (k, series) in c.series.iter().enumerate() {
        let pts: Vec<String> = (0..n)
            .map(|i| format!("{:.1},{:.1}", f.cx(i), f.y(series.values[i])))
            .collect();
        if k == 0 && n > 1 {
            let _ = write!(
                s,
                "<path d=\"M{:.1},{:.1} L{} L{:.1},{:.1} Z\" fill=\"{}\" fill-opacity=\"0.08\"></path>",
                f.cx(0),
                f.y(0.0),
                pts.join(" L"),
                f.cx(n - 1),
                f.y(0.0),
                series.color
            );
        }
        if n > 1 {
            let _ = write!(
                s,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2.25\" stroke-linejoin=\"round\" stroke-linecap=\"round\"></polyline>",
                pts.join(" "),
                series.color
            );
        }
        if n <= 62 {
            for (i, x) in c.x.iter().enumerate() {
                let v = series.values[i];
                let _ = write!(
                    s,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"#fff\" stroke=\"{}\" stroke-width=\"2\"><title>{} · {}: {}</title></circle>",
                    f.cx(i),
                    f.y(v),
                    series.color,
                    escape(x),
                    escape(series.name),
                    escape(&(c.fmt)(v))
                );
                if k == 0 && n <= 16 {
                    let _ = write!(
                        s,
                        "<text class=\"val\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                        f.cx(i),
                        f.y(v) - 10.0,
                        escape(&(c.fmt)(v))
                    );
                }
            }
        }
    }
    s.push_str("</svg>");
    s
}

/// A single bar split in proportion to `parts` (name, value, colour), shares written inside.
pub fn share_bar(parts: &[(&str, f64, &'static str)], width: f64, label: &str) -> String {
    const H: f64 = 30.0;
    let total: f64 = parts.iter().map(|p| p.1).sum();
    let mut s = String::new();
    open(&mut s, width, H, label);
    let _ = write!(
        s,
        "<rect x=\"0\" y=\"0\" width=\"{width:.1}\" height=\"{H}\" rx=\"6\" fill=\"#f1f5f9\"></rect>"
    );
    let mut x = 0.0;
    for (name, v, color) in parts {
        if total <= 0.0 || *v <= 0.0 {
            continue;
        }
        let w = v / total * width;
        let share = format!("{:.1}%", 100.0 * v / total);
        let _ = write!(
            s,
            "<rect x=\"{x:.1}\" y=\"0\" width=\"{w:.1}\" height=\"{H}\" fill=\"{color}\"><title>{}: {}</title></rect>",
            escape(name),
            escape(&share)
        );
        if w > share.len() as f64 * CHAR_W + 12.0 {
            let _ = write!(
                s,
                "<text class=\"in\" x=\"{:.1}\" y=\"{:.1}\">{}</text>",
                x + 10.0,
                H / 2.0 + 4.0,
                escape(&share)
            );
        }
        x += w;
    }
    s.push_str("</svg>");
    s
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
        );
        assert!(!svg.contains("<script"));
        assert!(svg.contains("&lt;script&gt;"));
    }
}
