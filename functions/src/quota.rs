//! `GET /api/quota`: the tenant's usage against its limits. Bandwidth is this month's bytes
//! as `t8k serve` counted them; where nothing was counted (sites served by a CDN) it is
//! reported as unknown rather than invented. No bandwidth limit exists yet, so its limit is
//! null.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use t8k_core::TenantId;
use t8k_core::bandwidth::Month;
use t8k_core::lifecycle::Usage;

use crate::error::{ApiError, ApiResult};
use crate::guard::SignedIn;
use crate::state::{Shared, read};

#[derive(Serialize)]
struct Quota<'a> {
    tenant: &'a str,
    storage: Storage,
    pages: Figure,
    users: Figure,
    bandwidth: Bandwidth<'a>,
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
struct Bandwidth<'a> {
    used: Option<u64>,
    requests: Option<u64>,
    limit: Option<u64>,
    month: &'a str,
    note: &'static str,
}

pub async fn quota(
    State(state): State<Shared>,
    SignedIn(s, fresh): SignedIn,
) -> ApiResult<Response> {
    read(&state, move |st| {
        let store = st.inst.store();
        let usage = match st.cache.usage(store, &s.tenant, &s.config, &fresh)? {
            Some(u) => u,
            None => Arc::new(st.inst.usage(s.tenant.as_str())?),
        };
        let month = t8k_core::bandwidth::month_of(t8k_core::timefmt::now());
        let served = st.cache.bandwidth(store, &s.tenant, &month, &fresh)?;
        st.quota_answers.answer(&s.tenant, usage, served, month)
    })
    .await
}

/// The last answer per tenant, kept with what it was made from and sent again while that is
/// the very same: serialising it was a tenth of a cached request. Usage is compared by
/// pointer, which is exact because the memo holds it (a live allocation is never reused) and
/// the cache makes a new one whenever the database or env.json changes.
#[derive(Default)]
pub struct Answers(Mutex<foldhash::HashMap<TenantId, Answer>>);

struct Answer {
    usage: Arc<Usage>,
    served: Option<Month>,
    month: String,
    body: Bytes,
}

impl Answers {
    fn answer(
        &self,
        id: &TenantId,
        usage: Arc<Usage>,
        served: Option<Month>,
        month: String,
    ) -> ApiResult<Response> {
        let mut memo = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let body = match memo.get(id) {
            Some(a) if Arc::ptr_eq(&a.usage, &usage) && a.served == served && a.month == month => {
                a.body.clone()
            }
            _ => {
                let json = serde_json::to_vec(&Quota::of(&usage, served, &month))
                    .map_err(|e| ApiError::internal(format!("the quota answer: {e}")))?;
                let body = Bytes::from(json);
                let answer = Answer {
                    usage,
                    served,
                    month,
                    body: body.clone(),
                };
                memo.insert(id.clone(), answer);
                body
            }
        };
        Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
    }
}

impl<'a> Quota<'a> {
    fn of(u: &'a Usage, served: Option<Month>, month: &'a str) -> Quota<'a> {
        Quota {
            tenant: &u.tenant,
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
                    "bytes served this month (UTC) by t8k serve and, from their access logs (t8k usage ingest), the edges; no bandwidth limit is set"
                } else {
                    "not measured: t8k serve has served nothing for this site this month (a CDN's traffic is not counted here)"
                },
                month,
            },
        }
    }
}
