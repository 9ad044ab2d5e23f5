//! Charts people can read, as inline SVG (no script): a title, a y axis with its unit and
//! three labelled values (0, half, the top), the first, middle and last x labels, the latest
//! value written out, each point's value on hover (`<title>`), a text alternative (the SVG's
//! `<desc>` summary and the full data as a table under a disclosure), and an explicit "no data
//! yet" state instead of an empty box. The admin's `figures.js` draws the same shape; the
//! styles are `page::FIGURES_STYLE`.

use crate::page::esc;

/// What the values count, for the axis and the labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A plain count, written as 1,234 or 12.3k.
    Count(&'static str),
    /// Bytes, written as 1.2 MB.
    Bytes,
    /// Seconds, written as 0.42 s.
    Seconds,
}

impl Unit {
    pub fn show(self, v: f64) -> String {
        match self {
            Unit::Count(_) => count(v),
            Unit::Bytes => bytes(v),
            Unit::Seconds => format!("{v:.2} s"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Unit::Count(name) => name,
            Unit::Bytes => "bytes",
            Unit::Seconds => "seconds",
        }
    }
}

/// Bytes in at most three digits and a unit: 500 kB, 1.5 MB, 12 GB (an axis has little room).
fn bytes(v: f64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = v.max(0.0);
    let mut u = 0;
    while v >= 1000.0 && u < units.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if v < 10.0 && v.fract() != 0.0 {
        format!("{v:.1} {}", units[u])
    } else {
        format!("{v:.0} {}", units[u])
    }
}

fn count(v: f64) -> String {
    match v.abs() {
        a if a >= 1e6 => format!("{:.1}M", v / 1e6),
        a if a >= 1e4 => format!("{:.1}k", v / 1e3),
        a if a.fract() == 0.0 => format!("{v:.0}"),
        _ => format!("{v:.1}"),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bars,
    Line,
}

pub struct Chart<'a> {
    pub title: &'a str,
    /// What the x labels are ("day", "week", "build").
    pub x: &'a str,
    pub unit: Unit,
    pub kind: Kind,
    pub points: &'a [(String, f64)],
    /// Said instead of a chart when there is nothing to draw ("No page views yet.").
    pub empty: &'a str,
}

const W: f64 = 480.0;
const H: f64 = 200.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 22.0;
const BOTTOM: f64 = 40.0;

/// The top of the y axis: `max` rounded up to 1, 2, 2.5 or 5 × a power of ten.
fn nice_top(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|t| *t >= max)
        .unwrap_or(10.0 * p)
}

/// The top of a count's axis: 2, 4 or 10 × a power of ten (at least 2), so that its half is
/// a whole number too (no "2.5 tenants").
fn count_top(max: f64) -> f64 {
    let mut p = 1.0;
    loop {
        for t in [2.0, 4.0, 10.0] {
            if t * p >= max {
                return t * p;
            }
        }
        p *= 10.0;
    }
}

