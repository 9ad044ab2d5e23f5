//! `POST /api/beacon` (on the tenant's own host): one analytics event from the tracker, as
//! `text/plain` JSON (what `navigator.sendBeacon` sends) → 202.
//!
//! Refused with 400 and nothing stored: a body that is not the event JSON, an unknown verb,
//! oversize fields, and an event whose page URL is not on the site the `Host` names (so no one
//! writes into another tenant's analytics). Bodies over 4 KiB → 413. Bots (by user agent) get
//! 202 and are dropped. Each tenant has a token bucket (1,000 events/s, bursts of 2,000;
//! `T8K_BEACON_PER_SECOND`); past it the beacon gets 429 — the limit fails closed, an event
//! over it is lost rather than stored.
//!
//! Visitors are counted without cookies ([`t8k_core::analytics::visitor_id`]); the client's
//! address and user agent are used for that hash and never stored. Under `t8k serve` accepted
//! events are buffered and written every second (and at a graceful stop: a crash loses at
//! most the last second's events); on Lambda each is written before the 202.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;

use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Deserialize;
use t8k_core::TenantId;
use t8k_core::analytics::{self, Event, VERBS};
use t8k_core::store::Store;

use crate::client::ClientIp;
use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, Shared, blocking, read, tenant_in};
use t8k_core::hosts::Site;

const MAX_BODY: usize = 4 * 1024;
const MAX_URL: usize = 2048;
const MAX_PROPS: usize = 512;
/// Buffered events that trigger a write before the next tick.
const FLUSH_AT: usize = 1000;

/// User-agent fragments of crawlers and scripts, lowercase.
const BOTS: [&str; 12] = [
    "bot",
    "crawl",
    "spider",
    "slurp",
    "facebookexternalhit",
    "preview",
    "curl/",
    "wget/",
    "python-requests",
    "go-http-client",
    "httpclient",
    "lighthouse",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Beacon {
    pub event: String,
    pub url: String,
    #[serde(default)]
    pub referrer: Option<String>,
    #[serde(default)]
    pub pane: Option<String>,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub props: serde_json::Map<String, serde_json::Value>,
}

/// Per-process analytics state: the bucket per tenant, the day's salt, the buffer.
pub struct Beacons {
    limiter: DefaultKeyedRateLimiter<TenantId>,
    salt: Mutex<Option<(String, String)>>,
    /// `Some` under `t8k serve` (batched), `None` on Lambda (written through).
    buffer: Option<Mutex<Buffer>>,
}

/// Events waiting to be written, per tenant, and how many there are in all (kept, not
/// summed per beacon: the buffer may hold many tenants).
#[derive(Default)]
struct Buffer {
    events: HashMap<TenantId, Vec<Event>>,
    count: usize,
}

impl Beacons {
    /// `per_second`: each tenant's rate (`T8K_BEACON_PER_SECOND`); `batched`: buffer events
    /// for [`Beacons::flush`] instead of writing each before its 202.
    pub fn new(batched: bool, per_second: NonZeroU32) -> Beacons {
        let burst = per_second.saturating_mul(NonZeroU32::new(2).expect("nonzero"));
        Beacons {
            limiter: RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst)),
            salt: Mutex::new(None),
            buffer: batched.then(Default::default),
        }
    }

    fn salt_slot(&self) -> std::sync::MutexGuard<'_, Option<(String, String)>> {
        self.salt.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether today's salt is in memory (then [`Beacons::salt`] reads nothing).
    fn has_salt_for(&self, today: &str) -> bool {
        salt_of_day(&self.salt_slot(), today).is_some()
    }

    fn salt(&self, store: &dyn Store) -> t8k_core::Result<String> {
        let now = t8k_core::timefmt::now();
        let today = analytics::day_of(now);
        // Held while a new day's salt is made, so concurrent first beacons make one.
        let mut cached = self.salt_slot();
        if let Some(salt) = salt_of_day(&cached, &today) {
            return Ok(salt.clone());
        }
        let salt = analytics::salt_for(store, now)?;
        *cached = Some((today, salt.clone()));
        Ok(salt)
    }

    /// Writes the buffered events, one object per tenant; what cannot be written is kept.
    pub fn flush(&self, store: &dyn Store) {
        let Some(buffer) = &self.buffer else { return };
        let taken = std::mem::take(&mut *buffer.lock().unwrap_or_else(|p| p.into_inner()));
        for (tenant, events) in taken.events {
            if let Err(e) = analytics::write_batch(store, &tenant, &events) {
                tracing::error!(%tenant, events = events.len(), error = %e, "cannot store beacon events; keeping them for the next flush");
                let mut b = buffer.lock().unwrap_or_else(|p| p.into_inner());
                b.count += events.len();
                b.events.entry(tenant).or_default().extend(events);
            }
        }
    }

    /// Writes the event (unbuffered) or buffers it; `true` when the buffer is due a flush,
    /// which the caller runs off the async threads.
    fn accept(&self, store: &dyn Store, tenant: &TenantId, event: Event) -> ApiResult<bool> {
        match &self.buffer {
            None => {
                analytics::write_batch(store, tenant, &[event])?;
                Ok(false)
            }
            Some(buffer) => {
                let mut b = buffer.lock().unwrap_or_else(|p| p.into_inner());
                b.events.entry(tenant.clone()).or_default().push(event);
                b.count += 1;
                Ok(b.count >= FLUSH_AT)
            }
        }
    }
}

