//! Maintenance notices (`notices/{id}.json`): a message, a window (`starts`–`ends`), the
//! tenants it concerns, and whether sites show it as a banner.
//!
//! Each concerned tenant's admins are mailed once per notice: the tenant is claimed in the
//! notice's `mailed` list by compare-and-swap before its mail goes (a failed mail gives the
//! claim back), so two senders never both mail it. A banner is rendered into a site when it
//! builds inside the window; a notice's start and end are changes `t8k build --changed`
//! notices ([`banner_ids`]).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::cas;
use crate::error::{Error, Result};
use crate::key::Key;
use crate::name::TenantId;
use crate::store::{Condition, Store};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase", tag = "kind", content = "tenants")]
pub enum Audience {
    All,
    Tenants(Vec<String>),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Notice {
    pub id: String,
    pub message: String,
    /// RFC 3339, UTC.
    pub starts: String,
    pub ends: String,
    pub audience: Audience,
    /// The rollout whose cohort the audience was taken from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cohort: Option<String>,
    /// Sites show it as a banner while it is current.
    #[serde(default)]
    pub banner: bool,
    pub created: String,
    /// Tenants whose admins were mailed.
    #[serde(default)]
    pub mailed: BTreeSet<String>,
}

/// What a notice is while `now` passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Upcoming,
    Current,
    Over,
}

impl Notice {
    pub fn concerns(&self, tenant: &str) -> bool {
        match &self.audience {
            Audience::All => true,
            Audience::Tenants(list) => list.iter().any(|t| t == tenant),
        }
    }

    pub fn phase(&self, now: OffsetDateTime) -> Phase {
        let at = |s: &str| OffsetDateTime::parse(s, &Rfc3339).ok();
        match (at(&self.starts), at(&self.ends)) {
            (Some(s), _) if now < s => Phase::Upcoming,
            (_, Some(e)) if now >= e => Phase::Over,
            _ => Phase::Current,
        }
    }

    /// A banner this tenant's site shows now.
    pub fn banner_for(&self, tenant: &str, now: OffsetDateTime) -> bool {
        self.banner && self.concerns(tenant) && self.phase(now) == Phase::Current
    }
}

/// A notice to record.
pub struct NewNotice {
    pub message: String,
    pub starts: OffsetDateTime,
    pub ends: OffsetDateTime,
    pub audience: Audience,
    pub cohort: Option<String>,
    pub banner: bool,
}

