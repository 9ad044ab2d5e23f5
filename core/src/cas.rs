//! Compare-and-swap updates of JSON documents in the store (the registry, tenants' env.json,
//! analytics salts, bandwidth totals).
//!
//! Read the document and its version, apply a pure change, write it back only if the version
//! is still the same; on a lost race, read again and re-apply. The change closure may run more
//! than once, so it must derive everything from the document it is given.

use std::time::Duration;

use serde::{Serialize, de::DeserializeOwned};

use crate::error::{Error, Result};
use crate::key::Key;
use crate::store::{Condition, PutMeta, Store, StoreError, Version};

/// How many lost races to tolerate before giving up. Each retry sleeps a little longer, with
/// jitter, so that many writers (20 racing sign-ups) drain in well under a second or two.
const MAX_ATTEMPTS: u32 = 200;

/// Reads and parses a JSON document, with its version.
pub fn read_json<T: DeserializeOwned>(
    store: &dyn Store,
    key: &Key,
) -> Result<Option<(T, Version)>> {
    let Some(obj) = store.get(key)? else {
        return Ok(None);
    };
    let value = serde_json::from_slice(&obj.bytes).map_err(|e| Error::Corrupt {
        file: key.to_string(),
        message: format!("{e}; restore it from a backup or fix it by hand"),
    })?;
    Ok(Some((value, obj.version)))
}

/// Every JSON document directly in `folder` (`{folder}/{id}.json`), parsed, with its id; a
/// document that does not parse is an error naming it.
pub fn read_folder<T: DeserializeOwned>(
    store: &dyn Store,
    folder: &Key,
) -> Result<Vec<(String, T)>> {
    let mut out = vec![];
    for entry in store.list(folder)? {
        let Some(id) = entry
            .key
            .strip_prefix(folder)
            .and_then(|r| r.strip_suffix(".json"))
        else {
            continue;
        };
        if id.contains('/') {
            continue;
        }
        if let Some((doc, _)) = read_json(store, &entry.key)? {
            out.push((id.to_owned(), doc));
        }
    }
    Ok(out)
}

/// Serialises as pretty JSON with a trailing newline (these files are read by people).
pub fn to_json_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("our documents always serialise");
    bytes.push(b'\n');
    bytes
}

/// Applies `change` to the document at `key` atomically. `change` returns `Ok(None)` to leave
/// the document untouched (no write), or `Ok(Some(r))` to write it and return `r`.
/// A missing document is an error from `missing`.
pub fn update_json<T, R>(
    store: &dyn Store,
    key: &Key,
    missing: impl Fn() -> Error,
    change: impl FnMut(&mut T) -> Result<Option<R>>,
) -> Result<Option<R>>
where
    T: Serialize + DeserializeOwned,
{
    swap(store, key, &PutMeta::default(), || Err(missing()), change)
}

/// [`update_json`] writing HTTP metadata with the document (an edge reads it: `routes.json`).
pub fn update_json_with<T, R>(
    store: &dyn Store,
    key: &Key,
    meta: &PutMeta,
    missing: impl Fn() -> Error,
    change: impl FnMut(&mut T) -> Result<Option<R>>,
) -> Result<Option<R>>
where
    T: Serialize + DeserializeOwned,
{
    swap(store, key, meta, || Err(missing()), change)
}

/// [`update_json`] for a document that may not exist yet: `change` is applied to
/// `T::default()` and written create-only, so of two creators one wins and the other applies
/// its change to the winner's document (a running total never loses an addition).
pub fn upsert_json<T, R>(
    store: &dyn Store,
    key: &Key,
    change: impl FnMut(&mut T) -> Result<Option<R>>,
) -> Result<Option<R>>
where
    T: Serialize + DeserializeOwned + Default,
{
    swap(store, key, &PutMeta::default(), || Ok(T::default()), change)
}

/// The compare-and-swap loop; `absent` says what a missing document starts from.
fn swap<T, R>(
    store: &dyn Store,
    key: &Key,
    meta: &PutMeta,
    absent: impl Fn() -> Result<T>,
    mut change: impl FnMut(&mut T) -> Result<Option<R>>,
) -> Result<Option<R>>
where
    T: Serialize + DeserializeOwned,
{
    for attempt in 0..MAX_ATTEMPTS {
        let (mut doc, condition) = match read_json::<T>(store, key)? {
            Some((doc, version)) => (doc, Condition::IfMatch(version)),
            None => (absent()?, Condition::IfAbsent),
        };
        let Some(result) = change(&mut doc)? else {
            return Ok(None);
        };
        match store.put_with(key, &to_json_bytes(&doc), condition, meta) {
            Ok(_) => return Ok(Some(result)),
            Err(StoreError::PreconditionFailed { .. }) => backoff(attempt),
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Busy {
        id: key.to_string(),
        what: "updated",
    })
}

fn backoff(attempt: u32) {
    let mut jitter = [0u8; 1];
    let _ = getrandom::fill(&mut jitter);
    let base = 1u64 << attempt.min(5);
    std::thread::sleep(Duration::from_millis(base + u64::from(jitter[0] % 8)));
}
