//! What a long-running builder (`t8k worker`, `t8k serve --watch`, a reused Lambda container)
//! keeps of a site between two builds, so that one edit to a large site costs about what the
//! edit changed: the last build's manifest (not read back from disk unless another process
//! wrote it since: each writing has its own stamp) and the pages' rows (brought up to date by
//! their revisions, [`t8k_core::db::SiteDb::published_since`]).
//!
//! Everything kept is checked before use and taken out while a build runs: a build that fails
//! leaves nothing behind, and the next one reads from disk and database as a cold one does.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use t8k_core::TenantId;

use crate::incremental::{Manifest, Stamp};
use crate::site::PageData;

type Shared = Arc<Mutex<WarmSite>>;

/// One site's state between builds.
#[derive(Default)]
pub struct WarmSite {
    manifest: Option<(Stamp, Manifest)>,
    /// The database's id and its published pages (without panes) at the last build.
    rows: Option<(String, Vec<PageData>)>,
}

impl WarmSite {
    /// The last build's manifest at `path`, if the file there is still its writing (no
    /// other process built the site since).
    pub(crate) fn take_manifest(&mut self, path: &Path, bundle: &Path) -> Option<Manifest> {
        let (stamp, manifest) = self.manifest.take()?;
        (bundle.is_dir() && Manifest::stamp_of(path) == Some(stamp)).then_some(manifest)
    }

    /// Keeps `manifest`, just written with `stamp`.
    pub(crate) fn keep_manifest(&mut self, stamp: Stamp, manifest: Manifest) {
        self.manifest = Some((stamp, manifest));
    }

    /// The last build's pages, if it read the database `db_id` (the same tenant's database
    /// after a restore or a delete and re-create has another id).
    pub(crate) fn take_rows(&mut self, db_id: &str) -> Option<Vec<PageData>> {
        let (id, rows) = self.rows.take()?;
        (id == db_id).then_some(rows)
    }

    /// Keeps the pages a build read from the database `db_id`, without their panes.
    pub(crate) fn keep_rows(&mut self, db_id: String, mut pages: Vec<PageData>) {
        for p in &mut pages {
            p.panes = vec![];
        }
        self.rows = Some((db_id, pages));
    }
}

/// The sites a long-running builder keeps, at most `limit` of them (the least recently built
/// is dropped first).
pub struct Warm {
    /// Each site's state and when it was last asked for (a counter).
    sites: Mutex<HashMap<TenantId, (u64, Shared)>>,
    limit: usize,
}

impl Warm {
    pub fn new(limit: usize) -> Warm {
        Warm {
            sites: Mutex::default(),
            limit,
        }
    }

    /// The state kept for `id` (new if none is).
    pub fn site(&self, id: &TenantId) -> Shared {
        let mut sites = self.sites.lock().unwrap_or_else(|p| p.into_inner());
        let tick = sites.values().map(|(t, _)| *t).max().unwrap_or(0) + 1;
        if !sites.contains_key(id) && sites.len() >= self.limit.max(1) {
            let oldest = sites
                .iter()
                .min_by_key(|(_, (t, _))| *t)
                .map(|(k, _)| k.clone());
            sites.remove(&oldest.expect("a full map has an oldest entry"));
        }
        let entry = sites.entry(id.clone()).or_default();
        entry.0 = tick;
        entry.1.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_manifest_is_used_only_while_its_file_is_the_one_written() {
        let dir = tempfile::tempdir().unwrap();
        let (path, bundle) = (dir.path().join("acme.pages"), dir.path().join("acme"));
        std::fs::create_dir(&bundle).unwrap();
        let mut site = WarmSite::default();
        let manifest = Manifest::default();
        let stamp = manifest.write(&path).unwrap();
        site.keep_manifest(stamp, manifest);
        assert!(site.take_manifest(&path, &bundle).is_some());
        assert!(
            site.take_manifest(&path, &bundle).is_none(),
            "taken while a build runs"
        );
        // Another process's build rewrote it, with the same bytes but its own stamp.
        site.keep_manifest(stamp, Manifest::default());
        Manifest::default().write(&path).unwrap();
        assert!(site.take_manifest(&path, &bundle).is_none());
        assert!(Manifest::read(&path, &bundle).is_some());
    }

    #[test]
    fn the_least_recently_built_site_is_dropped_first() {
        let warm = Warm::new(2);
        let id = |s: &str| TenantId::trusted(s).unwrap();
        warm.site(&id("a")).lock().unwrap().rows = Some(("db".into(), vec![]));
        warm.site(&id("b"));
        warm.site(&id("a"));
        warm.site(&id("c"));
        let sites = warm.sites.lock().unwrap();
        assert!(sites.contains_key(&id("a")) && sites.contains_key(&id("c")));
        assert!(!sites.contains_key(&id("b")));
        assert!(sites[&id("a")].1.lock().unwrap().rows.is_some());
    }
}
