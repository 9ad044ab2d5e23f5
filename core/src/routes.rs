//! The edge map: `routes.json` (host → {tenant, deploy, active}), made from the registry and
//! each site's live pointer (`sites/{tenant}/live.json`). Publishing regenerates it after a
//! flip; deleting or restoring a tenant regenerates it too, so a deleted tenant's hosts stop
//! routing at once (and a new tenant of the same name never inherits its deploys).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::hosts::{Reach, Site};
use crate::key::{Key, layout};
use crate::registry::Registry;
use crate::store::{Condition, PutMeta, Store};

/// The folder of the installation's own site (landing page, sign-up) in `build/` and `sites/`.
pub const MAIN_SITE: &str = "_main";

/// `sites/{tenant}/live.json`: which deploy is live.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Live {
    pub deploy: String,
    pub fingerprint: String,
    pub flipped: String,
}

/// `sites/{tenant}/live.json` (`tenant` is a registry id or [`MAIN_SITE`]).
pub fn live_key(tenant: &str) -> Key {
    Key::new(&format!("sites/{tenant}/live.json"))
        .expect("live pointers are keyed by registry ids and the main site's folder")
}

pub fn read_live(store: &dyn Store, tenant: &str) -> Result<Option<Live>> {
    Ok(crate::cas::read_json::<Live>(store, &live_key(tenant))?.map(|(l, _)| l))
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
        let (tenant, active) = match site {
            Site::Main => (MAIN_SITE, true),
            Site::Tenant { id, active } => (id.as_str(), *active),
        };
        if !live.contains_key(tenant) {
            live.insert(tenant.to_owned(), read_live(target, tenant)?);
        }
        if let Some(Some(l)) = live.get(tenant) {
            let route = Route {
                tenant: tenant.into(),
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
