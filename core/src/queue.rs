//! Build requests: a content change (or a new tenant) writes `queue/builds/{tenant}`;
//! `t8k build --queued` builds those tenants and removes each request it has served — only if
//! it was not renewed meanwhile (a conditional check on its version), so no change is lost.

use crate::error::Result;
use crate::key::{Key, layout};
use crate::name::TenantId;
use crate::registry::Claim;
use crate::store::{Condition, Store, StoreError, Version};

fn queue_dir() -> Key {
    Key::new("queue/builds").expect("constant key")
}

fn entry(id: &TenantId) -> Key {
    layout::build_request(id)
}

/// Asks for a build of `id` (idempotent: a pending request is simply renewed).
pub fn request_build(store: &dyn Store, id: &TenantId, reason: &str) -> Result<()> {
    // A nonce makes every request a new version, so `done` never mistakes a renewal made in
    // the same second for the request it served.
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).expect("the OS random source is available");
    let body = serde_json::json!({"tenant": id, "reason": reason, "requested": crate::timefmt::now_rfc3339(), "nonce": hex::encode(nonce)});
    store.put(
        &entry(id),
        &crate::cas::to_json_bytes(&body),
        Condition::None,
    )?;
    Ok(())
}

/// The tenant whose build request is at `key` (`queue/builds/{tenant}`), and why it was made
/// (its body's `reason`): for code that sees requests as they are written (the functions'
/// build trigger).
pub fn request_at(key: &Key, body: &[u8]) -> Option<(TenantId, String)> {
    let name = key
        .as_str()
        .strip_prefix(queue_dir().as_str())?
        .strip_prefix('/')?;
    let id = TenantId::trusted(name).ok()?;
    let body: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let reason = body["reason"].as_str().unwrap_or("build requested");
    Some((id, reason.to_owned()))
}

/// When the pending build request of `id` was made, if there is one.
pub fn requested(store: &dyn Store, id: &TenantId) -> Result<Option<String>> {
    let Some(obj) = store.get(&entry(id))? else {
        return Ok(None);
    };
    let body: serde_json::Value = serde_json::from_slice(&obj.bytes).unwrap_or_default();
    Ok(Some(
        body["requested"].as_str().unwrap_or_default().to_owned(),
    ))
}

/// The version of `id`'s pending request, if it has one.
pub fn request_version(store: &dyn Store, id: &TenantId) -> Result<Option<Version>> {
    Ok(store.head(&entry(id))?)
}

/// The tenants with a pending request (one listing; no request is read).
pub fn pending_ids(store: &dyn Store) -> Result<Vec<TenantId>> {
    Ok(store
        .list_keys(&queue_dir())?
        .iter()
        .filter_map(|k| TenantId::trusted(k.file_name()).ok())
        .collect())
}

/// Pending requests: tenant and the version of its request.
pub fn pending(store: &dyn Store) -> Result<Vec<(TenantId, Version)>> {
    let mut out = vec![];
    for e in store.list(&queue_dir())? {
        let Ok(id) = TenantId::trusted(e.key.file_name()) else {
            continue;
        };
        if let Some(v) = store.head(&e.key)? {
            out.push((id, v));
        }
    }
    Ok(out)
}

