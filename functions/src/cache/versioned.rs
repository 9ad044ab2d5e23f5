//! Which stored version a parsed document came from, and reading a document again only when
//! that version changed (see the module above for why this is exact).

use std::sync::{Arc, Mutex};

use t8k_core::key::Key;
use t8k_core::store::Store;
use t8k_core::{Error, Result};

use super::Cache;
use crate::watch::Scope;

/// Open files kept to pin documents' inodes; beyond this, documents are compared by bytes
/// (well under the usual 1024-descriptor limit, leaving room for connections).
pub const MAX_PINNED: usize = 256;

/// Which stored version a parsed document came from.
pub(super) enum Source {
    /// A local file, held open so that its inode number cannot be reused.
    Pinned { id: FileId, _file: std::fs::File },
    /// The bytes themselves (a bucket, or past [`MAX_PINNED`]).
    Bytes(Vec<u8>),
    /// No document, seen while its folder was watched: one appearing is an event.
    Absent,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct FileId {
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

pub(super) struct Versioned<T> {
    pub(super) source: Source,
    /// `None` for [`Source::Absent`].
    pub(super) value: Option<Arc<T>>,
    /// Read while its folder was watched, and no event has arrived since.
    pub(super) trusted: bool,
}

fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.display().to_string(),
        source,
    }
}

pub(super) fn parse<T: serde::de::DeserializeOwned>(key: &Key, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::Corrupt {
        file: key.to_string(),
        message: e.to_string(),
    })
}

/// The value of a document read while its folder was watched, with no event since: no system
/// call and no key to build. Sound only after [`Cache::sync`] ran for the request (the caller
/// holds its [`super::Fresh`]), and because a watch that goes away (its folder deleted or
/// moved) is itself an event that clears `trusted`.
/// The outer `None` is "not known without looking"; the inner one, a trusted absence.
pub(super) fn trusted<T>(slot: Option<&Versioned<T>>) -> Option<Option<Arc<T>>> {
    slot.filter(|v| v.trusted).map(|v| v.value.clone())
}

impl Cache {
    /// [`Cache::load`] for a document cached in `map` under `slot`.
    pub(super) fn load_keyed<K: std::hash::Hash + Eq, T>(
        &self,
        map: &Mutex<foldhash::HashMap<K, Versioned<T>>>,
        slot: K,
        store: &dyn Store,
        key: &Key,
        scope: Scope,
        build: impl FnOnce(&[u8]) -> Result<T>,
    ) -> Result<Option<Arc<T>>> {
        let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
        let mut current = map.remove(&slot);
        let loaded = self.load(store, key, scope, &mut current, build);
        if let Some(v) = current {
            map.insert(slot, v);
        }
        loaded
    }

    /// The document at `key`, parsed by `build`, reusing `slot` while it is the same version;
    /// `None` when there is no such document.
    pub(super) fn load<T>(
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
                return Ok(v.value.clone());
            }
            let value = Arc::new(build(&bytes)?);
            self.replace(slot, Source::Bytes(bytes), Some(value.clone()), false);
            return Ok(Some(value));
        };
        let watched = self.watch(&path, &scope);
        if let Some(v) = slot.as_ref().filter(|v| v.trusted && watched) {
            return Ok(v.value.clone());
        }
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Watched before looking, so a file created since is an event: the absence is
                // kept (a month nothing was served in). Without a watch (no folder either),
                // the next request looks again.
                if watched {
                    self.replace(slot, Source::Absent, None, true);
                }
                return Ok(None);
            }
            Err(e) => return Err(io_err(&path)(e)),
        };
        let id = FileId::of(&meta);
        if let Some(v) = slot.as_mut()
            && matches!(&v.source, Source::Pinned { id: cur, .. } if *cur == id)
        {
            v.trusted = watched;
            return Ok(v.value.clone());
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
            return Ok(v.value.clone());
        }
        let value = Arc::new(build(&bytes)?);
        let source = if self.pin() {
            Source::Pinned {
                id: opened,
                _file: file,
            }
        } else {
            Source::Bytes(bytes)
        };
        self.replace(slot, source, Some(value.clone()), watched);
        Ok(Some(value))
    }

    /// Empties a map of documents, giving back their open files.
    pub(super) fn forget<K, T>(&self, map: &mut foldhash::HashMap<K, Versioned<T>>) {
        for (_, v) in map.drain() {
            if matches!(v.source, Source::Pinned { .. }) {
                self.pinned
                    .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }

    /// Takes one of the [`MAX_PINNED`] open files, if one is left.
    fn pin(&self) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        if self.pinned.fetch_add(1, Relaxed) < MAX_PINNED {
            return true;
        }
        self.pinned.fetch_sub(1, Relaxed);
        false
    }

    /// Puts a new version in `slot`, giving back the open file of the one it replaces.
    fn replace<T>(
        &self,
        slot: &mut Option<Versioned<T>>,
        source: Source,
        value: Option<Arc<T>>,
        trusted: bool,
    ) {
        if let Some(Versioned {
            source: Source::Pinned { .. },
            ..
        }) = slot
        {
            self.pinned
                .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
        }
        *slot = Some(Versioned {
            source,
            value,
            trusted,
        });
    }
}