pub fn key(id: &str) -> Result<Key> {
    let ok = id.len() <= 64
        && id.starts_with("n-")
        && id[2..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !ok {
        return Err(Error::invalid(
            format!("notice {id:?}"),
            "notice ids look like n-20261130t120000z-ab12; `t8k notice list` shows them",
        ));
    }
    Key::new(&format!("notices/{id}.json"))
}

/// Checks and records a notice (the tenants named must exist).
pub fn create(store: &dyn Store, new: NewNotice) -> Result<Notice> {
    let message = new.message.trim();
    if message.is_empty() || message.chars().count() > 500 {
        return Err(Error::invalid(
            "--message",
            "say what happens in 1–500 characters",
        ));
    }
    if new.ends <= new.starts {
        return Err(Error::invalid(
            "--ends",
            "it must be after --starts (times are RFC 3339, e.g. 2026-12-01T02:00:00Z)",
        ));
    }
    if new.ends <= crate::timefmt::now() {
        return Err(Error::invalid(
            "--ends",
            "it is in the past; a notice is for maintenance to come or going on",
        ));
    }
    if let Audience::Tenants(list) = &new.audience {
        if list.is_empty() {
            return Err(Error::invalid("tenants", "name at least one, or use --all"));
        }
        for t in list {
            TenantId::trusted(t)?;
        }
    }
    let mut nonce = [0u8; 2];
    getrandom::fill(&mut nonce).expect("the OS random source is available");
    let now = crate::timefmt::now();
    let id = format!(
        "n-{}-{}",
        crate::timefmt::compact(now).to_ascii_lowercase(),
        hex::encode(nonce)
    );
    let notice = Notice {
        id: id.clone(),
        message: message.to_owned(),
        starts: crate::timefmt::rfc3339(new.starts),
        ends: crate::timefmt::rfc3339(new.ends),
        audience: new.audience,
        cohort: new.cohort,
        banner: new.banner,
        created: crate::timefmt::rfc3339(now),
        mailed: BTreeSet::new(),
    };
    store.put(
        &key(&id)?,
        &cas::to_json_bytes(&notice),
        Condition::IfAbsent,
    )?;
    Ok(notice)
}

pub fn read(store: &dyn Store, id: &str) -> Result<Notice> {
    cas::read_json(store, &key(id)?)?
        .map(|(n, _)| n)
        .ok_or_else(|| {
            Error::invalid(
                format!("notice '{id}'"),
                "there is no such notice; `t8k notice list` shows them",
            )
        })
}

/// Every notice, by start time.
pub fn list(store: &dyn Store) -> Result<Vec<Notice>> {
    let mut out: Vec<Notice> = cas::read_folder(store, &Key::new("notices")?)?
        .into_iter()
        .map(|(_, n)| n)
        .collect();
    out.sort_by(|a, b| a.starts.cmp(&b.starts).then(a.id.cmp(&b.id)));
    Ok(out)
}

/// Withdraws a notice.
pub fn delete(store: &dyn Store, id: &str) -> Result<Notice> {
    let notice = read(store, id)?;
    store.delete(&key(id)?)?;
    Ok(notice)
}

/// Claims the mail of `tenant` for a notice: true if this caller is to send it.
pub fn claim_mail(store: &dyn Store, id: &str, tenant: &str, claim: bool) -> Result<bool> {
    let done = cas::update_json(
        store,
        &key(id)?,
        || Error::invalid(format!("notice '{id}'"), "it was withdrawn"),
        |n: &mut Notice| {
            let changed = match claim {
                true => n.mailed.insert(tenant.to_owned()),
                false => n.mailed.remove(tenant),
            };
            Ok(changed.then_some(()))
        },
    )?;
    Ok(done.is_some())
}

/// The ids of the banners current now, each with the tenants it concerns (`None`: all).
pub fn banner_ids(notices: &[Notice], now: OffsetDateTime) -> Vec<(String, Option<Vec<String>>)> {
    notices
        .iter()
        .filter(|n| n.banner && n.phase(now) == Phase::Current)
        .map(|n| {
            let who = match &n.audience {
                Audience::All => None,
                Audience::Tenants(t) => Some(t.clone()),
            };
            (n.id.clone(), who)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn new(audience: Audience, from: i64, to: i64) -> NewNotice {
        let now = crate::timefmt::now();
        NewNotice {
            message: "Database upgrade".into(),
            starts: now + Duration::minutes(from),
            ends: now + Duration::minutes(to),
            audience,
            cohort: None,
            banner: true,
        }
    }

    #[test]
    fn phases_audiences_and_mail_claims() {
        let (_dir, store) = crate::store::temp();
        let s = store.as_ref();
        let n = create(s, new(Audience::Tenants(vec!["acme".into()]), -5, 60)).unwrap();
        let now = crate::timefmt::now();
        assert_eq!(n.phase(now), Phase::Current);
        assert!(n.banner_for("acme", now) && !n.banner_for("harbor", now));
        assert_eq!(n.phase(now + Duration::hours(2)), Phase::Over);
        assert!(claim_mail(s, &n.id, "acme", true).unwrap());
        assert!(!claim_mail(s, &n.id, "acme", true).unwrap(), "claimed once");
        assert!(claim_mail(s, &n.id, "acme", false).unwrap(), "given back");
        let later = create(s, new(Audience::All, 30, 60)).unwrap();
        assert_eq!(later.phase(now), Phase::Upcoming);
        assert_eq!(list(s).unwrap().len(), 2);
        assert_eq!(banner_ids(&list(s).unwrap(), now).len(), 1);
        for bad in [
            new(Audience::All, 10, 5),
            new(Audience::All, -20, -10),
            new(Audience::Tenants(vec![]), 1, 2),
            new(Audience::Tenants(vec!["../x".into()]), 1, 2),
        ] {
            assert!(create(s, bad).is_err());
        }
        assert!(key("../../etc").is_err());
    }
}
