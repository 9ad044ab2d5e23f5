//! Open tenant databases and the usage measured through them.

use std::sync::{Arc, Mutex};

use t8k_core::db::SiteDb;
use t8k_core::key::layout;
use t8k_core::lifecycle::Usage;
use t8k_core::quota::{Limits, Storage};
use t8k_core::store::Store;
use t8k_core::{Result, TenantId};

use super::{Cache, ConfigDoc, Fresh};
use crate::watch::Scope;

/// An open read-only database and the usage last measured through it.
pub(super) struct OpenDb {
    db: SiteDb,
    inode: u64,
    usage: Option<(Stamp, Arc<Usage>)>,
    /// Usage measured while the folder was watched, and no event has arrived since.
    pub(super) trusted: bool,
}

/// Everything whose change invalidates a measured usage. It holds the env.json document it
/// was measured with, so comparing by pointer is safe (a live allocation is never reused).
#[derive(Clone)]
struct Stamp {
    data_version: i64,
    config: Arc<ConfigDoc>,
}

impl PartialEq for Stamp {
    fn eq(&self, other: &Stamp) -> bool {
        self.data_version == other.data_version && Arc::ptr_eq(&self.config, &other.config)
    }
}

impl Cache {
    /// Runs `f` on the tenant's open database, on a local data root; `None` on a bucket root
    /// (whose databases are fetched into a cache by core, per request).
    pub fn with_db<R>(
        &self,
        store: &dyn Store,
        id: &TenantId,
        _: &Fresh,
        f: impl FnOnce(&mut OpenDbRef) -> Result<R>,
    ) -> Result<Option<R>> {
        // Opened while its folder was watched and no event has come since: neither the path
        // nor the watch need looking at (see [`super::versioned::trusted`] for why).
        let known = self
            .dbs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned();
        if let Some(slot) = known {
            let mut open = slot.lock().unwrap_or_else(|p| p.into_inner());
            if open.trusted {
                return f(&mut OpenDbRef {
                    open: &mut open,
                    watched: true,
                })
                .map(Some);
            }
        }
        let Some(path) = store.local_path(&layout::site_db(id)) else {
            return Ok(None);
        };
        let watched = self.watch(&path, &Scope::Db(id.clone()));
        let slot = {
            let mut map = self.dbs.lock().unwrap_or_else(|p| p.into_inner());
            let current = map
                .get(id)
                .filter(|s| {
                    let open = s.lock().unwrap_or_else(|p| p.into_inner());
                    (open.trusted && watched) || open.inode == inode_of(&path)
                })
                .cloned();
            match current {
                Some(s) => s,
                None => {
                    let open = OpenDb {
                        inode: inode_of(&path),
                        db: SiteDb::open_read_only(store, id)?,
                        usage: None,
                        trusted: false,
                    };
                    let s = Arc::new(Mutex::new(open));
                    map.insert(id.clone(), s.clone());
                    s
                }
            }
        };
        let mut open = slot.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut OpenDbRef {
            open: &mut open,
            watched,
        })
        .map(Some)
    }

    /// The tenant's usage against its limits, measured again only when something changed.
    pub fn usage(
        &self,
        store: &dyn Store,
        id: &TenantId,
        cfg: &Arc<ConfigDoc>,
        fresh: &Fresh,
    ) -> Result<Option<Arc<Usage>>> {
        self.with_db(store, id, fresh, |db| db.usage(store, id, cfg))
    }
}

fn inode_of(path: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).map_or(0, |m| m.ino())
}

/// The open database of one tenant, lent to a caller.
pub struct OpenDbRef<'a> {
    open: &'a mut OpenDb,
    watched: bool,
}

impl OpenDbRef<'_> {
    pub fn db(&self) -> &SiteDb {
        &self.open.db
    }

    fn usage(
        &mut self,
        store: &dyn Store,
        id: &TenantId,
        cfg: &Arc<ConfigDoc>,
    ) -> Result<Arc<Usage>> {
        if self.open.trusted
            && self.watched
            && let Some((s, u)) = &self.open.usage
            && Arc::ptr_eq(&s.config, cfg)
        {
            return Ok(u.clone());
        }
        let db = &self.open.db;
        let data_version = db.data_version()?;
        let stamp = Stamp {
            data_version,
            config: cfg.clone(),
        };
        if let Some((s, u)) = &self.open.usage
            && *s == stamp
        {
            self.open.trusted = self.watched;
            return Ok(u.clone());
        }
        let storage = Storage::measure(store, id)?;
        let usage = Arc::new(Usage {
            tenant: id.to_string(),
            pages: db.page_count()?,
            users: t8k_core::users::count(&cfg.cfg, db)?,
            storage_bytes: storage.total(),
            storage,
            variants_bytes: None,
            limits: Limits::of(&cfg.cfg)?,
            bandwidth: None,
        });
        self.open.usage = Some((stamp, usage.clone()));
        self.open.trusted = self.watched;
        Ok(usage)
    }
}
