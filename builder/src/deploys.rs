//! Deploy history of a tenant: list, roll back (one write to the live pointer), and garbage-
//! collect old deploys — never the live one, never one younger than a grace period (a CDN may
//! still be fetching from it), always keeping the newest N.

use std::collections::HashSet;

use serde::Serialize;
use t8k_core::store::Store;

use crate::publish::{Manifest, SiteId, flip, manifest_key, read_live, read_manifest};

#[derive(Clone, Debug, Serialize)]
pub struct DeployInfo {
    pub deploy: String,
    pub created: String,
    pub objects: usize,
    pub bytes: u64,
    pub live: bool,
}

/// Every deploy manifest of a site, oldest first, and which deploy is live.
fn manifests(
    store: &dyn Store,
    site: &SiteId,
) -> Result<(Option<String>, Vec<Manifest>), t8k_core::Error> {
    let live = read_live(store, site)?.map(|l| l.deploy);
    let prefix = site.key("_deploys")?;
    let mut out = vec![];
    for e in store.list(&prefix)? {
        let Some(name) = e.key.file_name().strip_suffix(".json") else {
            continue;
        };
        out.extend(read_manifest(store, site, name)?);
    }
    out.sort_by(|a, b| a.deploy.cmp(&b.deploy));
    Ok((live, out))
}

/// Every deploy of a tenant, oldest first.
pub fn list(store: &dyn Store, site: &SiteId) -> Result<Vec<DeployInfo>, t8k_core::Error> {
    let (live, all) = manifests(store, site)?;
    Ok(all
        .into_iter()
        .map(|m| DeployInfo {
            live: live.as_deref() == Some(m.deploy.as_str()),
            deploy: m.deploy,
            created: m.created,
            objects: m.objects.len(),
            bytes: m.bytes,
        })
        .collect())
}

/// Makes `deploy` (default: the one before the live one) live again.
pub fn rollback(
    store: &dyn Store,
    site: &SiteId,
    deploy: Option<&str>,
) -> Result<Manifest, t8k_core::Error> {
    let tenant = site.folder();
    let all = list(store, site)?;
    let live_pos = all.iter().position(|d| d.live);
    let target = match deploy {
        Some(d) => all.iter().find(|x| x.deploy == d).ok_or_else(|| {
            t8k_core::Error::invalid(
                "deploy",
                format!("{d:?} is not a deploy of '{tenant}'; `t8k deploys {tenant}` lists them"),
            )
        })?,
        None => match live_pos {
            Some(p) if p > 0 => &all[p - 1],
            _ => {
                return Err(t8k_core::Error::invalid(
                    "rollback",
                    format!(
                        "'{tenant}' has no deploy before the live one; name one with `t8k rollback {tenant} DEPLOY`"
                    ),
                ));
            }
        },
    };
    let manifest = read_manifest(store, site, &target.deploy)?.ok_or_else(|| {
        t8k_core::Error::invalid(
            "deploy",
            format!("{}'s manifest vanished while rolling back", target.deploy),
        )
    })?;
    flip(store, site, &manifest.deploy, &manifest.fingerprint)?;
    Ok(manifest)
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct GcReport {
    pub deleted_deploys: Vec<String>,
    pub deleted_objects: usize,
    pub kept: usize,
}

/// Deletes a tenant's deploys beyond the newest `keep`, except the live one and any created
/// less than `grace_secs` ago. The shared objects the kept deploys list are added to
/// `in_use`, for [`gc_shared`].
pub fn gc(
    store: &dyn Store,
    site: &SiteId,
    keep: usize,
    grace_secs: i64,
    in_use: &mut HashSet<String>,
) -> Result<GcReport, t8k_core::Error> {
    let (live, all) = manifests(store, site)?;
    let now = t8k_core::timefmt::now().unix_timestamp();
    let mut report = GcReport::default();
    let newest = all.len().saturating_sub(keep);
    for (i, m) in all.into_iter().enumerate() {
        let young =
            crate::dates::parse(&m.created).is_some_and(|t| now - t.unix_timestamp() < grace_secs);
        if live.as_deref() == Some(m.deploy.as_str()) || young || i >= newest {
            report.kept += 1;
            in_use.extend(m.shared.into_keys());
            continue;
        }
        let prefix = site.key(&m.deploy)?;
        for e in store.list(&prefix)? {
            store.delete(&e.key)?;
            report.deleted_objects += 1;
        }
        store.delete(&manifest_key(site, &m.deploy)?)?;
        report.deleted_deploys.push(m.deploy);
    }
    Ok(report)
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct SharedGcReport {
    /// Shared objects some deploy lists, or too young to judge.
    pub kept: usize,
    pub deleted: Vec<String>,
}

/// Deletes the shared objects (`sites/_shared/…`) that no kept deploy lists (`in_use`, from
/// [`gc`] of every site) and that are older than `grace_secs` — a publish uploads its shared
/// objects before it writes the manifest that lists them.
pub fn gc_shared(
    store: &dyn Store,
    in_use: &HashSet<String>,
    grace_secs: i64,
) -> Result<SharedGcReport, t8k_core::Error> {
    let now = t8k_core::timefmt::now().unix_timestamp();
    let root = t8k_core::shared::root();
    let mut report = SharedGcReport::default();
    for e in store.list(&root)? {
        let Some(rel) = e.key.strip_prefix(&root) else {
            continue;
        };
        // An object whose age the store does not tell is kept: it may be in flight.
        let old = e.modified.is_some_and(|t| now - t >= grace_secs);
        if in_use.contains(rel) || !old {
            report.kept += 1;
            continue;
        }
        store.delete(&e.key)?;
        report.deleted.push(rel.to_owned());
    }
    Ok(report)
}
