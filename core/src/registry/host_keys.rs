//! Host → tenant, one key per host: `config/t8k/hosts/{host}.json` holds `{"tenant": id}`.
//! A host is claimed create-only when a tenant (its domain) or a custom domain is added, so
//! two tenants racing for one domain have exactly one winner, and removed when the tenant is
//! deleted or the domain given up. The functions resolve a `Host` with one cached read of its
//! key instead of the whole registry.

use serde::{Deserialize, Serialize};

use super::entries;
use crate::cas::{read_json, to_json_bytes};
use crate::error::{Error, Result};
use crate::key::Key;
use crate::name::TenantId;
use crate::store::{Condition, Store, StoreError};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostRecord {
    pub tenant: String,
}

/// The key of a host name, checked as a DNS name (lowercase LDH labels), so no input that is
/// not one ever becomes a key.
pub fn key_of(host: &str) -> Result<Key> {
    let host = crate::lifecycle::check_domain(host)?;
    Key::new(&format!("config/t8k/hosts/{host}.json"))
}

/// The tenant a host is claimed for, if any. Input that is not a host name has none.
pub fn lookup(store: &dyn Store, host: &str) -> Result<Option<TenantId>> {
    let Ok(key) = key_of(host) else {
        return Ok(None);
    };
    Ok(read_json::<HostRecord>(store, &key)?.and_then(|(r, _)| TenantId::trusted(&r.tenant).ok()))
}

/// Claims `host` for `tenant`. Refused with [`Error::HostTaken`] when another tenant holds it;
/// a key left by a tenant that no longer lists the host (a crash between steps) is taken over
/// by compare-and-swap.
pub fn claim(store: &dyn Store, host: &str, tenant: &TenantId) -> Result<()> {
    let key = key_of(host)?;
    let record = to_json_bytes(&HostRecord {
        tenant: tenant.to_string(),
    });
    for _ in 0..3 {
        match store.put(&key, &record, Condition::IfAbsent) {
            Ok(_) => return Ok(()),
            Err(StoreError::PreconditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        let Some((held, version)) = read_json::<HostRecord>(store, &key)? else {
            continue; // removed meanwhile: try again
        };
        if held.tenant == tenant.as_str() {
            return Ok(());
        }
        if still_listed(store, &held.tenant, &key)? {
            return Err(Error::HostTaken {
                host: host.to_owned(),
                tenant: held.tenant,
            });
        }
        match store.put(&key, &record, Condition::IfMatch(version)) {
            Ok(_) => return Ok(()),
            Err(StoreError::PreconditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Busy {
        id: key.to_string(),
        what: "claimed",
    })
}

/// Whether `tenant`'s entry still leads to the host of `key`.
fn still_listed(store: &dyn Store, tenant: &str, key: &Key) -> Result<bool> {
    let Ok(id) = TenantId::trusted(tenant) else {
        return Ok(false);
    };
    let now = crate::timefmt::now().unix_timestamp();
    Ok(entries::read(store, &id)?.is_some_and(|(e, _)| {
        e.holds_name(now)
            && e.claimed_hosts()
                .any(|h| key_of(h).is_ok_and(|k| &k == key))
    }))
}

/// Gives `host` up, if `tenant` holds it.
pub fn release(store: &dyn Store, host: &str, tenant: &TenantId) -> Result<()> {
    let Ok(key) = key_of(host) else {
        return Ok(());
    };
    if let Some((held, _)) = read_json::<HostRecord>(store, &key)?
        && held.tenant == tenant.as_str()
    {
        store.delete(&key)?;
    }
    Ok(())
}
