//! What every handler shares: the installation, the rate limits, the session lifetime.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, header};
use t8k_core::TenantId;
use t8k_core::lifecycle::Installation;

use crate::cache::RegistryDoc;
use crate::error::{ApiError, ApiResult};
use crate::limits::Window;
use t8k_core::hosts::Site;

pub struct AppState {
    pub inst: Installation,
    /// Failed logins per client address and per account: 5 a minute.
    pub login_by_ip: Window,
    pub login_by_account: Window,
    /// Sign-ups per client address and per email an hour ([`t8k_core::settings::Env`]).
    pub signup_by_ip: Window,
    pub signup_by_email: Window,
    pub session_ttl: Duration,
    /// How long a sign-up's verification link works ([`t8k_core::settings::Env::verify_ttl`]).
    pub verify_ttl: Duration,
    /// Argon2id takes 19 MiB a hash: at most this many run at once (one per core), so a burst
    /// of logins queues instead of growing memory without bound.
    pub hashing: tokio::sync::Semaphore,
    /// The memory image decodes may hold at once, across all requests and tenants.
    pub decoding: crate::media::DecodeBudget,
    /// Parsed documents, open databases and measured usage for the hot read path.
    pub cache: crate::cache::Cache,
    /// True on a local data root, where the hot read path (page-cache reads, SQLite queries
    /// on open databases) runs inline on the async threads; a bucket root's reads go over the
    /// network, so they run on the blocking pool.
    pub inline_reads: bool,
    /// Analytics beacons: rate limits, the day's salt, the event buffer.
    pub beacons: crate::beacon::Beacons,
    /// The last `/api/quota` answer per tenant.
    pub quota_answers: crate::quota::Answers,
}

pub type Shared = Arc<AppState>;

impl AppState {
    /// The shared state, with limits from the installation's parsed environment
    /// ([`Installation::env`]).
    pub fn new(inst: Installation) -> Result<AppState, t8k_core::Error> {
        // With a build webhook, every build request written through the store starts a build.
        let inst = match inst.env.build_webhook.clone() {
            Some(hook) => Installation::new(crate::trigger::wrap(inst.store, hook), inst.env),
            None => inst,
        };
        let inline_reads = inst
            .store()
            .local_path(&t8k_core::key::layout::registry())
            .is_some();
        let env = &inst.env;
        Ok(AppState {
            decoding: crate::media::DecodeBudget::new(env.decode_budget, env.decode_wait),
            cache: Default::default(),
            quota_answers: Default::default(),
            inline_reads,
            beacons: crate::beacon::Beacons::new(false, env.beacon_per_second),
            login_by_ip: Window::new(5, Duration::from_secs(60)),
            login_by_account: Window::new(5, Duration::from_secs(60)),
            signup_by_ip: Window::new(env.signups_per_ip_hour, Duration::from_secs(3600)),
            signup_by_email: Window::new(env.signups_per_email_hour, Duration::from_secs(3600)),
            session_ttl: Duration::from_secs(7 * 24 * 3600),
            verify_ttl: env.verify_ttl,
            inst,
            hashing: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            ),
        })
    }
}

impl AppState {
    /// With an allocator that keeps freed memory a while (see
    /// [`crate::media::DecodeBudget::giving_memory_back_with`]).
    pub fn giving_memory_back_with(mut self, give_back: fn()) -> AppState {
        self.decoding = self.decoding.giving_memory_back_with(give_back);
        self
    }

    /// For a long-running server (`t8k serve`): beacons are buffered and written in batches by
    /// [`crate::beacon::Beacons::flush`], which the server calls every second and at shutdown.
    pub fn batching_beacons(mut self) -> AppState {
        self.beacons = crate::beacon::Beacons::new(true, self.inst.env.beacon_per_second);
        self
    }
}

/// The tenant a request is for, from its `Host` header, checked against the registry now (so
/// a deactivation applies to the next request).
pub fn tenant_of(state: &AppState, headers: &HeaderMap) -> ApiResult<(TenantId, String)> {
    tenant_in(state, headers, &state.cache.sync())
}

/// [`tenant_of`] for a request that has already taken in recent changes.
pub fn tenant_in(
    state: &AppState,
    headers: &HeaderMap,
    fresh: &crate::cache::Fresh,
) -> ApiResult<(TenantId, String)> {
    let host = host_of(headers);
    let site = state.cache.site(state.inst.store(), host, fresh)?;
    tenant_for(site, host)
}

/// The request's `Host` header ("" when missing or not text: no site has that name).
pub fn host_of(headers: &HeaderMap) -> &str {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
}

/// The (cached, fresh) registry, if the request is for the main domain; `what` names the
/// feature for the 404 otherwise.
pub fn on_main_domain(
    state: &AppState,
    headers: &HeaderMap,
    what: &str,
) -> ApiResult<Arc<RegistryDoc>> {
    let (store, fresh) = (state.inst.store(), state.cache.sync());
    if state.cache.site(store, host_of(headers), &fresh)? != Some(Site::Main) {
        return Err(ApiError::not_found(format!(
            "{what} lives on the main domain"
        )));
    }
    Ok(state.cache.registry(store, &fresh)?)
}

/// Which site `host` is for, with the registry document (its domain names the main site): for
/// the static side of `t8k serve`, which routes by the same keys as the functions. Call it
/// through [`read`] (a bucket's keys are read over the network).
pub fn site_of_host(
    state: &AppState,
    host: &str,
) -> t8k_core::Result<(Option<Site>, Arc<RegistryDoc>)> {
    let (store, fresh) = (state.inst.store(), state.cache.sync());
    let site = state.cache.site(store, host, &fresh)?;
    Ok((site, state.cache.registry(store, &fresh)?))
}

/// The tenant of a resolved host, or why the request has none.
fn tenant_for(site: Option<Site>, host: &str) -> ApiResult<(TenantId, String)> {
    match site {
        Some(Site::Tenant {
            id, active: true, ..
        }) => Ok((id, host.to_owned())),
        Some(Site::Tenant { active: false, .. }) => Err(ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "this site is unavailable",
        )),
        Some(Site::Main) => Err(ApiError::not_found(
            "this endpoint belongs to a tenant's site, not the main domain",
        )),
        None => Err(ApiError::not_found(format!(
            "no site is hosted at {host:?}"
        ))),
    }
}

/// Like [`blocking`], for work that hashes or verifies a password: waits for a hashing slot.
pub async fn blocking_hash<T: Send + 'static>(
    state: &Shared,
    f: impl FnOnce(&AppState) -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    let _slot = state
        .hashing
        .acquire()
        .await
        .map_err(|_| ApiError::internal("the hashing pool is closed"))?;
    blocking(state, f).await
}

/// Runs a short read (session checks, usage) inline on a local data root, on the blocking
/// pool otherwise (see [`AppState::inline_reads`]).
pub async fn read<T: Send + 'static>(
    state: &Shared,
    f: impl FnOnce(&AppState) -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    if state.inline_reads {
        f(state)
    } else {
        blocking(state, f).await
    }
}

/// Runs blocking work (SQLite, Argon2, a bucket store) off the async threads.
pub async fn blocking<T: Send + 'static>(
    state: &Shared,
    f: impl FnOnce(&AppState) -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    let st = state.clone();
    tokio::task::spawn_blocking(move || f(&st))
        .await
        .map_err(|e| ApiError::internal(format!("worker failed: {e}")))?
}
