//! Bytes served per tenant per calendar month (UTC), as counted by `t8k serve`:
//! `stats/{tenant}/bandwidth/{YYYY-MM}.json`, and as the edges' access logs say
//! (`{YYYY-MM}.edge.json`, per day, by `t8k usage ingest`: [`crate::edge_logs`]). Servers add
//! what they counted by compare-and-swap, so several can count into one data root without
//! losing an update. A month without either document is "not measured", not zero.

pub mod limit;

use serde::{Deserialize, Serialize};

use crate::cas::{self, read_json};
use crate::error::{Error, Result};
use crate::key::{Key, layout};
use crate::name::TenantId;
use crate::store::Store;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Month {
    pub bytes: u64,
    pub requests: u64,
}

impl std::ops::AddAssign for Month {
    fn add_assign(&mut self, other: Month) {
        self.bytes += other.bytes;
        self.requests += other.requests;
    }
}

/// `2026-11` for a time in November 2026 (UTC).
pub fn month_of(t: time::OffsetDateTime) -> String {
    format!("{:04}-{:02}", t.year(), u8::from(t.month()))
}

/// `stats/{tenant}/bandwidth/{month}.json`; a month not like `2026-11` is refused.
pub fn month_key(id: &TenantId, month: &str) -> Result<Key> {
    let ok = month.len() == 7
        && month.as_bytes()[4] == b'-'
        && month.chars().filter(|c| c.is_ascii_digit()).count() == 6;
    if !ok {
        return Err(Error::invalid(
            "month",
            format!("{month:?} is not like 2026-11"),
        ));
    }
    layout::bandwidth_dir(id).join(&format!("{month}.json"))
}

/// What was served in a month: counted by `t8k serve`, plus what the edges' logs say
/// ([`crate::edge_logs`]); `None` when neither measured anything.
pub fn read(store: &dyn Store, id: &TenantId, month: &str) -> Result<Option<Month>> {
    let served: Option<Month> = read_json(store, &month_key(id, month)?)?.map(|(m, _)| m);
    let edge: Option<crate::edge_logs::EdgeMonth> =
        read_json(store, &crate::edge_logs::month_key(id, month)?)?.map(|(m, _)| m);
    Ok(combine(served, edge.as_ref()))
}

/// A month's bandwidth from its two documents: what `t8k serve` counted plus what the edges'
/// logs say; `None` when neither measured anything.
pub fn combine(served: Option<Month>, edge: Option<&crate::edge_logs::EdgeMonth>) -> Option<Month> {
    if served.is_none() && edge.is_none() {
        return None;
    }
    let mut m = served.unwrap_or_default();
    m += edge.map(|e| e.total()).unwrap_or_default();
    Some(m)
}

/// Adds what a server counted to the month's total.
pub fn add(store: &dyn Store, id: &TenantId, month: &str, served: Month) -> Result<()> {
    cas::upsert_json(store, &month_key(id, month)?, |m: &mut Month| {
        *m += served;
        Ok(Some(()))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_add_up_across_writers() {
        let (_dir, store) = crate::store::temp();
        let id = TenantId::trusted("acme").unwrap();
        assert_eq!(read(store.as_ref(), &id, "2026-11").unwrap(), None);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..5 {
                        add(
                            store.as_ref(),
                            &id,
                            "2026-11",
                            Month {
                                bytes: 100,
                                requests: 1,
                            },
                        )
                        .unwrap();
                    }
                });
            }
        });
        assert_eq!(
            read(store.as_ref(), &id, "2026-11").unwrap(),
            Some(Month {
                bytes: 4000,
                requests: 40
            })
        );
        assert!(add(store.as_ref(), &id, "../x", Month::default()).is_err());
        let t = time::macros::datetime!(2026-11-28 23:59 UTC);
        assert_eq!(month_of(t), "2026-11");
    }
}
