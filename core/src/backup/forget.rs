//! Retention as restic does it: per tenant, the newest snapshot of each of the last N hours,
//! days, ISO weeks and months is kept (a snapshot any rule keeps stays); the rest are
//! forgotten. Pruning then deletes the objects no remaining snapshot references, under the
//! prune lock (never while a backup runs, whose objects have no manifest yet).

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use super::Repo;
use super::lock::Kind;
use super::snapshot::Listed;
use crate::{Error, Result};

/// How many periods of each kind keep their newest snapshot.
#[derive(Clone, Copy, Debug, Default)]
pub struct Policy {
    pub hourly: usize,
    pub daily: usize,
    pub weekly: usize,
    pub monthly: usize,
}

/// The periods a snapshot falls in, from its id (`20261130T031500Z-…`).
fn periods(id: &str) -> Option<[String; 4]> {
    let stamp = id.get(..16)?;
    let f = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let t = time::PrimitiveDateTime::parse(stamp, &f).ok()?;
    let (y, w, _) = t.date().to_iso_week_date();
    Some([
        stamp[..11].to_owned(),
        stamp[..8].to_owned(),
        format!("{y}-W{w:02}"),
        stamp[..6].to_owned(),
    ])
}

/// Which of one tenant's snapshots (oldest first) the policy keeps.
pub fn kept(snapshots: &[Listed], p: Policy) -> HashSet<String> {
    let mut keep = HashSet::new();
    for (rule, n) in [p.hourly, p.daily, p.weekly, p.monthly]
        .into_iter()
        .enumerate()
    {
        let mut last: Option<String> = None;
        let mut count = 0;
        for s in snapshots.iter().rev() {
            let Some(period) = periods(&s.id).map(|p| p[rule].clone()) else {
                keep.insert(s.id.clone()); // a name t8k did not write: never forgotten
                continue;
            };
            if count < n && last.as_ref() != Some(&period) {
                keep.insert(s.id.clone());
                count += 1;
            }
            last = Some(period);
        }
    }
    keep
}

/// What forgetting (and pruning) did.
#[derive(Debug, Default, Serialize)]
pub struct Forgotten {
    pub kept: Vec<Listed>,
    pub forgotten: Vec<Listed>,
    pub pruned_objects: u64,
    pub pruned_bytes: u64,
}

impl Repo {
    /// Forgets the snapshots the policy does not keep; with `prune`, deletes unreferenced objects.
    pub fn forget(&self, policy: Policy, prune: bool) -> Result<Forgotten> {
        if [policy.hourly, policy.daily, policy.weekly, policy.monthly]
            .iter()
            .all(|n| *n == 0)
        {
            return Err(Error::invalid(
                "retention",
                "it would forget every snapshot; give at least one --keep-hourly/daily/weekly/monthly",
            ));
        }
        let lock = if prune {
            Some(self.lock(Kind::Prune)?)
        } else {
            None
        };
        let mut by_tenant: BTreeMap<String, Vec<Listed>> = BTreeMap::new();
        for s in self.list(None)? {
            by_tenant.entry(s.tenant.clone()).or_default().push(s);
        }
        let mut out = Forgotten::default();
        for snapshots in by_tenant.values() {
            let keep = kept(snapshots, policy);
            for s in snapshots {
                if keep.contains(&s.id) {
                    out.kept.push(s.clone());
                } else {
                    self.forget_snapshot(&s.tenant, &s.id)?;
                    out.forgotten.push(s.clone());
                }
            }
        }
        if prune {
            (out.pruned_objects, out.pruned_bytes) = self.prune(&out.kept)?;
        }
        drop(lock);
        Ok(out)
    }

    /// Deletes the objects none of `kept` references; returns how many and their bytes.
    fn prune(&self, kept: &[Listed]) -> Result<(u64, u64)> {
        let mut referenced = HashSet::new();
        for s in kept {
            for f in self.manifest(&s.tenant, &s.id)?.files {
                referenced.extend(f.chunks);
            }
        }
        let (mut n, mut bytes) = (0, 0);
        for (name, size) in self.objects()? {
            if !referenced.contains(&name) {
                self.store().delete(&super::chunks::object_key(&name)?)?;
                n += 1;
                bytes += size;
            }
        }
        Ok((n, bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: time::Date) -> Listed {
        let f = time::macros::format_description!("[year][month][day]");
        Listed {
            tenant: "acme".into(),
            id: format!("{}T020000Z-abcdefgh", d.format(&f).unwrap()),
        }
    }

    #[test]
    fn ninety_dailies_keep_seven_days_four_weeks_three_months() {
        let last = time::macros::date!(2026 - 11 - 29); // a Sunday
        let all: Vec<Listed> = (0..90)
            .rev()
            .map(|i| day(last - time::Duration::days(i)))
            .collect();
        let p = Policy {
            daily: 7,
            weekly: 4,
            monthly: 3,
            ..Policy::default()
        };
        let mut keep: Vec<String> = kept(&all, p)
            .into_iter()
            .map(|id| id[..8].to_owned())
            .collect();
        keep.sort();
        // 7 days (23rd-29th); Sundays ending weeks 47, 46, 45 (the 29th is week 48's); the
        // last day of November (29th), October and September.
        assert_eq!(
            keep,
            [
                "20260930", "20261031", "20261108", "20261115", "20261122", "20261123", "20261124",
                "20261125", "20261126", "20261127", "20261128", "20261129"
            ]
        );
    }
}
