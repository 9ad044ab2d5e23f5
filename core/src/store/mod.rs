//! The data-root store: every write t8k makes to the data root goes through [`Store`], so the
//! same code runs on a local directory ([`local::LocalStore`]) and on an object store.
//!
//! The contract mirrors what S3-compatible stores offer: whole-object reads and writes, a
//! version per object (an ETag on S3, a content hash locally), and conditional writes —
//! create-only ([`Condition::IfAbsent`], `If-None-Match: *`) and compare-and-swap
//! ([`Condition::IfMatch`], `If-Match: <etag>`).

pub mod local;
pub mod s3;

use std::path::{Path, PathBuf};

use crate::key::Key;

/// An opaque object version; equal versions mean equal contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version(pub String);

/// When a write may happen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    /// Always.
    None,
    /// Only if no object exists at the key.
    IfAbsent,
    /// Only if the object's current version is this one.
    IfMatch(Version),
}

/// HTTP metadata stored with an object.
#[derive(Clone, Debug, Default)]
pub struct PutMeta {
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    /// Hex SHA-256 of the bytes, kept as `x-amz-meta-sha256` (ETags are not always MD5).
    pub sha256: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Object {
    pub bytes: Vec<u8>,
    pub version: Version,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub key: Key,
    pub size: u64,
    /// When it was last written (Unix seconds), where the store says.
    pub modified: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{key} changed while it was being updated (conditional write lost)")]
    PreconditionFailed { key: String },
    #[error("I/O error on {key}: {source}")]
    Io { key: String, source: std::io::Error },
    #[error("{0}")]
    Unsupported(String),
    #[error(
        "{endpoint}: {op} {key} failed: {message}. Check that the storage server is running and reachable, and the bucket and credentials are right"
    )]
    Remote {
        endpoint: String,
        op: &'static str,
        key: String,
        message: String,
    },
}

impl StoreError {
    pub fn io(key: &Key) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
        move |source| StoreError::Io {
            key: key.to_string(),
            source,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

pub trait Store: Send + Sync {
    /// Reads a whole object, or `None` if it does not exist.
    fn get(&self, key: &Key) -> StoreResult<Option<Object>>;

    /// Writes a whole object atomically: readers see the old bytes or the new, never a mix.
    fn put(&self, key: &Key, bytes: &[u8], cond: Condition) -> StoreResult<Version>;

    /// Writes with HTTP metadata for serving (content type, cache policy, content hash).
    /// Stores without such metadata (a local folder) keep just the bytes.
    fn put_with(
        &self,
        key: &Key,
        bytes: &[u8],
        cond: Condition,
        _meta: &PutMeta,
    ) -> StoreResult<Version> {
        self.put(key, bytes, cond)
    }

    /// The current version of an object without its bytes (HEAD), or `None`.
    fn head(&self, key: &Key) -> StoreResult<Option<Version>>;

    /// Copies one object inside the store (server-side: no bytes go through t8k).
    fn copy(&self, from: &Key, to: &Key) -> StoreResult<()>;

    /// Deletes one object; deleting a missing object is not an error.
    fn delete(&self, key: &Key) -> StoreResult<()>;

    /// Every object under `prefix` (recursively), sorted by key.
    fn list(&self, prefix: &Key) -> StoreResult<Vec<Entry>>;

    /// The keys of [`Store::list`] without their sizes (a folder then needs no `stat` per
    /// object: a listing of 100,000 registry entries is one `getdents` loop).
    fn list_keys(&self, prefix: &Key) -> StoreResult<Vec<Key>> {
        Ok(self.list(prefix)?.into_iter().map(|e| e.key).collect())
    }

    /// At most `limit` objects under `prefix` whose keys sort after `after` (a key under
    /// `prefix`; exclusive), in key order: one page of a listing too large to hold. A bucket
    /// asks for just that page (`StartAfter`, `MaxKeys`); a folder is read whole (a directory
    /// cannot be read from a name on) but only the page's files are measured.
    fn list_page(&self, prefix: &Key, after: Option<&Key>, limit: usize)
    -> StoreResult<Vec<Entry>>;

    /// Moves every object under `from` to the same relative key under `to`. Used by tenant
    /// delete/restore; `to` must not exist yet.
    fn move_prefix(&self, from: &Key, to: &Key) -> StoreResult<()>;

    /// The local file behind a key, for stores that have one (SQLite needs a real file).
    fn local_path(&self, key: &Key) -> Option<PathBuf>;

    /// A human-readable name for messages: the directory or the bucket URL.
    fn describe(&self) -> String;

    /// The local folder that caches this store's databases, for stores whose objects are not
    /// files (a bucket); `None` for a local directory.
    fn cache_dir(&self) -> Option<&Path> {
        None
    }
}

/// Opens a data root or bundle store from `--root` / `--to`: a local directory, or
/// `s3://bucket/prefix` (endpoint from `endpoint_url` or `AWS_ENDPOINT_URL`). With `probe`,
/// an S3 store must prove that it honours conditional writes.
/// A store in a fresh temporary folder, for unit tests (the folder goes when dropped).
#[cfg(test)]
pub(crate) fn temp() -> (tempfile::TempDir, Box<dyn Store>) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let store = open(
        dir.path().to_str().expect("a UTF-8 path"),
        &crate::settings::Env::default(),
        false,
    )
    .expect("a local store");
    (dir, store)
}

pub fn open(spec: &str, env: &crate::settings::Env, probe: bool) -> StoreResult<Box<dyn Store>> {
    if let Some(rest) = spec.strip_prefix("s3://") {
        let store = s3::S3Store::open(rest, env)?;
        if probe {
            store.probe_conditional_writes()?;
        }
        return Ok(Box::new(store));
    }
    if spec.contains("://") {
        return Err(StoreError::Unsupported(format!(
            "{spec}: a data root is a local directory or s3://bucket/prefix"
        )));
    }
    Ok(Box::new(local::LocalStore::new(spec)))
}

/// [`open`] from async code: runs it on the blocking pool (opening a bucket loads credentials,
/// and the probe makes requests).
pub async fn open_async(
    spec: &str,
    env: &crate::settings::Env,
    probe: bool,
) -> StoreResult<Box<dyn Store>> {
    let (owned, env) = (spec.to_owned(), env.clone());
    tokio::task::spawn_blocking(move || open(&owned, &env, probe))
        .await
        .map_err(|e| StoreError::Unsupported(format!("opening {spec} stopped: {e}")))?
}
