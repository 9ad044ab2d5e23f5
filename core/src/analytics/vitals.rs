//! Core Web Vitals from visitors (real-user monitoring): the tracker measures LCP, CLS, INP
//! and TTFB with `PerformanceObserver` and sends them once, as the page is hidden, in a
//! `VITALS` beacon (the tracker's DNT/GPC rules apply: a visitor who opts out sends nothing).
//!
//! A percentile cannot be added up from daily figures, and one row per page view would grow
//! without bound, so the rollup keeps a histogram per day, page and metric: each value rounded
//! **up** to a grid (10 ms below 1 s, 50 ms below 5 s, 250 ms beyond; CLS to 0.01), which
//! holds every web.dev threshold exactly, so the good / needs improvement / poor band of a p75
//! is never wrong. p75 is the nearest-rank 75th percentile of the grid values (at most one grid
//! step above the exact one).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The table the rollup fills (part of the analytics database's schema).
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS vitals (
    day    TEXT NOT NULL,
    path   TEXT NOT NULL,
    metric TEXT NOT NULL,             -- lcp, cls, inp, ttfb
    value  REAL NOT NULL,             -- rounded up to the metric's grid
    count  INTEGER NOT NULL,
    PRIMARY KEY (day, path, metric, value)
) WITHOUT ROWID;
";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// Largest Contentful Paint, ms.
    Lcp,
    /// Cumulative Layout Shift (largest session window), unitless.
    Cls,
    /// Interaction to Next Paint, ms (the slowest interaction of the page view).
    Inp,
    /// Time to First Byte, ms.
    Ttfb,
}

pub const METRICS: [Metric; 4] = [Metric::Lcp, Metric::Cls, Metric::Inp, Metric::Ttfb];

/// A p75's band, by web.dev's thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Good,
    NeedsImprovement,
    Poor,
}

impl Band {
    pub fn words(self) -> &'static str {
        match self {
            Band::Good => "good",
            Band::NeedsImprovement => "needs improvement",
            Band::Poor => "poor",
        }
    }
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::Lcp => "lcp",
            Metric::Cls => "cls",
            Metric::Inp => "inp",
            Metric::Ttfb => "ttfb",
        }
    }

    /// LCP, CLS, INP, TTFB.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Lcp => "LCP",
            Metric::Cls => "CLS",
            Metric::Inp => "INP",
            Metric::Ttfb => "TTFB",
        }
    }

    /// A value as people read it: `1.25 s`, `90 ms`, `0.02`.
    pub fn show(self, v: f64) -> String {
        match self {
            Metric::Cls => format!("{v:.2}"),
            _ if v >= 1000.0 => format!("{:.2} s", v / 1000.0),
            _ => format!("{v:.0} ms"),
        }
    }

    pub fn parse(name: &str) -> Option<Metric> {
        METRICS.into_iter().find(|m| m.name() == name)
    }

    /// The largest value a beacon may carry (anything above is a broken measurement).
    pub fn max(self) -> f64 {
        match self {
            Metric::Cls => 100.0,
            _ => 600_000.0,
        }
    }

    /// web.dev: good at or below the first, poor above the second.
    pub fn thresholds(self) -> (f64, f64) {
        match self {
            Metric::Lcp => (2500.0, 4000.0),
            Metric::Cls => (0.1, 0.25),
            Metric::Inp => (200.0, 500.0),
            Metric::Ttfb => (800.0, 1800.0),
        }
    }

    pub fn band(self, p75: f64) -> Band {
        let (good, poor) = self.thresholds();
        if p75 <= good {
            Band::Good
        } else if p75 <= poor {
            Band::NeedsImprovement
        } else {
            Band::Poor
        }
    }

    /// `v` rounded up to the metric's grid (the tiny slack keeps 0.1 at 0.1 despite floats).
    pub fn grid(self, v: f64) -> f64 {
        // `+ 0.0` turns a -0.0 into 0.0: one zero, one key.
        let up = |v: f64, step: f64| (v / step - 1e-9).ceil().max(0.0) * step + 0.0;
        match self {
            Metric::Cls => (up(v, 0.01) * 100.0).round() / 100.0,
            _ if v <= 1000.0 => up(v, 10.0),
            _ if v <= 5000.0 => up(v, 50.0),
            _ => up(v, 250.0),
        }
    }
}

