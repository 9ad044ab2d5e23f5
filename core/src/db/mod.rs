//! Per-tenant SQLite databases (`db/{tenant}/site.db`): opened with WAL, foreign keys and a busy
//! timeout, migrated forward by `PRAGMA user_version`.

pub mod remote;
pub mod schema;

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};
use crate::key::layout;
use crate::name::TenantId;
use crate::store::{Condition, Store, StoreError};

pub struct SiteDb {
    /// Private to core: only core knows the tables ([`crate::content::published`] is what a
    /// build reads).
    pub(crate) conn: Connection,
    label: String,
}

/// The file to open for a tenant's database: in place for a local data root, the fresh cached
/// copy for a remote one.
fn local_file(store: &dyn Store, id: &TenantId) -> Result<std::path::PathBuf> {
    let key = layout::site_db(id);
    if let Some(path) = store.local_path(&key) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        return Ok(path);
    }
    match remote::fetch(store, &key)? {
        Some((path, _)) => Ok(path),
        None => Err(Error::Corrupt {
            file: format!("{}/{key}", store.describe()),
            message: format!(
                "it is missing although tenant '{id}' is registered; restore it from a backup"
            ),
        }),
    }
}

/// How often a remote write is redone after losing a race to another writer.
const REMOTE_WRITE_ATTEMPTS: u32 = 20;

/// Runs `f` on the tenant's database and makes its changes durable in the data root. Local:
/// in place. Remote: on a private copy uploaded with `If-Match` (or `If-None-Match: *` when the
/// database is new); if another writer got there first, `f` runs again on a fresh copy — so it
/// must derive everything from the database it is given and do its work in one transaction.
///
/// [`with_write`] for a tenant being created: its starter content queues nothing (a tenant
/// with no bundle yet is found by `build --changed` without a request).
pub(crate) fn with_write_new<R>(
    store: &dyn Store,
    id: &TenantId,
    f: impl FnMut(&mut SiteDb) -> Result<R>,
) -> Result<R> {
    let key = layout::site_db(id);
    with_write_file(store, &key, |p| SiteDb::open_path(p, key.to_string()), f)
}

/// A write that changes the content (the schema's triggers bump `content_version`) also
/// queues a build of the tenant: the queue is how `t8k build --changed` learns what changed
/// without opening every tenant's database, so no write path can forget it.
pub fn with_write<R>(
    store: &dyn Store,
    id: &TenantId,
    mut f: impl FnMut(&mut SiteDb) -> Result<R>,
) -> Result<R> {
    let key = layout::site_db(id);
    let mut changed = false;
    let r = with_write_file(
        store,
        &key,
        |p| SiteDb::open_path(p, key.to_string()),
        |db| {
            let before = db.content_version()?;
            let r = f(db)?;
            changed = db.content_version()? != before;
            Ok(r)
        },
    )?;
    if changed {
        crate::queue::request_build(store, id, "content changed")?;
    }
    Ok(r)
}

/// A database file t8k writes through [`with_write_file`].
pub trait DbFile {
    fn connection(&self) -> &Connection;
}

impl DbFile for SiteDb {
    fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// [`with_write`] for any database file of the data root, opened (and migrated) by `open`.
pub fn with_write_file<D: DbFile, R>(
    store: &dyn Store,
    key: &crate::key::Key,
    open: impl Fn(&Path) -> Result<D>,
    mut f: impl FnMut(&mut D) -> Result<R>,
) -> Result<R> {
    if let Some(path) = store.local_path(key) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        let mut db = open(&path)?;
        return f(&mut db);
    }
    for _ in 0..REMOTE_WRITE_ATTEMPTS {
        let (work, base) = remote::working_copy(store, key)?;
        let outcome = (|| {
            let mut db = open(&work)?;
            let r = f(&mut db)?;
            db.connection()
                .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
                .map_err(Error::db(key.as_str()))?;
            drop(db);
            Ok(r)
        })();
        let r = match outcome {
            Ok(r) => r,
            Err(e) => {
                remote::discard(&work);
                return Err(e);
            }
        };
        let bytes = std::fs::read(&work).map_err(|source| Error::Io {
            path: work.display().to_string(),
            source,
        })?;
        let cond = base.map(Condition::IfMatch).unwrap_or(Condition::IfAbsent);
        match store.put(key, &bytes, cond) {
            Ok(version) => {
                remote::install(store, key, &work, &version)?;
                return Ok(r);
            }
            Err(StoreError::PreconditionFailed { .. }) => remote::discard(&work),
            Err(e) => {
                remote::discard(&work);
                return Err(e.into());
            }
        }
    }
    Err(Error::Busy {
        id: key.to_string(),
        what: "written by other processes",
    })
}

impl SiteDb {
    /// Opens (creating if needed) a tenant's site database and brings its schema up to date.
    /// For a remote data root this is the cached copy: read from it, write with [`with_write`].
    pub fn open(store: &dyn Store, id: &TenantId) -> Result<SiteDb> {
        SiteDb::open_path(&local_file(store, id)?, layout::site_db(id).to_string())
    }

