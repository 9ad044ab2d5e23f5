//! The installation report: each tenant's status and health (last build and publish, their
//! failures as `build/{tenant}.history.jsonl` records them, queued builds), usage against
//! quotas, traffic (30 days of analytics, this month's bandwidth), sign-ups per week and
//! capacity. One collection for both readers: `t8k report` (table, `--json`, `--html`) and
//! the installation admin's `GET /api/admin/report`.

pub mod growth;
pub mod platform;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::Serialize;
use t8k_builder::history::{self, Attempt, Stage};
use t8k_core::analytics::report as traffic;
use t8k_core::bandwidth::{self, limit::Policy};
use t8k_core::lifecycle::{Installation, Usage};
use t8k_core::registry::{DomainStatus, TenantEntry};
use t8k_core::{Result, TenantId};

#[derive(Serialize)]
pub struct TenantRow {
    pub tenant: String,
    pub status: String,
    pub created: String,
    pub pages: Option<(u64, u64)>,
    pub users: Option<(u64, u64)>,
    pub storage: Option<(u64, u64)>,
    /// The analytics database's size (not counted against STORAGE_QUOTA).
    pub analytics_bytes: Option<u64>,
    pub built_pages: Option<usize>,
    /// When the current bundle was built.
    pub built: Option<String>,
    pub build_queued: bool,
    /// The last call of the build webhook for this tenant (`BUILD_WEBHOOK_URL`).
    pub trigger: Option<t8k_core::trigger::Record>,
    pub published: Option<String>,
    pub pageviews_30d: u64,
    pub visitors_30d: u64,
    /// Core Web Vitals of the last 30 days: p75 and band per metric.
    pub vitals_30d: std::collections::BTreeMap<
        t8k_core::analytics::vitals::Metric,
        t8k_core::analytics::vitals::Figure,
    >,
    pub bandwidth_month: Option<u64>,
    /// BANDWIDTH_QUOTA as set ("" unlimited), its policy, the month's share of it and the
    /// mark in force.
    pub bandwidth_limit: String,
    pub bandwidth_policy: Policy,
    pub bandwidth_percent: Option<u64>,
    pub bandwidth_over: Option<t8k_core::bandwidth::limit::OverLimit>,
    /// The figures of the last successful builds, oldest first (at most [`BUILD_TREND`]): build
    /// time, pages, bundle bytes, page weight p50/p95.
    pub builds: Vec<BuildPoint>,
    /// 30- and 90-day growth from the daily snapshots.
    pub growth: growth::TenantGrowth,
    /// Failed build and publish attempts in the last 30 days, and the newest five of them.
    pub failures_30d: usize,
    /// The last snapshot and failed attempts since (`t8k backup`).
    pub backup: t8k_core::backup::schedule::Status,
    pub recent_failures: Vec<Attempt>,
    /// Maintenance notices that concern the tenant, current and upcoming.
    pub notices: Vec<String>,
    pub problems: Vec<String>,
}

/// How many of a site's last builds the report shows as a trend.
pub const BUILD_TREND: usize = 30;

/// One successful build's figures.
#[derive(Clone, Debug, Serialize)]
pub struct BuildPoint {
    pub at: String,
    #[serde(flatten)]
    pub metrics: t8k_builder::weight::BuildMetrics,
}

#[derive(Serialize)]
pub struct Report {
    /// Every tenant's row, or with `--limit` one page of them (the totals cover every tenant).
    pub tenants: Vec<TenantRow>,
    /// With `--limit`, when more rows follow: pass it as `--after`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    pub count: usize,
    pub max_tenants: u64,
    pub pending_signups: usize,
    /// Against quotas (content databases and media).
    pub storage_bytes: u64,
    /// Analytics databases, outside the quotas.
    pub analytics_bytes: u64,
    /// ISO week (`2026-W48`) → tenants created that week, the last 8 weeks.
    pub signups_per_week: BTreeMap<String, u64>,
    /// Totals over time and projections, from the daily snapshots.
    pub growth: growth::Growth,
    /// Maintenance notices current and upcoming (`t8k notice`).
    pub notices: Vec<platform::NoticeLine>,
    /// Rollouts running or halted (`t8k rollout`).
    pub rollouts: Vec<platform::RolloutLine>,
}

fn week_of(t: time::OffsetDateTime) -> String {
    let (y, w, _) = t.to_iso_week_date();
    format!("{y}-W{w:02}")
}

/// What every row is read against, gathered once (one listing of the build queue, not one
/// per tenant: on a bucket root each listing is a request).
struct Scan<'a> {
    inst: &'a Installation,
    out: Option<&'a Path>,
    now: time::OffsetDateTime,
    queued: HashSet<TenantId>,
    /// The default backup schedule, when the installation has a backup repository.
    backups: Option<t8k_core::backup::schedule::Schedule>,
    notices: Vec<platform::NoticeLine>,
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

/// The last [`BUILD_TREND`] successful builds' figures, oldest first.
fn build_trend(attempts: &[Attempt]) -> Vec<BuildPoint> {
    let mut points: Vec<BuildPoint> = attempts
        .iter()
        .rev()
        .filter_map(|a| {
            Some(BuildPoint {
                at: a.at.clone(),
                metrics: a.metrics.filter(|_| a.ok)?,
            })
        })
        .take(BUILD_TREND)
        .collect();
    points.reverse();
    points
}

