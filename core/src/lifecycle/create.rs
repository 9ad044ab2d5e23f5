//! Tenant creation, crash-safe and race-safe, writing only small objects:
//!
//! 1. **Claim** — the entry `config/t8k/tenants/{id}` is written create-only as
//!    `status: creating` with a claim (holder token, process identity, lease): of N racing
//!    creators of one name exactly one wins. Then a place of `max_tenants` is claimed
//!    create-only and recorded in the entry ([`crate::registry::slots`]), and the tenant's host
//!    ([`crate::registry::host_keys`]).
//! 2. **Write** — env.json, site.db (schema + starter content, one transaction), media and
//!    bandwidth folders.
//! 3. **Finish** — a compare-and-swap on the entry turns the claim into `status: active`.
//!
//! A crash between 1 and 3 leaves a claim whose holder is dead (or whose lease runs out); list
//! hides it, the next create of that id takes the entry over, and any create that needs a place
//! reaps the place it held. Files a crashed attempt left behind are moved to
//! `trash/leftovers/`, never unlinked.

use rusqlite::TransactionBehavior;

use super::{Installation, process};
use crate::cas;
use crate::content::starter;
use crate::db::SiteDb;
use crate::error::{Error, Result};
use crate::key::{Key, layout};
use crate::name::TenantId;
use crate::password;
use crate::registry::{Claim, Registry, Status, TenantEntry, entries, host_keys, slots};
use crate::settings::{self, Settings};
use crate::store::Condition;
use crate::tenant_config::{TenantConfig, new_secret};
use crate::timefmt;

/// How long a claim protects a creation in progress if its holder cannot be checked (another
/// host). Creation takes about a second.
pub(super) const CLAIM_LEASE_SECS: i64 = 300;

/// A new tenant's files, once its passwords are hashed (also what a pending sign-up keeps
/// until its email is verified).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct TenantFiles {
    pub site_name: String,
    pub email: String,
    pub admin_password_hash: String,
    pub editor_password_hash: String,
    pub theme: Option<String>,
    pub organisation: Option<String>,
}

impl TenantFiles {
    /// Checks the details and hashes the passwords, before anything is claimed.
    pub(super) fn prepare(new: NewTenant) -> Result<(TenantId, TenantFiles)> {
        let hash = |p: Option<&str>| {
            p.map(password::hash)
                .transpose()
                .map(Option::unwrap_or_default)
        };
        let files = TenantFiles {
            site_name: crate::text::label("site name", &new.site_name)?,
            email: check_email(&new.email)?,
            admin_password_hash: hash(new.admin_password.as_deref())?,
            editor_password_hash: hash(new.editor_password.as_deref())?,
            theme: new.theme,
            organisation: match new.organisation.as_deref() {
                Some(o) => crate::text::optional_label("organisation", o)?,
                None => None,
            },
        };
        Ok((new.id, files))
    }
}

/// What `t8k tenant create` asks for. Passwords are clear text only until hashed here.
pub struct NewTenant {
    pub id: TenantId,
    pub site_name: String,
    pub email: String,
    pub admin_password: Option<String>,
    pub editor_password: Option<String>,
    pub theme: Option<String>,
    /// The organisation given at sign-up (kept as `ORGANISATION` in env.json).
    pub organisation: Option<String>,
}

fn check_email(email: &str) -> Result<String> {
    let e = email.trim();
    let valid = e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if valid {
        Ok(e.to_owned())
    } else {
        Err(Error::invalid(
            "email",
            format!("{email:?} is not an email address like name@example.com"),
        ))
    }
}

impl Installation {
    /// Validates the name, then creates the tenant.
    pub fn create_tenant(
        &self,
        name: &str,
        new: impl FnOnce(TenantId) -> NewTenant,
    ) -> Result<TenantEntry> {
        let id = self.validate_name(name)?;
        self.create_tenant_with(new(id))
    }

    /// Creates a tenant whose id is already validated (the single tenant of a single-tenant
    /// installation is `default`, which the name policy reserves for the platform).
    pub fn create_tenant_with(&self, new: NewTenant) -> Result<TenantEntry> {
        let (id, files) = TenantFiles::prepare(new)?;
        let holder = new_secret();
        let (reg, settings) = self.claim(&id, &holder)?;
        self.fill_claim(&id, &holder, &reg, &settings, files)
    }