/// Removes a served request, unless it changed since `seen` (then it stays for the next run).
pub fn done(store: &dyn Store, id: &TenantId, seen: &Version) -> Result<bool> {
    let key = entry(id);
    match store.head(&key)? {
        Some(v) if &v == seen => {
            store.delete(&key)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// The right to build one tenant: held by one worker at a time, until it releases it or it
/// expires (a worker that died — killed, its machine gone — never blocks the tenant longer
/// than one lease). Claimed, renewed and released by conditional writes, so two workers racing
/// for a tenant never both hold it.
#[derive(Debug)]
pub struct Lease {
    pub tenant: TenantId,
    claim: Claim,
    version: Version,
}

impl Lease {
    pub fn holder(&self) -> &str {
        &self.claim.holder
    }
}

fn lease_claim(holder: &str, secs: i64) -> Claim {
    Claim {
        holder: holder.to_owned(),
        process: crate::lifecycle::process::current(),
        expires: crate::timefmt::now().unix_timestamp() + secs,
    }
}

/// Claims the build of `id` for `secs` seconds; `None` when a live lease of another holder
/// has it (or another worker won the race for a stale one).
pub fn claim(store: &dyn Store, id: &TenantId, holder: &str, secs: i64) -> Result<Option<Lease>> {
    let key = layout::build_lease(id);
    let cond = match store.get(&key)? {
        None => Condition::IfAbsent,
        Some(obj) => {
            let held: Option<Claim> = serde_json::from_slice(&obj.bytes).ok();
            let now = crate::timefmt::now().unix_timestamp();
            if held.is_some_and(|c| !c.is_stale(now)) {
                return Ok(None);
            }
            Condition::IfMatch(obj.version)
        }
    };
    let claim = lease_claim(holder, secs);
    match store.put(&key, &crate::cas::to_json_bytes(&claim), cond) {
        Ok(version) => Ok(Some(Lease {
            tenant: id.clone(),
            claim,
            version,
        })),
        Err(StoreError::PreconditionFailed { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Extends a lease by `secs` from now; false when it was lost (it expired and another worker
/// took it): the holder must stop before publishing.
pub fn renew(store: &dyn Store, lease: &mut Lease, secs: i64) -> Result<bool> {
    let claim = lease_claim(&lease.claim.holder, secs);
    let bytes = crate::cas::to_json_bytes(&claim);
    let cond = Condition::IfMatch(lease.version.clone());
    match store.put(&layout::build_lease(&lease.tenant), &bytes, cond) {
        Ok(version) => {
            (lease.claim, lease.version) = (claim, version);
            Ok(true)
        }
        Err(StoreError::PreconditionFailed { .. }) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Gives a lease up (an expired claim in its place, written only if it is still ours).
pub fn release(store: &dyn Store, lease: Lease) -> Result<()> {
    let done = Claim {
        expires: 0,
        ..lease.claim
    };
    let key = layout::build_lease(&lease.tenant);
    match store.put(
        &key,
        &crate::cas::to_json_bytes(&done),
        Condition::IfMatch(lease.version),
    ) {
        Ok(_) | Err(StoreError::PreconditionFailed { .. }) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::local::LocalStore;

    #[test]
    fn a_renewed_request_survives_the_build_that_served_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let id = TenantId::trusted("acme").unwrap();
        request_build(&store, &id, "content").unwrap();
        let key = entry(&id);
        let body = store.get(&key).unwrap().unwrap().bytes;
        assert_eq!(
            request_at(&key, &body),
            Some((id.clone(), "content".into()))
        );
        assert_eq!(
            request_at(&Key::new("db/acme/site.db").unwrap(), &body),
            None
        );
        let (_, seen) = pending(&store).unwrap().pop().unwrap();
        request_build(&store, &id, "content again").unwrap();
        assert!(!done(&store, &id, &seen).unwrap(), "renewed meanwhile");
        let (_, now) = pending(&store).unwrap().pop().unwrap();
        assert!(done(&store, &id, &now).unwrap());
        assert!(pending(&store).unwrap().is_empty());
    }

    #[test]
    fn one_worker_holds_a_lease_until_it_releases_it_or_it_expires() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path());
        let id = TenantId::trusted("acme").unwrap();
        let mut a = claim(&store, &id, "a", 60).unwrap().expect("free");
        assert!(claim(&store, &id, "b", 60).unwrap().is_none(), "held");
        assert!(renew(&store, &mut a, 60).unwrap());
        release(&store, a).unwrap();
        let b = claim(&store, &id, "b", -1).unwrap().expect("released");
        // b's lease is already out of time: a third worker may take it, and b's renewal fails.
        let c = claim(&store, &id, "c", 60).unwrap().expect("expired");
        let mut b = b;
        assert!(!renew(&store, &mut b, 60).unwrap(), "lost to c");
        assert_eq!(c.holder(), "c");
    }
}
