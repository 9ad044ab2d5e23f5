//! A backup and a prune must not overlap: prune deletes objects no snapshot references, and a
//! backup in progress has stored objects its manifest (written last) does not list yet. Each
//! writes its lock first, then looks for the other kind; whichever looks second sees the
//! first and stops, so at worst both stop — never both run. A lock whose process is gone
//! (same host), or older than [`STALE`], is a dead process's and is ignored.

use serde::{Deserialize, Serialize};

use super::{BackupError, Repo, key};
use crate::store::Condition;
use crate::tenant_config::new_secret;
use crate::timefmt;

/// After this long without being renewed, a lock is a dead process's.
pub const STALE: time::Duration = time::Duration::hours(6);

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Backup,
    Prune,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Backup => "backup",
            Kind::Prune => "prune",
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Held {
    kind: String,
    since: String,
    /// Host, pid and start time: a lock whose process is gone (on this host) is stale at once.
    #[serde(default)]
    process: String,
}

/// A held lock, removed when dropped.
pub struct Lock<'a> {
    repo: &'a Repo,
    key: crate::key::Key,
}

impl Drop for Lock<'_> {
    fn drop(&mut self) {
        let _ = self.repo.store().delete(&self.key);
    }
}

impl Repo {
    /// Takes a lock of `kind`, refused while a live lock of the other kind exists.
    pub fn lock(&self, kind: Kind) -> crate::Result<Lock<'_>> {
        let name = format!("locks/{}-{}.json", kind.as_str(), new_secret());
        let held = Held {
            kind: kind.as_str().into(),
            since: timefmt::now_rfc3339(),
            process: crate::lifecycle::process::current(),
        };
        let k = key(&name)?;
        self.store()
            .put(&k, &crate::cas::to_json_bytes(&held), Condition::IfAbsent)?;
        let lock = Lock { repo: self, key: k };
        let other = match kind {
            Kind::Backup => Kind::Prune,
            Kind::Prune => Kind::Backup,
        };
        if let Some(since) = self.live_lock(other)? {
            return Err(BackupError::Locked(format!(
                "a {} of this repository is running (since {since}); try again when it ends",
                other.as_str()
            ))
            .into());
        }
        Ok(lock)
    }

    /// When the oldest live lock of `kind` was taken, if one is held.
    fn live_lock(&self, kind: Kind) -> crate::Result<Option<String>> {
        let now = timefmt::now();
        let prefix = format!("{}-", kind.as_str());
        let mut oldest: Option<String> = None;
        for e in self.store().list(&key("locks")?)? {
            if !e.key.file_name().starts_with(&prefix) {
                continue;
            }
            let Some((held, _)) = crate::cas::read_json::<Held>(self.store(), &e.key)? else {
                continue;
            };
            let since = time::OffsetDateTime::parse(
                &held.since,
                &time::format_description::well_known::Rfc3339,
            );
            let alive =
                held.process.is_empty() || !crate::lifecycle::process::is_dead(&held.process);
            let fresh = alive && since.is_ok_and(|s| now - s < STALE);
            if fresh && oldest.as_ref().is_none_or(|o| held.since < *o) {
                oldest = Some(held.since);
            }
        }
        Ok(oldest)
    }
}
