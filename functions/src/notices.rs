//! Maintenance notices: announcing one (each concerned tenant's admins mailed once, the sites
//! that show it as a banner asked to build), `GET /api/notices` for a tenant's admins, and
//! `PUT /api/admin/notices` for the installation admin (what `t8k notice create` does).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use t8k_core::TenantId;
use t8k_core::lifecycle::Installation;
use t8k_core::notices::{self, Audience, NewNotice, Notice, Phase};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::{ApiError, ApiResult};
use crate::guard::{Admin, InstallationAdmin};
use crate::mail::{self, Mail};
use crate::state::{Shared, blocking};

/// What announcing a notice did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Announced {
    /// Tenants whose admins were mailed now, with how many addresses.
    pub mailed: Vec<(String, usize)>,
    /// Tenants mailed before (by an earlier announcement of this notice).
    pub already: usize,
    /// Tenants with no admin address.
    pub no_address: Vec<String>,
    /// Tenants whose mail failed (their claim is given back: announcing again retries them).
    pub failed: Vec<String>,
    /// Sites asked to build (the banner shows on them now).
    pub builds: usize,
}

/// The active tenants a notice concerns.
pub fn tenants_of(inst: &Installation, notice: &Notice) -> t8k_core::Result<Vec<TenantId>> {
    let mut out = vec![];
    for entry in inst.list()?.into_iter().filter(|e| e.active) {
        if notice.concerns(&entry.id) {
            out.push(entry.tenant_id()?);
        }
    }
    Ok(out)
}

/// Mails each concerned tenant's admins (once per notice) and asks the sites to build when the
/// notice's banner shows now.
pub fn announce(inst: &Installation, notice: &Notice) -> ApiResult<Announced> {
    let mut done = Announced::default();
    let now = t8k_core::timefmt::now();
    for id in tenants_of(inst, notice)? {
        if notice.banner_for(id.as_str(), now) {
            t8k_core::queue::request_build(inst.store(), &id, "maintenance banner")?;
            done.builds += 1;
        }
        if !notices::claim_mail(inst.store(), &notice.id, id.as_str(), true)? {
            done.already += 1;
            continue;
        }
        let to = crate::bandwidth::admin_addresses(inst, &id)?;
        if to.is_empty() {
            done.no_address.push(id.to_string());
            continue;
        }
        let sent = to.iter().try_for_each(|addr| {
            mail::send(inst, &notice_mail(id.as_str(), addr, notice)).map(drop)
        });
        match sent {
            Ok(()) => done.mailed.push((id.to_string(), to.len())),
            Err(e) => {
                tracing::warn!(tenant = %id, notice = %notice.id, error = %e, "notice mail failed");
                notices::claim_mail(inst.store(), &notice.id, id.as_str(), false)?;
                done.failed.push(id.to_string());
            }
        }
    }
    Ok(done)
}

fn notice_mail(tenant: &str, to: &str, n: &Notice) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: format!("{tenant}: scheduled maintenance {}", n.starts),
        body: format!(
            "Maintenance concerning your site {tenant}:\n\n  {}\n\nFrom {} to {} (UTC).{}\n\nYour \
             admin's notices are at /api/notices on your site's address.\n",
            n.message,
            n.starts,
            n.ends,
            if n.banner {
                "\nYour site shows a banner about it while it lasts."
            } else {
                ""
            },
        ),
        tag: format!("{tenant}-notice-{}", n.id),
    }
}

/// A notice as a tenant's admin sees it.
#[derive(Serialize)]
struct Shown<'a> {
    id: &'a str,
    message: &'a str,
    starts: &'a str,
    ends: &'a str,
    phase: Phase,
    banner: bool,
}

/// `GET /api/notices`: the current and upcoming notices that concern the signed-in admin's site.
pub async fn list(State(state): State<Shared>, Admin(s): Admin) -> ApiResult<Json<Value>> {
    blocking(&state, move |st| {
        let all = notices::list(st.inst.store())?;
        let now = t8k_core::timefmt::now();
        let shown: Vec<Shown> = all
            .iter()
            .filter(|n| n.concerns(s.tenant.as_str()))
            .map(|n| Shown {
                id: &n.id,
                message: &n.message,
                starts: &n.starts,
                ends: &n.ends,
                phase: n.phase(now),
                banner: n.banner,
            })
            .filter(|n| n.phase != Phase::Over)
            .collect();
        Ok(Json(json!({"tenant": s.tenant, "notices": shown})))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Put {
    message: String,
    starts: String,
    ends: String,
    #[serde(default)]
    tenants: Vec<String>,
    #[serde(default)]
    all: bool,
    #[serde(default)]
    cohort: Option<String>,
    #[serde(default)]
    banner: bool,
}

/// An RFC 3339 time from a request or the command line.
pub fn parse_time(what: &str, value: &str) -> Result<OffsetDateTime, t8k_core::Error> {
    if value == "now" {
        return Ok(t8k_core::timefmt::now());
    }
    OffsetDateTime::parse(value, &Rfc3339).map_err(|_| {
        t8k_core::Error::invalid(
            what,
            format!("{value:?} is not a time; write RFC 3339, e.g. 2026-12-01T02:00:00Z, or `now`"),
        )
    })
}

/// Who a new notice concerns: `--all`, named tenants, or a rollout's cohort (exactly one).
pub fn audience(
    inst: &Installation,
    all: bool,
    tenants: Vec<String>,
    cohort: Option<&str>,
) -> Result<Audience, t8k_core::Error> {
    let given = usize::from(all) + usize::from(!tenants.is_empty()) + usize::from(cohort.is_some());
    if given != 1 {
        return Err(t8k_core::Error::invalid(
            "audience",
            "say who it concerns with exactly one of: all, tenants, cohort",
        ));
    }
    if all {
        return Ok(Audience::All);
    }
    if let Some(id) = cohort {
        let r = t8k_core::rollout::read(inst.store(), id)?;
        return Ok(Audience::Tenants(r.moved.keys().cloned().collect()));
    }
    for t in &tenants {
        inst.entry(t)?;
    }
    Ok(Audience::Tenants(tenants))
}

/// `PUT /api/admin/notices`: records a notice and announces it.
pub async fn put(
    State(state): State<Shared>,
    _: InstallationAdmin,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let p: Put = crate::body::read(&headers, body).await?;
    blocking(&state, move |st| {
        let audience = audience(&st.inst, p.all, p.tenants, p.cohort.as_deref())?;
        let notice = notices::create(
            st.inst.store(),
            NewNotice {
                message: p.message,
                starts: parse_time("starts", &p.starts)?,
                ends: parse_time("ends", &p.ends)?,
                audience,
                cohort: p.cohort,
                banner: p.banner,
            },
        )?;
        let announced = announce(&st.inst, &notice)?;
        if announced.failed.is_empty() {
            Ok((StatusCode::CREATED, Json(json!({"notice": notice, "announced": announced}))))
        } else {
            Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "mail_failed",
                format!(
                    "notice {} recorded, but mail to the admins of {} failed; `t8k notice announce {}` sends what is missing",
                    notice.id,
                    announced.failed.join(", "),
                    notice.id
                ),
            ))
        }
    })
    .await
}
