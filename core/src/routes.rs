//! The edge map: `routes.json` (host → {tenant, deploy, active}), made from the registry and
//! each site's live pointer (`sites/{tenant}/live.json`). Publishing regenerates it after a
//! flip; deleting or restoring a tenant regenerates it too, so a deleted tenant's hosts stop
//! routing at once (and a new tenant of the same name never inherits its deploys).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::bandwidth::limit::OverLimit;
use crate::error::Result;
use crate::hosts::{HostMap, Reach, Site};
use crate::key::{Key, layout};
use crate::name::{NameError, TenantId};
use crate::registry::TenantEntry;
use crate::store::{Condition, PutMeta, Store};

/// The folder of the installation's own site (landing page, sign-up) in `build/` and `sites/`.
pub const MAIN_SITE: &str = "_main";

/// Which site a deploy, live pointer or bundle belongs to: the installation's own or a
/// tenant's. Keys under `sites/` are built only from this, never from a raw string.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SiteId {
    Main,
    Tenant(TenantId),
}

impl SiteId {
    /// [`MAIN_SITE`] or a tenant id (its character rules; whether the tenant exists is the
    /// caller's question).
    pub fn parse(s: &str) -> std::result::Result<SiteId, NameError> {
        if s == MAIN_SITE {
            return Ok(SiteId::Main);
        }
        TenantId::trusted(s).map(SiteId::Tenant)
    }

    /// The site's folder in `build/` and `sites/`.
    pub fn folder(&self) -> &str {
        match self {
            SiteId::Main => MAIN_SITE,
            SiteId::Tenant(id) => id.as_str(),
        }
    }

    /// `sites/{site}/{rest}`; `Err` when `rest` (a deploy id or bundle path from input) is not
    /// a valid key.
    pub fn key(&self, rest: &str) -> Result<Key> {
        Key::new(&format!("sites/{}/{rest}", self.folder()))
    }
}

impl std::fmt::Display for SiteId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.folder())
    }
}

impl From<TenantId> for SiteId {
    fn from(id: TenantId) -> SiteId {
        SiteId::Tenant(id)
    }
}

/// `sites/{tenant}/live.json`: which deploy is live.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Live {
    pub deploy: String,
    pub fingerprint: String,
    pub flipped: String,
}

/// `sites/{site}/live.json`.
pub fn live_key(site: &SiteId) -> Key {
    site.key("live.json")
        .expect("a site folder and a fixed name make a valid key")
}

pub fn read_live(store: &dyn Store, site: &SiteId) -> Result<Option<Live>> {
    Ok(crate::cas::read_json::<Live>(store, &live_key(site))?.map(|(l, _)| l))
}

/// `routes.json`: every host → {tenant, deploy, active}, and the shared prefixes every host
/// serves from one place.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Routes {
    pub routes: BTreeMap<String, Route>,
    /// URL prefix → bundle-store prefix, the same for every host (`/_t8k/assets/` →
    /// `sites/_shared/assets/`): theme assets and image variants ([`crate::shared`]).
    #[serde(default)]
    pub shared: BTreeMap<String, String>,
}

