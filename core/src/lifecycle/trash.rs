//! Delete moves everything keyed by a tenant's id ([`layout::tenant_families`]: config,
//! databases, media, usage, raw events, build requests, bundles and build history, published
//! deploys) to `trash/{id}-{stamp}-{rand}/` with a copy of its registry entry, and drops its
//! hosts from `routes.json`; restore moves the newest such copy back. Both are resumable:
//! delete first marks the entry `deleting` and records the trash key in it, so a re-run after
//! a crash finishes moving into the same place.

use serde::Serialize;

use super::Installation;
use crate::cas::{read_json, to_json_bytes};
use crate::error::{Error, Result};
use crate::key::Key;
use crate::key::layout::{self, Family};
use crate::name::TenantId;
use crate::registry::{Status, TenantEntry, entries};
use crate::store::{Condition, Store};
use crate::tenant_config::new_secret;
use crate::timefmt;

const TRASH_FIELD: &str = "trash";

/// One restorable copy in the trash.
#[derive(Clone, Debug, Serialize)]
pub struct TrashItem {
    pub id: String,
    pub key: String,
    pub deleted: String,
}

/// Moves one family (a folder, or a single object) from `from` to `to`; nothing there is
/// nothing to move.
pub(super) fn move_family(store: &dyn Store, family: &Family, from: &Key, to: &Key) -> Result<()> {
    if family.folder || store.local_path(from).is_some() {
        // A local rename moves a file as well as a folder, atomically.
        store.move_prefix(from, to)?;
    } else if store.head(from)?.is_some() {
        store.copy(from, to)?;
        store.delete(from)?;
    }
    Ok(())
}

impl Installation {
    /// A tenant's published deploys in a bundle store of its own (`--to`), moved to or from the
    /// same trash key there, with that store's `routes.json` following the registry.
    fn move_deploys(
        &self,
        bundles: &dyn Store,
        id: &TenantId,
        trash: &Key,
        back: bool,
    ) -> Result<()> {
        let (sites, saved) = (layout::sites_dir(id), trash.join("sites")?);
        let (from, to) = if back {
            (&saved, &sites)
        } else {
            (&sites, &saved)
        };
        bundles.move_prefix(from, to)?;
        self.routing_changed(bundles, id)
    }

    /// Moves a tenant to the trash and removes it from the registry; returns the trash key.
    pub fn delete_tenant(&self, id: &str) -> Result<String> {
        self.delete_tenant_with(id, None)
    }

    /// [`Installation::delete_tenant`], also moving the tenant's deploys out of a separate
    /// bundle store (`t8k tenant delete --to`), so its hosts stop routing there too.
    pub fn delete_tenant_with(&self, id: &str, bundles: Option<&dyn Store>) -> Result<String> {
        let fresh = format!(
            "trash/{id}-{}-{}",
            timefmt::compact(timefmt::now()),
            &new_secret()[..8]
        );
        let deleted = timefmt::now_rfc3339();
        let missing = || Error::NoSuchTenant(id.to_owned());
        let tid = TenantId::trusted(id).map_err(|_| missing())?;
        self.registry()?;
        let (entry, trash) = entries::update(self.store(), &tid, |e| {
            if !(e.is_complete() || e.status == Status::Deleting) {
                return Err(missing());
            }
            let trash = match e.extra.get(TRASH_FIELD).and_then(|v| v.as_str()) {
                Some(t) => t.to_owned(), // resuming an interrupted delete
                None => {
                    e.extra.insert(TRASH_FIELD.into(), fresh.clone().into());
                    e.extra.insert("deleted".into(), deleted.clone().into());
                    fresh.clone()
                }
            };
            e.status = Status::Deleting;
            Ok(Some((e.clone(), trash)))
        })?
        .expect("delete always writes");
        let tid = entry.tenant_id()?;
        let trash_key = Key::new(&trash)?;
        let manifest = trash_key.join("tenant.json")?;
        if self.store.get(&manifest)?.is_none() {
            self.store
                .put(&manifest, &to_json_bytes(&entry), Condition::None)?;
        }
        for family in layout::tenant_families(&tid) {
            let to = trash_key.join(family.trash_name)?;
            move_family(self.store(), &family, &family.key, &to)?;
        }
        self.release_keys(&tid, &entry)?;
        entries::remove(self.store(), &tid)?;
        self.entry_changed(&tid)?;
        if let Some(bundles) = bundles {
            self.move_deploys(bundles, &tid, &trash_key, false)?;
        }
        crate::db::remote::forget_tenant(self.store(), &tid);
        Ok(trash)
    }

    /// Every restorable copy in the trash, oldest first.
    pub fn trash(&self) -> Result<Vec<TrashItem>> {
        let mut items = vec![];
        for e in self.store.list(&layout::trash())? {
            let Some(rest) = e.key.strip_prefix(&layout::trash()) else {
                continue;
            };
            let Some((dir, "tenant.json")) = rest.split_once('/') else {
                continue;
            };
            let Some((entry, _)) = read_json::<TenantEntry>(self.store(), &e.key)? else {
                continue;
            };
            let deleted = entry
                .extra
                .get("deleted")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_owned();
            items.push(TrashItem {
                id: entry.id,
                key: format!("trash/{dir}"),
                deleted,
            });
        }
        items.sort_by(|a, b| a.deleted.cmp(&b.deleted).then(a.key.cmp(&b.key)));
        Ok(items)
    }

    /// Restores the newest trashed copy of `id` (or the one at `from`), as it was (active or
    /// not). Refused if the name was taken again meanwhile or the installation is full.
    pub fn restore_tenant(&self, id: &str, from: Option<&str>) -> Result<TenantEntry> {
        self.restore_tenant_with(id, from, None)
    }

    /// [`Installation::restore_tenant`], also bringing its deploys back in a separate bundle
    /// store (`t8k tenant restore --to`).
    pub fn restore_tenant_with(
        &self,
        id: &str,
        from: Option<&str>,
        bundles: Option<&dyn Store>,
    ) -> Result<TenantEntry> {
        let item = self
            .trash()?
            .into_iter()
            .rfind(|t| t.id == id && from.is_none_or(|f| f.trim_end_matches('/') == t.key))
            .ok_or_else(|| Error::NothingInTrash(id.to_owned()))?;
        let trash_key = Key::new(&item.key)?;
        let manifest = trash_key.join("tenant.json")?;
        let (saved, _) = read_json::<TenantEntry>(self.store(), &manifest)?
            .ok_or_else(|| Error::NothingInTrash(id.to_owned()))?;
        let tid = saved.tenant_id()?;
        let was_active = saved.active;
        let holder = new_secret();
        self.claim_for_restore(&tid, &saved, &holder)?;

        self.clear_leftovers(&tid)?;
        for family in layout::tenant_families(&tid) {
            let saved = trash_key.join(family.trash_name)?;
            move_family(self.store(), &family, &saved, &family.key)?;
        }
        let restored = self.finish_claim(&tid, &holder, was_active, "restored")?;
        self.store.delete(&manifest)?;
        if let Some(bundles) = bundles {
            self.move_deploys(bundles, &tid, &trash_key, true)?;
        }
        Ok(restored)
    }

    fn claim_for_restore(&self, id: &TenantId, saved: &TenantEntry, holder: &str) -> Result<()> {
        self.claim_with(id, holder, |_, _, claim| {
            let mut entry = saved.clone();
            entry.status = Status::Creating;
            entry.active = false;
            entry.claim = Some(claim);
            entry.slot = None;
            entry.extra.remove(TRASH_FIELD);
            entry.extra.remove("deleted");
            entry
        })?;
        Ok(())
    }
}
