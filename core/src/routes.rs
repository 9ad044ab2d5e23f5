//! The edge map: `routes.json` (host → {tenant, deploy, active}), made from the registry and
//! each site's live pointer (`sites/{tenant}/live.json`). Publishing regenerates it after a
//! flip; deleting or restoring a tenant regenerates it too, so a deleted tenant's hosts stop
//! routing at once (and a new tenant of the same name never inherits its deploys).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::hosts::{Reach, Site};
use crate::key::{Key, layout};
use crate::name::{NameError, TenantId};
use crate::registry::Registry;
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

/// `routes.json`: every host → {tenant, deploy, active}.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Routes {
    pub routes: BTreeMap<String, Route>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Route {
    pub tenant: String,
    pub deploy: String,
    pub active: bool,
}

pub fn routes_key() -> Key {
    layout::routes()
}

/// Rebuilds the edge map from the registry and every tenant's live pointer. Run after each
/// flip (and by rollback).
pub fn write_routes(target: &dyn Store, reg: &Registry) -> Result<Routes> {
    // Another publisher may flip between our reads and our write and then be overwritten by
    // our older view; so after writing, read the pointers again and rewrite until they agree.
    let mut written = crate::cas::read_json::<Routes>(target, &routes_key())?.map(|(r, _)| r);
    for _ in 0..5 {
        let routes = collect_routes(target, reg)?;
        if written.as_ref() == Some(&routes) {
            return Ok(routes);
        }
        target.put_with(
            &routes_key(),
            &crate::cas::to_json_bytes(&routes),
            Condition::None,
            &PutMeta {
                content_type: Some("application/json".into()),
                cache_control: Some("no-cache".into()),
                sha256: None,
            },
        )?;
        written = Some(routes);
    }
    Ok(written.expect("written in the loop"))
}

/// Every public host of the registry's host table → its site's live deploy. Hosts of a site
/// with no live deploy are left out (there is nothing to serve).
fn collect_routes(target: &dyn Store, reg: &Registry) -> Result<Routes> {
    let mut live = BTreeMap::new();
    let mut routes = Routes::default();
    for (host, site, reach) in reg.hosts().iter() {
        if reach != Reach::Public {
            continue;
        }
        let (site, active) = match site {
            Site::Main => (SiteId::Main, true),
            Site::Tenant { id, active } => (SiteId::Tenant(id.clone()), *active),
        };
        if !live.contains_key(&site) {
            let l = read_live(target, &site)?;
            live.insert(site.clone(), l);
        }
        if let Some(Some(l)) = live.get(&site) {
            let route = Route {
                tenant: site.folder().into(),
                deploy: l.deploy.clone(),
                active,
            };
            routes.routes.insert(host.to_owned(), route);
        }
    }
    Ok(routes)
}

/// After a registry change that affects routing: regenerates `routes.json` in `store` if the
/// store has one (bundles are published there), so the edge map follows the registry at once.
/// The registry is asked for only then, so a store nothing was published to costs one HEAD.
pub fn refresh_if_published(
    store: &dyn Store,
    reg: impl FnOnce() -> Result<Registry>,
) -> Result<()> {
    if store.head(&routes_key())?.is_some() {
        write_routes(store, &reg()?)?;
    }
    Ok(())
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
