//! The embedded default: a data root that is a local directory.
//!
//! Atomicity: every write goes to a temporary file in the target's directory, is fsynced, then
//! renamed over the target, and the directory is fsynced — so a crash leaves the old object or
//! the new one. Conditional writes hold an exclusive lock (`flock`, released by the kernel if
//! the process dies) on a per-key lock file while they compare the current version and rename.
//! Versions are SHA-256 hashes of the contents, so they need no side table.

use std::fs::{self, File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{Condition, Entry, Object, Store, StoreError, StoreResult, Version};
use crate::key::Key;

/// Lock files live here, outside the key space (keys never start with a dot).
const LOCK_DIR: &str = ".t8k/locks";

pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: impl Into<PathBuf>) -> LocalStore {
        LocalStore { root: root.into() }
    }

    fn path(&self, key: &Key) -> PathBuf {
        self.root.join(key.as_str())
    }

    /// Every file under `prefix` that is a valid key, sorted, as `make` turns it into a value.
    fn walk<T>(
        &self,
        prefix: &Key,
        make: impl Fn(&walkdir::DirEntry, Key) -> T,
    ) -> StoreResult<Vec<T>> {
        let base = self.path(prefix);
        let mut out = Vec::new();
        for item in walkdir::WalkDir::new(&base).sort_by_file_name() {
            let item = match item {
                Ok(item) => item,
                Err(e)
                    if e.io_error()
                        .is_some_and(|io| io.kind() == ErrorKind::NotFound) =>
                {
                    continue;
                }
                Err(e) => {
                    return Err(StoreError::Io {
                        key: prefix.to_string(),
                        source: e.into(),
                    });
                }
            };
            if !item.file_type().is_file() {
                continue;
            }
            let Ok(rel) = item.path().strip_prefix(&self.root) else {
                continue;
            };
            // Temp files and anything else that is not a valid key (dot files) are not objects.
            let Some(rel) = rel.to_str() else { continue };
            let Ok(key) = Key::new(rel) else { continue };
            out.push(make(&item, key));
        }
        Ok(out)
    }

    fn lock(&self, key: &Key) -> StoreResult<File> {
        let dir = self.root.join(LOCK_DIR);
        fs::create_dir_all(&dir).map_err(StoreError::io(key))?;
        // Striped: 4,096 lock files however many keys are written (a registry of 100,000
        // tenants writes three keys each); two keys on one stripe only wait for each other.
        let name = hex::encode(&Sha256::digest(key.as_str().as_bytes())[..2])[..3].to_owned();
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(name))
            .map_err(StoreError::io(key))?;
        file.lock().map_err(StoreError::io(key))?;
        Ok(file)
    }
}

pub fn version_of(bytes: &[u8]) -> Version {
    Version(hex::encode(Sha256::digest(bytes)))
}

fn read_optional(path: &Path, key: &Key) -> StoreResult<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) if e.kind() == ErrorKind::IsADirectory => Ok(None),
        Err(e) => Err(StoreError::Io {
            key: key.to_string(),
            source: e,
        }),
    }
}

/// Writes `bytes` to `path` via temp file + fsync + rename + directory fsync.
fn published(key: &Key) -> bool {
    key.as_str().starts_with("sites/") || key.as_str() == "routes.json"
}

/// Objects are readable by the owner only, except published output an edge serves straight
/// from the folder (`sites/`, `routes.json`), which anyone may read.
fn write_atomic(path: &Path, bytes: &[u8], key: &Key) -> StoreResult<()> {
    use crate::atomic::Readers;
    let readers = if published(key) {
        Readers::Everyone
    } else {
        Readers::Owner
    };
    crate::atomic::write_file_as(path, bytes, readers).map_err(StoreError::io(key))
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    crate::atomic::sync_dir(dir)
}

impl Store for LocalStore {
    fn get(&self, key: &Key) -> StoreResult<Option<Object>> {
        Ok(read_optional(&self.path(key), key)?.map(|bytes| Object {
            version: version_of(&bytes),
            bytes,
        }))
    }

    fn put(&self, key: &Key, bytes: &[u8], cond: Condition) -> StoreResult<Version> {
        let path = self.path(key);
        let _guard = self.lock(key)?;
        let current = read_optional(&path, key)?;
        let allowed = match (&cond, &current) {
            (Condition::None, _) => true,
            (Condition::IfAbsent, current) => current.is_none(),
            (Condition::IfMatch(v), Some(cur)) => version_of(cur) == *v,
            (Condition::IfMatch(_), None) => false,
        };
        if !allowed {
            return Err(StoreError::PreconditionFailed {
                key: key.to_string(),
            });
        }
        write_atomic(&path, bytes, key)?;
        Ok(version_of(bytes))
    }

    fn head(&self, key: &Key) -> StoreResult<Option<Version>> {
        Ok(self.get(key)?.map(|o| o.version))
    }

