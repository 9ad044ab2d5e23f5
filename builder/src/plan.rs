//! `t8k build --changed` at any number of tenants: which sites may have changed, decided from
//! what records changes rather than by opening every tenant's database —
//!
//! - the build queue (`queue/builds/`): every write that changes a tenant's content or its
//!   env.json queues the tenant (`t8k_core::db::with_write`, `TenantConfig::update`);
//! - tenants without a bundle here yet: the registry's entries listed against this bundle
//!   folder's listing (two listings, no reads);
//! - the pass: the builder version, every theme's fingerprint and every published theme's
//!   channels at the last `--changed` run (`{out}/_changed.json`). When one of them differs,
//!   every tenant may render differently, so every active tenant is fingerprinted, as a plain
//!   `--changed` always did;
//! - the banners: a maintenance notice that started or ended since the pass is a change of
//!   the tenants it concerns (of every tenant, for a notice to all).
//!
//! A no-op at 100,000 tenants is therefore a few listings (bundles, registry entries, published
//! themes, notices) and the queue. Changes made behind
//! t8k's back (a database edited by hand) leave no trace in the queue: `--rescan`
//! fingerprints every tenant.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};
use t8k_core::TenantId;
use t8k_core::lifecycle::Installation;
use t8k_core::store::Version;

use crate::{Shard, Themes, fingerprint};

/// What a `--changed` build must look at.
pub struct Plan {
    /// Every active tenant must be fingerprinted (the builder or a theme changed since the
    /// last pass, or no pass is recorded in this bundle folder).
    pub rescan: bool,
    /// Otherwise the tenants that may have changed: active, in id order.
    pub tenants: Vec<TenantId>,
    /// The queue's requests, to clear for each tenant built (or found unchanged).
    pub queued: Vec<(TenantId, Version)>,
}

/// The builder and the themes a pass rendered with, and the banners it showed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pass {
    builder: String,
    themes: BTreeMap<String, String>,
    /// Each published theme's channels (channel → version): moving one changes the sites
    /// that follow it.
    #[serde(default)]
    releases: BTreeMap<String, BTreeMap<String, u32>>,
    /// The banners current at the pass, each with its tenants (`None`: every tenant). One that
    /// starts or ends since is a change of exactly its tenants.
    #[serde(default)]
    banners: BTreeMap<String, Option<Vec<String>>>,
}

/// `_changed.json`, or `_changed.{i}-{n}.json` for a shard (each runner covers its own).
fn pass_file(shard: Option<Shard>) -> String {
    match shard {
        Some(s) => format!("_changed.{}-{}.json", s.index, s.count),
        None => "_changed.json".into(),
    }
}

impl Pass {
    /// The current builder, every theme in the themes folder, the channels of the published
    /// ones and the banners up now (`None` if a theme does not load: then every tenant is
    /// looked at, and those on the broken theme report it).
    pub fn current(themes: &Themes, store: &dyn t8k_core::Store) -> Option<Pass> {
        let mut fingerprints = BTreeMap::new();
        for name in themes.names() {
            let theme = themes.get(&name).ok()?;
            fingerprints.insert(name, theme.fingerprint.clone());
        }
        let mut releases = BTreeMap::new();
        for name in t8k_core::themes::published_names(store).ok()? {
            let index = themes.index(store, &name).ok()??;
            releases.insert(name, index.channels.clone());
        }
        let now = t8k_core::timefmt::now();
        let banners = t8k_core::notices::banner_ids(&themes.notices(store), now)
            .into_iter()
            .collect();
        Some(Pass {
            builder: fingerprint::BUILDER_VERSION.into(),
            themes: fingerprints,
            releases,
            banners,
        })
    }

    /// The same builder, themes and channels (banners aside).
    fn same_release(&self, other: &Pass) -> bool {
        (&self.builder, &self.themes, &self.releases)
            == (&other.builder, &other.themes, &other.releases)
    }

    /// The tenants whose banners differ between two passes (`None`: every tenant).
    fn banner_changes(&self, before: &Pass) -> Option<BTreeSet<String>> {
        let mut out = BTreeSet::new();
        let (now, then) = (&self.banners, &before.banners);
        for (id, who) in now.iter().chain(then.iter()) {
            if now.get(id) == then.get(id) {
                continue;
            }
            out.extend(who.clone()?);
        }
        Some(out)
    }

    fn read(out: &Path, shard: Option<Shard>) -> Option<Pass> {
        serde_json::from_slice(&std::fs::read(out.join(pass_file(shard))).ok()?).ok()
    }

    /// Records a finished pass, so the next `--changed` can trust the queue.
    pub fn record(&self, out: &Path, shard: Option<Shard>) -> std::io::Result<()> {
        std::fs::create_dir_all(out)?;
        let bytes = serde_json::to_vec_pretty(self).expect("a pass serialises");
        t8k_core::atomic::write_file(&out.join(pass_file(shard)), &bytes)
    }
}

/// Plans a `--changed` build into `out` (of one shard's tenants, with `shard`).
pub fn changed(
    inst: &Installation,
    pass: Option<&Pass>,
    out: &Path,
    shard: Option<Shard>,
) -> Result<Plan, t8k_core::Error> {
    let mine = |id: &TenantId| shard.is_none_or(|s| s.contains(id.as_str()));
    let mut queued = t8k_core::queue::pending(inst.store())?;
    queued.retain(|(id, _)| mine(id));
    let banners = match (pass, Pass::read(out, shard)) {
        (Some(now), Some(then)) if now.same_release(&then) => now.banner_changes(&then),
        _ => None,
    };
    let Some(banners) = banners else {
        return Ok(Plan {
            rescan: true,
            tenants: vec![],
            queued,
        });
    };
    let built = bundles_in(out);
    let mut maybe: BTreeSet<TenantId> = queued.iter().map(|(id, _)| id.clone()).collect();
    for tenant in banners {
        if let Ok(id) = TenantId::trusted(&tenant)
            && mine(&id)
        {
            maybe.insert(id);
        }
    }
    inst.registry()?;
    for id in t8k_core::registry::entries::ids(inst.store())? {
        if mine(&id) && !built.contains(id.as_str()) {
            maybe.insert(id);
        }
    }
    let mut tenants = vec![];
    for id in maybe {
        // Deleted, unfinished or inactive tenants are not built.
        if let Ok((entry, _)) = inst.entry(id.as_str())
            && entry.active
        {
            tenants.push(id);
        }
    }
    Ok(Plan {
        rescan: false,
        tenants,
        queued,
    })
}

/// Sites with both a bundle folder and a build record in `out` (one listing).
fn bundles_in(out: &Path) -> BTreeSet<String> {
    let mut seen: HashMap<String, u8> = HashMap::new();
    let Ok(dir) = std::fs::read_dir(out) else {
        return BTreeSet::new();
    };
    for item in dir.flatten() {
        let name = item.file_name().to_string_lossy().into_owned();
        let (site, bit) = match name.strip_suffix(".build.json") {
            Some(site) => (site.to_owned(), 1),
            None if item.file_type().is_ok_and(|t| t.is_dir()) => (name, 2),
            None => continue,
        };
        *seen.entry(site).or_default() |= bit;
    }
    seen.into_iter()
        .filter(|(_, bits)| *bits == 3)
        .map(|(site, _)| site)
        .collect()
}
