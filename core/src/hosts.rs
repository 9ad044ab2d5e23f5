//! The host table: which site each host name is, computed once from the registry. `t8k serve`,
//! the functions and `routes.json` (and every edge configuration made from it) all read this
//! one table, so a host that routes in one place routes the same everywhere.
//!
//! Every complete tenant answers at its registry domain, `{id}.{domain}`, its custom domains and
//! `{id}.localhost` (local preview); the main site at `{domain}`, `www.{domain}` and
//! `localhost`. Hosts are lowercased, without port or trailing dot.

use crate::name::TenantId;
use crate::registry::Registry;

/// The site a host is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Site {
    /// The installation's own site (landing page, sign-up).
    Main,
    Tenant {
        id: TenantId,
        active: bool,
    },
}

/// Where a host comes from: a public name an edge serves, or a local preview name
/// (`localhost`, `*.localhost`) only `t8k serve` answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    Public,
    Preview,
}

#[derive(Clone, Debug, Default)]
pub struct HostMap {
    domain: String,
    exact: foldhash::HashMap<String, Site>,
}

/// The name in a `Host` value, without port and trailing dot, if it is a plausible host name
/// (no allocation: this runs on every request).
pub fn host_name(host: &str) -> Option<&str> {
    let host = host.trim();
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    let host = host.trim_end_matches('.');
    let ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    ok.then_some(host)
}

/// Lowercases, drops a port and a trailing dot. Returns `None` for anything that is not a
/// plausible host name, so no odd input reaches a lookup.
pub fn normalise(host: &str) -> Option<String> {
    host_name(host).map(str::to_ascii_lowercase)
}

/// `localhost` and `*.localhost`: local preview over plain http, where browsers drop Secure
/// cookies and links must keep the port.
pub fn is_local(host: &str) -> bool {
    let h = host.split(':').next().unwrap_or("");
    h == "localhost" || h.ends_with(".localhost")
}

impl HostMap {
    pub fn new(reg: &Registry) -> HostMap {
        let domain = reg.domain.to_ascii_lowercase();
        let mut exact = foldhash::HashMap::default();
        for t in reg.tenants.iter().filter(|t| t.is_complete()) {
            let Ok(id) = t.tenant_id() else { continue };
            let site = Site::Tenant {
                id: id.clone(),
                active: t.active,
            };
            let own = [
                t.domain.clone(),
                format!("{id}.localhost"),
                format!("{id}.{domain}"),
            ];
            for h in own.into_iter().chain(t.custom_domains.iter().cloned()) {
                if let Some(h) = normalise(&h) {
                    exact.insert(h, site.clone());
                }
            }
        }
        // The main domain; `localhost` too when tenants are previewed as `{id}.localhost`.
        for h in [domain.clone(), "localhost".into(), format!("www.{domain}")] {
            if let Some(h) = normalise(&h) {
                exact.entry(h).or_insert(Site::Main);
            }
        }
        HostMap { domain, exact }
    }

    /// The site `host` (a `Host` value: any case, a port, a trailing dot) is for. Runs on
    /// every request, so a host already in lowercase is looked up without a copy.
    pub fn resolve(&self, host: &str) -> Option<&Site> {
        let name = host_name(host)?;
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            self.exact.get(&name.to_ascii_lowercase())
        } else {
            self.exact.get(name)
        }
    }

    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// Every host with its site and reach, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Site, Reach)> {
        self.exact.iter().map(|(h, s)| {
            let reach = if is_local(h) {
                Reach::Preview
            } else {
                Reach::Public
            };
            (h.as_str(), s, reach)
        })
    }
}

impl Registry {
    /// The host table of this registry (see [`HostMap`]).
    pub fn hosts(&self) -> HostMap {
        HostMap::new(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Registry {
        serde_json::from_value(serde_json::json!({
            "max_tenants": 10, "default_quota": "1GB", "enable_custom_domains": true,
            "require_email_verification": false, "auto_ssl": false, "domain": "Example.com",
            "tenants": [
                {"id": "acme", "domain": "acme.example.com", "custom_domains": ["WWW.acme.test."], "created": "x", "active": true},
                {"id": "gone", "domain": "gone.example.com", "created": "x", "active": false, "status": "inactive"},
                {"id": "half", "domain": "half.example.com", "created": "x", "active": false, "status": "creating"}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn resolves_every_form_of_host() {
        let map = registry().hosts();
        let acme = Some(Site::Tenant {
            id: TenantId::trusted("acme").unwrap(),
            active: true,
        });
        for h in [
            "acme.example.com",
            "ACME.example.com:8080",
            "acme.localhost:8080",
            "www.acme.test",
            "acme.example.com.",
        ] {
            assert_eq!(map.resolve(h).cloned(), acme, "{h}");
        }
        assert_eq!(
            map.resolve("gone.localhost"),
            Some(&Site::Tenant {
                id: TenantId::trusted("gone").unwrap(),
                active: false
            })
        );
        assert_eq!(map.resolve("example.com"), Some(&Site::Main));
        assert_eq!(map.resolve("localhost:8080"), Some(&Site::Main));
        for h in [
            "half.localhost",
            "other.example.com",
            "evil.com",
            "",
            "acme.localhost/../x",
            "a b",
        ] {
            assert_eq!(map.resolve(h), None, "{h}");
        }
    }

    #[test]
    fn public_hosts_are_normalised_and_previews_marked() {
        let map = registry().hosts();
        let mut public: Vec<_> = map
            .iter()
            .filter(|(_, _, r)| *r == Reach::Public)
            .map(|(h, _, _)| h)
            .collect();
        public.sort();
        assert_eq!(
            public,
            [
                "acme.example.com",
                "example.com",
                "gone.example.com",
                "www.acme.test",
                "www.example.com"
            ]
        );
    }
}