/// The salt in `cached` if it is `today`'s.
fn salt_of_day<'a>(cached: &'a Option<(String, String)>, today: &str) -> Option<&'a String> {
    cached
        .as_ref()
        .filter(|(day, _)| day == today)
        .map(|(_, salt)| salt)
}

fn is_bot(user_agent: &str) -> bool {
    let ua = user_agent.to_ascii_lowercase();
    ua.trim().is_empty() || BOTS.iter().any(|b| ua.contains(b))
}

fn too_long(what: &str, value: &str, max: usize) -> ApiResult<()> {
    if value.len() > max || value.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!(
            "{what} must be at most {max} printable characters"
        )));
    }
    Ok(())
}

/// Host and path (no query, no fragment) of an http(s) URL.
fn host_and_path(what: &str, raw: &str) -> ApiResult<(String, String)> {
    too_long(what, raw, MAX_URL)?;
    let u = url::Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| ApiError::bad_request(format!("{what} must be an http(s) URL")))?;
    let host = u
        .host_str()
        .ok_or_else(|| ApiError::bad_request(format!("{what} has no host")))?;
    Ok((host.to_owned(), u.path().to_owned()))
}

/// A `VITALS` beacon carries one to four of lcp, inp, ttfb (ms) and cls, each a number in its
/// range, and nothing else.
fn check_vitals(props: &serde_json::Map<String, serde_json::Value>) -> ApiResult<()> {
    use t8k_core::analytics::vitals::Metric;
    if props.is_empty() {
        return Err(ApiError::bad_request(
            "a VITALS event carries props: lcp, cls, inp and/or ttfb",
        ));
    }
    for (name, v) in props {
        let Some(m) = Metric::parse(name) else {
            return Err(ApiError::bad_request(format!(
                "VITALS props are lcp, cls, inp and ttfb, not {name:?}"
            )));
        };
        if !v.as_f64().is_some_and(|v| (0.0..=m.max()).contains(&v)) {
            return Err(ApiError::bad_request(format!(
                "VITALS {name} must be a number from 0 to {}",
                m.max()
            )));
        }
    }
    Ok(())
}

