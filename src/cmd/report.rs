//! `t8k report`: the operator's view of the whole installation — each tenant's status and
//! health (last build and publish, their failures as `build/{tenant}.history.jsonl` records
//! them, queued builds), usage against quotas, traffic (30 days of analytics,
//! this month's bandwidth), sign-ups per week and capacity. A terminal table, `--json`, or an
//! HTML page with SVG charts (`--html FILE`).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::UsageError;
use serde::Serialize;
use t8k_builder::history::{self, Attempt, Stage};
use t8k_core::analytics::report as traffic;
use t8k_core::lifecycle::Installation;
use t8k_core::registry::{DomainStatus, TenantEntry};
use t8k_core::{TenantId, bandwidth, quota};
use t8k_functions::page::{FIGURES_STYLE, bars, esc, table};

use crate::output;

#[derive(Serialize)]
struct TenantRow {
    tenant: String,
    status: String,
    created: String,
    pages: Option<(u64, u64)>,
    users: Option<(u64, u64)>,
    storage: Option<(u64, u64)>,
    /// The analytics database's size (not counted against STORAGE_QUOTA).
    analytics_bytes: Option<u64>,
    built_pages: Option<usize>,
    /// When the current bundle was built.
    built: Option<String>,
    build_queued: bool,
    published: Option<String>,
    pageviews_30d: u64,
    visitors_30d: u64,
    bandwidth_month: Option<u64>,
    /// Failed build and publish attempts in the last 30 days, and the newest five of them.
    failures_30d: usize,
    recent_failures: Vec<Attempt>,
    problems: Vec<String>,
}

#[derive(Serialize)]
struct Report {
    /// Every tenant's row, or with `--limit` one page of them (the totals cover every tenant).
    tenants: Vec<TenantRow>,
    /// With `--limit`, when more rows follow: pass it as `--after`.
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<String>,
    count: usize,
    max_tenants: u64,
    pending_signups: usize,
    /// Against quotas (content databases and media).
    storage_bytes: u64,
    /// Analytics databases, outside the quotas.
    analytics_bytes: u64,
    /// ISO week (`2026-W48`) → tenants created that week, the last 8 weeks.
    signups_per_week: BTreeMap<String, u64>,
}

fn week_of(t: time::OffsetDateTime) -> String {
    let (y, w, _) = t.to_iso_week_date();
    format!("{y}-W{w:02}")
}

/// The columns the table and the page share, as [`TenantRow::cells`] fills them.
const COLUMNS: [&str; 6] = ["tenant", "status", "pages", "storage", "built", "published"];

impl TenantRow {
    fn cells(&self) -> Vec<String> {
        let never = |t: &Option<String>| t.clone().unwrap_or_else(|| "never".into());
        vec![
            self.tenant.clone(),
            self.status.clone(),
            fig(self.pages, false),
            fig(self.storage, true),
            never(&self.built),
            never(&self.published),
        ]
    }
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

/// What every row is read against, gathered once (one listing of the build queue, not one
/// per tenant: on a bucket root each listing is a request).
struct Scan<'a> {
    inst: &'a Installation,
    out: Option<&'a Path>,
    now: time::OffsetDateTime,
    queued: HashSet<TenantId>,
}

/// Custom domains that do not serve (yet), whose records went missing, or whose last
/// certificate attempt failed.
fn domain_problems<'a>(
    inst: &'a Installation,
    e: &'a TenantEntry,
) -> impl Iterator<Item = String> + 'a {
    let certificates = e.domains.iter().filter_map(move |d| {
        let state = t8k_core::certs::state(inst.store(), &d.host).ok()?;
        let error = state.last_error?;
        Some(format!(
            "certificate for {} failed {} time(s): {error}; next attempt after {}",
            d.host,
            state.failures,
            state.retry_after.unwrap_or_default()
        ))
    });
    e.domains
        .iter()
        .filter_map(|d| {
            let why = d.problem.as_deref().unwrap_or("not checked yet");
            match (&d.status, &d.failing_since) {
                (DomainStatus::Active, None) => None,
                (DomainStatus::Active, Some(since)) => Some(format!(
                    "domain {} has lost its DNS records since {since} ({why}); detached after 72 h",
                    d.host
                )),
                (status, _) => Some(format!(
                    "domain {} is {}: {why}",
                    d.host,
                    match (status, d.awaiting_certificate) {
                        (DomainStatus::Pending, _) => "pending",
                        (_, true) => "verified",
                        _ => "verified, not pointed here",
                    }
                )),
            }
        })
        .chain(certificates)
}