    /// Writes the files of a tenant we hold the claim on, then marks it active. On failure the
    /// claim is released at once; files written so far are leftovers the next attempt moves.
    pub(super) fn fill_claim(
        &self,
        id: &TenantId,
        holder: &str,
        reg: &Registry,
        settings: &Settings,
        files: TenantFiles,
    ) -> Result<TenantEntry> {
        if let Err(e) = self.write_tenant_files(id, reg, settings, files) {
            let _ = self.release_claim(id, holder);
            return Err(e);
        }
        self.finish_claim(id, holder, true, "created")
    }

    fn claim(&self, id: &TenantId, holder: &str) -> Result<(Registry, Settings)> {
        let created = timefmt::now_rfc3339();
        self.claim_with(id, holder, |reg, settings, claim| TenantEntry {
            id: id.to_string(),
            domain: reg.tenant_domain(id, settings.enable_multi_tenant.value),
            custom_domains: vec![],
            created: created.clone(),
            active: false,
            status: Status::Creating,
            claim: Some(claim),
            slot: None,
            domains: vec![],
            over_limit: None,
            extra: Default::default(),
        })
    }

    /// The first step of create, restore and sign-up: takes the name (or a stale claim on
    /// it), a place of `max_tenants` and the tenant's hosts for `entry(...)` (which carries
    /// the claim). On any refusal, what was taken is given back.
    pub(super) fn claim_with(
        &self,
        id: &TenantId,
        holder: &str,
        entry: impl Fn(&Registry, &Settings, Claim) -> TenantEntry,
    ) -> Result<(Registry, Settings)> {
        let (reg, _) = self.registry()?;
        let settings = Settings::resolve(&reg, &self.env)?;
        let now = timefmt::now().unix_timestamp();
        let claim = Claim {
            holder: holder.to_owned(),
            process: process::current(),
            expires: now + CLAIM_LEASE_SECS,
        };
        let new = TenantEntry {
            slot: None,
            ..entry(&reg, &settings, claim)
        };
        let before = self.take_name(&new, now)?;
        self.take_place(&new, before, &settings, now)?;
        for host in new.claimed_hosts() {
            if let Err(e) = host_keys::claim(self.store(), host, id) {
                self.release_claim(id, holder)?;
                return Err(e);
            }
        }
        Ok((reg, settings))
    }

    /// Claims a place of `max_tenants` for the entry we just took and records it there; with
    /// none free, gives the name back and says the installation is full.
    fn take_place(
        &self,
        new: &TenantEntry,
        before: Option<u64>,
        settings: &Settings,
        now: i64,
    ) -> Result<()> {
        let id = new.tenant_id()?;
        let holder = new.claim.as_ref().map_or("", |c| c.holder.as_str());
        let limit = settings.tenant_limit();
        let Some(n) = slots::claim(self.store(), new, before, limit, now)? else {
            self.release_claim(&id, holder)?;
            return Err(if settings.enable_multi_tenant.value {
                Error::MaxTenants {
                    max: limit,
                    used: limit,
                }
            } else {
                Error::SingleTenantMode
            });
        };
        entries::update(self.store(), &id, |e| {
            if e.claim.as_ref().is_none_or(|c| c.holder != holder) {
                return Err(Error::Busy {
                    id: id.to_string(),
                    what: "created",
                });
            }
            e.slot = Some(n);
            Ok(Some(()))
        })?;
        Ok(())
    }

    /// Writes `new` as the name's entry: create-only, or over a claim whose holder is gone.
    /// Returns the place the stale claim held, if any.
    fn take_name(&self, new: &TenantEntry, now: i64) -> Result<Option<u64>> {
        let id = new.tenant_id()?;
        for _ in 0..3 {
            if entries::create(self.store(), new)?.is_some() {
                return Ok(None);
            }
            let Some((old, version)) = entries::read(self.store(), &id)? else {
                continue; // deleted meanwhile
            };
            if old.holds_name(now) {
                break;
            }
            if entries::replace(self.store(), new, version)?.is_some() {
                return Ok(old.slot);
            }
        }
        Err(Error::AlreadyTaken(id.to_string()))
    }

    /// The last step of create and restore: turns our claim into a finished entry.
    pub(super) fn finish_claim(
        &self,
        id: &TenantId,
        holder: &str,
        active: bool,
        what: &'static str,
    ) -> Result<TenantEntry> {
        let done = entries::update(self.store(), id, |entry| {
            if entry.claim.as_ref().is_none_or(|c| c.holder != holder) {
                return Err(Error::Busy {
                    id: id.to_string(),
                    what,
                });
            }
            entry.status = if active {
                Status::Active
            } else {
                Status::Inactive
            };
            entry.active = active;
            entry.claim = None;
            Ok(Some(entry.clone()))
        })?;
        self.entry_changed(id)?;
        Ok(done.expect("finish always writes"))
    }

