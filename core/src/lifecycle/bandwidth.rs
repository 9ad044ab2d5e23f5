//! A tenant's month of bandwidth against its limit ([`crate::bandwidth::limit`]): what
//! `tenant usage`, `/api/quota` and the report show, and the check that tells admins and marks
//! the tenant for the edges. The check is run by whatever learns of new traffic (`t8k serve`
//! as it counts, `t8k usage ingest` after a log) and by `t8k usage check` (cron: it also lifts
//! last month's marks when the month turns), and after `tenant set-quota --bandwidth`.

use serde::Serialize;

use super::Installation;
use crate::bandwidth::limit::{self, Limit, OverLimit};
use crate::bandwidth::{self, month_of};
use crate::error::Result;
use crate::name::TenantId;
use crate::registry::TenantEntry;
use crate::tenant_config::TenantConfig;

/// This month's bandwidth against the limit.
#[derive(Clone, Debug, Serialize)]
pub struct BandwidthStanding {
    /// `2026-11` (UTC).
    pub month: String,
    /// Bytes served this month; `None`: nothing measured yet.
    pub used: Option<u64>,
    pub requests: Option<u64>,
    pub limit: Limit,
    /// `used` in percent of the limit (rounded down); `None` when unlimited or unmeasured.
    pub percent: Option<u64>,
    /// The mark in force: pages are throttled or refused until the month turns.
    pub over: Option<OverLimit>,
}

/// What one check did.
#[derive(Clone, Debug)]
pub struct BandwidthCheck {
    pub standing: BandwidthStanding,
    /// A threshold (80 or 100) this caller claimed: it tells the admins, or gives the claim
    /// back with [`limit::release_alert`] when it cannot.
    pub alert: Option<u8>,
    /// Whether the tenant's mark was set or lifted by this check.
    pub mark_changed: bool,
}

impl Installation {
    /// This month's standing, read only, of a tenant whose entry and settings the caller
    /// has read already.
    pub(super) fn bandwidth_standing(
        &self,
        entry: &TenantEntry,
        tid: &TenantId,
        cfg: &TenantConfig,
    ) -> Result<BandwidthStanding> {
        let now = crate::timefmt::now();
        let mut s = self.standing_of(tid, cfg, now)?;
        s.over = entry.over_limit.clone().filter(|o| o.in_force(now));
        Ok(s)
    }

    fn standing_of(
        &self,
        tid: &TenantId,
        cfg: &TenantConfig,
        now: time::OffsetDateTime,
    ) -> Result<BandwidthStanding> {
        let month = month_of(now);
        let served = bandwidth::read(self.store(), tid, &month)?;
        let (reg, _) = self.registry()?;
        let limit = Limit::of_tenant(cfg, reg.default_bandwidth_quota.as_deref())?;
        Ok(BandwidthStanding {
            percent: served.and_then(|m| limit.percent(m.bytes)),
            used: served.map(|m| m.bytes),
            requests: served.map(|m| m.requests),
            month,
            limit,
            over: None,
        })
    }

    /// Compares the month with the limit at `now`: claims the highest threshold reached that
    /// no one has told yet, and sets or lifts the tenant's mark (its entry, then the host
    /// table and `routes.json` of the data root).
    pub fn check_bandwidth(&self, id: &str, now: time::OffsetDateTime) -> Result<BandwidthCheck> {
        let (entry, tid) = self.entry(id)?;
        let cfg = TenantConfig::load(self.store(), &tid)?;
        let mut standing = self.standing_of(&tid, &cfg, now)?;
        let used = standing.used.unwrap_or(0);
        let alert = match standing.limit.reached(used) {
            Some(t) if limit::claim_alert(self.store(), &tid, &standing.month, t)? => Some(t),
            _ => None,
        };
        let mark = standing.limit.mark(used, &standing.month);
        // Most checks change nothing: the entry is rewritten (and the routes follow) only
        // when the mark moves.
        let changed = match entry.over_limit == mark {
            true => None,
            false => self.update_entry(id, |e| {
                if e.over_limit == mark {
                    return Ok(None);
                }
                e.over_limit = mark.clone();
                Ok(Some(()))
            })?,
        };
        standing.over = mark;
        Ok(BandwidthCheck {
            standing,
            alert,
            mark_changed: changed.is_some(),
        })
    }
}
