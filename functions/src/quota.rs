//! `GET /api/quota`: the tenant's usage against its limits. Bandwidth is not measured by this
//! function yet, and is reported as unknown rather than invented.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Serialize;

use crate::auth::session_in;
use crate::error::ApiResult;
use crate::state::{Shared, read};

#[derive(Serialize)]
pub struct Quota {
    tenant: String,
    storage: Storage,
    pages: Figure,
    users: Figure,
    bandwidth: Unknown,
}

#[derive(Serialize)]
struct Storage {
    used: u64,
    limit: u64,
    db: u64,
    media: u64,
}

#[derive(Serialize)]
struct Figure {
    used: u64,
    limit: u64,
}

/// A figure t8k does not measure yet: `used` and `limit` are null, never a guess.
#[derive(Serialize)]
struct Unknown {
    used: Option<u64>,
    limit: Option<u64>,
    note: &'static str,
}

pub async fn quota(State(state): State<Shared>, headers: HeaderMap) -> ApiResult<Json<Quota>> {
    let u = read(&state, move |st| {
        let fresh = st.cache.sync();
        let s = session_in(st, &headers, &fresh)?;
        let store = st.inst.store();
        match st.cache.usage(store, &s.tenant, &s.config, &fresh)? {
            Some(u) => Ok(u),
            None => Ok(st.inst.usage(s.tenant.as_str())?),
        }
    })
    .await?;
    Ok(Json(Quota {
        storage: Storage {
            used: u.storage_bytes,
            limit: u.limits.storage_bytes,
            db: u.storage.db_bytes,
            media: u.storage.media_bytes,
        },
        pages: Figure {
            used: u.pages,
            limit: u.limits.max_pages,
        },
        users: Figure {
            used: u.users,
            limit: u.limits.max_users,
        },
        bandwidth: Unknown {
            used: None,
            limit: None,
            note: "not measured yet",
        },
        tenant: u.tenant,
    }))
}