/// Checks the beacon and turns it into the event to store.
fn event_of(
    tenant: &TenantId,
    b: Beacon,
    visitor: String,
    site_of: impl Fn(&str) -> ApiResult<Option<Site>>,
) -> ApiResult<Event> {
    if !VERBS.contains(&b.event.as_str()) {
        return Err(ApiError::bad_request(format!(
            "event must be one of {}",
            VERBS.join(", ")
        )));
    }
    let (host, path) = host_and_path("url", &b.url)?;
    let own = matches!(site_of(&host)?, Some(Site::Tenant { id, .. }) if id == *tenant);
    if !own {
        return Err(ApiError::bad_request(format!(
            "url {host:?} is not on this site; beacons report this site's pages only"
        )));
    }
    let referrer = match b.referrer.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => {
            let (h, p) = host_and_path("referrer", r)?;
            Some(format!("{h}{p}"))
        }
        None => None,
    };
    if let Some(p) = &b.pane {
        too_long("pane", p, 100)?;
    }
    if let Some(t) = &b.target {
        too_long("target", t, MAX_URL)?;
    }
    if serde_json::to_vec(&b.props).map_or(0, |v| v.len()) > MAX_PROPS {
        return Err(ApiError::bad_request(format!(
            "props must be at most {MAX_PROPS} bytes of JSON"
        )));
    }
    if b.event == "VITALS" {
        check_vitals(&b.props)?;
    }
    Ok(Event {
        ts: t8k_core::timefmt::now().unix_timestamp_nanos() as i64 / 1_000_000,
        event: b.event,
        path,
        referrer,
        visitor,
        pane: b.pane,
        target: b.target,
        props: b.props,
    })
}

pub async fn beacon(
    State(state): State<Shared>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<StatusCode> {
    let bytes = to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("a beacon is at most {MAX_BODY} bytes"),
        )
    })?;
    // sendBeacon sends text/plain; the body is JSON whatever the Content-Type says.
    let b: Beacon = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("the beacon is not the event JSON: {e}")))?;
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    // Validating and buffering are in-memory work and run inline on a local root; anything
    // that writes — the day's first salt, an unbuffered event (Lambda), a full buffer's
    // flush — runs on the blocking pool, never on the async threads.
    let today = analytics::day_of(t8k_core::timefmt::now());
    let writes = state.beacons.buffer.is_none() || !state.beacons.has_salt_for(&today);
    let run = move |st: &AppState| {
        let fresh = st.cache.sync();
        let store = st.inst.store();
        let (tenant, _) = tenant_in(st, &headers, &fresh)?;
        if is_bot(&ua) {
            return Ok(false); // dropped before any hashing or validation
        }
        let visitor = analytics::visitor_id(&st.beacons.salt(store)?, &tenant, &ip, &ua);
        let site_of = |h: &str| Ok(st.cache.site(store, h, &fresh)?);
        let event = event_of(&tenant, b, visitor, site_of)?;
        if st.beacons.limiter.check_key(&tenant).is_err() {
            return Err(ApiError::too_many(1));
        }
        st.beacons.accept(store, &tenant, event)
    };
    let flush_due = if writes {
        blocking(&state, run).await?
    } else {
        read(&state, run).await?
    };
    if flush_due {
        blocking(&state, |st| {
            st.beacons.flush(st.inst.store());
            Ok(())
        })
        .await?;
    }
    Ok(StatusCode::ACCEPTED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bots_are_recognised() {
        assert!(is_bot("Googlebot/2.1 (+http://www.google.com/bot.html)"));
        assert!(is_bot("curl/8.5.0"));
        assert!(is_bot(""));
        assert!(!is_bot(
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
        ));
    }

    #[test]
    fn urls_give_host_and_path_only() {
        let (h, p) = host_and_path("url", "https://acme.example.com/a/b?q=secret#x").unwrap();
        assert_eq!((h.as_str(), p.as_str()), ("acme.example.com", "/a/b"));
        for bad in ["javascript:alert(1)", "ftp://x/", "/relative", "https://"] {
            assert!(host_and_path("url", bad).is_err(), "{bad}");
        }
    }
}
