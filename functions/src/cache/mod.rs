//! What the hot read path (session checks, `/api/quota`) would otherwise redo on every
//! request: parsing the registry and building its host table, parsing tenants' env.json,
//! opening their databases and measuring usage.
//!
//! Freshness never rests on a time-to-live: a change by any process — the CLI, another server,
//! a Lambda — applies to the very next request. On a local data root the folders of cached
//! values are watched ([`crate::watch`]): while no event has arrived for a folder, what was
//! read from it is used as it is, with no system call but the one poll of the event queue.
//! Without a watch, a document is known unchanged when its path still names the very file it
//! was parsed from: the store replaces
//! documents only by rename, and the cache keeps that file open, which pins its inode number
//! (no new file can reuse it while it is open); size, mtime and ctime are compared as well,
//! for hand edits in place. That is one `statx` a document per request. A document found
//! missing while its folder is watched is remembered as missing (a month nothing was served
//! in: tenant creation makes the empty bandwidth folder so it can be watched). Documents not pinned
//! (past [`MAX_PINNED`] open files) and documents in a bucket are re-read and compared byte
//! for byte. Usage is reused only while the database is the same file and SQLite's
//! `data_version` says no connection has committed since, and env.json is the same document;
//! media files are added and removed with their rows, so `data_version` covers them too. (The
//! database's size is therefore as of the last write: a later WAL checkpoint that shrinks the
//! files shows at the next write.)

mod databases;
mod sites;
mod versioned;

use std::sync::{Arc, Mutex};

use t8k_core::bandwidth::Month;
use t8k_core::key::layout;
use t8k_core::registry::Registry;
use t8k_core::store::Store;
use t8k_core::tenant_config::TenantConfig;
use t8k_core::{Error, Result, TenantId};

use crate::watch::{Changed, Scope, Watcher};
use t8k_core::hosts::Site;
use t8k_core::registry::TenantEntry;
use t8k_core::registry::host_keys::HostRecord;

use databases::OpenDb;
pub use databases::OpenDbRef;
pub use versioned::MAX_PINNED;
use versioned::{Versioned, parse, trusted};

/// The registry document (the installation's settings) as last read.
pub struct RegistryDoc {
    pub reg: Registry,
}

/// A tenant's env.json as last read, with the session tokens already verified against it.
pub struct ConfigDoc {
    pub cfg: TenantConfig,
    /// Token → its verified claims. Only tokens whose signature checked out with this
    /// document's secret are here, so a new document (a rotated secret) starts empty. Expiry
    /// and token versions are still checked on every request.
    sessions: Mutex<foldhash::HashMap<String, Arc<crate::token::Claims>>>,
}

/// Verified tokens kept per tenant before the memo is cleared.
const MAX_SESSIONS: usize = 10_000;

impl ConfigDoc {
    fn new(cfg: TenantConfig) -> ConfigDoc {
        ConfigDoc {
            cfg,
            sessions: Mutex::default(),
        }
    }

    /// The claims of a token verified earlier against this document.
    pub fn verified(&self, token: &str) -> Option<Arc<crate::token::Claims>> {
        let memo = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        memo.get(token).cloned()
    }

    pub fn remember(&self, token: &str, claims: &Arc<crate::token::Claims>) {
        let mut memo = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        if memo.len() >= MAX_SESSIONS {
            memo.clear();
        }
        memo.insert(token.to_owned(), claims.clone());
    }
}

/// A tenant's bandwidth figures for the month last asked for; the key is kept because a month
/// nothing was served in is looked up again on every request.
struct MonthSlot {
    month: String,
    key: t8k_core::key::Key,
    doc: Option<Versioned<Month>>,
    /// What the edges' access logs say (`t8k usage ingest`), beside what `t8k serve` counted.
    edge_key: t8k_core::key::Key,
    edge: Option<Versioned<t8k_core::edge_logs::EdgeMonth>>,
}

/// Proof that a request has taken in the changes made before it began ([`Cache::sync`]).
pub struct Fresh(());

