//! Change notification for a local data root (Linux inotify), so the hot read path can trust
//! its cached documents without a `statx` per document per request. The watcher is polled, not
//! run on a thread: every cached read first drains the queue with one non-blocking `read`.
//! The kernel queues an event inside the system call that made the change (the rename of a
//! new env.json, a SQLite commit's write to the WAL), so any change that finished before a
//! request began is seen by that request. When the queue overflows, everything counts as
//! changed. Where a watch cannot be added (no inotify, watch limit reached), the cache falls
//! back to checking each document with `statx` — as it always does outside Linux, where
//! [`Watcher::new`] gives none (the same path the tests take with inotify turned off).

use std::ffi::OsStr;

use t8k_core::TenantId;

#[cfg(target_os = "linux")]
mod inotify;
#[cfg(target_os = "linux")]
pub use inotify::Watcher;

#[cfg(not(target_os = "linux"))]
mod polling;
#[cfg(not(target_os = "linux"))]
pub use polling::Watcher;

/// What a watched folder holds, and so which cached values its events invalidate.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `config/t8k/`: the registry document.
    Registry,
    /// `config/t8k/tenants/`: one entry per tenant.
    Entries,
    /// `config/t8k/hosts/`: host → tenant keys.
    Hosts,
    /// `config/{tenant}/`: env.json.
    Config(TenantId),
    /// `db/{tenant}/`: the database and its WAL.
    Db(TenantId),
    /// `stats/{tenant}/bandwidth/`: bytes served per month.
    Stats(TenantId),
    /// `queue/builds/`: build requests (`t8k worker` waits on it).
    Queue,
}

impl Scope {
    /// Whether an event about `name` in this folder can change what the cache holds.
    pub(crate) fn cares_about(&self, name: Option<&OsStr>) -> bool {
        let Some(name) = name.and_then(OsStr::to_str) else {
            return true;
        };
        match self {
            Scope::Registry => name == "tenants.json",
            Scope::Entries | Scope::Hosts | Scope::Queue => true,
            Scope::Config(_) => name == "env.json",
            // The shared-memory index changes without data changing.
            Scope::Db(_) => !name.ends_with("-shm"),
            Scope::Stats(_) => name.ends_with(".json"),
        }
    }
}

/// What changed since the last poll.
pub enum Changed {
    Nothing,
    Scopes(Vec<Scope>),
    /// Events were lost (queue overflow) or the queue could not be read.
    All,
}
