//! The tenant's analytics for its editors and admins: `GET /api/analytics?days=30` (JSON) and
//! `GET /api/analytics/dashboard?days=30` (a page with server-side SVG charts: no scripts, no
//! third parties, readable on a phone). Figures are what `t8k analytics rollup` has merged.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use t8k_core::analytics::report::{self, Report};

use crate::auth::Session;
use crate::chart::{Chart, Kind, Unit};
use crate::error::{ApiError, ApiResult};
use crate::guard::Editor;
use crate::page::{self, esc, table};
use crate::state::{Shared, blocking};

#[derive(serde::Deserialize)]
pub struct Period {
    #[serde(default = "thirty")]
    pub days: u32,
}

fn thirty() -> u32 {
    30
}

async fn load(state: &Shared, s: Session, days: u32) -> ApiResult<Report> {
    blocking(state, move |st| {
        Ok(report::report(
            st.inst.store(),
            &s.tenant,
            days,
            t8k_core::timefmt::now(),
        )?)
    })
    .await
}

pub async fn json(
    State(state): State<Shared>,
    Editor(s): Editor,
    Query(p): Query<Period>,
) -> ApiResult<Json<Report>> {
    Ok(Json(load(&state, s, p.days).await?))
}

pub async fn dashboard(
    State(state): State<Shared>,
    editor: Result<Editor, ApiError>,
    Query(p): Query<Period>,
) -> Response {
    // A browser gets its refusal as a page, not as JSON.
    let report = match editor {
        Ok(Editor(s)) => load(&state, s, p.days).await,
        Err(e) => Err(e),
    };
    match report {
        Ok(r) => page::page(
            StatusCode::OK,
            &format!("Analytics · {}", r.tenant),
            &body(&r),
        ),
        Err(e) => page::error(&e),
    }
    .into_response()
}

/// The period's p75 per metric and per page, each with its band in words (web.dev's
/// thresholds), or why there is none.
fn vitals(r: &Report) -> String {
    use t8k_core::analytics::vitals::{METRICS, summary};
    if r.vitals.is_empty() {
        return "<p class=\"no-data\">No measurements yet: visitors' browsers send them as they leave a page (not when they ask not to be tracked).</p>".into();
    }
    let rows = METRICS
        .iter()
        .filter_map(|m| {
            let f = r.vitals.get(m)?;
            let (good, poor) = m.thresholds();
            Some(vec![
                m.label().into(),
                esc(&m.show(f.p75)),
                format!(
                    "<span class=\"band {:?}\">{}</span>",
                    f.band,
                    f.band.words()
                ),
                f.samples.to_string(),
                esc(&format!("good ≤ {}, poor > {}", m.show(good), m.show(poor))),
            ])
        })
        .collect();
    let pages = r
        .vitals_pages
        .iter()
        .map(|p| vec![esc(&p.path), esc(&summary(&p.vitals))])
        .collect();
    table(&["metric", "p75", "band", "samples", "web.dev bands"], rows)
        + &table(&["page", "p75"], pages)
}

fn pct(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

fn body(r: &Report) -> String {
    let series = |f: &dyn Fn(&report::Day) -> u64| -> Vec<(String, f64)> {
        r.daily
            .iter()
            .map(|d| (d.day.clone(), f(d) as f64))
            .collect()
    };
    let (daily_views, daily_visitors) = (series(&|d| d.pageviews), series(&|d| d.visitors));
    let hourly: Vec<(String, f64)> = r
        .hourly
        .iter()
        .map(|h| (format!("{}:00", h.hour), h.pageviews as f64))
        .collect();
    let days = format!("No visits recorded in these {} days yet.", r.daily.len());
    let chart =
        |title: &str, x: &str, unit: &'static str, points: &[(String, f64)], empty: &str| {
            Chart {
                title,
                x,
                unit: Unit::Count(unit),
                kind: Kind::Bars,
                points,
                empty,
            }
            .render()
        };
    let pages = r
        .pages
        .iter()
        .map(|p| {
            vec![
                esc(&p.path),
                p.views.to_string(),
                pct(p.glossed_rate),
                pct(p.read_rate),
            ]
        })
        .collect();
    let counts = |v: &[report::Count]| {
        v.iter()
            .map(|c| vec![esc(&c.name), c.count.to_string()])
            .collect()
    };
    format!(
        "<style>{}.totals{{display:flex;gap:2rem;flex-wrap:wrap}}.totals strong{{font-size:1.6rem;display:block}}</style>\
<p class=\"totals\"><span><strong>{}</strong> visitors (per day, summed)</span><span><strong>{}</strong> page views</span><span>last {} days</span></p>\
<h2>Traffic</h2>{}{}{}\
<h2>Core Web Vitals (75th percentile)</h2>{}\
<h2>Top pages</h2>{}<h2>Referrers</h2>{}<h2>Entry pages</h2>{}",
        page::FIGURES_STYLE,
        r.visitors,
        r.pageviews,
        r.daily.len(),
        chart(
            "Page views per day",
            "day",
            "page views",
            &daily_views,
            &days
        ),
        chart(
            "Visitors per day",
            "day",
            "visitors",
            &daily_visitors,
            &days
        ),
        chart(
            "Page views, last 48 hours",
            "hour (UTC)",
            "page views",
            &hourly,
            "No page views in the last 48 hours.",
        ),
        vitals(r),
        table(&["page", "views", "glossed", "read"], pages),
        table(&["referrer", "visits"], counts(&r.referrers)),
        table(&["entry page", "visits"], counts(&r.entries)),
    )
}
