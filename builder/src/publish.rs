//! Publishing bundles as immutable deploys: `sites/{tenant}/{deploy}/…` in a bundle store (the
//! data root's bucket or `--to`), then one write flips the tenant's live pointer
//! (`sites/{tenant}/live.json`), and `routes.json` — the edge map a CDN function, nginx or
//! `t8k serve` reads — is regenerated.
//!
//! Bytes already published are never sent again: each deploy has a manifest
//! (`sites/{tenant}/_deploys/{deploy}.json`: path → SHA-256, size), and an object whose hash
//! the live deploy already holds is carried into the new deploy by a server-side copy. A bundle
//! identical to the live deploy makes no deploy at all (no writes). Nothing here needs
//! conditional writes, so the bundle store may be any S3-compatible store; each tenant's
//! pointer is written only by that tenant's publish.
//!
//! Shared objects (theme assets, image variants: [`t8k_core::shared`]) go to
//! `sites/_shared/` once for every tenant: the store's list of them is read once per run, and
//! only those it lacks are uploaded, before any deploy that references them flips.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use t8k_core::Key;
use t8k_core::lifecycle::Installation;
use t8k_core::store::{Condition, PutMeta, Store};

pub use t8k_core::routes::{
    Live, Route, Routes, SiteId, live_key, read_live, routes_key, write_routes,
};

use crate::fingerprint::Record;
use crate::history::{Attempt, Stage};
use crate::shared_dir::SharedDir;

/// One object of a deploy.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ObjectInfo {
    pub sha256: String,
    pub size: u64,
}

/// `sites/{tenant}/_deploys/{deploy}.json`
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub tenant: String,
    pub deploy: String,
    pub created: String,
    /// The build fingerprint the deploy was made from.
    pub fingerprint: String,
    pub bytes: u64,
    pub objects: BTreeMap<String, ObjectInfo>,
    /// The shared objects (`sites/_shared/{rel}`) its pages reference; `t8k gc` keeps every
    /// one a kept deploy lists.
    #[serde(default)]
    pub shared: BTreeMap<String, ObjectInfo>,
}

