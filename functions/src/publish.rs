//! Publishing from the admin: `POST /api/publish` asks for a build of the tenant's site (the
//! same request every content change makes), `GET /api/status` says whether one is waiting
//! and which deploy is live since when. Builds run where the installation runs them: `t8k
//! serve --watch` locally, the CI job that drains the queue (`t8k build --queued && t8k
//! publish --changed`) in production.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use t8k_core::routes::{SiteId, read_live};

use crate::error::ApiResult;
use crate::guard::Editor;
use crate::state::{Shared, blocking};

pub async fn publish(State(state): State<Shared>, Editor(s): Editor) -> ApiResult<Response> {
    blocking(&state, move |st| {
        t8k_core::queue::request_build(st.inst.store(), &s.tenant, "publish from the admin")?;
        let requested = t8k_core::queue::requested(st.inst.store(), &s.tenant)?;
        Ok((StatusCode::ACCEPTED, Json(json!({ "queued": requested }))).into_response())
    })
    .await
}

/// `{"queued": time | null, "live": {"deploy", "flipped"} | null}` (the live deploy as this
/// data root holds it; null where bundles are published elsewhere).
pub async fn status(State(state): State<Shared>, Editor(s): Editor) -> ApiResult<Response> {
    blocking(&state, move |st| {
        let queued = t8k_core::queue::requested(st.inst.store(), &s.tenant)?;
        let live = read_live(st.inst.store(), &SiteId::Tenant(s.tenant.clone()))?;
        let live = live.map(|l| json!({"deploy": l.deploy, "flipped": l.flipped}));
        // The custom domains that serve the site now, to list beside its own address (the
        // cached entry: the dashboard polls this while a build is waiting).
        let (entry, _) = st.cache.entry(st.inst.store(), &s.tenant)?;
        let domains = entry.map(|e| e.custom_domains.clone()).unwrap_or_default();
        Ok(
            Json(json!({ "queued": queued, "live": live, "custom_domains": domains }))
                .into_response(),
        )
    })
    .await
}
