//! Sign-ups that wait for email verification. The name is reserved as an entry with
//! `status: pending`, taken the same way as a name for creation (with a place of
//! `max_tenants`), so uniqueness and `max_tenants` hold for reservations too. The reservation's lease is the
//! link's lifetime (48 h by default): once it runs out, the next claim reaps it and the name is
//! free. The link carries a random nonce; the entry keeps only its SHA-256, and confirming
//! swaps the reservation into a creation claim, so each link works once.

use serde::{Deserialize, Serialize};

use super::Installation;
use super::create::{CLAIM_LEASE_SECS, NewTenant, TenantFiles};
use super::process;
use crate::cas::{read_json, to_json_bytes};
use crate::error::{Error, Result};
use crate::key::layout;
use crate::name::TenantId;
use crate::registry::{Claim, Status, TenantEntry, entries};
use crate::secrets::sha256_hex;
use crate::store::Condition;
use crate::tenant_config::new_secret;
use crate::timefmt;

/// What a pending sign-up keeps until it is confirmed (passwords already hashed).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PendingSignup {
    pub tenant: String,
    /// Unix seconds after which the link no longer works.
    pub expires: i64,
    files: TenantFiles,
}

impl PendingSignup {
    pub fn email(&self) -> &str {
        &self.files.email
    }
}

/// A fresh reservation: the nonce goes into the emailed link and nowhere else.
#[derive(Clone, Debug)]
pub struct Reservation {
    pub id: TenantId,
    pub nonce: String,
    pub expires: i64,
}

impl Installation {
    /// Reserves the name for `ttl_secs` and keeps the sign-up's details until it is confirmed.
    pub fn reserve_tenant(&self, new: NewTenant, ttl_secs: i64) -> Result<Reservation> {
        let (id, files) = TenantFiles::prepare(new)?;
        let nonce = new_secret();
        let holder = sha256_hex(&nonce);
        let created = timefmt::now_rfc3339();
        let expires = timefmt::now().unix_timestamp() + ttl_secs;
        self.claim_with(&id, &holder, |reg, settings, claim| TenantEntry {
            id: id.to_string(),
            domain: reg.tenant_domain(&id, settings.enable_multi_tenant.value),
            custom_domains: vec![],
            created: created.clone(),
            active: false,
            status: Status::Pending,
            // No process holds a reservation: only its lease ends it.
            claim: Some(Claim {
                process: String::new(),
                expires,
                ..claim
            }),
            slot: None,
            domains: vec![],
            over_limit: None,
            extra: Default::default(),
        })?;
        let record = PendingSignup {
            tenant: id.to_string(),
            expires,
            files,
        };
        let written = self.store.put(
            &layout::pending_signup(&id),
            &to_json_bytes(&record),
            Condition::None,
        );
        if let Err(e) = written {
            let _ = self.release_claim(&id, &holder);
            return Err(e.into());
        }
        Ok(Reservation { id, nonce, expires })
    }

    /// Gives up a reservation (its email could not be sent), freeing the name at once.
    pub fn cancel_reservation(&self, r: &Reservation) -> Result<()> {
        self.release_claim(&r.id, &sha256_hex(&r.nonce))?;
        self.store.delete(&layout::pending_signup(&r.id))?;
        Ok(())
    }

    /// Turns a reservation into a tenant, once: the first swap consumes the nonce.
    pub fn confirm_tenant(&self, id: &TenantId, nonce: &str) -> Result<TenantEntry> {
        let want = sha256_hex(nonce);
        let holder = new_secret();
        let now = timefmt::now().unix_timestamp();
        let used = || Error::VerificationUsed(id.to_string());
        entries::update(self.store(), id, |entry| {
            if entry.status != Status::Pending
                || entry.claim.as_ref().is_none_or(|c| c.holder != want)
            {
                return Err(used());
            }
            if entry.claim.as_ref().is_some_and(|c| c.is_stale(now)) {
                return Err(Error::VerificationExpired(id.to_string()));
            }
            entry.status = Status::Creating;
            entry.claim = Some(Claim {
                holder: holder.clone(),
                process: process::current(),
                expires: now + CLAIM_LEASE_SECS,
            });
            Ok(Some(()))
        })
        .map_err(|e| match e {
            Error::NoSuchTenant(_) => used(),
            e => e,
        })?;
        let key = layout::pending_signup(id);
        let record = match read_json::<PendingSignup>(self.store(), &key) {
            Ok(Some((r, _))) => r,
            other => {
                let _ = self.release_claim(id, &holder);
                return Err(other.err().unwrap_or_else(|| Error::Corrupt {
                    file: key.to_string(),
                    message: "the sign-up's details are missing; sign up again".into(),
                }));
            }
        };
        let (reg, _) = self.registry()?;
        let settings = self.settings()?;
        let entry = self.fill_claim(id, &holder, &reg, &settings, record.files)?;
        // The tenant exists; a leftover record would only be overwritten by a later sign-up.
        let _ = self.store.delete(&key);
        Ok(entry)
    }

    /// Sign-ups still waiting for verification, oldest first. Their records are listed (one
    /// key per pending sign-up), not every tenant's entry.
    pub fn pending_signups(&self) -> Result<Vec<(TenantEntry, Option<PendingSignup>)>> {
        self.registry()?;
        let now = timefmt::now().unix_timestamp();
        let mut out = vec![];
        for k in self.store.list(&layout::pending_dir())? {
            let Some(id) = k.key.file_name().strip_suffix(".json") else {
                continue;
            };
            let Ok(id) = TenantId::trusted(id) else {
                continue;
            };
            let Some((e, _)) = entries::read(self.store(), &id)? else {
                continue;
            };
            if e.status != Status::Pending || e.claim.as_ref().is_none_or(|c| c.is_stale(now)) {
                continue;
            }
            let record = read_json(self.store(), &k.key)?.map(|(r, _)| r);
            out.push((e, record));
        }
        out.sort_by(|a, b| a.0.created.cmp(&b.0.created));
        Ok(out)
    }
}
