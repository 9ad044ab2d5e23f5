//! `t8k report`: the operator's view of the whole installation — each tenant's status and
//! health (last build and publish, their failures as `build/{tenant}.history.jsonl` records
//! them, queued builds), usage against quotas, traffic (30 days of analytics,
//! this month's bandwidth), sign-ups per week and capacity. A terminal table, `--json`, or an
//! HTML page with SVG charts (`--html FILE`).

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::UsageError;
use t8k_core::analytics::vitals::summary;
use t8k_core::growth::Change;
use t8k_core::lifecycle::Installation;
use t8k_core::quota;
pub use t8k_functions::report::Page;
use t8k_functions::report::{TenantRow, collect};

use crate::output;

mod html;

/// The columns the table and the page share, as [`cells`] fills them.
const COLUMNS: [&str; 6] = ["tenant", "status", "pages", "storage", "built", "published"];

fn cells(t: &TenantRow) -> Vec<String> {
    let never = |t: &Option<String>| t.clone().unwrap_or_else(|| "never".into());
    vec![
        t.tenant.clone(),
        t.status.clone(),
        fig(t.pages, false),
        fig(t.storage, true),
        built_cell(t, never(&t.built)),
        never(&t.published),
    ]
}

/// When the bundle was built, with the last build's time and page weight (p95), and how the
/// weight moved over the builds the report keeps.
fn built_cell(t: &TenantRow, built: String) -> String {
    let (Some(first), Some(last)) = (t.builds.first(), t.builds.last()) else {
        return built;
    };
    let m = &last.metrics;
    let mut cell = format!(
        "{built}\n{:.2} s · {} · p95 page {}",
        m.seconds,
        quota::format_size(m.bundle_bytes),
        quota::format_size(m.page_weight_p95)
    );
    if t.builds.len() > 1 && first.metrics.page_weight_p95 > 0 {
        let change = m.page_weight_p95 as f64 / first.metrics.page_weight_p95 as f64 - 1.0;
        cell.push_str(&format!(
            " ({:+.0}% in {} builds)",
            change * 100.0,
            t.builds.len()
        ));
    }
    cell
}

/// The first line of a message, cut to `width` characters for a table cell (`--json` has
/// problems uncut and the failures' errors whole).
fn gist(message: &str, width: usize) -> String {
    let line = message.lines().next().unwrap_or_default();
    match line.char_indices().nth(width) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_owned(),
    }
}

fn fig(f: Option<(u64, u64)>, size: bool) -> String {
    let fmt = |n: u64| {
        if size {
            quota::format_size(n)
        } else {
            n.to_string()
        }
    };
    f.map_or("?".into(), |(u, l)| format!("{} / {}", fmt(u), fmt(l)))
}

pub fn run(inst: &Installation, html: Option<PathBuf>, paging: &Page, json: bool) -> Result<()> {
    if paging.limit == Some(0) {
        return Err(UsageError("--limit 0 reports nothing; give 1 or more".into()).into());
    }
    let r = collect(inst, paging)?;
    if let Some(path) = html {
        std::fs::write(&path, html::page(&r))
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("Wrote {}", path.display());
    }
    output::emit(json, &r, || {
        let rows = r
            .tenants
            .iter()
            .map(|t| {
                let mut row = cells(t);
                row.extend([
                    format!(
                        "{} / {}\n{}\n{}",
                        t.pageviews_30d,
                        t.visitors_30d,
                        growth_cell(t).replace(" · ", "\n"),
                        summary(&t.vitals_30d).replace(" · ", "\n")
                    )
                    .trim_end()
                    .to_owned(),
                    bandwidth_cell(t),
                    if t.problems.is_empty() {
                        "ok".into()
                    } else {
                        let cut = t.problems.iter().map(|p| gist(p, 72));
                        cut.collect::<Vec<_>>().join("\n")
                    },
                ]);
                row
            })
            .collect();
        println!(
            "{}",
            output::table(
                &[
                    &COLUMNS[..],
                    &[
                        "views / visitors (30 d), growth 30 d / 90 d, web vitals p75",
                        "bandwidth (month)",
                        "health"
                    ]
                ]
                .concat(),
                rows
            )
        );
        println!(
            "{} of {} tenants, {} sign-ups waiting for email, {} stored (+ {} analytics). Sign-ups per week: {}",
            r.count,
            r.max_tenants,
            r.pending_signups,
            quota::format_size(r.storage_bytes),
            quota::format_size(r.analytics_bytes),
            r.signups_per_week
                .iter()
                .map(|(w, n)| format!("{w} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!("Capacity: {}.", r.growth.max_tenants.text);
        println!("Storage: {}.", r.growth.storage_doubles.text);
        for n in &r.notices {
            let who = n
                .tenants
                .as_ref()
                .map_or("all tenants".into(), |t| t.join(", "));
            let phase = if n.phase == t8k_core::notices::Phase::Current {
                "now"
            } else {
                "scheduled"
            };
            println!(
                "Maintenance {phase}: {} ({} – {}; {who}).",
                n.message, n.starts, n.ends
            );
        }
        for ro in &r.rollouts {
            let halt = ro
                .halt
                .as_ref()
                .map(|h| format!(", halted {h}"))
                .unwrap_or_default();
            println!(
                "Rollout {}: {}, {}%, {} tenant(s) moved{halt}.",
                ro.id, ro.state, ro.percent, ro.moved
            );
        }
        if let (Some(next), Some(limit)) = (&r.next, paging.limit) {
            println!("More rows: t8k report --limit {limit} --after {next}");
        }
    });
    Ok(())
}

/// This month's bytes, and against the limit when there is one (`1.2 GB of 100GB (1%)`).
fn bandwidth_cell(t: &t8k_functions::report::TenantRow) -> String {
    let used = t.bandwidth_month.map_or("-".into(), quota::format_size);
    match (t.bandwidth_limit.as_str(), t.bandwidth_percent) {
        ("", _) => used,
        (limit, Some(p)) => format!("{used} of {limit} ({p}%)"),
        (limit, None) => format!("{used} of {limit}"),
    }
}

/// "visitors +12% / +40% · pages +3 / +10 · storage +1.2 MB / —".
fn growth_cell(t: &TenantRow) -> String {
    let g = &t.growth;
    let n = |c: &Option<Change>| match c {
        Some(c) => format!("{:+}", c.to as i64 - c.from as i64),
        None => "—".into(),
    };
    let pct = |c: &Option<Change>| match c.and_then(|c| c.percent) {
        Some(p) => format!("{p:+.0}%"),
        None => n(c),
    };
    let bytes = |c: &Option<Change>| match c {
        Some(c) if c.to >= c.from => format!("+{}", quota::format_size(c.to - c.from)),
        Some(c) => format!("-{}", quota::format_size(c.from - c.to)),
        None => "—".into(),
    };
    format!(
        "visitors {} / {} · pages {} / {} · storage {} / {}",
        pct(&g.visitors_30d),
        pct(&g.visitors_90d),
        n(&g.pages_30d),
        n(&g.pages_90d),
        bytes(&g.storage_30d),
        bytes(&g.storage_90d)
    )
}