#[derive(Default)]
pub struct Cache {
    registry: Mutex<Option<Versioned<RegistryDoc>>>,
    entries: Mutex<foldhash::HashMap<TenantId, Versioned<TenantEntry>>>,
    host_keys: Mutex<foldhash::HashMap<String, Versioned<HostRecord>>>,
    /// Resolved hosts ([`sites`]), valid while nothing they were read from changed.
    sites: Mutex<foldhash::HashMap<String, Option<Site>>>,
    sites_generation: std::sync::atomic::AtomicU64,
    configs: Mutex<foldhash::HashMap<TenantId, Versioned<ConfigDoc>>>,
    dbs: Mutex<foldhash::HashMap<TenantId, Arc<Mutex<OpenDb>>>>,
    bandwidth: Mutex<foldhash::HashMap<TenantId, MonthSlot>>,
    pinned: std::sync::atomic::AtomicUsize,
    watcher: std::sync::OnceLock<Option<Watcher>>,
}

impl Cache {
    fn watcher(&self) -> Option<&Watcher> {
        self.watcher.get_or_init(Watcher::new).as_ref()
    }

    /// Watches the folder holding `path` for `scope`; false when it cannot be watched.
    fn watch(&self, path: &std::path::Path, scope: &Scope) -> bool {
        match (self.watcher(), path.parent()) {
            (Some(w), Some(dir)) => w.watch(dir, scope),
            _ => false,
        }
    }

