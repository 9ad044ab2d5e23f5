//! `GET /api/quota`: the tenant's usage against its limits. Bandwidth is this month's bytes
//! as `t8k serve` counted them and the edges' logs say (`t8k usage ingest`); where nothing was
//! counted it is reported as unknown rather than invented. Its limit is BANDWIDTH_QUOTA (the
//! tenant's, else the installation's default; null: unlimited) with BANDWIDTH_POLICY.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use t8k_core::TenantId;
use t8k_core::bandwidth::Month;
use t8k_core::bandwidth::limit::{Limit, Policy};
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
    /// Bytes per month; null: unlimited.
    limit: Option<u64>,
    /// The limit as set (`100GB`).
    quota: &'a str,
    policy: Policy,
    percent: Option<u64>,
    /// True once the month reached the limit (pages throttled or refused under those
    /// policies until the month turns or the limit is raised).
    over_limit: bool,
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
        let default = st
            .cache
            .registry(store, &fresh)?
            .reg
            .default_bandwidth_quota
            .clone();
        let limit = Limit::of_tenant(&s.config.cfg, default.as_deref())?;
        let month = ThisMonth {
            month,
            served,
            limit,
        };
        st.quota_answers.answer(&s.tenant, usage, month)
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
    month: ThisMonth,
    body: Bytes,
}

/// This month's bandwidth and its limit, what an answer is made from besides the usage.
#[derive(Clone, PartialEq)]
struct ThisMonth {
    month: String,
    served: Option<Month>,
    limit: Limit,
}

impl Answers {
    fn answer(&self, id: &TenantId, usage: Arc<Usage>, month: ThisMonth) -> ApiResult<Response> {
        let mut memo = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let body = match memo.get(id) {
            Some(a) if Arc::ptr_eq(&a.usage, &usage) && a.month == month => a.body.clone(),
            _ => {
                let json = serde_json::to_vec(&Quota::of(&usage, &month))
                    .map_err(|e| ApiError::internal(format!("the quota answer: {e}")))?;
                let body = Bytes::from(json);
                let answer = Answer {
                    usage,
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
    fn of(u: &'a Usage, m: &'a ThisMonth) -> Quota<'a> {
        let (served, limit) = (m.served, &m.limit);
        let used = served.map(|s| s.bytes);
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
                used,
                requests: served.map(|s| s.requests),
                limit: limit.bytes,
                quota: &limit.quota,
                policy: limit.policy,
                percent: used.and_then(|b| limit.percent(b)),
                over_limit: used.is_some_and(|b| limit.reached(b) == Some(100)),
                note: if served.is_some() {
                    "bytes served this month (UTC) by t8k serve and, from their access logs (t8k usage ingest), the edges"
                } else {
                    "not measured: nothing served for this site this month was counted by t8k serve or ingested from an edge's logs"
                },
                month: &m.month,
            },
        }
    }
}
