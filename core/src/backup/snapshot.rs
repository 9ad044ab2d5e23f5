//! Taking a tenant's snapshot: its `config/{t}/` files, a consistent copy of each database
//! under `db/{t}/` (SQLite's online backup API in one step, so one read transaction: the state
//! before or after each edit, never a mix; on a bucket root the object itself, which is
//! written whole), every object under `media/{t}/`, its registry entry and live deploy. The
//! manifest is written last, so a snapshot cut short is never listed.

use std::collections::HashSet;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};

use super::chunks::{Known, Sent};
use super::{Repo, key};
use crate::key::{Key, layout};
use crate::lifecycle::Installation;
use crate::name::TenantId;
use crate::registry::TenantEntry;
use crate::routes::{SiteId, read_live};
use crate::secrets::sha256_hex;
use crate::store::Store;
use crate::tenant_config::new_secret;
use crate::{Error, Result, timefmt};

/// One file of a snapshot: its data-root key and its chunks in order.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
    pub chunks: Vec<String>,
}

/// `snapshots/{tenant}/{id}.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// `{UTC stamp}-{milliseconds}{random}`: sorts by time.
    pub id: String,
    pub tenant: String,
    pub time: String,
    /// The tenant's registry entry (none in an installation snapshot).
    #[serde(default)]
    pub entry: Option<TenantEntry>,
    #[serde(default)]
    pub live_deploy: Option<String>,
    /// What the tenant's files were ([`fingerprint`]): an unchanged tenant is not backed up
    /// again by `--due`.
    pub fingerprint: String,
    pub files: Vec<FileEntry>,
    /// The files' total size, and the bytes this snapshot stored that were not there before.
    pub size: u64,
    pub new_bytes: u64,
}

/// A snapshot's name in a listing (its manifest unread).
#[derive(Clone, Debug, Serialize)]
pub struct Listed {
    pub tenant: String,
    pub id: String,
}

impl Listed {
    /// When it was taken (RFC 3339), read from its id.
    pub fn time(&self) -> Option<String> {
        let f = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
        let t = time::PrimitiveDateTime::parse(self.id.get(..16)?, &f).ok()?;
        Some(timefmt::rfc3339(t.assume_utc()))
    }
}

