//! `/api/domains` (admins of the `Host`'s tenant): the tenant's custom domains — add one
//! (`pending`, with the DNS records to create), check it in DNS (`pending → verified →
//! active`), remove it. The same rules as `t8k domain` (core's `lifecycle::domains`): a domain
//! another tenant holds is 409, a bad host 400, `enable_custom_domains: false` 400.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use t8k_core::dns::Dns;
use t8k_core::lifecycle::Installation;
use t8k_core::registry::TenantEntry;

use crate::error::ApiResult;
use crate::guard::Admin;
use crate::state::{Shared, blocking};

#[derive(Deserialize)]
pub struct NewDomain {
    pub host: String,
}

/// The tenant's hosts: its subdomain, and each custom domain with its state, the DNS records
/// it needs and its certificate's (the API's answer and `t8k domain list --json`).
pub fn view(inst: &Installation, e: &TenantEntry) -> t8k_core::Result<Value> {
    let records = inst.domain_records(e)?;
    let mut domains = vec![];
    for (d, records) in e.domains.iter().zip(records) {
        let cert = t8k_core::certs::state(inst.store(), &d.host)?;
        domains.push(json!({"host": d.host, "status": d.status, "added": d.added,
            "checked": d.checked, "problem": d.problem, "records": records,
            "certificate": {"awaiting": d.awaiting_certificate, "issued": cert.issued,
            "not_after": cert.not_after, "failures": cert.failures,
            "last_error": cert.last_error, "retry_after": cert.retry_after}}));
    }
    Ok(
        json!({"tenant": e.id, "domain": e.domain, "custom_domains": e.custom_domains,
        "domains": domains}),
    )
}

pub async fn list(State(state): State<Shared>, Admin(s): Admin) -> ApiResult<Json<Value>> {
    blocking(&state, move |st| {
        let (entry, _) = st.inst.entry(s.tenant.as_str())?;
        Ok(Json(view(&st.inst, &entry)?))
    })
    .await
}

pub async fn add(
    State(state): State<Shared>,
    Admin(s): Admin,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let new: NewDomain = crate::body::read(&headers, body).await?;
    blocking(&state, move |st| {
        let entry = st.inst.add_domain(s.tenant.as_str(), &new.host, false)?;
        Ok((StatusCode::CREATED, Json(view(&st.inst, &entry)?)).into_response())
    })
    .await
}

/// Looks the domain up in DNS now; a look-up without an answer is 503 (try again later).
pub async fn verify(
    State(state): State<Shared>,
    Admin(s): Admin,
    Path(host): Path<String>,
) -> ApiResult<Json<Value>> {
    blocking(&state, move |st| {
        let dns = Dns::new(&st.inst.env.dns_servers).map_err(t8k_core::Error::from)?;
        let checked = st.inst.verify_domain(s.tenant.as_str(), &host, &dns)?;
        Ok(Json(json!(checked)))
    })
    .await
}

pub async fn remove(
    State(state): State<Shared>,
    Admin(s): Admin,
    Path(host): Path<String>,
) -> ApiResult<Json<Value>> {
    blocking(&state, move |st| {
        let entry = st.inst.remove_domain(s.tenant.as_str(), &host)?;
        Ok(Json(view(&st.inst, &entry)?))
    })
    .await
}