impl Chart<'_> {
    pub fn render(&self) -> String {
        let caption = format!("<figcaption>{}</figcaption>", esc(self.title));
        if self.points.iter().all(|(_, v)| *v == 0.0) {
            return format!(
                "<figure class=\"chart-box\">{caption}<p class=\"no-data\">{}</p></figure>",
                esc(self.empty)
            );
        }
        format!(
            "<figure class=\"chart-box\">{caption}{}{}</figure>",
            self.svg(),
            self.data_table()
        )
    }

    /// "30 days from 2026-11-01 to 2026-11-30; latest 12 page views; highest 40 (2026-11-12)."
    fn summary(&self) -> String {
        let (first, last) = (&self.points[0], &self.points[self.points.len() - 1]);
        let top = self
            .points
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .expect("points");
        let plural = if self.points.len() == 1 { "" } else { "s" };
        format!(
            "{} {}{plural} from {} to {}; latest {} {}; highest {} ({}).",
            self.points.len(),
            self.x,
            first.0,
            last.0,
            self.unit.show(last.1),
            self.unit.name(),
            self.unit.show(top.1),
            top.0
        )
    }

    fn svg(&self) -> String {
        let n = self.points.len();
        let max = self.points.iter().map(|p| p.1).fold(0.0, f64::max);
        let top = match self.unit {
            Unit::Count(_) => count_top(max),
            _ => nice_top(max),
        };
        let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
        let y = |v: f64| TOP + ph - (v / top) * ph;
        let step = pw / n as f64;
        let x = |i: usize| match self.kind {
            Kind::Bars => LEFT + step * (i as f64 + 0.5),
            Kind::Line if n == 1 => LEFT + pw / 2.0,
            Kind::Line => LEFT + pw * i as f64 / (n - 1) as f64,
        };
        let id = format!("c{:08x}", crc(self.title));
        let mut s = format!(
            "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-labelledby=\"{id}t {id}d\">\
             <title id=\"{id}t\">{}</title><desc id=\"{id}d\">{}</desc>",
            esc(self.title),
            esc(&self.summary())
        );
        // The y axis: gridlines and values at 0, half and the top, the unit above.
        for f in [0.0, 0.5, 1.0] {
            let v = top * f;
            s.push_str(&format!(
                "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                W - RIGHT,
                y(v),
                y(v),
                LEFT - 6.0,
                y(v) + 4.0,
                esc(&self.unit.show(v))
            ));
        }
        s.push_str(&format!(
            "<text x=\"{LEFT}\" y=\"12\">{}</text>",
            esc(self.unit.name())
        ));
        // The x axis: the first, middle and last labels, and what they are.
        let mut shown = vec![0, n / 2, n - 1];
        shown.dedup();
        for (k, i) in shown.iter().enumerate() {
            let anchor = match (k, shown.len()) {
                (0, l) if l > 1 => "start",
                (k, l) if k == l - 1 && l > 1 => "end",
                _ => "middle",
            };
            let at = match anchor {
                "start" => LEFT,
                "end" => W - RIGHT,
                _ => x(*i),
            };
            s.push_str(&format!(
                "<text x=\"{at:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{}</text>",
                TOP + ph + 16.0,
                esc(&short(&self.points[*i].0))
            ));
        }
        s.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"axis-name\">{}</text>",
            LEFT + pw / 2.0,
            H - 4.0,
            esc(self.x)
        ));
        s.push_str(&format!(
            "<line class=\"axis\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>",
            W - RIGHT,
            y(0.0),
            y(0.0)
        ));
        self.marks(&mut s, &x, &y, step);
        // The latest value, written out above its mark.
        let (_, last) = &self.points[n - 1];
        s.push_str(&format!(
            "<text class=\"latest\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text></svg>",
            W - RIGHT,
            (y(*last) - 8.0).max(TOP - 6.0),
            esc(&format!("latest {}", self.unit.show(*last)))
        ));
        s
    }

    /// Bars or a line with a dot per point; each mark's value on hover.
    fn marks(&self, s: &mut String, x: &dyn Fn(usize) -> f64, y: &dyn Fn(f64) -> f64, step: f64) {
        let tip = |name: &str, v: f64| {
            format!("<title>{}: {}</title>", esc(name), esc(&self.unit.show(v)))
        };
        if self.kind == Kind::Line && self.points.len() > 1 {
            let path: Vec<String> = (0..self.points.len())
                .map(|i| format!("{:.1},{:.1}", x(i), y(self.points[i].1)))
                .collect();
            s.push_str(&format!(
                "<polyline class=\"line\" points=\"{}\"/>",
                path.join(" ")
            ));
        }
        for (i, (name, v)) in self.points.iter().enumerate() {
            match self.kind {
                Kind::Bars => {
                    let w = (step * 0.8).max(1.0);
                    s.push_str(&format!(
                        "<rect class=\"mark\" x=\"{:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\">{}</rect>",
                        x(i) - w / 2.0,
                        y(*v),
                        (y(0.0) - y(*v)).max(0.0),
                        tip(name, *v)
                    ));
                }
                Kind::Line => s.push_str(&format!(
                    "<circle class=\"mark\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\">{}</circle>",
                    x(i),
                    y(*v),
                    tip(name, *v)
                )),
            }
        }
    }

    /// Every point as a table row, under a disclosure (the chart's data for anyone who cannot
    /// see it, or wants the numbers).
    fn data_table(&self) -> String {
        let rows: String = self
            .points
            .iter()
            .map(|(name, v)| {
                format!(
                    "<tr><td>{}</td><td>{}</td></tr>",
                    esc(name),
                    esc(&self.unit.show(*v))
                )
            })
            .collect();
        format!(
            "<details><summary>Data: {}</summary><table><thead><tr><th>{}</th><th>{}</th></tr></thead><tbody>{rows}</tbody></table></details>",
            esc(self.title),
            esc(self.x),
            esc(self.unit.name())
        )
    }
}