/// The shared prefixes of `routes.json`.
pub fn shared_prefixes() -> BTreeMap<String, String> {
    crate::shared::FOLDERS
        .iter()
        .map(|f| {
            (
                format!("{}{f}/", crate::shared::URL_PREFIX),
                format!("sites/{}/{f}/", crate::shared::SITE),
            )
        })
        .collect()
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Route {
    pub tenant: String,
    pub deploy: String,
    pub active: bool,
    /// The month's bandwidth limit reached under `throttle` or `suspend`: edges slow or
    /// refuse the pages while it is in force ([`OverLimit::in_force`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over: Option<OverLimit>,
    /// The host asks for HSTS (a custom domain, `t8k domain hsts`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hsts: bool,
}

pub fn routes_key() -> Key {
    layout::routes()
}

/// Rebuilds the edge map from the host table and every tenant's live pointer. Run after each
/// flip (and by rollback).
pub fn write_routes(target: &dyn Store, hosts: &HostMap) -> Result<Routes> {
    // Another publisher may flip between our reads and our write and then be overwritten by
    // our older view; so after writing, read the pointers again and rewrite until they agree.
    let mut written = crate::cas::read_json::<Routes>(target, &routes_key())?.map(|(r, _)| r);
    for _ in 0..5 {
        let routes = collect_routes(target, hosts)?;
        if written.as_ref() == Some(&routes) {
            return Ok(routes);
        }
        target.put_with(
            &routes_key(),
            &crate::cas::to_json_bytes(&routes),
            Condition::None,
            &routes_meta(),
        )?;
        written = Some(routes);
    }
    Ok(written.expect("written in the loop"))
}

/// Every public host of the registry's host table → its site's live deploy. Hosts of a site
/// with no live deploy are left out (there is nothing to serve).
fn collect_routes(target: &dyn Store, hosts: &HostMap) -> Result<Routes> {
    let mut live = BTreeMap::new();
    let mut routes = Routes {
        shared: shared_prefixes(),
        ..Default::default()
    };
    for (host, site, reach) in hosts.iter() {
        if reach != Reach::Public {
            continue;
        }
        let (site, active, over) = match site {
            Site::Main => (SiteId::Main, true, None),
            Site::Tenant { id, active, over } => {
                (SiteId::Tenant(id.clone()), *active, over.clone())
            }
        };
        if !live.contains_key(&site) {
            let l = read_live(target, &site)?;
            live.insert(site.clone(), l);
        }
        if let Some(Some(l)) = live.get(&site) {
            let route = Route {
                over,
                hsts: hosts.hsts(host),
                ..self::route(site.folder(), l, active)
            };
            routes.routes.insert(host.to_owned(), route);
        }
    }
    Ok(routes)
}

/// After a change to one tenant's entry (create, delete, restore, activate, deactivate): if
/// `store` has a `routes.json` (bundles are published there), its routes for this tenant are
/// made to match `entry` (`None`: deleted) and its live pointer, by compare-and-swap — no other
/// tenant's entry or pointer is read. A store nothing was published to costs one HEAD.
pub fn refresh_tenant(
    store: &dyn Store,
    id: &TenantId,
    entry: Option<&TenantEntry>,
    domain: impl FnOnce() -> Result<String>,
) -> Result<()> {
    if store.head(&routes_key())?.is_none() {
        return Ok(());
    }
    let domain = domain()?;
    let site = SiteId::Tenant(id.clone());
    let live = read_live(store, &site)?;
    let main = read_live(store, &SiteId::Main)?;
    let mine = entry.and_then(|e| crate::hosts::tenant_hosts(&domain, e));
    crate::cas::update_json_with(
        store,
        &routes_key(),
        &routes_meta(),
        || crate::Error::Corrupt {
            file: routes_key().to_string(),
            message: "it vanished while being updated; publish again to regenerate it".into(),
        },
        |routes: &mut Routes| {
            let before = routes.clone();
            routes.shared = shared_prefixes();
            routes.routes.retain(|_, r| r.tenant != id.as_str());
            // A main-site host this tenant held goes back to the main site.
            for h in crate::hosts::main_hosts(&domain) {
                if let (false, Some(l), Reach::Public) =
                    (routes.routes.contains_key(&h), &main, Reach::of(&h))
                {
                    routes.routes.insert(h, route(MAIN_SITE, l, true));
                }
            }
            if let (Some((Site::Tenant { active, over, .. }, hosts)), Some(l)) = (&mine, &live) {
                let hsts: Vec<String> = entry
                    .map(|e| e.hsts_hosts().filter_map(crate::hosts::normalise).collect())
                    .unwrap_or_default();
                for h in hosts.iter().filter(|h| Reach::of(h) == Reach::Public) {
                    let r = Route {
                        over: over.clone(),
                        hsts: hsts.contains(h),
                        ..route(id.as_str(), l, *active)
                    };
                    routes.routes.insert(h.clone(), r);
                }
            }
            Ok((*routes != before).then_some(()))
        },
    )?;
    Ok(())
}

/// `routes.json` is read by edges: JSON, never cached stale.
fn routes_meta() -> PutMeta {
    PutMeta {
        content_type: Some("application/json".into()),
        cache_control: Some("no-cache".into()),
        sha256: None,
    }
}

fn route(tenant: &str, live: &Live, active: bool) -> Route {
    Route {
        tenant: tenant.to_owned(),
        deploy: live.deploy.clone(),
        active,
        over: None,
        hsts: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_keys_refuse_what_is_not_a_site_or_a_plain_path() {
        assert_eq!(SiteId::parse("_main").unwrap(), SiteId::Main);
        assert_eq!(SiteId::parse("acme").unwrap().folder(), "acme");
        for bad in ["../x", "a/b", "", "Acme Bakery", "_other"] {
            assert!(SiteId::parse(bad).is_err(), "{bad:?}");
        }
        let acme = SiteId::parse("acme").unwrap();
        assert_eq!(live_key(&acme).as_str(), "sites/acme/live.json");
        assert_eq!(
            acme.key("d1/index.html").unwrap().as_str(),
            "sites/acme/d1/index.html"
        );
        for bad in ["../other/live.json", "d1/../../x", "/etc/passwd"] {
            assert!(acme.key(bad).is_err(), "{bad:?}");
        }
    }
}
