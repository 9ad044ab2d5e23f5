//! `GET /api/quota`: the tenant's usage against its limits. Bandwidth is this month's bytes
//! as `t8k serve` counted them; where nothing was counted (sites served by a CDN) it is
//! reported as unknown rather than invented. No bandwidth limit exists yet, so its limit is
//! null.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::error::ApiResult;
use crate::guard::SignedIn;
use crate::state::{Shared, read};

#[derive(Serialize)]
pub struct Quota {
    tenant: String,
    storage: Storage,
    pages: Figure,
    users: Figure,
    bandwidth: Bandwidth,
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

/// This month's bytes served; `used` is null when nothing was measured, never a guess.
#[derive(Serialize)]
struct Bandwidth {
    used: Option<u64>,
    requests: Option<u64>,
    limit: Option<u64>,
    month: String,
    note: &'static str,
}

pub async fn quota(
    State(state): State<Shared>,
    SignedIn(s, fresh): SignedIn,
) -> ApiResult<Json<Quota>> {
    let (u, month, served) = read(&state, move |st| {
        let store = st.inst.store();
        let usage = match st.cache.usage(store, &s.tenant, &s.config, &fresh)? {
            Some(u) => u,
            None => st.inst.usage(s.tenant.as_str())?,
        };
        let month = t8k_core::bandwidth::month_of(t8k_core::timefmt::now());
        let served = st.cache.bandwidth(store, &s.tenant, &month, &fresh)?;
        Ok((usage, month, served))
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
        bandwidth: Bandwidth {
            used: served.map(|m| m.bytes),
            requests: served.map(|m| m.requests),
            limit: None,
            note: if served.is_some() {
                "bytes served this month (UTC) by t8k serve; no bandwidth limit is set"
            } else {
                "not measured: t8k serve has served nothing for this site this month (a CDN's traffic is not counted here)"
            },
            month,
        },
        tenant: u.tenant,
    }))
}