    /// Takes in the changes made before this request began: what they touch is trusted no
    /// more. Every cached read takes the returned proof, so none can skip this step; one call
    /// a request is enough (later changes are concurrent with the request).
    pub fn sync(&self) -> Fresh {
        let Some(w) = self.watcher() else {
            return Fresh(());
        };
        let scopes = match w.changes() {
            Changed::Nothing => return Fresh(()),
            Changed::Scopes(s) => Some(s),
            Changed::All => None,
        };
        let hit = |s: &Scope| scopes.as_ref().is_none_or(|v| v.contains(s));
        let (registry, entries, hosts) = (
            hit(&Scope::Registry),
            hit(&Scope::Entries),
            hit(&Scope::Hosts),
        );
        if registry || entries || hosts {
            let mut memo = self.sites.lock().unwrap_or_else(|p| p.into_inner());
            self.sites_generation
                .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
            memo.clear();
        }
        if entries {
            untrust_all(&self.entries);
        }
        if hosts {
            untrust_all(&self.host_keys);
        }
        if registry
            && let Some(v) = self
                .registry
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_mut()
        {
            v.trusted = false;
        }
        for (id, v) in self
            .configs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter_mut()
        {
            if hit(&Scope::Config(id.clone())) {
                v.trusted = false;
            }
        }
        for (id, db) in self.dbs.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            if hit(&Scope::Db(id.clone())) {
                db.lock().unwrap_or_else(|p| p.into_inner()).trusted = false;
            }
        }
        for (id, slot) in self
            .bandwidth
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter_mut()
        {
            if hit(&Scope::Stats(id.clone())) {
                if let Some(v) = slot.doc.as_mut() {
                    v.trusted = false;
                }
                if let Some(v) = slot.edge.as_mut() {
                    v.trusted = false;
                }
            }
        }
        Fresh(())
    }

    /// The registry document. A wave-1 registry (every tenant in one document) is migrated
    /// to one entry per tenant first, so a function that starts before any command still
    /// finds the hosts' keys.
    pub fn registry(&self, store: &dyn Store, fresh: &Fresh) -> Result<Arc<RegistryDoc>> {
        let doc = self.registry_as_stored(store, fresh)?;
        if doc.reg.registry_layout >= t8k_core::registry::LAYOUT {
            return Ok(doc);
        }
        t8k_core::registry::migrate::run(store, &doc.reg)?;
        self.registry_as_stored(store, fresh)
    }

    fn registry_as_stored(&self, store: &dyn Store, _: &Fresh) -> Result<Arc<RegistryDoc>> {
        let mut slot = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        let doc = match trusted(slot.as_ref()) {
            Some(doc) => doc,
            None => {
                let key = layout::registry();
                self.load(store, &key, Scope::Registry, &mut slot, |bytes| {
                    Ok(RegistryDoc {
                        reg: parse(&key, bytes)?,
                    })
                })?
            }
        };
        doc.ok_or_else(|| Error::NotInstalled {
            root: store.describe(),
        })
    }

    pub fn config(&self, store: &dyn Store, id: &TenantId, _: &Fresh) -> Result<Arc<ConfigDoc>> {
        let known = trusted(
            self.configs
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(id),
        );
        let doc = match known {
            Some(doc) => doc,
            None => {
                let key = layout::env_json(id);
                let scope = Scope::Config(id.clone());
                self.load_keyed(&self.configs, id.clone(), store, &key, scope, |bytes| {
                    Ok(ConfigDoc::new(parse(&key, bytes)?))
                })?
            }
        };
        doc.ok_or_else(|| Error::NoSuchTenant(id.to_string()))
    }

    /// One of a tenant's `stats/` documents, from `slot` while it is trusted.
    fn stats_doc<T: serde::de::DeserializeOwned>(
        &self,
        store: &dyn Store,
        id: &TenantId,
        key: &t8k_core::key::Key,
        slot: &mut Option<Versioned<T>>,
    ) -> Result<Option<Arc<T>>> {
        if let Some(known) = trusted(slot.as_ref()) {
            return Ok(known);
        }
        let scope = Scope::Stats(id.clone());
        self.load(store, key, scope, slot, |bytes| parse(key, bytes))
    }

    /// Bytes served to the tenant in `month`: as `t8k serve` recorded them plus what the edges'
    /// logs say; `None` when nothing was recorded (not measured here).
    pub fn bandwidth(
        &self,
        store: &dyn Store,
        id: &TenantId,
        month: &str,
        _: &Fresh,
    ) -> Result<Option<Month>> {
        let mut map = self.bandwidth.lock().unwrap_or_else(|p| p.into_inner());
        if map.get(id).is_none_or(|s| s.month != month) {
            // Another month: its own file. What was read for the last one is kept (the open
            // file pins its inode) but trusted no more, so it is only reused for an identical
            // file.
            let key = t8k_core::bandwidth::month_key(id, month)?;
            let edge_key = t8k_core::edge_logs::month_key(id, month)?;
            let (mut doc, mut edge) = match map.remove(id) {
                Some(s) => (s.doc, s.edge),
                None => (None, None),
            };
            if let Some(d) = doc.as_mut() {
                d.trusted = false;
            }
            if let Some(d) = edge.as_mut() {
                d.trusted = false;
            }
            let month = month.to_owned();
            let slot = MonthSlot {
                month,
                key,
                doc,
                edge_key,
                edge,
            };
            map.insert(id.clone(), slot);
        }
        let MonthSlot {
            key,
            doc,
            edge_key,
            edge,
            ..
        } = map.get_mut(id).expect("inserted above");
        let served = self.stats_doc(store, id, key, doc)?;
        let edge = self.stats_doc(store, id, edge_key, edge)?;
        Ok(t8k_core::bandwidth::combine(
            served.map(|m| *m),
            edge.as_deref(),
        ))
    }
}

fn untrust_all<K, T>(map: &Mutex<foldhash::HashMap<K, Versioned<T>>>) {
    for v in map.lock().unwrap_or_else(|p| p.into_inner()).values_mut() {
        v.trusted = false;
    }
}

#[cfg(test)]
impl Cache {
    /// A cache that checks every document with `statx` (as where inotify is unavailable).
    fn unwatched() -> Cache {
        let cache = Cache::default();
        let _ = cache.watcher.set(None);
        cache
    }
}

#[cfg(test)]
mod tests;
