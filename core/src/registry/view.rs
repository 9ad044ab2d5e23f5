//! `tenants[]` in `config/t8k/tenants.json` as a generated view of the entries, so an operator
//! who reads the file as TractStack documents it finds the tenants there. It is never read to
//! decide anything: the entries are the truth.
//!
//! While the installation is small (up to [`SMALL`] tenants) every change patches the view
//! with the one entry it touched (a compare-and-swap on a document of at most [`SMALL`]
//! entries). Past that, changes leave the file alone — no create, sign-up or status change
//! writes an object that grows with the platform — and `t8k registry compact` (cron, CI)
//! refreshes it: the first [`SMALL`] tenants in id order, with a note giving the true count and
//! where the rest are. The file therefore stays small enough for every cold start to read.

use serde::{Deserialize, Serialize};

use super::{Registry, TenantEntry, entries};
use crate::cas::{self, read_json};
use crate::error::Result;
use crate::key::layout;
use crate::name::TenantId;
use crate::store::Store;

/// The most tenants `tenants[]` holds, and the size up to which every change refreshes it.
pub const SMALL: usize = 1000;

/// What the view shows, for people reading the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewNote {
    /// True while `tenants[]` lists every tenant and follows every change.
    pub complete: bool,
    /// Tenants when the view was last generated in full (by a compact or a migration).
    pub count: u64,
    pub generated: String,
    pub note: String,
}

pub(crate) fn note(complete: bool, count: u64) -> ViewNote {
    let note = if complete {
        "tenants[] is generated from config/t8k/tenants/{id} (one entry per tenant, the live \
         registry) and follows every change while the installation has at most 1000 tenants"
            .to_owned()
    } else {
        format!(
            "tenants[] shows the first {SMALL} of {count} tenants as of `generated`, refreshed by \
             `t8k registry compact`; the live entries are config/t8k/tenants/{{id}}, listed by \
             `t8k tenant list --limit N --after ID`"
        )
    };
    ViewNote {
        complete,
        count,
        generated: crate::timefmt::now_rfc3339(),
        note,
    }
}

/// After a change to `id`'s entry: patches the view with it, while the view is complete.
/// The entry is read after the registry document, so whichever patch lands last carries the
/// entry's latest state.
pub fn record(store: &dyn Store, id: &TenantId) -> Result<()> {
    update_document(store, |reg| {
        if reg.tenants_view.as_ref().is_some_and(|v| !v.complete) {
            return Ok(None);
        }
        let now = entries::read(store, id)?
            .map(|(e, _)| e)
            .filter(TenantEntry::is_complete);
        let at = reg
            .tenants
            .binary_search_by(|t| t.id.as_str().cmp(id.as_str()));
        match (at, now) {
            (Ok(i), Some(e)) => reg.tenants[i] = e,
            (Ok(i), None) => {
                reg.tenants.remove(i);
            }
            (Err(_), Some(_)) if reg.tenants.len() >= SMALL => {
                reg.tenants_view = Some(note(false, reg.tenants.len() as u64 + 1));
            }
            (Err(i), Some(e)) => reg.tenants.insert(i, e),
            (Err(_), None) => return Ok(None),
        }
        if reg.tenants_view.as_ref().is_none_or(|v| v.complete) {
            reg.tenants_view = Some(note(true, reg.tenants.len() as u64));
        }
        Ok(Some(()))
    })
}

/// Changes the registry document by compare-and-swap.
fn update_document(
    store: &dyn Store,
    change: impl FnMut(&mut Registry) -> Result<Option<()>>,
) -> Result<()> {
    let missing = || crate::Error::NotInstalled {
        root: store.describe(),
    };
    cas::update_json(store, &layout::registry(), missing, change)?;
    Ok(())
}

/// What `t8k registry compact` did.
#[derive(Clone, Debug, Serialize)]
pub struct Compacted {
    pub tenants: u64,
    pub shown: usize,
    pub complete: bool,
}

/// Regenerates the view from every entry (a listing, a page at a time).
pub fn compact(store: &dyn Store) -> Result<Compacted> {
    let mut shown = Vec::with_capacity(SMALL);
    let mut count = 0u64;
    entries::each(store, |e| {
        if e.is_complete() {
            count += 1;
            if shown.len() < SMALL {
                shown.push(e);
            }
        }
        Ok(())
    })?;
    let complete = count as usize <= SMALL;
    let done = Compacted {
        tenants: count,
        shown: shown.len(),
        complete,
    };
    update_document(store, |reg| {
        reg.tenants = shown.clone();
        reg.tenants_view = Some(note(complete, count));
        Ok(Some(()))
    })?;
    Ok(done)
}

/// The registry document as stored (settings and view), without migrating it.
pub fn read_document(store: &dyn Store) -> Result<Option<(Registry, crate::store::Version)>> {
    read_json(store, &layout::registry())
}