fn row(scan: &Scan, e: &TenantEntry) -> Result<TenantRow> {
    let Scan { inst, out, now, .. } = *scan;
    let id: TenantId = e.tenant_id()?;
    let mut problems = vec![];
    let usage = inst.usage(&e.id);
    let (pages, users, storage) = match &usage {
        Ok(u) => (
            Some((u.pages, u.limits.max_pages)),
            Some((u.users, u.limits.max_users)),
            Some((u.storage_bytes, u.limits.storage_bytes)),
        ),
        Err(err) => {
            problems.push(format!("usage unreadable: {err}"));
            (None, None, None)
        }
    };
    for (what, fig) in [("pages", pages), ("users", users), ("storage", storage)] {
        if fig.is_some_and(|(used, limit)| used >= limit) {
            problems.push(format!("{what} at or over quota"));
        }
    }
    let record = out
        .and_then(|o| t8k_builder::fingerprint::Record::read(&o.join(format!("{id}.build.json"))));
    if record.is_none() && e.active {
        problems.push("never built".into());
    }
    let attempts = out
        .map(|o| history::read(o, id.as_str()))
        .unwrap_or_default();
    for stage in [Stage::Build, Stage::Publish] {
        if let Some(a) = history::last_failure(&attempts, stage) {
            problems.push(format!(
                "last {} failed ({}): {}",
                stage.as_str(),
                a.at,
                a.error
                    .as_deref()
                    .and_then(|e| e.lines().next())
                    .unwrap_or("no message")
            ));
        }
    }
    let month_ago = now - time::Duration::days(30);
    let failures: Vec<Attempt> = attempts
        .into_iter()
        .filter(|a| !a.ok && t8k_builder::dates::parse(&a.at).is_some_and(|t| t >= month_ago))
        .collect();
    let build_queued = scan.queued.contains(&id);
    if build_queued {
        problems.push("content changed since the last build (queued)".into());
    }
    let published = t8k_builder::deploys::list(inst.store(), &id.clone().into())?
        .into_iter()
        .find(|d| d.live)
        .map(|d| d.created);
    if published.is_none() && e.active {
        problems.push("never published".into());
    }
    problems.extend(domain_problems(inst, e));
    let t = traffic::report(inst.store(), &id, 30, now)?;
    Ok(TenantRow {
        tenant: e.id.clone(),
        status: e.status.as_str().into(),
        created: e.created.clone(),
        pages,
        users,
        storage,
        analytics_bytes: usage.as_ref().ok().map(|u| u.storage.analytics_bytes),
        built_pages: record.as_ref().map(|r| r.pages),
        built: record.and_then(|r| r.built),
        build_queued,
        published,
        pageviews_30d: t.pageviews,
        visitors_30d: t.visitors,
        bandwidth_month: bandwidth::read(inst.store(), &id, &bandwidth::month_of(now))?
            .map(|m| m.bytes),
        failures_30d: failures.len(),
        recent_failures: failures.into_iter().rev().take(5).collect(),
        problems,
    })
}

/// Which rows to keep: all, or a page (`--limit`, `--after`).
#[derive(Clone, Default)]
pub struct Page {
    pub limit: Option<usize>,
    pub after: Option<String>,
}

