//! `BANDWIDTH_QUOTA` (bytes per calendar month, UTC; the tenant's `env.json`, else the
//! installation's `default_bandwidth_quota` in tenants.json; none = unlimited) and
//! `BANDWIDTH_POLICY`: what happens when a month reaches it.
//!
//! The month's usage is what [`super::read`] sums (t8k serve's counts and the edges' logs).
//! At 80% and at 100% the tenant's admins are told once per month per threshold: a threshold
//! is claimed in `stats/{tenant}/bandwidth/{month}.alerts.json` by compare-and-swap before
//! the mail goes, so two checkers never both send it, and given back if sending fails.
//! At 100% under `throttle` or `suspend` the tenant's registry entry carries an
//! [`OverLimit`] mark for that month; the host table and `routes.json` carry it to every edge.

use serde::{Deserialize, Serialize};

use crate::cas;
use crate::error::{Error, Result};
use crate::key::{Key, layout};
use crate::name::TenantId;
use crate::quota::parse_size;
use crate::store::Store;
use crate::tenant_config::TenantConfig;

/// The setting names, as in `env.json`.
pub const QUOTA_SETTING: &str = "BANDWIDTH_QUOTA";
pub const POLICY_SETTING: &str = "BANDWIDTH_POLICY";

/// The share of the limit at which admins are told, in percent.
pub const THRESHOLDS: [u8; 2] = [80, 100];

/// What a month that reached its limit does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Mail the admins; keep serving.
    #[default]
    Notify,
    /// Mail, and serve slower where the edge can (nginx `limit_rate`).
    Throttle,
    /// Mail, and answer every page with 503 "bandwidth limit reached" until the month turns
    /// or the limit is raised.
    Suspend,
}

impl Policy {
    /// `notify`, `throttle` or `suspend`; an empty text is the default, `notify`.
    pub fn parse(text: &str) -> Result<Policy> {
        match text.trim().to_ascii_lowercase().as_str() {
            "" | "notify" => Ok(Policy::Notify),
            "throttle" => Ok(Policy::Throttle),
            "suspend" => Ok(Policy::Suspend),
            other => Err(Error::invalid(
                POLICY_SETTING,
                format!("{other:?} is not a policy; use notify, throttle or suspend"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Notify => "notify",
            Policy::Throttle => "throttle",
            Policy::Suspend => "suspend",
        }
    }
}

/// The mark on a tenant whose month reached its limit under `throttle` or `suspend`. It is in
/// force only during `month`: a mark left from last month does nothing, whoever reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverLimit {
    pub policy: Policy,
    /// `2026-11`.
    pub month: String,
}

impl OverLimit {
    pub fn in_force(&self, now: time::OffsetDateTime) -> bool {
        self.month == super::month_of(now)
    }

    /// Whether pages are refused (503) now.
    pub fn suspends(&self, now: time::OffsetDateTime) -> bool {
        self.policy == Policy::Suspend && self.in_force(now)
    }

    /// The `Retry-After` value: the first second of the next month, as an HTTP date (it stays
    /// right however long a generated edge configuration lives).
    pub fn retry_after(&self) -> String {
        next_month_start(&self.month).map_or_else(|| "86400".into(), http_date)
    }
}

/// 00:00:00 UTC on the first day of the month after `month` (`2026-11`).
fn next_month_start(month: &str) -> Option<time::OffsetDateTime> {
    let (y, m) = month.split_once('-')?;
    let (y, m): (i32, u8) = (y.parse().ok()?, m.parse().ok()?);
    let (y, m) = if m >= 12 { (y + 1, 1) } else { (y, m + 1) };
    let date = time::Date::from_calendar_date(y, time::Month::try_from(m).ok()?, 1).ok()?;
    Some(date.midnight().assume_utc())
}

/// RFC 9110's IMF-fixdate: `Tue, 01 Dec 2026 00:00:00 GMT`.
pub fn http_date(t: time::OffsetDateTime) -> String {
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    t.to_offset(time::UtcOffset::UTC)
        .format(&f)
        .unwrap_or_default()
}

/// A tenant's limit, as its settings give it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Limit {
    /// `None`: unlimited.
    pub bytes: Option<u64>,
    /// The setting as written (`100GB`), "" when unlimited.
    pub quota: String,
    pub policy: Policy,
}

impl Limit {
    /// From the tenant's `BANDWIDTH_QUOTA` and `BANDWIDTH_POLICY`; an empty quota takes the
    /// installation's `default` (itself possibly empty: unlimited); `unlimited` is none.
    pub fn of(quota: &str, policy: &str, default: Option<&str>) -> Result<Limit> {
        let quota = match quota.trim() {
            "" => default.unwrap_or("").trim(),
            q => q,
        };
        let quota = if quota.eq_ignore_ascii_case("unlimited") {
            ""
        } else {
            quota
        };
        let bytes = (!quota.is_empty())
            .then(|| parse_size(quota, QUOTA_SETTING))
            .transpose()?;
        Ok(Limit {
            bytes,
            quota: quota.to_owned(),
            policy: Policy::parse(policy)?,
        })
    }

    /// A tenant's limit: its `BANDWIDTH_QUOTA` and `BANDWIDTH_POLICY`, the quota defaulting to
    /// the installation's `default_bandwidth_quota`.
    pub fn of_tenant(cfg: &TenantConfig, default: Option<&str>) -> Result<Limit> {
        Limit::of(&cfg.bandwidth_quota, &cfg.bandwidth_policy, default)
    }

