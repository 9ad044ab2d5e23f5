//! Tenant databases in a bucket. SQLite needs a real file, so a remote database is fetched into
//! a local cache (`$T8K_CACHE`, else `~/.cache/t8k`, one folder per data root) and read there
//! while its ETag is current. A write works on a private copy, checkpoints it, and uploads it
//! with `If-Match` on the ETag it started from (`If-None-Match: *` for a new database): a
//! concurrent writer's upload fails that condition, and the write is redone on a fresh copy.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::key::Key;
use crate::store::{Store, Version};

/// The local cache folder of a remote data root (one per root under the store's cache folder,
/// [`crate::settings::Env::cache_dir`]).
pub fn cache_root(store: &dyn Store) -> PathBuf {
    let base = store
        .cache_dir()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| std::env::temp_dir().join("t8k-cache"));
    base.join(&hex::encode(Sha256::digest(store.describe().as_bytes()))[..16])
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.display().to_string(),
        source,
    }
}

fn etag_file(cached: &Path) -> PathBuf {
    cached.with_extension("db.etag")
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    crate::atomic::write_file(path, bytes).map_err(io(path))
}

/// The cached copy of `key`, refreshed if the remote object changed; `None` if there is none.
pub fn fetch(store: &dyn Store, key: &Key) -> Result<Option<(PathBuf, Version)>> {
    let cached = cache_root(store).join(key.as_str());
    let Some(current) = store.head(key)? else {
        return Ok(None);
    };
    let known = std::fs::read_to_string(etag_file(&cached)).ok();
    if known.as_deref() == Some(current.0.as_str()) && cached.is_file() {
        return Ok(Some((cached, current)));
    }
    let Some(obj) = store.get(key)? else {
        return Ok(None);
    };
    drop_wal(&cached);
    write_file(&cached, &obj.bytes)?;
    write_file(&etag_file(&cached), obj.version.0.as_bytes())?;
    Ok(Some((cached, obj.version)))
}

/// A private working copy for one write attempt: the current remote bytes, or nothing.
pub fn working_copy(store: &dyn Store, key: &Key) -> Result<(PathBuf, Option<Version>)> {
    let mut rand = [0u8; 6];
    getrandom::fill(&mut rand).expect("the OS random source is available");
    let work = cache_root(store).join(format!(
        "{}.work-{}-{}",
        key.as_str(),
        std::process::id(),
        hex::encode(rand)
    ));
    let dir = work.parent().expect("cache files have a folder");
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    match fetch(store, key)? {
        Some((cached, version)) => {
            std::fs::copy(&cached, &work).map_err(io(&work))?;
            Ok((work, Some(version)))
        }
        None => Ok((work, None)),
    }
}

/// After a successful upload, the working copy becomes the cached copy.
pub fn install(store: &dyn Store, key: &Key, work: &Path, version: &Version) -> Result<()> {
    let cached = cache_root(store).join(key.as_str());
    drop_wal(&cached);
    std::fs::rename(work, &cached).map_err(io(&cached))?;
    write_file(&etag_file(&cached), version.0.as_bytes())
}

/// A WAL left next to a cached copy (by a process that crashed with it open) belongs to the
/// old bytes; applied to new ones it would corrupt them, so it goes before they arrive.
fn drop_wal(cached: &Path) {
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", cached.display()));
    }
}

pub fn discard(work: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", work.display()));
    }
}

/// Drops this machine's cached copies of a deleted tenant's files (databases, and the bundles
/// and build history `t8k build` keeps here for a bucket root), so nothing of it is served,
/// published or reported again. A local data root has no cache: nothing to do.
pub fn forget_tenant(store: &dyn Store, id: &crate::TenantId) {
    if store.local_path(&crate::key::layout::registry()).is_some() {
        return;
    }
    let root = cache_root(store);
    for family in crate::key::layout::tenant_families(id) {
        let path = root.join(family.key.as_str());
        let _ = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
    }
}
