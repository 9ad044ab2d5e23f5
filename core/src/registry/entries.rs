//! One registry entry per tenant, `config/t8k/tenants/{id}`: created create-only (so
//! the store itself guarantees that a name has one holder), changed by compare-and-swap on
//! that one small object, listed a page at a time.

use crate::cas::{read_json, to_json_bytes};
use crate::error::{Error, Result};
use crate::key::{Key, layout};
use crate::name::TenantId;
use crate::store::{Condition, Store, StoreError, Version};

use super::TenantEntry;

/// Reads a tenant's entry and its version.
pub fn read(store: &dyn Store, id: &TenantId) -> Result<Option<(TenantEntry, Version)>> {
    read_json(store, &layout::tenant_entry(id))
}

/// Writes a new entry; `Ok(None)` when one already exists (nothing written).
pub fn create(store: &dyn Store, entry: &TenantEntry) -> Result<Option<Version>> {
    let id = entry.tenant_id()?;
    put(store, &id, entry, Condition::IfAbsent)
}

/// Replaces the entry at `version`; `Ok(None)` when it changed meanwhile (nothing written).
pub fn replace(
    store: &dyn Store,
    entry: &TenantEntry,
    version: Version,
) -> Result<Option<Version>> {
    let id = entry.tenant_id()?;
    put(store, &id, entry, Condition::IfMatch(version))
}

fn put(
    store: &dyn Store,
    id: &TenantId,
    entry: &TenantEntry,
    cond: Condition,
) -> Result<Option<Version>> {
    match store.put(&layout::tenant_entry(id), &to_json_bytes(entry), cond) {
        Ok(v) => Ok(Some(v)),
        Err(StoreError::PreconditionFailed { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Changes one tenant's entry by compare-and-swap (see [`crate::cas::update_json`]); a
/// missing entry is [`Error::NoSuchTenant`].
pub fn update<R>(
    store: &dyn Store,
    id: &TenantId,
    change: impl FnMut(&mut TenantEntry) -> Result<Option<R>>,
) -> Result<Option<R>> {
    crate::cas::update_json(
        store,
        &layout::tenant_entry(id),
        || Error::NoSuchTenant(id.to_string()),
        change,
    )
}

pub fn remove(store: &dyn Store, id: &TenantId) -> Result<()> {
    Ok(store.delete(&layout::tenant_entry(id))?)
}

/// The tenant id an entry key names, if it is one.
fn id_of(key: &Key) -> Option<TenantId> {
    TenantId::trusted(key.strip_prefix(&layout::tenant_entries())?).ok()
}

/// One page of entries in id order, after the id `after` (exclusive): at most `limit` keys
/// are listed, and each is read. Entries that vanish between the listing and the read (a
/// delete finishing) are left out. The second value is where the next page starts: the last
/// id listed, when the listing may go on.
pub fn page(
    store: &dyn Store,
    after: Option<&TenantId>,
    limit: usize,
) -> Result<(Vec<TenantEntry>, Option<TenantId>)> {
    let start = after.map(layout::tenant_entry);
    let keys = store.list_page(&layout::tenant_entries(), start.as_ref(), limit)?;
    let next = (keys.len() == limit)
        .then(|| keys.last().and_then(|k| id_of(&k.key)))
        .flatten();
    let mut out = Vec::with_capacity(keys.len());
    for k in keys {
        if let Some(id) = id_of(&k.key)
            && let Some((e, _)) = read(store, &id)?
        {
            out.push(e);
        }
    }
    Ok((out, next))
}

/// Every entry, in id order: one listing of the keys, then each entry read as it is visited
/// (the entries themselves are never all held at once).
pub fn each(store: &dyn Store, mut visit: impl FnMut(TenantEntry) -> Result<()>) -> Result<()> {
    for id in ids(store)? {
        if let Some((e, _)) = read(store, &id)? {
            visit(e)?;
        }
    }
    Ok(())
}

/// Just the ids of every entry (a listing, no reads): what a no-op build or a count needs.
pub fn ids(store: &dyn Store) -> Result<Vec<TenantId>> {
    Ok(store
        .list_keys(&layout::tenant_entries())?
        .iter()
        .filter_map(id_of)
        .collect())
}
