//! What the hot read path (session checks, `/api/quota`) would otherwise redo on every
//! request: parsing the registry and building its host table, parsing tenants' env.json,
//! opening their databases and measuring usage.
//!
//! Freshness never depends on timestamps or a time-to-live. Documents are re-read on every
//! request (on a local data root that is a page-cache read of a few KiB) and the parsed copy
//! is reused only while the bytes are identical, so a change by any process — the CLI,
//! another server, a Lambda — applies to the very next request. Usage is reused only while
//! the database is the same file (inode), SQLite's `data_version` says no connection has
//! committed since, the database files have the same sizes, and env.json is the same
//! document; media files are added and removed together with their rows, so they are
//! covered by `data_version` too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use t8k_core::db::SiteDb;
use t8k_core::key::{Key, layout};
use t8k_core::lifecycle::Usage;
use t8k_core::quota::{Limits, Storage};
use t8k_core::registry::Registry;
use t8k_core::store::Store;
use t8k_core::tenant_config::TenantConfig;
use t8k_core::{Error, Result, TenantId};

use crate::host::HostMap;

/// The registry as last read, with its host table.
pub struct RegistryDoc {
    bytes: Vec<u8>,
    pub reg: Registry,
    pub hosts: HostMap,
}

/// A tenant's env.json as last read.
pub struct ConfigDoc {
    bytes: Vec<u8>,
    pub cfg: TenantConfig,
}

/// An open read-only database and the usage last measured through it.
struct OpenDb {
    db: SiteDb,
    inode: u64,
    usage: Option<(Stamp, Usage)>,
}

/// Everything whose change invalidates a measured usage. It holds the env.json document it
/// was measured with, so comparing by pointer is safe (a live allocation is never reused).
#[derive(Clone)]
struct Stamp {
    data_version: i64,
    db_len: u64,
    wal_len: u64,
    config: Arc<ConfigDoc>,
}

impl PartialEq for Stamp {
    fn eq(&self, other: &Stamp) -> bool {
        (self.data_version, self.db_len, self.wal_len)
            == (other.data_version, other.db_len, other.wal_len)
            && Arc::ptr_eq(&self.config, &other.config)
    }
}

#[derive(Default)]
pub struct Cache {
    registry: Mutex<Option<Arc<RegistryDoc>>>,
    configs: Mutex<HashMap<TenantId, Arc<ConfigDoc>>>,
    dbs: Mutex<HashMap<TenantId, Arc<Mutex<OpenDb>>>>,
}

/// The stored bytes of a small document: straight from the file on a local data root (no
/// version hash needed), through the store otherwise.
fn read(store: &dyn Store, key: &Key) -> Result<Option<Vec<u8>>> {
    match store.local_path(key) {
        Some(path) => match std::fs::read(&path) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Error::Io {
                path: path.display().to_string(),
                source,
            }),
        },
        None => Ok(store.get(key)?.map(|o| o.bytes)),
    }
}

fn parse<T: serde::de::DeserializeOwned>(key: &Key, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::Corrupt {
        file: key.to_string(),
        message: e.to_string(),
    })
}

fn file_len(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

impl Cache {
    pub fn registry(&self, store: &dyn Store) -> Result<Arc<RegistryDoc>> {
        let key = layout::registry();
        let bytes = read(store, &key)?.ok_or_else(|| Error::NotInstalled {
            root: store.describe(),
        })?;
        let mut slot = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(doc) = slot.as_ref().filter(|d| d.bytes == bytes) {
            return Ok(doc.clone());
        }
        let reg: Registry = parse(&key, &bytes)?;
        let doc = Arc::new(RegistryDoc {
            hosts: HostMap::new(&reg),
            reg,
            bytes,
        });
        *slot = Some(doc.clone());
        Ok(doc)
    }

    pub fn config(&self, store: &dyn Store, id: &TenantId) -> Result<Arc<ConfigDoc>> {
        let key = layout::env_json(id);
        let bytes = read(store, &key)?.ok_or_else(|| Error::NoSuchTenant(id.to_string()))?;
        let mut map = self.configs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(doc) = map.get(id).filter(|d| d.bytes == bytes) {
            return Ok(doc.clone());
        }
        let doc = Arc::new(ConfigDoc {
            cfg: parse(&key, &bytes)?,
            bytes,
        });
        map.insert(id.clone(), doc.clone());
        Ok(doc)
    }

    /// Runs `f` on the tenant's open database, on a local data root; `None` on a bucket root
    /// (whose databases are fetched into a cache by core, per request).
    pub fn with_db<R>(
        &self,
        store: &dyn Store,
        id: &TenantId,
        f: impl FnOnce(&mut OpenDbRef) -> Result<R>,
    ) -> Result<Option<R>> {
        let Some(path) = store.local_path(&layout::site_db(id)) else {
            return Ok(None);
        };
        let inode = inode_of(&path);
        let slot = {
            let mut map = self.dbs.lock().unwrap_or_else(|p| p.into_inner());
            match map.get(id) {
                Some(s) if s.lock().unwrap_or_else(|p| p.into_inner()).inode == inode => s.clone(),
                _ => {
                    let open = OpenDb {
                        db: SiteDb::open_read_only(store, id)?,
                        inode,
                        usage: None,
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
            path: &path,
        })
        .map(Some)
    }

    /// The tenant's usage against its limits, measured again only when something changed.
    pub fn usage(
        &self,
        store: &dyn Store,
        id: &TenantId,
        cfg: &Arc<ConfigDoc>,
    ) -> Result<Option<Usage>> {
        self.with_db(store, id, |db| db.usage(store, id, cfg))
    }
}

fn inode_of(path: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).map_or(0, |m| m.ino())
}

/// The open database of one tenant, lent to a caller.
pub struct OpenDbRef<'a> {
    open: &'a mut OpenDb,
    path: &'a std::path::Path,
}

impl OpenDbRef<'_> {
    pub fn db(&self) -> &SiteDb {
        &self.open.db
    }

    fn usage(&mut self, store: &dyn Store, id: &TenantId, cfg: &Arc<ConfigDoc>) -> Result<Usage> {
        let db = &self.open.db;
        let data_version: i64 = db
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))
            .map_err(db.err())?;
        let wal = self.path.with_extension("db-wal");
        let stamp = Stamp {
            data_version,
            db_len: file_len(self.path),
            wal_len: file_len(&wal),
            config: cfg.clone(),
        };
        if let Some((s, u)) = &self.open.usage
            && *s == stamp
        {
            return Ok(u.clone());
        }
        let storage = Storage::measure(store, id)?;
        let usage = Usage {
            tenant: id.to_string(),
            pages: db.page_count()?,
            users: t8k_core::users::count(&cfg.cfg, db)?,
            storage_bytes: storage.total(),
            storage,
            limits: Limits::of(&cfg.cfg)?,
        };
        self.open.usage = Some((stamp, usage.clone()));
        Ok(usage)
    }
}
