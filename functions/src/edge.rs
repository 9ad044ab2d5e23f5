//! What an edge asks of the functions.
//!
//! `GET /api/edge/ask?domain=HOST`: Caddy's on-demand TLS `ask` contract — a 2xx authorises a
//! certificate for HOST. Only hosts that route get one: the main site, active tenants'
//! subdomains and their active custom domains (never a pending one, never an unknown name, so
//! nobody can make the edge request certificates for names it does not serve). Answered from
//! the host lookup every request makes (cached registry keys), no DNS.
//!
//! `GET /.well-known/acme-challenge/{token}`: the HTTP-01 answer `t8k certs renew` published
//! in the data root, for any host — the CA checks a domain before it routes here.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use t8k_core::hosts::Site;

use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, Shared, read};

#[derive(Deserialize)]
pub struct Ask {
    pub domain: String,
}

pub async fn ask(
    State(state): State<Shared>,
    ask: Result<Query<Ask>, QueryRejection>,
) -> ApiResult<StatusCode> {
    let Query(ask) = ask
        .map_err(|e| ApiError::bad_request(format!("{}; ask with ?domain=HOST", e.body_text())))?;
    read(&state, move |st| {
        if serves(st, &ask.domain)? {
            Ok(StatusCode::OK)
        } else {
            Err(ApiError::not_found(format!(
                "{:?} is not a host this installation serves",
                ask.domain
            )))
        }
    })
    .await
}

/// Whether `host` routes to a site here: the main site, an active tenant's subdomain or one
/// of its active custom domains. Certificates are asked for and handed out only for these.
pub fn serves(st: &AppState, host: &str) -> t8k_core::Result<bool> {
    let site = st.cache.site(st.inst.store(), host, &st.cache.sync())?;
    Ok(matches!(
        site,
        Some(Site::Main | Site::Tenant { active: true, .. })
    ))
}

pub async fn challenge(State(state): State<Shared>, Path(token): Path<String>) -> Response {
    let answer = read(&state, move |st| {
        Ok(t8k_core::certs::challenge(st.inst.store(), &token)?)
    })
    .await;
    match answer {
        Ok(Some(bytes)) => ([(header::CONTENT_TYPE, "text/plain")], bytes).into_response(),
        Ok(None) => ApiError::not_found("no such ACME challenge").into_response(),
        Err(e) => e.into_response(),
    }
}
