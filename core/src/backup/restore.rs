//! Bringing a snapshot back. Every file is read and checked against its hashes first, so a
//! damaged snapshot or a wrong key stops the restore before anything changes. The files are
//! then laid out as a trash copy and restored through the trash's own path (a claim like a
//! create: an id taken or a full installation is refused), so:
//!
//! - in place, the tenant's current state is moved to the trash first — a restore can itself
//!   be undone with `t8k tenant restore ID --from TRASH_KEY`;
//! - as a new id (`--as`), the copy gets its own subdomain, no custom domains (they stay the
//!   original's), and its env.json and media keys are rewritten to the new id.
//!
//! Either way a build is queued, so the next `t8k build --queued` brings the site back live.

use serde::Serialize;

use super::snapshot::{Manifest, covered};
use super::{BackupError, Repo, key};
use crate::cas::to_json_bytes;
use crate::key::Key;
use crate::lifecycle::Installation;
use crate::name::TenantId;
use crate::registry::TenantEntry;
use crate::secrets::sha256_hex;
use crate::store::Condition;
use crate::tenant_config::new_secret;
use crate::{Error, Result, timefmt};

/// What a restore did.
#[derive(Clone, Debug, Serialize)]
pub struct Restored {
    pub tenant: String,
    pub snapshot: String,
    pub files: usize,
    pub bytes: u64,
    /// Where the tenant's state before the restore went (in place only).
    pub previous_in_trash: Option<String>,
}

/// A snapshot file's place in a trash copy (`config/…`, `db/…`, `media/…`), refusing any
/// path outside the three folders a snapshot covers (a tampered manifest).
fn trash_path(source: &TenantId, path: &str) -> Result<String> {
    for (dir, name) in covered(source).iter().zip(["config", "db", "media"]) {
        if let Some(rest) = Key::new(path)?.strip_prefix(dir) {
            return Ok(format!("{name}/{rest}"));
        }
    }
    Err(Error::Corrupt {
        file: path.to_owned(),
        message: format!("a snapshot of '{source}' may not hold it"),
    })
}

impl Repo {
    /// The snapshot of `tenant` to restore: `id`, or the newest taken at or before `at`
    /// (RFC 3339), or the newest.
    pub fn pick(&self, tenant: &TenantId, id: Option<&str>, at: Option<&str>) -> Result<Manifest> {
        if let Some(id) = id {
            return self.manifest(tenant.as_str(), id);
        }
        let bound = match at {
            Some(t) => {
                let t =
                    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                        .map_err(|e| {
                            Error::invalid(
                                "--at",
                                format!("{t:?} is not a time like 2026-11-30T12:00:00Z: {e}"),
                            )
                        })?;
                Some(timefmt::compact(t))
            }
            None => None,
        };
        let newest = self
            .list(Some(tenant))?
            .into_iter()
            .rfind(|s| {
                bound
                    .as_ref()
                    .is_none_or(|b| s.id.as_str() <= b.as_str() || s.id.starts_with(b.as_str()))
            })
            .ok_or_else(|| {
                BackupError::NoSnapshot(format!(
                    "of '{tenant}'{}",
                    at.map(|a| format!(" at or before {a}")).unwrap_or_default()
                ))
            })?;
        self.manifest(&newest.tenant, &newest.id)
    }

    /// Every file of a snapshot, read and checked (each chunk by its name, each file by its
    /// hash and size).
    pub fn read_files(&self, m: &Manifest) -> Result<Vec<(String, Vec<u8>)>> {
        let mut out = vec![];
        for f in &m.files {
            let mut bytes = Vec::with_capacity(f.size as usize);
            for c in &f.chunks {
                bytes.extend(self.get_chunk(&m.id, c)?);
            }
            if bytes.len() as u64 != f.size || sha256_hex(&bytes) != f.sha256 {
                return Err(BackupError::Damaged {
                    snapshot: m.id.clone(),
                    object: f.path.clone(),
                    problem: "not what was backed up (its hash differs)".into(),
                }
                .into());
            }
            out.push((f.path.clone(), bytes));
        }
        Ok(out)
    }

    /// Writes a snapshot's files (checked) under `dir`, by their data-root keys, changing
    /// nothing in the installation: to look into a snapshot, or to recover the installation's
    /// own configuration by hand.
    pub fn extract(&self, m: &Manifest, dir: &std::path::Path) -> Result<usize> {
        let files = self.read_files(m)?;
        for (path, bytes) in &files {
            let key = Key::new(path)?; // a checked key: no `..`, no absolute path
            let out = dir.join(key.as_str());
            let io = |source| Error::Io {
                path: out.display().to_string(),
                source,
            };
            std::fs::create_dir_all(out.parent().unwrap_or(dir)).map_err(io)?;
            std::fs::write(&out, bytes).map_err(|source| Error::Io {
                path: out.display().to_string(),
                source,
            })?;
        }
        Ok(files.len())
    }

