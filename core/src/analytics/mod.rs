//! Analytics events as t8k stores them, and the daily salts that make visitor ids.
//!
//! A visitor id is `HMAC-SHA256(salt of the day, tenant | client address | user agent)`, cut to
//! 16 hex digits: the same browser on the same day gets the same id, the next day another,
//! and neither the address nor the user agent is ever stored. Salts live in
//! `config/t8k/analytics-salts.json`; today's is made on first use, yesterday's is kept (for
//! visits that cross midnight), older ones are deleted whenever the document is touched, so
//! no salt outlives its day by more than a day.
//!
//! Raw events are JSON lines under `events/{tenant}/{YYYY-MM-DD}/{time}-{random}.jsonl`, one
//! object per write (a single event on Lambda, a batch in `t8k serve`), never appended to, so
//! every write is a create-only put with a unique key.

pub mod report;
pub mod rollup;
pub mod vitals;

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::cas::{self, read_json};
use crate::error::{Error, Result};
use crate::key::{Key, layout};
use crate::name::TenantId;
use crate::store::{Condition, Store};
use crate::tenant_config::new_secret;

/// The events the tracker sends (TractStack's verbs, and `VITALS`: a page view's Core Web
/// Vitals, [`vitals`]).
pub const VERBS: [&str; 5] = ["PAGEVIEWED", "GLOSSED", "READ", "CLICKED", "VITALS"];

/// One stored event. No address, no user agent: only the day's visitor id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Unix milliseconds.
    pub ts: i64,
    pub event: String,
    /// The page's path (no query string, no fragment).
    pub path: String,
    /// The referrer's host and path, if the browser sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    pub visitor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pane: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub props: serde_json::Map<String, serde_json::Value>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Salts {
    /// `YYYY-MM-DD` → hex salt.
    salts: BTreeMap<String, String>,
}

/// `YYYY-MM-DD` of a UTC time.
pub fn day_of(t: time::OffsetDateTime) -> String {
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// `YYYY-MM-DDTHH` of a UTC time: the label of its hour in `analytics.db`.
pub fn hour_of(t: time::OffsetDateTime) -> String {
    format!("{}T{:02}", day_of(t), t.hour())
}

fn previous_day(day: time::OffsetDateTime) -> String {
    day_of(day - time::Duration::days(1))
}

/// Drops salts older than yesterday; true when something was dropped.
fn prune(s: &mut Salts, now: time::OffsetDateTime) -> bool {
    let keep = [day_of(now), previous_day(now)];
    let before = s.salts.len();
    s.salts.retain(|d, _| keep.contains(d));
    s.salts.len() != before
}

/// Today's salt, made (once, whoever comes first) when missing; older salts are pruned.
pub fn salt_for(store: &dyn Store, now: time::OffsetDateTime) -> Result<String> {
    let today = day_of(now);
    // The salt of the document last read (and written, if anything changed).
    let mut salt = String::new();
    cas::upsert_json(store, &layout::analytics_salts(), |s: &mut Salts| {
        let pruned = prune(s, now);
        let added = !s.salts.contains_key(&today);
        salt = s
            .salts
            .entry(today.clone())
            .or_insert_with(new_secret)
            .clone();
        Ok((pruned || added).then_some(()))
    })?;
    Ok(salt)
}

fn vanished(key: &Key) -> Error {
    Error::Corrupt {
        file: key.to_string(),
        message: "vanished while being updated; run the command again".into(),
    }
}

/// Deletes salts older than yesterday (rollup calls it, so quiet installations forget too).
pub fn prune_salts(store: &dyn Store, now: time::OffsetDateTime) -> Result<()> {
    let key = layout::analytics_salts();
    if read_json::<Salts>(store, &key)?.is_none() {
        return Ok(());
    }
    cas::update_json(
        store,
        &key,
        || vanished(&key),
        |s: &mut Salts| Ok(prune(s, now).then_some(())),
    )?;
    Ok(())
}

/// The day's visitor id of a client.
pub fn visitor_id(salt: &str, tenant: &TenantId, ip: &str, user_agent: &str) -> String {
    let mut m = Hmac::<Sha256>::new_from_slice(salt.as_bytes()).expect("HMAC takes any key");
    for part in [tenant.as_str(), ip, user_agent] {
        m.update(part.as_bytes());
        m.update(&[0]);
    }
    hex::encode(&m.finalize().into_bytes()[..8])
}

/// Stores a batch of one tenant's events as one new object.
pub fn write_batch(store: &dyn Store, tenant: &TenantId, events: &[Event]) -> Result<Key> {
    let mut body = Vec::with_capacity(events.len() * 160);
    for e in events {
        serde_json::to_writer(&mut body, e).expect("events serialise");
        body.push(b'\n');
    }
    let now = crate::timefmt::now();
    let name = format!(
        "{}/{}-{}.jsonl",
        day_of(now),
        crate::timefmt::compact(now),
        &new_secret()[..16]
    );
    let key = layout::events_dir(tenant).join(&name)?;
    store.put(&key, &body, Condition::IfAbsent)?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn salts_rotate_daily_and_none_outlives_two_days() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::open(
            dir.path().to_str().unwrap(),
            &crate::settings::Env::default(),
            false,
        )
        .unwrap();
        let s = store.as_ref();
        let d1 = datetime!(2026-11-28 10:00 UTC);
        let d2 = datetime!(2026-11-29 00:01 UTC);
        let d3 = datetime!(2026-11-30 09:00 UTC);
        let a = salt_for(s, d1).unwrap();
        assert_eq!(
            salt_for(s, d1 + time::Duration::hours(13)).unwrap(),
            a,
            "one salt a day"
        );
        let b = salt_for(s, d2).unwrap();
        assert_ne!(a, b);
        let doc: Salts = read_json(s, &layout::analytics_salts()).unwrap().unwrap().0;
        assert_eq!(doc.salts.len(), 2, "yesterday's is kept");
        let c = salt_for(s, d3).unwrap();
        let doc: Salts = read_json(s, &layout::analytics_salts()).unwrap().unwrap().0;
        assert_eq!(
            doc.salts.keys().collect::<Vec<_>>(),
            ["2026-11-29", "2026-11-30"]
        );
        assert!(
            !doc.salts.values().any(|v| *v == a),
            "day one's salt is gone after 48 h"
        );
        prune_salts(s, datetime!(2026-12-05 00:00 UTC)).unwrap();
        let doc: Salts = read_json(s, &layout::analytics_salts()).unwrap().unwrap().0;
        assert!(doc.salts.is_empty());

        let t = TenantId::trusted("acme").unwrap();
        let v = |salt: &str| visitor_id(salt, &t, "192.0.2.1", "Firefox");
        assert_eq!(v(&b), v(&b));
        assert_ne!(v(&b), v(&c), "a new id each day");
        assert_ne!(v(&c), visitor_id(&c, &t, "192.0.2.2", "Firefox"));
        assert_eq!(v(&c).len(), 16);
    }
}
