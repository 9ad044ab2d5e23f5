//! `GET /api/quota`: the tenant's usage against its limits. Bandwidth is not measured by this
//! function yet, and is reported as unknown rather than invented.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::auth::session_in;
use crate::error::ApiResult;
use crate::state::{Shared, read};

pub async fn quota(State(state): State<Shared>, headers: HeaderMap) -> ApiResult<Json<Value>> {
    let usage = read(&state, move |st| {
        let fresh = st.cache.sync();
        let s = session_in(st, &headers, &fresh)?;
        let store = st.inst.store();
        match st.cache.usage(store, &s.tenant, &s.config, &fresh)? {
            Some(u) => Ok(u),
            None => Ok(st.inst.usage(s.tenant.as_str())?),
        }
    })
    .await?;
    let l = &usage.limits;
    Ok(Json(json!({
        "tenant": usage.tenant,
        "storage": {"used": usage.storage_bytes, "limit": l.storage_bytes, "db": usage.storage.db_bytes, "media": usage.storage.media_bytes},
        "pages": {"used": usage.pages, "limit": l.max_pages},
        "users": {"used": usage.users, "limit": l.max_users},
        "bandwidth": {"used": null, "limit": null, "note": "not measured yet"},
    })))
}