/// The snapshots in a repository's store, of `tenant` or of every tenant, oldest first, by
/// name only (no manifest read, so no passphrase needed).
pub fn names(store: &dyn Store, tenant: Option<&TenantId>) -> Result<Vec<Listed>> {
    let prefix = match tenant {
        Some(t) => key(format!("snapshots/{t}"))?,
        None => key("snapshots")?,
    };
    let mut out: Vec<Listed> = store
        .list(&prefix)?
        .into_iter()
        .filter_map(|e| {
            let rest = e.key.as_str().strip_prefix("snapshots/")?;
            let (tenant, file) = rest.split_once('/')?;
            let id = file.strip_suffix(".json")?;
            Some(Listed {
                tenant: tenant.to_owned(),
                id: id.to_owned(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id).then(a.tenant.cmp(&b.tenant)));
    Ok(out)
}

/// The folders a tenant's snapshot covers.
pub fn covered(id: &TenantId) -> [Key; 3] {
    [
        layout::tenant_config_dir(id),
        layout::db_dir(id),
        layout::media_dir(id),
    ]
}

/// Files SQLite keeps beside a database while it is open: never copied (the consistent copy
/// holds what they add).
fn is_sqlite_side_file(name: &str) -> bool {
    ["-wal", "-shm", "-journal"]
        .iter()
        .any(|s| name.ends_with(s))
}

/// A summary of the tenant's files as the store versions them: equal fingerprints, nothing
/// to back up. Costs two listings and a few version checks, no reads. SQLite's shared-memory
/// files and empty logs change when a database is merely opened, so they are left out.
pub fn fingerprint(store: &dyn Store, id: &TenantId) -> Result<String> {
    let mut parts = vec![];
    for dir in [layout::tenant_config_dir(id), layout::db_dir(id)] {
        for e in store.list(&dir)? {
            let name = e.key.as_str();
            if name.ends_with("-shm") || (is_sqlite_side_file(name) && e.size == 0) {
                continue;
            }
            parts.push(format!("{}={}:{}", e.key, e.size, version(store, &e.key)?));
        }
    }
    Ok(sha256_hex(parts.join("\n")))
}

/// What changes whenever an object does, cheaply: a local file's modification time (a local
/// store's own version is a hash of the whole file), a bucket's ETag.
fn version(store: &dyn Store, key: &Key) -> Result<String> {
    if let Some(path) = store.local_path(key) {
        let modified = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .map_err(|source| Error::Io {
                path: path.display().to_string(),
                source,
            })?;
        let since = modified
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        return Ok(since.as_nanos().to_string());
    }
    Ok(store.head(key)?.map(|v| v.0).unwrap_or_default())
}

/// A consistent copy of the database at `key` in a temporary file, or `None` if there is none.
pub fn database_copy(store: &dyn Store, key: &Key) -> Result<Option<tempfile::NamedTempFile>> {
    let tmp = tempfile::NamedTempFile::new().map_err(|source| Error::Io {
        path: std::env::temp_dir().display().to_string(),
        source,
    })?;
    let label = key.to_string();
    match store.local_path(key) {
        Some(path) if !path.is_file() => return Ok(None),
        Some(path) => {
            let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let src = Connection::open_with_flags(&path, flags).map_err(Error::db(&label))?;
            src.busy_timeout(Duration::from_secs(10))
                .map_err(Error::db(&label))?;
            let mut dst = Connection::open(tmp.path()).map_err(Error::db(&label))?;
            let copy = rusqlite::backup::Backup::new(&src, &mut dst).map_err(Error::db(&label))?;
            // Every page in one step (-1): one read transaction on the source. A writer
            // holding the lock at that instant makes the step answer busy: try again.
            let mut tries = 0;
            loop {
                match copy.step(-1).map_err(Error::db(&label))? {
                    rusqlite::backup::StepResult::Done => break,
                    _ if tries < 200 => {
                        tries += 1;
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    _ => {
                        return Err(Error::Busy {
                            id: label,
                            what: "written to for 10 s without a pause",
                        });
                    }
                }
            }
        }
        None => {
            let Some(obj) = store.get(key)? else {
                return Ok(None);
            };
            std::fs::write(tmp.path(), &obj.bytes).map_err(|source| Error::Io {
                path: tmp.path().display().to_string(),
                source,
            })?;
        }
    }
    Ok(Some(tmp))
}

/// The media keys a copy of `site.db` lists.
fn media_rows(copy: &std::path::Path, label: &str) -> Result<HashSet<String>> {
    let conn = Connection::open(copy).map_err(Error::db(label))?;
    let read = || -> rusqlite::Result<HashSet<String>> {
        conn.prepare("SELECT key FROM media_files")?
            .query_map([], |r| r.get(0))?
            .collect()
    };
    read().map_err(Error::db(label))
}

fn read_file(path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })
}

impl Repo {
    /// Backs up one tenant: a new snapshot, its manifest written last.
    pub fn snapshot(&self, inst: &Installation, id: &TenantId, known: &Known) -> Result<Manifest> {
        // A media file deleted between the database copy and the media listing would leave
        // the copy listing a file the snapshot lacks: then the tenant is read again.
        for _ in 0..3 {
            if let Some(m) = self.try_snapshot(inst, id, known)? {
                return Ok(m);
            }
        }
        Err(Error::Busy {
            id: id.to_string(),
            what: "changed (media deleted during its backup, three times)",
        })
    }

    fn try_snapshot(
        &self,
        inst: &Installation,
        id: &TenantId,
        known: &Known,
    ) -> Result<Option<Manifest>> {
        let store = inst.store();
        let (entry, _) = inst.entry(id.as_str())?;
        let fingerprint = fingerprint(store, id)?;
        let mut sent = Sent::default();
        let (mut files, mut listed_media) = (vec![], HashSet::new());
        let mut add = |path: &Key, bytes: &[u8], sent: &mut Sent| -> Result<()> {
            let is_database = path.as_str().ends_with(".db");
            let chunks = self.put_chunks(bytes, is_database, known, sent)?;
            files.push(FileEntry {
                path: path.to_string(),
                size: bytes.len() as u64,
                sha256: sha256_hex(bytes),
                chunks,
            });
            Ok(())
        };
        let [config, db, media] = covered(id);
        for e in store.list(&config)? {
            if let Some(obj) = store.get(&e.key)? {
                add(&e.key, &obj.bytes, &mut sent)?;
            }
        }
        let mut referenced = HashSet::new();
        for e in store.list(&db)? {
            if is_sqlite_side_file(e.key.as_str()) {
                continue;
            }
            let Some(copy) = database_copy(store, &e.key)? else {
                continue;
            };
            if e.key == layout::site_db(id) {
                referenced = media_rows(copy.path(), e.key.as_str())?;
            }
            add(&e.key, &read_file(copy.path())?, &mut sent)?;
        }
        for e in store.list(&media)? {
            if let Some(obj) = store.get(&e.key)? {
                listed_media.insert(e.key.to_string());
                add(&e.key, &obj.bytes, &mut sent)?;
            }
        }
        if !referenced.is_subset(&listed_media) {
            return Ok(None);
        }
        let live_deploy = read_live(store, &SiteId::Tenant(id.clone()))?.map(|l| l.deploy);
        let m = self.write_manifest(
            id.as_str(),
            Some(entry),
            live_deploy,
            fingerprint,
            files,
            sent,
        )?;
        Ok(Some(m))
    }

    /// A snapshot of the installation's shared configuration (`--installation`): the registry
    /// and its entries, places, host keys and pending sign-ups, the secrets, `routes.json`.
    /// It is not restored over a running installation: `t8k restore --installation --into DIR`
    /// writes its files out for the operator.
    pub fn snapshot_installation(&self, inst: &Installation, known: &Known) -> Result<Manifest> {
        let store = inst.store();
        let mut sent = Sent::default();
        let mut files = vec![];
        let mut keys: Vec<Key> = store
            .list(&key("config/t8k")?)?
            .into_iter()
            .map(|e| e.key)
            .collect();
        keys.push(layout::routes());
        for k in keys {
            if let Some(obj) = store.get(&k)? {
                files.push(FileEntry {
                    path: k.to_string(),
                    size: obj.bytes.len() as u64,
                    sha256: sha256_hex(&obj.bytes),
                    chunks: self.put_chunks(&obj.bytes, false, known, &mut sent)?,
                });
            }
        }
        self.write_manifest(INSTALLATION, None, None, String::new(), files, sent)
    }

    /// Writes a snapshot's manifest (last: it is what makes the snapshot exist).
    fn write_manifest(
        &self,
        tenant: &str,
        entry: Option<TenantEntry>,
        live_deploy: Option<String>,
        fingerprint: String,
        files: Vec<FileEntry>,
        sent: Sent,
    ) -> Result<Manifest> {
        let precise = time::OffsetDateTime::now_utc();
        let now = precise - time::Duration::nanoseconds(precise.nanosecond().into());
        let manifest = Manifest {
            // Milliseconds after the stamp, so two snapshots of one second still sort by time.
            id: format!(
                "{}-{:03}{}",
                timefmt::compact(now),
                precise.millisecond(),
                &new_secret()[..5]
            ),
            tenant: tenant.to_owned(),
            time: timefmt::rfc3339(now),
            entry,
            live_deploy,
            fingerprint,
            size: files.iter().map(|f| f.size).sum(),
            files,
            new_bytes: sent.bytes,
        };
        self.put_doc(&manifest_key(&manifest.tenant, &manifest.id)?, &manifest)?;
        Ok(manifest)
    }

    /// Snapshots of `tenant` (or of every tenant), oldest first, by name only.
    pub fn list(&self, tenant: Option<&TenantId>) -> Result<Vec<Listed>> {
        names(self.store(), tenant)
    }

    pub fn manifest(&self, tenant: &str, id: &str) -> Result<Manifest> {
        self.get_doc(&manifest_key(tenant, id)?)?
            .ok_or_else(|| super::BackupError::NoSnapshot(format!("{tenant}/{id}")).into())
    }

    pub fn forget_snapshot(&self, tenant: &str, id: &str) -> Result<()> {
        Ok(self.store().delete(&manifest_key(tenant, id)?)?)
    }
}

/// The name installation snapshots are filed under (never a tenant id: ids cannot start
/// with `_`).
pub const INSTALLATION: &str = "_installation";

fn manifest_key(tenant: &str, id: &str) -> Result<Key> {
    if tenant != INSTALLATION {
        TenantId::trusted(tenant)?;
    }
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(super::BackupError::NoSnapshot(id.to_owned()).into());
    }
    key(format!("snapshots/{tenant}/{id}.json"))
}
