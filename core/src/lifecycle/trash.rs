//! Delete moves a tenant's folders to `trash/{id}-{stamp}-{rand}/` with a copy of its registry
//! entry; restore moves the newest such copy back. Both are resumable: delete first marks the
//! entry `deleting` and records the trash key in it, so a re-run after a crash finishes moving
//! into the same place.

use serde::Serialize;

use super::Installation;
use crate::cas::{read_json, to_json_bytes};
use crate::error::{Error, Result};
use crate::key::{Key, layout};
use crate::name::TenantId;
use crate::registry::{Registry, Status, TenantEntry};
use crate::store::Condition;
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

/// The data-root folder a tenant folder lives in (`config`, `db`, `media`): its name in trash.
pub(super) fn parts(tenant_dir: &Key) -> &str {
    tenant_dir.as_str().split('/').next().unwrap_or("part")
}

impl Installation {
    /// Moves a tenant to the trash and removes it from the registry; returns the trash key.
    pub fn delete_tenant(&self, id: &str) -> Result<String> {
        let fresh = format!(
            "trash/{id}-{}-{}",
            timefmt::compact(timefmt::now()),
            &new_secret()[..8]
        );
        let deleted = timefmt::now_rfc3339();
        let (entry, trash) = self
            .update_registry(|reg: &mut Registry| {
                let e = reg
                    .find_mut(id)
                    .filter(|e| e.is_complete() || e.status == Status::Deleting)
                    .ok_or_else(|| Error::NoSuchTenant(id.to_owned()))?;
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
        for dir in layout::tenant_dirs(&tid) {
            self.store
                .move_prefix(&dir, &trash_key.join(parts(&dir))?)?;
        }
        self.update_registry(|reg: &mut Registry| {
            let before = reg.tenants.len();
            reg.tenants.retain(|t| t.id != tid.as_str());
            Ok((reg.tenants.len() != before).then_some(()))
        })?;
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

        for dir in layout::tenant_dirs(&tid) {
            let src = trash_key.join(parts(&dir))?;
            if !self.store.list(&src)?.is_empty()
                || self.store.local_path(&src).is_some_and(|p| p.exists())
            {
                if !self.store.list(&dir)?.is_empty() {
                    self.clear_leftovers(&tid)?;
                }
                self.store.move_prefix(&src, &dir)?;
            }
        }
        let restored = self.finish_claim(&tid, &holder, was_active, "restored")?;
        self.store.delete(&manifest)?;
        Ok(restored)
    }

    fn claim_for_restore(&self, id: &TenantId, saved: &TenantEntry, holder: &str) -> Result<()> {
        self.claim_with(id, holder, |_, _, claim| {
            let mut entry = saved.clone();
            entry.status = Status::Creating;
            entry.active = false;
            entry.claim = Some(claim);
            entry.extra.remove(TRASH_FIELD);
            entry.extra.remove("deleted");
            entry
        })?;
        Ok(())
    }
}
