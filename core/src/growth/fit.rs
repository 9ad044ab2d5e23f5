//! Least-squares lines through a series, and the projections made from them ("max_tenants
//! reached in ~N weeks", "storage doubles in ~N weeks"). A projection carries its fit quality
//! (R²) and how much data it stands on, and says "not enough data" rather than invent one.

use serde::Serialize;

/// Days of snapshots a projection looks back over.
pub const WINDOW_DAYS: i64 = 56;
/// The fewest days of snapshots a projection is made from.
pub const MIN_DAYS: usize = 14;
/// Below this R² a projection is labelled a weak fit.
pub const WEAK_FIT: f64 = 0.5;

/// y = intercept + slope · x, fitted by ordinary least squares.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Fit {
    pub slope: f64,
    pub intercept: f64,
    /// The share of the variance the line explains, 0–1; `None` when the values do not vary
    /// (a flat series: the line is exact, and "explains" nothing).
    pub r2: Option<f64>,
    pub points: usize,
}

/// The least-squares line through `points` (x, y); `None` for fewer than two points or when
/// every x is the same.
pub fn least_squares(points: &[(f64, f64)]) -> Option<Fit> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let syy: f64 = points.iter().map(|p| (p.1 - mean_y).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let slope = sxy / sxx;
    let intercept = mean_y - slope * mean_x;
    let r2 = (syy > 0.0).then(|| (sxy * sxy) / (sxx * syy));
    Some(Fit {
        slope,
        intercept,
        r2,
        points: points.len(),
    })
}

/// What a series is heading for.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Projection {
    /// Weeks until the event at the fitted rate; `None` when the series is not growing or
    /// there is not enough data.
    pub weeks: Option<f64>,
    /// The fitted change per week (tenants, bytes).
    pub per_week: Option<f64>,
    /// The fit's R² (none for a flat series or too little data).
    pub r2: Option<f64>,
    /// Days of snapshots the fit used.
    pub days: usize,
    /// The projection in words, with its fit quality ("~6 weeks (R² 0.97, 56 days)").
    pub text: String,
}

impl Projection {
    /// From a fit and the distance still to go (`remaining`, in the series' unit): weeks =
    /// remaining ÷ the fitted change per week, when the series grows.
    pub fn to_reach(fit: Option<Fit>, days: usize, remaining: f64, what: &str) -> Projection {
        let Some(fit) = fit.filter(|_| days >= MIN_DAYS) else {
            return Projection {
                weeks: None,
                per_week: None,
                r2: None,
                days,
                text: format!(
                    "not enough data yet: {days} of {MIN_DAYS} days of snapshots (t8k usage snapshot, daily)"
                ),
            };
        };
        let per_week = fit.slope * 7.0;
        let weeks = (per_week > 0.0).then(|| (remaining / per_week).max(0.0));
        let quality = match fit.r2 {
            Some(r2) if r2 < WEAK_FIT => format!("R² {r2:.2}, a weak fit, {days} days"),
            Some(r2) => format!("R² {r2:.2}, {days} days"),
            None => format!("flat, {days} days"),
        };
        let text = match weeks {
            Some(w) => format!("{what} in ~{} weeks ({quality})", w.round()),
            None => format!("{what}: not at the current rate ({quality})"),
        };
        Projection {
            weeks,
            per_week: Some(per_week),
            r2: fit.r2,
            days,
            text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_through_points_and_its_quality() {
        let exact: Vec<_> = (0..10).map(|x| (x as f64, 3.0 + 2.0 * x as f64)).collect();
        let f = least_squares(&exact).unwrap();
        assert!((f.slope - 2.0).abs() < 1e-12 && (f.intercept - 3.0).abs() < 1e-12);
        assert!((f.r2.unwrap() - 1.0).abs() < 1e-12);
        // By hand: x 0,1,2,3; y 1,3,2,5: Sxx 5, Sxy 5.5, Syy 8.75 → slope 1.1, intercept 1.1,
        // R² = 5.5² / (5 · 8.75) = 0.6914…
        let f = least_squares(&[(0.0, 1.0), (1.0, 3.0), (2.0, 2.0), (3.0, 5.0)]).unwrap();
        assert!((f.slope - 1.1).abs() < 1e-12, "{f:?}");
        assert!((f.intercept - 1.1).abs() < 1e-12, "{f:?}");
        assert!((f.r2.unwrap() - 30.25 / 43.75).abs() < 1e-12, "{f:?}");
        assert_eq!(least_squares(&[(1.0, 1.0)]), None);
        assert_eq!(least_squares(&[(1.0, 1.0), (1.0, 2.0)]), None);
        assert_eq!(least_squares(&[(0.0, 4.0), (1.0, 4.0)]).unwrap().r2, None);
    }

    #[test]
    fn projections_say_when_they_cannot_tell() {
        let fit = least_squares(&(0..20).map(|x| (x as f64, x as f64)).collect::<Vec<_>>());
        let p = Projection::to_reach(fit, 20, 70.0, "max_tenants reached");
        assert_eq!(p.weeks, Some(10.0));
        assert_eq!(
            p.text,
            "max_tenants reached in ~10 weeks (R² 1.00, 20 days)"
        );
        let short = Projection::to_reach(fit, 5, 70.0, "x");
        assert_eq!((short.weeks, short.per_week), (None, None));
        assert!(short.text.contains("5 of 14 days"), "{}", short.text);
        let falling = least_squares(&[(0.0, 5.0), (20.0, 1.0)]);
        let p = Projection::to_reach(falling, 20, 10.0, "storage doubles");
        assert_eq!(p.weeks, None);
        assert!(p.text.contains("not at the current rate"), "{}", p.text);
    }
}
