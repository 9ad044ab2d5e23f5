//! `max_tenants` without a global document: the installation has `max_tenants` places,
//! `config/t8k/slots/{n}.json` for `n < max_tenants`, and a tenant holds one. A place is
//! claimed with a create-only write, so of N creators racing for M free places exactly M
//! succeed — the store's own guarantee, as for names — and no write grows with the number of
//! tenants.
//!
//! A claim tries places above a high-water mark first (`config/t8k/slots-next.json`, a hint
//! of the first place never used), then random places, and lists the places only when those
//! are taken: a create costs the same at 100 or 100,000 tenants unless the installation is
//! nearly full and its free places are ones given back by deletes.
//!
//! A place is held while its tenant's entry records it (`slot: n`), or while the creator that
//! claimed it is still alive and its claim current (between claiming the place and recording
//! it). A place left by a crash is taken over by compare-and-swap on the place itself, so two
//! reapers cannot both have it.

use serde::{Deserialize, Serialize};

use super::{TenantEntry, entries};
use crate::cas::{read_json, to_json_bytes};
use crate::error::Result;
use crate::key::{Key, layout};
use crate::name::TenantId;
use crate::store::{Condition, Store, StoreError, Version};

/// What a place says: whose it is, and which claim took it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SlotRecord {
    pub tenant: String,
    pub holder: String,
}

/// Random places tried before the folder is listed: with room to spare one try nearly always
/// lands; a nearly full installation pays a listing.
const PROBES: usize = 4;

/// Claims a free place below `limit` for `entry` (whose claim's holder is recorded), trying
/// `before` first (the place a crashed claim on this name held); `None` when every place is
/// held.
pub fn claim(
    store: &dyn Store,
    entry: &TenantEntry,
    before: Option<u64>,
    limit: u64,
    now: i64,
) -> Result<Option<u64>> {
    let record = to_json_bytes(&record_of(entry));
    let put = |n: u64, cond: Condition| match store.put(&layout::slot(n), &record, cond) {
        Ok(_) => Ok(true),
        Err(StoreError::PreconditionFailed { .. }) => Ok(false),
        Err(e) => Err(e),
    };
    // A place this tenant held before a crash comes first: it is most likely stale.
    if let Some(n) = before.filter(|&n| n < limit)
        && let Some(v) = stale_version(store, n, now)?
        && put(n, Condition::IfMatch(v))?
    {
        return Ok(Some(n));
    }
    if limit == 0 {
        return Ok(None);
    }
    // Above the high-water mark places have never been used: a probe there nearly always
    // lands, however full the installation is below it (racers spread over a few places).
    let mark = high_water(store)?;
    let fresh = (0..PROBES as u64).map(|i| mark + i * 4 + random_below(4));
    let random = (0..PROBES).map(|_| random_below(limit));
    for n in fresh.filter(|&n| n < limit).chain(random) {
        if put(n, Condition::IfAbsent)? {
            raise_high_water(store, mark, n)?;
            return Ok(Some(n));
        }
    }
    let held = held_places(store)?;
    for n in (0..limit).filter(|n| !held.contains(n)) {
        if put(n, Condition::IfAbsent)? {
            return Ok(Some(n));
        }
    }
    for n in held.into_iter().filter(|&n| n < limit) {
        if let Some(v) = stale_version(store, n, now)?
            && put(n, Condition::IfMatch(v))?
        {
            return Ok(Some(n));
        }
    }
    Ok(None)
}

/// The first place never handed out, as last recorded (a hint: claims stay create-only).
fn high_water(store: &dyn Store) -> Result<u64> {
    Ok(read_json::<HighWater>(store, &layout::slots_high_water())?.map_or(0, |(h, _)| h.next))
}

/// Moves the mark past `n`. Racers may write it out of order; a mark a little low only costs
/// a probe that finds its place taken.
fn raise_high_water(store: &dyn Store, mark: u64, n: u64) -> Result<()> {
    if n >= mark {
        let bytes = to_json_bytes(&HighWater { next: n + 1 });
        store.put(&layout::slots_high_water(), &bytes, Condition::None)?;
    }
    Ok(())
}

#[derive(Serialize, Deserialize)]
struct HighWater {
    next: u64,
}

/// Gives a place back (its tenant is deleted, or its creation failed): only if the place is
/// still this tenant's.
pub fn release(store: &dyn Store, n: u64, tenant: &TenantId) -> Result<()> {
    let key = layout::slot(n);
    if let Some((r, _)) = read_json::<SlotRecord>(store, &key)?
        && r.tenant == tenant.as_str()
    {
        store.delete(&key)?;
    }
    Ok(())
}

/// Places in use, as listed (numbers only).
pub fn held_places(store: &dyn Store) -> Result<std::collections::BTreeSet<u64>> {
    Ok(store
        .list_keys(&layout::slots())?
        .iter()
        .filter_map(number_of)
        .collect())
}

fn number_of(key: &Key) -> Option<u64> {
    key.strip_prefix(&layout::slots())?
        .strip_suffix(".json")?
        .parse()
        .ok()
}

/// The record of a place taken for `entry`: its id and its claim's holder.
pub(super) fn record_of(entry: &TenantEntry) -> SlotRecord {
    SlotRecord {
        tenant: entry.id.clone(),
        holder: entry
            .claim
            .as_ref()
            .map(|c| c.holder.clone())
            .unwrap_or_default(),
    }
}

/// The version of place `n` if nobody holds it any more: its tenant's entry is gone, records
/// another place, or is a dead claim that never recorded it.
fn stale_version(store: &dyn Store, n: u64, now: i64) -> Result<Option<Version>> {
    let Some((rec, version)) = read_json::<SlotRecord>(store, &layout::slot(n))? else {
        return Ok(None);
    };
    let Ok(id) = TenantId::trusted(&rec.tenant) else {
        return Ok(Some(version));
    };
    let held = match entries::read(store, &id)? {
        None => false,
        Some((e, _)) if e.slot == Some(n) => e.holds_name(now),
        Some((e, _)) => {
            e.holds_name(now) && e.claim.as_ref().is_some_and(|c| c.holder == rec.holder)
        }
    };
    Ok((!held).then_some(version))
}

fn random_below(limit: u64) -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("the OS random source is available");
    u64::from_le_bytes(b) % limit
}
