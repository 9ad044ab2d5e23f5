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
//! for hand edits in place. That is one `statx` a document per request. Documents not pinned
//! (past [`MAX_PINNED`] open files) and documents in a bucket are re-read and compared byte
//! for byte. Usage is reused only while the database is the same file and SQLite's
//! `data_version` says no connection has committed since, and env.json is the same document;
//! media files are added and removed with their rows, so `data_version` covers them too. (The
//! database's size is therefore as of the last write: a later WAL checkpoint that shrinks the
//! files shows at the next write.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use t8k_core::bandwidth::Month;
use t8k_core::db::SiteDb;
use t8k_core::key::{Key, layout};
use t8k_core::lifecycle::Usage;
use t8k_core::quota::{Limits, Storage};
use t8k_core::registry::Registry;
use t8k_core::store::Store;
use t8k_core::tenant_config::TenantConfig;
use t8k_core::{Error, Result, TenantId};

use crate::host::HostMap;
use crate::watch::{Changed, Scope, Watcher};

/// Open files kept to pin documents' inodes; beyond this, documents are compared by bytes
/// (well under the usual 1024-descriptor limit, leaving room for connections).
pub const MAX_PINNED: usize = 256;

/// The registry as last read, with its host table.
pub struct RegistryDoc {
    pub reg: Registry,
    pub hosts: HostMap,
}

/// A tenant's env.json as last read, with the session tokens already verified against it.
pub struct ConfigDoc {
    pub cfg: TenantConfig,
    /// Token → its verified claims. Only tokens whose signature checked out with this
    /// document's secret are here, so a new document (a rotated secret) starts empty. Expiry
    /// and token versions are still checked on every request.
    sessions: Mutex<HashMap<String, crate::token::Claims>>,
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
    pub fn verified(&self, token: &str) -> Option<crate::token::Claims> {
        let memo = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        memo.get(token).cloned()
    }

    pub fn remember(&self, token: &str, claims: &crate::token::Claims) {
        let mut memo = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        if memo.len() >= MAX_SESSIONS {
            memo.clear();
        }
        memo.insert(token.to_owned(), claims.clone());
    }
}

/// Which stored version a parsed document came from.
enum Source {
    /// A local file, held open so that its inode number cannot be reused.
    Pinned { id: FileId, _file: std::fs::File },
    /// The bytes themselves (a bucket, or past [`MAX_PINNED`]).
    Bytes(Vec<u8>),
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileId {
    fn of(m: &std::fs::Metadata) -> FileId {
        use std::os::unix::fs::MetadataExt;
        FileId {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }
}

struct Versioned<T> {
    source: Source,
    value: Arc<T>,
    /// Read while its folder was watched, and no event has arrived since.
    trusted: bool,
}

/// An open read-only database and the usage last measured through it.
struct OpenDb {
    db: SiteDb,
    inode: u64,
    usage: Option<(Stamp, Usage)>,
    /// Usage measured while the folder was watched, and no event has arrived since.
    trusted: bool,
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

/// Proof that a request has taken in the changes made before it began ([`Cache::sync`]).
pub struct Fresh(());

#[derive(Default)]
pub struct Cache {
    registry: Mutex<Option<Versioned<RegistryDoc>>>,
    configs: Mutex<HashMap<TenantId, Versioned<ConfigDoc>>>,
    dbs: Mutex<HashMap<TenantId, Arc<Mutex<OpenDb>>>>,
    bandwidth: Mutex<HashMap<(TenantId, String), Versioned<Month>>>,
    pinned: std::sync::atomic::AtomicUsize,
    watcher: std::sync::OnceLock<Option<Watcher>>,
}

fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.display().to_string(),
        source,
    }
}

fn parse<T: serde::de::DeserializeOwned>(key: &Key, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::Corrupt {
        file: key.to_string(),
        message: e.to_string(),
    })
}

