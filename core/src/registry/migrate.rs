//! From a wave-1 registry (every tenant in `tenants[]`, rewritten whole on each change) to one
//! entry per tenant. Runs on first use by any command or function; idempotent and resumable:
//!
//! 1. for each tenant of `tenants[]` in order (the *i*-th): its entry, place *i* and host
//!    keys, each written create-only — what an earlier, interrupted run wrote is left as it is;
//! 2. then one compare-and-swap marks the registry `registry_layout: 2` and sorts the view.
//!
//! A crash anywhere before 2 leaves a wave-1 registry that the next run completes (the same
//! tenants get the same places); after 2 there is nothing left to do. Claims of creations whose
//! holder died are not carried over (their names are free, as they were); pending sign-ups
//! keep their reservation.

use super::{LAYOUT, Registry, entries, host_keys, slots, view};
use crate::cas::{self, to_json_bytes};
use crate::error::{Error, Result};
use crate::key::layout;
use crate::store::{Condition, Store, StoreError};

/// How often (in tenants) a migration checks that no other process finished it meanwhile.
const RECHECK_EVERY: usize = 100;

/// What a migration did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Migrated {
    pub tenants: usize,
    /// Entries, places and host keys written by this run (those of an earlier run are kept).
    pub written: usize,
}

/// Migrates `reg` (as read) if it is a wave-1 registry; `None` when there is nothing to do.
pub fn run(store: &dyn Store, reg: &Registry) -> Result<Option<Migrated>> {
    if reg.registry_layout >= LAYOUT {
        return Ok(None);
    }
    super::make_folders(store)?;
    let now = crate::timefmt::now().unix_timestamp();
    let mut done = Migrated::default();
    for (i, t) in reg.tenants.iter().enumerate() {
        if i % RECHECK_EVERY == RECHECK_EVERY - 1 && finished_elsewhere(store)? {
            return Ok(None);
        }
        if !t.holds_name(now) {
            continue;
        }
        let id = t.tenant_id()?;
        let mut entry = t.clone();
        entry.slot = Some(i as u64);
        done.tenants += 1;
        done.written += usize::from(entries::create(store, &entry)?.is_some());
        let record = to_json_bytes(&slots::record_of(&entry));
        match store.put(&layout::slot(i as u64), &record, Condition::IfAbsent) {
            Ok(_) => done.written += 1,
            Err(StoreError::PreconditionFailed { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        for host in entry.own_hosts() {
            match host_keys::claim(store, host, &id) {
                Ok(()) => done.written += 1,
                // A host two wave-1 tenants both listed stays with the first; one that is not
                // a DNS name (hand-written) gets no key and routes by the tenant's id only.
                Err(Error::HostTaken { .. } | Error::Invalid { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    // Places 0..len are the wave-1 tenants': new ones start above.
    let mark = to_json_bytes(&serde_json::json!({ "next": reg.tenants.len() }));
    store.put(&layout::slots_high_water(), &mark, Condition::None)?;
    cas::update_json(
        store,
        &layout::registry(),
        || Error::NotInstalled {
            root: store.describe(),
        },
        |reg: &mut Registry| {
            if reg.registry_layout >= LAYOUT {
                return Ok(None);
            }
            reg.registry_layout = LAYOUT;
            reg.tenants.retain(|t| t.is_complete());
            reg.tenants.sort_by(|a, b| a.id.cmp(&b.id));
            let count = reg.tenants.len();
            reg.tenants.truncate(view::SMALL);
            reg.tenants_view = Some(view::note(count <= view::SMALL, count as u64));
            Ok(Some(()))
        },
    )?;
    Ok(Some(done))
}

fn finished_elsewhere(store: &dyn Store) -> Result<bool> {
    Ok(view::read_document(store)?.is_some_and(|(r, _)| r.registry_layout >= LAYOUT))
}
