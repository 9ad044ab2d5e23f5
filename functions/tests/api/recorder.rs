//! A store that writes down what a function does to the data root, as the S3 requests it
//! would make: the real local store underneath, presented as a bucket (no local paths, its
//! databases cached in a folder of their own), so every function takes the path it takes on
//! AWS. Each function gets its own recorder and cache, as each Lambda has its own container.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use t8k_core::Key;
use t8k_core::store::local::LocalStore;
use t8k_core::store::{Condition, Entry, Object, PutMeta, Store, StoreResult, Version};
use t8k_functions::iam::Op;

pub type Log = Arc<Mutex<BTreeSet<(Op, String)>>>;

pub struct Recorder {
    inner: LocalStore,
    cache: tempfile::TempDir,
    log: Log,
}

impl Recorder {
    pub fn new(root: &Path, log: Log) -> Recorder {
        Recorder {
            inner: LocalStore::new(root),
            cache: tempfile::tempdir().unwrap(),
            log,
        }
    }

    fn note(&self, op: Op, key: impl Into<String>) {
        self.log.lock().unwrap().insert((op, key.into()));
    }

    /// A listing asks S3 for the keys under `prefix/`.
    fn listed(&self, prefix: &Key) {
        self.note(Op::List, format!("{prefix}/"));
    }
}

impl Store for Recorder {
    fn get(&self, key: &Key) -> StoreResult<Option<Object>> {
        self.note(Op::Read, key.as_str());
        self.inner.get(key)
    }
    fn put(&self, key: &Key, bytes: &[u8], cond: Condition) -> StoreResult<Version> {
        self.note(Op::Write, key.as_str());
        self.inner.put(key, bytes, cond)
    }
    fn put_with(
        &self,
        key: &Key,
        bytes: &[u8],
        cond: Condition,
        meta: &PutMeta,
    ) -> StoreResult<Version> {
        self.note(Op::Write, key.as_str());
        self.inner.put_with(key, bytes, cond, meta)
    }
    fn head(&self, key: &Key) -> StoreResult<Option<Version>> {
        self.note(Op::Read, key.as_str());
        self.inner.head(key)
    }
    fn copy(&self, from: &Key, to: &Key) -> StoreResult<()> {
        self.note(Op::Read, from.as_str());
        self.note(Op::Write, to.as_str());
        self.inner.copy(from, to)
    }
    fn delete(&self, key: &Key) -> StoreResult<()> {
        self.note(Op::Delete, key.as_str());
        self.inner.delete(key)
    }
    fn list(&self, prefix: &Key) -> StoreResult<Vec<Entry>> {
        self.listed(prefix);
        self.inner.list(prefix)
    }
    fn list_page(
        &self,
        prefix: &Key,
        after: Option<&Key>,
        limit: usize,
    ) -> StoreResult<Vec<Entry>> {
        self.listed(prefix);
        self.inner.list_page(prefix, after, limit)
    }
    /// As the S3 store moves: a listing, a copy of each object, then its delete.
    fn move_prefix(&self, from: &Key, to: &Key) -> StoreResult<()> {
        self.listed(from);
        for e in self.inner.list(from)? {
            let rel = e.key.strip_prefix(from).unwrap();
            self.note(Op::Read, e.key.as_str());
            self.note(Op::Write, format!("{to}/{rel}"));
            self.note(Op::Delete, e.key.as_str());
        }
        self.inner.move_prefix(from, to)
    }
    fn local_path(&self, _key: &Key) -> Option<PathBuf> {
        None
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn cache_dir(&self) -> Option<&Path> {
        Some(self.cache.path())
    }
}