    /// Opens a tenant's database read-only (for the builder), migrating it first if needed.
    pub fn open_read_only(store: &dyn Store, id: &TenantId) -> Result<SiteDb> {
        let key = layout::site_db(id);
        let path = Some(local_file(store, id)?)
            .filter(|p| p.is_file())
            .ok_or_else(|| Error::Corrupt {
                file: key.to_string(),
                message: format!(
                    "it is missing although tenant '{id}' is registered; restore it from a backup"
                ),
            })?;
        let label = key.to_string();
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&path, flags).map_err(Error::db(&label))?;
        let version: usize = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(Error::db(&label))?;
        if version != schema::migrations().len() {
            drop(conn);
            SiteDb::open_path(&path, label.clone())?;
            return SiteDb::open_read_only(store, id);
        }
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(Error::db(&label))?;
        Ok(SiteDb { conn, label })
    }

    pub fn open_path(path: &Path, label: String) -> Result<SiteDb> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(Error::db(&label))?;
        let mut db = SiteDb { conn, label };
        db.configure()?;
        db.migrate()?;
        Ok(db)
    }

    fn configure(&self) -> Result<()> {
        self.conn
            .busy_timeout(Duration::from_secs(10))
            .map_err(self.err())?;
        self.conn
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
            )
            .map_err(self.err())
    }

    fn migrate(&mut self) -> Result<()> {
        let all = schema::migrations();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(Error::db(&self.label))?;
        let current: usize = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(Error::db(&self.label))?;
        if current > all.len() {
            return Err(Error::Corrupt {
                file: self.label.clone(),
                message: format!(
                    "its schema version {current} is newer than this t8k knows ({}); upgrade t8k",
                    all.len()
                ),
            });
        }
        if current == all.len() {
            return Ok(());
        }
        for sql in &all[current..] {
            tx.execute_batch(sql).map_err(Error::db(&self.label))?;
        }
        tx.pragma_update(None, "user_version", all.len())
            .map_err(Error::db(&self.label))?;
        tx.commit().map_err(Error::db(&self.label))
    }

    /// Maps a rusqlite error to ours, naming this database.
    pub fn err(&self) -> impl FnOnce(rusqlite::Error) -> Error + use<> {
        Error::db(self.label.clone())
    }

    /// Bumped by triggers on every content write.
    pub fn content_version(&self) -> Result<i64> {
        self.conn
            .query_row("SELECT content_version FROM meta", [], |r| r.get(0))
            .map_err(self.err())
    }

    /// The database's random identity (see the V2 migration).
    pub fn db_id(&self) -> Result<String> {
        self.conn
            .query_row("SELECT db_id FROM meta", [], |r| r.get(0))
            .map_err(self.err())
    }

    pub fn page_count(&self) -> Result<u64> {
        self.conn
            .query_row("SELECT count(*) FROM story_fragments", [], |r| r.get(0))
            .map_err(self.err())
    }

    pub fn user_count(&self) -> Result<u64> {
        self.conn
            .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
            .map_err(self.err())
    }

    /// Bytes the database occupies including uncommitted pages of the open transaction, so a
    /// write can be checked against STORAGE_QUOTA before it commits.
    pub fn size_in_transaction(conn: &Connection) -> rusqlite::Result<u64> {
        conn.query_row(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            [],
            |r| r.get(0),
        )
    }

    /// What counts against STORAGE_QUOTA as the open transaction sees it: the database's pages
    /// plus the bytes of every media file its rows list (a row is written in the same
    /// transaction as the upload it stands for). Measured inside the write transaction — the
    /// tenant's one critical section, a lock on a local root and a compare-and-swap of the
    /// database on a bucket — so concurrent writes are judged one after another and can never
    /// together end above the quota.
    pub fn stored_in_transaction(conn: &Connection) -> rusqlite::Result<u64> {
        let media: u64 =
            conn.query_row("SELECT coalesce(sum(bytes), 0) FROM media_files", [], |r| {
                r.get(0)
            })?;
        Ok(Self::size_in_transaction(conn)? + media)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_counts_content_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.db");
        let db = SiteDb::open_path(&path, "test".into()).unwrap();
        let v: usize = db
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, schema::migrations().len());
        let mode: String = db
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = db
            .conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        assert_eq!(db.content_version().unwrap(), 0);
        db.conn
            .execute("INSERT INTO settings (key, value) VALUES ('logo', 'x')", [])
            .unwrap();
        assert_eq!(db.content_version().unwrap(), 1);
        drop(db);
        // Reopening applies nothing new and keeps data.
        let db = SiteDb::open_path(&path, "test".into()).unwrap();
        assert_eq!(db.content_version().unwrap(), 1);
    }

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.db");
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 999)
            .unwrap();
        let err = SiteDb::open_path(&path, "site.db".into())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("upgrade t8k"), "{err}");
    }
}
