//! The data-root store: every write t8k makes to the data root goes through [`Store`], so the
//! same code runs on a local directory ([`local::LocalStore`]) and on an object store.
//!
//! The contract mirrors what S3-compatible stores offer: whole-object reads and writes, a
//! version per object (an ETag on S3, a content hash locally), and conditional writes —
//! create-only ([`Condition::IfAbsent`], `If-None-Match: *`) and compare-and-swap
//! ([`Condition::IfMatch`], `If-Match: <etag>`).

pub mod local;

use std::path::PathBuf;

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

#[derive(Clone, Debug)]
pub struct Object {
    pub bytes: Vec<u8>,
    pub version: Version,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub key: Key,
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{key} changed while it was being updated (conditional write lost)")]
    PreconditionFailed { key: String },
    #[error("I/O error on {key}: {source}")]
    Io { key: String, source: std::io::Error },
    #[error("{0}")]
    Unsupported(String),
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

    /// Deletes one object; deleting a missing object is not an error.
    fn delete(&self, key: &Key) -> StoreResult<()>;

    /// Every object under `prefix` (recursively), sorted by key.
    fn list(&self, prefix: &Key) -> StoreResult<Vec<Entry>>;

    /// Moves every object under `from` to the same relative key under `to`. Used by tenant
    /// delete/restore; `to` must not exist yet.
    fn move_prefix(&self, from: &Key, to: &Key) -> StoreResult<()>;

    /// The local file behind a key, for stores that have one (SQLite needs a real file).
    fn local_path(&self, key: &Key) -> Option<PathBuf>;

    /// A human-readable name for messages: the directory or the bucket URL.
    fn describe(&self) -> String;
}