impl Cache {
    /// The document at `key`, parsed by `build`, reusing `slot` while it is the same version;
    /// `None` when there is no such document.
    fn load<T>(
        &self,
        store: &dyn Store,
        key: &Key,
        scope: Scope,
        slot: &mut Option<Versioned<T>>,
        build: impl FnOnce(&[u8]) -> Result<T>,
    ) -> Result<Option<Arc<T>>> {
        let Some(path) = store.local_path(key) else {
            let Some(bytes) = store.get(key)?.map(|o| o.bytes) else {
                return Ok(None);
            };
            if let Some(v) = slot.as_ref()
                && matches!(&v.source, Source::Bytes(b) if *b == bytes)
            {
                return Ok(Some(v.value.clone()));
            }
            let value = Arc::new(build(&bytes)?);
            *slot = Some(Versioned {
                source: Source::Bytes(bytes),
                value: value.clone(),
                trusted: false,
            });
            return Ok(Some(value));
        };
        let watched = self.watch(&path, &scope);
        if let Some(v) = slot.as_ref().filter(|v| v.trusted && watched) {
            return Ok(Some(v.value.clone()));
        }
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&path)(e)),
        };
        let id = FileId::of(&meta);
        if let Some(v) = slot.as_mut()
            && matches!(&v.source, Source::Pinned { id: cur, .. } if *cur == id)
        {
            v.trusted = watched;
            return Ok(Some(v.value.clone()));
        }
        let mut file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(&path)(e)),
        };
        let opened = FileId::of(&file.metadata().map_err(io_err(&path))?);
        let mut bytes = Vec::with_capacity(opened.len as usize);
        std::io::Read::read_to_end(&mut file, &mut bytes).map_err(io_err(&path))?;
        if let Some(v) = slot.as_mut()
            && matches!(&v.source, Source::Bytes(b) if *b == bytes)
        {
            v.trusted = watched;
            return Ok(Some(v.value.clone()));
        }
        let value = Arc::new(build(&bytes)?);
        use std::sync::atomic::Ordering::Relaxed;
        let was_pinned = matches!(
            slot,
            Some(Versioned {
                source: Source::Pinned { .. },
                ..
            })
        );
        let source = if was_pinned || self.pinned.fetch_add(1, Relaxed) < MAX_PINNED {
            Source::Pinned {
                id: opened,
                _file: file,
            }
        } else {
            self.pinned.fetch_sub(1, Relaxed);
            Source::Bytes(bytes)
        };
        *slot = Some(Versioned {
            source,
            value: value.clone(),
            trusted: watched,
        });
        Ok(Some(value))
    }

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
        if hit(&Scope::Registry)
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
        for ((id, _), v) in self
            .bandwidth
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter_mut()
        {
            if hit(&Scope::Stats(id.clone())) {
                v.trusted = false;
            }
        }
        Fresh(())
    }

    pub fn registry(&self, store: &dyn Store, _: &Fresh) -> Result<Arc<RegistryDoc>> {
        let key = layout::registry();
        let mut slot = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        self.load(store, &key, Scope::Registry, &mut slot, |bytes| {
            let reg: Registry = parse(&key, bytes)?;
            Ok(RegistryDoc {
                hosts: HostMap::new(&reg),
                reg,
            })
        })?
        .ok_or_else(|| Error::NotInstalled {
            root: store.describe(),
        })
    }

    pub fn config(&self, store: &dyn Store, id: &TenantId, _: &Fresh) -> Result<Arc<ConfigDoc>> {
        let key = layout::env_json(id);
        let mut map = self.configs.lock().unwrap_or_else(|p| p.into_inner());
        let mut slot = map.remove(id);
        let loaded = self.load(store, &key, Scope::Config(id.clone()), &mut slot, |bytes| {
            Ok(ConfigDoc::new(parse(&key, bytes)?))
        });
        if let Some(v) = slot {
            map.insert(id.clone(), v);
        }
        loaded?.ok_or_else(|| Error::NoSuchTenant(id.to_string()))
    }

    /// Bytes served to the tenant in `month` as `t8k serve` recorded them; `None` when nothing
    /// was recorded (not measured here).
    pub fn bandwidth(
        &self,
        store: &dyn Store,
        id: &TenantId,
        month: &str,
        _: &Fresh,
    ) -> Result<Option<Month>> {
        let key = layout::bandwidth_dir(id).join(&format!("{month}.json"))?;
        let mut map = self.bandwidth.lock().unwrap_or_else(|p| p.into_inner());
        let slot_key = (id.clone(), month.to_owned());
        let mut slot = map.remove(&slot_key);
        let loaded = self.load(store, &key, Scope::Stats(id.clone()), &mut slot, |bytes| {
            parse(&key, bytes)
        });
        if let Some(v) = slot {
            map.insert(slot_key, v);
        }
        Ok(loaded?.map(|m| *m))
    }

    /// Runs `f` on the tenant's open database, on a local data root; `None` on a bucket root
    /// (whose databases are fetched into a cache by core, per request).
    pub fn with_db<R>(
        &self,
        store: &dyn Store,
        id: &TenantId,
        _: &Fresh,
        f: impl FnOnce(&mut OpenDbRef) -> Result<R>,
    ) -> Result<Option<R>> {
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
    ) -> Result<Option<Usage>> {
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

    fn usage(&mut self, store: &dyn Store, id: &TenantId, cfg: &Arc<ConfigDoc>) -> Result<Usage> {
        if self.open.trusted
            && self.watched
            && let Some((s, u)) = &self.open.usage
            && Arc::ptr_eq(&s.config, cfg)
        {
            return Ok(u.clone());
        }
        let db = &self.open.db;
        let data_version: i64 = db
            .conn
            .prepare_cached("PRAGMA data_version")
            .and_then(|mut st| st.query_row([], |r| r.get(0)))
            .map_err(db.err())?;
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
        let usage = Usage {
            tenant: id.to_string(),
            pages: db.page_count()?,
            users: t8k_core::users::count(&cfg.cfg, db)?,
            storage_bytes: storage.total(),
            storage,
            limits: Limits::of(&cfg.cfg)?,
        };
        self.open.usage = Some((stamp, usage.clone()));
        self.open.trusted = self.watched;
        Ok(usage)
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
mod tests {
    use super::*;

    /// Both ways of knowing that nothing changed: folder watches, and `statx` per document.
    fn caches() -> [Cache; 2] {
        [Cache::default(), Cache::unwatched()]
    }
    use t8k_core::lifecycle::{InitOptions, Installation, NewTenant};
    use t8k_core::settings::Env;
    use t8k_core::store::Condition;

    fn installation(dir: &std::path::Path) -> Installation {
        let store = t8k_core::store::open(dir.to_str().unwrap(), None, false).unwrap();
        let inst = Installation::new(store, Env::default());
        inst.init(&InitOptions {
            domain: "aaaa.test".into(),
            multi: true,
            max_tenants: Some(5),
            public_enable_multi_tenant: None,
            require_email_verification: false,
            auto_ssl: false,
            enable_custom_domains: true,
        })
        .unwrap();
        inst
    }

    #[test]
    fn every_replacement_of_the_registry_is_seen_even_at_the_same_size() {
        let dir = tempfile::tempdir().unwrap();
        let inst = installation(dir.path());
        let key = layout::registry();
        for cache in caches() {
            for (i, domain) in ["bbbb.test", "cccc.test", "aaaa.test"]
                .iter()
                .cycle()
                .take(60)
                .enumerate()
            {
                let mut reg = cache
                    .registry(inst.store(), &cache.sync())
                    .unwrap()
                    .reg
                    .clone();
                reg.domain = domain.to_string();
                let bytes = t8k_core::cas::to_json_bytes(&reg);
                inst.store().put(&key, &bytes, Condition::None).unwrap();
                assert_eq!(
                    cache
                        .registry(inst.store(), &cache.sync())
                        .unwrap()
                        .reg
                        .domain,
                    *domain,
                    "write {i}"
                );
            }
        }
    }

    #[test]
    fn edits_in_place_are_seen() {
        for cache in caches() {
            let dir = tempfile::tempdir().unwrap();
            let inst = installation(dir.path());
            assert_eq!(
                cache
                    .registry(inst.store(), &cache.sync())
                    .unwrap()
                    .reg
                    .max_tenants,
                5
            );
            let path = dir.path().join("config/t8k/tenants.json");
            let text = std::fs::read_to_string(&path).unwrap();
            let edited = text.replace("\"max_tenants\": 5", "\"max_tenants\": 50");
            std::fs::write(&path, edited).unwrap();
            assert_eq!(
                cache
                    .registry(inst.store(), &cache.sync())
                    .unwrap()
                    .reg
                    .max_tenants,
                50
            );
        }
    }

    #[test]
    fn usage_follows_writes_by_other_connections() {
        let dir = tempfile::tempdir().unwrap();
        let inst = installation(dir.path());
        inst.create_tenant("acme", |id| NewTenant {
            id,
            site_name: "Acme".into(),
            email: "a@acme.test".into(),
            admin_password: None,
            editor_password: None,
            theme: None,
            organisation: None,
        })
        .unwrap();
        let id = TenantId::trusted("acme").unwrap();
        for (n, cache) in caches().into_iter().enumerate() {
            let usage = |cache: &Cache| {
                let fresh = cache.sync();
                let cfg = cache.config(inst.store(), &id, &fresh).unwrap();
                cache
                    .usage(inst.store(), &id, &cfg, &fresh)
                    .unwrap()
                    .unwrap()
            };
            let before = usage(&cache);
            assert_eq!(usage(&cache).pages, before.pages);
            let page = t8k_core::content::Page {
                slug: format!("new-{n}"),
                title: "New".into(),
                description: String::new(),
                date: None,
                draft: false,
                weight: 0,
                menus: vec![],
                social_image: None,
                extra: Default::default(),
                panes: vec![],
            };
            t8k_core::content::edit::save(
                inst.store(),
                &id,
                &page,
                t8k_core::content::edit::Mode::Create,
            )
            .unwrap();
            assert_eq!(usage(&cache).pages, before.pages + 1);
            let max = 42 + n as u64;
            inst.set_quota("acme", None, Some(max), None, false)
                .unwrap();
            assert_eq!(
                usage(&cache).limits.max_pages,
                max,
                "a new env.json is a new usage"
            );
        }
    }
}
