//! The Linux watcher: one inotify instance, polled with a non-blocking `read`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use inotify::{EventMask, Inotify, WatchDescriptor, WatchMask};

use super::{Changed, Scope};

struct Inner {
    inotify: Inotify,
    by_wd: HashMap<WatchDescriptor, Scope>,
    by_scope: HashMap<Scope, WatchDescriptor>,
    buf: Vec<u8>,
}

pub struct Watcher {
    inner: Mutex<Inner>,
}

fn mask() -> WatchMask {
    WatchMask::MODIFY
        | WatchMask::CLOSE_WRITE
        | WatchMask::ATTRIB
        | WatchMask::CREATE
        | WatchMask::DELETE
        | WatchMask::MOVED_FROM
        | WatchMask::MOVED_TO
        | WatchMask::DELETE_SELF
        | WatchMask::MOVE_SELF
}

impl Watcher {
    pub fn new() -> Option<Watcher> {
        let inotify = Inotify::init().ok()?;
        Some(Watcher {
            inner: Mutex::new(Inner {
                inotify,
                by_wd: HashMap::new(),
                by_scope: HashMap::new(),
                buf: vec![0; 16 * 1024],
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Watches `dir` for `scope` (once); false when it cannot be watched. Call it before
    /// reading what the folder holds, so no change slips between the read and the watch.
    pub fn watch(&self, dir: &Path, scope: &Scope) -> bool {
        let mut inner = self.lock();
        if inner.by_scope.contains_key(scope) {
            return true;
        }
        let Ok(wd) = inner.inotify.watches().add(dir, mask()) else {
            return false;
        };
        // Two scopes never share a folder, but a folder moved and re-created gets a new one.
        if let Some(old) = inner.by_wd.insert(wd.clone(), scope.clone()) {
            inner.by_scope.remove(&old);
        }
        inner.by_scope.insert(scope.clone(), wd);
        true
    }

    /// Blocks until an event is queued or `timeout` passes (without draining: [`Self::changes`]
    /// reads what came). For a process that waits for work, such as `t8k worker`.
    pub fn wait(&self, timeout: std::time::Duration) {
        use std::os::fd::AsRawFd;
        let fd = self.lock().inotify.as_raw_fd();
        let mut poll = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd for the duration of the call; the fd stays open (self).
        unsafe { libc::poll(&mut poll, 1, ms) };
    }

    /// Drains the queue without blocking.
    pub fn changes(&self) -> Changed {
        let mut inner = self.lock();
        let Inner {
            inotify,
            by_wd,
            by_scope,
            buf,
        } = &mut *inner;
        let mut changed = vec![];
        loop {
            let events = match inotify.read_events(buf) {
                Ok(events) => events,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => return Changed::All,
            };
            for ev in events {
                if ev.mask.contains(EventMask::Q_OVERFLOW) {
                    return Changed::All;
                }
                let Some(scope) = by_wd.get(&ev.wd).cloned() else {
                    continue;
                };
                let gone = ev
                    .mask
                    .intersects(EventMask::IGNORED | EventMask::DELETE_SELF | EventMask::MOVE_SELF);
                if gone {
                    // The folder itself went away (a tenant moved to the trash): forget the
                    // watch, so the folder that replaces it is watched afresh.
                    by_wd.remove(&ev.wd);
                    by_scope.remove(&scope);
                }
                if (gone || scope.cares_about(ev.name)) && !changed.contains(&scope) {
                    changed.push(scope);
                }
            }
        }
        if changed.is_empty() {
            Changed::Nothing
        } else {
            Changed::Scopes(changed)
        }
    }
}