    /// Percent of the limit `used` is (rounded down), `None` when unlimited.
    pub fn percent(&self, used: u64) -> Option<u64> {
        self.bytes
            .map(|b| (used as u128 * 100 / b.max(1) as u128).min(u64::MAX as u128) as u64)
    }

    /// The highest threshold `used` has reached.
    pub fn reached(&self, used: u64) -> Option<u8> {
        let p = self.percent(used)?;
        THRESHOLDS.iter().rev().copied().find(|&t| p >= t as u64)
    }

    /// The mark the tenant should carry in `month` for `used` bytes.
    pub fn mark(&self, used: u64, month: &str) -> Option<OverLimit> {
        (self.reached(used) == Some(100) && self.policy != Policy::Notify).then(|| OverLimit {
            policy: self.policy,
            month: month.to_owned(),
        })
    }
}

/// `stats/{tenant}/bandwidth/{month}.alerts.json`: the thresholds already told this month.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Alerts {
    sent: Vec<u8>,
}

fn alerts_key(id: &TenantId, month: &str) -> Result<Key> {
    super::month_key(id, month)?;
    layout::bandwidth_dir(id).join(&format!("{month}.alerts.json"))
}

/// Claims `threshold` (and every lower one: a month that jumps past 80% straight to 100% gets
/// one mail, not two) for `month`. `true`: this caller sends the mail; `false`: it was sent.
pub fn claim_alert(store: &dyn Store, id: &TenantId, month: &str, threshold: u8) -> Result<bool> {
    let claimed = cas::upsert_json(store, &alerts_key(id, month)?, |a: &mut Alerts| {
        if a.sent.contains(&threshold) {
            return Ok(None);
        }
        for t in THRESHOLDS.into_iter().filter(|&t| t <= threshold) {
            if !a.sent.contains(&t) {
                a.sent.push(t);
            }
        }
        a.sent.sort_unstable();
        Ok(Some(()))
    })?;
    Ok(claimed.is_some())
}

/// Gives a claim back after its mail could not be sent, so the next check tries again.
pub fn release_alert(store: &dyn Store, id: &TenantId, month: &str, threshold: u8) -> Result<()> {
    cas::upsert_json(store, &alerts_key(id, month)?, |a: &mut Alerts| {
        let before = a.sent.len();
        a.sent.retain(|&t| t != threshold);
        Ok((a.sent.len() != before).then_some(()))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_thresholds_and_marks() {
        let l = Limit::of("", "suspend", Some("1MB")).unwrap();
        assert_eq!(l.bytes, Some(1_000_000));
        assert_eq!(l.quota, "1MB");
        assert_eq!(l.reached(799_999), None);
        assert_eq!(l.reached(800_000), Some(80));
        assert_eq!(l.reached(2_000_000), Some(100));
        assert_eq!(l.mark(999_999, "2026-11"), None);
        let m = l.mark(1_000_000, "2026-11").unwrap();
        assert!(m.suspends(time::macros::datetime!(2026-11-30 23:59 UTC)));
        assert!(!m.suspends(time::macros::datetime!(2026-12-01 00:00 UTC)));
        assert_eq!(m.retry_after(), "Tue, 01 Dec 2026 00:00:00 GMT");
        let dec = OverLimit {
            policy: Policy::Throttle,
            month: "2026-12".into(),
        };
        assert_eq!(dec.retry_after(), "Fri, 01 Jan 2027 00:00:00 GMT");
        assert!(!dec.suspends(time::macros::datetime!(2026-12-05 0:00 UTC)));

        let unlimited = Limit::of("", "", None).unwrap();
        assert_eq!((unlimited.bytes, unlimited.reached(u64::MAX)), (None, None));
        let own = Limit::of("unlimited", "", Some("1MB")).unwrap();
        assert_eq!(own.bytes, None, "a tenant may be exempt from the default");
        let notify = Limit::of("10GB", "", Some("1MB")).unwrap();
        assert_eq!(notify.bytes, Some(10_000_000_000), "the tenant's own wins");
        assert_eq!(notify.mark(u64::MAX, "2026-11"), None, "notify never marks");

        let e = Limit::of("lots", "", None).unwrap_err().to_string();
        assert!(e.contains("BANDWIDTH_QUOTA") && e.contains("1GB"), "{e}");
        let e = Limit::of("1GB", "block", None).unwrap_err().to_string();
        assert!(
            e.contains("BANDWIDTH_POLICY") && e.contains("suspend"),
            "{e}"
        );
    }

    #[test]
    fn a_threshold_is_claimed_once_and_can_be_given_back() {
        let (_dir, store) = crate::store::temp();
        let (s, id) = (store.as_ref(), TenantId::trusted("acme").unwrap());
        let won: usize = std::thread::scope(|scope| {
            let runs: Vec<_> = (0..6)
                .map(|_| scope.spawn(|| claim_alert(s, &id, "2026-11", 80).unwrap()))
                .collect();
            runs.into_iter().map(|r| r.join().unwrap() as usize).sum()
        });
        assert_eq!(won, 1, "one checker sends the 80% mail");
        release_alert(s, &id, "2026-11", 80).unwrap();
        assert!(claim_alert(s, &id, "2026-11", 80).unwrap(), "given back");
        assert!(claim_alert(s, &id, "2026-11", 100).unwrap());
        assert!(!claim_alert(s, &id, "2026-11", 100).unwrap());
        assert!(claim_alert(s, &id, "2026-12", 100).unwrap(), "a new month");
        assert!(
            !claim_alert(s, &id, "2026-12", 80).unwrap(),
            "covered by 100"
        );
        assert!(claim_alert(s, &id, "../x", 80).is_err());
    }
}
