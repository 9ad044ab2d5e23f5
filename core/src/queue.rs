//! Build requests: a content change (or a new tenant) writes `queue/builds/{tenant}`;
//! `t8k build --queued` builds those tenants and removes each request it has served — only if
//! it was not renewed meanwhile (a conditional check on its version), so no change is lost.

use crate::error::Result;
use crate::key::{Key, layout};
use crate::name::TenantId;
use crate::store::{Condition, Store, Version};

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
        let (_, seen) = pending(&store).unwrap().pop().unwrap();
        request_build(&store, &id, "content again").unwrap();
        assert!(!done(&store, &id, &seen).unwrap(), "renewed meanwhile");
        let (_, now) = pending(&store).unwrap().pop().unwrap();
        assert!(done(&store, &id, &now).unwrap());
        assert!(pending(&store).unwrap().is_empty());
    }
}
