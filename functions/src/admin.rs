//! `/api/admin/tenants` for the installation's operator, on the main domain: list tenants with
//! status and usage, show one, activate, deactivate, set quotas — the same core operations as
//! `t8k tenant ...`. The credential is the installation admin API key (`t8k config admin-key`,
//! sent as `Authorization: Bearer ...`), separate from every tenant's users: no tenant
//! session, not even a tenant admin's, opens these routes.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::guard::InstallationAdmin;
use crate::state::{Shared, blocking};

#[derive(Deserialize)]
pub struct Quota {
    #[serde(default)]
    pub storage: Option<String>,
    #[serde(default)]
    pub pages: Option<u64>,
    #[serde(default)]
    pub users: Option<u64>,
    /// BANDWIDTH_QUOTA per month (`100GB`, `unlimited`, or `default`).
    #[serde(default)]
    pub bandwidth: Option<String>,
    /// BANDWIDTH_POLICY: notify, throttle or suspend.
    #[serde(default)]
    pub bandwidth_policy: Option<String>,
    /// Set a limit below current usage anyway (further writes are refused until usage drops).
    #[serde(default)]
    pub force: bool,
}

fn usage_json(u: &t8k_core::lifecycle::Usage) -> Value {
    json!({
        "pages": {"used": u.pages, "limit": u.limits.max_pages},
        "users": {"used": u.users, "limit": u.limits.max_users},
        "storage": {"used": u.storage_bytes, "limit": u.limits.storage_bytes, "quota": u.limits.storage_quota},
    })
}

/// `?limit=&after=` of the tenant list.
#[derive(Deserialize)]
pub struct Paging {
    limit: Option<usize>,
    after: Option<String>,
}

/// Tenants a page when the caller names no limit, and the most one page may hold: each row
/// measures the tenant's usage (opens its database), so a page is bounded work.
const PAGE: usize = 100;
const MAX_PAGE: usize = 1000;

/// The `?limit=&after=` of a listing, checked.
fn paging(paging: Result<Query<Paging>, QueryRejection>) -> ApiResult<(usize, Option<String>)> {
    let Query(paging) = paging.map_err(|e| {
        ApiError::bad_request(format!(
            "{}; page with ?limit=N (1-{MAX_PAGE}) and ?after=ID (the `next` of the previous page)",
            e.body_text()
        ))
    })?;
    let limit = paging.limit.unwrap_or(PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit={limit} is out of range; ask for 1 to {MAX_PAGE} tenants a page"
        )));
    }
    Ok((limit, paging.after))
}

/// One page of tenants in id order, with usage; `next` is the `after` of the next page.
pub async fn list(
    State(state): State<Shared>,
    _: InstallationAdmin,
    query: Result<Query<Paging>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let (limit, after) = paging(query)?;
    blocking(&state, move |st| {
        let settings = st.inst.settings()?;
        let page = st.inst.list_page(after.as_deref(), limit)?;
        let mut tenants = vec![];
        for t in page.tenants {
            // One damaged tenant must not hide the others from the operator.
            let usage = match st.inst.usage(&t.id) {
                Ok(u) => usage_json(&u),
                Err(e) => json!({"error": e.to_string()}),
            };
            let backup = t
                .tenant_id()
                .map_err(t8k_core::Error::from)
                .and_then(|id| t8k_core::backup::schedule::status(st.inst.store(), &id))
                .map_or_else(|e| json!({"error": e.to_string()}), |b| json!(b));
            tenants.push(json!({"id": t.id, "domain": t.domain, "custom_domains": t.custom_domains, "status": t.status, "active": t.active, "created": t.created, "usage": usage, "backup": backup}));
        }
        Ok(Json(json!({
            "max_tenants": settings.max_tenants.value,
            "count": tenants.len(),
            "next": page.next,
            "pending": st.inst.pending_signups()?.len(),
            "tenants": tenants,
        })))
    })
    .await
}

pub async fn show(
    State(state): State<Shared>,
    _: InstallationAdmin,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    blocking(&state, move |st| {
        let d = st.inst.show(&id)?;
        Ok(Json(json!({
            "id": d.entry.id, "domain": d.entry.domain, "status": d.entry.status,
            "active": d.entry.active, "created": d.entry.created, "site_url": d.site_url,
            "site_name": d.site_name, "theme": d.theme, "admin_email": d.admin_email,
            "content_version": d.content_version, "usage": usage_json(&d.usage),
        })))
    })
    .await
}

async fn set_active(state: Shared, id: String, on: bool) -> ApiResult<Json<Value>> {
    blocking(&state, move |st| {
        let changed = st.inst.set_active(&id, on)?;
        Ok(Json(json!({"id": id, "active": on, "changed": changed})))
    })
    .await
}

pub async fn activate(
    State(state): State<Shared>,
    _: InstallationAdmin,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    set_active(state, id, true).await
}

pub async fn deactivate(
    State(state): State<Shared>,
    _: InstallationAdmin,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    set_active(state, id, false).await
}

pub async fn set_quota(
    State(state): State<Shared>,
    _: InstallationAdmin,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> ApiResult<Json<Value>> {
    let q: Quota = crate::body::read(&headers, body).await?;
    blocking(&state, move |st| {
        let change = t8k_core::lifecycle::QuotaChange {
            storage: q.storage,
            pages: q.pages,
            users: q.users,
            bandwidth: q.bandwidth,
            bandwidth_policy: q.bandwidth_policy,
        };
        let limits = st.inst.set_quota(&id, &change, q.force)?;
        // A raised (or lowered) bandwidth limit takes effect at every edge now.
        let now = t8k_core::timefmt::now();
        let bandwidth = crate::bandwidth::enforce(&st.inst, &id, now)?;
        Ok(Json(
            json!({"id": id, "limits": limits, "bandwidth": bandwidth}),
        ))
    })
    .await
}

/// `GET /api/admin/report`: what `t8k report --json` prints — every tenant's status, health,
/// usage, last build and publish and traffic (one page of rows), with the installation's
/// totals and sign-ups per week.
pub async fn report(
    State(state): State<Shared>,
    _: InstallationAdmin,
    query: Result<Query<Paging>, QueryRejection>,
) -> ApiResult<Json<crate::report::Report>> {
    let (limit, after) = paging(query)?;
    let page = crate::report::Page {
        limit: Some(limit),
        after,
    };
    blocking(&state, move |st| {
        Ok(Json(crate::report::collect(&st.inst, &page)?))
    })
    .await
}

/// `GET /api/admin/signups`: sign-ups waiting for their email link, with when the link expires.
pub async fn signups(State(state): State<Shared>, _: InstallationAdmin) -> ApiResult<Json<Value>> {
    blocking(&state, move |st| {
        let pending: Vec<Value> = st
            .inst
            .pending_signups()?
            .into_iter()
            .map(|(e, p)| {
                json!({
                    "id": e.id, "domain": e.domain, "created": e.created,
                    "email": p.as_ref().map(|p| p.email()),
                    "expires": p.map(|p| t8k_core::timefmt::unix_rfc3339(p.expires)),
                })
            })
            .collect();
        Ok(Json(json!({"signups": pending})))
    })
    .await
}
