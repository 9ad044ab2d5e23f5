//! Which site a `Host` is for, from the registry's per-host and per-tenant keys rather than
//! the whole registry: `{id}.{domain}` and `{id}.localhost` name their tenant, so one cached
//! read of its entry answers; any other host (a custom domain, the main domain) is looked up
//! by its host key first. The rules are core's ([`t8k_core::hosts::resolve_with`]), the same
//! that make `routes.json`.
//!
//! A resolved host is memoised while everything it was computed from was read under a watch
//! and no event has come since; [`Cache::sync`] forgets the memo when the registry, an entry
//! or a host key changes. The memo's generation number keeps a resolution that was computed
//! before a change from being stored after it.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use t8k_core::hosts::{Site, host_name, resolve_with};
use t8k_core::key::layout;
use t8k_core::registry::TenantEntry;
use t8k_core::registry::host_keys::{self, HostRecord};
use t8k_core::store::Store;
use t8k_core::{Result, TenantId};

use super::versioned::{parse, trusted};
use super::{Cache, Fresh};
use crate::watch::Scope;

/// Hosts, entries and host keys kept before a map is cleared: a flood of made-up `Host`
/// headers must not grow memory without bound.
const MAX_KEPT: usize = 100_000;

impl Cache {
    /// The site `host` (a `Host` value: any case, a port, a trailing dot) is for, if any.
    pub fn site(&self, store: &dyn Store, host: &str, fresh: &Fresh) -> Result<Option<Site>> {
        let Some(name) = host_name(host) else {
            return Ok(None);
        };
        let lower;
        let name = if name.bytes().any(|b| b.is_ascii_uppercase()) {
            lower = name.to_ascii_lowercase();
            lower.as_str()
        } else {
            name
        };
        let generation = {
            let memo = self.sites.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(site) = memo.get(name) {
                return Ok(site.clone());
            }
            self.sites_generation.load(Ordering::Acquire)
        };
        let (site, watched) = self.resolve(store, name, fresh)?;
        if watched {
            let mut memo = self.sites.lock().unwrap_or_else(|p| p.into_inner());
            if self.sites_generation.load(Ordering::Acquire) == generation {
                if memo.len() >= MAX_KEPT {
                    memo.clear();
                }
                memo.insert(name.to_owned(), site.clone());
            }
        }
        Ok(site)
    }

    /// Resolves from the documents; the flag says whether all were read under a watch.
    fn resolve(
        &self,
        store: &dyn Store,
        name: &str,
        fresh: &Fresh,
    ) -> Result<(Option<Site>, bool)> {
        let doc = self.registry(store, fresh)?;
        let mut watched = self.registry_trusted();
        let domain = doc.reg.domain.to_ascii_lowercase();
        let domain = domain.as_str();
        let id = match named_tenant(name, domain) {
            Some(id) => Some(id),
            None => {
                let (record, w) = self.host_key(store, name)?;
                watched &= w;
                record.and_then(|r| TenantId::trusted(&r.tenant).ok())
            }
        };
        let entry = match &id {
            Some(id) => {
                let (entry, w) = self.entry(store, id)?;
                watched &= w;
                entry
            }
            None => None,
        };
        let site = resolve_with(domain, name, |_| entry.map(|e| TenantEntry::clone(&e)));
        Ok((site, watched))
    }

    /// A tenant's registry entry, and whether it was read under a watch.
    pub fn entry(
        &self,
        store: &dyn Store,
        id: &TenantId,
    ) -> Result<(Option<Arc<TenantEntry>>, bool)> {
        let key = layout::tenant_entry(id);
        self.load_tracked(
            &self.entries,
            id.clone(),
            store,
            &key,
            Scope::Entries,
            |b| parse(&key, b),
        )
    }

    fn host_key(&self, store: &dyn Store, name: &str) -> Result<(Option<Arc<HostRecord>>, bool)> {
        let Ok(key) = host_keys::key_of(name) else {
            return Ok((None, true)); // not a host name: no key can exist
        };
        self.load_tracked(
            &self.host_keys,
            name.to_owned(),
            store,
            &key,
            Scope::Hosts,
            |b| parse(&key, b),
        )
    }

    /// [`Cache::load_keyed`], reusing a trusted value without a look, and saying whether the
    /// value is trusted; the map is bounded by [`MAX_KEPT`].
    fn load_tracked<K: std::hash::Hash + Eq + Clone, T>(
        &self,
        map: &std::sync::Mutex<foldhash::HashMap<K, super::versioned::Versioned<T>>>,
        slot: K,
        store: &dyn Store,
        key: &t8k_core::key::Key,
        scope: Scope,
        build: impl FnOnce(&[u8]) -> Result<T>,
    ) -> Result<(Option<Arc<T>>, bool)> {
        {
            let mut m = map.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(value) = trusted(m.get(&slot)) {
                return Ok((value, true));
            }
            if m.len() >= MAX_KEPT {
                self.forget(&mut m);
            }
        }
        let value = self.load_keyed(map, slot.clone(), store, key, scope, build)?;
        let m = map.lock().unwrap_or_else(|p| p.into_inner());
        Ok((value, m.get(&slot).is_some_and(|v| v.trusted)))
    }

    /// Whether the registry document was read under a watch, with no event since.
    fn registry_trusted(&self) -> bool {
        self.registry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_some_and(|v| v.trusted)
    }
}

/// The tenant `{id}.{domain}` or `{id}.localhost` names (whether it exists is the entry's
/// question).
fn named_tenant(name: &str, domain: &str) -> Option<TenantId> {
    let label = name
        .strip_suffix(".localhost")
        .or_else(|| name.strip_suffix(domain)?.strip_suffix('.'))?;
    TenantId::trusted(label).ok()
}