/// What publishing one site did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PublishStatus {
    /// A new deploy is live.
    Published,
    /// The live deploy already held these bytes (or this build): nothing was sent.
    Unchanged,
    #[default]
    Failed,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct TenantPublish {
    pub tenant: String,
    pub status: PublishStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deploy: Option<String>,
    pub uploaded: Vec<String>,
    pub copied: usize,
    /// Shared objects this site was the first to need in the bundle store.
    pub shared_uploaded: usize,
    /// Bytes of its own objects and of the shared ones it uploaded.
    pub bytes_sent: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct PublishSummary {
    pub tenants: usize,
    pub published: usize,
    pub unchanged: usize,
    pub failed: usize,
    pub objects_uploaded: usize,
    pub objects_copied: usize,
    /// Shared objects (theme assets, image variants) uploaded once for every site.
    pub shared_uploaded: usize,
    pub bytes_sent: u64,
    pub requests: u64,
    pub seconds: f64,
    pub details: Vec<TenantPublish>,
}

/// `sites/{site}/_deploys/{deploy}.json`.
pub fn manifest_key(site: &SiteId, deploy: &str) -> Result<Key, t8k_core::Error> {
    site.key(&format!("_deploys/{deploy}.json"))
}

/// `sites/{site}/{deploy}/{path}`.
pub fn object_key(site: &SiteId, deploy: &str, path: &str) -> Result<Key, t8k_core::Error> {
    site.key(&format!("{deploy}/{path}"))
}

pub fn read_manifest(
    store: &dyn Store,
    site: &SiteId,
    deploy: &str,
) -> Result<Option<Manifest>, t8k_core::Error> {
    Ok(t8k_core::cas::read_json::<Manifest>(store, &manifest_key(site, deploy)?)?.map(|(m, _)| m))
}

/// Content type and cache policy of a bundle file (the preview server uses the same rules).
pub fn meta_for(path: &str, sha256: &str) -> PutMeta {
    PutMeta {
        content_type: Some(crate::http::content_type(path)),
        cache_control: Some(crate::http::cache_control(path).into()),
        sha256: Some(sha256.into()),
    }
}

/// Every file of a bundle folder: relative path → bytes.
fn read_bundle(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, t8k_core::Error> {
    let files = crate::tree::read(dir).map_err(|(path, source)| t8k_core::Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(files.into_iter().collect())
}

/// A sortable, unique deploy id: UTC time, then a hash of the manifest.
fn deploy_id(objects: &BTreeMap<String, ObjectInfo>) -> String {
    let mut h = Sha256::new();
    for (p, o) in objects {
        h.update(p.as_bytes());
        h.update(o.sha256.as_bytes());
    }
    let mut rand = [0u8; 2];
    getrandom::fill(&mut rand).expect("the OS random source is available");
    format!(
        "{}-{}{}",
        t8k_core::timefmt::compact(t8k_core::timefmt::now()),
        &hex::encode(h.finalize())[..8],
        hex::encode(rand)
    )
}

/// The shared objects a bundle store holds: listed once per publish run, then added to as the
/// run uploads, so 1,000 sites on one theme upload its assets once.
pub struct SharedObjects {
    present: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl SharedObjects {
    pub fn list(target: &dyn Store) -> Result<SharedObjects, t8k_core::Error> {
        let root = t8k_core::shared::root();
        let present = target
            .list_keys(&root)?
            .iter()
            .filter_map(|k| k.strip_prefix(&root).map(str::to_owned))
            .collect();
        Ok(SharedObjects {
            present: std::sync::Mutex::new(present),
        })
    }

    fn has(&self, rel: &str) -> bool {
        self.present.lock().expect("shared list").contains(rel)
    }

    /// Uploads `rel` from `{bundles}/_shared/` unless the store has it; returns the bytes
    /// sent. The file must still hold the bytes its build recorded.
    fn ensure(
        &self,
        target: &dyn Store,
        bundles: &Path,
        rel: &str,
        info: &ObjectInfo,
    ) -> Result<u64, t8k_core::Error> {
        if self.has(rel) {
            return Ok(0);
        }
        let bytes = SharedDir::in_out(bundles).read(rel)?;
        if t8k_core::secrets::sha256_hex(&bytes) != info.sha256 {
            return Err(t8k_core::Error::invalid(
                format!("shared object {rel}"),
                "it changed since the build that references it; run `t8k build` again",
            ));
        }
        let key = t8k_core::shared::key(rel)?;
        let meta = meta_for(&t8k_core::shared::url(rel), &info.sha256);
        target.put_with(&key, &bytes, Condition::None, &meta)?;
        self.present
            .lock()
            .expect("shared list")
            .insert(rel.to_owned());
        Ok(bytes.len() as u64)
    }
}

/// Publishes one built bundle (`{bundles}/{site}/`) to `target`.
pub fn publish_tenant(
    target: &dyn Store,
    bundles: &Path,
    site: &SiteId,
    changed_only: bool,
    pool: &rayon::ThreadPool,
    shared: &SharedObjects,
) -> TenantPublish {
    let started = std::time::Instant::now();
    let tenant = site.folder();
    let mut out = TenantPublish {
        tenant: tenant.to_owned(),
        ..Default::default()
    };
    match try_publish(target, bundles, site, changed_only, pool, shared, &mut out) {
        Ok(status) => out.status = status,
        Err(e) => {
            out.status = PublishStatus::Failed;
            out.error = Some(format!("tenant '{tenant}': {e}"));
        }
    }
    let ms = started.elapsed().as_secs_f64() * 1e3;
    match &out.error {
        Some(e) => tracing::warn!(tenant, ms, error = %e, "publish failed"),
        None => {
            tracing::debug!(tenant, status = ?out.status, uploaded = out.uploaded.len(), copied = out.copied, ms, "publish")
        }
    }
    // Advisory: publishing only reads the bundles, whose folder may be a read-only CI artifact;
    // a publish that worked is not reported as failed for want of a history line.
    let attempt = Attempt::now(Stage::Publish, out.error.as_deref().map_or(Ok(()), Err));
    let _ = crate::history::append(bundles, tenant, &attempt);
    out
}

fn try_publish(
    target: &dyn Store,
    bundles: &Path,
    site: &SiteId,
    changed_only: bool,
    pool: &rayon::ThreadPool,
    shared: &SharedObjects,
    out: &mut TenantPublish,
) -> Result<PublishStatus, t8k_core::Error> {
    let tenant = site.folder();
    let bundle = bundles.join(tenant);
    let record = Record::read(&bundles.join(format!("{tenant}.build.json"))).ok_or_else(|| {
        t8k_core::Error::invalid(
            format!("tenant '{tenant}'"),
            format!(
                "it has no build in {}; run `t8k build {tenant}` first",
                bundles.display()
            ),
        )
    })?;
    if !bundle.is_dir() {
        return Err(t8k_core::Error::invalid(
            format!("tenant '{tenant}'"),
            "its bundle folder is missing; run `t8k build` first",
        ));
    }
    let live = read_live(target, site)?;
    if changed_only
        && live
            .as_ref()
            .is_some_and(|l| l.fingerprint == record.fingerprint)
    {
        return Ok(PublishStatus::Unchanged);
    }
    let previous = match &live {
        Some(l) => read_manifest(target, site, &l.deploy)?,
        None => None,
    };
    let files = read_bundle(&bundle)?;
    let objects: BTreeMap<String, ObjectInfo> = files
        .iter()
        .map(|(p, b)| {
            (
                p.clone(),
                ObjectInfo {
                    sha256: t8k_core::secrets::sha256_hex(b),
                    size: b.len() as u64,
                },
            )
        })
        .collect();
    if let Some(prev) = &previous
        && prev.objects == objects
        && prev.shared == record.shared
    {
        // Same bytes as the live deploy: record the new fingerprint, publish nothing.
        if live
            .as_ref()
            .is_some_and(|l| l.fingerprint != record.fingerprint)
        {
            let prev_deploy = prev.deploy.clone();
            flip(target, site, &prev_deploy, &record.fingerprint)?;
        }
        return Ok(PublishStatus::Unchanged);
    }
    // Where each hash already lives in the previous deploy, for server-side copies.
    let mut have: BTreeMap<&str, &str> = BTreeMap::new();
    if let Some(prev) = &previous {
        for (p, o) in &prev.objects {
            have.entry(o.sha256.as_str()).or_insert(p.as_str());
        }
    }
    let deploy = deploy_id(&objects);
    let uploaded = std::sync::Mutex::new(Vec::new());
    let copied = AtomicU64::new(0);
    let sent = AtomicU64::new(0);
    let shared_sent = AtomicU64::new(0);
    // Shared objects first: a deploy never flips before everything it references is there.
    pool.install(|| {
        record
            .shared
            .par_iter()
            .try_for_each(|(rel, info)| -> Result<(), t8k_core::Error> {
                let n = shared.ensure(target, bundles, rel, info)?;
                if n > 0 {
                    sent.fetch_add(n, Ordering::Relaxed);
                    shared_sent.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            })
    })?;
    pool.install(|| {
        files
            .par_iter()
            .try_for_each(|(path, bytes)| -> Result<(), t8k_core::Error> {
                let info = &objects[path];
                let dest = object_key(site, &deploy, path)?;
                match (have.get(info.sha256.as_str()), &previous) {
                    (Some(src_path), Some(prev)) => {
                        target.copy(&object_key(site, &prev.deploy, src_path)?, &dest)?;
                        copied.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        target.put_with(
                            &dest,
                            bytes,
                            Condition::None,
                            &meta_for(path, &info.sha256),
                        )?;
                        sent.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                        uploaded.lock().expect("upload list").push(path.clone());
                    }
                }
                Ok(())
            })
    })?;
    let manifest = Manifest {
        tenant: tenant.to_owned(),
        deploy: deploy.clone(),
        created: t8k_core::timefmt::now_rfc3339(),
        fingerprint: record.fingerprint.clone(),
        bytes: objects.values().map(|o| o.size).sum(),
        objects,
        shared: record.shared.clone(),
    };
    target.put(
        &manifest_key(site, &deploy)?,
        &t8k_core::cas::to_json_bytes(&manifest),
        Condition::None,
    )?;
    // Every object is in place: flip.
    flip(target, site, &deploy, &record.fingerprint)?;
    out.deploy = Some(deploy);
    let mut up = uploaded.into_inner().expect("upload list");
    up.sort();
    out.uploaded = up;
    out.copied = copied.load(Ordering::Relaxed) as usize;
    out.shared_uploaded = shared_sent.load(Ordering::Relaxed) as usize;
    out.bytes_sent = sent.load(Ordering::Relaxed);
    Ok(PublishStatus::Published)
}

/// Points a tenant at a deploy: the one write that makes it live.
pub fn flip(
    target: &dyn Store,
    site: &SiteId,
    deploy: &str,
    fingerprint: &str,
) -> Result<(), t8k_core::Error> {
    let live = Live {
        deploy: deploy.to_owned(),
        fingerprint: fingerprint.to_owned(),
        flipped: t8k_core::timefmt::now_rfc3339(),
    };
    target.put(
        &live_key(site),
        &t8k_core::cas::to_json_bytes(&live),
        Condition::None,
    )?;
    Ok(())
}

pub struct PublishRequest {
    pub tenants: Vec<String>,
    /// Publish only this shard of the tenants (the same split as `t8k build --shard`).
    pub shard: Option<crate::Shard>,
    pub changed_only: bool,
    pub concurrency: usize,
    pub bundles: std::path::PathBuf,
    pub include_main: bool,
    /// How `routes.json` follows the flips.
    pub routing: Routing,
}

/// How a publish brings `routes.json` up to date.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Routing {
    /// Regenerated from the host table and every site's live pointer (a batch publish: one
    /// pass over every site, whatever was published).
    #[default]
    Rebuild,
    /// Only the published tenants' routes, each by compare-and-swap: no other site's pointer
    /// is read, so a worker's publish costs the same at ten tenants or ten thousand.
    Published,
}

/// Publishes the selected tenants (and the main site), then regenerates `routes.json`.
pub fn publish(
    inst: &Installation,
    target: &dyn Store,
    req: &PublishRequest,
    progress: &(dyn Fn(&TenantPublish) + Sync),
) -> Result<PublishSummary, t8k_core::Error> {
    let started = Instant::now();
    let build_req = crate::BuildRequest {
        tenants: req.tenants.clone(),
        mode: Default::default(),
        shard: req.shard,
        out: req.bundles.clone(),
        include_main: false,
        planned: None,
    };
    let mut sites: Vec<SiteId> = crate::select(inst, &build_req)?
        .into_iter()
        .map(SiteId::Tenant)
        .collect();
    if req.include_main {
        sites.push(SiteId::Main);
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(req.concurrency.max(1))
        .thread_name(|i| format!("t8k-publish-{i}"))
        .build()
        .map_err(|e| t8k_core::Error::invalid("--concurrency", e.to_string()))?;
    let shared = SharedObjects::list(target)?;
    let mut details = vec![];
    for site in &sites {
        let d = publish_tenant(target, &req.bundles, site, req.changed_only, &pool, &shared);
        progress(&d);
        details.push(d);
    }
    let own_routes = req.routing == Routing::Published && target.head(&routes_key())?.is_some();
    if own_routes {
        for site in &sites {
            if let SiteId::Tenant(id) = site {
                inst.routing_changed(target, id)?;
            }
        }
    } else {
        write_routes(target, &inst.host_map()?)?;
    }
    let count = |s: PublishStatus| details.iter().filter(|d| d.status == s).count();
    Ok(PublishSummary {
        tenants: details.len(),
        published: count(PublishStatus::Published),
        unchanged: count(PublishStatus::Unchanged),
        failed: count(PublishStatus::Failed),
        objects_uploaded: details.iter().map(|d| d.uploaded.len()).sum(),
        objects_copied: details.iter().map(|d| d.copied).sum(),
        shared_uploaded: details.iter().map(|d| d.shared_uploaded).sum(),
        bytes_sent: details.iter().map(|d| d.bytes_sent).sum(),
        requests: details
            .iter()
            .map(|d| (d.uploaded.len() + d.copied + d.shared_uploaded) as u64)
            .sum(),
        seconds: started.elapsed().as_secs_f64(),
        details,
    })
}