    fn copy(&self, from: &Key, to: &Key) -> StoreResult<()> {
        let (src, dst) = (self.path(from), self.path(to));
        let dir = dst.parent().expect("keys have a parent under the root");
        fs::create_dir_all(dir).map_err(StoreError::io(to))?;
        // Objects are only ever replaced by rename, never changed in place, so a hard link is
        // a safe copy that costs no bytes; fall back to copying across filesystems.
        let _ = fs::remove_file(&dst);
        if fs::hard_link(&src, &dst).is_err() {
            fs::copy(&src, &dst).map_err(StoreError::io(from))?;
        }
        // A deploy carried over from one written before published output was world-readable.
        #[cfg(unix)]
        if published(to) {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&dst, fs::Permissions::from_mode(0o644))
                .map_err(StoreError::io(to))?;
        }
        Ok(())
    }

    fn delete(&self, key: &Key) -> StoreResult<()> {
        match fs::remove_file(self.path(key)) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(StoreError::Io {
                key: key.to_string(),
                source: e,
            }),
            _ => Ok(()),
        }
    }

    fn list(&self, prefix: &Key) -> StoreResult<Vec<Entry>> {
        self.walk(prefix, |item, key| {
            let meta = item.metadata().ok();
            Entry {
                key,
                size: meta.as_ref().map_or(0, |m| m.len()),
                modified: meta.as_ref().and_then(modified_secs),
            }
        })
    }

    fn list_keys(&self, prefix: &Key) -> StoreResult<Vec<Key>> {
        self.walk(prefix, |_, key| key)
    }

    fn list_page(
        &self,
        prefix: &Key,
        after: Option<&Key>,
        limit: usize,
    ) -> StoreResult<Vec<Entry>> {
        // The folder is read whole (a directory cannot be read from a name on), but only the
        // page's files are measured.
        let keys = self.list_keys(prefix)?;
        let from = after.map_or(0, |a| keys.partition_point(|k| k <= a));
        Ok(keys[from..]
            .iter()
            .take(limit)
            .map(|key| {
                let meta = fs::metadata(self.path(key)).ok();
                Entry {
                    size: meta.as_ref().map_or(0, |m| m.len()),
                    modified: meta.as_ref().and_then(modified_secs),
                    key: key.clone(),
                }
            })
            .collect())
    }

    fn move_prefix(&self, from: &Key, to: &Key) -> StoreResult<()> {
        let (src, dst) = (self.path(from), self.path(to));
        if !src.exists() {
            return Ok(());
        }
        if dst.exists() {
            return Err(StoreError::Io {
                key: to.to_string(),
                source: std::io::Error::new(ErrorKind::AlreadyExists, "destination exists"),
            });
        }
        let parent = dst.parent().expect("keys have a parent under the root");
        fs::create_dir_all(parent).map_err(StoreError::io(to))?;
        // One rename moves the whole folder atomically on one filesystem.
        fs::rename(&src, &dst).map_err(StoreError::io(from))?;
        sync_dir(parent).map_err(StoreError::io(to))?;
        if let Some(src_parent) = src.parent() {
            sync_dir(src_parent).map_err(StoreError::io(from))?;
        }
        Ok(())
    }

    fn local_path(&self, key: &Key) -> Option<PathBuf> {
        Some(self.path(key))
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}

fn modified_secs(meta: &fs::Metadata) -> Option<i64> {
    let t = meta.modified().ok()?;
    let secs = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    i64::try_from(secs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, LocalStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        (dir, store)
    }

    #[test]
    fn create_only_refuses_second_writer() {
        let (_d, s) = store();
        let k = Key::new("a/b.json").unwrap();
        s.put(&k, b"one", Condition::IfAbsent).unwrap();
        assert!(matches!(
            s.put(&k, b"two", Condition::IfAbsent),
            Err(StoreError::PreconditionFailed { .. })
        ));
        assert_eq!(s.get(&k).unwrap().unwrap().bytes, b"one");
    }

    #[test]
    fn compare_and_swap_needs_the_current_version() {
        let (_d, s) = store();
        let k = Key::new("x.json").unwrap();
        let v1 = s.put(&k, b"1", Condition::None).unwrap();
        let v2 = s.put(&k, b"2", Condition::IfMatch(v1.clone())).unwrap();
        assert!(
            s.put(&k, b"3", Condition::IfMatch(v1)).is_err(),
            "stale version must lose"
        );
        s.put(&k, b"3", Condition::IfMatch(v2)).unwrap();
        assert_eq!(s.get(&k).unwrap().unwrap().bytes, b"3");
    }

    #[test]
    fn list_skips_temp_and_lock_files() {
        let (d, s) = store();
        s.put(&Key::new("m/t/a.png").unwrap(), b"aa", Condition::None)
            .unwrap();
        fs::write(d.path().join("m/t/.tmp-123"), b"partial").unwrap();
        let listed = s.list(&Key::new("m").unwrap()).unwrap();
        assert_eq!(
            listed,
            vec![Entry {
                key: Key::new("m/t/a.png").unwrap(),
                size: 2,
                modified: listed[0].modified,
            }]
        );
        assert!(s.list(&Key::new("missing").unwrap()).unwrap().is_empty());
    }

    #[test]
    fn move_prefix_moves_everything_and_refuses_to_clobber() {
        let (_d, s) = store();
        s.put(&Key::new("db/t/site.db").unwrap(), b"x", Condition::None)
            .unwrap();
        s.move_prefix(
            &Key::new("db/t").unwrap(),
            &Key::new("trash/t-1/db").unwrap(),
        )
        .unwrap();
        assert!(s.get(&Key::new("db/t/site.db").unwrap()).unwrap().is_none());
        assert!(
            s.get(&Key::new("trash/t-1/db/site.db").unwrap())
                .unwrap()
                .is_some()
        );
        s.put(&Key::new("db/t/site.db").unwrap(), b"y", Condition::None)
            .unwrap();
        assert!(
            s.move_prefix(
                &Key::new("db/t").unwrap(),
                &Key::new("trash/t-1/db").unwrap()
            )
            .is_err()
        );
    }
}
