//! `t8k deploys`, `t8k rollback`, `t8k gc`.

use anyhow::Result;
use t8k_builder::publish::SiteId;
use t8k_builder::{deploys, publish};
use t8k_core::lifecycle::Installation;

use super::publish::with_target;
use crate::cli::ToArgs;
use crate::{UsageError, output};

pub fn list(inst: &Installation, tenant: &str, to: &ToArgs, json: bool) -> Result<()> {
    let name = site_name(inst, tenant)?;
    let all = with_target(inst, to, |store| Ok(deploys::list(store, &name)?))?;
    output::emit(json, &all, || {
        if all.is_empty() {
            println!("'{name}' has no deploys yet; `t8k publish {name}` makes one.");
            return;
        }
        let rows = all
            .iter()
            .map(|d| {
                vec![
                    d.deploy.clone(),
                    d.created.clone(),
                    d.objects.to_string(),
                    t8k_core::quota::format_size(d.bytes),
                    if d.live { "live".into() } else { String::new() },
                ]
            })
            .collect();
        println!(
            "{}",
            output::table(&["deploy", "created", "objects", "bytes", ""], rows)
        );
    });
    Ok(())
}

/// A tenant of the registry, or `_main` for the main domain's site.
fn site_name(inst: &Installation, tenant: &str) -> Result<SiteId> {
    if tenant == t8k_builder::main_site::DIR {
        return Ok(SiteId::Main);
    }
    Ok(SiteId::Tenant(inst.entry(tenant)?.1))
}

pub fn rollback(
    inst: &Installation,
    tenant: &str,
    deploy: Option<&str>,
    to: &ToArgs,
    json: bool,
) -> Result<()> {
    let name = site_name(inst, tenant)?;
    let m = with_target(inst, to, |store| {
        let m = deploys::rollback(store, &name, deploy)?;
        publish::write_routes(store, &inst.host_map()?)?;
        Ok(m)
    })?;
    output::emit(
        json,
        &serde_json::json!({"tenant": name.folder(), "live": m.deploy}),
        || println!("'{name}' is now serving deploy {}.", m.deploy),
    );
    Ok(())
}

/// Sweeps the data root's image-variant cache of originals no tenant's media lists.
fn sweep_images(inst: &Installation, grace: i64) -> Result<t8k_core::images::SweepReport> {
    let mut in_use = std::collections::HashSet::new();
    for entry in inst.list()?.iter() {
        let id = entry.tenant_id()?;
        let db = t8k_core::db::SiteDb::open_read_only(inst.store(), &id)?;
        in_use.extend(db.media_files()?.into_iter().map(|m| m.sha256));
    }
    Ok(t8k_core::images::sweep(inst.store(), &in_use, grace)?)
}

/// Parses `90s`, `30m`, `1h`, `2d` (or plain seconds).
fn parse_duration(s: &str) -> Result<i64> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| UsageError(format!("--grace {s:?}: write it like 90s, 30m, 1h or 2d")))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => {
            return Err(UsageError(format!("--grace {s:?}: the unit must be s, m, h or d")).into());
        }
    };
    Ok(n * mult)
}

pub fn gc(inst: &Installation, keep: usize, grace: &str, to: &ToArgs, json: bool) -> Result<()> {
    if keep == 0 {
        return Err(UsageError(
            "--keep must be at least 1 (the live deploy is always kept anyway)".into(),
        )
        .into());
    }
    let grace = parse_duration(grace)?;
    let mut names = inst
        .list()?
        .iter()
        .map(|t| Ok(SiteId::Tenant(t.tenant_id()?)))
        .collect::<Result<Vec<_>>>()?;
    names.push(SiteId::Main);
    let (reports, shared) = with_target(inst, to, |store| {
        let mut in_use = std::collections::HashSet::new();
        let reports = names
            .iter()
            .map(|n| {
                Ok((
                    n.to_string(),
                    deploys::gc(store, n, keep, grace, &mut in_use)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((reports, deploys::gc_shared(store, &in_use, grace)?))
    })?;
    let images = sweep_images(inst, grace)?;
    let sites: Vec<_> = reports
        .iter()
        .map(|(n, r)| serde_json::json!({"tenant": n, "report": r}))
        .collect();
    output::emit(
        json,
        &serde_json::json!({"sites": sites, "shared": shared, "images": images}),
        || {
            let deleted: usize = reports.iter().map(|(_, r)| r.deleted_deploys.len()).sum();
            let objects: usize = reports.iter().map(|(_, r)| r.deleted_objects).sum();
            println!(
                "Deleted {deleted} old deploys ({objects} objects) and {} shared objects no kept deploy uses; kept the newest {keep}, live ones and anything younger than the grace period.",
                shared.deleted.len()
            );
            println!(
                "Deleted the variants of {} images no tenant has any more ({} files, {}).",
                images.originals,
                images.variants,
                t8k_core::quota::format_size(images.bytes)
            );
        },
    );
    Ok(())
}