/// "LCP 1.2 s (good) · CLS 0.02 (good) · TTFB 90 ms (good)": each figure with its band in
/// words (not only as a colour); "" when nothing was measured.
pub fn summary(figures: &BTreeMap<Metric, Figure>) -> String {
    figures
        .iter()
        .map(|(m, f)| format!("{} {} ({})", m.label(), m.show(f.p75), f.band.words()))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// One metric's figure over a period: the p75 of its samples and its band.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Figure {
    pub p75: f64,
    pub band: Band,
    pub samples: u64,
}

/// The nearest-rank 75th percentile of a histogram (grid value → count).
pub fn p75(histogram: &BTreeMap<OrderedValue, u64>) -> Option<f64> {
    let total: u64 = histogram.values().sum();
    if total == 0 {
        return None;
    }
    let rank = (total * 3).div_ceil(4);
    let mut seen = 0;
    for (v, n) in histogram {
        seen += n;
        if seen >= rank {
            return Some(v.0);
        }
    }
    None
}

/// A grid value as a map key (grid values are never NaN).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrderedValue(pub f64);

impl Eq for OrderedValue {}

impl std::hash::Hash for OrderedValue {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.to_bits().hash(state);
    }
}

impl PartialOrd for OrderedValue {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrderedValue {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// Each metric's figure from `(metric, value, count)` rows.
pub fn figures(rows: impl IntoIterator<Item = (Metric, f64, u64)>) -> BTreeMap<Metric, Figure> {
    let mut hist: BTreeMap<Metric, BTreeMap<OrderedValue, u64>> = BTreeMap::new();
    for (m, v, n) in rows {
        *hist
            .entry(m)
            .or_default()
            .entry(OrderedValue(v))
            .or_default() += n;
    }
    hist.into_iter()
        .filter_map(|(m, h)| {
            let p = p75(&h)?;
            Some((
                m,
                Figure {
                    p75: p,
                    band: m.band(p),
                    samples: h.values().sum(),
                },
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_up_to_a_grid_that_keeps_the_thresholds() {
        assert_eq!(Metric::Lcp.grid(2500.0), 2500.0);
        assert_eq!(Metric::Lcp.grid(2500.4), 2550.0);
        assert_eq!(Metric::Lcp.grid(123.4), 130.0);
        assert_eq!(Metric::Ttfb.grid(0.0), 0.0);
        assert_eq!(Metric::Ttfb.grid(12_345.0), 12_500.0);
        assert_eq!(Metric::Cls.grid(0.1), 0.1);
        assert_eq!(Metric::Cls.grid(0.1000001), 0.11);
        assert_eq!(Metric::Cls.grid(0.0), 0.0);
        for m in METRICS {
            let (good, poor) = m.thresholds();
            assert_eq!(m.grid(good), good, "{m:?}");
            assert_eq!(m.grid(poor), poor, "{m:?}");
            assert_eq!(m.band(m.grid(good)), Band::Good);
            assert_eq!(m.band(m.grid(poor)), Band::NeedsImprovement);
            assert_eq!(m.band(m.grid(poor * 1.001)), Band::Poor);
        }
    }

    #[test]
    fn p75_by_nearest_rank_over_a_histogram() {
        // 8 samples: 100×2, 200×3, 900×2, 3000×1 → rank 6 is 900.
        let f = figures([
            (Metric::Lcp, 100.0, 2),
            (Metric::Lcp, 200.0, 3),
            (Metric::Lcp, 900.0, 2),
            (Metric::Lcp, 3000.0, 1),
            (Metric::Cls, 0.3, 1),
        ]);
        assert_eq!(f[&Metric::Lcp].p75, 900.0);
        assert_eq!(
            (f[&Metric::Lcp].samples, f[&Metric::Lcp].band),
            (8, Band::Good)
        );
        assert_eq!(
            (f[&Metric::Cls].p75, f[&Metric::Cls].band),
            (0.3, Band::Poor)
        );
        assert!(!f.contains_key(&Metric::Inp));
        assert_eq!(summary(&f), "LCP 900 ms (good) · CLS 0.30 (poor)");
    }
}