    /// Gives up our claim on a name: its place, its hosts, then the entry (a place or host is
    /// held only while the entry says so, so the entry goes last).
    pub(super) fn release_claim(&self, id: &TenantId, holder: &str) -> Result<()> {
        let Some((e, _)) = entries::read(self.store(), id)? else {
            return Ok(());
        };
        if e.claim.as_ref().is_none_or(|c| c.holder != holder) {
            return Ok(());
        }
        self.release_keys(id, &e)?;
        entries::remove(self.store(), id)
    }

    /// Gives back the place and hosts an entry holds.
    pub(super) fn release_keys(&self, id: &TenantId, e: &TenantEntry) -> Result<()> {
        if let Some(n) = e.slot {
            slots::release(self.store(), n, id)?;
        }
        for host in e.claimed_hosts() {
            host_keys::release(self.store(), host, id)?;
        }
        Ok(())
    }

    /// Moves anything keyed by the tenant's id (left by a crashed attempt, or by a tenant of
    /// that name deleted by an older t8k) out of the way.
    pub(super) fn clear_leftovers(&self, id: &TenantId) -> Result<()> {
        let stamp = format!(
            "{id}-{}-{}",
            timefmt::compact(timefmt::now()),
            &new_secret()[..8]
        );
        // A pending sign-up's record is read by the confirmation that is creating the tenant.
        let pending = layout::pending_signup(id);
        for family in layout::tenant_families(id) {
            if family.key != pending {
                let to = Key::new(&format!("trash/leftovers/{stamp}/{}", family.trash_name))?;
                super::trash::move_family(self.store(), &family, &family.key, &to)?;
            }
        }
        Ok(())
    }

    fn write_tenant_files(
        &self,
        id: &TenantId,
        reg: &Registry,
        settings: &Settings,
        files: TenantFiles,
    ) -> Result<()> {
        let TenantFiles {
            site_name,
            email,
            admin_password_hash,
            editor_password_hash,
            theme,
            organisation,
        } = files;
        let site_name = site_name.as_str();
        self.clear_leftovers(id)?;
        let d = settings::defaults();
        let cfg = TenantConfig {
            tenant_id: id.to_string(),
            site_url: format!(
                "https://{}",
                reg.tenant_domain(id, settings.enable_multi_tenant.value)
            ),
            site_name: site_name.to_owned(),
            home_slug: d.home_slug.clone(),
            admin_password_hash,
            editor_password_hash,
            storage_quota: settings.default_quota.value.clone(),
            max_pages: settings.default_max_pages.value,
            max_users: settings.default_max_users.value,
            bandwidth_quota: String::new(),
            bandwidth_policy: String::new(),
            admin_email: email,
            signing_secret: new_secret(),
            theme: theme.unwrap_or(d.theme),
            theme_version: None,
            release_channel: String::new(),
            brand_colours: String::new(),
            extra: organisation
                .map(|o| {
                    [("ORGANISATION".to_owned(), serde_json::Value::String(o))]
                        .into_iter()
                        .collect()
                })
                .unwrap_or_default(),
        };
        self.store.put(
            &layout::env_json(id),
            &cas::to_json_bytes(&cfg),
            Condition::IfAbsent,
        )?;

        crate::db::with_write_new(self.store(), id, |db: &mut SiteDb| {
            let tx = db
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(Error::db(id.as_str()))?;
            starter::write(&tx, site_name, &cfg.home_slug, &timefmt::now_rfc3339())
                .map_err(Error::db(id.as_str()))?;
            tx.commit().map_err(Error::db(id.as_str()))?;
            db.conn
                .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
                .map_err(Error::db(id.as_str()))
        })?;

        // The bandwidth folder too, empty: a server watching it knows "nothing served this
        // month yet" without looking again on every quota request.
        for dir in [layout::media_dir(id), layout::bandwidth_dir(id)] {
            if let Some(path) = self.store.local_path(&dir) {
                std::fs::create_dir_all(&path).map_err(|source| Error::Io {
                    path: path.display().to_string(),
                    source,
                })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(check_email("a@example.com").is_ok());
        for bad in [
            "",
            "a",
            "a@b",
            "@example.com",
            "a b@example.com",
            "a@example.com.",
            "a@@example.com",
        ] {
            assert!(check_email(bad).is_err(), "{bad:?}");
        }
    }
}