/// A tenant's row, from its usage (measured once by the caller, which also totals it).
fn row(scan: &Scan, e: &TenantEntry, usage: Result<Usage>) -> Result<TenantRow> {
    let Scan { inst, out, now, .. } = *scan;
    let id: TenantId = e.tenant_id()?;
    let mut problems = vec![];
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
    let builds = build_trend(&attempts);
    let month_ago = now - time::Duration::days(30);
    let failures: Vec<Attempt> = attempts
        .into_iter()
        .filter(|a| !a.ok && t8k_builder::dates::parse(&a.at).is_some_and(|t| t >= month_ago))
        .collect();
    let build_queued = scan.queued.contains(&id);
    if build_queued {
        problems.push("content changed since the last build (queued)".into());
    }
    let trigger = t8k_core::trigger::read_record(inst.store(), &id)?;
    if let Some(t) = trigger.as_ref().filter(|t| !t.ok) {
        problems.push(format!(
            "the build trigger failed ({}, {} attempts): {}; the queued build waits for the next worker or cron run",
            t.at,
            t.attempts,
            t.error.as_deref().unwrap_or("no message")
        ));
    }
    let published = t8k_builder::deploys::list(inst.store(), &id.clone().into())?
        .into_iter()
        .find(|d| d.live)
        .map(|d| d.created);
    if published.is_none() && e.active {
        problems.push("never published".into());
    }
    problems.extend(domain_problems(inst, e));
    let backup = t8k_core::backup::schedule::status(inst.store(), &id)?;
    if let Some(default) = scan.backups {
        // A tenant whose backup health cannot be read says so in its row, never hides the rest.
        match t8k_core::backup::schedule::health(inst.store(), &id, default, now) {
            Ok(found) => problems.extend(found),
            Err(err) => problems.push(format!("backup health unreadable: {err}")),
        }
    }
    let t = traffic::report(inst.store(), &id, 30, now)?;
    // From the usage (its env.json read once); a tenant whose settings cannot be read still
    // shows what it served.
    let bw = usage.as_ref().ok().and_then(|u| u.bandwidth.clone());
    let served = match &bw {
        Some(b) => b.used,
        None => bandwidth::read(inst.store(), &id, &bandwidth::month_of(now))?.map(|m| m.bytes),
    };
    let limit = bw.as_ref().map(|b| b.limit.clone()).unwrap_or_default();
    if let Some(o) = bw.as_ref().and_then(|b| b.over.as_ref()) {
        let what = match o.policy {
            Policy::Suspend => "refused",
            _ => "throttled",
        };
        problems.push(format!(
            "over its bandwidth limit ({}): pages {what} until the month turns",
            limit.quota
        ));
    }
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
        trigger,
        published,
        pageviews_30d: t.pageviews,
        visitors_30d: t.visitors,
        vitals_30d: t.vitals,
        builds,
        growth: growth::of_tenant(inst, &id, now)?,
        bandwidth_month: served,
        bandwidth_percent: bw.as_ref().and_then(|b| b.percent),
        bandwidth_over: bw.and_then(|b| b.over),
        bandwidth_limit: limit.quota,
        bandwidth_policy: limit.policy,
        failures_30d: failures.len(),
        backup,
        recent_failures: failures.into_iter().rev().take(5).collect(),
        notices: platform::of_tenant(&scan.notices, &e.id),
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
pub fn collect(inst: &Installation, page: &Page) -> Result<Report> {
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
        backups: t8k_core::backup::schedule::installation_default(&inst.registry()?.0)?,
        notices: platform::notices(&t8k_core::notices::list(inst.store())?, now),
    };
    let mut signups: BTreeMap<String, u64> = (0..8)
        .map(|w| (week_of(now - time::Duration::weeks(7 - w)), 0))
        .collect();
    let (mut rows, mut next) = (vec![], None);
    let (mut count, mut storage_bytes, mut analytics_bytes) = (0, 0, 0);
    let in_page = |id: &str| page.after.as_deref().is_none_or(|a| id > a);
    inst.each_tenant(|e| {
        // Every tenant counts in the totals; only the page's rows are read in full.
        let usage = inst.usage(&e.id);
        count += 1;
        if let Ok(u) = &usage {
            storage_bytes += u.storage_bytes;
            analytics_bytes += u.storage.analytics_bytes;
        }
        let created =
            time::OffsetDateTime::parse(&e.created, &time::format_description::well_known::Rfc3339);
        if let Ok(c) = created
            && let Some(n) = signups.get_mut(&week_of(c))
        {
            *n += 1;
        }
        if !in_page(&e.id) {
            return Ok(());
        }
        if page.limit.is_none_or(|limit| rows.len() < limit) {
            rows.push(row(&scan, &e, usage)?);
        } else if next.is_none() {
            next = rows.last().map(|r: &TenantRow| r.tenant.clone());
        }
        Ok(())
    })?;
    Ok(Report {
        count,
        next,
        max_tenants: inst.settings()?.max_tenants.value,
        pending_signups: inst.pending_signups()?.len(),
        storage_bytes,
        analytics_bytes,
        signups_per_week: signups,
        growth: growth::of_installation(inst, now)?,
        rollouts: platform::rollouts(inst)?,
        notices: scan.notices.clone(),
        tenants: rows,
    })
}
