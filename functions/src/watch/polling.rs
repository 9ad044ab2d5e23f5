//! Outside Linux there is no watcher: the cache checks each document with `statx` instead (the
//! path the tests also take with inotify turned off, so it stays tested on Linux).

use std::path::Path;

use super::{Changed, Scope};

pub struct Watcher;

impl Watcher {
    /// Never a watcher here; the cache falls back to checking each document.
    pub fn new() -> Option<Watcher> {
        None
    }

    pub fn watch(&self, _dir: &Path, _scope: &Scope) -> bool {
        false
    }

    pub fn wait(&self, timeout: std::time::Duration) {
        std::thread::sleep(timeout);
    }

    pub fn changes(&self) -> Changed {
        Changed::All
    }
}
