//! `t8k report --html`: the report as one page with no script — capacity and its projections,
//! the installation's growth as line charts, sign-ups and page views as bar charts (each with
//! axes, values, a text alternative and a "no data yet" state, [`t8k_functions::chart`]) and
//! the tenants' table.

use t8k_core::quota;
use t8k_functions::chart::{Chart, Kind, Unit};
use t8k_functions::page::{FIGURES_STYLE, esc, table};
use t8k_functions::report::{Report, TenantRow};

use super::{COLUMNS, cells, growth_cell};

pub fn page(r: &Report) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>t8k report</title><style>body{{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}{FIGURES_STYLE}</style></head>\
<body><main><h1>Installation report</h1><p>{} of {} tenants · {} sign-ups waiting · {} stored (+ {} analytics)</p>\
<h2>Capacity</h2><ul><li>{}</li><li>{}</li></ul>{}<h2>Sign-ups and traffic</h2>{}{}<h2>Tenants</h2>{}\
<h2>Builds</h2>{}</main></body></html>",
        r.count,
        r.max_tenants,
        r.pending_signups,
        quota::format_size(r.storage_bytes),
        quota::format_size(r.analytics_bytes),
        esc(&r.growth.max_tenants.text),
        esc(&r.growth.storage_doubles.text),
        growth_charts(r),
        signups(r),
        views(r),
        tenants(r),
        builds(r),
    )
}

/// How many tenants' build trends the page draws: the heaviest pages first.
const BUILD_CHARTS: usize = 12;

/// Build time and p95 page weight over each tenant's last builds, for the tenants whose pages
/// weigh the most (a page of charts for every tenant would help nobody).
fn builds(r: &Report) -> String {
    let mut rows: Vec<&TenantRow> = r.tenants.iter().filter(|t| t.builds.len() > 1).collect();
    if rows.is_empty() {
        return "<p class=\"no-data\">No build trends yet: they show once a site has been built twice.</p>".into();
    }
    let p95 = |t: &TenantRow| t.builds.last().map_or(0, |b| b.metrics.page_weight_p95);
    rows.sort_by_key(|t| std::cmp::Reverse(p95(t)));
    rows.truncate(BUILD_CHARTS);
    rows.iter()
        .map(|t| {
            let series =
                |f: &dyn Fn(&t8k_builder::weight::BuildMetrics) -> f64| -> Vec<(String, f64)> {
                    // `2026-11-30T14:44:05Z` as `11-30 14:44` (UTC): short enough for an axis.
                    let when = |at: &str| {
                        at.get(5..16)
                            .map_or(at.to_owned(), |s| s.replacen('T', " ", 1))
                    };
                    t.builds
                        .iter()
                        .map(|b| (when(&b.at), f(&b.metrics)))
                        .collect()
                };
            let chart = |title: String, unit: Unit, points: &[(String, f64)]| {
                Chart {
                    title: &title,
                    x: "build",
                    unit,
                    kind: Kind::Line,
                    points,
                    empty: "No builds yet.",
                }
                .render()
            };
            format!(
                "<details><summary>{} — {} builds</summary>{}{}</details>",
                esc(&t.tenant),
                t.builds.len(),
                chart(
                    format!("{}: page weight, 95th percentile", t.tenant),
                    Unit::Bytes,
                    &series(&|m| m.page_weight_p95 as f64)
                ),
                chart(
                    format!("{}: build time", t.tenant),
                    Unit::Seconds,
                    &series(&|m| m.seconds)
                ),
            )
        })
        .collect()
}

/// The installation's totals per day, from the snapshots.
fn growth_charts(r: &Report) -> String {
    let days = &r.growth.days;
    let series = |f: &dyn Fn(&t8k_core::growth::InstallationDay) -> u64| -> Vec<(String, f64)> {
        days.iter()
            .map(|p| (p.date.clone(), f(&p.totals) as f64))
            .collect()
    };
    let line = |title: &str, unit: Unit, points: &[(String, f64)], none: &str| {
        let empty = match days.is_empty() {
            true => "No snapshots yet: run `t8k usage snapshot` daily (cron) to see growth here.",
            false => none,
        };
        Chart {
            title,
            x: "day",
            unit,
            kind: Kind::Line,
            points,
            empty,
        }
        .render()
    };
    [
        line(
            "Tenants",
            Unit::Count("tenants"),
            &series(&|d| d.tenants),
            "No tenants yet.",
        ),
        line(
            "Storage (database and media)",
            Unit::Bytes,
            &series(&|d| d.sum.storage_bytes),
            "Nothing stored yet.",
        ),
        line(
            "Visitors in the last 30 days, all tenants",
            Unit::Count("visitors"),
            &series(&|d| d.sum.visitors_30d),
            "No visitors recorded yet.",
        ),
    ]
    .concat()
}

fn signups(r: &Report) -> String {
    let points: Vec<(String, f64)> = r
        .signups_per_week
        .iter()
        .map(|(w, n)| (w.clone(), *n as f64))
        .collect();
    Chart {
        title: "Sign-ups per week",
        x: "ISO week",
        unit: Unit::Count("sign-ups"),
        kind: Kind::Bars,
        points: &points,
        empty: "No sign-ups in these 8 weeks.",
    }
    .render()
}

fn views(r: &Report) -> String {
    let points: Vec<(String, f64)> = r
        .tenants
        .iter()
        .map(|t| (t.tenant.clone(), t.pageviews_30d as f64))
        .collect();
    Chart {
        title: "Page views per tenant, last 30 days",
        x: "tenant",
        unit: Unit::Count("page views"),
        kind: Kind::Bars,
        points: &points,
        empty: "No page views recorded in the last 30 days.",
    }
    .render()
}

fn tenants(r: &Report) -> String {
    let rows = r
        .tenants
        .iter()
        .map(|t| {
            let health = if t.problems.is_empty() {
                "ok".into()
            } else {
                t.problems.join("; ")
            };
            let mut row = cells(t);
            row.extend([
                t.pageviews_30d.to_string(),
                t8k_core::analytics::vitals::summary(&t.vitals_30d),
                growth_cell(t),
                t.failures_30d.to_string(),
                health,
            ]);
            row.iter().map(|c| esc(c)).collect()
        })
        .collect();
    let head = [
        &COLUMNS[..],
        &[
            "views (30 d)",
            "web vitals p75 (30 d)",
            "growth (30 d / 90 d)",
            "failures (30 d)",
            "health",
        ],
    ]
    .concat();
    table(&head, rows)
}