    /// Restores `m` in place, or as the new tenant `as_id`.
    pub fn restore(
        &self,
        inst: &Installation,
        m: &Manifest,
        as_id: Option<&TenantId>,
    ) -> Result<Restored> {
        if m.entry.is_none() {
            return Err(Error::invalid(
                "restore",
                "an installation snapshot is not restored over a running installation; write it out with --into DIR",
            ));
        }
        let source = TenantId::trusted(&m.tenant)?;
        let target = as_id.cloned().unwrap_or_else(|| source.clone());
        if as_id.is_some() && inst.entry(target.as_str()).is_ok() {
            return Err(Error::AlreadyTaken(target.to_string()));
        }
        let files = self.read_files(m)?;
        let entry = self.entry_for(inst, m, &target)?;
        let staging = key(format!(
            "trash/{target}-{}-backup-{}",
            timefmt::compact(timefmt::now()),
            &new_secret()[..8]
        ))?;
        let store = inst.store();
        let staged = (|| -> Result<()> {
            for (path, bytes) in &files {
                let place = staging.join(&trash_path(&source, path)?)?;
                let bytes = renamed(&source, &target, path, bytes)?;
                store.put(&place, &bytes, Condition::None)?;
            }
            // Written last: the trash lists a copy once its entry is there.
            store.put(
                &staging.join("tenant.json")?,
                &to_json_bytes(&entry),
                Condition::None,
            )?;
            Ok(())
        })();
        let discard = || {
            for e in store.list(&staging).unwrap_or_default() {
                let _ = store.delete(&e.key);
            }
        };
        if let Err(e) = staged {
            discard();
            return Err(e);
        }
        let previous_in_trash = match as_id {
            None if inst.entry(target.as_str()).is_ok() => {
                Some(inst.delete_tenant(target.as_str())?)
            }
            _ => None,
        };
        if let Err(e) = inst.restore_tenant(target.as_str(), Some(staging.as_str())) {
            discard();
            return Err(e);
        }
        crate::queue::request_build(store, &target, "restored from a backup")?;
        Ok(Restored {
            tenant: target.to_string(),
            snapshot: m.id.clone(),
            files: files.len(),
            bytes: files.iter().map(|(_, b)| b.len() as u64).sum(),
            previous_in_trash,
        })
    }

    /// The registry entry the restored tenant gets: the snapshot's, or for a new id its own
    /// subdomain and no custom domains.
    fn entry_for(
        &self,
        inst: &Installation,
        m: &Manifest,
        target: &TenantId,
    ) -> Result<TenantEntry> {
        let mut entry = m.entry.clone().ok_or_else(|| {
            Error::invalid("restore", "an installation snapshot is not restored over a running installation; write it out with --into DIR")
        })?;
        if target.as_str() != m.tenant {
            let (reg, _) = inst.registry()?;
            entry.id = target.to_string();
            entry.domain = reg.tenant_domain(target, inst.settings()?.enable_multi_tenant.value);
            entry.custom_domains.clear();
            entry.domains.clear();
            entry.created = timefmt::now_rfc3339();
        }
        entry
            .extra
            .insert("deleted".into(), timefmt::now_rfc3339().into());
        Ok(entry)
    }
}

/// A file's bytes for a tenant restored under a new id: env.json names the tenant and its
/// address, site.db the keys of its media; everything else is unchanged.
fn renamed(source: &TenantId, target: &TenantId, path: &str, bytes: &[u8]) -> Result<Vec<u8>> {
    if source == target {
        return Ok(bytes.to_vec());
    }
    if path == crate::key::layout::env_json(source).as_str() {
        let mut env: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(bytes)
            .map_err(|e| Error::Corrupt {
                file: path.into(),
                message: e.to_string(),
            })?;
        let url = env
            .get("SITE_URL")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let url = url.replacen(&format!("//{source}."), &format!("//{target}."), 1);
        env.insert("SITE_URL".into(), url.into());
        env.insert("TENANT_ID".into(), target.to_string().into());
        return Ok(to_json_bytes(&env));
    }
    if path == crate::key::layout::site_db(source).as_str() {
        let tmp = tempfile::NamedTempFile::new().map_err(|source| Error::Io {
            path: "temporary file".into(),
            source,
        })?;
        let io = |source| Error::Io {
            path: tmp.path().display().to_string(),
            source,
        };
        std::fs::write(tmp.path(), bytes).map_err(io)?;
        let conn = rusqlite::Connection::open(tmp.path()).map_err(Error::db(path))?;
        let (from, to) = (format!("media/{source}/"), format!("media/{target}/"));
        conn.execute(
            "UPDATE media_files SET key = ?2 || substr(key, length(?1) + 1) WHERE substr(key, 1, length(?1)) = ?1",
            [&from, &to],
        )
        .map_err(Error::db(path))?;
        drop(conn);
        return std::fs::read(tmp.path()).map_err(|source| Error::Io {
            path: tmp.path().display().to_string(),
            source,
        });
    }
    Ok(bytes.to_vec())
}
