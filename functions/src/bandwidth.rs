//! Bandwidth limits enforced: runs the check of [`Installation::check_bandwidth`] and tells the
//! tenant's admins by mail when a threshold (80%, 100%) is reached, once per month per
//! threshold. A mail that cannot be sent gives its claim back, so the next check tries again.

use t8k_core::TenantId;
use t8k_core::bandwidth::limit::{self, Policy};
use t8k_core::lifecycle::{BandwidthStanding, Installation};
use t8k_core::quota::format_size;
use t8k_core::users::Role;

use crate::error::ApiResult;
use crate::mail::{self, Mail};

/// Checks `id`'s month at `now`, tells its admins of a threshold newly reached, and returns
/// the standing. A tenant with no admin address has nothing sent (the claim stays: there is
/// no one to retry for).
pub fn enforce(
    inst: &Installation,
    id: &str,
    now: time::OffsetDateTime,
) -> ApiResult<BandwidthStanding> {
    let check = inst.check_bandwidth(id, now)?;
    if check.mark_changed {
        tracing::info!(tenant = id, over = ?check.standing.over, "bandwidth mark changed");
    }
    let Some(threshold) = check.alert else {
        return Ok(check.standing);
    };
    let (_, tid) = inst.entry(id)?;
    let mails = admin_addresses(inst, &tid)?
        .into_iter()
        .map(|to| alert_mail(id, to, threshold, &check.standing))
        .collect::<Vec<_>>();
    if mails.is_empty() {
        tracing::warn!(
            tenant = id,
            threshold,
            "bandwidth alert: the tenant has no admin email"
        );
    }
    for m in &mails {
        if let Err(e) = mail::send(inst, m) {
            let month = &check.standing.month;
            limit::release_alert(inst.store(), &tid, month, threshold)?;
            return Err(e);
        }
    }
    Ok(check.standing)
}

/// The tenant's admins who can be written to: the owner's address and every enabled named
/// admin's, each once.
pub(crate) fn admin_addresses(inst: &Installation, id: &TenantId) -> ApiResult<Vec<String>> {
    // The built-in admin's address is the owner's (ADMIN_EMAIL): written to even while that
    // account has no password.
    let mut to: Vec<String> = t8k_core::users::list(inst.store(), id)?
        .into_iter()
        .filter(|a| a.role == Role::Admin && (a.enabled || a.builtin))
        .map(|a| a.email.trim().to_owned())
        .filter(|e| !e.is_empty())
        .collect();
    to.sort_by_key(|a| a.to_ascii_lowercase());
    to.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    Ok(to)
}

fn alert_mail(id: &str, to: String, threshold: u8, s: &BandwidthStanding) -> Mail {
    let used = format_size(s.used.unwrap_or(0));
    let what = match (threshold, s.limit.policy) {
        (100, Policy::Suspend) => {
            "Your site's pages now answer \"bandwidth limit reached\" until the month turns \
             (UTC) or the limit is raised."
        }
        (100, Policy::Throttle) => {
            "Your site is now served at a reduced speed until the month turns (UTC) or the \
             limit is raised."
        }
        (100, Policy::Notify) => "Your site keeps being served; please review your plan.",
        _ => "Nothing changes yet; at 100% the limit's policy applies.",
    };
    Mail {
        to,
        subject: format!("{id}: {threshold}% of this month's bandwidth used"),
        body: format!(
            "Site {id} has served {used} in {month}, {pct}% of its monthly bandwidth limit of {quota} \
             (policy: {policy}).\n\n{what}\n\nAn operator raises the limit with:\n  \
             t8k tenant set-quota {id} --bandwidth SIZE\n",
            month = s.month,
            pct = s.percent.unwrap_or(0),
            quota = s.limit.quota,
            policy = s.limit.policy.as_str(),
        ),
        tag: format!("{id}-bandwidth-{threshold}"),
    }
}