/// An x label cut to fit beside two others (the full one is in the tooltip and the table).
fn short(label: &str) -> String {
    match label.char_indices().nth(16) {
        Some((i, _)) => format!("{}…", &label[..i]),
        None => label.to_owned(),
    }
}

/// A short stable number for element ids.
fn crc(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ b as u32).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(values: &[f64]) -> Vec<(String, f64)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("2026-11-{:02}", i + 1), *v))
            .collect()
    }

    #[test]
    fn a_chart_has_axes_values_a_summary_and_its_data() {
        let p = points(&[3.0, 0.0, 40.0, 12.0]);
        let html = Chart {
            title: "Page views per day",
            x: "day",
            unit: Unit::Count("page views"),
            kind: Kind::Bars,
            points: &p,
            empty: "No page views yet.",
        }
        .render();
        assert!(
            html.contains("<figcaption>Page views per day</figcaption>"),
            "{html}"
        );
        assert!(
            html.contains(">40</text>"),
            "the top of the axis, rounded up to 2, 4 or 10 × 10ⁿ: {html}"
        );
        assert!(html.contains(">20</text>") && html.contains(">0</text>"));
        assert!(html.contains(">2026-11-01</text>") && html.contains(">2026-11-04</text>"));
        assert!(html.contains(">latest 12</text>"));
        assert!(html.contains("<title>2026-11-03: 40</title>"));
        assert!(html.contains(
            "4 days from 2026-11-01 to 2026-11-04; latest 12 page views; highest 40 (2026-11-03)."
        ));
        assert_eq!(
            html.matches("<tr><td>").count(),
            4,
            "every point in the table"
        );
        assert!(!html.contains("NaN"));
    }

    #[test]
    fn nothing_to_draw_says_so() {
        for p in [vec![], points(&[0.0, 0.0])] {
            let html = Chart {
                title: "Sign-ups per week",
                x: "week",
                unit: Unit::Count("sign-ups"),
                kind: Kind::Line,
                points: &p,
                empty: "No sign-ups in these 8 weeks.",
            }
            .render();
            assert!(html.contains("<p class=\"no-data\">No sign-ups in these 8 weeks.</p>"));
            assert!(!html.contains("<svg"));
        }
    }

    #[test]
    fn tops_and_units() {
        assert_eq!(nice_top(40.0), 50.0);
        assert_eq!(nice_top(101.0), 200.0);
        assert_eq!(nice_top(0.3), 0.5);
        assert_eq!(nice_top(0.0), 1.0);
        let counts = [0.0, 3.0, 5.0, 41.0].map(count_top);
        assert_eq!(counts, [2.0, 4.0, 10.0, 100.0], "halves are whole");
        assert_eq!(Unit::Bytes.show(1_500_000.0), "1.5 MB");
        assert_eq!(Unit::Bytes.show(500_000.0), "500 kB");
        assert_eq!(Unit::Bytes.show(258_048.0), "258 kB");
        assert_eq!(Unit::Count("x").show(12_345.0), "12.3k");
    }
}
