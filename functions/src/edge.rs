//! `GET /api/edge/ask?domain=HOST`: Caddy's on-demand TLS `ask` contract — a 2xx authorises a
//! certificate for HOST. Only hosts that route get one: the main site, active tenants'
//! subdomains and their active custom domains (never a pending one, never an unknown name, so
//! nobody can make the edge request certificates for names it does not serve). Answered from
//! the host lookup every request makes (cached registry keys), no DNS.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use t8k_core::hosts::Site;

use crate::error::{ApiError, ApiResult};
use crate::state::{Shared, read};

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
        let site = st
            .cache
            .site(st.inst.store(), &ask.domain, &st.cache.sync())?;
        match site {
            Some(Site::Main | Site::Tenant { active: true, .. }) => Ok(StatusCode::OK),
            _ => Err(ApiError::not_found(format!(
                "{:?} is not a host this installation serves",
                ask.domain
            ))),
        }
    })
    .await
}