/// Reports on every tenant one at a time: the totals cover them all, the rows kept are the
/// page's, so memory does not grow with the installation.
fn collect(inst: &Installation, page: &Page) -> Result<Report> {
    let now = t8k_core::timefmt::now();
    let out = t8k_builder::default_out(inst);
    let scan = Scan {
        inst,
        out: out.as_deref(),
        now,
        queued: t8k_core::queue::pending(inst.store())?
            .into_iter()
            .map(|(t, _)| t)
            .collect(),
    };
    let mut signups: BTreeMap<String, u64> = (0..8)
        .map(|w| (week_of(now - time::Duration::weeks(7 - w)), 0))
        .collect();
    let (mut rows, mut next) = (vec![], None);
    let (mut count, mut storage_bytes, mut analytics_bytes) = (0, 0, 0);
    let in_page = |id: &str| page.after.as_deref().is_none_or(|a| id > a);
    let mut failure = None;
    let walked = inst.each_tenant(|e| {
        let r = match row(&scan, &e) {
            Ok(r) => r,
            Err(err) => {
                failure = Some(err.context(format!("reporting on tenant '{}'", e.id)));
                // Stops the walk; the error reported is the one kept above.
                return Err(t8k_core::Error::invalid("report", "stopped"));
            }
        };
        count += 1;
        storage_bytes += r.storage.map_or(0, |s| s.0);
        analytics_bytes += r.analytics_bytes.unwrap_or(0);
        let created =
            time::OffsetDateTime::parse(&e.created, &time::format_description::well_known::Rfc3339);
        if let Ok(c) = created
            && let Some(n) = signups.get_mut(&week_of(c))
        {
            *n += 1;
        }
        match page.limit {
            _ if !in_page(&e.id) => {}
            Some(limit) if rows.len() >= limit => {
                next = next
                    .take()
                    .or_else(|| rows.last().map(|r: &TenantRow| r.tenant.clone()));
            }
            _ => rows.push(r),
        }
        Ok(())
    });
    if let Some(err) = failure {
        return Err(err);
    }
    walked?;
    Ok(Report {
        count,
        next,
        max_tenants: inst.settings()?.max_tenants.value,
        pending_signups: inst.pending_signups()?.len(),
        storage_bytes,
        analytics_bytes,
        signups_per_week: signups,
        tenants: rows,
    })
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
        std::fs::write(&path, page(&r))
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("Wrote {}", path.display());
    }
    output::emit(json, &r, || {
        let rows = r
            .tenants
            .iter()
            .map(|t| {
                let mut row = t.cells();
                row.extend([
                    format!("{} / {}", t.pageviews_30d, t.visitors_30d),
                    t.bandwidth_month.map_or("-".into(), quota::format_size),
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
                    &["views / visitors (30 d)", "bandwidth (month)", "health"]
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
        if let (Some(next), Some(limit)) = (&r.next, paging.limit) {
            println!("More rows: t8k report --limit {limit} --after {next}");
        }
    });
    Ok(())
}

/// The report as a page with SVG bar charts (no scripts), drawn like the tenants' dashboard.
fn page(r: &Report) -> String {
    let rows = r
        .tenants
        .iter()
        .map(|t| {
            let health = if t.problems.is_empty() {
                "ok".into()
            } else {
                t.problems.join("; ")
            };
            let mut row = t.cells();
            row.extend([
                t.pageviews_30d.to_string(),
                t.failures_30d.to_string(),
                health,
            ]);
            row.iter().map(|c| esc(c)).collect()
        })
        .collect();
    let signups: Vec<(String, u64)> = r
        .signups_per_week
        .iter()
        .map(|(w, n)| (w.clone(), *n))
        .collect();
    let views: Vec<(String, u64)> = r
        .tenants
        .iter()
        .map(|t| (t.tenant.clone(), t.pageviews_30d))
        .collect();
    let head = [&COLUMNS[..], &["views (30 d)", "failures (30 d)", "health"]].concat();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>t8k report</title><style>body{{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}{}</style></head>\
<body><main><h1>Installation report</h1><p>{} of {} tenants · {} sign-ups waiting · {} stored (+ {} analytics)</p>\
<h2>Sign-ups per week</h2>{}<h2>Page views per tenant, 30 days</h2>{}<h2>Tenants</h2>{}</main></body></html>",
        FIGURES_STYLE,
        r.count,
        r.max_tenants,
        r.pending_signups,
        quota::format_size(r.storage_bytes),
        quota::format_size(r.analytics_bytes),
        bars("sign-ups per week", &signups),
        bars("page views per tenant", &views),
        table(&head, rows),
    )
}
