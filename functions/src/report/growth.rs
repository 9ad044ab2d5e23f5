//! The report's trends, from the daily usage snapshots (`t8k usage snapshot`,
//! [`t8k_core::growth`]): each tenant's 30- and 90-day growth of visitors, pages and storage,
//! the installation's totals over time, and projections by a least-squares fit over the last
//! eight weeks, each with its fit quality.

use serde::Serialize;
use t8k_core::growth::fit::{Projection, least_squares};
use t8k_core::growth::{self, Change, InstallationDay, TenantDay, change_over, day_text, window};
use t8k_core::lifecycle::Installation;
use t8k_core::{Result, TenantId};
use time::{Date, OffsetDateTime};

/// How far back the trends look.
pub const HISTORY_DAYS: i64 = 90;

/// A tenant's growth over 30 and 90 days (`None`: no snapshot reaches back that far).
#[derive(Clone, Debug, Default, Serialize)]
pub struct TenantGrowth {
    pub visitors_30d: Option<Change>,
    pub visitors_90d: Option<Change>,
    pub pages_30d: Option<Change>,
    pub pages_90d: Option<Change>,
    pub storage_30d: Option<Change>,
    pub storage_90d: Option<Change>,
}

/// The installation's trends.
#[derive(Clone, Debug, Serialize)]
pub struct Growth {
    /// The daily totals of the last 90 days that have a snapshot, oldest first.
    pub days: Vec<Point>,
    /// When the installation is full at the current sign-up rate.
    pub max_tenants: Projection,
    /// When storage (database and media, every tenant) has doubled at the current rate.
    pub storage_doubles: Projection,
}

#[derive(Clone, Debug, Serialize)]
pub struct Point {
    pub date: String,
    #[serde(flatten)]
    pub totals: InstallationDay,
}

fn start(now: OffsetDateTime) -> Date {
    now.date() - time::Duration::days(HISTORY_DAYS)
}

/// A tenant's 30- and 90-day changes.
pub fn of_tenant(inst: &Installation, id: &TenantId, now: OffsetDateTime) -> Result<TenantGrowth> {
    let s = growth::tenant_series(inst.store(), id, start(now), now.date())?;
    let visitors = |d: &TenantDay| d.visitors_30d;
    let pages = |d: &TenantDay| d.pages;
    let storage = |d: &TenantDay| d.storage_bytes;
    Ok(TenantGrowth {
        visitors_30d: change_over(&s, 30, visitors),
        visitors_90d: change_over(&s, 90, visitors),
        pages_30d: change_over(&s, 30, pages),
        pages_90d: change_over(&s, 90, pages),
        storage_30d: change_over(&s, 30, storage),
        storage_90d: change_over(&s, 90, storage),
    })
}

/// The installation's series and projections.
pub fn of_installation(inst: &Installation, now: OffsetDateTime) -> Result<Growth> {
    let s = growth::installation_series(inst.store(), start(now), now.date())?;
    let last = s.last().map(|(_, d)| *d).unwrap_or_default();
    let tenants = window(&s, |d| d.tenants);
    let storage = window(&s, |d| d.sum.storage_bytes);
    Ok(Growth {
        max_tenants: Projection::to_reach(
            least_squares(&tenants),
            tenants.len(),
            last.max_tenants.saturating_sub(last.tenants) as f64,
            "max_tenants reached",
        ),
        storage_doubles: Projection::to_reach(
            least_squares(&storage),
            storage.len(),
            last.sum.storage_bytes as f64,
            "storage doubles",
        ),
        days: s
            .into_iter()
            .map(|(d, totals)| Point {
                date: day_text(d),
                totals,
            })
            .collect(),
    })
}
