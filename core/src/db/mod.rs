//! Per-tenant SQLite databases (`db/{tenant}/site.db`): opened with WAL, foreign keys and a busy
//! timeout, migrated forward by `PRAGMA user_version`.

pub mod schema;

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};
use crate::key::layout;
use crate::name::TenantId;
use crate::store::{Store, StoreError};

pub struct SiteDb {
    pub conn: Connection,
    label: String,
}

impl SiteDb {
    /// Opens (creating if needed) a tenant's site database and brings its schema up to date.
    pub fn open(store: &dyn Store, id: &TenantId) -> Result<SiteDb> {
        let key = layout::site_db(id);
        let path = store.local_path(&key).ok_or_else(|| {
            StoreError::Unsupported(format!(
                "{} has no local files; tenant databases need a local data root",
                store.describe()
            ))
        })?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                path: dir.display().to_string(),
                source,
            })?;
        }
        SiteDb::open_path(&path, key.to_string())
    }

    /// Opens a tenant's database read-only (for the builder), migrating it first if needed.
    pub fn open_read_only(store: &dyn Store, id: &TenantId) -> Result<SiteDb> {
        let key = layout::site_db(id);
        let path = store
            .local_path(&key)
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

    pub fn label(&self) -> &str {
        &self.label
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
